import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createKeyring } from '@leakwatch/card';
import type { KafkaSettings, RegistrySettings } from '@leakwatch/config';
import { createSchemaRegistry } from '@leakwatch/contracts';
import { createKafka, ensureTopics } from '@leakwatch/kafka';
import { LeakStore } from '@leakwatch/leak-store';
import { silentLogger } from '@leakwatch/logger';
import type { RedisClient } from '@leakwatch/redis';
import { generateCards } from '@leakwatch/simulator';
import { Partitioners, type Kafka } from 'kafkajs';
import { benchMonitorEnv, benchTopics, fillBacklog } from './backlog.js';
import { committedTotal, spawnMonitor } from './processes.js';

export interface HuntIsolationOptions {
  kafka: KafkaSettings;
  registry: RegistrySettings;
  redis: RedisClient;
  redisUrlEnv: Record<string, string>;
  /** Backlog the monitor works through in each run (the hunt reads the same retained topic). */
  messages: number;
  partitions: number;
  watchedCards: number;
  /** Hunt throttles to try (`--max-rate`); null runs the hunt unthrottled. */
  huntRates: ReadonlyArray<number | null>;
  /** Removes the keys the runs left under a prefix (hunt plans and histories). */
  deleteKeys?: (prefix: string) => Promise<void>;
  log: (line: string) => void;
}

export interface HuntIsolationRow {
  /** The hunt's --max-rate, or null for unthrottled. */
  huntMaxRate: number | null;
  /** The monitor alone on the backlog, measured just before this row's run beside the hunt. */
  monitorAlone: number;
  /** The monitor on the same backlog while the hunt ran (only the window the hunt was alive). */
  monitorBeside: number;
  /** 1 - beside / alone. */
  slowdown: number;
  /** What the hunt achieved meanwhile. */
  huntRate: number;
  /** 1-minute load average at the end of the row. */
  load: number;
}

export interface HuntIsolationResult {
  messages: number;
  rows: HuntIsolationRow[];
  /** The highest throttle tried whose slowdown stayed within 20%, or undefined. */
  bestWithin20: number | null | undefined;
}

const POLL_MS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Commits of `group` on `topic`, timed from the first commit seen while `active()` holds. */
async function rateWhile(
  kafka: Kafka,
  group: string,
  topic: string,
  until: { done: (committed: number) => boolean; active: () => boolean },
): Promise<number> {
  let committed = 0;
  let first = 0;
  let firstCommitted = 0;
  let last = 0;
  let lastCommitted = 0;
  while (!until.done(committed)) {
    await sleep(POLL_MS);
    const active = until.active();
    committed = await committedTotal(kafka, group, topic);
    if (!active) break;
    if (first === 0 && committed > 0) {
      first = performance.now();
      firstCommitted = committed;
    }
    last = performance.now();
    lastCommitted = committed;
  }
  // a window under 2 s (the hunt ended as the monitor began) measures nothing
  if (first === 0 || last - first < 2000) return Number.NaN;
  return ((lastCommitted - firstCommitted) / (last - first)) * 1000;
}

/** A rate, or a clear refusal when the run was too short to time (NaN from {@link rateWhile}). */
function timed(rate: number, what: string, messages: number): number {
  if (!Number.isNaN(rate)) return rate;
  throw new Error(
    `${what} had less than 2 s of commits to time: the backlog is too small for this machine (use --messages ${messages * 3} or more)`,
  );
}

/**
 * Issue 12 "Isolation": the live monitor's rate on a backlog alone, then on the same backlog
 * (a fresh group) with a retro-hunt running beside it over the same retained topic, at each
 * throttle. Runs alternate (alone, beside, alone, beside…) so that drift in the machine's load
 * falls on both sides. The monitor's rate beside the hunt is taken only while the hunt runs.
 */
