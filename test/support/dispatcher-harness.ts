import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createAlertEncoder,
  createSchemaRegistry,
  ensureSchemaRegistered,
  exampleAlert,
  suspiciousChargeAlertAvro,
  valueSubject,
  type Severity,
  type SuspiciousChargeAlert,
} from '@leakwatch/contracts';
import type { StackEndpoints } from '@leakwatch/testing';
import type { Kafka } from 'kafkajs';
import { onTestFinished } from 'vitest';

/** The production command's script (README "Run in production"). */
export const DISPATCHER_MAIN = fileURLToPath(
  new URL('../../services/dispatcher/dist/main.js', import.meta.url),
);

/** A Standard Webhooks secret shared by the partners file and the test receivers. */
export const secret = `whsec_${Buffer.alloc(32, 11).toString('base64')}`;

/** Alert `n` on a card of `bin` (the BIN routes it to its partner). */
export function alert(n: number, bin: string, severity: Severity = 'HIGH'): SuspiciousChargeAlert {
  const base = exampleAlert();
  return {
    ...base,
    alertId: `alt-${n}`,
    eventId: `evt-${n}`,
    detectedAt: Date.now(),
    severity,
    card: {
      ...base.card,
      bin,
      fingerprint: createHash('sha256').update(`card-${n}`).digest('base64url'),
    },
  };
}

/** Produces `alerts` to `topic`, Avro under the topic's subject, acks=all. */
export async function produceAlerts(
  kafka: Kafka,
  endpoints: StackEndpoints,
  topic: string,
  alerts: SuspiciousChargeAlert[],
) {
  const registry = createSchemaRegistry({ url: endpoints.schemaRegistryUrl });
  await ensureSchemaRegistered(registry, suspiciousChargeAlertAvro, valueSubject(topic));
  const encoder = await createAlertEncoder({ registry, subject: valueSubject(topic) });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: alerts.map((a) => ({ key: a.card.fingerprint, value: encoder.encode(a) })),
  });
  await producer.disconnect();
}

/** The dispatcher's environment for a test: its own topics, group, key prefix, fast polls. */
export function dispatcherEnv(
  endpoints: StackEndpoints,
  options: {
    alerts: string;
    dispositions: string;
    groupId: string;
    redisPrefix: string;
    partnersFile: string;
  },
): Record<string, string> {
  return {
    LEAKWATCH_KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
    LEAKWATCH_SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
    LEAKWATCH_REDIS_URL: endpoints.redisUrl,
    LEAKWATCH_REDIS_KEY_PREFIX: options.redisPrefix,
    LEAKWATCH_TOPIC_ALERTS: options.alerts,
    LEAKWATCH_TOPIC_DISPOSITIONS: options.dispositions,
    LEAKWATCH_DISPATCHER_GROUP_ID: options.groupId,
    LEAKWATCH_PARTNERS_FILE: options.partnersFile,
    LEAKWATCH_HTTP_PORT: '0',
    LEAKWATCH_DISPATCH_INTAKE: 'false',
    LEAKWATCH_TOPIC_PARTITIONS: '3',
    LEAKWATCH_DISPATCH_POLL_MS: '100',
    LEAKWATCH_DISPATCH_LEASE_MARGIN_MS: '500',
    LEAKWATCH_LOG_LEVEL: 'warn',
  };
}

/** Writes a partners file (YAML lines) in a fresh directory removed when the test finishes. */
export async function writePartnersFile(lines: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'leakwatch-dispatch-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'partners.yaml');
  await writeFile(path, [...lines, ''].join('\n'));
  return path;
}
