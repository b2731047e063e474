import {
  createAlertDecoder,
  createAlertEncoder,
  createSchemaRegistry,
  ensureSchemaRegistered,
  suspiciousChargeAlertAvro,
  valueSubject,
  type RecordEncoder,
  type SuspiciousChargeAlert,
} from '@leakwatch/contracts';
import { AlertConsumer, checkWebhookUrl, DeliveryStore, WebhookDispatcher } from '@leakwatch/delivery';
import { startDispositionServices, type DispositionServices } from '@leakwatch/dispositions';
import { LeakwatchError } from '@leakwatch/errors';
import { createKafka, ensureTopics } from '@leakwatch/kafka';
import { LeakStore } from '@leakwatch/leak-store';
import { createRootLogger, type Logger } from '@leakwatch/logger';
import {
  createMetricsRegistry,
  createOpsServer,
  packageVersion,
  registerBuildInfo,
  runIfProcessEntry,
  runServiceProcess,
  untilAvailable,
} from '@leakwatch/ops';
import { loadPartners, type PartnerRouter } from '@leakwatch/partners';
import { createRedisClient } from '@leakwatch/redis';
import { loadEnv, type DispatcherConfig } from './env.js';
import { createDispatcherMetrics } from './metrics.js';

export interface DispatcherHandle {
  /** Port of /metrics, /healthz and /readyz. */
  httpPort: number;
  /** Port of the disposition intake, or null when it is off. */
  intakePort: number | null;
  partners: PartnerRouter;
  store: DeliveryStore;
  webhooks: WebhookDispatcher;
  /** Stops in the documented order; idempotent (returns the same promise). */
  close(): Promise<void>;
}

export interface StartDispatcherOptions {
  logger?: Logger;
  signal?: AbortSignal;
  /** Where `{ env: NAME }` secrets of the partners file are read; default process.env. */
  secretEnv?: Readonly<Record<string, string | undefined>>;
  /** A consumer crashed for good: the process should stop (non-zero) and be restarted. */
  onFatal?: (error: unknown) => void;
}

/**
 * The start-up half of the SSRF guard: every webhook URL is https (unless allowed) and resolves
 * to public addresses only. Refuses to start listing every problem.
 */
async function checkWebhookUrls(partners: PartnerRouter): Promise<void> {
  const problems = (
    await Promise.all(
      partners.partners.map(async (partner) => {
        const webhook = partner.delivery.webhook;
        if (!webhook) return null;
        const problem = await checkWebhookUrl(webhook.url, webhook.allowPrivateNetwork);
        return problem === null ? null : `${partner.partnerId}: webhook URL ${problem}`;
      }),
    )
  ).filter((p): p is string => p !== null);
  if (problems.length > 0) {
    throw new LeakwatchError('CONFIG_INVALID', `webhook URLs refused (${problems.join('; ')})`, {
      details: { problems },
    });
  }
}

/**
 * Builds every part and starts: the webhook loops, the alert consumer and the disposition
 * intake. Shutdown order, written once: stop the intake, stop fetching alerts and finish the
 * batch in hand (commit), let webhook tries in flight finish and be recorded, quit Redis, close
 * HTTP.
 */