export async function runHuntIsolationBenchmark(options: HuntIsolationOptions): Promise<HuntIsolationResult> {
  const { log } = options;
  const id = randomBytes(3).toString('hex');
  const keyBytes = randomBytes(32).toString('base64');
  const keyring = createKeyring([{ keyId: 'bench', key: Buffer.from(keyBytes, 'base64') }]);
  const prefix = `bench-iso-${id}:`;
  const kafka = createKafka({ ...options.kafka, clientId: 'leakwatch-bench' }, silentLogger());
  const registry = createSchemaRegistry(options.registry);
  const store = new LeakStore({ redis: options.redis, keyPrefix: prefix });
  await store.start();
  const cards = generateCards({ count: options.watchedCards, seed: 77 }).map((c) => {
    const fingerprint = keyring.fingerprint(c.pan);
    return {
      pan: c.pan,
      expiry: c.expiry,
      fingerprint,
      expiryTag: keyring.expiryTag(fingerprint, c.expiry, 'bench'),
    };
  });
  // each hunt needs an incident of its own: a hunt's progress and plan are kept per incident
  let incidents = 0;
  const newIncident = async (): Promise<string> => {
    const incidentId = `bench-iso-${id}-${++incidents}`;
    await store.upsertIncident({
      incidentId,
      source: 'benchmark',
      compromiseType: 'WEB_SKIMMING',
      exposureStart: '2020-02-24',
      exposureEnd: '2024-10-15',
      disclosedAt: '2025-05-28',
      dataExposed: ['PAN', 'EXPIRY', 'CVV', 'NAME'],
      watchUntil: null,
    });
    for (let i = 0; i < cards.length; i += 5000) {
      await store.addCards(
        incidentId,
        cards.slice(i, i + 5000).map(({ fingerprint, expiryTag }) => ({ fingerprint, expiryTag })),
      );
    }
    return incidentId;
  };
  await newIncident();

  const topics = benchTopics(id, 'iso');
  await ensureTopics(
    kafka,
    Object.values(topics).map((topic) => ({ topic })),
    options.partitions,
  );
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  log(`producing ${options.messages.toLocaleString('en-US')} authorizations (1% on watched cards)…`);
  await fillBacklog({
    producer,
    registry,
    topic: topics.authorizations,
    count: options.messages,
    watched: cards.map((c) => ({ pan: c.pan, expiry: c.expiry })),
    runId: `bench-iso-${id}`,
  });
  await producer.disconnect();

  const env = (group: string) => benchMonitorEnv({ ...options, keyBytes, prefix, topics, group });
  let runs = 0;
  const monitorRun = async (active: () => boolean): Promise<number> => {
    const group = `bench-iso-monitor-${id}-${++runs}`;
    const monitor = await spawnMonitor(env(group));
    try {
      return await rateWhile(kafka, group, topics.authorizations, {
        done: (committed) => committed >= options.messages,
        active,
      });
    } finally {
      await monitor.stop();
    }
  };

  const rows: HuntIsolationRow[] = [];
  try {
    for (const huntMaxRate of options.huntRates) {
      const label = huntMaxRate === null ? 'unthrottled' : `--max-rate ${huntMaxRate}`;
      const monitorAlone = timed(await monitorRun(() => true), 'the monitor alone', options.messages);
      log(`  monitor alone: ${Math.round(monitorAlone).toLocaleString('en-US')}/s`);

      const incidentId = await newIncident();
      const hunt = spawn(
        process.execPath,
        [
          '--max-semi-space-size=64',
          process.argv[1] as string,
          'hunt',
          '--incident',
          incidentId,
          '--from',
          '2000-01-01',
          '--max-rate',
          huntMaxRate === null ? 'unlimited' : String(huntMaxRate),
        ],
        { env: { ...process.env, ...env(`bench-iso-unused-${id}`) }, stdio: ['ignore', 'ignore', 'inherit'] },
      );
      const huntExited = new Promise<number | null>((resolve) => hunt.once('exit', resolve));
      const huntGroup = `leakwatch-hunt-${incidentId}`;
      // the monitor starts once the hunt is under way, and is timed only while the hunt runs
      while (hunt.exitCode === null && (await committedTotal(kafka, huntGroup, topics.authorizations)) === 0)
        await sleep(POLL_MS);
      const huntStart = performance.now();
      const huntStartCommitted = await committedTotal(kafka, huntGroup, topics.authorizations);
      const monitorBeside = timed(
        await monitorRun(() => hunt.exitCode === null),
        `the monitor beside a hunt (${label})`,
        options.messages,
      );
      const huntRate =
        (((await committedTotal(kafka, huntGroup, topics.authorizations)) - huntStartCommitted) /
          (performance.now() - huntStart)) *
        1000;
      const stopped = hunt.exitCode === null;
      if (stopped) hunt.kill('SIGTERM');
      const code = await huntExited;
      // 130: stopped by us before its end ("run again to resume")
      if (code !== 0 && !(stopped && code === 130)) throw new Error(`the hunt exited with ${code}`);
      const row = {
        huntMaxRate,
        monitorAlone,
        monitorBeside,
        slowdown: 1 - monitorBeside / monitorAlone,
        huntRate,
        load: loadavg()[0] ?? Number.NaN,
      };
      rows.push(row);
      log(
        `  beside a hunt (${label}): monitor ${Math.round(monitorBeside).toLocaleString('en-US')}/s, ` +
          `slowdown ${(row.slowdown * 100).toFixed(0)}%, hunt ${Math.round(huntRate).toLocaleString('en-US')}/s`,
      );
    }
  } finally {
    await store.drop();
    await store.close();
    await options.deleteKeys?.(prefix);
  }
  const within = rows.filter((r) => r.slowdown <= 0.2);
  const bestWithin20 =
    within.length === 0
      ? undefined
      : within.some((r) => r.huntMaxRate === null)
        ? null
        : Math.max(...within.map((r) => r.huntMaxRate as number));
  return { messages: options.messages, rows, bestWithin20 };
}
