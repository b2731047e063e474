import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isLeakwatchError } from '@leakwatch/errors';
import { LeakStore } from './leak-store.js';

/*
 * Start-up against a Redis of the test's own (redis-server on a port of this file's range),
 * which it can start late or configure badly without touching the shared stack.
 */

const PORT_START_LATE = 21571;

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

describe('LeakStore start-up', () => {
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
});
