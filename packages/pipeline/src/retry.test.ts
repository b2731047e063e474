import { LeakwatchError } from '@leakwatch/errors';
import { KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { canHeal, failureCode, nextDelay, retryUntilDone, type RetryIo } from './retry.js';

describe('canHeal and failureCode', () => {
  it('retries dependencies that can heal, and nothing else', () => {
    expect(canHeal(new LeakwatchError('REDIS_UNAVAILABLE', 'down'))).toBe(true);
    expect(canHeal(new LeakwatchError('VALIDATION_FAILED', 'bad'))).toBe(false);
    const leaderMoved = new KafkaJSProtocolError({
      message: 'leader moved',
      type: 'NOT_LEADER_FOR_PARTITION',
      code: 6,
      retriable: true,
    } as unknown as Error);
    const tooLarge = new KafkaJSProtocolError({
      message: 'too large',
      type: 'MESSAGE_TOO_LARGE',
      code: 10,
      retriable: false,
    } as unknown as Error);
    expect(canHeal(leaderMoved)).toBe(true);
    expect(canHeal(tooLarge)).toBe(false);
    expect(canHeal(new KafkaJSNonRetriableError('gave up'))).toBe(false);
    expect(canHeal(new TypeError('bug'))).toBe(false);
    expect(canHeal('a string')).toBe(false);
  });

  it('counts a failure under its code, a bare Kafka error as KAFKA_UNAVAILABLE', () => {
    expect(failureCode(new LeakwatchError('REGISTRY_UNAVAILABLE', 'x'))).toBe('REGISTRY_UNAVAILABLE');
    expect(failureCode(new Error('broker'))).toBe('KAFKA_UNAVAILABLE');
  });
});

describe('nextDelay', () => {
  it('doubles with ±20% jitter and stops at the cap', () => {
    expect(nextDelay(200, { initialMs: 200, maxMs: 10_000, random: () => 0.5 })).toBe(400);
    expect(nextDelay(200, { initialMs: 200, maxMs: 10_000, random: () => 0 })).toBe(320);
    expect(nextDelay(200, { initialMs: 200, maxMs: 10_000, random: () => 0.999999 })).toBeCloseTo(480, 2);
    expect(nextDelay(8000, { initialMs: 200, maxMs: 10_000, random: () => 0.5 })).toBe(10_000);
  });
});

/** A clock that moves only when the loop sleeps; records sleeps and heartbeats. */
function fakeIo(options: { heartbeatFailsAt?: number; stopAfterSleeps?: number } = {}) {
  let now = 0;
  let running = true;
  const sleeps: number[] = [];
  let heartbeats = 0;
  const io: RetryIo = {
    active: () => running,
    now: () => now,
    sleep: (ms) => {
      sleeps.push(ms);
      now += ms;
      if (options.stopAfterSleeps !== undefined && sleeps.length >= options.stopAfterSleeps) running = false;
      return Promise.resolve();
    },
    heartbeat: () => {
      heartbeats += 1;
      if (heartbeats === options.heartbeatFailsAt) return Promise.reject(new Error('rebalancing'));
      return Promise.resolve();
    },
  };
  return { io, sleeps, heartbeats: () => heartbeats, stop: () => (running = false) };
}

const policy = { initialMs: 200, maxMs: 10_000, random: () => 0.5 };

describe('retryUntilDone', () => {
  it('returns at once when the first attempt works', async () => {
    const { io, sleeps } = fakeIo();
    const failures: unknown[] = [];
    expect(
      await retryUntilDone(
        () => Promise.resolve(7),
        io,
        policy,
        (e) => failures.push(e),
      ),
    ).toEqual({
      status: 'done',
      value: 7,
    });
    expect(sleeps).toEqual([]);
    expect(failures).toEqual([]);
  });

  it('retries the same work with growing waits, heartbeating at least once a second', async () => {
    const { io, sleeps, heartbeats } = fakeIo();
    const failures: Array<[number, number]> = [];
    let calls = 0;
    const result = await retryUntilDone(
      (n) => {
        calls += 1;
        return n <= 3 ? Promise.reject(new Error(`fail ${n}`)) : Promise.resolve('ok');
      },
      io,
      { ...policy, initialMs: 800 },
      (_e, attempt, retryInMs) => failures.push([attempt, retryInMs]),
    );
    expect(result).toEqual({ status: 'done', value: 'ok' });
    expect(calls).toBe(4);
    expect(failures).toEqual([
      [1, 800],
      [2, 1600],
      [3, 3200],
    ]);
    // waits cut into steps of at most a second, one heartbeat after each
    expect(sleeps).toEqual([800, 1000, 600, 1000, 1000, 1000, 200]);
    expect(heartbeats()).toBe(sleeps.length);
  });

  it('releases the batch when the group rebalances during a wait', async () => {
    const { io } = fakeIo({ heartbeatFailsAt: 2 });
    const result = await retryUntilDone(
      () => Promise.reject(new Error('down')),
      io,
      { ...policy, initialMs: 5000 },
      () => undefined,
    );
    expect(result).toMatchObject({ status: 'released', reason: 'rebalance' });
  });

  it('releases the batch when the monitor stops during a wait, without another attempt', async () => {
    const { io, sleeps } = fakeIo({ stopAfterSleeps: 1 });
    let calls = 0;
    const result = await retryUntilDone(
      () => {
        calls += 1;
        return Promise.reject(new Error('down'));
      },
      io,
      { ...policy, initialMs: 5000 },
      () => undefined,
    );
    expect(result).toEqual({ status: 'released', reason: 'inactive' });
    expect(calls).toBe(1);
    expect(sleeps).toEqual([1000]);
  });

  it('does not start when already inactive', async () => {
    const { io, stop } = fakeIo();
    stop();
    let calls = 0;
    const result = await retryUntilDone(
      () => Promise.resolve(++calls),
      io,
      policy,
      () => undefined,
    );
    expect(result).toEqual({ status: 'released', reason: 'inactive' });
    expect(calls).toBe(0);
  });
});
