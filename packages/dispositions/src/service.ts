import {
  createAlertDecoder,
  createDispositionDecoder,
  createDispositionEncoder,
  valueSubject,
  type ContractRegistry,
} from '@leakwatch/contracts';
import type { Logger } from '@leakwatch/logger';
import { PipelineRunner, type RedisClient } from '@leakwatch/redis';
import type { Kafka, Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import { RedisAlertIndex } from './alert-index.js';
import {
  applyDispositions,
  DISPOSITION_PARTNER_HEADER,
  DISPOSITION_SOURCE_HEADER,
  indexAlerts,
  type WatchListRemover,
} from './applier.js';
import { BatchConsumer } from './batch-consumer.js';
import { RedisDispositionStats } from './disposition-stats.js';
import { createDispositionIntake } from './intake.js';
import { RedisIntakeLedger } from './intake-ledger.js';
import { createIntakeServer } from './intake-server.js';
import { createDispositionMetrics, registerReasonVerdicts } from './metrics.js';

export interface DispositionServicesOptions {
  kafka: Kafka;
  /** The service's Redis client (single or cluster); the caller owns it and quits it after close(). */
  redis: RedisClient;
  registry: Pick<ContractRegistry, 'getSchema' | 'getRegistryIdBySchema' | 'register'>;
  topics: { alerts: string; dispositions: string };
  /** Consumer groups; defaults leakwatch-alert-index and leakwatch-disposition-applier. */
  groupIds?: { alertIndex?: string; applier?: string };
  /** LEAKWATCH_REDIS_KEY_PREFIX. */
  keyPrefix?: string;
  /** Where CARD_REISSUED takes cards off: the service's started LeakStore. */
  watchList: WatchListRemover;
  /** As DispositionIntakeOptions.inboundSecrets: from the partners file's `inbound.secrets`. */
  inboundSecrets: (partnerId: string) => readonly string[] | null | undefined;
  /** The issuer-facing port (LEAKWATCH_INTAKE_PORT, default 8088) and host. */
  intake: { port: number; host?: string };
  metrics: Registry;
  logger: Logger;
  /** How long an alert can be judged (alert index TTL); default 90 days. */
  alertTtlSeconds?: number;
  onFatal?: (error: unknown) => void;
}

export interface DispositionServices {
  intakePort: number;
  /** For /readyz of the ops server. */
  readiness(): { name: string; ok: boolean; detail: string }[];
  /** Stops in order: intake HTTP (no new writes), producer, consumers. Idempotent. */
  close(): Promise<void>;
}

/**
 * Everything of dispositions that runs inside the dispatcher: the alert indexer (consumes
 * card.alerts.v1 in its own group and keeps alertId → partner, card, incidents, reasons in
 * Redis), the signed intake on its own port, and the applier (consumes
 * card.alert-dispositions.v1 in its own group: CARD_REISSUED off the watch list, counts).
 */
export async function startDispositionServices(
  options: DispositionServicesOptions,
): Promise<DispositionServices> {
  const { kafka, logger, topics } = options;
  const runner = new PipelineRunner(options.redis);
  const metrics = createDispositionMetrics(options.metrics);
  const index = new RedisAlertIndex({
    runner,
    ...(options.keyPrefix !== undefined ? { keyPrefix: options.keyPrefix } : {}),
    ...(options.alertTtlSeconds !== undefined ? { ttlSeconds: options.alertTtlSeconds } : {}),
  });
  const stats = new RedisDispositionStats({
    runner,
    ...(options.keyPrefix !== undefined ? { keyPrefix: options.keyPrefix } : {}),
  });
  registerReasonVerdicts(options.metrics, async () => {
    // do not queue a scrape behind a reconnecting client
    if (options.redis.status !== 'ready') throw new Error('redis not ready');
    return stats.read();
  });
  const ledger = new RedisIntakeLedger({
    redis: options.redis,
    ...(options.keyPrefix !== undefined ? { keyPrefix: options.keyPrefix } : {}),
    contentTtlSeconds: index.ttlSeconds,
  });
  const encoder = await createDispositionEncoder({
    registry: options.registry,
    subject: valueSubject(topics.dispositions),
  });
  const decoderOptions = { registry: options.registry, lookupTimeoutMs: 5000 };
  const alertDecoder = createAlertDecoder(decoderOptions);
  const indexLogger = logger.child({ component: 'alert-index' });

  const indexer = new BatchConsumer({
    kafka,
    topic: topics.alerts,
    groupId: options.groupIds?.alertIndex ?? 'leakwatch-alert-index',
    logger: indexLogger,
    handle: async (messages) => {
      await indexAlerts(messages, { decoder: alertDecoder, index, logger: indexLogger });
    },
    ...(options.onFatal ? { onFatal: options.onFatal } : {}),
  });
  const applierLogger = logger.child({ component: 'disposition-applier' });
  const dispositionDecoder = createDispositionDecoder(decoderOptions);
  const applier = new BatchConsumer({
    kafka,
    topic: topics.dispositions,
    groupId: options.groupIds?.applier ?? 'leakwatch-disposition-applier',
    logger: applierLogger,
    handle: async (messages) => {
      await applyDispositions(messages, {
        decoder: dispositionDecoder,
        alerts: index,
        watchList: options.watchList,
        stats,
        logger: applierLogger,
        onApplied: (disposition, source) => metrics.dispositions.inc({ disposition, source }),
      });
    },
    ...(options.onFatal ? { onFatal: options.onFatal } : {}),
  });

  const producer: Producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
  const intakeLogger = logger.child({ component: 'disposition-intake' });
  const intake = createDispositionIntake({
    inboundSecrets: options.inboundSecrets,
    alerts: index,
    ledger,
    logger: intakeLogger,
    onOutcome: (outcome) => metrics.intakeRequests.inc({ outcome }),
    publish: async (disposition, meta) => {
      await producer.send({
        topic: topics.dispositions,
        acks: -1,
        messages: [
          {
            key: disposition.alertId,
            value: encoder.encode(disposition),
            headers: {
              [DISPOSITION_SOURCE_HEADER]: 'partner',
              [DISPOSITION_PARTNER_HEADER]: meta.partnerId,
              'lw-webhook-id': meta.webhookId,
            },
          },
        ],
      });
    },
  });
  const server = createIntakeServer({
    port: options.intake.port,
    ...(options.intake.host !== undefined ? { host: options.intake.host } : {}),
    intake,
    logger: intakeLogger,
  });

  let intakePort: number;
  try {
    await producer.connect();
    await indexer.start();
    await applier.start();
    intakePort = await server.start();
  } catch (error) {
    // leave nothing running behind a failed start (the caller may retry it)
    await server.close();
    await producer.disconnect().catch(() => undefined);
    await Promise.all([indexer.close(), applier.close()]).catch(() => undefined);
    throw error;
  }
  logger.info({ intakePort }, 'disposition intake listening');

  let closing: Promise<void> | undefined;
  return {
    intakePort,
    readiness: () => [
      { name: 'alert-index', ...indexer.readiness() },
      { name: 'disposition-applier', ...applier.readiness() },
    ],
    close() {
      closing ??= (async () => {
        await server.close();
        await producer.disconnect();
        await Promise.all([indexer.close(), applier.close()]);
      })();
      return closing;
    },
  };
}
