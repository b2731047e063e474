import { createKeyring } from '@leakwatch/card';
import {
  createAlertEncoder,
  createAuthorizationDecoder,
  createSchemaRegistry,
  registerContractSchemas,
  valueSubject,
} from '@leakwatch/contracts';
import {
  adminOffsetSource,
  compressionType,
  ConsumerLagTracker,
  createKafka,
  ensureTopics,
  registerConsumerLagMetrics,
} from '@leakwatch/kafka';
import {
  LeakStore,
  type WatchFilter,
  registerWatchFilterMetrics,
  registerWatchListMetrics,
} from '@leakwatch/leak-store';
import { createRootLogger, type Logger } from '@leakwatch/logger';
import {
  createMetricsRegistry,
  createOpsServer,
  OpenedResources,
  packageVersion,
  registerBuildInfo,
  runIfProcessEntry,
  runServiceProcess,
  untilAvailable,
} from '@leakwatch/ops';
import { loadPartners } from '@leakwatch/partners';
import { AuthorizationMonitor, CardHistory, createMonitorMetrics } from '@leakwatch/pipeline';
import { createRedisClient, PipelineRunner } from '@leakwatch/redis';
import { openRuleSetSource } from '@leakwatch/rules';
import { Gauge } from 'prom-client';
import { loadEnv, type MonitorConfig } from './env.js';
import { watchFilterFromEnv } from './watch-filter.js';

export interface MonitorHandle {
  /** Port of /metrics, /healthz and /readyz. */
  httpPort: number;
  monitor: AuthorizationMonitor;
  /** The in-process watch filter; null when LEAKWATCH_WATCH_FILTER is false. */
  watchFilter: WatchFilter | null;
  /** Stops in the documented order; idempotent (returns the same promise). */
  close(): Promise<void>;
}

/**
 * Builds every part from the configuration and starts consuming. Shutdown order, written once:
 * stop fetching and finish the batch in hand (commit), flush the producer, stop the rules
 * watcher, quit Redis, close HTTP.
 */
export async function startMonitor(
  config: MonitorConfig,
  options: MonitorStartOptions = {},
): Promise<MonitorHandle> {
  const logger =
    options.logger ?? createRootLogger({ name: 'monitor', level: config.env.LEAKWATCH_LOG_LEVEL });
  // a start-up that fails halfway closes what it opened (HTTP server, Redis, rules watcher)
  const opened = new OpenedResources(logger);
  try {
    return await buildAndStart(config, { ...options, logger }, opened);
  } catch (error) {
    await opened.closeAll();
    throw error;
  }
}

export interface MonitorStartOptions {
  logger?: Logger;
  signal?: AbortSignal;
  /** Where `{ env: NAME }` webhook secrets of the partners file are read; default process.env. */
  secretEnv?: Readonly<Record<string, string | undefined>>;
  /** The consumer crashed for good: the process should stop (non-zero) and be restarted. */
  onFatal?: (error: unknown) => void;
}

