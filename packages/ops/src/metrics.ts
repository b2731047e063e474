import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per process, passed to every part that exports metrics (never the global
 * registry). Process metrics (CPU, memory, event-loop lag, GC) come with the `leakwatch_` prefix.
 */
export function createMetricsRegistry(service: string, options: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'leakwatch_' });
  return registry;
}
