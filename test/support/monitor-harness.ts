import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { createKeyring, type Keyring } from '@leakwatch/card';
import {
  createAlertDecoder,
  createSchemaRegistry,
  type CardAuthorizationInput,
  type SuspiciousChargeAlert,
} from '@leakwatch/contracts';
import { LeakStore, type IncidentManifest } from '@leakwatch/leak-store';
import { createRootLogger, type Logger, type RootLoggerOptions } from '@leakwatch/logger';
import { loadEnv, startMonitor, type MonitorHandle } from '@leakwatch/monitor-service';
import type { WatchedCard } from '@leakwatch/simulator';
import { collectMessages, type CollectedMessage, type StackEndpoints } from '@leakwatch/testing';
import type { Redis } from 'ioredis';
import type { Admin, Kafka } from 'kafkajs';
import { expect, vi } from 'vitest';
import { watchedCardsFor } from './traffic.js';

/** A fresh fingerprint key: the env value and the keyring the test computes expectations with. */
export function freshFingerprintKey(keyId = 'k1'): { env: string; keyring: Keyring } {
  const key = randomBytes(32);
  return { env: `${keyId}:${key.toString('base64')}`, keyring: createKeyring([{ keyId, key }]) };
}

export interface MonitorTopicNames {
  authorizations: string;
  alerts: string;
  deadLetters: string;
  dispositions: string;
}

