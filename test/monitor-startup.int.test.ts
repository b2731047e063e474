import { createServer, type AddressInfo } from 'node:net';
import {
  cardAuthorizationAvro,
  createSchemaRegistry,
  ensureSchemaRegistered,
  valueSubject,
} from '@leakwatch/contracts';
import { createRootLogger } from '@leakwatch/logger';
import { loadEnv, startMonitor, type MonitorHandle } from '@leakwatch/monitor-service';
import { integrationTest as it } from '@leakwatch/testing';
import { describe, expect, vi } from 'vitest';
import {
  captureLines,
  decodeAlerts,
  getOps,
  monitorEnv,
  processedCounts,
  readToEnd,
  waitUntilReady,
  watchedIncident,
} from './support/monitor-harness.js';
import { hostPortOf, TcpProxy, throughProxy } from './support/tcp-proxy.js';
import {
  expectAlertsExactlyFor,
  produceEvents,
  simulatedValue,
  trafficFor,
  watchedEventIds,
} from './support/traffic.js';

/*
 * Start-up against dependencies that are not there yet (issue 7, defects 5 and 6). Redis is
 * reached through a TCP proxy that is not listening when the monitor starts: a Redis still
 * booting, or down, as an orchestrator starting everything at once sees it.
 */

const WAIT = { timeout: 60_000, interval: 200 } as const;

/** A port nobody listens on now, so a test knows the monitor's HTTP port before start-up ends. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('monitor start-up', () => {
  it('comes up once Redis does: /healthz answers and /readyz says no meanwhile, then it is ready and processes', async ({
    endpoints,
    kafka,
    admin,
    createTopics,
    redis,
    redisPrefix,
    groupId,
    testId,
  }) => {
    const { topics, fingerprintKeys, keyring, watchedCards } = await watchedIncident({
      createTopics,
      redis,
      redisPrefix,
      testId,
    });
    const schemaId = await ensureSchemaRegistered(
      createSchemaRegistry({ url: endpoints.schemaRegistryUrl }),
      cardAuthorizationAvro,
      valueSubject(topics.authorizations),
    );
    const { generator, encodeAvro } = trafficFor({ seed: testId, keyring, watchedCards, schemaId });
    const events = generator.nextBatch(200);

    const redisProxy = await TcpProxy.start(hostPortOf(endpoints.redisUrl));
    await redisProxy.stop();
    const port = await freePort();
    const log = captureLines();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    let handle: MonitorHandle | undefined;
    const starting = startMonitor(
      loadEnv(
        monitorEnv({
          endpoints,
          topics,
          groupId,
          redisPrefix,
          fingerprintKeys,
          redisUrl: throughProxy(endpoints.redisUrl, redisProxy),
          extra: { LEAKWATCH_HTTP_PORT: String(port) },
        }),
      ),
      { logger: createRootLogger({ name: 'monitor', level: 'debug', destination: log.stream }) },
    );
    try {
      // several start-up tries fail on Redis; the process is alive, and says it is not ready
      await vi.waitFor(() => {
        const retries = log.lines.filter((l) => l.includes('redis: dependency unavailable, retrying'));
        expect(retries.length).toBeGreaterThanOrEqual(3);
      }, WAIT);
      expect((await getOps(port, '/healthz')).status).toBe(200);
      const readyz = await getOps(port, '/readyz');
      expect(readyz.status).toBe(503);

      // Redis comes up: the next try starts afresh (no failed start is remembered) and succeeds
      await redisProxy.start();
      handle = await starting;
      expect(handle.httpPort).toBe(port);
      await waitUntilReady(port, WAIT);

      await producer.connect();
      await produceEvents(producer, topics.authorizations, events, simulatedValue(encodeAvro));
      await vi.waitFor(
        async () => expect(processedCounts((await getOps(port, '/metrics')).body).total).toBe(events.length),
        WAIT,
      );
      const alerts = await decodeAlerts(
        endpoints.schemaRegistryUrl,
        await readToEnd(kafka, admin, topics.alerts),
      );
      const expected = watchedEventIds(events);
      expect(expected.length).toBeGreaterThan(10);
      expectAlertsExactlyFor(
        alerts.map((a) => a.alert),
        expected,
      );
    } finally {
      await producer.disconnect();
      await redisProxy.start();
      handle ??= await starting.catch(() => undefined);
      await handle?.close();
      await redisProxy.stop();
    }
  });

  it('a start-up stopped halfway (SIGTERM while Redis is away) closes its HTTP server', async ({
    endpoints,
    createTopics,
    redis,
    redisPrefix,
    groupId,
    testId,
  }) => {
    const { topics, fingerprintKeys } = await watchedIncident({ createTopics, redis, redisPrefix, testId });
    const redisProxy = await TcpProxy.start(hostPortOf(endpoints.redisUrl));
    await redisProxy.stop();
    const port = await freePort();
    const log = captureLines();
    const abort = new AbortController();
    const starting = startMonitor(
      loadEnv(
        monitorEnv({
          endpoints,
          topics,
          groupId,
          redisPrefix,
          fingerprintKeys,
          redisUrl: throughProxy(endpoints.redisUrl, redisProxy),
          extra: { LEAKWATCH_HTTP_PORT: String(port) },
        }),
      ),
      {
        logger: createRootLogger({ name: 'monitor', level: 'debug', destination: log.stream }),
        signal: abort.signal,
      },
    );
    try {
      await vi.waitFor(async () => expect((await getOps(port, '/healthz')).status).toBe(200), WAIT);
      abort.abort();
      await expect(starting).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE' });
      // nothing is left listening: a caller may start again on the same port
      await expect(getOps(port, '/healthz')).rejects.toThrow();
      const again = createServer();
      await new Promise<void>((resolve, reject) => {
        again.once('error', reject);
        again.listen(port, '127.0.0.1', resolve);
      });
      await new Promise<void>((resolve) => again.close(() => resolve()));
    } finally {
      const late = await starting.catch(() => undefined);
      await late?.close();
      await redisProxy.stop();
    }
  });
});
