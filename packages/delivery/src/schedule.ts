/**
 * The retry schedule, as pure functions: when the next try is due, with jitter, and what a
 * partner's Retry-After asks for.
 */

/** Jitter spreads retries of many deliveries: each delay is multiplied by a factor in [1-J, 1+J). */
export const JITTER = 0.2;
/** A Retry-After longer than this is read as this (a partner cannot park a delivery for a week). */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/**
 * Reads a Retry-After header: delay-seconds or an HTTP date. Null when absent or unreadable; a
 * date in the past is 0.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    // an HTTP date names its day and month; without letters it is not one ("-5")
    const date = /[A-Za-z]/.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
    if (Number.isNaN(date)) return null;
    ms = Math.max(0, date - now);
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** A delay with jitter; `random` is in [0, 1). A zero delay stays zero (the first try is at once). */
export function withJitter(delayMs: number, random: number): number {
  return Math.round(delayMs * (1 - JITTER + 2 * JITTER * random));
}

export type NextStep = { kind: 'retry'; delayMs: number } | { kind: 'dead' };

/**
 * What follows failed try number `attemptsMade` (1 = the first try): the next delay of the
 * schedule with jitter, or the dead-letter list when the schedule is used up. A Retry-After (429,
 * 503) replaces the scheduled delay: the partner said when it can take the delivery again.
 */
export function nextStep(
  schedule: readonly number[],
  attemptsMade: number,
  random: number,
  retryAfterMs: number | null = null,
): NextStep {
  if (attemptsMade >= schedule.length) return { kind: 'dead' };
  if (retryAfterMs !== null) return { kind: 'retry', delayMs: retryAfterMs };
  return { kind: 'retry', delayMs: withJitter(schedule[attemptsMade] as number, random) };
}

/** The delay before the first try (schedule[0], normally 0). */
export function firstDelay(schedule: readonly number[], random: number): number {
  return withJitter(schedule[0] ?? 0, random);
}
