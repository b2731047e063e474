import type { Logger } from '@leakwatch/logger';
import { WatchFilter, type WatchLogSource } from '@leakwatch/leak-store';
import type { MonitorEnv } from './env.js';

/**
 * The in-process watch filter as LEAKWATCH_WATCH_FILTER* configure it, or null when it is off:
 * one place for the live monitor and the retro-hunt. It polls every half of the staleness bound,
 * so a card imported is matched within that bound whatever happens to one poll.
 */
export function watchFilterFromEnv(
  env: Pick<
    MonitorEnv,
    'LEAKWATCH_WATCH_FILTER' | 'LEAKWATCH_WATCH_FILTER_BITS' | 'LEAKWATCH_WATCH_FILTER_MAX_STALE_MS'
  >,
  source: WatchLogSource,
  logger: Logger,
): WatchFilter | null {
  if (!env.LEAKWATCH_WATCH_FILTER) return null;
  return new WatchFilter({
    source,
    bits: env.LEAKWATCH_WATCH_FILTER_BITS,
    maxStaleMs: env.LEAKWATCH_WATCH_FILTER_MAX_STALE_MS,
    syncIntervalMs: Math.floor(env.LEAKWATCH_WATCH_FILTER_MAX_STALE_MS / 2),
    logger: logger.child({ component: 'watch-filter' }),
  });
}
