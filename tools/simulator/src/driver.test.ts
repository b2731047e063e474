import { describe, expect, it } from 'vitest';
import { isLeakwatchError } from '@leakwatch/errors';
import { generateCards } from './cards.js';
import { type Clock, type TrafficStats, runTraffic, systemClock } from './driver.js';
import { type SimulatedEvent, createTrafficGenerator } from './traffic.js';

const watchedCards = generateCards({ count: 100, seed: 'driver', referenceTime: Date.UTC(2025, 0, 1) });
function generator() {
  return createTrafficGenerator({
    seed: 'driver',
    watchedCards,
    watchedShare: 0.1,
    poisonShare: 0.05,
    jsonShare: 0.3,
    populationSize: 1_000,
    merchantCount: 100,
  });
}

function recorder() {
  const batches: SimulatedEvent[][] = [];
  return {
    batches,
    send: (events: SimulatedEvent[]) => {
      batches.push(events);
      return Promise.resolve();
    },
  };
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

function abortError(): Error {
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
}

/**
 * Time that moves only when the driver sleeps or a test advances it: no timers, no wall clock.
 * `onSleep` runs as a sleep starts (for an abort that arrives while the driver waits).
 */
class FakeClock implements Clock {
  time = 0;
  readonly sleeps: number[] = [];
  onSleep: ((ms: number) => void) | undefined;

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    this.onSleep?.(ms);
    if (signal?.aborted) return Promise.reject(abortError());
    this.time += ms;
    return Promise.resolve();
  }

  advance(ms: number): void {
    this.time += ms;
  }
}

describe('runTraffic', () => {
  it('stops at count, in batches of at most batchSize, counting what it sent', async () => {
    const { batches, send } = recorder();
    const progress: TrafficStats[] = [];
    const result = await runTraffic({
      generator: generator(),
      ratePerSecond: Infinity,
      count: 1_050,
      batchSize: 100,
      send,
      onProgress: (stats) => progress.push(stats),
      progressIntervalMs: 0,
    });
    expect(result.stoppedBy).toBe('count');
    expect(result.sent).toBe(1_050);
    expect(batches.map((b) => b.length)).toEqual([...new Array<number>(10).fill(100), 50]);
    const events = batches.flat();
    const auths = events.filter((e) => e.kind === 'authorization');
    expect(result.poison).toBe(events.length - auths.length);
    expect(result.poison).toBeGreaterThan(0);
    expect(result.authorizations).toBe(auths.length);
    expect(result.watched).toBe(auths.filter((e) => e.watched).length);
    expect(result.byFormat.json).toBe(auths.filter((e) => e.format === 'json').length);
    expect(result.byFormat.avro + result.byFormat.json).toBe(auths.length);
    const byKind = Object.values(result.byPoisonKind).reduce((sum, n) => sum + n, 0);
    expect(byKind).toBe(result.poison);
    expect(progress).toHaveLength(12); // every batch, then the end
    expect(progress.at(-1)).toMatchObject({ sent: 1_050 });
    expect(progress[0]!.sent).toBe(100);
  });

  it('paces to the target rate', async () => {
    const { batches, send } = recorder();
    const clock = new FakeClock();
    const result = await runTraffic({
      generator: generator(),
      ratePerSecond: 1_000,
      count: 300,
      batchSize: 50,
      send,
      clock,
    });
    // The first 50 go at once; each next 50 waits 50 ms for its tokens at 1000/s.
    expect(batches.map((b) => b.length)).toEqual([50, 50, 50, 50, 50, 50]);
    expect(clock.sleeps).toEqual([50, 50, 50, 50, 50]);
    expect(result.elapsedMs).toBe(250);
    expect(result.achievedRate).toBe(1_200);
  });

  it('sends small batches often at low rates instead of waiting for a full one', async () => {
    const { batches, send } = recorder();
    const clock = new FakeClock();
    await runTraffic({ generator: generator(), ratePerSecond: 50, count: 10, batchSize: 500, send, clock });
    // a batch waits at most 100 ms for its tokens: 5 events at 50/s
    expect(batches.map((b) => b.length)).toEqual([5, 5]);
    expect(clock.sleeps).toEqual([100]);
  });

  it('stops when the duration is up', async () => {
    const { send } = recorder();
    const clock = new FakeClock();
    const result = await runTraffic({
      generator: generator(),
      ratePerSecond: 200,
      durationMs: 300,
      batchSize: 10,
      send,
      clock,
    });
    expect(result.stoppedBy).toBe('duration');
    expect(result.elapsedMs).toBe(300);
    // 10 at once, then 10 every 50 ms up to and including the deadline
    expect(result.sent).toBe(70);
    expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(50);
  });

  it('stops on abort at once, even while waiting for tokens', async () => {
    const { send } = recorder();
    const controller = new AbortController();
    const clock = new FakeClock();
    clock.onSleep = () => controller.abort();
    const result = await runTraffic({
      generator: generator(),
      ratePerSecond: 1, // the second event is due in 1 s
      batchSize: 1,
      send,
      signal: controller.signal,
      clock,
    });
    expect(result.stoppedBy).toBe('abort');
    expect(result.sent).toBe(1);
    expect(clock.sleeps).toEqual([1_000]);
    expect(result.elapsedMs).toBe(0);
  });

  it('on the system clock, an abort ends a sleep at once and clears its timer', async () => {
    const before = timers();
    const controller = new AbortController();
    const sleeping = systemClock.sleep(60_000, controller.signal);
    expect(timers()).toBe(before + 1);
    controller.abort();
    await expect(sleeping).rejects.toMatchObject({ name: 'AbortError' });
    expect(timers()).toBe(before);
  });

  it('sends nothing when already aborted', async () => {
    const { batches, send } = recorder();
    const result = await runTraffic({
      generator: generator(),
      ratePerSecond: 100,
      batchSize: 10,
      send,
      signal: AbortSignal.abort(),
    });
    expect(result).toMatchObject({ stoppedBy: 'abort', sent: 0 });
    expect(batches).toEqual([]);
  });

  it('catches up after a stall by at most a second of traffic', async () => {
    const sizes: number[] = [];
    const clock = new FakeClock();
    const result = await runTraffic({
      generator: generator(),
      ratePerSecond: 1_000,
      count: 1_200,
      batchSize: 10_000,
      send: (events) => {
        sizes.push(events.length);
        if (sizes.length === 1) clock.advance(1_500); // the first send stalls for 1.5 s
        return Promise.resolve();
      },
      clock,
    });
    expect(result.sent).toBe(1_200);
    // 1.5 s of missed traffic, but only 1 s (1000 events) may go out at once.
    expect(sizes).toEqual([100, 1_000, 100]);
  });

  it('ends with the error of a failed send', async () => {
    const failure = new Error('broker down');
    let calls = 0;
    await expect(
      runTraffic({
        generator: generator(),
        ratePerSecond: 1_000,
        batchSize: 10,
        send: () => (++calls === 3 ? Promise.reject(failure) : Promise.resolve()),
        clock: new FakeClock(),
      }),
    ).rejects.toBe(failure);
    expect(calls).toBe(3);
  });

  it('refuses bad options with USAGE', async () => {
    await expect(
      runTraffic({
        generator: generator(),
        ratePerSecond: 0,
        batchSize: 0,
        count: -1,
        send: () => Promise.resolve(),
      }),
    ).rejects.toSatisfy(
      (error) =>
        isLeakwatchError(error, 'USAGE') &&
        /ratePerSecond/.test(error.message) &&
        /batchSize/.test(error.message),
    );
  });
});
