import { setTimeout as sleep } from 'node:timers/promises';
import { describeError, LeakwatchError } from '@leakwatch/errors';
import { DEFAULT_MAX_MESSAGE_BYTES, OrderedCommits, topicMaxMessageBytes } from '@leakwatch/kafka';
import type { Logger } from '@leakwatch/logger';
import type { RuleSet } from '@leakwatch/rules';
import {
  Partitioners,
  type Batch,
  type CompressionTypes,
  type Consumer,
  type Kafka,
  type Producer,
} from 'kafkajs';
import { cutToBounds, type OffsetBounds } from './bounds.js';
import { maskDigitRuns } from './dead-letter.js';
import type { MonitorMetrics } from './metrics.js';
import { processIsolating } from './isolate.js';
import { publishOutcome } from './publish.js';
import { processBatch, type BatchDependencies } from './process-batch.js';
import { failureCode, retryUntilDone, type BackoffPolicy, type RetryIo } from './retry.js';
import type { BatchOutcome } from './stages/outcome.js';
import type { InboundMessage, SuspiciousChargeAlert } from './types.js';

export interface MonitorTopics {
  authorizations: string;
  alerts: string;
  deadLetters: string;
}

export interface MonitorOptions {
  kafka: Kafka;
  topics: MonitorTopics;
  groupId: string;
  dependencies: Omit<BatchDependencies, 'ruleSet'>;
  /** The rule set in force (hot-reloaded); read once per batch. */
  ruleSet: () => RuleSet;
  /** Encodes an alert for the alerts topic (Confluent framing with its subject's schema id). */
  encodeAlert: (alert: SuspiciousChargeAlert) => Buffer;
  metrics: MonitorMetrics;
  logger: Logger;
  /** Input partitions processed side by side (order within a partition is always kept). */
  partitionsConsumedConcurrently?: number;
  /**
   * How long the group waits for a member that stopped heartbeating (a crashed process) before
   * its partitions go to the others: the failover time. Default 30,000 ms; the broker bounds it
   * (group.min.session.timeout.ms, 6,000 by default).
   */
  sessionTimeoutMs?: number;
  /**
   * Upper bound on one produce request (bytes); the output topics' max.message.bytes, read at
   * start, bound it too.
   */
  maxRequestBytes?: number;
  /** Compression of the alerts and dead letters written (kafkajs CompressionTypes); default none. */
  compression?: CompressionTypes;
  retryInitialMs?: number;
  retryMaxMs?: number;
  /**
   * A bounded run (the retro-hunt): per partition, the window of offsets to judge. Messages
   * outside it are never judged; a partition read from before its start is sought to it, and
   * paused once it gets to its end.
   */
  bounds?: ReadonlyMap<number, OffsetBounds>;
  /** Awaited before each batch is processed: a throttle. A long wait calls `heartbeat`. */
  beforeBatch?: (messages: number, heartbeat: () => Promise<void>) => Promise<void>;
  /** false: decide and count, publish nothing (a dry run). Default true. */
  publish?: boolean;
  /**
   * Told once a batch's outcome is final (published), before its offsets are committed. A batch
   * given back at a rebalance is read and told again, in whole or in part: count by offset.
   */
  onBatch?: (partition: number, outcome: BatchOutcome, messages: readonly InboundMessage[]) => void;
  /** Told after a partition's offset commit landed, with the next offset to be read. */
  onCommitted?: (partition: number, nextOffset: bigint) => void;
  /** Called when the consumer crashed for good (kafkajs will not restart it): exit and restart. */
  onFatal?: (error: unknown) => void;
}

/**
 * Lifecycle: idle → starting → running ⇄ retrying → stopping → stopped. `retrying` means some
 * partition is paused on a dependency that can heal; /readyz reports it.
 */
export type MonitorState = 'idle' | 'starting' | 'running' | 'retrying' | 'stopping' | 'stopped' | 'failed';

/** Tries of one offset commit, and the pause before the next (times the try number). */
const COMMIT_TRIES = 5;
const COMMIT_RETRY_MS = 200;

/**
 * Reads authorizations, publishes alerts and dead letters, and commits a partition's offsets
 * only after Kafka acknowledged every record the batch produced. A failure that can heal
 * (Redis, registry, Kafka) pauses that partition and retries the same batch with backoff; a
 * stop during a retry leaves the batch uncommitted, to be redelivered.
 */
