import { setTimeout as delay } from 'node:timers/promises';
import { LeakwatchError } from '@leakwatch/errors';
import type { Logger } from '@leakwatch/logger';
import {
  AuthorizationMonitor,
  type BatchDependencies,
  type MonitorMetrics,
  type MonitorTopics,
  type SuspiciousChargeAlert,
} from '@leakwatch/pipeline';
import type { RuleSet } from '@leakwatch/rules';
import type { Admin, Kafka } from 'kafkajs';
import { restrictToIncident } from './incident-watch-list.js';
import { expiredByRetention, planPartitions, remaining, type PartitionPlan } from './plan.js';
import { emptySummary, tallyOnce, type HuntSummary } from './tally.js';
import { Throttle } from './throttle.js';

/** Where a hunt keeps its plan, so that a resumed hunt stops where the first run meant to. */
export interface HuntStateStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
}

export interface HuntProgress {
  scanned: number;
  total: number;
  alerts: number;
}

export interface KafkaHuntOptions {
  kafka: Kafka;
  topics: MonitorTopics;
  incidentId: string;
  /** Event time to start from (ms); the caller passes the incident's exposureStart by default. */
  from?: number;
  to?: number;
  dryRun?: boolean;
  /** Authorizations per second at most (default: unthrottled). */
  maxRate?: number;
  /** How often the log starts are checked for authorizations retention deleted (default 2,000 ms). */
  retentionCheckMs?: number;
  /** How soon a crashed hunt's partitions are free for a resumed one (the monitor's setting). */
  sessionTimeoutMs?: number;
  state: HuntStateStore;
  stateKeyPrefix: string;
  /** The live monitor's stages, as for the live monitor; `retrospective` is set here. */
  dependencies: Omit<BatchDependencies, 'ruleSet' | 'retrospective'>;
  ruleSet: () => RuleSet;
  encodeAlert: (alert: SuspiciousChargeAlert) => Buffer;
  metrics: MonitorMetrics;
  logger: Logger;
  onProgress?: (progress: HuntProgress) => void;
  signal?: AbortSignal;
}

export interface KafkaHuntResult {
  /** false when stopped early (Ctrl-C, SIGTERM): run again to resume. */
  complete: boolean;
  resumed: boolean;
  groupId: string;
  plans: PartitionPlan[];
  summary: HuntSummary;
}

interface StoredPlan {
  status: 'running' | 'done';
  from: number | null;
  to: number | null;
  partitions: Array<{ partition: number; start: string; end: string }>;
}

/** The consumer group of a hunt: one per incident (and one for its dry runs). */
export function huntGroupId(incidentId: string, dryRun = false): string {
  return `leakwatch-hunt-${incidentId}${dryRun ? '-dry-run' : ''}`;
}

function byPartition(rows: ReadonlyArray<{ partition: number; offset: string }>): Map<number, bigint> {
  return new Map(rows.map((r) => [r.partition, BigInt(r.offset)]));
}

async function freshPlan(admin: Admin, topic: string, from?: number, to?: number): Promise<PartitionPlan[]> {
  const high = byPartition(
    (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.high })),
  );
  const fromOffsets =
    from === undefined
      ? byPartition(
          (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.low })),
        )
      : byPartition(await admin.fetchTopicOffsetsByTimestamp(topic, from));
  const toOffsets =
    to === undefined ? undefined : byPartition(await admin.fetchTopicOffsetsByTimestamp(topic, to + 1));
  return planPartitions({ from: fromOffsets, high, ...(toOffsets ? { to: toOffsets } : {}) });
}

/**
 * Runs retained authorizations of one topic through the live pipeline for one incident: same
 * decoding, rules, dead letters and publishing as the monitor (it is the monitor's loop, bounded),
 * alerts marked retrospective with their own alertIds. Progress is committed under the hunt's own
 * consumer group, so it never takes the live monitor's partitions and resumes after a stop or a
 * crash; a finished hunt run again starts over and raises the same alertIds.
 */
