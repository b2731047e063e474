/**
 * The hunt's --max-rate when none is given (authorizations a second), meant to keep a hunt from
 * slowing the live monitor on a backlog by more than 20% (issue 12 "Isolation") on a 2-core
 * machine. Measured with `leakwatch bench --only hunt-isolation` (docs/benchmarks.md).
 */
export const DEFAULT_HUNT_MAX_RATE = 10_000;

/** What the throttle needs of time, so tests can drive it without sleeping. */
export interface ThrottleClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const systemClock: ThrottleClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * A token bucket of `perSecond` authorizations with one second of burst: `take(n)` resolves when
 * n more may be processed. Keeps a hunt beside the live monitor from taking the whole machine.
 */
export class Throttle {
  readonly #perSecond: number;
  readonly #clock: ThrottleClock;
  #tokens: number;
  #at: number;

  constructor(perSecond: number, clock: ThrottleClock = systemClock) {
    if (!(perSecond > 0)) throw new RangeError('throttle rate must be above 0');
    this.#perSecond = perSecond;
    this.#clock = clock;
    this.#tokens = perSecond;
    this.#at = clock.now();
  }

  /**
   * Waits until n more may be processed. A wait longer than a second is slept in steps of at most
   * a second, each followed by `heartbeat`, so a consumer waiting here keeps its partitions.
   */
  async take(n: number, heartbeat?: () => Promise<void>): Promise<void> {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#perSecond, this.#tokens + ((now - this.#at) / 1000) * this.#perSecond);
    this.#at = now;
    this.#tokens -= n;
    let waitMs = this.#tokens < 0 ? (-this.#tokens / this.#perSecond) * 1000 : 0;
    while (waitMs > 0) {
      const step = heartbeat ? Math.min(waitMs, 1000) : waitMs;
      await this.#clock.sleep(step);
      waitMs -= step;
      // a failed heartbeat (a rebalance under way) is the batch loop's to see, after the wait
      if (waitMs > 0) await heartbeat?.().catch(() => undefined);
    }
  }
}
