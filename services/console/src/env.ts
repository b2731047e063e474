import {
  booleanString,
  checkSharedEnv,
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

/** Every setting of the console, parsed once at start-up. It never sees a PAN: no fingerprint keys. */
const ConsoleEnv = z
  .object({
    ...kafkaEnv,
    ...registryEnv,
    ...redisEnv,
    ...loggingEnv,
    /** The web app. */
    LEAKWATCH_CONSOLE_PORT: portNumber(8080),
    /** /metrics, /healthz, /readyz. */
    LEAKWATCH_HTTP_PORT: portNumber(9466),
    LEAKWATCH_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
    LEAKWATCH_CONSOLE_USERS_FILE: z
      .string({ message: 'is required (users: [{ username, role, passwordHash }])' })
      .min(1),
    /** Secure cookies: keep true behind https; false only for plain-http local runs. */
    LEAKWATCH_CONSOLE_SECURE_COOKIES: booleanString(true),
    LEAKWATCH_CONSOLE_SESSION_TTL_MINUTES: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(8 * 60),
    LEAKWATCH_TOPIC_ALERTS: topicName('card.alerts.v1'),
    LEAKWATCH_TOPIC_DISPOSITIONS: topicName('card.alert-dispositions.v1'),
    LEAKWATCH_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).default(25_000),
  })
  .superRefine(checkSharedEnv);

export type ConsoleEnv = z.output<typeof ConsoleEnv>;

export interface ConsoleConfig extends SharedSettings {
  env: ConsoleEnv;
  topics: { alerts: string; dispositions: string };
}

/** Parses and checks the environment; throws CONFIG_INVALID listing every problem. */
export function loadEnv(env: Record<string, string | undefined>): ConsoleConfig {
  const parsed = parseEnv(ConsoleEnv, env, 'console configuration');
  return {
    env: parsed,
    ...toSharedSettings(parsed),
    topics: { alerts: parsed.LEAKWATCH_TOPIC_ALERTS, dispositions: parsed.LEAKWATCH_TOPIC_DISPOSITIONS },
  };
}
