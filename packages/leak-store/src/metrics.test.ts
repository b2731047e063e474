import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { WatchStats } from './incident-registry.js';
import { registerWatchListMetrics } from './metrics.js';

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function fakeSource(stats: WatchStats) {
  const source = {
    calls: 0,
    fail: false,
    stats,
    watchStats: () => {
      source.calls += 1;
      if (source.fail) return Promise.reject(new Error('Redis went away'));
      return Promise.resolve(source.stats);
    },
  };
  return source;
}

const TWO_INCIDENTS: WatchStats = {
  byIncident: new Map([
    ['INC-1', 3],
    ['INC-OLD', 0],
  ]),
  incidents: 1,
  cards: 3,
};

describe('registerWatchListMetrics', () => {
  it('exports the three gauges from one read per scrape', async () => {
    const registry = new Registry();
    const source = fakeSource(TWO_INCIDENTS);
    registerWatchListMetrics(registry, source, { ready: () => true });
    const text = await registry.metrics();
    expect(source.calls).toBe(1);
    expect(value(text, 'leakwatch_watched_incidents')).toBe(1);
    expect(value(text, 'leakwatch_watched_cards_all')).toBe(3);
    expect(value(text, 'leakwatch_watched_cards{incident="INC-1"}')).toBe(3);
    expect(value(text, 'leakwatch_watched_cards{incident="INC-OLD"}')).toBe(0);
    await registry.metrics();
    expect(source.calls).toBe(2);
  });

  it('drops the per-incident series and reports 0 in total when the store is empty', async () => {
    const registry = new Registry();
    const source = fakeSource(TWO_INCIDENTS);
    registerWatchListMetrics(registry, source, { ready: () => true });
    await registry.metrics();
    source.stats = { byIncident: new Map(), incidents: 0, cards: 0 };
    const text = await registry.metrics();
    expect(value(text, 'leakwatch_watched_incidents')).toBe(0);
    expect(value(text, 'leakwatch_watched_cards_all')).toBe(0);
    expect(text).not.toContain('leakwatch_watched_cards{');
  });

  it('keeps the last values, without asking, while Redis is not ready or failing', async () => {
    const registry = new Registry();
    const source = fakeSource(TWO_INCIDENTS);
    let ready = true;
    registerWatchListMetrics(registry, source, { ready: () => ready });
    await registry.metrics();
    ready = false;
    let text = await registry.metrics();
    expect(source.calls).toBe(1);
    expect(value(text, 'leakwatch_watched_cards_all')).toBe(3);
    ready = true;
    source.fail = true;
    text = await registry.metrics();
    expect(source.calls).toBe(2);
    expect(value(text, 'leakwatch_watched_cards_all')).toBe(3);
    expect(value(text, 'leakwatch_watched_cards{incident="INC-1"}')).toBe(3);
  });
});
