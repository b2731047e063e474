import { z } from 'zod';
import { isKeyId, KEY_ID_RULE } from '@leakwatch/contracts';
import { booleanString, csvList, portNumber } from './parse.js';

/** Settings every service shares, as zod shapes to spread into a service's own `Env` schema. */

export const kafkaEnv = {
  LEAKWATCH_KAFKA_BROKERS: csvList()
    .optional()
    .transform((value) => value ?? ['127.0.0.1:19092'])
    .pipe(
      z
        .array(z.string().regex(/^[^:\s]+:\d+$/, 'each broker must be host:port'))
        .min(1, 'needs at least one broker'),
    ),
  LEAKWATCH_KAFKA_CLIENT_ID: z.string().default('leakwatch'),
  LEAKWATCH_KAFKA_SSL: booleanString(false),
  LEAKWATCH_KAFKA_SSL_CA_FILE: z.string().optional(),
  LEAKWATCH_KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  LEAKWATCH_KAFKA_SASL_USERNAME: z.string().optional(),
  LEAKWATCH_KAFKA_SASL_PASSWORD: z.string().optional(),
  /** SASL without TLS sends credentials (PLAIN: the password itself) readable on the wire. */
  LEAKWATCH_KAFKA_ALLOW_SASL_PLAINTEXT: booleanString(false),
};

export const registryEnv = {
  LEAKWATCH_SCHEMA_REGISTRY_URL: z
    .url({ message: 'must be an http(s) URL' })
    .default('http://127.0.0.1:18081/apis/ccompat/v7'),
  LEAKWATCH_SCHEMA_REGISTRY_USERNAME: z.string().optional(),
  LEAKWATCH_SCHEMA_REGISTRY_PASSWORD: z.string().optional(),
};

export const redisEnv = {
  LEAKWATCH_REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .optional(),
  LEAKWATCH_REDIS_CLUSTER_NODES: csvList()
    .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'each node must be host:port')))
    .optional(),
  /** ACL user and password of the Cluster nodes (one Redis takes them in its URL). */
  LEAKWATCH_REDIS_CLUSTER_USERNAME: z.string().min(1).optional(),
  LEAKWATCH_REDIS_CLUSTER_PASSWORD: z.string().min(1).optional(),
  LEAKWATCH_REDIS_TLS: booleanString(false),
  LEAKWATCH_REDIS_KEY_PREFIX: z.string().default('lw:'),
};

export const fingerprintKeysEnv = {
  LEAKWATCH_FINGERPRINT_KEYS: z
    .string({ message: 'is required: keyId:base64key[,keyId:base64key...], first is current' })
    .transform((value, ctx) => {
      const parsed = parseFingerprintKeys(value);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      return parsed;
    }),
};

export const loggingEnv = {
  LEAKWATCH_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/;

export const httpEnv = {
  LEAKWATCH_HTTP_PORT: portNumber(9464),
  /**
   * Interface of /metrics, /healthz and /readyz: loopback unless asked (the container image
   * sets 0.0.0.0, its port being published by whoever runs it).
   */
  LEAKWATCH_HTTP_HOST: z
    .string()
    .regex(HOST, 'must be an IP address or a host name (0.0.0.0 for every interface)')
    .default('127.0.0.1'),
};

/**
 * What every service reads (Kafka, registry, Redis, fingerprint keys, log level), spread first into
 * its `Env` schema; check it with {@link checkSharedEnv}, turn it into settings with
 * {@link toSharedSettings}.
 */
export const sharedServiceEnv = {
  ...kafkaEnv,
  ...registryEnv,
  ...redisEnv,
  ...fingerprintKeysEnv,
  ...loggingEnv,
};

export interface FingerprintKeySetting {
  keyId: string;
  key: Buffer;
}

/**
 * Reads `keyId:base64key,...`. Returns the keys (first is current) or a message naming every
 * problem. A key's bytes never appear in the message.
 */
export function parseFingerprintKeys(value: string): FingerprintKeySetting[] | string {
  const problems: string[] = [];
  const keys: FingerprintKeySetting[] = [];
  const seen = new Set<string>();
  const parts = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) return 'needs at least one key as keyId:base64key';
  parts.forEach((part, index) => {
    const colon = part.indexOf(':');
    const keyId = colon > 0 ? part.slice(0, colon) : '';
    const encoded = colon > 0 ? part.slice(colon + 1) : '';
    if (!isKeyId(keyId)) {
      problems.push(`key #${index + 1}: key id ${KEY_ID_RULE}`);
      return;
    }
    if (seen.has(keyId)) problems.push(`key "${keyId}" is listed twice`);
    seen.add(keyId);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) {
      problems.push(`key "${keyId}": not base64`);
      return;
    }
    const key = Buffer.from(encoded, encoded.includes('-') || encoded.includes('_') ? 'base64url' : 'base64');
    if (key.length < 32) problems.push(`key "${keyId}": ${key.length} bytes, needs at least 32`);
    else keys.push({ keyId, key });
  });
  return problems.length > 0 ? problems.join('; ') : keys;
}

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  ssl: boolean;
  sslCaFile?: string | undefined;
  sasl?:
    | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
    | undefined;
  /** SASL without TLS is refused unless this is true (LEAKWATCH_KAFKA_ALLOW_SASL_PLAINTEXT). */
  allowSaslPlaintext?: boolean | undefined;
}

export interface RegistrySettings {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
}

export type RedisSettings =
  | { mode: 'single'; url: string; tls: boolean; keyPrefix: string }
  | {
      mode: 'cluster';
      nodes: string[];
      tls: boolean;
      keyPrefix: string;
      username?: string | undefined;
      password?: string | undefined;
    };

