import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createKeyring } from '@leakwatch/card';
import type { KafkaSettings, RegistrySettings } from '@leakwatch/config';
import { createSchemaRegistry } from '@leakwatch/contracts';
import { createKafka, ensureTopics } from '@leakwatch/kafka';
import { silentLogger } from '@leakwatch/logger';
import type { RedisClient } from '@leakwatch/redis';
import { Partitioners } from 'kafkajs';
import { benchMonitorEnv, benchTopics, fillBacklog } from './backlog.js';
import {
  committedTotal,
  cpuSecondsOf,
  cpuWindow,
  spawnMonitor,
  stackPids,
  type BenchMonitor,
  type CpuShares,
} from './processes.js';
import { watchBenchCards } from './watched.js';

export interface ScaleOutBenchOptions {
  kafka: KafkaSettings;
  registry: RegistrySettings;
  redis: RedisClient;
  redisUrlEnv: Record<string, string>;
  /** Backlog size for the throughput runs. */
  messages: number;
  partitions: number;
  watchedCards: number;
  /** Process counts to run on the same backlog, e.g. [1, 2, 3]; [] skips throughput. */
  processes: readonly number[];
  /** Start-up measurements (fresh group each, a small backlog waiting); 0 skips. */
  startups: number;
  log: (line: string) => void;
}

interface ScaleOutRun {
  processes: number;
  /** Authorizations/s from the first commit to the last, all processes together. */
  rate: number;
  seconds: number;
  /** Load average (1 min) when the run ended. */
  load1: number;
  cpu: CpuShares;
}

/** Milliseconds from launch (spawn) to each start-up milestone of one monitor process. */
interface StartupRun {
  /** Parent's clock: spawn → the "first batch processed" log line. */
  launchToFirstBatchMs: number;
  /** The process's own figure: node start → first batch (excludes fork/exec). */
  sinceProcessStartMs: number;
  /** CPU seconds the process used by then: what start-up costs on an idle core. */
  cpuSeconds: number;
  milestones: Array<{ msg: string; ms: number }>;
}

export interface ScaleOutBenchResult {
  messages: number;
  runs: ScaleOutRun[];
  startups: StartupRun[];
}

/** Authorizations waiting when a start-up is measured. */
const STARTUP_BACKLOG = 1000;

/** The log lines that mark start-up, in order (see services/monitor/src/main.ts). */
const MILESTONES = [
  'configuration loaded',
  'serving /metrics, /healthz, /readyz',
  'joined consumer group',
  'monitor consuming',
  'monitor started',
  'first batch processed',
];

/**
 * Scale-out: the same backlog read by 1, 2, 3… monitor processes in a fresh group each, timed
 * from the first commit to the last, with the CPU each part of the machine used meanwhile.
 * Start-up: a monitor launched against a running stack and a waiting backlog, timed from spawn
 * to its "first batch processed" log line, with the time of each start-up milestone.
 */
