import type { KafkaSettings, RegistrySettings } from '@leakwatch/config';
import {
  cardAuthorizationAvro,
  confluentFrame,
  createAuthorizationEncoder,
  valueSubject,
} from '@leakwatch/contracts';
import { createTrafficGenerator, messageValue, runTraffic, type WatchedCard } from '@leakwatch/simulator';
import type { Producer } from 'kafkajs';

/**
 * The four topics a benchmarked monitor reads and writes, named after the run and a purpose. A
 * type, not an interface, so that `Object.values` of one is a `string[]`.
 */
export type BenchTopics = Record<'authorizations' | 'alerts' | 'deadLetters' | 'dispositions', string>;

export function benchTopics(runId: string, purpose: string): BenchTopics {
  return {
    authorizations: `bench.${runId}.${purpose}.authorizations`,
    alerts: `bench.${runId}.${purpose}.alerts`,
    deadLetters: `bench.${runId}.${purpose}.dlq`,
    dispositions: `bench.${runId}.${purpose}.dispositions`,
  };
}

/**
 * Produces `count` Confluent-framed Avro authorizations to `topic` as fast as Kafka takes them
 * (acks from all replicas), 1% on the watched cards, from the simulator's seed 5: every
 * benchmark fills its backlog the same way. Returns the rate achieved.
 */
export async function fillBacklog(options: {
  producer: Producer;
  registry: Parameters<typeof createAuthorizationEncoder>[0]['registry'];
  topic: string;
  count: number;
  watched: readonly WatchedCard[];
  runId: string;
}): Promise<{ achievedRate: number }> {
  const encoder = await createAuthorizationEncoder({
    registry: options.registry,
    subject: valueSubject(options.topic),
  });
  const encodeAvro = (value: unknown) =>
    confluentFrame(encoder.schemaId, cardAuthorizationAvro.type.toBuffer(value));
  return runTraffic({
    generator: createTrafficGenerator({
      seed: 5,
      runId: options.runId,
      watchedCards: options.watched,
      watchedShare: 0.01,
      encodeAvro,
    }),
    ratePerSecond: Infinity,
    count: options.count,
    batchSize: 2000,
    send: async (events) => {
      await options.producer.send({
        topic: options.topic,
        acks: -1,
        messages: events.map((e) => ({ key: e.key, value: messageValue(e, encodeAvro) })),
      });
    },
  });
}

/** The environment of a benchmarked monitor (or hunt): the stack, the run's key, prefix and topics. */
export function benchMonitorEnv(options: {
  redisUrlEnv: Record<string, string>;
  kafka: KafkaSettings;
  registry: RegistrySettings;
  /** base64 of the run's fingerprint key (key id `bench`). */
  keyBytes: string;
  prefix: string;
  topics: BenchTopics;
  group: string;
  logLevel?: string;
}): Record<string, string> {
  const { topics } = options;
  return {
    ...options.redisUrlEnv,
    LEAKWATCH_KAFKA_BROKERS: options.kafka.brokers.join(','),
    LEAKWATCH_SCHEMA_REGISTRY_URL: options.registry.url,
    LEAKWATCH_FINGERPRINT_KEYS: `bench:${options.keyBytes}`,
    LEAKWATCH_REDIS_KEY_PREFIX: options.prefix,
    LEAKWATCH_HTTP_PORT: '0',
    LEAKWATCH_LOG_LEVEL: options.logLevel ?? 'warn',
    LEAKWATCH_CREATE_TOPICS: 'false',
    LEAKWATCH_TOPIC_AUTHORIZATIONS: topics.authorizations,
    LEAKWATCH_TOPIC_ALERTS: topics.alerts,
    LEAKWATCH_TOPIC_DEAD_LETTERS: topics.deadLetters,
    LEAKWATCH_TOPIC_DISPOSITIONS: topics.dispositions,
    LEAKWATCH_MONITOR_GROUP_ID: options.group,
  };
}
