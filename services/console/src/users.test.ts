import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEnv } from './env.js';
import { hashPassword, loadUsers, verifyPassword } from './users.js';

describe('console users', () => {
  it('hashes with scrypt and a random salt, and verifies', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[^$]+\$[^$]+$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('wrong', a)).toBe(false);
    expect(await verifyPassword('x', 'plain')).toBe(false);
  });

  it('loads a YAML users file and lists every problem of a bad one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-users-'));
    const good = join(dir, 'users.yaml');
    writeFileSync(
      good,
      `users:\n  - username: ana\n    role: analyst\n    passwordHash: "${await hashPassword('pw')}"\n`,
    );
    const users = await loadUsers(good);
    expect(users.get('ana')?.role).toBe('analyst');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ users: [{ username: 'x', role: 'admin', passwordHash: 'plain' }] }));
    await expect(loadUsers(bad)).rejects.toThrow(/users\[0\]\.role[\s\S]*users\[0\]\.passwordHash/);
  });

  it('requires the users file and defaults the ports', () => {
    expect(() => loadEnv({})).toThrow(/LEAKWATCH_CONSOLE_USERS_FILE/);
    const config = loadEnv({
      LEAKWATCH_CONSOLE_USERS_FILE: '/x',
      LEAKWATCH_KAFKA_BROKERS: 'localhost:9092',
      LEAKWATCH_SCHEMA_REGISTRY_URL: 'http://localhost:8081',
    });
    expect(config.env.LEAKWATCH_CONSOLE_PORT).toBe(8080);
    expect(config.env.LEAKWATCH_HTTP_PORT).toBe(9466);
  });
});