/** Fresh input, alert, dead-letter and disposition topics (deleted by the fixture after the test). */
export async function createMonitorTopics(
  createTopics: (
    topics: Array<{
      name: string;
      numPartitions?: number;
      configEntries?: { name: string; value: string }[];
    }>,
  ) => Promise<string[]>,
  partitions = 3,
): Promise<MonitorTopicNames> {
  const [authorizations, alerts, deadLetters, dispositions] = await createTopics([
    { name: 'auth', numPartitions: partitions },
    { name: 'alerts', numPartitions: partitions },
    { name: 'dlq', numPartitions: partitions },
    { name: 'dispositions', numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
  ]);
  return {
    authorizations: authorizations as string,
    alerts: alerts as string,
    deadLetters: deadLetters as string,
    dispositions: dispositions as string,
  };
}

export interface MonitorEnvOptions {
  endpoints: StackEndpoints;
  topics: MonitorTopicNames;
  groupId: string;
  redisPrefix: string;
  fingerprintKeys: string;
  redisUrl?: string;
  registryUrl?: string;
  extra?: Record<string, string>;
}

/** The LEAKWATCH_* environment of a monitor on these topics, group and key prefix. */
export function monitorEnv(options: MonitorEnvOptions): Record<string, string> {
  return {
    LEAKWATCH_KAFKA_BROKERS: options.endpoints.kafkaBrokers.join(','),
    LEAKWATCH_SCHEMA_REGISTRY_URL: options.registryUrl ?? options.endpoints.schemaRegistryUrl,
    LEAKWATCH_REDIS_URL: options.redisUrl ?? options.endpoints.redisUrl,
    LEAKWATCH_REDIS_KEY_PREFIX: options.redisPrefix,
    LEAKWATCH_FINGERPRINT_KEYS: options.fingerprintKeys,
    LEAKWATCH_HTTP_PORT: '0',
    LEAKWATCH_LOG_LEVEL: 'debug',
    LEAKWATCH_CREATE_TOPICS: 'false',
    LEAKWATCH_TOPIC_AUTHORIZATIONS: options.topics.authorizations,
    LEAKWATCH_TOPIC_ALERTS: options.topics.alerts,
    LEAKWATCH_TOPIC_DEAD_LETTERS: options.topics.deadLetters,
    LEAKWATCH_TOPIC_DISPOSITIONS: options.topics.dispositions,
    LEAKWATCH_MONITOR_GROUP_ID: options.groupId,
    LEAKWATCH_SHUTDOWN_TIMEOUT_MS: '20000',
    ...options.extra,
  };
}

/**
 * Starts a monitor in this process with the environment of `monitorEnv(env)`. The logger is
 * `logger` when given, else a root logger named "monitor" at `level` (default silent) writing to
 * `destination` (default stdout).
 */
export async function startInProcessMonitor(
  env: MonitorEnvOptions,
  options: {
    logger?: Logger;
    level?: RootLoggerOptions['level'];
    destination?: RootLoggerOptions['destination'];
    secretEnv?: Record<string, string>;
  } = {},
): Promise<MonitorHandle> {
  const config = loadEnv(monitorEnv(env));
  const logger =
    options.logger ??
    createRootLogger({
      name: 'monitor',
      level: options.level ?? 'silent',
      ...(options.destination ? { destination: options.destination } : {}),
    });
  return startMonitor(config, {
    logger,
    ...(options.secretEnv ? { secretEnv: options.secretEnv } : {}),
  });
}

/** Waits until the monitor's /readyz answers 200. */
export async function waitUntilReady(
  port: number,
  wait: { timeout: number; interval: number },
): Promise<void> {
  await vi.waitFor(async () => expect((await getOps(port, '/readyz')).status).toBe(200), wait);
}

/**
 * An authorization builder with everyday defaults (card present, approved, 5,000 JPY at
 * `merchant`), at `minute` minutes after `t0`.
 */
export function authorizationBuilder(t0: number, merchant: CardAuthorizationInput['merchant']) {
  return (
    eventId: string,
    minute: number,
    card: CardAuthorizationInput['card'],
    overrides: Partial<CardAuthorizationInput> = {},
  ): CardAuthorizationInput => ({
    eventId,
    occurredAt: t0 + minute * 60_000,
    mti: '0100',
    card,
    amountMinor: 5000,
    currency: 'JPY',
    merchant,
    channel: 'CARD_PRESENT',
    threeDs: null,
    cvvResult: null,
    responseCode: '00',
    acquirerId: 'acq-01',
    ...overrides,
  });
}

/**
 * Fresh monitor topics, a fresh fingerprint key, and an incident `inc-<testId>` watching
 * `cardCount` simulated cards, imported under `redisPrefix`.
 */
export async function watchedIncident(options: {
  createTopics: Parameters<typeof createMonitorTopics>[0];
  redis: Redis;
  redisPrefix: string;
  testId: string;
  cardCount?: number;
}): Promise<{
  topics: MonitorTopicNames;
  fingerprintKeys: string;
  keyring: Keyring;
  watchedCards: WatchedCard[];
}> {
  const topics = await createMonitorTopics(options.createTopics);
  const { env: fingerprintKeys, keyring } = freshFingerprintKey();
  const watchedCards = watchedCardsFor(options.testId, options.cardCount ?? 12);
  await importIncident({
    redis: options.redis,
    keyPrefix: options.redisPrefix,
    keyring,
    manifest: testManifest(`inc-${options.testId}`),
    cards: watchedCards,
  });
  return { topics, fingerprintKeys, keyring, watchedCards };
}

/** A log destination that keeps every line, to read back what the process logged. */
export function captureLines(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  let partial = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      const text = partial + chunk.toString();
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) if (line.length > 0) lines.push(line);
      done();
    },
    final(done) {
      if (partial.length > 0) lines.push(partial);
      done();
    },
  });
  return { stream, lines };
}

export interface WatchedCardSpec {
  pan: string;
  /** The leaked expiry ("YYYY-MM"), or null when the list had none. */
  expiry: string | null;
}

/** Imports one incident and its cards into the leak store under `keyPrefix`, as `leaks import` would. */
export async function importIncident(options: {
  redis: Redis;
  keyPrefix: string;
  keyring: Keyring;
  manifest: IncidentManifest;
  cards: readonly WatchedCardSpec[];
}): Promise<void> {
  const store = new LeakStore({ redis: options.redis, keyPrefix: options.keyPrefix });
  await store.start();
  try {
    await store.upsertIncident(options.manifest);
    const result = await store.addCards(
      options.manifest.incidentId,
      options.cards.map((card) => {
        const fingerprint = options.keyring.fingerprint(card.pan);
        return {
          fingerprint,
          expiryTag:
            card.expiry === null
              ? null
              : options.keyring.expiryTag(fingerprint, card.expiry, options.keyring.currentKeyId),
        };
      }),
    );
    if (result.added !== options.cards.length) {
      throw new Error(`expected ${options.cards.length} cards added, got ${result.added}`);
    }
  } finally {
    await store.close();
  }
}

