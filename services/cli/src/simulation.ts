import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Keyring } from '@leakwatch/card';
import { normalizePan, parseExpiry } from '@leakwatch/card';
import {
  cardAuthorizationAvro,
  confluentFrame,
  createAuthorizationEncoder,
  createSchemaRegistry,
  valueSubject,
} from '@leakwatch/contracts';
import type { KafkaSettings, RegistrySettings } from '@leakwatch/config';
import { LeakwatchError } from '@leakwatch/errors';
import { createKafka, ensureTopics } from '@leakwatch/kafka';
import { silentLogger } from '@leakwatch/logger';
import {
  createTrafficGenerator,
  messageValue,
  runTraffic,
  type SimulatedEvent,
  type TrafficGeneratorOptions,
  type TrafficRunResult,
  type TrafficStats,
} from '@leakwatch/simulator';
import { CompressionTypes, Partitioners } from 'kafkajs';

export interface SimulationOptions {
  kafka: KafkaSettings;
  registry: RegistrySettings;
  topic: string;
  ratePerSecond: number;
  durationMs?: number | undefined;
  count?: number | undefined;
  generator: Omit<TrafficGeneratorOptions, 'encodeAvro' | 'fingerprinter'>;
  /** Lets a share of events carry a fingerprint instead of the PAN (upstreams holding the key). */
  keyring?: Keyring | undefined;
  onProgress?: (stats: TrafficStats) => void;
  onEvents?: (events: SimulatedEvent[]) => void;
  signal?: AbortSignal;
}

/**
 * Produces simulated authorizations to Kafka at a set rate, Confluent-framed Avro (schema
 * registered under <topic>-value) or JSON. Used by `simulate`, the demo and the benchmark.
 */
export async function runSimulation(options: SimulationOptions): Promise<TrafficRunResult> {
  const registry = createSchemaRegistry({ ...options.registry, clientId: 'leakwatch-simulate' });
  const encoder = await createAuthorizationEncoder({ registry, subject: valueSubject(options.topic) });
  const kafka = createKafka({ ...options.kafka, clientId: 'leakwatch-simulate' }, silentLogger());
  await ensureTopics(kafka, [{ topic: options.topic }]);
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  try {
    const keyring = options.keyring;
    // framed without validation: poison (negative amounts, bad currencies) must reach Kafka as is
    const encodeAvro = (value: unknown) =>
      confluentFrame(encoder.schemaId, cardAuthorizationAvro.type.toBuffer(value));
    const generator = createTrafficGenerator({
      ...options.generator,
      encodeAvro,
      ...(keyring
        ? {
            fingerprinter: (pan: string) => ({
              keyId: keyring.currentKeyId,
              fingerprint: keyring.fingerprint(pan),
            }),
          }
        : {}),
    });
    return await runTraffic({
      generator,
      ratePerSecond: options.ratePerSecond,
      durationMs: options.durationMs,
      count: options.count,
      batchSize: Math.max(1, Math.min(2000, Math.ceil(options.ratePerSecond / 20))),
      onProgress: options.onProgress,
      ...(options.signal ? { signal: options.signal } : {}),
      send: async (events) => {
        options.onEvents?.(events);
        await producer.send({
          topic: options.topic,
          acks: -1,
          compression: CompressionTypes.None,
          messages: events.map((event) => ({
            key: event.key,
            value: messageValue(event, encodeAvro),
            timestamp: String(Date.now()),
          })),
        });
      },
    });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Reads PAN and expiry of watched cards from a cards file (CSV with a header, as written by the
 * demo or `simulate --write-incident`). Only simulated, synthetic cards belong in such a file.
 */
export async function readWatchedCards(path: string): Promise<Array<{ pan: string; expiry: string | null }>> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  const cards: Array<{ pan: string; expiry: string | null }> = [];
  let panIndex = -1;
  let expiryIndex = -1;
  for await (const rawLine of lines) {
    const line = rawLine.replace(/^\uFEFF/, '');
    if (!line.trim()) continue;
    const cells = splitCsvLine(line);
    if (panIndex < 0) {
      const header = cells.map((c) => c.trim().toLowerCase());
      panIndex = header.findIndex((h) => h === 'pan' || h === 'card_number');
      expiryIndex = header.findIndex((h) => h === 'expiry' || h === 'exp');
      if (panIndex < 0) throw new LeakwatchError('CARDS_FILE_INVALID', `${path}: no pan column`);
      continue;
    }
    const pan = normalizePan(cells[panIndex] ?? '');
    if (!pan.ok) continue;
    const expiry = expiryIndex >= 0 ? parseExpiry(cells[expiryIndex] ?? '') : undefined;
    cards.push({ pan: pan.pan, expiry: expiry?.ok ? expiry.expiry : null });
  }
  return cards;
}

function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else current += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(current);
      current = '';
    } else current += ch;
  }
  cells.push(current);
  return cells;
}
