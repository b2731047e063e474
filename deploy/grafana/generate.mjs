// Writes the Grafana dashboards in dashboards/ from the short descriptions below, so that the
// five stay alike (datasource, layout, units).
// Run: node deploy/grafana/generate.mjs && pnpm exec prettier --write deploy/grafana
// Every query is plain PromQL with literal ranges (no Grafana variables), so the integration
// test runs each one as is against a real Prometheus.
import { writeFileSync } from 'node:fs';
import { URL } from 'node:url';

const DS = { type: 'prometheus', uid: 'leakwatch-prometheus' };

const q = (expr, legendFormat = '') => ({ expr, legendFormat });

const dashboards = [
  {
    uid: 'leakwatch-overview',
    title: 'Leakwatch / Overview',
    rows: [
      [
        {
          title: 'Authorizations/s by outcome',
          unit: 'reqps',
          core: true,
          targets: [
            q('sum by (outcome) (rate(leakwatch_authorizations_processed_total[5m]))', '{{outcome}}'),
          ],
        },
        {
          title: 'Alerts/s by severity',
          unit: 'reqps',
          targets: [q('sum by (severity) (rate(leakwatch_alerts_total[5m]))', '{{severity}}')],
        },
        {
          title: 'Alerts/s by partner',
          unit: 'reqps',
          targets: [q('sum by (partner) (rate(leakwatch_alerts_total[5m]))', '{{partner}}')],
        },
      ],
      [
        {
          title: 'SLO: judged within 1 s (target 99%)',
          unit: 'percentunit',
          core: true,
          targets: [
            q(
              'sum(rate(leakwatch_end_to_end_latency_seconds_bucket{le="1"}[5m])) / sum(rate(leakwatch_end_to_end_latency_seconds_count[5m]))',
              'within 1 s',
            ),
          ],
        },
        {
          title: 'SLO error budget left (3 days)',
          type: 'stat',
          unit: 'percentunit',
          targets: [q('1 - (leakwatch:slo_latency_errors:ratio_rate3d / 0.01)', 'budget left')],
        },
        {
          title: 'End-to-end latency p50 / p99',
          unit: 's',
          core: true,
          targets: [
            q(
              'histogram_quantile(0.5, sum by (le) (rate(leakwatch_end_to_end_latency_seconds_bucket[5m])))',
              'p50',
            ),
            q(
              'histogram_quantile(0.99, sum by (le) (rate(leakwatch_end_to_end_latency_seconds_bucket[5m])))',
              'p99',
            ),
          ],
        },
      ],
      [
        {
          title: 'Time lag (max over partitions)',
          unit: 's',
          core: true,
          targets: [q('max by (topic) (leakwatch_consumer_lag_seconds)', '{{topic}}')],
        },
        {
          title: 'Firing Leakwatch alerts',
          type: 'table',
          targets: [q('ALERTS{alertname=~"Leakwatch.*", alertstate="firing"}', '{{alertname}}')],
        },
        {
          title: 'Versions running',
          type: 'table',
          core: true,
          targets: [q('leakwatch_build_info', '{{service}} {{version}} {{rule_set_version}}')],
        },
      ],
    ],
  },
  {
    uid: 'leakwatch-pipeline',
    title: 'Leakwatch / Pipeline (RED per stage)',
    rows: [
      [
        {
          title: 'Batches/s per stage (decode, lookup, history, rules, publish)',
          unit: 'reqps',
          core: true,
          targets: [q('sum by (stage) (rate(leakwatch_stage_duration_seconds_count[5m]))', '{{stage}}')],
        },
        {
          title: 'Stage duration per batch p99',
          unit: 's',
          core: true,
          targets: [
            q(
              'histogram_quantile(0.99, sum by (le, stage) (rate(leakwatch_stage_duration_seconds_bucket[5m])))',
              '{{stage}}',
            ),
          ],
        },
        {
          title: 'Share of batch time per stage',
          unit: 'percentunit',
          targets: [
            q(
              'sum by (stage) (rate(leakwatch_stage_duration_seconds_sum[5m])) / scalar(sum(rate(leakwatch_stage_duration_seconds_sum[5m])))',
              '{{stage}}',
            ),
          ],
        },
      ],
      [
        {
          title: 'Decode: messages/s in',
          unit: 'reqps',
          core: true,
          targets: [q('sum(rate(leakwatch_authorizations_processed_total[5m]))', 'processed')],
        },
        {
          title: 'Decode: dead letters/s by reason',
          unit: 'reqps',
          targets: [q('sum by (reason) (rate(leakwatch_dead_letters_total[5m]))', '{{reason}}')],
        },
        {
          title: 'Decode: batch size p50 / p99',
          unit: 'short',
          targets: [
            q('histogram_quantile(0.5, sum by (le) (rate(leakwatch_batch_size_messages_bucket[5m])))', 'p50'),
            q(
              'histogram_quantile(0.99, sum by (le) (rate(leakwatch_batch_size_messages_bucket[5m])))',
              'p99',
            ),
          ],
        },
      ],
      [
        {
          title: 'Lookup: Redis lookups/s',
          unit: 'reqps',
          core: true,
          targets: [q('sum(rate(leakwatch_leak_lookup_duration_seconds_count[5m]))', 'lookups')],
        },
        {
          title: 'Lookup: retries/s by reason',
          unit: 'reqps',
          targets: [q('sum by (reason) (rate(leakwatch_batch_retries_total[5m]))', '{{reason}}')],
        },
        {
          title: 'Lookup: duration p50 / p99',
          unit: 's',
          core: true,
          targets: [
            q(
              'histogram_quantile(0.5, sum by (le) (rate(leakwatch_leak_lookup_duration_seconds_bucket[5m])))',
              'p50',
            ),
            q(
              'histogram_quantile(0.99, sum by (le) (rate(leakwatch_leak_lookup_duration_seconds_bucket[5m])))',
              'p99',
            ),
          ],
        },
      ],
      [
        {
          title: 'Rules: authorizations on watched cards/s',
          unit: 'reqps',
          targets: [q('sum(rate(leakwatch_authorizations_on_watched_cards_total[5m]))', 'on watched cards')],
        },
        {
          title: 'Rules: alerts/s by severity',
          unit: 'reqps',
          targets: [q('sum by (severity) (rate(leakwatch_alerts_total[5m]))', '{{severity}}')],
        },
        {
          title: 'Rules: rule set in force',
          type: 'table',
          targets: [q('leakwatch_rule_set_info', '{{version}}')],
        },
      ],
      [
        {
          title: 'Publish: batch duration p50 / p99',
          unit: 's',
          core: true,
          targets: [
            q(
              'histogram_quantile(0.5, sum by (le) (rate(leakwatch_batch_duration_seconds_bucket[5m])))',
              'p50',
            ),
            q(
              'histogram_quantile(0.99, sum by (le) (rate(leakwatch_batch_duration_seconds_bucket[5m])))',
              'p99',
            ),
          ],
        },
        {
          title: 'Publish: partitions retrying',
          unit: 'short',
          core: true,
          targets: [q('sum by (instance) (leakwatch_partitions_retrying)', '{{instance}}')],
        },
        {
          title: 'End-to-end latency p50 / p90 / p99',
          unit: 's',
          core: true,
          targets: [0.5, 0.9, 0.99].map((p) =>
            q(
              `histogram_quantile(${p}, sum by (le) (rate(leakwatch_end_to_end_latency_seconds_bucket[5m])))`,
              `p${p * 100}`,
            ),
          ),
        },
      ],
      [
        {
          title: 'Lag in messages per partition',
          unit: 'short',
          core: true,
          targets: [
            q('max by (topic, partition) (leakwatch_consumer_lag_messages)', '{{topic}}/{{partition}}'),
          ],
        },
        {
          title: 'Lag in seconds per partition',
          unit: 's',
          core: true,
          targets: [
            q('max by (topic, partition) (leakwatch_consumer_lag_seconds)', '{{topic}}/{{partition}}'),
          ],
        },
        {
          title: 'Stalled partitions',
          unit: 'short',
          core: true,
          targets: [
            q('sum by (topic) (max by (topic, partition) (leakwatch_consumer_stalled))', '{{topic}}'),
          ],
        },
      ],
    ],
  },
  {
    uid: 'leakwatch-watchlist',
    title: 'Leakwatch / Watch list',
    rows: [
      [
        {
          title: 'Watched incidents',
          type: 'stat',
          unit: 'short',
          targets: [q('max(leakwatch_watched_incidents)', 'incidents')],
        },
        {
          title: 'Watched cards',
          type: 'stat',
          unit: 'short',
          targets: [q('max(leakwatch_watched_cards_all)', 'cards')],
        },
        {
          title: 'Import activity (cards added or removed per minute)',
          unit: 'short',
          targets: [q('max(deriv(leakwatch_watched_cards_all[5m])) * 60', 'cards/min')],
        },
      ],
      [
        {
          title: 'Watched cards per incident',
          unit: 'short',
          core: true,
          targets: [q('max by (incident) (leakwatch_watched_cards)', '{{incident}}')],
        },
        {
          title: 'Authorizations on watched cards/s',
          unit: 'reqps',
          targets: [q('sum(rate(leakwatch_authorizations_on_watched_cards_total[5m]))', 'on watched cards')],
        },
        {
          title: 'Alerts/s by partner',
          unit: 'reqps',
          targets: [q('sum by (partner) (rate(leakwatch_alerts_total[5m]))', '{{partner}}')],
        },
      ],
    ],
  },
  {
    uid: 'leakwatch-delivery',
    title: 'Leakwatch / Delivery',
    rows: [
      [
        {
          title: 'Webhook deliveries/s by partner and outcome',
          unit: 'reqps',
          targets: [
            q(
              'sum by (partner, outcome) (rate(leakwatch_webhook_deliveries_total[5m]))',
              '{{partner}} {{outcome}}',
            ),
          ],
        },
        {
          title: 'Failed share per partner',
          unit: 'percentunit',
          targets: [
            q(
              'sum by (partner) (rate(leakwatch_webhook_deliveries_total{outcome=~"failed|dead_lettered|refused"}[5m])) / sum by (partner) (rate(leakwatch_webhook_deliveries_total[5m]))',
              '{{partner}}',
            ),
          ],
        },
        {
          title: 'Delivery latency p99 (detected → 2xx)',
          unit: 's',
          targets: [
            q(
              'histogram_quantile(0.99, sum by (partner, le) (rate(leakwatch_webhook_delivery_latency_seconds_bucket[5m])))',
              '{{partner}}',
            ),
          ],
        },
      ],
      [
        {
          title: 'Queue depth per partner',
          unit: 'short',
          targets: [q('max by (partner) (leakwatch_delivery_queue_depth)', '{{partner}}')],
        },
        {
          title: 'Oldest pending delivery',
          unit: 's',
          targets: [q('max by (partner) (leakwatch_delivery_oldest_pending_seconds)', '{{partner}}')],
        },
        {
          title: 'Delivery dead letters (list length)',
          unit: 'short',
          targets: [q('max by (partner) (leakwatch_delivery_dead_letters)', '{{partner}}')],
        },
      ],
      [
        {
          title: 'Endpoints disabled',
          unit: 'short',
          targets: [q('max by (partner) (leakwatch_webhook_endpoint_disabled)', '{{partner}}')],
        },
        {
          title: 'Alerts/s written to partner topics',
          unit: 'reqps',
          targets: [q('sum by (partner) (rate(leakwatch_partner_topic_alerts_total[5m]))', '{{partner}}')],
        },
        {
          title: 'Dispositions/s by disposition and source',
          unit: 'reqps',
          targets: [
            q(
              'sum by (disposition, source) (rate(leakwatch_dispositions_total[5m]))',
              '{{disposition}} ({{source}})',
            ),
          ],
        },
      ],
    ],
  },
  {
    uid: 'leakwatch-process',
    title: 'Leakwatch / Process health',
    rows: [
      [
        {
          title: 'Targets up',
          unit: 'short',
          core: true,
          targets: [q('up{job=~"leakwatch-.*"}', '{{job}} {{instance}}')],
        },
        {
          title: 'Ready',
          unit: 'short',
          core: true,
          targets: [q('leakwatch_ready', '{{job}} {{instance}}')],
        },
        {
          title: 'Failing readiness checks',
          unit: 'short',
          targets: [q('leakwatch_ready_check == 0', '{{instance}} {{check}}')],
        },
      ],
      [
        {
          title: 'CPU (cores)',
          unit: 'short',
          core: true,
          targets: [q('rate(leakwatch_process_cpu_seconds_total[5m])', '{{job}} {{instance}}')],
        },
        {
          title: 'Resident memory',
          unit: 'bytes',
          core: true,
          targets: [q('leakwatch_process_resident_memory_bytes', '{{job}} {{instance}}')],
        },
        {
          title: 'Heap used',
          unit: 'bytes',
          core: true,
          targets: [q('leakwatch_nodejs_heap_size_used_bytes', '{{job}} {{instance}}')],
        },
      ],
      [
        {
          title: 'Event-loop lag p99',
          unit: 's',
          core: true,
          targets: [q('leakwatch_nodejs_eventloop_lag_p99_seconds', '{{job}} {{instance}}')],
        },
        {
          title: 'GC time share',
          unit: 'percentunit',
          core: true,
          targets: [
            q(
              'sum by (job, instance) (rate(leakwatch_nodejs_gc_duration_seconds_sum[5m]))',
              '{{job}} {{instance}}',
            ),
          ],
        },
        {
          title: 'Open file descriptors',
          unit: 'short',
          core: true,
          targets: [q('leakwatch_process_open_fds', '{{job}} {{instance}}')],
        },
      ],
      [
        {
          title: 'Restarts in the last hour',
          unit: 'short',
          targets: [q('changes(leakwatch_process_start_time_seconds[1h])', '{{job}} {{instance}}')],
        },
        {
          title: 'Active handles',
          unit: 'short',
          targets: [q('sum by (job, instance) (leakwatch_nodejs_active_handles)', '{{job}} {{instance}}')],
        },
        {
          title: 'Node.js version',
          type: 'table',
          targets: [q('leakwatch_nodejs_version_info', '{{version}}')],
        },
      ],
    ],
  },
];

