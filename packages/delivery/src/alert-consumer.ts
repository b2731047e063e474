import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordDecoder, SuspiciousChargeAlert } from '@leakwatch/contracts';
import { describeError } from '@leakwatch/errors';
import { OrderedCommits } from '@leakwatch/kafka';
import type { Logger } from '@leakwatch/logger';
import type { PartnerRouter } from '@leakwatch/partners';
import type { Batch, Consumer, Kafka, Message, Producer } from 'kafkajs';
import { planDelivery } from './route.js';
import type { WebhookDispatcher } from './webhook-dispatcher.js';

export interface AlertConsumerMetrics {
  /** An alert written to a partner's topic. */
  partnerTopicAlert(partnerId: string, count: number): void;
  /** A message of the alerts topic that is not an alert (skipped, logged). */
  poison(reason: string): void;
}

export interface AlertConsumerOptions {
  kafka: Kafka;
  /** card.alerts.v1 */
  topic: string;
  groupId: string;
  router: PartnerRouter;
  decoder: RecordDecoder<SuspiciousChargeAlert>;
  /** Confluent-framed Avro for a partner topic (its own subject). */
  encode(alert: SuspiciousChargeAlert, topic: string): Buffer;
  webhooks: WebhookDispatcher;
  logger: Logger;
  metrics?: AlertConsumerMetrics;
  partitionsConsumedConcurrently?: number;
  /** Start of the pause between retries of a batch that failed (Kafka or Redis away). Default 200 ms. */
  retryInitialMs?: number;
}

type State = 'idle' | 'starting' | 'running' | 'retrying' | 'stopping' | 'stopped' | 'failed';

/**
 * Reads card.alerts.v1 in the dispatcher's own group and hands each alert to its partner: the
 * partner topic (produced, acks=all) and the webhook schedule (Redis). A batch's offset is
 * committed only when both are acknowledged: every delivery of every alert is then either on the
 * partner's topic or durably scheduled. Failures pause the partition and retry the same batch
 * (producing and scheduling again is harmless: the topic is keyed and consumers dedupe by
 * alertId, and the schedule drops repeats).
 */
