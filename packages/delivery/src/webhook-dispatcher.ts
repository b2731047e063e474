import { setImmediate as yieldToIo, setTimeout as sleep } from 'node:timers/promises';
import type { SuspiciousChargeAlert } from '@leakwatch/contracts';
import { describeError } from '@leakwatch/errors';
import type { Logger } from '@leakwatch/logger';
import type { Partner, WebhookDelivery } from '@leakwatch/partners';
import { firstDelay, nextStep } from './schedule.js';
import { createWebhookSender, type AttemptResult, type WebhookSender } from './sender.js';
import { signerFor, webhookBody, webhookHeaders, webhookId, type WebhookSigner } from './signing.js';
import type { ClaimedDelivery, DeliveryStore, EnqueueResult, Settlement } from './store.js';

/** Outcome labels of leakwatch_webhook_deliveries_total. */
export type DeliveryOutcomeLabel = 'accepted' | 'failed' | 'dead_lettered' | 'refused';

/** What the dispatcher reports; the service binds it to prom-client. */
export interface DeliveryMetrics {
  delivery(partnerId: string, outcome: DeliveryOutcomeLabel): void;
  /** Alert detected -> partner answered 2xx, in seconds. */
  latency(partnerId: string, seconds: number): void;
}

export interface WebhookDispatcherOptions {
  store: DeliveryStore;
  /** Partners with a webhook; others are ignored. */
  partners: readonly Partner[];
  logger: Logger;
  metrics?: DeliveryMetrics;
  /** Requests in flight per partner, per dispatcher instance. Default 32. */
  concurrency?: number;
  /** Pending deliveries per partner before new ones overflow to its dead-letter list. Default 100,000. */
  maxQueue?: number;
  /** A claimed delivery is leased for its timeout plus this much. Default 10 s. */
  leaseMarginMs?: number;
  /** How often a partner's schedule is read when nothing woke it (other instances' work). Default 1 s. */
  pollMs?: number;
  now?: () => number;
  random?: () => number;
  /** Tests: replaces the HTTP client of every partner. */
  createSender?: (webhook: WebhookDelivery, maxSockets: number) => WebhookSender;
}

/** What `enqueue` did with a batch of alerts. */
export interface EnqueueSummary {
  queued: number;
  duplicate: number;
  overflow: number;
}

const noMetrics: DeliveryMetrics = { delivery: () => undefined, latency: () => undefined };

/**
 * Sends partners their webhooks from the durable schedule in Redis: one loop per partner with its
 * own connection pool and concurrency bound, so a slow or dead partner only ever waits on itself.
 */
export class WebhookDispatcher {
  readonly #options: LoopOptions;
  readonly #loops = new Map<string, PartnerLoop>();
  #running: Promise<void>[] = [];
  #closing: Promise<void> | undefined;

