import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import type { PoisonKind } from './poison.js';
import type { SimulatedEvent, TrafficGenerator } from './traffic.js';
import { usageError } from './usage.js';

export interface TrafficStats {
  /** Events handed to `send` and acknowledged (its promise resolved). */
  sent: number;
  authorizations: number;
  /** Authorizations on watched cards. */
  watched: number;
  poison: number;
  /** Authorizations by encoding. */
  byFormat: { avro: number; json: number };
  byPoisonKind: Partial<Record<PoisonKind, number>>;
  elapsedMs: number;
  /** `sent` per second of `elapsedMs`. */
  achievedRate: number;
}

export interface TrafficRunResult extends TrafficStats {
  stoppedBy: 'count' | 'duration' | 'abort';
}

export interface RunTrafficOptions {
  generator: TrafficGenerator;
  /** Target events per second; `Infinity` sends as fast as `send` takes them. */
  ratePerSecond: number;
  /** Stop after this long. */
  durationMs?: number | undefined;
  /** Stop after this many events. Without `count` and `durationMs`, runs until aborted. */
  count?: number | undefined;
  /** Most events per `send` call. */
  batchSize: number;
  /** Delivers one batch; the next is not generated before it resolves. A rejection ends the run with that error. */
  send: (events: SimulatedEvent[]) => Promise<void>;
  /** Called with a snapshot at most every `progressIntervalMs`, and once at the end. */
  onProgress?: ((stats: TrafficStats) => void) | undefined;
  /** Default 1000; 0 reports after every batch. */
  progressIntervalMs?: number | undefined;
  /** Ends the run after the batch in flight; the run then resolves with `stoppedBy: 'abort'`. */
  signal?: AbortSignal | undefined;
  /** Where time comes from; the system clock unless a test passes a fake one. */
  clock?: Clock | undefined;
}

/** The driver's only source of time, so that tests can run it on a fake one. */
export interface Clock {
  /** Milliseconds on a monotonic scale (only differences matter). */
  now(): number;
  /** Resolves after `ms`; rejects with an error named AbortError, at once, when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Real time: `performance.now()` and a timer that an abort clears. */
export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, undefined, signal === undefined ? undefined : { signal }),
};

/** A batch waits at most this long for its tokens: low rates send small batches often rather than big ones rarely. */
const FILL_WINDOW_SECONDS = 0.1;
/**
 * Tokens saved while `send` was slow are capped at this much traffic: the run catches up on a
 * short stall but never fires a long backlog at once.
 */
const CATCH_UP_SECONDS = 1;

/**
 * Sends the generator's events in batches, paced to `ratePerSecond` by a token bucket, until
 * `count` events are sent, `durationMs` has passed or `signal` aborts. It sleeps on timers while
 * waiting for tokens (never spins), has one batch in flight at a time, and leaves no timer or
 * listener behind when it settles. Bad options fail with USAGE.
 */