/** The connections every service makes, from {@link sharedServiceEnv}. */
export interface SharedSettings {
  kafka: KafkaSettings;
  registry: RegistrySettings;
  redis: RedisSettings;
}

type KafkaEnv = z.output<z.ZodObject<typeof kafkaEnv>>;
type RegistryEnv = z.output<z.ZodObject<typeof registryEnv>>;
type RedisEnv = z.output<z.ZodObject<typeof redisEnv>>;

/** Cross-field checks for the shared settings; use in a service schema's `superRefine`. */
export function checkSharedEnv(env: Partial<KafkaEnv & RedisEnv>, ctx: z.RefinementCtx): void {
  if (
    env.LEAKWATCH_KAFKA_SASL_MECHANISM &&
    (!env.LEAKWATCH_KAFKA_SASL_USERNAME || !env.LEAKWATCH_KAFKA_SASL_PASSWORD)
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['LEAKWATCH_KAFKA_SASL_USERNAME'],
      message: 'SASL needs both LEAKWATCH_KAFKA_SASL_USERNAME and LEAKWATCH_KAFKA_SASL_PASSWORD',
    });
  }
  if (
    env.LEAKWATCH_KAFKA_SASL_MECHANISM &&
    env.LEAKWATCH_KAFKA_SSL === false &&
    env.LEAKWATCH_KAFKA_ALLOW_SASL_PLAINTEXT !== true
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['LEAKWATCH_KAFKA_SASL_MECHANISM'],
      message:
        'SASL over plaintext sends credentials readable on the network: set LEAKWATCH_KAFKA_SSL=true, or LEAKWATCH_KAFKA_ALLOW_SASL_PLAINTEXT=true to accept that',
    });
  }
  const clusterAuth = env.LEAKWATCH_REDIS_CLUSTER_USERNAME ?? env.LEAKWATCH_REDIS_CLUSTER_PASSWORD;
  if (clusterAuth !== undefined && !(env.LEAKWATCH_REDIS_CLUSTER_NODES?.length ?? 0)) {
    ctx.addIssue({
      code: 'custom',
      path: ['LEAKWATCH_REDIS_CLUSTER_PASSWORD'],
      message:
        'applies to LEAKWATCH_REDIS_CLUSTER_NODES only; one Redis takes its user and password in LEAKWATCH_REDIS_URL (redis://user:password@host:port)',
    });
  }
  if (env.LEAKWATCH_REDIS_CLUSTER_USERNAME && !env.LEAKWATCH_REDIS_CLUSTER_PASSWORD) {
    ctx.addIssue({
      code: 'custom',
      path: ['LEAKWATCH_REDIS_CLUSTER_PASSWORD'],
      message: 'LEAKWATCH_REDIS_CLUSTER_USERNAME needs LEAKWATCH_REDIS_CLUSTER_PASSWORD',
    });
  }
  if (env.LEAKWATCH_REDIS_URL && env.LEAKWATCH_REDIS_CLUSTER_NODES) {
    ctx.addIssue({
      code: 'custom',
      path: ['LEAKWATCH_REDIS_CLUSTER_NODES'],
      message: 'set LEAKWATCH_REDIS_URL or LEAKWATCH_REDIS_CLUSTER_NODES, not both',
    });
  }
}

export function toKafkaSettings(env: KafkaEnv): KafkaSettings {
  const mechanism = env.LEAKWATCH_KAFKA_SASL_MECHANISM;
  return {
    brokers: env.LEAKWATCH_KAFKA_BROKERS,
    clientId: env.LEAKWATCH_KAFKA_CLIENT_ID,
    ssl: env.LEAKWATCH_KAFKA_SSL,
    sslCaFile: env.LEAKWATCH_KAFKA_SSL_CA_FILE,
    allowSaslPlaintext: env.LEAKWATCH_KAFKA_ALLOW_SASL_PLAINTEXT,
    sasl:
      mechanism === undefined
        ? undefined
        : {
            mechanism,
            username: env.LEAKWATCH_KAFKA_SASL_USERNAME ?? '',
            password: env.LEAKWATCH_KAFKA_SASL_PASSWORD ?? '',
          },
  };
}

export function toRegistrySettings(env: RegistryEnv): RegistrySettings {
  return {
    url: env.LEAKWATCH_SCHEMA_REGISTRY_URL,
    username: env.LEAKWATCH_SCHEMA_REGISTRY_USERNAME,
    password: env.LEAKWATCH_SCHEMA_REGISTRY_PASSWORD,
  };
}

export function toRedisSettings(env: RedisEnv): RedisSettings {
  const common = { tls: env.LEAKWATCH_REDIS_TLS, keyPrefix: env.LEAKWATCH_REDIS_KEY_PREFIX };
  if (env.LEAKWATCH_REDIS_CLUSTER_NODES && env.LEAKWATCH_REDIS_CLUSTER_NODES.length > 0) {
    return {
      mode: 'cluster',
      nodes: env.LEAKWATCH_REDIS_CLUSTER_NODES,
      ...common,
      ...(env.LEAKWATCH_REDIS_CLUSTER_PASSWORD
        ? { username: env.LEAKWATCH_REDIS_CLUSTER_USERNAME, password: env.LEAKWATCH_REDIS_CLUSTER_PASSWORD }
        : {}),
    };
  }
  return { mode: 'single', url: env.LEAKWATCH_REDIS_URL ?? 'redis://127.0.0.1:16379', ...common };
}

export function toSharedSettings(env: KafkaEnv & RegistryEnv & RedisEnv): SharedSettings {
  return { kafka: toKafkaSettings(env), registry: toRegistrySettings(env), redis: toRedisSettings(env) };
}
