import { spawn, type SpawnOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { LeakwatchError } from '@leakwatch/errors';
import { childEnv } from './identity.js';

/** Starts a long-running process detached from this one, output appended to a log file. */
export function spawnDetached(
  command: string,
  args: readonly string[],
  /** `env`: added to the allow-listed variables of this process (see childEnv); nothing else passes. */
  options: { logFile: string; cwd?: string; env?: Record<string, string> },
): number {
  const fd = openSync(options.logFile, 'a');
  try {
    const spawnOptions: SpawnOptions = {
      detached: true,
      stdio: ['ignore', fd, fd],
      cwd: options.cwd,
      env: childEnv(process.env, options.env),
    };
    const child = spawn(command, args, spawnOptions);
    if (child.pid === undefined) {
      throw new LeakwatchError('STACK_START_FAILED', `could not start ${command}`);
    }
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGTERM, wait, then SIGKILL if it will not go. Resolves once the process is gone. */
export async function stopProcess(
  pid: number,
  graceMs = 20_000,
): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!isAlive(pid)) return 'not-running';
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'not-running';
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'stopped';
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone meanwhile */
  }
  while (isAlive(pid)) await sleep(50);
  return 'killed';
}

/** True when something accepts TCP connections on the port. */
export function portAnswers(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True when this process could bind the port (nothing else holds it). */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export interface WaitOptions {
  what: string;
  timeoutMs: number;
  /** Checked while waiting: a process that died stops the wait at once. */
  pid?: number;
  logFile?: string;
}

/** Polls a probe with backoff until it answers true; fails with the tail of the log. */
export async function waitUntil(probe: () => Promise<boolean>, options: WaitOptions): Promise<number> {
  const started = Date.now();
  let delay = 50;
  for (;;) {
    if (await probe().catch(() => false)) return Date.now() - started;
    if (options.pid !== undefined && !isAlive(options.pid)) {
      throw new LeakwatchError(
        'STACK_START_FAILED',
        `${options.what} exited during start-up${await logTail(options.logFile)}`,
      );
    }
    if (Date.now() - started > options.timeoutMs) {
      throw new LeakwatchError(
        'STACK_START_FAILED',
        `${options.what} did not answer within ${Math.round(options.timeoutMs / 1000)} s${await logTail(options.logFile)}`,
      );
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 500);
  }
}

async function logTail(logFile: string | undefined, lines = 15): Promise<string> {
  if (!logFile) return '';
  try {
    const text = await readFile(logFile, 'utf8');
    return `; last lines of ${logFile}:\n${text.trimEnd().split('\n').slice(-lines).join('\n')}`;
  } catch {
    return '';
  }
}

/** Runs a command to completion, streaming each output line to `onLine`. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; onLine?: (line: string) => void; env?: Record<string, string> } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: childEnv(process.env, options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        options.onLine?.(line);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error) =>
      reject(
        new LeakwatchError('STACK_START_FAILED', `could not run ${command}: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    child.once('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new LeakwatchError(
            'STACK_START_FAILED',
            `${command} ${args.join(' ')} exited with ${code}:\n${tail.join('\n')}`,
          ),
        );
    });
  });
}
