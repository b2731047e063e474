import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, spawnService } from './service-process.js';

export { REPO_ROOT } from './service-process.js';
export const CLI_MAIN = fileURLToPath(new URL('../../services/cli/dist/main.js', import.meta.url));

/**
 * Builds the CLI (and every package it references) with `tsc -b`, as `pnpm build` does. Type
 * errors elsewhere in the CLI do not stop tsc from writing JavaScript; they are returned so the
 * caller can show them, and only a missing entry point fails.
 */
export async function buildCli(): Promise<{ ok: boolean; output: string }> {
  const child = spawn('pnpm', ['exec', 'tsc', '-b', 'services/cli'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (!existsSync(CLI_MAIN)) throw new Error(`building the CLI left no ${CLI_MAIN}:\n${output}`);
  return { ok: code === 0, output };
}

export interface MonitorProcess {
  child: ChildProcess;
  /** Every line the process wrote, stdout and stderr. */
  lines: string[];
  /** Port of /metrics, /healthz and /readyz, once the process logged it. */
  httpPort: Promise<number>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `leakwatch monitor` (the built CLI) as its own process, with exactly `env` plus PATH. */
export function spawnMonitor(env: Record<string, string>): MonitorProcess {
  const monitor = spawnService(process.execPath, [CLI_MAIN, 'monitor'], env);
  const httpPort = monitor.logged('serving /metrics').then((fields) => fields.port as number);
  // awaited by the caller; this only keeps an early exit from being an unhandled rejection
  httpPort.catch(() => undefined);
  return { child: monitor.child, lines: monitor.lines, httpPort, exited: monitor.exited };
}
