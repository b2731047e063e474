import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServiceProcess {
  child: ChildProcess;
  /** Every line the process wrote, stdout and stderr. */
  lines: string[];
  /** The fields of the first JSON log line whose msg starts with `msg`; rejects on an earlier exit. */
  logged(msg: string): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The process and every process below it (pnpm runs node below it). */
  tree(): number[];
  /** SIGKILLs whatever of `tree` is still alive (test clean-up after a failure). */
  killAll(): void;
}

/**
 * Runs a service or command the way the docs say, as its own process, with exactly `env` plus
 * PATH and HOME, from the repository root. Lines are collected for assertions and failure output.
 */
export function spawnService(command: string, args: string[], env: Record<string, string>): ServiceProcess {
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: Array<{ msg: string; resolve: (fields: Record<string, unknown>) => void }> = [];
  const parsed: Array<Record<string, unknown>> = [];
  const onLine = (line: string) => {
    lines.push(line);
    let fields: Record<string, unknown>;
    try {
      fields = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // not a log line
    }
    parsed.push(fields);
    for (const waiter of waiters) if (String(fields.msg).startsWith(waiter.msg)) waiter.resolve(fields);
  };
  let partial = '';
  const onText = (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    parts.forEach(onLine);
  };
  child.stdout?.on('data', onText);
  child.stderr?.on('data', onText);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const seen = new Set<number>([child.pid as number]);
  const tree = () => {
    if (child.pid === undefined) return [];
    for (const pid of descendants(child.pid)) seen.add(pid);
    return [...seen];
  };
  return {
    child,
    lines,
    exited,
    logged(msg) {
      const found = parsed.find((fields) => String(fields.msg).startsWith(msg));
      if (found) return Promise.resolve(found);
      const logged = new Promise<Record<string, unknown>>((resolve) => waiters.push({ msg, resolve }));
      const early = exited.then(({ code, signal }) => {
        throw new Error(
          `${args.join(' ')} exited (code ${code}, signal ${signal}) before logging "${msg}":\n${lines.slice(-20).join('\n')}`,
        );
      });
      return Promise.race([logged, early]);
    },
    tree,
    killAll() {
      for (const pid of tree().filter(alive)) process.kill(pid, 'SIGKILL');
    },
  };
}

/** The pids below `pid`, from /proc (Linux). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* gone meanwhile */
    }
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const child of children.get(p) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

/** Alive = has a /proc entry that is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** True when nothing listens on `port` of 127.0.0.1 (we can bind it). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