async function buildAndStart(
  config: MonitorConfig,
  options: MonitorStartOptions & { logger: Logger },
  opened: OpenedResources,
): Promise<MonitorHandle> {
  const { env, topics } = config;
  const { logger } = options;
  const signal = options.signal ?? new AbortController().signal;
  const keyring = createKeyring(env.LEAKWATCH_FINGERPRINT_KEYS);
  const registry = createMetricsRegistry('monitor');
  const metrics = createMonitorMetrics(registry);

  const rules = await openRuleSetSource({
    ...(env.LEAKWATCH_RULES_FILE ? { path: env.LEAKWATCH_RULES_FILE } : {}),
    logger: logger.child({ component: 'rules' }),
    onReload: (next, previous) =>
      logger.info({ ruleSetVersion: next.version, previous: previous.version }, 'rules reloaded'),
  });
  opened.add('rules watcher', () => rules.close());
  const ruleSetInfo = new Gauge({
    name: 'leakwatch_rule_set_info',
    help: 'The rule set in force (value 1), by its version.',
    labelNames: ['version'] as const,
    registers: [registry],
    collect() {
      this.reset();
      this.set({ version: rules.current().version }, 1);
    },
  });
  void ruleSetInfo;
  registerBuildInfo(registry, {
    service: 'monitor',
    version: packageVersion(new URL('../package.json', import.meta.url)),
    ruleSetVersion: () => rules.current().version,
  });
  const partners = await loadPartners(env.LEAKWATCH_PARTNERS_FILE, {
    env: options.secretEnv ?? process.env,
  });
  logger.info(
    {
      ruleSetVersion: rules.current().version,
      rulesSource: rules.current().source,
      partners: partners.partners.length,
      keyIds: keyring.keyIds,
    },
    'configuration loaded',
  );

  const redis = createRedisClient(config.redis, { connectionName: 'leakwatch-monitor' });
  redis.on('error', (error: Error) => logger.debug({ err: error }, 'redis connection error'));
  opened.add('redis', () => redis.quit().catch(() => redis.disconnect()));
  const leakStore = new LeakStore({
    redis,
    keyPrefix: env.LEAKWATCH_REDIS_KEY_PREFIX,
    logger: logger.child({ component: 'leak-store' }),
  });
  opened.add('leak store', () => leakStore.close());
  const history = new CardHistory(new PipelineRunner(redis), { keyPrefix: env.LEAKWATCH_REDIS_KEY_PREFIX });
  // leakwatch_watched_cards{incident}, leakwatch_watched_incidents, leakwatch_watched_cards_all
  registerWatchListMetrics(registry, leakStore, { ready: () => redis.status === 'ready' });

  const schemaRegistry = createSchemaRegistry({
    ...config.registry,
    clientId: 'leakwatch-monitor',
    requestTimeoutMs: 5000,
  });
  const kafka = createKafka(config.kafka, logger);

  // the monitor is built after the HTTP server, which must answer /healthz during start-up
  const started: { monitor?: AuthorizationMonitor } = {};
  const ops = createOpsServer({
    port: env.LEAKWATCH_HTTP_PORT,
    host: env.LEAKWATCH_HTTP_HOST,
    registry,
    logger: logger.child({ component: 'http' }),
    readiness: () => {
      const redisOk = redis.status === 'ready';
      const consuming = started.monitor?.readiness() ?? { ok: false, detail: 'starting' };
      // /readyz shows codes only (the monitor state); the retry log lines carry the error itself
      return {
        ready: redisOk && consuming.ok,
        checks: [
          { name: 'redis', ok: redisOk, detail: redis.status },
          { name: 'consumer', ok: consuming.ok, detail: started.monitor?.state ?? 'starting' },
        ],
      };
    },
  });
  const httpPort = await ops.start();
  opened.add('http server', () => ops.close());

  await untilAvailable('redis', logger, signal, () => leakStore.start());
  // Clean cards are answered in memory; only the filter's candidates reach Redis, the truth.
  // It loads in the background: until then (and whenever it is stale) lookups all go to Redis.
  const watchFilter = watchFilterFromEnv(env, leakStore, logger);
  if (watchFilter) {
    watchFilter.start();
    opened.add('watch filter', () => watchFilter.close());
    registerWatchFilterMetrics(registry, watchFilter);
  }
  if (env.LEAKWATCH_CREATE_TOPICS) {
    const created = await untilAvailable('kafka topics', logger, signal, () =>
      ensureTopics(
        kafka,
        [
          { topic: topics.authorizations },
          { topic: topics.deadLetters },
          { topic: topics.alerts },
          { topic: topics.dispositions, compacted: true },
        ],
        env.LEAKWATCH_TOPIC_PARTITIONS,
      ),
    );
    if (created.length > 0) logger.info({ topics: created }, 'created missing topics');
  }
  await untilAvailable('schema registry', logger, signal, () =>
    registerContractSchemas(schemaRegistry, topics),
  );
  // the monitor writes card.alerts only; the dispatcher copies alerts to partner topics
  const alertEncoder = await untilAvailable('alert encoder', logger, signal, () =>
    createAlertEncoder({ registry: schemaRegistry, subject: valueSubject(topics.alerts) }),
  );

  const monitor = new AuthorizationMonitor({
    kafka,
    topics,
    groupId: env.LEAKWATCH_MONITOR_GROUP_ID,
    partitionsConsumedConcurrently: env.LEAKWATCH_MONITOR_CONCURRENCY,
    sessionTimeoutMs: env.LEAKWATCH_MONITOR_SESSION_TIMEOUT_MS,
    compression: compressionType(env.LEAKWATCH_KAFKA_COMPRESSION),
    dependencies: {
      decoder: createAuthorizationDecoder({ registry: schemaRegistry, lookupTimeoutMs: 5000 }),
      keyring,
      watchList: watchFilter ?? leakStore,
      history,
      router: partners,
      now: Date.now,
      onLookup: (seconds) => metrics.lookup.observe(seconds),
    },
    ruleSet: () => rules.current(),
    encodeAlert: (alert) => alertEncoder.encode(alert),
    metrics,
    logger: logger.child({ component: 'monitor' }),
    ...(options.onFatal ? { onFatal: options.onFatal } : {}),
  });
  started.monitor = monitor;
  opened.add('monitor', () => monitor.close());
  await untilAvailable('kafka', logger, signal, () => monitor.start());

  // time lag and stalls from the broker's offsets, polled apart from the consumer so that a
  // stuck consumer is still seen
  const lagAdmin = kafka.admin();
  opened.add('kafka admin', () => lagAdmin.disconnect());
  await untilAvailable('kafka admin', logger, signal, () => lagAdmin.connect());
  const lag = new ConsumerLagTracker({
    source: adminOffsetSource(lagAdmin, env.LEAKWATCH_MONITOR_GROUP_ID, [topics.authorizations]),
    stallAfterMs: env.LEAKWATCH_CONSUMER_STALL_SECONDS * 1000,
  });
  registerConsumerLagMetrics(registry, lag);
  const pollLag = () =>
    lag.observe().catch((error: unknown) => logger.debug({ err: error }, 'consumer lag poll failed'));
  void pollLag();
  const lagTimer = setInterval(() => void pollLag(), 5000);
  lagTimer.unref();

  let closing: Promise<void> | undefined;
  return {
    httpPort,
    monitor,
    watchFilter,
    close() {
      closing ??= (async () => {
        logger.info('stopping: finishing the batch in hand, committing, closing');
        clearInterval(lagTimer);
        await monitor.close();
        await lagAdmin.disconnect().catch(() => undefined);
        await rules.close();
        await watchFilter?.close();
        await leakStore.close();
        await redis.quit().catch(() => redis.disconnect());
        await ops.close();
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
export async function runMonitor(
  processEnv: Record<string, string | undefined> = process.env,
): Promise<number> {
  const config = loadEnv(processEnv);
  const logger = createRootLogger({ name: 'monitor', level: config.env.LEAKWATCH_LOG_LEVEL });
  return runServiceProcess({
    name: 'monitor',
    logger,
    shutdownTimeoutMs: config.env.LEAKWATCH_SHUTDOWN_TIMEOUT_MS,
    start: ({ signal, fatal }) =>
      startMonitor(config, {
        logger,
        signal,
        secretEnv: processEnv,
        onFatal: () => fatal('the consumer crashed and will not restart'),
      }),
    startedFields: (handle) => ({ httpPort: handle.httpPort }),
  });
}

// node services/monitor/dist/main.js: SIGTERM drains, commits and exits 0
runIfProcessEntry(import.meta.url, 'monitor', () => runMonitor(process.env));
