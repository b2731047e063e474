import type {
  AlertConsumerMetrics,
  DeliveryMetrics,
  DeliveryStore,
  PartnerStatus,
} from '@leakwatch/delivery';
import type { RedisClient } from '@leakwatch/redis';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface DispatcherMetrics {
  delivery: DeliveryMetrics;
  consumer: AlertConsumerMetrics;
}

/**
 * The dispatcher's metrics (names fixed for the ops pack's rules and dashboards). Queue depth,
 * oldest pending, dead letters and disabled endpoints are read from Redis at scrape time, so they
 * are right whichever instance did the work; a scrape never waits long on a Redis that is away.
 */
export function createDispatcherMetrics(
  registry: Registry,
  source: { store: DeliveryStore; redis: RedisClient; partnerIds: readonly string[]; now?: () => number },
): DispatcherMetrics {
  const now = source.now ?? Date.now;
  const deliveries = new Counter({
    name: 'leakwatch_webhook_deliveries_total',
    help: 'Webhook tries by partner and outcome: accepted (2xx), failed (non-2xx, timeout, error), refused (SSRF guard), dead_lettered (moved to the dead-letter list).',
    labelNames: ['partner', 'outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'leakwatch_webhook_delivery_latency_seconds',
    help: 'From alert detected to the partner answering 2xx, retries included.',
    labelNames: ['partner'] as const,
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 1800, 7200, 36000, 129600],
    registers: [registry],
  });
  const partnerTopic = new Counter({
    name: 'leakwatch_partner_topic_alerts_total',
    help: "Alerts written to a partner's own topic.",
    labelNames: ['partner'] as const,
    registers: [registry],
  });
  const poison = new Counter({
    name: 'leakwatch_dead_letters_total',
    help: 'Messages that could not be processed, by reason (the dispatcher: records on the alerts topic that are not alerts, skipped).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });

  let statuses: PartnerStatus[] = [];
  let read: Promise<void> | undefined;
  /** One Redis read per scrape for all four gauges, at most 1 s; the last values otherwise. */
  async function refresh(): Promise<void> {
    if (source.redis.status !== 'ready') return;
    read ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      try {
        statuses = await Promise.race([
          Promise.all(source.partnerIds.map((id) => source.store.status(id))),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('status read timed out')), 1000);
          }),
        ]);
      } catch {
        /* keep the last values; readiness reports Redis */
      } finally {
        clearTimeout(timer);
        read = undefined;
      }
    })();
    await read;
  }
  const gauge = (name: string, help: string, value: (s: PartnerStatus) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['partner'] as const,
      registers: [registry],
      async collect() {
        await refresh();
        this.reset();
        for (const status of statuses) this.set({ partner: status.partnerId }, value(status));
      },
    });
  gauge(
    'leakwatch_delivery_queue_depth',
    'Webhook deliveries pending (scheduled or in flight), per partner.',
    (s) => s.queueDepth,
  );
  gauge(
    'leakwatch_delivery_oldest_pending_seconds',
    'Age of the oldest pending webhook delivery, per partner (0 when none).',
    (s) => (s.oldestPendingAt === null ? 0 : Math.max(0, now() - s.oldestPendingAt) / 1000),
  );
  gauge(
    'leakwatch_delivery_dead_letters',
    "Length of the partner's webhook dead-letter list.",
    (s) => s.deadLetters,
  );
  gauge(
    'leakwatch_webhook_endpoint_disabled',
    '1 while a partner endpoint is disabled after a 410, until `leakwatch partners enable`.',
    (s) => (s.disabled === null ? 0 : 1),
  );

  return {
    delivery: {
      delivery: (partner, outcome) => deliveries.inc({ partner, outcome }),
      latency: (partner, seconds) => latency.observe({ partner }, seconds),
    },
    consumer: {
      partnerTopicAlert: (partner, count) => partnerTopic.inc({ partner }, count),
      poison: (reason) => poison.inc({ reason }),
    },
  };
}
