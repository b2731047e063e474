import { randomUUID } from 'node:crypto';
import type { AlertView, DispositionOrigin } from '@leakwatch/alert-view';
import type {
  AlertDisposition,
  Disposition,
  RecordDecoder,
  SuspiciousChargeAlert,
} from '@leakwatch/contracts';
import { DISPOSITION_PARTNER_HEADER, dispositionSource } from '@leakwatch/dispositions';
import type { Logger } from '@leakwatch/logger';
import type { Consumer, IHeaders, Kafka } from 'kafkajs';

export interface FeedOptions {
  kafka: Kafka;
  topics: { alerts: string; dispositions: string };
  view: AlertView;
  alertDecoder: RecordDecoder<SuspiciousChargeAlert>;
  dispositionDecoder: RecordDecoder<AlertDisposition>;
  logger: Logger;
  /** A new alert or disposition after start-up (for the live stream). */
  onAlert?: (alert: SuspiciousChargeAlert) => void;
  onDisposition?: (disposition: AlertDisposition) => void;
  /**
   * Every issuer's disposition read, during the rebuild too (replays included: the callee must
   * be idempotent), with the state it found before; awaited before the batch is done.
   */
  onPartnerDisposition?: (
    disposition: AlertDisposition,
    origin: DispositionOrigin,
    before: Disposition | null,
  ) => Promise<void>;
}

/** Who wrote a disposition message, from its headers (dispositions package). */
function dispositionOrigin(headers: IHeaders | undefined): DispositionOrigin {
  const source = dispositionSource(headers ?? {});
  const raw = headers?.[DISPOSITION_PARTNER_HEADER];
  const partnerId = (Array.isArray(raw) ? raw[0] : raw)?.toString() ?? null;
  return { source, partnerId: source === 'partner' ? partnerId : null };
}

/**
 * Reads both topics from the beginning into the view, with a consumer group of its own per
 * instance and no commits: the view is rebuilt from Kafka on every start (the alerts topic is
 * retained, the dispositions topic is compacted by alertId), so two instances show the same
 * state and nothing but Kafka has to be durable. `caughtUp` resolves once every partition has
 * been read up to its end offset at start.
 */
export class AlertFeed {
  private consumer: Consumer | undefined;
  private readonly pending = new Map<string, bigint>();
  private resolveCaughtUp: () => void = () => undefined;
  readonly caughtUp: Promise<void>;
  isCaughtUp = false;

  constructor(private readonly options: FeedOptions) {
    this.caughtUp = new Promise((resolve) => {
      this.resolveCaughtUp = () => {
        this.isCaughtUp = true;
        resolve();
      };
    });
  }

  async start(): Promise<void> {
    const { kafka, topics, view, logger } = this.options;
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const topic of [topics.alerts, topics.dispositions]) {
        for (const p of await admin.fetchTopicOffsets(topic)) {
          if (BigInt(p.high) > BigInt(p.low)) this.pending.set(`${topic}/${p.partition}`, BigInt(p.high));
        }
      }
    } finally {
      await admin.disconnect();
    }
    if (this.pending.size === 0) this.resolveCaughtUp();
    const consumer = kafka.consumer({
      groupId: `leakwatch-console-${randomUUID()}`,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.alerts, topics.dispositions], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        const isAlerts = batch.topic === topics.alerts;
        const values = batch.messages.map((m) => m.value);
        if (isAlerts) {
          const decoded = await this.options.alertDecoder.decodeBatch(values);
          for (const result of decoded) {
            if (!result.ok) {
              logger.warn({ code: result.code, topic: batch.topic }, 'undecodable alert skipped');
              continue;
            }
            if (view.applyAlert(result.value) && this.isCaughtUp) this.options.onAlert?.(result.value);
          }
        } else {
          const decoded = await this.options.dispositionDecoder.decodeBatch(values);
          const audits: Promise<void>[] = [];
          decoded.forEach((result, i) => {
            if (!result.ok) {
              logger.warn({ code: result.code, topic: batch.topic }, 'undecodable disposition skipped');
              return;
            }
            const origin = dispositionOrigin(batch.messages[i]?.headers);
            const before = view.disposition(result.value.alertId)?.disposition ?? null;
            if (origin.source === 'partner' && this.options.onPartnerDisposition)
              audits.push(this.options.onPartnerDisposition(result.value, origin, before));
            if (view.applyDisposition(result.value, origin) && this.isCaughtUp)
              this.options.onDisposition?.(result.value);
          });
          await Promise.all(audits);
        }
        const last = batch.messages.at(-1);
        const key = `${batch.topic}/${batch.partition}`;
        const target = this.pending.get(key);
        if (last && target !== undefined && BigInt(last.offset) + 1n >= target) {
          this.pending.delete(key);
          if (this.pending.size === 0 && !this.isCaughtUp) {
            logger.info({ alerts: view.size }, 'view rebuilt from Kafka');
            this.resolveCaughtUp();
          }
        }
      },
    });
  }

  async close(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
