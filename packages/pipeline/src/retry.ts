import { LeakwatchError, type ErrorCode } from '@leakwatch/errors';

// one rule for "can this failure heal by waiting", shared with the services' start-up retries
export { canHeal } from '@leakwatch/errors';

/** The code a retried failure is counted and reported under. */
export function failureCode(error: unknown): ErrorCode {
  return error instanceof LeakwatchError ? error.code : 'KAFKA_UNAVAILABLE';
}

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** A number in [0, 1): the jitter source (injected so tests are deterministic). */
  random?: () => number;
}

/** Exponential backoff with ±20% jitter, capped. */
export function nextDelay(previousMs: number, policy: BackoffPolicy): number {
  const random = policy.random ?? Math.random;
  return Math.min(previousMs * 2 * (0.8 + random() * 0.4), policy.maxMs);
}

/** What the retry loop needs from the consumer and the clock (fakes in unit tests). */
export interface RetryIo {
  /** False once stopping or rebalanced: the batch is then given back uncommitted. */
  active(): boolean;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Keeps our place in the group while waiting; throws when the group is rebalancing. */
  heartbeat(): Promise<void>;
}

export type RetryResult<T> =
  { status: 'done'; value: T } | { status: 'released'; reason: 'inactive' | 'rebalance'; error?: unknown };

/**
 * Runs `attempt` until it succeeds, waiting with backoff between failures. The wait is cut in
 * steps of at most a second, each followed by a heartbeat, so a member waiting on a dependency
 * keeps its partitions; a rebalance (heartbeat throws) or a stop releases the batch instead.
 * Every failure reaching here is treated as one that can heal: `attempt` has already turned
 * what cannot into dead letters.
 */
export async function retryUntilDone<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  io: RetryIo,
  policy: BackoffPolicy,
  onFailure: (error: unknown, attemptNumber: number, retryInMs: number) => void,
): Promise<RetryResult<T>> {
  let delay = policy.initialMs;
  for (let attemptNumber = 1; ; attemptNumber++) {
    if (!io.active()) return { status: 'released', reason: 'inactive' };
    try {
      return { status: 'done', value: await attempt(attemptNumber) };
    } catch (error) {
      onFailure(error, attemptNumber, delay);
      const until = io.now() + delay;
      while (io.now() < until && io.active()) {
        await io.sleep(Math.min(1000, until - io.now()));
        try {
          await io.heartbeat();
        } catch (heartbeatError) {
          return { status: 'released', reason: 'rebalance', error: heartbeatError };
        }
      }
      delay = nextDelay(delay, policy);
    }
  }
}