  constructor(options: WebhookDispatcherOptions) {
    this.#options = {
      store: options.store,
      partners: options.partners,
      logger: options.logger,
      metrics: options.metrics ?? noMetrics,
      concurrency: options.concurrency ?? 32,
      maxQueue: options.maxQueue ?? 100_000,
      leaseMarginMs: options.leaseMarginMs ?? 10_000,
      pollMs: options.pollMs ?? 1000,
      now: options.now ?? Date.now,
      random: options.random ?? Math.random,
    };
    const makeSender =
      options.createSender ??
      ((webhook: WebhookDelivery, maxSockets: number) =>
        createWebhookSender({ allowPrivateNetwork: webhook.allowPrivateNetwork, maxSockets }));
    for (const partner of options.partners) {
      if (!partner.delivery.webhook) continue;
      this.#loops.set(
        partner.partnerId,
        new PartnerLoop(partner.partnerId, partner.delivery.webhook, this.#options, makeSender),
      );
    }
  }

  /** Partners this dispatcher sends webhooks to. */
  get partnerIds(): string[] {
    return [...this.#loops.keys()];
  }

  /** Starts one loop per partner. */
  start(): void {
    this.#running = [...this.#loops.values()].map((loop) => loop.run());
  }

  /**
   * Durably schedules the webhooks of these alerts (one per alert and partner), then wakes the
   * partners' loops. Idempotent: an alert scheduled, dead-lettered or accepted before is left as
   * it is. `validated`: the alerts are as the alert decoder returned them (checked once, there).
   * @throws LeakwatchError REDIS_UNAVAILABLE (retryable): nothing can be assumed scheduled; retry.
   */
  async enqueue(
    items: readonly { partnerId: string; alert: SuspiciousChargeAlert }[],
    options: { validated?: boolean } = {},
  ): Promise<EnqueueSummary> {
    const { store, now, random, maxQueue, logger, metrics } = this.#options;
    const byPartner = new Map<string, SuspiciousChargeAlert[]>();
    for (const { partnerId, alert } of items) {
      if (!this.#loops.has(partnerId)) continue;
      const list = byPartner.get(partnerId);
      if (list) list.push(alert);
      else byPartner.set(partnerId, [alert]);
    }
    const summary: EnqueueSummary = { queued: 0, duplicate: 0, overflow: 0 };
    const at = now();
    await Promise.all(
      [...byPartner].map(async ([partnerId, alerts]) => {
        const loop = this.#loops.get(partnerId) as PartnerLoop;
        const deliveries = alerts.map((alert) => ({
          id: webhookId(partnerId, alert.alertId),
          alertId: alert.alertId,
          detectedAt: alert.detectedAt,
          enqueuedAt: at,
          body: webhookBody(alert, options.validated),
          dueAt: at + firstDelay(loop.webhook.retrySchedule, random()),
        }));
        // Free request slots are leased the new deliveries in the same script, and they are sent
        // from memory: no claim round trip, no body read back from Redis. The rest wait in the
        // schedule for the loop, as before.
        const reserved = loop.reserve(deliveries.length);
        let results: EnqueueResult[];
        try {
          results = await store.enqueue(partnerId, deliveries, {
            now: at,
            maxQueue,
            ...(reserved > 0 ? { lease: { limit: reserved, leaseMs: loop.leaseMs } } : {}),
          });
          results.forEach((result, i) => {
            const delivery = deliveries[i] as (typeof deliveries)[number];
            summary[result === 'leased' ? 'queued' : result] += 1;
            if (result === 'leased') loop.startLeased({ ...delivery, tries: 1 });
            else if (result === 'overflow') {
              metrics.delivery(partnerId, 'dead_lettered');
              logger.warn(
                { partner: partnerId, alertId: delivery.alertId, maxQueue },
                'partner queue full: delivery put on the dead-letter list (replay it later)',
              );
            }
          });
        } finally {
          loop.release(reserved);
        }
        if (results.includes('queued')) loop.wake();
      }),
    );
    return summary;
  }

  /** Wakes a partner's loop now (after `partners enable` or `replay` from this process). */
  wake(partnerId: string): void {
    this.#loops.get(partnerId)?.wake();
  }

  /** Stops claiming, waits for requests in flight to finish and be recorded. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const loop of this.#loops.values()) loop.stop();
      await Promise.all(this.#running);
      await Promise.all([...this.#loops.values()].map((loop) => loop.sender.close()));
    })();
    return this.#closing;
  }
}

type LoopOptions = Required<Omit<WebhookDispatcherOptions, 'createSender' | 'metrics'>> & {
  metrics: DeliveryMetrics;
};

/** Outcomes recorded per settle script, at most. */
const SETTLE_BATCH = 500;

type SettleItem = Parameters<DeliveryStore['settleMany']>[1][number];

/** One partner's loop: claim what is due (up to the free slots), send, record, repeat. */
class PartnerLoop {
  readonly partnerId: string;
  readonly webhook: WebhookDelivery;
  readonly sender: WebhookSender;
  readonly #signer: WebhookSigner;
  readonly #options: LoopOptions;
  readonly #logger: Logger;
  readonly #inFlight = new Set<Promise<void>>();
  readonly leaseMs: number;
  /** Slots promised to an enqueue in progress (see reserve). */
  #reserved = 0;
  readonly #toRecord: { item: SettleItem; done: () => void }[] = [];
  #recording = false;
  #stopping = false;
  #wakeUp: (() => void) | undefined;
  #woken = false;

  constructor(
    partnerId: string,
    webhook: WebhookDelivery,
    options: LoopOptions,
    makeSender: (webhook: WebhookDelivery, maxSockets: number) => WebhookSender,
  ) {
    this.partnerId = partnerId;
    this.webhook = webhook;
    this.#options = options;
    this.#signer = signerFor(webhook);
    this.sender = makeSender(webhook, options.concurrency);
    this.#logger = options.logger.child({ partner: partnerId });
    this.leaseMs = webhook.timeoutMs + options.leaseMarginMs;
  }

  wake(): void {
    this.#woken = true;
    this.#wakeUp?.();
  }

  stop(): void {
    this.#stopping = true;
    this.wake();
  }

  /**
   * Promises up to `wanted` free request slots to an enqueue about to lease deliveries; the loop
   * does not claim into them meanwhile. None once stopping. Give them back with `release`.
   */
  reserve(wanted: number): number {
    if (this.#stopping) return 0;
    const free = this.#options.concurrency - this.#inFlight.size - this.#reserved;
    const granted = Math.max(0, Math.min(wanted, free));
    this.#reserved += granted;
    return granted;
  }

  release(reserved: number): void {
    this.#reserved -= reserved;
  }

  /** Sends a delivery the enqueue leased to this process (its slot was reserved). */
  startLeased(delivery: ClaimedDelivery): void {
    this.#start(delivery);
  }

  async run(): Promise<void> {
    const { store, concurrency, pollMs, now } = this.#options;
    let failures = 0;
    while (!this.#stopping) {
      this.#woken = false;
      let waitMs = pollMs;
      const free = concurrency - this.#inFlight.size - this.#reserved;
      if (free > 0) {
        try {
          const at = now();
          const { claimed, nextDueAt } = await store.claim(this.partnerId, {
            now: at,
            limit: free,
            leaseMs: this.leaseMs,
          });
          failures = 0;
          for (const delivery of claimed) this.#start(delivery);
          if (nextDueAt !== null) waitMs = Math.max(0, Math.min(pollMs, nextDueAt - now()));
          // every slot taken: a finished request wakes us
          if (claimed.length === free) waitMs = pollMs;
        } catch (error) {
          failures += 1;
          waitMs = Math.min(pollMs * 2 ** failures, 10_000);
          this.#logger.warn({ err: error, retryInMs: waitMs }, 'reading the delivery schedule failed');
        }
      }
      if (this.#stopping) break;
      if (!this.#woken) await this.#sleep(waitMs);
      // Requests finishing in the same I/O phase each free a slot: claim for all of them at once.
      await yieldToIo();
    }
    await Promise.all(this.#inFlight);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wakeUp = () => {
        this.#wakeUp = undefined;
        done();
      };
    });
  }

  #start(delivery: ClaimedDelivery): void {
    const task = this.#attempt(delivery).finally(() => {
      this.#inFlight.delete(task);
      this.wake();
    });
    this.#inFlight.add(task);
  }

  async #attempt(delivery: ClaimedDelivery): Promise<void> {
    const { now, random, metrics } = this.#options;
    const headers = webhookHeaders(this.#signer, delivery.id, delivery.body, now());
    let result: AttemptResult;
    try {
      result = await this.sender.send({
        url: this.webhook.url,
        headers,
        body: delivery.body,
        timeoutMs: this.webhook.timeoutMs,
      });
    } catch (error) {
      result = { kind: 'failed', status: null, error: describeError(error), retryAfterMs: null };
    }
    const at = now();
    const log = { webhookId: delivery.id, alertId: delivery.alertId, tries: delivery.tries };
    let settlement: Settlement;
    switch (result.kind) {
      case 'accepted':
        settlement = { kind: 'accepted' };
        metrics.delivery(this.partnerId, 'accepted');
        metrics.latency(this.partnerId, Math.max(0, at - delivery.detectedAt) / 1000);
        break;
      case 'gone':
        settlement = { kind: 'disable', reason: `HTTP 410 at try ${delivery.tries}` };
        metrics.delivery(this.partnerId, 'failed');
        this.#logger.warn(
          log,
          `endpoint answered 410 Gone: disabled until "leakwatch partners enable ${this.partnerId}"`,
        );
        break;
      default: {
        metrics.delivery(this.partnerId, result.kind === 'refused' ? 'refused' : 'failed');
        const retryAfterMs = result.kind === 'failed' ? result.retryAfterMs : null;
        const step = nextStep(this.webhook.retrySchedule, delivery.tries, random(), retryAfterMs);
        if (step.kind === 'dead') {
          settlement = { kind: 'dead', reason: result.error };
          metrics.delivery(this.partnerId, 'dead_lettered');
          this.#logger.warn({ ...log, error: result.error }, 'delivery failed its last try: dead-lettered');
        } else {
          settlement = { kind: 'retry', dueAt: at + step.delayMs };
          this.#logger.info(
            { ...log, error: result.error, retryInMs: step.delayMs },
            result.kind === 'refused' ? 'delivery refused by the SSRF guard' : 'delivery failed; will retry',
          );
        }
      }
    }
    const outcome = {
      at,
      outcome:
        result.kind === 'gone'
          ? ('gone' as const)
          : settlement.kind === 'dead'
            ? ('dead_lettered' as const)
            : result.kind,
      ...('status' in result ? { status: result.status } : {}),
      ...('error' in result ? { error: result.error } : {}),
    };
    await this.#record({ delivery, settlement, outcome });
  }

  /**
   * Records a try's outcome together with the others that finished meanwhile: one settle script
   * per batch, not per delivery. Resolves once it is recorded (or given up on: the lease then
   * runs out and the delivery is tried again, and the receiver drops the repeat by webhook-id).
   */
  #record(item: SettleItem): Promise<void> {
    return new Promise((done) => {
      this.#toRecord.push({ item, done });
      if (!this.#recording) {
        this.#recording = true;
        // deliveries answered in the same I/O phase are recorded together
        setImmediate(() => void this.#recordAll());
      }
    });
  }

  async #recordAll(): Promise<void> {
    while (this.#toRecord.length > 0) {
      const batch = this.#toRecord.splice(0, SETTLE_BATCH);
      // Recording must land, or the lease runs out and the delivery is sent again: keep trying a while.
      for (let attempt = 1; ; attempt++) {
        try {
          await this.#options.store.settleMany(
            this.partnerId,
            batch.map((b) => b.item),
          );
          break;
        } catch (error) {
          if (attempt >= 5) {
            this.#logger.error(
              { err: error, webhookIds: batch.map((b) => b.item.delivery.id) },
              'could not record delivery outcomes; they will be tried again when their leases end',
            );
            break;
          }
          await sleep(200 * 2 ** attempt);
        }
      }
      for (const { done } of batch) done();
    }
    this.#recording = false;
  }
}
