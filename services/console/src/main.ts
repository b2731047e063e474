import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { AlertView } from '@leakwatch/alert-view';
import {
  createAlertDecoder,
  createDispositionDecoder,
  createDispositionEncoder,
  createSchemaRegistry,
  valueSubject,
  type Disposition,
} from '@leakwatch/contracts';
import { DISPOSITION_SOURCE_HEADER } from '@leakwatch/dispositions';
import { createKafka, ensureTopics } from '@leakwatch/kafka';
import { createRootLogger, type Logger } from '@leakwatch/logger';
import {
  createMetricsRegistry,
  createOpsServer,
  packageVersion,
  registerBuildInfo,
  runIfProcessEntry,
  runServiceProcess,
} from '@leakwatch/ops';
import { createRedisClient } from '@leakwatch/redis';
import { Counter, Gauge } from 'prom-client';
import { AuditLog } from './audit.js';
import { loadEnv, type ConsoleConfig } from './env.js';
import { AlertFeed } from './feed.js';
import { IncidentDirectory } from './incidents.js';
import { createConsoleServer, streamAlert } from './server.js';
import { SessionStore } from './sessions.js';
import { hashPassword, loadUsers } from './users.js';

export interface ConsoleHandle {
  /** Port of the web app. */
  port: number;
  /** Port of /metrics, /healthz, /readyz. */
  httpPort: number;
  view: AlertView;
  /** Resolves once both topics were read up to their end offsets at start. */
  caughtUp: Promise<void>;
  close(): Promise<void>;
}

export interface StartConsoleOptions {
  logger?: Logger;
}

/**
 * Starts the console: loads users, rebuilds the view from both topics (own consumer group, from
 * the beginning), serves the web app and the ops endpoints. Shutdown order: close SSE streams
 * and the web server, stop consuming, flush the producer, quit Redis, close ops HTTP.
 */