function panel(p, id, x, y) {
  const type = p.type ?? 'timeseries';
  return {
    id,
    type,
    title: p.title,
    datasource: DS,
    gridPos: { h: 8, w: 8, x, y },
    fieldConfig: { defaults: { unit: p.unit ?? 'short' }, overrides: [] },
    options:
      type === 'table' ? { showHeader: true } : { legend: { displayMode: 'list', placement: 'bottom' } },
    targets: p.targets.map((t, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DS,
      expr: t.expr,
      legendFormat: t.legendFormat,
      ...(type === 'table' ? { format: 'table', instant: true } : { range: true }),
    })),
    // read by the integration test: a core panel must return data while traffic runs
    ...(p.core ? { description: 'Core panel: returns data whenever Leakwatch runs.' } : {}),
  };
}

for (const d of dashboards) {
  let id = 1;
  const panels = d.rows.flatMap((row, r) => row.map((p, c) => panel(p, id++, c * 8, r * 8)));
  const json = {
    uid: d.uid,
    title: d.title,
    tags: ['leakwatch'],
    timezone: 'utc',
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    editable: false,
    links: [{ title: 'Leakwatch dashboards', type: 'dashboards', tags: ['leakwatch'], asDropdown: true }],
    panels,
  };
  writeFileSync(new URL(`dashboards/${d.uid}.json`, import.meta.url), JSON.stringify(json, null, 2) + '\n');
}