export class AlertConsumer {
  readonly #options: AlertConsumerOptions;
  readonly #consumer: Consumer;
  readonly #producer: Producer;
  #state: State = 'idle';
  #lastError: string | null = null;
  readonly #inFlight = new Set<Promise<void>>();
  #closing: Promise<void> | undefined;
  readonly #commits = new OrderedCommits({
    commit: (topic, partition, offset) => this.#consumer.commitOffsets([{ topic, partition, offset }]),
    // the next commit of the partition covers it; without one the batch is read again, and its
    // deliveries are dropped as repeats by the schedule
    onError: (error, partition, nextOffset) =>
      this.#options.logger.warn(
        { err: describeError(error), partition, nextOffset },
        'offset commit failed; the next one covers it',
      ),
  });

  constructor(options: AlertConsumerOptions) {
    this.#options = options;
    this.#consumer = options.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      // as the monitor: an idle partition's fetch returns within 100 ms
      maxWaitTimeInMs: 100,
    });
    this.#producer = options.kafka.producer({
      allowAutoTopicCreation: false,
      idempotent: true,
      maxInFlightRequests: 1,
    });
  }

  readiness(): { ok: boolean; detail: string } {
    const ok = this.#state === 'running';
    return { ok, detail: this.#lastError && !ok ? `${this.#state}: ${this.#lastError}` : this.#state };
  }

  async start(): Promise<void> {
    const { logger, topic } = this.#options;
    this.#state = 'starting';
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, () => {
      if (this.#state === 'starting') this.#state = 'running';
    });
    this.#consumer.on(this.#consumer.events.CRASH, ({ payload }) => {
      this.#lastError = describeError(payload.error);
      logger.error({ err: payload.error, restart: payload.restart }, 'alert consumer crashed');
      if (!payload.restart && this.#state !== 'stopping' && this.#state !== 'stopped') this.#state = 'failed';
    });
    try {
      await this.#producer.connect();
      await this.#consumer.connect();
      await this.#consumer.subscribe({ topic, fromBeginning: true });
    } catch (error) {
      await this.#consumer.disconnect().catch(() => undefined);
      await this.#producer.disconnect().catch(() => undefined);
      this.#state = 'idle';
      throw error;
    }
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
    logger.info({ topic, groupId: this.#options.groupId }, 'dispatcher consuming alerts');
  }

  async #handleBatch(
    batch: Batch,
    heartbeat: () => Promise<void>,
    active: () => boolean,
    resolveOffset: (offset: string) => void,
  ): Promise<void> {
    if (batch.messages.length === 0) return;
    const { logger, decoder, router, webhooks, metrics } = this.#options;
    let delay = this.#options.retryInitialMs ?? 200;
    for (;;) {
      if (!active()) return; // stopping or rebalanced: uncommitted, redelivered
      try {
        const decoded = await decoder.decodeBatch(batch.messages.map((m) => m.value));
        const topicMessages = new Map<string, { partnerId: string; messages: Message[] }>();
        const webhookItems: { partnerId: string; alert: SuspiciousChargeAlert }[] = [];
        decoded.forEach((result, i) => {
          if (!result.ok) {
            metrics?.poison(result.code);
            logger.warn(
              {
                partition: batch.partition,
                offset: batch.messages[i]?.offset,
                code: result.code,
                reason: result.message,
              },
              'not an alert: skipped',
            );
            return;
          }
          const alert = result.value;
          const plan = planDelivery(alert, router);
          if (plan === null) return;
          if (plan.topic !== null) {
            const entry = topicMessages.get(plan.topic) ?? {
              partnerId: plan.partner.partnerId,
              messages: [],
            };
            entry.messages.push({
              key: alert.card.fingerprint,
              value: this.#options.encode(alert, plan.topic),
            });
            topicMessages.set(plan.topic, entry);
          }
          if (plan.webhook) webhookItems.push({ partnerId: plan.partner.partnerId, alert });
        });
        await Promise.all([
          topicMessages.size === 0
            ? undefined
            : this.#producer.sendBatch({
                acks: -1,
                topicMessages: [...topicMessages].map(([topic, { messages }]) => ({ topic, messages })),
              }),
          // decoded alerts: validated by the decoder, not again for the body
          webhooks.enqueue(webhookItems, { validated: true }),
        ]);
        for (const { partnerId, messages } of topicMessages.values()) {
          metrics?.partnerTopicAlert(partnerId, messages.length);
        }
        resolveOffset(batch.lastOffset());
        // every delivery of the batch is on its partner topic or durably scheduled: commit, behind
        // the next fetch (awaiting it here added its round trip to every alert's latency)
        void this.#commits.add(batch.topic, batch.partition, batch.lastOffset());
        if (this.#state === 'retrying') this.#state = 'running';
        return;
      } catch (error) {
        this.#lastError = describeError(error);
        if (this.#state === 'running') this.#state = 'retrying';
        logger.warn(
          { err: error, partition: batch.partition, firstOffset: batch.firstOffset(), retryInMs: delay },
          'dispatching a batch of alerts failed; retrying the same batch',
        );
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
        await heartbeat().catch(() => undefined);
      }
    }
  }

  /** Stops fetching, finishes the batch in hand (its commit included), disconnects. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#state === 'idle') {
        this.#state = 'stopped';
        return;
      }
      this.#state = 'stopping';
      await Promise.all(this.#inFlight);
      await this.#commits.settled();
      await this.#consumer.disconnect().catch(() => undefined);
      await this.#producer.disconnect().catch(() => undefined);
      this.#state = 'stopped';
    })();
    return this.#closing;
  }
}