/** A manifest with every field filled; `dataExposed` decides the CVV rule. */
export function testManifest(
  incidentId: string,
  overrides: Partial<IncidentManifest> = {},
): IncidentManifest {
  return {
    incidentId,
    source: 'integration test',
    compromiseType: 'WEB_SKIMMING',
    exposureStart: '2020-02-24',
    exposureEnd: '2024-10-15',
    disclosedAt: '2025-05-20',
    dataExposed: ['PAN', 'EXPIRY', 'CVV', 'NAME'],
    watchUntil: null,
    ...overrides,
  };
}

/** GET on the monitor's ops server. */
export async function getOps(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: await response.text() };
}

/** The value of `name{...labels}` in Prometheus text (0 when absent). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const match = /^([^{\s]+)(?:\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = new Map(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => found.get(k) === v)) total += Number(match[3]);
  }
  return total;
}

/** Processed counts by outcome, from /metrics text. */
export function processedCounts(text: string): {
  clean: number;
  alerted: number;
  deadLettered: number;
  total: number;
} {
  const name = 'leakwatch_authorizations_processed_total';
  const clean = metricValue(text, name, { outcome: 'clean' });
  const alerted = metricValue(text, name, { outcome: 'alerted' });
  const deadLettered = metricValue(text, name, { outcome: 'dead_lettered' });
  return { clean, alerted, deadLettered, total: clean + alerted + deadLettered };
}

/**
 * Every message of `topic` up to its current end offsets: call it once the producer side is
 * known to be done (offsets committed), and the result is the complete content, not a prefix.
 */
export async function readToEnd(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  timeoutMs = 60_000,
): Promise<CollectedMessage[]> {
  const ends = await admin.fetchTopicOffsets(topic);
  const wanted = new Map<number, bigint>();
  for (const { partition, high, low } of ends)
    if (BigInt(high) > BigInt(low)) wanted.set(partition, BigInt(high) - 1n);
  if (wanted.size === 0) return [];
  return collectMessages(kafka, {
    topic,
    timeoutMs,
    until: (messages) => {
      const seen = new Map<number, bigint>();
      for (const m of messages) {
        const offset = BigInt(m.offset);
        if (offset > (seen.get(m.partition) ?? -1n)) seen.set(m.partition, offset);
      }
      return [...wanted].every(([partition, last]) => (seen.get(partition) ?? -1n) >= last);
    },
  });
}

/** Sum of the end offsets of a topic: how many messages it holds (no compaction, no deletion). */
export async function messageCount(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, { high, low }) => sum + Number(BigInt(high) - BigInt(low)), 0);
}

/** Sum of the offsets `groupId` committed on `topic` (-1, nothing committed, counts as 0). */
export async function committedCount(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (entry?.partitions ?? []).reduce((sum, { offset }) => sum + Math.max(0, Number(offset)), 0);
}

/** Decodes alert messages with the contract's decoder (through the real registry). */
export async function decodeAlerts(
  registryUrl: string,
  messages: readonly CollectedMessage[],
): Promise<Array<{ key: string; partition: number; value: Buffer; alert: SuspiciousChargeAlert }>> {
  const decoder = createAlertDecoder({ registry: createSchemaRegistry({ url: registryUrl }) });
  const decoded = await decoder.decodeBatch(messages.map((m) => m.value));
  return decoded.map((result, i) => {
    const message = messages[i] as CollectedMessage;
    if (!result.ok)
      throw new Error(
        `alert at ${message.partition}/${message.offset} does not decode: ${result.code} ${result.message}`,
      );
    return {
      key: message.key?.toString() ?? '',
      partition: message.partition,
      value: message.value as Buffer,
      alert: result.value,
    };
  });
}
