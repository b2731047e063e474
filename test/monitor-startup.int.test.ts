import { createServer, type AddressInfo } from 'node:net';
import { createRootLogger } from '@leakwatch/logger';
import { loadEnv, startMonitor } from '@leakwatch/monitor-service';
import { integrationTest as it } from '@leakwatch/testing';
import { describe, expect, vi } from 'vitest';
import { captureLines, getOps, monitorEnv, watchedIncident } from './support/monitor-harness.js';
import { hostPortOf, TcpProxy, throughProxy } from './support/tcp-proxy.js';

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
