import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = `${root}services/cli/dist/main.js`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function leakwatch(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// The Redis part of `leakwatch stack` on its own ports and folder, so the stack the other
// tests use is left alone; Kafka and the registry go through the same code (service.ts).
describe('leakwatch stack up|status|down', () => {
  it('is harmless twice, stops only what it started, and names a taken port', async () => {
    expect(existsSync(cli), `build first (pnpm build): ${cli} is missing`).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'lw-stack-'));
    const port = await freePort();
    const env = { LEAKWATCH_STACK_DIR: dir, LEAKWATCH_STACK_REDIS_PORT: String(port) };
    try {
      for (let round = 1; round <= 2; round++) {
        const up = await leakwatch(['stack', 'up', '--only', 'redis'], env);
        expect(up.code, up.stderr).toBe(0);
        expect(up.stdout).toContain(`LEAKWATCH_REDIS_URL=redis://127.0.0.1:${port}`);
        expect(up.stderr).toMatch(/started redis/);

        const again = await leakwatch(['stack', 'up', '--only', 'redis'], env);
        expect(again.code, again.stderr).toBe(0);
        expect(again.stderr).toMatch(/already running: redis/);

        const status = await leakwatch(['stack', 'status'], env);
        expect(status.stdout).toMatch(new RegExp(`redis\\s+running\\s+redis://127.0.0.1:${port} pid \\d+`));
        expect(status.stdout).toMatch(/kafka\s+stopped/);

        const down = await leakwatch(['stack', 'down'], env);
        expect(down.code, down.stderr).toBe(0);
        expect(down.stderr).toMatch(/stopped redis/);
        const downAgain = await leakwatch(['stack', 'down'], env);
        expect(downAgain.stderr).toMatch(/nothing was running/);
        expect((await leakwatch(['stack', 'status'], env)).stdout).toMatch(/redis\s+stopped/);
      }

      // a port held by someone else is refused by number, before anything starts
      const squatter = createServer();
      await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
      try {
        const refused = await leakwatch(['stack', 'up', '--only', 'redis'], env);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain(`PORT_IN_USE: port already in use: ${port} (redis)`);
        expect(refused.stderr).toContain('LEAKWATCH_STACK_REDIS_PORT');
      } finally {
        await new Promise((resolve) => squatter.close(resolve));
      }
    } finally {
      await leakwatch(['stack', 'down'], env);
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
