import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import type { Kafka } from 'kafkajs';

/** A `leakwatch monitor` process started by the benchmark. */
export interface BenchMonitor {
  child: ChildProcess;
  /** Date.now() just before spawn: "launch". */
  launchedAt: number;
  /** Every JSON log line the process wrote to stdout, parsed. */
  lines: Array<{ time?: string; msg?: string; [key: string]: unknown }>;
  port: number;
  stop: () => Promise<void>;
  /** CPU seconds (user + system) the process used so far. */
  cpuSeconds: () => number;
}

async function freePort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * The monitor as operators run it: its own process, started by the CLI (`leakwatch monitor`),
 * or with `production` by the entry the README's "Run in production" gives
 * (services/monitor/dist/main.js, beside the CLI's dist). `ready` (default true) waits for
 * /readyz; the log lines on stdout are kept (the caller picks the level).
 */
export async function spawnMonitor(
  env: Record<string, string>,
  options: { ready?: boolean; production?: boolean } = {},
): Promise<BenchMonitor> {
  const port = await freePort();
  // LEAKWATCH_BENCH_CPU_PROFILE=1 writes a V8 CPU profile of the monitor to reports/profiles
  const profile =
    process.env.LEAKWATCH_BENCH_CPU_PROFILE === '1' ? ['--cpu-prof', '--cpu-prof-dir=reports/profiles'] : [];
  const cli = process.argv[1] as string;
  const entry = join(dirname(cli), '../../monitor/dist/main.js');
  const script = options.production === true && existsSync(entry) ? [entry] : [cli, 'monitor'];
  const launchedAt = Date.now();
  const child = spawn(process.execPath, ['--max-semi-space-size=64', ...profile, ...script], {
    env: { ...process.env, ...env, LEAKWATCH_HTTP_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: BenchMonitor['lines'] = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      try {
        lines.push(JSON.parse(line) as BenchMonitor['lines'][number]);
      } catch {
        /* not a log line */
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const monitor: BenchMonitor = {
    child,
    launchedAt,
    lines,
    port,
    cpuSeconds: () => cpuSecondsOf(child.pid as number),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  if (options.ready === false) return monitor;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return monitor;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('the monitor did not become ready');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Sum of the offsets `groupId` committed on `topic`. */
export async function committedTotal(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/** CPU time (user + system) of a process so far, in seconds; 0 once it is gone. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat; here counted from field 3 (state)
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Busy and total CPU seconds of the whole machine, from /proc/stat. */
function machineCpuSeconds(): { busy: number; total: number } {
  const cpu =
    readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  return { busy: (total - idle) / 100, total: total / 100 };
}

/** Pids whose command line matches, from /proc (Linux); [] elsewhere. */
function pidsMatching(pattern: RegExp): number[] {
  const found: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (pattern.test(cmdline)) found.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}

/** The stack's processes on this machine, found by command line (a local stack or compose). */
const STACK_PROCESSES: Record<string, RegExp> = {
  kafka: /java .*kafka\.Kafka|java .*\/kafka\/.*server\.properties|kafka-server-start/,
  registry: /java .*(apicurio|quarkus)/,
  redis: /^redis-server /,
};

export interface CpuShares {
  /** Wall seconds of the window. */
  seconds: number;
  /** Cores busy on average, by group (1.0 = one core all the time). */
  cores: Record<string, number>;
  /** Cores busy on the whole machine, and how many it has. */
  machineCores: number;
  machineCoresTotal: number;
}

/**
 * What `pidstat` would say, from /proc: CPU time of each named group of processes over a
 * window, as cores busy on average. `groups` maps a name to pids.
 */
export function cpuWindow(groups: Record<string, number[]>): { end: () => CpuShares } {
  const startedAt = performance.now();
  const machineStart = machineCpuSeconds();
  const start = Object.fromEntries(
    Object.entries(groups).map(([name, pids]) => [name, pids.map(cpuSecondsOf)]),
  );
  return {
    end: () => {
      const seconds = (performance.now() - startedAt) / 1000;
      const machineEnd = machineCpuSeconds();
      const cores: Record<string, number> = {};
      for (const [name, pids] of Object.entries(groups)) {
        const used = pids.reduce((sum, pid, i) => sum + cpuSecondsOf(pid) - (start[name]?.[i] ?? 0), 0);
        cores[name] = used / seconds;
      }
      return {
        seconds,
        cores,
        machineCores: (machineEnd.busy - machineStart.busy) / seconds,
        machineCoresTotal: (machineEnd.total - machineStart.total) / seconds,
      };
    },
  };
}

/** Pids of the stack's processes, by name (an empty list for one not found here). */
export function stackPids(): Record<string, number[]> {
  return Object.fromEntries(
    Object.entries(STACK_PROCESSES).map(([name, pattern]) => [name, pidsMatching(pattern)]),
  );
}
