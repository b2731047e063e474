import { writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createKeyring } from '@leakwatch/card';
import {
  createAlertEncoder,
  createAuthorizationDecoder,
  createSchemaRegistry,
  registerContractSchemas,
  valueSubject,
} from '@leakwatch/contracts';
import {
  DEFAULT_HUNT_MAX_RATE,
  formatSummary,
  runArchiveHunt,
  runKafkaHunt,
  type HuntSummary,
  type RejectedRow,
} from '@leakwatch/hunt';
import { createKafka } from '@leakwatch/kafka';
import { LeakStore } from '@leakwatch/leak-store';
import { createRootLogger } from '@leakwatch/logger';
import { loadEnv, watchFilterFromEnv } from '@leakwatch/monitor-service';
import { loadPartners } from '@leakwatch/partners';
import { alertMessage, CardHistory, createMonitorMetrics } from '@leakwatch/pipeline';
import { createRedisClient, PipelineRunner } from '@leakwatch/redis';
import { openRuleSetSource } from '@leakwatch/rules';
import { Partitioners } from 'kafkajs';
import { Registry } from 'prom-client';
import { formatRate, Progress } from '../progress.js';
import { CliFailure } from './index.js';
import type { CommandHandler } from './command.js';

const HELP = `Usage: leakwatch hunt --incident <id> [--from <time>] [--to <time>] [--input <archive>]
                      [--reject-report <path>] [--dry-run] [--max-rate <per second>]

When a breach is disclosed, finds the charges that already happened on its cards. Reads the
authorizations still retained in Kafka (from the offsets of --from, default the incident's
exposureStart, to the end of the topic when the hunt starts, or --to), or an archive exported
from a warehouse (--input: NDJSON or Avro object container, same field names), and checks each
against that incident only, with the live monitor's rules. Matches raise alerts with
retrospective: true on the alerts topic (so partners get them as usual); a rerun raises the same
alertIds. Ctrl-C stops after the batch in hand; running the same hunt again resumes it.

  --from, --to       ISO-8601 date or date-time (event timestamps of the topic)
  --dry-run          decide and report, publish nothing (its own group: a real run is unaffected)
  --max-rate N       at most N authorizations a second, to stay out of the live monitor's way
                     (default ${DEFAULT_HUNT_MAX_RATE}; \`unlimited\` when no monitor runs beside it)
  --reject-report    archives: where refused rows go (default <archive>.rejects.ndjson)

Configured like the monitor (LEAKWATCH_* variables, rules and partners files).
`;

/** --max-rate: a number above 0, or `unlimited` (undefined: no throttle); default DEFAULT_HUNT_MAX_RATE. */
export function parseMaxRate(value: string | undefined): number | undefined {
  if (value === undefined) return DEFAULT_HUNT_MAX_RATE;
  if (value === 'unlimited') return undefined;
  const rate = Number(value);
  if (!(rate > 0))
    throw new CliFailure(`--max-rate must be a number above 0 or "unlimited", got "${value}"`, 2);
  return rate;
}

function parseTime(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms))
    throw new CliFailure(`--${name} must be an ISO-8601 date or date-time, got "${value}"`, 2);
  return ms;
}

