import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The monitor's metrics. Labels are bounded: outcome, severity, partner (from the partners
 * file), reason (the closed error codes), partition. Never a card, a fingerprint or an event id.
 */
export function createMonitorMetrics(registry: Registry) {
  const registers = [registry];
  return {
    processed: new Counter({
      name: 'leakwatch_authorizations_processed_total',
      help: 'Authorizations processed, their alerts and dead letters acknowledged by Kafka, by outcome (clean, alerted, dead_lettered).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    watched: new Counter({
      name: 'leakwatch_authorizations_on_watched_cards_total',
      help: 'Authorizations whose card is on an active watch list (alerting or not).',
      registers,
    }),
    alerts: new Counter({
      name: 'leakwatch_alerts_total',
      help: 'Alerts published to the alerts topic, by severity and partner.',
      labelNames: ['severity', 'partner'] as const,
      registers,
    }),
    deadLetters: new Counter({
      name: 'leakwatch_dead_letters_total',
      help: 'Messages sent to the dead-letter topic, by error code.',
      labelNames: ['reason'] as const,
      registers,
    }),
    batchDuration: new Histogram({
      name: 'leakwatch_batch_duration_seconds',
      help: 'Time to process, publish and commit one batch of one partition.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    batchSize: new Histogram({
      name: 'leakwatch_batch_size_messages',
      help: 'Messages per processed batch.',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers,
    }),
    endToEnd: new Histogram({
      name: 'leakwatch_end_to_end_latency_seconds',
      help: 'From the authorization message timestamp to its alerts and dead letters being acknowledged.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    lookup: new Histogram({
      name: 'leakwatch_leak_lookup_duration_seconds',
      help: 'Time of one batched watch-list lookup in Redis.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    stage: new Histogram({
      name: 'leakwatch_stage_duration_seconds',
      help: 'Time one batch spent in each pipeline stage: decode, lookup, history, rules, publish.',
      labelNames: ['stage'] as const,
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    }),
    lag: new Gauge({
      name: 'leakwatch_consumer_lag_messages',
      help: 'Messages behind the high watermark, per input partition, as of the last batch.',
      labelNames: ['topic', 'partition'] as const,
      registers,
    }),
    retries: new Counter({
      name: 'leakwatch_batch_retries_total',
      help: 'Batches retried after a failure that can heal, by error code.',
      labelNames: ['reason'] as const,
      registers,
    }),
    paused: new Gauge({
      name: 'leakwatch_partitions_retrying',
      help: 'Input partitions currently paused on a failing dependency.',
      registers,
    }),
  };
}

export type MonitorMetrics = ReturnType<typeof createMonitorMetrics>;