export async function runKafkaHunt(options: KafkaHuntOptions): Promise<KafkaHuntResult> {
  const { kafka, topics, logger } = options;
  const topic = topics.authorizations;
  const groupId = huntGroupId(options.incidentId, options.dryRun);
  const stateKey = `${options.stateKeyPrefix}hunt:${groupId}`;
  const admin = kafka.admin();
  await admin.connect();
  let plans: PartitionPlan[];
  let resumed = false;
  const next = new Map<number, bigint>();
  try {
    const stored = await options.state.get(stateKey);
    const previous = stored ? (JSON.parse(stored) as StoredPlan) : undefined;
    if (previous?.status === 'running') {
      resumed = true;
      plans = previous.partitions.map((p) => ({
        partition: p.partition,
        start: BigInt(p.start),
        end: BigInt(p.end),
      }));
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      for (const p of committed?.partitions ?? [])
        if (BigInt(p.offset) >= 0n) next.set(p.partition, BigInt(p.offset));
    } else {
      plans = await freshPlan(admin, topic, options.from, options.to);
      await admin.setOffsets({
        groupId,
        topic,
        partitions: plans.map((p) => ({ partition: p.partition, offset: p.start.toString() })),
      });
      const plan: StoredPlan = {
        status: 'running',
        from: options.from ?? null,
        to: options.to ?? null,
        partitions: plans.map((p) => ({
          partition: p.partition,
          start: p.start.toString(),
          end: p.end.toString(),
        })),
      };
      await options.state.set(stateKey, JSON.stringify(plan));
    }
  } catch (error) {
    await admin.disconnect();
    if (error instanceof LeakwatchError) throw error;
    throw new LeakwatchError('KAFKA_UNAVAILABLE', `planning the hunt failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  await admin.disconnect();

  const total = Number(remaining(plans, next));
  const summary = emptySummary();
  const bounds = new Map(plans.map((p) => [p.partition, { start: p.start, end: p.end }]));
  const done = () => plans.every((p) => (next.get(p.partition) ?? p.start) >= p.end);
  logger.info(
    {
      groupId,
      resumed,
      total,
      plans: plans.map((p) => ({ ...p, start: String(p.start), end: String(p.end) })),
    },
    'hunt planned',
  );

  const finish = async (complete: boolean): Promise<KafkaHuntResult> => {
    if (complete) {
      const stored = JSON.parse((await options.state.get(stateKey)) ?? '{}') as StoredPlan;
      await options.state.set(stateKey, JSON.stringify({ ...stored, status: 'done' }));
    }
    return { complete, resumed, groupId, plans, summary };
  };
  if (done()) return finish(true);

  const throttle = options.maxRate ? new Throttle(options.maxRate) : undefined;
  /** Per partition, the last offset counted in the summary (a batch read again is not recounted). */
  const tallied = new Map<number, bigint | undefined>();
  /** Per partition, how far offsets deleted by retention were counted. */
  const lostThrough = new Map<number, bigint>();
  let settle: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (settle = resolve));
  const monitor = new AuthorizationMonitor({
    kafka,
    topics,
    groupId,
    ...(options.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: options.sessionTimeoutMs }),
    dependencies: {
      ...options.dependencies,
      watchList: restrictToIncident(options.dependencies.watchList, options.incidentId),
      retrospective: true,
    },
    ruleSet: options.ruleSet,
    encodeAlert: options.encodeAlert,
    metrics: options.metrics,
    logger: logger.child({ component: 'hunt' }),
    bounds,
    publish: options.dryRun !== true,
    ...(throttle
      ? { beforeBatch: (n: number, heartbeat: () => Promise<void>) => throttle.take(n, heartbeat) }
      : {}),
    onBatch: (partition, outcome, messages) => {
      tallied.set(partition, tallyOnce(summary, outcome, messages, tallied.get(partition)));
      options.onProgress?.({ scanned: summary.scanned, total, alerts: summary.alerts });
    },
    onCommitted: (partition, offset) => {
      // never back behind a window that retention emptied (a batch read before it commits late)
      if (offset > (next.get(partition) ?? -1n)) next.set(partition, offset);
      if (done()) settle();
    },
    onFatal: () => settle(),
  });
  const abort = () => settle();
  options.signal?.addEventListener('abort', abort, { once: true });
  const retention = watchRetention(kafka, topic, options.retentionCheckMs ?? 2000, (low) => {
    for (const range of expiredByRetention(plans, next, low, lostThrough)) {
      const lost = Number(range.to - range.from);
      summary.expired += lost;
      lostThrough.set(range.partition, range.to);
      logger.warn(
        { partition: range.partition, from: String(range.from), to: String(range.to), lost },
        range.exhausted
          ? 'retention deleted the rest of this partition window before it was read; it is done'
          : 'retention deleted part of this partition window before it was read; reading on from the log start',
      );
      // nothing of it is left to read: done, or the hunt would wait for offsets that are gone
      if (range.exhausted) next.set(range.partition, range.to);
    }
    if (done()) settle();
  });
  try {
    await monitor.start();
    await finished;
  } finally {
    options.signal?.removeEventListener('abort', abort);
    await retention.stop();
    await monitor.close();
  }
  return finish(done());
}

/**
 * Polls the topic's log starts (low watermarks) while a hunt runs. kafkajs moves a consumer
 * whose offset was deleted to the log start by itself; the hunt needs to know, to count what
 * was lost and to finish a partition whose whole window is gone. A failed poll is tried again
 * at the next tick: this is bookkeeping, the hunt goes on without it.
 */
function watchRetention(
  kafka: Kafka,
  topic: string,
  everyMs: number,
  onLow: (low: ReadonlyMap<number, bigint>) => void,
): { stop: () => Promise<void> } {
  const admin = kafka.admin();
  let connected: Promise<void> | undefined;
  let polling: Promise<void> = Promise.resolve();
  const poll = async () => {
    connected ??= admin.connect();
    await connected;
    const offsets = await admin.fetchTopicOffsets(topic);
    onLow(new Map(offsets.map((p) => [p.partition, BigInt(p.low)])));
  };
  const timer = setInterval(() => {
    polling = polling.then(poll).catch(() => {
      connected = undefined;
    });
  }, everyMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      // a poll stuck on a broker that went away does not hold up the end of the hunt
      await Promise.race([polling, delay(5000, undefined, { ref: false })]);
      if (connected) await admin.disconnect().catch(() => undefined);
    },
  };
}
