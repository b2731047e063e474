import { Gauge, type Registry } from 'prom-client';
import type { WatchStats } from './incident-registry.js';

/** What the gauges read: a started LeakStore (or its registry) fits. */
export interface WatchStatsSource {
  watchStats(): Promise<WatchStats>;
}

export interface WatchListMetricsOptions {
  /** False while Redis is not connected: a scrape then keeps the last values instead of waiting. */
  ready: () => boolean;
  /** Longest a scrape waits for Redis. Default 1000 ms. */
  timeoutMs?: number;
}

/**
 * Registers the watch-list gauges on a service's registry:
 * - `leakwatch_watched_cards{incident}`: cards per incident (retired: 0);
 * - `leakwatch_watched_incidents`: incidents being watched (active, not past watchUntil);
 * - `leakwatch_watched_cards_all`: cards watched in those incidents, in total.
 * The last two are single series, so "dropped to zero" (a wiped or evicted Redis, which
 * otherwise looks exactly like "no leaks") can page. One scrape reads Redis once for all three.
 */
export function registerWatchListMetrics(
  registry: Registry,
  source: WatchStatsSource,
  options: WatchListMetricsOptions,
): void {
  const timeoutMs = options.timeoutMs ?? 1000;
  // prom-client calls every collect() of a scrape in one synchronous loop, so the three gauges
  // share the read in flight; it is dropped once settled, and the next scrape reads afresh.
  let pending: Promise<WatchStats | null> | null = null;
  const read = (): Promise<WatchStats | null> => {
    pending ??= readWithin(source, options, timeoutMs).finally(() => {
      pending = null;
    });
    return pending;
  };
  new Gauge({
    name: 'leakwatch_watched_cards',
    help: 'Cards on the watch list, per incident (retired incidents: 0).',
    labelNames: ['incident'] as const,
    registers: [registry],
    async collect() {
      const stats = await read();
      if (!stats) return;
      this.reset();
      for (const [incident, count] of stats.byIncident) this.set({ incident }, count);
    },
  });
  new Gauge({
    name: 'leakwatch_watched_incidents',
    help: 'Incidents being watched (active, not past watchUntil). Zero means nothing is watched.',
    registers: [registry],
    async collect() {
      const stats = await read();
      if (stats) this.set(stats.incidents);
    },
  });
  new Gauge({
    name: 'leakwatch_watched_cards_all',
    help: 'Cards watched in all watched incidents (a card in two incidents counts twice). Zero means nothing is watched.',
    registers: [registry],
    async collect() {
      const stats = await read();
      if (stats) this.set(stats.cards);
    },
  });
}

/**
 * The stats, or null when Redis is not ready, fails or is slow: a scrape must answer while Redis
 * is away (that is when operators look), keeping the last values; readiness reports the outage.
 */
async function readWithin(
  source: WatchStatsSource,
  options: WatchListMetricsOptions,
  timeoutMs: number,
): Promise<WatchStats | null> {
  if (!options.ready()) return null;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      source.watchStats(),
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), timeoutMs);
      }),
    ]);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}
