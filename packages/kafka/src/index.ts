import { readFileSync } from 'node:fs';
import type { KafkaSettings } from '@leakwatch/config';
import { LeakwatchError } from '@leakwatch/errors';
import type { Logger } from '@leakwatch/logger';
import { Kafka, logLevel, type ITopicConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { ConfigResourceTypes } from 'kafkajs';
import { registerCompressionCodecs } from './codecs.js';

export {
  compressionType,
  OUTPUT_COMPRESSIONS,
  registerCompressionCodecs,
  type OutputCompression,
} from './codecs.js';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** A kafkajs client whose own logs go through our pino logger (so redaction applies). */
export function createKafka(settings: KafkaSettings, logger: Logger): Kafka {
  registerCompressionCodecs();
  if (settings.sasl && !settings.ssl && settings.allowSaslPlaintext !== true) {
    // the env check refuses this too; settings built in code get the same answer
    throw new LeakwatchError(
      'CONFIG_INVALID',
      'SASL over plaintext Kafka sends credentials readable on the network: set LEAKWATCH_KAFKA_SSL=true, or LEAKWATCH_KAFKA_ALLOW_SASL_PLAINTEXT=true to accept that',
    );
  }
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  const sasl: SASLOptions | undefined = settings.sasl
    ? {
        mechanism: settings.sasl.mechanism,
        username: settings.sasl.username,
        password: settings.sasl.password,
      }
    : undefined;
  let ssl: boolean | { ca: string[] } = settings.ssl;
  if (settings.ssl && settings.sslCaFile) {
    try {
      ssl = { ca: [readFileSync(settings.sslCaFile, 'utf8')] };
    } catch (error) {
      throw new LeakwatchError(
        'CONFIG_INVALID',
        `LEAKWATCH_KAFKA_SSL_CA_FILE: cannot read ${settings.sslCaFile}`,
        {
          cause: error,
        },
      );
    }
  }
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    ssl,
    ...(sasl ? { sasl } : {}),
    connectionTimeout: 3000,
    requestTimeout: 30_000,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 5000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...extra } = log;
        kafkaLogger[LEVELS[level] ?? 'info'](extra, message);
      },
  });
}

export interface TopicSpec {
  topic: string;
  numPartitions?: number;
  compacted?: boolean;
}

/**
 * Creates the topics that do not exist yet (never alters existing ones). Production clusters
 * usually manage topics elsewhere; this keeps a fresh environment one command away.
 */
export async function ensureTopics(
  kafka: Kafka,
  topics: readonly TopicSpec[],
  defaultPartitions = 6,
): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing: ITopicConfig[] = topics
      .filter((t) => !existing.has(t.topic))
      .map((t) => ({
        topic: t.topic,
        numPartitions: t.numPartitions ?? defaultPartitions,
        configEntries: t.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
      }));
    if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true });
    return missing.map((t) => t.topic);
  } catch (error) {
    throw new LeakwatchError('KAFKA_UNAVAILABLE', `could not create topics: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    await admin.disconnect();
  }
}

export { OrderedCommits } from './ordered-commits.js';
export {
  adminOffsetSource,
  ConsumerLagTracker,
  registerConsumerLagMetrics,
  type OffsetSource,
  type PartitionLag,
  type PartitionOffsets,
} from './lag.js';

/** Kafka's default max.message.bytes (broker message.max.bytes), used when a topic says nothing. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

// kafkajs is CommonJS and Node's ESM loader does not see ConfigResourceTypes as a named export
const TOPIC_RESOURCE = 2 as ConfigResourceTypes;

/**
 * max.message.bytes of each topic (the topic's own setting, else the broker's default): the
 * largest record batch the broker accepts there. Producers split their requests below it.
 */
export async function topicMaxMessageBytes(
  kafka: Kafka,
  topics: readonly string[],
): Promise<Map<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({
      resources: topics.map((name) => ({
        type: TOPIC_RESOURCE,
        name,
        configNames: ['max.message.bytes'],
      })),
      includeSynonyms: false,
    });
    const limits = new Map<string, number>();
    for (const resource of described.resources) {
      const entry = resource.configEntries.find((e) => e.configName === 'max.message.bytes');
      const value = Number(entry?.configValue);
      limits.set(
        resource.resourceName,
        Number.isFinite(value) && value > 0 ? value : DEFAULT_MAX_MESSAGE_BYTES,
      );
    }
    return limits;
  } finally {
    await admin.disconnect();
  }
}