export class AuthorizationMonitor {
  readonly #options: MonitorOptions;
  readonly #consumer: Consumer;
  readonly #producer: Producer;
  readonly #retrying = new Map<number, { since: number; error: string }>();
  #state: MonitorState = 'idle';
  #closing: Promise<void> | undefined;
  /**
   * Commits run behind the next batch (one round trip off the latency path), in order per
   * partition; a stop waits for them before leaving the group.
   */
  readonly #commits = new OrderedCommits({
    commit: async (topic, partition, nextOffset) => {
      // A few quick tries: in a bounded run (the hunt) the last commit of a partition is followed
      // by no other, so one lost to a coordinator hiccup would leave the run waiting for ever.
      for (let attempt = 1; ; attempt++) {
        try {
          await this.#consumer.commitOffsets([{ topic, partition, offset: nextOffset }]);
          break;
        } catch (error) {
          if (attempt >= COMMIT_TRIES || this.#state === 'stopped') throw error;
          await sleep(COMMIT_RETRY_MS * attempt);
        }
      }
      this.#options.onCommitted?.(partition, BigInt(nextOffset));
    },
    // a later batch's commit covers this one; if none comes (rebalance, crash), the batch is
    // redelivered and its alerts repeat with the same alertIds
    onError: (error, partition, nextOffset) => {
      this.#options.metrics.retries.inc({ reason: 'KAFKA_UNAVAILABLE' });
      this.#options.logger.warn(
        { err: describeError(error), partition, nextOffset },
        'offset commit failed; the next one covers it',
      );
    },
  });
  /** Batches being handled now: a stop waits for them before it commits and leaves. */
  readonly #inFlight = new Set<Promise<void>>();
  /** Per partition, the publishing of the last batch handed off (see #handleBatch). */
  readonly #published = new Map<number, Promise<boolean>>();
  #lastError: string | undefined;
  /** The first batch processed is logged once, with the time since the process started. */
  #firstBatchLogged = false;
  /** max.message.bytes of the output topics, read at start. */
  #limits = { alerts: DEFAULT_MAX_MESSAGE_BYTES, deadLetters: DEFAULT_MAX_MESSAGE_BYTES };

  constructor(options: MonitorOptions) {
    this.#options = options;
    const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
    this.#consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout,
      // a third of the session at most, so two missed heartbeats do not expire a live member
      heartbeatInterval: Math.min(3000, Math.floor(sessionTimeout / 3)),
      maxWaitTimeInMs: 100,
      // 512 KB a partition: on a 1,000,000 backlog the monitor spent 6.2-6.7 µs of CPU per
      // authorization against 8.0-8.4 µs at 2 MB, 7.7 at 1 MB and 6.6-7.2 at 256/128 KB: fetches
      // of a few MB keep tens of thousands of decoded messages alive across young-generation GCs
      maxBytesPerPartition: 512 * 1024,
      allowAutoTopicCreation: false,
    });
    this.#producer = options.kafka.producer({
      // murmur2, as Java clients: one card's alerts land in the same partition whoever produces
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      maxInFlightRequests: 5,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
    });
    // once per consumer, not per start(): a start that failed and is retried adds no listener
    const { logger } = options;
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, ({ payload }) => {
      logger.info(
        { memberId: payload.memberId, assignment: payload.memberAssignment },
        'joined consumer group',
      );
      if (this.#state === 'starting') this.#state = this.#retrying.size > 0 ? 'retrying' : 'running';
      // a new generation reads every assigned partition again from its committed offset: batches
      // it hands off do not wait on (or inherit a release from) the last generation's
      this.#published.clear();
      // A bounded run pauses a partition at the end of its window; kafkajs keeps pauses across a
      // rebalance, so a partition whose last batch was given back (and not committed) would never
      // be read again. Read them all again: the window pauses each at its end once more.
      if (this.#options.bounds !== undefined) {
        try {
          this.#consumer.resume([{ topic: options.topics.authorizations }]);
        } catch {
          /* not running yet: nothing is paused */
        }
      }
    });
    this.#consumer.on(this.#consumer.events.CRASH, ({ payload }) => {
      this.#lastError = describeError(payload.error);
      logger.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
      if (!payload.restart && this.#state !== 'stopping' && this.#state !== 'stopped') {
        // kafkajs gave up on this consumer: nothing is being read any more; say so and let the
        // process be restarted rather than look healthy while the lag grows
        this.#state = 'failed';
        this.#options.onFatal?.(payload.error);
      }
    });
  }

  get state(): MonitorState {
    return this.#state;
  }

  /** For /readyz: joined and consuming, and no partition paused on a failing dependency. */
  readiness(): { ok: boolean; detail: string } {
    if (this.#state === 'running') return { ok: true, detail: 'consuming' };
    if (this.#state === 'retrying') {
      const [partition, info] = [...this.#retrying.entries()][0] ?? [];
      return {
        ok: false,
        detail: `partition ${partition} retrying since ${new Date(info?.since ?? 0).toISOString()}: ${info?.error}`,
      };
    }
    return { ok: false, detail: this.#state + (this.#lastError ? `: ${this.#lastError}` : '') };
  }

  async start(): Promise<void> {
    if (this.#state !== 'idle')
      throw new LeakwatchError('INTERNAL', `monitor cannot start from state ${this.#state}`);
    this.#state = 'starting';
    const { topics, logger } = this.#options;
    try {
      const limits = await topicMaxMessageBytes(this.#options.kafka, [topics.alerts, topics.deadLetters]);
      this.#limits = {
        alerts: limits.get(topics.alerts) ?? DEFAULT_MAX_MESSAGE_BYTES,
        deadLetters: limits.get(topics.deadLetters) ?? DEFAULT_MAX_MESSAGE_BYTES,
      };
      await this.#producer.connect();
      await this.#consumer.connect();
      await this.#consumer.subscribe({ topic: topics.authorizations, fromBeginning: true });
      await this.#consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.#options.partitionsConsumedConcurrently ?? 6,
        eachBatch: async (payload) => {
          const handled = this.#handleBatch(
            payload.batch,
            () => payload.heartbeat(),
            () => payload.isRunning() && !payload.isStale() && this.#state !== 'stopping',
            (offset) => payload.resolveOffset(offset),
          );
          this.#inFlight.add(handled);
          try {
            await handled;
          } finally {
            this.#inFlight.delete(handled);
          }
        },
      });
    } catch (error) {
      // back to idle, so a caller that retries start-up (a broker still coming up) can; the
      // listeners stay (they were added once, in the constructor)
      await this.#consumer.disconnect().catch(() => undefined);
      await this.#producer.disconnect().catch(() => undefined);
      if (this.#state === 'starting') this.#state = 'idle';
      throw error;
    }
    logger.info({ topic: topics.authorizations, groupId: this.#options.groupId }, 'monitor consuming');
  }

  async #handleBatch(
    batch: Batch,
    heartbeat: () => Promise<void>,
    active: () => boolean,
    resolveOffset: (offset: string) => void,
  ): Promise<void> {
    if (batch.messages.length === 0) return;
    const { logger } = this.#options;
    const {
      inside: inBounds,
      reachedEnd,
      behindStart,
    } = cutToBounds(batch.messages, this.#options.bounds?.get(batch.partition));
    const bounds = this.#options.bounds?.get(batch.partition);
    if (bounds !== undefined && behindStart) {
      // the group began this partition before the window: skip to its start
      logger.warn(
        { partition: batch.partition, firstOffset: batch.firstOffset(), start: String(bounds.start) },
        'read from before the planned start; seeking to it',
      );
      if (inBounds.length === 0) {
        this.#consumer.seek({ topic: batch.topic, partition: batch.partition, offset: String(bounds.start) });
        return;
      }
    }
    if (bounds !== undefined && reachedEnd) {
      // a bounded run got to the end of this partition: read no further
      this.#consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
      if (inBounds.length === 0) {
        // after the batch before it is published, or this commit would land ahead of its one
        if (await (this.#published.get(batch.partition) ?? true))
          void this.#commits.add(batch.topic, batch.partition, (bounds.end - 1n).toString());
        return;
      }
    }
    const lastOffset = (inBounds[inBounds.length - 1] as { offset: string }).offset;
    await this.#options.beforeBatch?.(inBounds.length, heartbeat);
    // kafkajs messages are InboundMessages as they are: no second shape per message
    const messages: readonly InboundMessage[] = inBounds;
    const io = { active, now: Date.now, sleep: (ms: number) => sleep(ms), heartbeat };
    const backoff = {
      initialMs: this.#options.retryInitialMs ?? 200,
      maxMs: this.#options.retryMaxMs ?? 10_000,
    };
    const onFailure = (error: unknown, attempt: number, retryInMs: number) =>
      this.#onFailure(batch, error, attempt, retryInMs);
    const started = performance.now();
    const decided = await retryUntilDone(() => this.#processIsolating(messages), io, backoff, onFailure);
    if (decided.status === 'released') {
      this.#release(batch.partition, decided);
      return;
    }
    // kafkajs fetches from the last *resolved* offset, not the committed one: without this
    // (eachBatchAutoResolve is off) the same batch is fetched and processed again forever
    resolveOffset(lastOffset);
    // The batch is decided; its publishing runs behind the next fetch, so one partition's publish
    // round trip no longer holds up every partition's next batch (kafkajs fetches again only
    // once all batches of a fetch are handled). One batch publishes at a time per partition: it
    // waits here for the one before it, which also keeps alerts and commits in order.
    const previous = this.#published.get(batch.partition) ?? Promise.resolve(true);
    if (!(await previous)) {
      // the batch before was given back (stop, rebalance): so is this one, uncommitted; the
      // group's next generation reads both again from the committed offset
      this.#published.set(batch.partition, previous);
      return;
    }
    const publishing = this.#publishBatch(batch, messages, decided.value, lastOffset, started, io, backoff);
    this.#published.set(batch.partition, publishing);
    // a stop waits for it; an unexpected error fails the partition's next batch (kafkajs then
    // restarts the consumer, which reads again from the committed offset)
    const tracked = publishing.then(
      () => undefined,
      (error: unknown) =>
        this.#options.logger.error({ err: error, partition: batch.partition }, 'publishing a batch failed'),
    );
    this.#inFlight.add(tracked);
    void tracked.finally(() => this.#inFlight.delete(tracked));
  }

  /**
   * Publishes a decided batch (retrying while its dependency heals), then records it and starts
   * its commit. True once published; false when given back (stop, rebalance), uncommitted.
   */
  async #publishBatch(
    batch: Batch,
    messages: readonly InboundMessage[],
    decided: BatchOutcome,
    lastOffset: string,
    started: number,
    io: RetryIo,
    backoff: BackoffPolicy,
  ): Promise<boolean> {
    const { logger } = this.#options;
    const publishing = performance.now();
    const result = await retryUntilDone(
      () => this.#publish(batch.partition, decided),
      io,
      backoff,
      (error, attempt, retryInMs) => this.#onFailure(batch, error, attempt, retryInMs),
    );
    if (result.status === 'released') {
      this.#release(batch.partition, result);
      return false;
    }
    const now = performance.now();
    this.#options.metrics.stage.observe({ stage: 'publish' }, (now - publishing) / 1000);
    this.#recover(batch.partition);
    this.#record(batch, result.value, now - started);
    this.#options.onBatch?.(batch.partition, result.value, messages);
    if (!this.#firstBatchLogged) {
      this.#firstBatchLogged = true;
      // start-up time, launch to first batch processed (docs/benchmarks.md "Start-up")
      logger.info(
        {
          partition: batch.partition,
          messages: messages.length,
          sinceProcessStartMs: Math.round(process.uptime() * 1000),
        },
        'first batch processed',
      );
    }
    // Everything the batch produced is acknowledged: its offset may be committed now. The
    // commit runs behind the next batch (one round trip off the latency path); commits of a
    // partition stay in order, and a stop waits for them before leaving the group.
    void this.#commits.add(batch.topic, batch.partition, lastOffset);
    return true;
  }

  /** A batch given back uncommitted: stopping, or the group is rebalancing. */
  #release(partition: number, result: { reason: 'inactive' | 'rebalance'; error?: unknown }): void {
    if (result.reason === 'rebalance') {
      // the group is rebalancing: give the batch back so this member can rejoin instead of
      // holding the whole group up while a dependency is down
      this.#options.logger.info(
        { err: result.error, partition },
        'rebalance during a retry; releasing the batch',
      );
    }
    this.#forget(partition);
  }

  #onFailure(batch: Batch, error: unknown, attempt: number, retryInMs: number): void {
    const { metrics, logger } = this.#options;
    const code = failureCode(error);
    this.#lastError = describeError(error);
    if (!this.#retrying.has(batch.partition)) {
      this.#retrying.set(batch.partition, { since: Date.now(), error: this.#lastError });
      metrics.paused.set(this.#retrying.size);
    }
    if (this.#state === 'running') this.#state = 'retrying';
    metrics.retries.inc({ reason: code });
    logger.warn(
      { err: error, partition: batch.partition, firstOffset: batch.firstOffset(), attempt, retryInMs },
      'batch failed on a dependency; pausing this partition and retrying the same batch',
    );
  }

  /** Processes the batch, isolating a message that hits a bug (see processIsolating). */
  #processIsolating(messages: readonly InboundMessage[]): Promise<BatchOutcome> {
    const deps: BatchDependencies = {
      ...this.#options.dependencies,
      ruleSet: this.#options.ruleSet(),
      onStage: (stage, seconds) => this.#options.metrics.stage.observe({ stage }, seconds),
    };
    return processIsolating(
      messages,
      (some) => processBatch(some, deps),
      (error) =>
        this.#options.logger.error({ err: error }, 'batch hit an unexpected error; isolating the message'),
    );
  }

  /** Publishes alerts and dead letters (see publishOutcome); returns the outcome as published. */
  #publish(partition: number, outcome: BatchOutcome): Promise<BatchOutcome> {
    const { topics } = this.#options;
    const limits = this.#limits;
    return publishOutcome(partition, outcome, {
      topics: { source: topics.authorizations, alerts: topics.alerts, deadLetters: topics.deadLetters },
      encodeAlert: this.#options.encodeAlert,
      send: async (topicMessages) => {
        // a dry run (retro-hunt --dry-run) decides and counts, and publishes nothing
        if (this.#options.publish === false) return;
        await this.#producer.sendBatch({
          topicMessages,
          acks: -1,
          ...(this.#options.compression === undefined ? {} : { compression: this.#options.compression }),
        });
      },
      maxRequestBytes: Math.min(
        this.#options.maxRequestBytes ?? Number.POSITIVE_INFINITY,
        limits.alerts,
        limits.deadLetters,
      ),
      deadLetterMaxBytes: limits.deadLetters,
      now: () => new Date(),
    });
  }

  /** A partition this member no longer works on is not "retrying" any more. */
  #forget(partition: number): void {
    if (!this.#retrying.delete(partition)) return;
    this.#options.metrics.paused.set(this.#retrying.size);
    if (this.#retrying.size === 0 && this.#state === 'retrying') this.#state = 'running';
  }

  #recover(partition: number): void {
    if (!this.#retrying.delete(partition)) return;
    this.#options.metrics.paused.set(this.#retrying.size);
    this.#options.logger.info({ partition }, 'dependency back; partition resumed where it stopped');
    if (this.#retrying.size === 0 && this.#state === 'retrying') this.#state = 'running';
  }

  #record(batch: Batch, outcome: BatchOutcome, ms: number): void {
    const { metrics, logger } = this.#options;
    metrics.batchDuration.observe(ms / 1000);
    metrics.batchSize.observe(batch.messages.length);
    metrics.processed.inc({ outcome: 'clean' }, outcome.clean);
    metrics.processed.inc({ outcome: 'alerted' }, outcome.alerts.length);
    metrics.processed.inc({ outcome: 'dead_lettered' }, outcome.deadLetters.length);
    metrics.watched.inc(outcome.watched);
    for (const { alert } of outcome.alerts)
      metrics.alerts.inc({ severity: alert.severity, partner: alert.partnerId });
    for (const d of outcome.deadLetters) {
      metrics.deadLetters.inc({ reason: d.code });
      logger.warn(
        {
          partition: batch.partition,
          offset: d.message.offset,
          code: d.code,
          reason: maskDigitRuns(d.reason),
        },
        'dead-lettered an authorization',
      );
    }
    for (const { alert, message } of outcome.alerts) {
      logger.info(
        {
          alertId: alert.alertId,
          partition: batch.partition,
          offset: message.offset,
          severity: alert.severity,
          score: alert.score,
          partnerId: alert.partnerId,
          bin: alert.card.bin,
          last4: alert.card.last4,
          reasons: alert.reasons.map((r) => r.code),
        },
        'alert raised',
      );
    }
    const now = Date.now();
    for (const m of batch.messages) metrics.endToEnd.observe(Math.max(0, now - Number(m.timestamp)) / 1000);
    const lag = Number(batch.offsetLag());
    if (Number.isFinite(lag))
      metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, lag);
  }

  /** Stop fetching, let the batch in hand finish (or abandon its retry), commit, flush, close. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const previous = this.#state;
      this.#state = 'stopping';
      if (previous !== 'idle') {
        // Stop fetching, let the batches in hand finish (a retrying one gives up within a second),
        // then let their commits land: kafkajs drops commits once its runner is stopping, so
        // all of this happens before disconnect().
        try {
          this.#consumer.pause([{ topic: this.#options.topics.authorizations }]);
        } catch {
          /* never ran, or kafkajs already tore the consumer down */
        }
        while (this.#inFlight.size > 0) await Promise.allSettled(this.#inFlight);
        await this.#commits.settled();
        await this.#consumer
          .disconnect()
          .catch((error: unknown) => this.#options.logger.warn({ err: error }, 'consumer disconnect'));
        await this.#producer
          .disconnect()
          .catch((error: unknown) => this.#options.logger.warn({ err: error }, 'producer disconnect'));
      }
      this.#state = 'stopped';
    })();
    return this.#closing;
  }
}
