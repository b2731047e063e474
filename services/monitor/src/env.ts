import {
  checkSharedEnv,
  httpEnv,
  parseEnv,
  sharedServiceEnv,
  toSharedSettings,
  type SharedSettings,
} from '@leakwatch/config';
import { OUTPUT_COMPRESSIONS } from '@leakwatch/kafka';
import { z } from 'zod';

const topicName = (fallback: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be a Kafka topic name (letters, digits, . _ -)')
    .default(fallback);

const positiveInt = (fallback: number, max: number) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int('must be a whole number')
    .min(1)
    .max(max)
    .default(fallback);

/** Every setting of the monitor, parsed once at start-up. */
const MonitorEnv = z
  .object({
    ...sharedServiceEnv,
    ...httpEnv,
    LEAKWATCH_RULES_FILE: z.string().min(1).optional(),
    LEAKWATCH_PARTNERS_FILE: z.string().min(1).optional(),
    LEAKWATCH_TOPIC_AUTHORIZATIONS: topicName('card.authorizations.v1'),
    LEAKWATCH_TOPIC_DEAD_LETTERS: topicName('card.authorizations.dlq.v1'),
    LEAKWATCH_TOPIC_ALERTS: topicName('card.alerts.v1'),
    LEAKWATCH_TOPIC_DISPOSITIONS: topicName('card.alert-dispositions.v1'),
    LEAKWATCH_MONITOR_GROUP_ID: z.string().min(1).default('leakwatch-monitor'),
    LEAKWATCH_MONITOR_CONCURRENCY: positiveInt(6, 64),
    /** Failover time: a crashed member's partitions move to the others after this long. */
    LEAKWATCH_MONITOR_SESSION_TIMEOUT_MS: z.coerce
      .number({ message: 'must be a number' })
      .int('must be a whole number')
      .min(6000, 'must be at least 6000 (the broker refuses shorter sessions by default)')
      .max(300_000)
      .default(30_000),
    // snappy: cheap to compress, pure JS here, and accepted by the broker as written; lz4 and
    // zstd are read but not written (see packages/kafka/src/codecs.ts), gzip costs more CPU
    LEAKWATCH_KAFKA_COMPRESSION: z
      .enum(OUTPUT_COMPRESSIONS, { message: `must be one of ${OUTPUT_COMPRESSIONS.join(', ')}` })
      .default('snappy'),
    LEAKWATCH_CREATE_TOPICS: z
      .enum(['true', 'false'], { message: 'must be "true" or "false"' })
      .default('true')
      .transform((v) => v === 'true'),
    LEAKWATCH_TOPIC_PARTITIONS: positiveInt(6, 1000),
    LEAKWATCH_SHUTDOWN_TIMEOUT_MS: positiveInt(25_000, 600_000),
    /** An in-process filter of watched fingerprints in front of Redis (docs/configuration.md). */
    LEAKWATCH_WATCH_FILTER: z
      .enum(['true', 'false'], { message: 'must be "true" or "false"' })
      .default('true')
      .transform((v) => v === 'true'),
    /** Fingerprint bits per card in that filter: 2^-bits false positives. */
    LEAKWATCH_WATCH_FILTER_BITS: z
      .enum(['8', '16', '32'], { message: 'must be 8, 16 or 32' })
      .default('16')
      .transform((v) => Number(v) as 8 | 16 | 32),
    /** Longest time from an import finishing to its cards matching; the filter syncs twice as often. */
    LEAKWATCH_WATCH_FILTER_MAX_STALE_MS: z.coerce
      .number({ message: 'must be a number' })
      .int('must be a whole number')
      .min(200)
      .max(600_000)
      .default(2000),
    /** leakwatch_consumer_stalled: the committed offset stood still this long while messages wait. */
    LEAKWATCH_CONSUMER_STALL_SECONDS: positiveInt(60, 86_400),
  })
  .superRefine(checkSharedEnv);

export type MonitorEnv = z.output<typeof MonitorEnv>;

/** The parsed environment, the Kafka, registry and Redis settings made from it, and the topics. */
export interface MonitorConfig extends SharedSettings {
  env: MonitorEnv;
  topics: { authorizations: string; deadLetters: string; alerts: string; dispositions: string };
}

/** Parses and checks the environment; throws CONFIG_INVALID listing every problem. */
export function loadEnv(env: Record<string, string | undefined>): MonitorConfig {
  const parsed = parseEnv(MonitorEnv, env, 'monitor configuration');
  return {
    env: parsed,
    ...toSharedSettings(parsed),
    topics: {
      authorizations: parsed.LEAKWATCH_TOPIC_AUTHORIZATIONS,
      deadLetters: parsed.LEAKWATCH_TOPIC_DEAD_LETTERS,
      alerts: parsed.LEAKWATCH_TOPIC_ALERTS,
      dispositions: parsed.LEAKWATCH_TOPIC_DISPOSITIONS,
    },
  };
}
