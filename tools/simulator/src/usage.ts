import { LeakwatchError } from '@leakwatch/errors';

/** Epoch ms of a reference time (default now); a problem is recorded when it is not a valid time. */
export function referenceTimeMs(value: number | Date | undefined, path: string, problems: string[]): number {
  if (value === undefined) return Date.now();
  const ms = value instanceof Date ? value.getTime() : value;
  if (!Number.isFinite(ms)) {
    problems.push(`${path}: must be a date or epoch milliseconds`);
    return 0;
  }
  return ms;
}

/** A USAGE error listing every problem found in a set of options, each naming its option. */
export function usageError(what: string, problems: readonly string[]): LeakwatchError {
  return new LeakwatchError(
    'USAGE',
    `${what} (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join('; ')}`,
    {
      details: { problems },
    },
  );
}