export async function startConsole(
  config: ConsoleConfig,
  options: StartConsoleOptions = {},
): Promise<ConsoleHandle> {
  const { env, topics } = config;
  const logger = options.logger ?? createRootLogger({ name: 'console', level: env.LEAKWATCH_LOG_LEVEL });
  const users = await loadUsers(env.LEAKWATCH_CONSOLE_USERS_FILE);
  const registry = createMetricsRegistry('console');
  registerBuildInfo(registry, {
    service: 'console',
    version: packageVersion(new URL('../package.json', import.meta.url)),
  });
  const dispositionsTotal = new Counter({
    name: 'leakwatch_dispositions_total',
    help: 'Dispositions written, by disposition and source.',
    labelNames: ['disposition', 'source'],
    registers: [registry],
  });
  const view = new AlertView();
  new Gauge({
    name: 'leakwatch_console_alerts_in_view',
    help: 'Alerts held in the console read model.',
    registers: [registry],
    collect() {
      this.set(view.size);
    },
  });

  const redis = createRedisClient(config.redis, {
    connectionName: 'leakwatch-console',
    maxRetriesPerRequest: 2,
  });
  redis.on('error', (error: Error) => logger.debug({ err: error }, 'redis connection error'));
  const audit = new AuditLog(redis, env.LEAKWATCH_REDIS_KEY_PREFIX);
  const schemaRegistry = createSchemaRegistry({
    ...config.registry,
    clientId: 'leakwatch-console',
    requestTimeoutMs: 5000,
  });
  const kafka = createKafka(config.kafka, logger);
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });

  await ensureTopics(kafka, [{ topic: topics.alerts }, { topic: topics.dispositions, compacted: true }]);
  await producer.connect();
  const encoder = await createDispositionEncoder({
    registry: schemaRegistry,
    subject: valueSubject(topics.dispositions),
  });

  let broadcast: (event: string, data: unknown) => void = () => undefined;
  const feed = new AlertFeed({
    kafka,
    topics,
    view,
    alertDecoder: createAlertDecoder({ registry: schemaRegistry, lookupTimeoutMs: 5000 }),
    dispositionDecoder: createDispositionDecoder({ registry: schemaRegistry, lookupTimeoutMs: 5000 }),
    logger: logger.child({ component: 'feed' }),
    onAlert: (alert) => broadcast('alert', streamAlert(alert)),
    onDisposition: (d) =>
      broadcast('disposition', { alertId: d.alertId, disposition: d.disposition, by: d.by, at: d.at }),
    onPartnerDisposition: (d, origin, before) => audit.recordPartnerDisposition(d, origin, before),
  });

  const publishDisposition = async (
    alertId: string,
    disposition: Disposition,
    by: string,
    note: string | null,
  ) => {
    const record = { alertId, disposition, by, at: Date.now(), note };
    await producer.send({
      topic: topics.dispositions,
      acks: -1,
      messages: [
        {
          key: alertId,
          value: encoder.encode(record),
          headers: { [DISPOSITION_SOURCE_HEADER]: 'console' },
        },
      ],
    });
    view.applyDisposition(record, { source: 'console', partnerId: null });
    dispositionsTotal.inc({ disposition, source: 'console' });
  };

  const incidents = new IncidentDirectory(redis, env.LEAKWATCH_REDIS_KEY_PREFIX, logger);
  const web = createConsoleServer({
    view,
    users,
    audit,
    incidents,
    logger: logger.child({ component: 'web' }),
    sessions: new SessionStore(
      redis,
      env.LEAKWATCH_REDIS_KEY_PREFIX,
      env.LEAKWATCH_CONSOLE_SESSION_TTL_MINUTES * 60_000,
    ),
    secureCookies: env.LEAKWATCH_CONSOLE_SECURE_COOKIES,
    sessionTtlMs: env.LEAKWATCH_CONSOLE_SESSION_TTL_MINUTES * 60_000,
    publishDisposition,
  });
  broadcast = web.broadcast;

  const ops = createOpsServer({
    port: env.LEAKWATCH_HTTP_PORT,
    host: env.LEAKWATCH_HTTP_HOST,
    registry,
    logger: logger.child({ component: 'http' }),
    readiness: () => ({
      ready: redis.status === 'ready' && feed.isCaughtUp,
      checks: [
        { name: 'redis', ok: redis.status === 'ready', detail: redis.status },
        { name: 'view', ok: feed.isCaughtUp, detail: feed.isCaughtUp ? `${view.size} alerts` : 'rebuilding' },
      ],
    }),
  });
  const httpPort = await ops.start();
  await feed.start();
  web.server.listen(env.LEAKWATCH_CONSOLE_PORT, env.LEAKWATCH_HTTP_HOST);
  await once(web.server, 'listening');
  const port = (web.server.address() as AddressInfo).port;
  logger.info(
    { port, httpPort, users: users.size },
    `console listening on http://${env.LEAKWATCH_HTTP_HOST}:${port}/`,
  );

  let closing: Promise<void> | undefined;
  return {
    port,
    httpPort,
    view,
    caughtUp: feed.caughtUp,
    close() {
      closing ??= (async () => {
        web.closeStreams();
        web.server.closeAllConnections();
        await new Promise<void>((resolve) => web.server.close(() => resolve()));
        await feed.close();
        await producer.disconnect();
        await incidents.close();
        await redis.quit().catch(() => redis.disconnect());
        await ops.close();
      })();
      return closing;
    },
  };
}

/**
 * The process entry: parse the environment, start, and on SIGTERM/SIGINT close and exit 0 within
 * the deadline (`runServiceProcess`).
 */
export async function runConsole(
  processEnv: Record<string, string | undefined> = process.env,
): Promise<number> {
  const config = loadEnv(processEnv);
  const logger = createRootLogger({ name: 'console', level: config.env.LEAKWATCH_LOG_LEVEL });
  return runServiceProcess({
    name: 'console',
    logger,
    shutdownTimeoutMs: config.env.LEAKWATCH_SHUTDOWN_TIMEOUT_MS,
    start: () => startConsole(config, { logger }),
    startedFields: (handle) => ({ port: handle.port, httpPort: handle.httpPort }),
  });
}

/** `leakwatch console hash-password`: reads one password from stdin, prints its scrypt hash. */
export async function runHashPassword(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (password.length === 0) {
    output.write('no password on standard input\n');
    return 2;
  }
  output.write(`${await hashPassword(password)}\n`);
  return 0;
}

// node services/console/dist/main.js: SIGTERM closes and exits 0
runIfProcessEntry(import.meta.url, 'console', () => runConsole(process.env));
