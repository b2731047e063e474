import {
  booleanString,
  checkSharedEnv,
  httpEnv,
  kafkaEnv,
  loggingEnv,
  parseEnv,
  portNumber,
  redisEnv,
  registryEnv,
  toSharedSettings,
  type SharedSettings,
} from '@leakwatch/config';
import { z } from 'zod';

const topicName = (fallback: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be a Kafka topic name (letters, digits, . _ -)')
    .default(fallback);

const wholeNumber = (fallback: number, min: number, max: number) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(fallback);

/** Every setting of the dispatcher, parsed once at start-up. No fingerprint keys: it never sees a PAN. */
const DispatcherEnv = z
  .object({
    ...kafkaEnv,
    ...registryEnv,
    ...redisEnv,
    ...loggingEnv,
    ...httpEnv,
    /** /metrics, /healthz, /readyz. */
    LEAKWATCH_HTTP_PORT: portNumber(9465),
    /** Issuer-facing disposition intake, apart from /metrics; on LEAKWATCH_HTTP_HOST too. */
    LEAKWATCH_INTAKE_PORT: portNumber(8088),
    LEAKWATCH_DISPATCH_INTAKE: booleanString(true),
    LEAKWATCH_PARTNERS_FILE: z.string().min(1).optional(),
    LEAKWATCH_TOPIC_ALERTS: topicName('card.alerts.v1'),
    LEAKWATCH_TOPIC_DISPOSITIONS: topicName('card.alert-dispositions.v1'),
    LEAKWATCH_DISPATCHER_GROUP_ID: z.string().min(1).default('leakwatch-dispatcher'),
    /** Webhook requests in flight per partner, per dispatcher instance. */
    LEAKWATCH_DISPATCH_CONCURRENCY: wholeNumber(32, 1, 1000),
    /** Pending webhooks per partner; beyond it new ones go to the dead-letter list (queue_full). */
    LEAKWATCH_DISPATCH_QUEUE_MAX: wholeNumber(100_000, 1, 10_000_000),
    /** A claimed webhook is leased for its timeout plus this; after a crash it is tried again then. */
    LEAKWATCH_DISPATCH_LEASE_MARGIN_MS: wholeNumber(10_000, 100, 600_000),
    /** How often each partner's schedule is read when nothing woke it. */
    LEAKWATCH_DISPATCH_POLL_MS: wholeNumber(1000, 10, 60_000),
    LEAKWATCH_CREATE_TOPICS: booleanString(true),
    LEAKWATCH_TOPIC_PARTITIONS: wholeNumber(6, 1, 1000),
    LEAKWATCH_SHUTDOWN_TIMEOUT_MS: wholeNumber(25_000, 1, 600_000),
  })
  .superRefine(checkSharedEnv);

export type DispatcherEnv = z.output<typeof DispatcherEnv>;

export interface DispatcherConfig extends SharedSettings {
  env: DispatcherEnv;
  topics: { alerts: string; dispositions: string };
}

/** Parses and checks the environment; throws CONFIG_INVALID listing every problem. */
export function loadEnv(env: Record<string, string | undefined>): DispatcherConfig {
  const parsed = parseEnv(DispatcherEnv, env, 'dispatcher configuration');
  return {
    env: parsed,
    ...toSharedSettings(parsed),
    topics: { alerts: parsed.LEAKWATCH_TOPIC_ALERTS, dispositions: parsed.LEAKWATCH_TOPIC_DISPOSITIONS },
  };
}
