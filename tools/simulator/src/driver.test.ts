import { describe, expect, it } from 'vitest';
import { isLeakwatchError } from '@leakwatch/errors';
import { generateCards } from './cards.js';
import { type TrafficStats, runTraffic } from './driver.js';
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
    const result = await runTraffic({
      generator: generator(),
      ratePerSecond: 1_000,
      count: 300,
      batchSize: 50,
      send,
    });
    // The first 50 go at once, the remaining 250 take 250 ms at 1000/s.
    expect(result.elapsedMs).toBeGreaterThanOrEqual(230);
    expect(result.elapsedMs).toBeLessThan(800);
    expect(batches.every((b) => b.length <= 50)).toBe(true);
  });

  it('sends small batches often at low rates instead of waiting for a full one', async () => {
    const { batches, send } = recorder();
    await runTraffic({ generator: generator(), ratePerSecond: 50, count: 10, batchSize: 500, send });
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(5);
  });

  it('stops when the duration is up', async () => {
    const { send } = recorder();
    const result = await runTraffic({
      generator: generator(),
      ratePerSecond: 200,
      durationMs: 300,
      batchSize: 10,
      send,
    });
    expect(result.stoppedBy).toBe('duration');
    expect(result.elapsedMs).toBeGreaterThanOrEqual(295);
    expect(result.elapsedMs).toBeLessThan(600);
    expect(result.sent).toBeGreaterThanOrEqual(60);
    expect(result.sent).toBeLessThanOrEqual(90);
  });

  it('stops on abort at once, even while waiting for tokens, and leaves no timer behind', async () => {
    const before = timers();
    const { send } = recorder();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    const result = await runTraffic({
      generator: generator(),
      ratePerSecond: 1, // the second event is due in 1 s
      batchSize: 1,
      send,
      signal: controller.signal,
    });
    expect(result.stoppedBy).toBe('abort');
    expect(result.sent).toBe(1);
    expect(performance.now() - started).toBeLessThan(500);
    expect(timers()).toBeLessThanOrEqual(before);
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
    let stalled = false;
    const result = await runTraffic({
      generator: generator(),
      ratePerSecond: 1_000,
      count: 1_200,
      batchSize: 10_000,
      send: async (events) => {
        sizes.push(events.length);
        if (!stalled) {
          stalled = true;
          await new Promise((resolve) => setTimeout(resolve, 1_500));
        }
      },
    });
    expect(result.sent).toBe(1_200);
    expect(sizes[0]).toBe(100);
    // 1.5 s of missed traffic, but only 1 s (1000 events) may go out at once.
    expect(sizes[1]).toBeGreaterThan(900);
    expect(sizes[1]).toBeLessThanOrEqual(1_000);
  });

  it('ends with the error of a failed send, leaving no timer behind', async () => {
    const before = timers();
    const failure = new Error('broker down');
    let calls = 0;
    await expect(
      runTraffic({
        generator: generator(),
        ratePerSecond: 1_000,
        batchSize: 10,
        send: () => (++calls === 3 ? Promise.reject(failure) : Promise.resolve()),
      }),
    ).rejects.toBe(failure);
    expect(calls).toBe(3);
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('refuses bad options with USAGE', async () => {
    await expect(
      runTraffic({ generator: generator(), ratePerSecond: 0, batchSize: 0, count: -1, send: async () => {} }),
    ).rejects.toSatisfy(
      (error) =>
        isLeakwatchError(error, 'USAGE') &&
        /ratePerSecond/.test(error.message) &&
        /batchSize/.test(error.message),
    );
  });
});
