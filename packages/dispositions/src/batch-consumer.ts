import { setTimeout as sleep } from 'node:timers/promises';
import { describeError, LeakwatchError } from '@leakwatch/errors';
import type { Logger } from '@leakwatch/logger';
import type { Consumer, IHeaders, Kafka } from 'kafkajs';

/** One message of a batch, as the handlers see it. */
export interface ConsumedMessage {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

export interface BatchConsumerOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  /**
   * Handles a batch of one partition. A throw retries the same batch (with backoff, keeping
   * the partition's place in the group): handlers must be idempotent, and must skip poison
   * themselves rather than throw on it.
   */
  handle(messages: readonly ConsumedMessage[]): Promise<void>;
  logger: Logger;
  /** The consumer stopped for good (kafkajs will not restart it). */
  onFatal?: (error: unknown) => void;
  retryMaxMs?: number;
}

export type BatchConsumerState =
  'idle' | 'starting' | 'running' | 'retrying' | 'stopping' | 'stopped' | 'failed';

/**
 * A small at-least-once consumer for the dispatcher's side topics (alert index, dispositions):
 * a batch is handled, then its offset committed; a failing batch is retried in place.
 */
export class BatchConsumer {
  readonly #options: BatchConsumerOptions;
  readonly #consumer: Consumer;
  #state: BatchConsumerState = 'idle';
  #lastError: string | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: BatchConsumerOptions) {
    this.#options = options;
    this.#consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
      maxWaitTimeInMs: 200,
      allowAutoTopicCreation: false,
    });
  }

  get state(): BatchConsumerState {
    return this.#state;
  }

  readiness(): { ok: boolean; detail: string } {
    const ok = this.#state === 'running';
    return { ok, detail: this.#state + (!ok && this.#lastError ? `: ${this.#lastError}` : '') };
  }

  async start(): Promise<void> {
    if (this.#state !== 'idle') {
      throw new LeakwatchError(
        'INTERNAL',
        `consumer of ${this.#options.topic} cannot start from ${this.#state}`,
      );
    }
    const { logger, topic, groupId } = this.#options;
    this.#state = 'starting';
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, () => {
      if (this.#state === 'starting') this.#state = 'running';
    });
    this.#consumer.on(this.#consumer.events.CRASH, ({ payload }) => {
      this.#lastError = describeError(payload.error);
      logger.error({ err: payload.error, restart: payload.restart, topic }, 'consumer crashed');
      if (!payload.restart && this.#state !== 'stopping' && this.#state !== 'stopped') {
        this.#state = 'failed';
        this.#options.onFatal?.(payload.error);
      }
    });
    try {
      await this.#consumer.connect();
      await this.#consumer.subscribe({ topic, fromBeginning: true });
    } catch (error) {
      await this.#consumer.disconnect().catch(() => undefined);
      this.#state = 'idle';
      throw error;
    }
    await this.#consumer.run({
      // kafkajs commits the resolved offset after each batch returns: resolved only once handled
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const heartbeat = () => payload.heartbeat();
        const resolveOffset = (offset: string) => payload.resolveOffset(offset);
        const isRunning = () => payload.isRunning();
        const isStale = () => payload.isStale();
        if (batch.messages.length === 0) return;
        const active = () => isRunning() && !isStale() && this.#state !== 'stopping';
        const messages: ConsumedMessage[] = batch.messages.map((m) => ({
          partition: batch.partition,
          offset: m.offset,
          key: m.key,
          value: m.value,
          headers: m.headers ?? {},
        }));
        let delay = 200;
        for (let attempt = 1; active(); attempt++) {
          try {
            await this.#options.handle(messages);
            resolveOffset(batch.lastOffset());
            if (this.#state === 'retrying') this.#state = 'running';
            return;
          } catch (error) {
            this.#lastError = describeError(error);
            if (this.#state === 'running') this.#state = 'retrying';
            logger.warn(
              { err: error, topic, partition: batch.partition, attempt, retryInMs: delay },
              'batch failed; retrying the same batch',
            );
            const until = Date.now() + delay;
            while (Date.now() < until && active()) {
              await sleep(Math.min(1000, until - Date.now()));
              try {
                await heartbeat();
              } catch (rebalance) {
                // the group is rebalancing: give the batch back uncommitted and let this member
                // rejoin rather than hold the group up while a dependency is down
                logger.info(
                  { err: rebalance, topic, partition: batch.partition },
                  'rebalance during a retry',
                );
                return;
              }
            }
            delay = Math.min(delay * 2, this.#options.retryMaxMs ?? 10_000);
          }
        }
      },
    });
    logger.info({ topic, groupId }, 'consuming');
  }

  /** Stops fetching, lets the batch in hand finish and commit, leaves the group; idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = 'stopping';
      await this.#consumer.disconnect();
      this.#state = 'stopped';
    })();
    return this.#closing;
  }
}