export const huntCommand: CommandHandler = {
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        incident: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        input: { type: 'string' },
        'reject-report': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        'max-rate': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (!values.incident) throw new CliFailure('hunt needs --incident <id> (see leakwatch hunt --help)', 2);
    const maxRate = parseMaxRate(values['max-rate']);
    let from = parseTime('from', values.from);
    const to = parseTime('to', values.to);
    const dryRun = values['dry-run'] === true;

    const config = loadEnv(process.env);
    const { env, topics } = config;
    const logger = createRootLogger({ name: 'hunt', level: env.LEAKWATCH_LOG_LEVEL });
    const redis = createRedisClient(config.redis, {
      connectionName: 'leakwatch-hunt',
      maxRetriesPerRequest: 3,
    });
    redis.on('error', () => undefined);
    const store = new LeakStore({ redis, keyPrefix: env.LEAKWATCH_REDIS_KEY_PREFIX });
    // as in the monitor: clean cards are answered in memory, candidates are asked of Redis
    const watchFilter = watchFilterFromEnv(env, store, logger);
    const kafka = createKafka(config.kafka, logger);
    const producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    const rules = await openRuleSetSource({
      ...(env.LEAKWATCH_RULES_FILE ? { path: env.LEAKWATCH_RULES_FILE } : {}),
      logger: logger.child({ component: 'rules' }),
    });
    const stop = new AbortController();
    const onSignal = () => {
      process.stderr.write(
        '\nhunt: stopping after the batch in hand; run the same command again to resume\n',
      );
      stop.abort();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await store.start();
      if (watchFilter) {
        // a batch job can wait for the filter (seconds at 10M cards) rather than ask Redis for
        // every card meanwhile; a store whose logs are incomplete never loads: go on after 15 s
        watchFilter.start();
        await Promise.race([watchFilter.loaded, delay(15_000, undefined, { ref: false })]);
      }
      const incident = await store.getIncident(values.incident);
      if (!incident) throw new CliFailure(`no incident "${values.incident}" (see leakwatch leaks list)`, 1);
      if (incident.status !== 'active')
        throw new CliFailure(
          `incident "${values.incident}" is ${incident.status}: nothing of it is watched`,
          1,
        );
      if (from === undefined && incident.exposureStart) from = Date.parse(incident.exposureStart);
      const registry = createSchemaRegistry({
        ...config.registry,
        clientId: 'leakwatch-hunt',
        requestTimeoutMs: 5000,
      });
      await registerContractSchemas(registry, topics);
      const encoder = await createAlertEncoder({ registry, subject: valueSubject(topics.alerts) });
      const partners = await loadPartners(env.LEAKWATCH_PARTNERS_FILE, { env: process.env });
      const historyPrefix = `${env.LEAKWATCH_REDIS_KEY_PREFIX}hunt${dryRun ? '-dry-run' : ''}:${incident.incidentId}:`;
      const dependencies = {
        decoder: createAuthorizationDecoder({ registry, lookupTimeoutMs: 5000 }),
        keyring: createKeyring(env.LEAKWATCH_FINGERPRINT_KEYS),
        watchList: watchFilter ?? store,
        history: new CardHistory(new PipelineRunner(redis), { keyPrefix: historyPrefix }),
        router: partners,
        now: Date.now,
      };
      const progress = new Progress(`hunt ${incident.incidentId}`);
      const started = Date.now();
      let summary: HuntSummary;
      let complete: boolean;
      if (values.input) {
        const rejectPath = values['reject-report'] ?? `${values.input}.rejects.ndjson`;
        const rejects: RejectedRow[] = [];
        if (!dryRun) await producer.connect();
        const result = await runArchiveHunt({
          path: values.input,
          incidentId: incident.incidentId,
          window: { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) },
          dependencies,
          ruleSet: () => rules.current(),
          ...(dryRun
            ? {}
            : {
                publish: async (alerts) => {
                  await producer.send({
                    topic: topics.alerts,
                    acks: -1,
                    messages: alerts.map((a) => alertMessage(a, (alert) => encoder.encode(alert))),
                  });
                },
              }),
          onReject: (row) => rejects.push(row),
          onProgress: (s) =>
            progress.update(
              `${s.scanned} rows, ${s.alerts} alerts, ${formatRate(s.scanned, (Date.now() - started) / 1000)}`,
            ),
          ...(maxRate ? { maxRate } : {}),
          signal: stop.signal,
        });
        writeFileSync(
          rejectPath,
          rejects.map((r) => JSON.stringify(r)).join('\n') + (rejects.length ? '\n' : ''),
        );
        if (rejects.length > 0) process.stdout.write(`rejected rows: ${rejects.length}, see ${rejectPath}\n`);
        ({ complete } = result);
        summary = result;
      } else {
        const result = await runKafkaHunt({
          kafka,
          topics,
          incidentId: incident.incidentId,
          ...(from !== undefined ? { from } : {}),
          ...(to !== undefined ? { to } : {}),
          dryRun,
          ...(maxRate ? { maxRate } : {}),
          sessionTimeoutMs: env.LEAKWATCH_MONITOR_SESSION_TIMEOUT_MS,
          state: redis,
          stateKeyPrefix: env.LEAKWATCH_REDIS_KEY_PREFIX,
          dependencies,
          ruleSet: () => rules.current(),
          encodeAlert: (alert) => encoder.encode(alert),
          metrics: createMonitorMetrics(new Registry()),
          logger,
          onProgress: ({ scanned, total, alerts }) => {
            const seconds = (Date.now() - started) / 1000;
            const rate = scanned / Math.max(seconds, 0.001);
            const eta = rate > 0 ? Math.max(0, Math.round((total - scanned) / rate)) : undefined;
            progress.update(
              `${scanned}/${total} scanned, ${alerts} alerts, ${formatRate(scanned, seconds)}${eta === undefined ? '' : `, ETA ${eta}s`}`,
              total > 0 ? scanned / total : undefined,
            );
          },
          signal: stop.signal,
        });
        if (result.resumed) process.stdout.write(`resumed hunt ${result.groupId}\n`);
        ({ summary, complete } = result);
      }
      const seconds = progress.done();
      process.stdout.write(
        `hunt ${incident.incidentId}${dryRun ? ' (dry run: nothing published)' : ''}: ${complete ? 'complete' : 'stopped, run again to resume'} in ${seconds.toFixed(1)} s (${formatRate(summary.scanned, seconds)})\n`,
      );
      for (const line of formatSummary(summary)) process.stdout.write(`  ${line}\n`);
      return complete ? 0 : 130;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await producer.disconnect().catch(() => undefined);
      await watchFilter?.close();
      await rules.close().catch(() => undefined);
      await store.close().catch(() => undefined);
      await redis.quit().catch(() => redis.disconnect());
    }
  },
};