export async function runTraffic(options: RunTrafficOptions): Promise<TrafficRunResult> {
  const { generator, ratePerSecond: rate, batchSize, send, signal } = options;
  const clock = options.clock ?? systemClock;
  const problems: string[] = [];
  if (typeof rate !== 'number' || !(rate > 0))
    problems.push('ratePerSecond: must be above 0 (Infinity for no limit)');
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    problems.push('batchSize: must be a whole number ≥ 1');
  if (options.count !== undefined && (!Number.isSafeInteger(options.count) || options.count < 0)) {
    problems.push('count: must be a whole number ≥ 0');
  }
  if (options.durationMs !== undefined && !(options.durationMs >= 0 && Number.isFinite(options.durationMs))) {
    problems.push('durationMs: must be a finite number ≥ 0');
  }
  const progressIntervalMs = options.progressIntervalMs ?? 1000;
  if (!(progressIntervalMs >= 0)) problems.push('progressIntervalMs: must be ≥ 0');
  if (typeof send !== 'function') problems.push('send: must be a function');
  if (problems.length > 0) throw usageError('invalid traffic run options', problems);

  const started = clock.now();
  const deadline = options.durationMs === undefined ? Infinity : started + options.durationMs;
  const count = options.count ?? Infinity;
  const unlimited = rate === Infinity;
  const fill = unlimited
    ? batchSize
    : Math.min(batchSize, Math.max(1, Math.ceil(rate * FILL_WINDOW_SECONDS)));
  const capacity = unlimited ? Infinity : Math.max(fill, Math.ceil(rate * CATCH_UP_SECONDS));
  let tokens = fill;
  let refilledAt = started;
  let lastProgress = started;
  const stats: TrafficStats = {
    sent: 0,
    authorizations: 0,
    watched: 0,
    poison: 0,
    byFormat: { avro: 0, json: 0 },
    byPoisonKind: {},
    elapsedMs: 0,
    achievedRate: 0,
  };

  const refill = (now: number): void => {
    tokens = Math.min(capacity, tokens + ((now - refilledAt) * rate) / 1000);
    refilledAt = now;
  };
  const snapshot = (): TrafficStats => {
    const elapsedMs = clock.now() - started;
    return {
      ...stats,
      byFormat: { ...stats.byFormat },
      byPoisonKind: { ...stats.byPoisonKind },
      elapsedMs,
      achievedRate: elapsedMs > 0 ? (stats.sent * 1000) / elapsedMs : 0,
    };
  };

  let stoppedBy: TrafficRunResult['stoppedBy'];
  for (;;) {
    if (signal?.aborted) {
      stoppedBy = 'abort';
      break;
    }
    const remaining = count - stats.sent;
    if (remaining <= 0) {
      stoppedBy = 'count';
      break;
    }
    let now = clock.now();
    if (now >= deadline) {
      stoppedBy = 'duration';
      break;
    }
    const wanted = Math.min(fill, remaining);
    let size = wanted;
    if (unlimited) {
      // Nothing to wait for, but let timers, I/O and signal handlers (SIGINT → abort) run.
      await yieldToEventLoop();
    } else {
      refill(now);
      if (tokens < wanted) {
        const waitMs = Math.max(1, Math.ceil(((wanted - tokens) * 1000) / rate));
        const wakeAt = Math.min(now + waitMs, deadline);
        if (!(await pause(clock, Math.max(1, Math.ceil(wakeAt - now)), signal))) continue;
        now = clock.now();
        refill(now);
        if (tokens < wanted) continue; // woke at the deadline or a hair early: re-check from the top
      }
      // Saved-up tokens go out in bigger batches (up to batchSize), not as a burst of calls.
      size = Math.min(batchSize, remaining, Math.floor(tokens));
      tokens -= size;
    }
    const batch = generator.nextBatch(size);
    await send(batch);
    tally(batch);
    if (options.onProgress !== undefined && clock.now() - lastProgress >= progressIntervalMs) {
      lastProgress = clock.now();
      options.onProgress(snapshot());
    }
  }
  const final = snapshot();
  options.onProgress?.(snapshot());
  return { ...final, stoppedBy };

  function tally(batch: readonly SimulatedEvent[]): void {
    for (const event of batch) {
      if (event.kind === 'poison') {
        stats.poison++;
        stats.byPoisonKind[event.poisonKind] = (stats.byPoisonKind[event.poisonKind] ?? 0) + 1;
      } else {
        stats.authorizations++;
        stats.byFormat[event.format]++;
        if (event.watched) stats.watched++;
      }
    }
    stats.sent += batch.length;
  }
}

/** Sleeps `ms` on the clock; an abort ends the sleep at once. Resolves false when aborted. */
async function pause(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await clock.sleep(ms, signal);
    return true;
  } catch (error) {
    if ((error as { name?: unknown }).name === 'AbortError') return false;
    throw error;
  }
}
