import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isLeakwatchError } from '@leakwatch/errors';
import { LeakStore } from './leak-store.js';
import { registerWatchListMetrics } from './metrics.js';

/*
 * Start-up against a Redis of the test's own (redis-server on a port of this file's range),
 * which it can start late or configure badly without touching the shared stack.
 */

const PORT_START_LATE = 21571;
const PORT_ALLKEYS_LRU = 21572;
const PORT_NO_CONFIG = 21573;
const PORT_WIPED = 21574;

const FP = (i: number) => createHash('sha256').update(`card-${i}`).digest('base64url');

/** A client that fails fast, for a server the test started. */
function clientFor(port: number): Redis {
  const redis = new Redis({ port, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
  redis.on('error', () => undefined);
  return redis;
}

/** A logger that keeps what was warned. */
function recordingLogger() {
  const warnings: { obj: object; msg: string | undefined }[] = [];
  return {
    warnings,
    info: () => undefined,
    warn: (obj: object, msg?: string) => warnings.push({ obj, msg }),
  };
}

function gauge(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

const servers: ChildProcess[] = [];

async function startRedisServer(port: number, ...args: string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', ...args], {
    stdio: 'ignore',
  });
  servers.push(child);
  const probe = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await vi.waitFor(
      async () => {
        await probe.connect().catch(() => undefined);
        expect(await probe.ping()).toBe('PONG');
      },
      { timeout: 10_000, interval: 50 },
    );
  } finally {
    probe.disconnect();
  }
  return child;
}

afterEach(async () => {
  for (const child of servers.splice(0)) {
    if (child.exitCode !== null) continue;
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

describe('LeakStore and its Redis server (a redis-server of the test)', () => {
  it('does not keep a failed start: a retry after Redis came up succeeds', async () => {
    const redis = new Redis({
      port: PORT_START_LATE,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 50,
    });
    redis.on('error', () => undefined);
    const store = new LeakStore({ redis, keyPrefix: 'lw-start-late:' });
    try {
      const first = await store.start().catch((e: unknown) => e);
      expect(isLeakwatchError(first, 'REDIS_UNAVAILABLE')).toBe(true);
      await startRedisServer(PORT_START_LATE);
      await vi.waitFor(() => expect(redis.status).toBe('ready'), { timeout: 10_000, interval: 50 });
      await store.start();
      expect(await store.lookup(['q5lJcV7mS1sSxX0t1m3Jg6aUQd0lqzv8wOQ0y6H8nZc'])).toEqual(new Map());
      // started: further calls resolve at once, and share the same attempt
      await Promise.all([store.start(), store.start()]);
    } finally {
      await store.close();
      redis.disconnect();
    }
  });

  it('refuses a Redis that may evict watched cards (maxmemory-policy allkeys-lru), saying so', async () => {
    await startRedisServer(PORT_ALLKEYS_LRU, '--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru');
    const redis = clientFor(PORT_ALLKEYS_LRU);
    const store = new LeakStore({ redis, keyPrefix: 'lw-lru:' });
    try {
      const error = await store.start().catch((e: unknown) => e);
      expect(isLeakwatchError(error, 'CONFIG_INVALID')).toBe(true);
      expect((error as Error).message).toContain(`:${PORT_ALLKEYS_LRU} has maxmemory-policy allkeys-lru`);
      expect((error as Error).message).toContain('Set maxmemory-policy noeviction');
      expect((error as { retryable: boolean }).retryable).toBe(false);
      // nothing was written under the prefix
      expect(await redis.keys('lw-lru:*')).toEqual([]);
      // volatile-* evicts only keys with a TTL, which the store never sets
      await redis.config('SET', 'maxmemory-policy', 'volatile-lru');
      await store.start();
    } finally {
      await store.close();
      redis.disconnect();
    }
  });

  it('warns and starts when CONFIG is disabled (managed Redis)', async () => {
    await startRedisServer(PORT_NO_CONFIG, '--rename-command', 'CONFIG', '""');
    const redis = clientFor(PORT_NO_CONFIG);
    const logger = recordingLogger();
    const store = new LeakStore({ redis, keyPrefix: 'lw-noconfig:', logger });
    try {
      await store.start();
      expect(logger.warnings).toHaveLength(1);
      expect(logger.warnings[0]?.msg).toContain('cannot read maxmemory-policy');
    } finally {
      await store.close();
      redis.disconnect();
    }
  });

  it('exports incidents and cards watched in total, which fall to 0 when Redis is wiped', async () => {
    await startRedisServer(PORT_WIPED);
    const redis = clientFor(PORT_WIPED);
    const store = new LeakStore({ redis, keyPrefix: 'lw-wiped:' });
    try {
      await store.start();
      const registry = new Registry();
      registerWatchListMetrics(registry, store, { ready: () => redis.status === 'ready' });
      const manifest = (incidentId: string) => ({
        incidentId,
        source: 'test',
        compromiseType: 'WEB_SKIMMING' as const,
        exposureStart: null,
        exposureEnd: null,
        disclosedAt: '2025-05-20',
        dataExposed: ['PAN' as const],
        watchUntil: null,
      });
      await store.upsertIncident(manifest('INC-1'));
      await store.upsertIncident(manifest('INC-2'));
      await store.upsertIncident(manifest('INC-OLD'));
      await store.addCards(
        'INC-1',
        [0, 1, 2].map((i) => ({ fingerprint: FP(i), expiryTag: null })),
      );
      await store.addCards(
        'INC-2',
        [2, 3].map((i) => ({ fingerprint: FP(i), expiryTag: null })),
      );
      await store.addCards(
        'INC-OLD',
        [4].map((i) => ({ fingerprint: FP(i), expiryTag: null })),
      );
      await store.retireIncident('INC-OLD');

      let text = await registry.metrics();
      expect(gauge(text, 'leakwatch_watched_incidents')).toBe(2);
      expect(gauge(text, 'leakwatch_watched_cards_all')).toBe(5);
      expect(text).toContain('leakwatch_watched_cards{incident="INC-1"} 3');
      expect(text).toContain('leakwatch_watched_cards{incident="INC-OLD"} 0');

      await redis.flushall();
      text = await registry.metrics();
      expect(gauge(text, 'leakwatch_watched_incidents')).toBe(0);
      expect(gauge(text, 'leakwatch_watched_cards_all')).toBe(0);
      expect(text).not.toContain('leakwatch_watched_cards{');
    } finally {
      await store.close();
      redis.disconnect();
    }
  });
});