export async function runScaleOutBenchmark(options: ScaleOutBenchOptions): Promise<ScaleOutBenchResult> {
  const { log } = options;
  const id = randomBytes(3).toString('hex');
  const keyBytes = randomBytes(32).toString('base64');
  const keyring = createKeyring([{ keyId: 'bench', key: Buffer.from(keyBytes, 'base64') }]);
  const prefix = `bench-scale-${id}:`;
  const kafka = createKafka({ ...options.kafka, clientId: 'leakwatch-bench' }, silentLogger());
  const registry = createSchemaRegistry(options.registry);

  const { store, watched } = await watchBenchCards({
    redis: options.redis,
    prefix,
    incidentId: `bench-${id}`,
    count: options.watchedCards,
    keyring,
    keyId: 'bench',
  });
  // the throughput backlog, and a small one for start-up: a monitor (re)started on a live stream
  // finds a little lag, and its first batch is then small (a 2 MB fetch per partition of a big
  // backlog times the processing, not the start-up)
  const topics = benchTopics(id, 'scale');
  const startupTopics = benchTopics(id, 'startup');
  const all = [...Object.values(topics), ...Object.values(startupTopics)];
  await ensureTopics(
    kafka,
    all.map((topic) => ({ topic })),
    options.partitions,
  );
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const fill = (topic: string, count: number) =>
    fillBacklog({ producer, registry, topic, count, watched, runId: `bench-scale-${id}` });
  const messages = options.processes.length > 0 ? options.messages : 0;
  if (messages > 0) {
    log(`producing ${messages.toLocaleString('en-US')} authorizations…`);
    await fill(topics.authorizations, messages);
  }
  if (options.startups > 0) await fill(startupTopics.authorizations, STARTUP_BACKLOG);
  await producer.disconnect();

  const env = (group: string, level: string, t = topics) =>
    benchMonitorEnv({ ...options, keyBytes, prefix, topics: t, group, logLevel: level });

  const startups: StartupRun[] = [];
  for (let i = 0; i < options.startups; i++) {
    // a fresh group on the small backlog, started as production runs it
    const monitor = await spawnMonitor(env(`bench-startup-${id}-${i}`, 'info', startupTopics), {
      ready: false,
      production: true,
    });
    try {
      startups.push(await untilFirstBatch(monitor));
      log(`  start-up ${i + 1}: ${startups.at(-1)?.launchToFirstBatchMs} ms to the first batch`);
    } finally {
      await monitor.stop();
    }
  }

  const runs: ScaleOutRun[] = [];
  const stack = stackPids();
  for (const count of options.processes) {
    const group = `bench-scale-${id}-${count}`;
    log(`${count} monitor process(es) on ${messages.toLocaleString('en-US')}…`);
    const monitors = await Promise.all(Array.from({ length: count }, () => spawnMonitor(env(group, 'warn'))));
    try {
      let committed = 0;
      let first = 0;
      let firstCommitted = 0;
      let window: ReturnType<typeof cpuWindow> | undefined;
      while (committed < messages) {
        await new Promise((r) => setTimeout(r, 100));
        committed = await committedTotal(kafka, group, topics.authorizations);
        if (first === 0 && committed > 0) {
          first = performance.now();
          firstCommitted = committed;
          window = cpuWindow({ ...stack, monitors: monitors.map((m) => m.child.pid as number) });
        }
      }
      if (firstCommitted >= messages)
        throw new Error(
          `the whole backlog was committed between two polls: too small to time (use --messages ${messages * 3} or more)`,
        );
      const seconds = (performance.now() - first) / 1000;
      const cpu = (window as ReturnType<typeof cpuWindow>).end();
      const rate = (committed - firstCommitted) / seconds;
      runs.push({ processes: count, rate, seconds, load1: loadavg()[0] ?? 0, cpu });
      log(
        `  ${Math.round(rate).toLocaleString('en-US')}/s; cores busy: ${Object.entries(cpu.cores)
          .map(([k, v]) => `${k} ${v.toFixed(2)}`)
          .join(', ')}, machine ${cpu.machineCores.toFixed(2)} of ${cpu.machineCoresTotal.toFixed(1)}`,
      );
    } finally {
      await Promise.all(monitors.map((m) => m.stop()));
    }
  }

  await store.drop();
  await store.close();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: all }).catch(() => undefined);
  await admin.disconnect();
  return { messages, runs, startups };
}

/** Waits for the "first batch processed" line and reads the milestones before it. */
async function untilFirstBatch(monitor: BenchMonitor): Promise<StartupRun> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const line = monitor.lines.find((l) => l.msg === 'first batch processed');
    if (line) {
      const cpuSeconds = cpuSecondsOf(monitor.child.pid as number);
      const at = (msg: string) => {
        const found = monitor.lines.find((l) => l.msg === msg);
        return found?.time ? Date.parse(found.time) - monitor.launchedAt : Number.NaN;
      };
      return {
        launchToFirstBatchMs: at('first batch processed'),
        sinceProcessStartMs: Number(line.sinceProcessStartMs),
        cpuSeconds,
        milestones: MILESTONES.map((msg) => ({ msg, ms: at(msg) })),
      };
    }
    if (Date.now() > deadline || monitor.child.exitCode !== null)
      throw new Error('the monitor processed no batch within 60 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}
