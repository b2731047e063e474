import { Counter, Gauge, type Registry } from 'prom-client';
import type { WatchStats } from './incident-registry.js';
import type { WatchFilterStats } from './watch-filter.js';

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

/**
 * Registers the in-process watch filter's metrics (read from memory at scrape time):
 * - `leakwatch_watch_filter_active`: 1 while lookups are filtered, 0 while all go to Redis;
 * - `leakwatch_watch_filter_cards`, `leakwatch_watch_filter_bytes`: cards held and memory;
 * - `leakwatch_watch_filter_sync_age_seconds`: since the last completed sync started;
 * - `leakwatch_watch_filter_{positives,false_positives,bypassed}_total`: fingerprints sent to
 *   Redis by the filter, those Redis did not confirm, and those sent without the filter.
 */
export function registerWatchFilterMetrics(
  registry: Registry,
  filter: { readonly stats: WatchFilterStats },
): void {
  const registers = [registry];
  new Gauge({
    name: 'leakwatch_watch_filter_active',
    help: 'Whether lookups pass the in-process watch filter (1) or all go to Redis (0: loading, stale or incomplete logs).',
    registers,
    collect() {
      this.set(filter.stats.active ? 1 : 0);
    },
  });
  new Gauge({
    name: 'leakwatch_watch_filter_cards',
    help: 'Watched-card fingerprints held by the in-process filter (built plus added since).',
    registers,
    collect() {
      const s = filter.stats;
      this.set(s.builtCards + s.addedCards);
    },
  });
  new Gauge({
    name: 'leakwatch_watch_filter_bytes',
    help: 'Memory of the in-process watch filter: fuse filter cells plus the estimated set of cards added since it was built.',
    registers,
    collect() {
      const s = filter.stats;
      this.set(s.filterBytes + s.addedBytes);
    },
  });
  new Gauge({
    name: 'leakwatch_watch_filter_sync_age_seconds',
    help: 'Seconds since the last completed watch-log sync started (-1 before the first).',
    registers,
    collect() {
      const age = filter.stats.syncAgeMs;
      this.set(age === null ? -1 : age / 1000);
    },
  });
  // counted in the filter (the hot path touches plain numbers only), copied at scrape time
  const counter = (name: string, help: string, read: (s: WatchFilterStats) => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read(filter.stats));
      },
    });
  counter(
    'leakwatch_watch_filter_positives_total',
    'Fingerprints the in-process filter let through to a Redis lookup.',
    (s) => s.positives,
  );
  counter(
    'leakwatch_watch_filter_false_positives_total',
    'Fingerprints let through that Redis did not confirm as watched (filter false positives, and cards removed or of retired incidents whose log entries linger until a rebuild).',
    (s) => s.unconfirmed,
  );
  counter(
    'leakwatch_watch_filter_bypassed_total',
    'Fingerprints looked up in Redis without the filter (not loaded yet, sync stale, or logs incomplete).',
    (s) => s.bypassed,
  );
}