export async function startDispatcher(
  config: DispatcherConfig,
  options: StartDispatcherOptions = {},
): Promise<DispatcherHandle> {
  const { env, topics } = config;
  const logger = options.logger ?? createRootLogger({ name: 'dispatcher', level: env.LEAKWATCH_LOG_LEVEL });
  const signal = options.signal ?? new AbortController().signal;
  const registry = createMetricsRegistry('dispatcher');
  registerBuildInfo(registry, {
    service: 'dispatcher',
    version: packageVersion(new URL('../package.json', import.meta.url)),
  });

  const partners = await loadPartners(env.LEAKWATCH_PARTNERS_FILE, { env: options.secretEnv ?? process.env });
  await checkWebhookUrls(partners);
  const partnerTopics = partners.partners.flatMap((p) => (p.delivery.kafka ? [p.delivery.kafka.topic] : []));
  const webhookPartners = partners.partners.filter((p) => p.delivery.webhook !== null);
  logger.info(
    {
      partners: partners.partners.length,
      partnerTopics: partnerTopics.length,
      webhooks: webhookPartners.length,
    },
    'partners loaded',
  );

  // many small independent scripts (a claim and a settle per delivery): one write per tick
  const redis = createRedisClient(config.redis, {
    connectionName: 'leakwatch-dispatcher',
    maxRetriesPerRequest: 2,
    autoPipelining: true,
  });
  redis.on('error', (error: Error) => logger.debug({ err: error }, 'redis connection error'));
  const store = new DeliveryStore({ redis, keyPrefix: env.LEAKWATCH_REDIS_KEY_PREFIX });
  const metrics = createDispatcherMetrics(registry, {
    store,
    redis,
    partnerIds: webhookPartners.map((p) => p.partnerId),
  });
  const webhooks = new WebhookDispatcher({
    store,
    partners: webhookPartners,
    logger: logger.child({ component: 'webhooks' }),
    metrics: metrics.delivery,
    concurrency: env.LEAKWATCH_DISPATCH_CONCURRENCY,
    maxQueue: env.LEAKWATCH_DISPATCH_QUEUE_MAX,
    leaseMarginMs: env.LEAKWATCH_DISPATCH_LEASE_MARGIN_MS,
    pollMs: env.LEAKWATCH_DISPATCH_POLL_MS,
  });

  const schemaRegistry = createSchemaRegistry({
    ...config.registry,
    clientId: 'leakwatch-dispatcher',
    requestTimeoutMs: 5000,
  });
  const kafka = createKafka(config.kafka, logger);
  const started: { consumer?: AlertConsumer; dispositions?: DispositionServices } = {};
  const ops = createOpsServer({
    port: env.LEAKWATCH_HTTP_PORT,
    host: env.LEAKWATCH_HTTP_HOST,
    registry,
    logger: logger.child({ component: 'http' }),
    readiness: () => {
      const redisOk = redis.status === 'ready';
      const consuming = started.consumer?.readiness() ?? { ok: false, detail: 'starting' };
      const dispositions = started.dispositions?.readiness() ?? [];
      return {
        ready: redisOk && consuming.ok && dispositions.every((d) => d.ok),
        checks: [
          { name: 'redis', ok: redisOk, detail: redis.status },
          { name: 'alert-consumer', ok: consuming.ok, detail: consuming.detail },
          ...dispositions,
        ],
      };
    },
  });
  const httpPort = await ops.start();

  const stopAll = async () => {
    await started.dispositions?.close();
    await started.consumer?.close();
    await webhooks.close();
    await redis.quit().catch(() => redis.disconnect());
    await ops.close();
  };
  try {
    await untilAvailable('redis', logger, signal, () => redis.ping());
    if (env.LEAKWATCH_CREATE_TOPICS) {
      const created = await untilAvailable('kafka topics', logger, signal, () =>
        ensureTopics(
          kafka,
          [
            { topic: topics.alerts },
            { topic: topics.dispositions, compacted: true },
            ...partnerTopics.map((topic) => ({ topic })),
          ],
          env.LEAKWATCH_TOPIC_PARTITIONS,
        ),
      );
      if (created.length > 0) logger.info({ topics: created }, 'created missing topics');
    }
    const encoders = new Map<string, RecordEncoder<SuspiciousChargeAlert>>();
    await untilAvailable('schema registry', logger, signal, async () => {
      for (const topic of partnerTopics) {
        if (encoders.has(topic)) continue;
        await ensureSchemaRegistered(schemaRegistry, suspiciousChargeAlertAvro, valueSubject(topic));
        encoders.set(
          topic,
          await createAlertEncoder({ registry: schemaRegistry, subject: valueSubject(topic) }),
        );
      }
    });

    webhooks.start();
    const consumer = new AlertConsumer({
      kafka,
      topic: topics.alerts,
      groupId: env.LEAKWATCH_DISPATCHER_GROUP_ID,
      router: partners,
      decoder: createAlertDecoder({ registry: schemaRegistry, lookupTimeoutMs: 5000 }),
      encode: (alert, topic) => {
        const encoder = encoders.get(topic);
        if (!encoder) throw new LeakwatchError('INTERNAL', `no encoder for topic ${topic}`);
        return encoder.encode(alert);
      },
      webhooks,
      logger: logger.child({ component: 'alert-consumer' }),
      metrics: metrics.consumer,
    });
    started.consumer = consumer;
    await untilAvailable('kafka', logger, signal, () => consumer.start());

    if (env.LEAKWATCH_DISPATCH_INTAKE) {
      const watchList = new LeakStore({
        redis,
        keyPrefix: env.LEAKWATCH_REDIS_KEY_PREFIX,
        logger: logger.child({ component: 'leak-store' }),
      });
      await untilAvailable('leak store', logger, signal, () => watchList.start());
      started.dispositions = await untilAvailable('dispositions', logger, signal, () =>
        startDispositionServices({
          kafka,
          redis,
          registry: schemaRegistry,
          topics,
          // beside the dispatcher's own group: instances that share it share these too
          groupIds: {
            alertIndex: `${env.LEAKWATCH_DISPATCHER_GROUP_ID}.alert-index`,
            applier: `${env.LEAKWATCH_DISPATCHER_GROUP_ID}.disposition-applier`,
          },
          keyPrefix: env.LEAKWATCH_REDIS_KEY_PREFIX,
          watchList,
          inboundSecrets: (partnerId) => partners.partner(partnerId)?.inbound?.secrets,
          intake: { port: env.LEAKWATCH_INTAKE_PORT, host: env.LEAKWATCH_HTTP_HOST },
          metrics: registry,
          logger: logger.child({ component: 'dispositions' }),
          ...(options.onFatal ? { onFatal: options.onFatal } : {}),
        }),
      );
    }
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    httpPort,
    intakePort: started.dispositions?.intakePort ?? null,
    partners,
    store,
    webhooks,
    close() {
      closing ??= (async () => {
        logger.info('stopping: intake, alert consumer (batch in hand, commit), webhook tries in flight');
        await stopAll();
        logger.info('stopped');
      })();
      return closing;
    },
  };
}

/**
 * The process entry: parse the environment (refusing bad config with every problem listed),
 * start, and on SIGTERM/SIGINT drain and exit 0 within the deadline (`runServiceProcess`).
 */
export async function runDispatcher(
  processEnv: Record<string, string | undefined> = process.env,
): Promise<number> {
  const config = loadEnv(processEnv);
  const logger = createRootLogger({ name: 'dispatcher', level: config.env.LEAKWATCH_LOG_LEVEL });
  return runServiceProcess({
    name: 'dispatcher',
    logger,
    shutdownTimeoutMs: config.env.LEAKWATCH_SHUTDOWN_TIMEOUT_MS,
    start: ({ signal, fatal }) =>
      startDispatcher(config, {
        logger,
        signal,
        secretEnv: processEnv,
        onFatal: () => fatal('a consumer crashed and will not restart'),
      }),
    startedFields: (handle) => ({ httpPort: handle.httpPort, intakePort: handle.intakePort }),
  });
}

// node services/dispatcher/dist/main.js: SIGTERM drains and exits 0
runIfProcessEntry(import.meta.url, 'dispatcher', () => runDispatcher(process.env));
