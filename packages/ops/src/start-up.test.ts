import { LeakwatchError } from '@leakwatch/errors';
import { describe, expect, it } from 'vitest';
import { OpenedResources, untilAvailable } from './start-up.js';

const quiet = { warn: () => undefined };

/** A wait that returns at once and records how long it was asked for. */
function fakeWait() {
  const waits: number[] = [];
  return { waits, wait: (ms: number) => Promise.resolve(void waits.push(ms)) };
}

describe('untilAvailable', () => {
  it('calls the step afresh after each failure that can heal, backing off, until it works', async () => {
    const { waits, wait } = fakeWait();
    let calls = 0;
    const value = await untilAvailable(
      'redis',
      quiet,
      new AbortController().signal,
      () =>
        ++calls < 5
          ? Promise.reject(new LeakwatchError('REDIS_UNAVAILABLE', 'loading'))
          : Promise.resolve('up'),
      { wait, initialMs: 250, maxMs: 1000 },
    );
    expect(value).toBe('up');
    expect(calls).toBe(5);
    expect(waits).toEqual([250, 500, 1000, 1000]);
  });

  it('retries an encoder or consumer start that kafkajs marks retriable', async () => {
    const { wait } = fakeWait();
    let calls = 0;
    const retriable = Object.assign(new Error('broker not available'), { retriable: true });
    await untilAvailable(
      'kafka',
      quiet,
      new AbortController().signal,
      () => (++calls < 2 ? Promise.reject(retriable) : Promise.resolve()),
      { wait },
    );
    expect(calls).toBe(2);
  });

  it('gives up at once on a failure that cannot heal', async () => {
    const { waits, wait } = fakeWait();
    const refused = new LeakwatchError('CONFIG_INVALID', 'eviction policy allkeys-lru');
    await expect(
      untilAvailable('redis', quiet, new AbortController().signal, () => Promise.reject(refused), { wait }),
    ).rejects.toBe(refused);
    expect(waits).toEqual([]);
  });

  it('stops retrying once aborted during a wait', async () => {
    const abort = new AbortController();
    let calls = 0;
    const down = new LeakwatchError('REDIS_UNAVAILABLE', 'down');
    await expect(
      untilAvailable('redis', quiet, abort.signal, () => (++calls, Promise.reject(down)), {
        wait: () => Promise.resolve(abort.abort()),
      }),
    ).rejects.toBe(down);
    expect(calls).toBe(1);
  });
});

describe('OpenedResources', () => {
  it('closes everything newest first, even when one close fails', async () => {
    const closed: string[] = [];
    const warned: unknown[] = [];
    const opened = new OpenedResources({ warn: (obj: unknown) => void warned.push(obj) });
    opened.add('rules watcher', () => Promise.resolve(closed.push('rules')));
    opened.add('redis', () => Promise.reject(new Error('already closed')));
    opened.add('http server', () => Promise.resolve(closed.push('http')));
    expect(opened.names).toEqual(['rules watcher', 'redis', 'http server']);
    await opened.closeAll();
    expect(closed).toEqual(['http', 'rules']);
    expect(warned).toHaveLength(1);
    expect(opened.names).toEqual([]);
    await opened.closeAll();
    expect(closed).toEqual(['http', 'rules']);
  });
});
