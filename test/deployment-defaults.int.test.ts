import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// issue 7, defect 15: the compose file's services have no authentication; publish them on the
// host's loopback only
describe('docker-compose.yml', () => {
  it('publishes every port on 127.0.0.1 only', () => {
    const compose = readFileSync(`${ROOT}docker-compose.yml`, 'utf8');
    const mappings = [...compose.matchAll(/ports:\s*\[([^\]]*)\]/g)].flatMap((m) =>
      (m[1] ?? '').split(',').map((p) => p.trim().replace(/^['"]|['"]$/g, '')),
    );
    expect(mappings.length).toBeGreaterThanOrEqual(6);
    for (const mapping of mappings) expect(mapping, mapping).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    expect(compose).not.toMatch(/^\s*-\s*['"]?\d+:\d+/m);
  });
});
