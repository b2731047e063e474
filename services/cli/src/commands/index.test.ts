import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CliFailure, commands, explainMissingModule, isMissingBuild, isMissingDevPackage } from './index.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

function notFound(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_MODULE_NOT_FOUND' });
}

// the messages Node 20 gives, copied from a production install and from a clone without a build
const PRODUCTION = notFound(
  "Cannot find package '@leakwatch/local-stack' imported from /app/dist/commands/stack.js",
);
const UNBUILT = notFound(
  "Cannot find module '/repo/tools/local-stack/dist/index.js' imported from /repo/services/cli/dist/commands/stack.js",
);

describe('a command whose modules are missing says why in one line', () => {
  it('tells a production install that tools/ commands need a clone', () => {
    expect(isMissingDevPackage(PRODUCTION)).toBe(true);
    expect(
      isMissingDevPackage(notFound("Cannot find package '@leakwatch/bench' imported from /app/x.js")),
    ).toBe(true);
    expect(isMissingDevPackage(notFound("Cannot find package 'kafkajs' imported from /app/x.js"))).toBe(
      false,
    );
    expect(isMissingDevPackage(new Error("Cannot find package '@leakwatch/bench'"))).toBe(false);
    const failure = explainMissingModule(PRODUCTION);
    expect(failure).toBeInstanceOf(CliFailure);
    expect(failure?.message).toBe('this is a development command; run from a clone');
  });

  it('tells a clone without a build what to run', () => {
    expect(isMissingBuild(UNBUILT)).toBe(true);
    expect(isMissingBuild(PRODUCTION)).toBe(false);
    expect(explainMissingModule(UNBUILT)?.message).toBe('not built yet (dist/ is missing); run: pnpm build');
    expect(explainMissingModule(new Error('boom'))).toBeUndefined();
  });

  it('keeps stack, demo, bench and simulate listed', () => {
    expect(Object.keys(commands)).toEqual(expect.arrayContaining(['stack', 'demo', 'bench', 'simulate']));
  });
});

describe('`pnpm leakwatch` in a checkout that was never built', () => {
  it('prints one line saying what to run and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-unbuilt-'));
    try {
      copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
      const result = spawnSync('pnpm', ['-s', 'leakwatch', 'leaks', 'list'], { cwd: dir, encoding: 'utf8' });
      expect(result.status).toBe(1);
      expect(result.stderr).toBe('leakwatch: not built yet (dist/ is missing); run: pnpm build\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('builds on install: the root package runs `tsc -b` as its prepare script', async () => {
    const pkg = (await import(join(ROOT, 'package.json'), { with: { type: 'json' } })) as {
      default: { scripts: Record<string, string> };
    };
    expect(pkg.default.scripts.prepare).toMatch(/^tsc -b\b/);
  });
});
