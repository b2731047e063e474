import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per process, passed to every part that exports metrics (never the global
 * registry). Process metrics (CPU, memory, event-loop lag, GC) come with the `leakwatch_` prefix.
 * The three `nodejs_active_*_total` gauges are dropped: a gauge named `_total` fails
 * `promtool check metrics`, and each is the sum of its per-type sibling (`nodejs_active_handles`).
 */
export function createMetricsRegistry(service: string, options: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.processMetrics !== false) {
    collectDefaultMetrics({ register: registry, prefix: 'leakwatch_' });
    for (const name of ['handles', 'requests', 'resources'])
      registry.removeSingleMetric(`leakwatch_nodejs_active_${name}_total`);
  }
  return registry;
}
