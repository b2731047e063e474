import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LeakwatchError } from '@leakwatch/errors';
import {
  booleanString,
  checkSharedEnv,
  fingerprintKeysEnv,
  httpEnv,
  kafkaEnv,
  parseEnv,
  parseFingerprintKeys,
  redisEnv,
  sharedServiceEnv,
  toRedisSettings,
  toSharedSettings,
} from './index.js';

const key32 = Buffer.alloc(32, 7).toString('base64');

describe('parseEnv', () => {
  const schema = z
    .object({ ...kafkaEnv, ...redisEnv, ...fingerprintKeysEnv, FLAG: booleanString(false) })
    .superRefine(checkSharedEnv);

  it('lists every problem in one error', () => {
    let error: unknown;
    try {
      parseEnv(schema, {
        LEAKWATCH_KAFKA_BROKERS: 'no-port',
        LEAKWATCH_REDIS_URL: 'http://x',
        LEAKWATCH_FINGERPRINT_KEYS: 'k1:c2hvcnQ=',
        FLAG: 'yes',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LeakwatchError);
    const message = (error as LeakwatchError).message;
    expect((error as LeakwatchError).code).toBe('CONFIG_INVALID');
    expect(message).toContain('LEAKWATCH_KAFKA_BROKERS');
    expect(message).toContain('LEAKWATCH_REDIS_URL');
    expect(message).toContain('needs at least 32');
    expect(message).toContain('FLAG');
    expect(message).toMatch(/4 problems/);
  });

  it('reads booleans as "true"/"false" only, never coerced', () => {
    const env = { LEAKWATCH_FINGERPRINT_KEYS: `k1:${key32}` };
    expect(parseEnv(schema, { ...env, FLAG: 'false' }).FLAG).toBe(false);
    expect(parseEnv(schema, { ...env, FLAG: 'true' }).FLAG).toBe(true);
    expect(parseEnv(schema, env).FLAG).toBe(false);
  });

  it('refuses Redis URL and cluster nodes together, and defaults to the local stack', () => {
    expect(() =>
      parseEnv(schema, {
        LEAKWATCH_FINGERPRINT_KEYS: `k1:${key32}`,
        LEAKWATCH_REDIS_URL: 'redis://a:1',
        LEAKWATCH_REDIS_CLUSTER_NODES: 'a:1,b:2',
      }),
    ).toThrow(/not both/);
    const parsed = parseEnv(schema, { LEAKWATCH_FINGERPRINT_KEYS: `k1:${key32}` });
    expect(parsed.LEAKWATCH_KAFKA_BROKERS).toEqual(['127.0.0.1:19092']);
    expect(toRedisSettings(parsed)).toMatchObject({ mode: 'single', url: 'redis://127.0.0.1:16379' });
  });
});

describe('sharedServiceEnv', () => {
  it('gives every service the same Kafka, registry and Redis settings', () => {
    const schema = z
      .object({ ...sharedServiceEnv, EXTRA: z.string().default('x') })
      .superRefine(checkSharedEnv);
    const parsed = parseEnv(schema, {
      LEAKWATCH_FINGERPRINT_KEYS: `k1:${key32}`,
      LEAKWATCH_KAFKA_SSL: 'true',
      LEAKWATCH_KAFKA_SASL_MECHANISM: 'plain',
      LEAKWATCH_KAFKA_SASL_USERNAME: 'u',
      LEAKWATCH_KAFKA_SASL_PASSWORD: 'p',
      LEAKWATCH_REDIS_CLUSTER_NODES: 'a:1,b:2',
    });
    expect(parsed.LEAKWATCH_LOG_LEVEL).toBe('info');
    expect(parsed.EXTRA).toBe('x');
    expect(toSharedSettings(parsed)).toEqual({
      kafka: {
        brokers: ['127.0.0.1:19092'],
        clientId: 'leakwatch',
        ssl: true,
        sslCaFile: undefined,
        sasl: { mechanism: 'plain', username: 'u', password: 'p' },
        allowSaslPlaintext: false,
      },
      registry: { url: 'http://127.0.0.1:18081/apis/ccompat/v7', username: undefined, password: undefined },
      redis: { mode: 'cluster', nodes: ['a:1', 'b:2'], tls: false, keyPrefix: 'lw:' },
    });
  });
});

describe('deployment defaults (issue 7, defect 15)', () => {
  const schema = z.object({ ...sharedServiceEnv, ...httpEnv }).superRefine(checkSharedEnv);
  const base = { LEAKWATCH_FINGERPRINT_KEYS: `k1:${key32}` };
  const sasl = {
    LEAKWATCH_KAFKA_SASL_MECHANISM: 'scram-sha-512',
    LEAKWATCH_KAFKA_SASL_USERNAME: 'svc',
    LEAKWATCH_KAFKA_SASL_PASSWORD: 'sasl-secret-value',
  };

  it('refuses SASL over plaintext Kafka unless explicitly allowed, never echoing the password', () => {
    let error: unknown;
    try {
      parseEnv(schema, { ...base, ...sasl });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LeakwatchError);
    expect((error as Error).message).toMatch(
      /LEAKWATCH_KAFKA_SASL_MECHANISM: SASL over plaintext .* LEAKWATCH_KAFKA_ALLOW_SASL_PLAINTEXT=true/,
    );
    expect((error as Error).message).not.toContain('sasl-secret-value');
    expect(parseEnv(schema, { ...base, ...sasl, LEAKWATCH_KAFKA_SSL: 'true' }).LEAKWATCH_KAFKA_SSL).toBe(
      true,
    );
    const allowed = parseEnv(schema, { ...base, ...sasl, LEAKWATCH_KAFKA_ALLOW_SASL_PLAINTEXT: 'true' });
    expect(toSharedSettings(allowed).kafka).toMatchObject({ ssl: false, allowSaslPlaintext: true });
    expect(() => parseEnv(schema, { ...base, LEAKWATCH_KAFKA_ALLOW_SASL_PLAINTEXT: 'yes' })).toThrow(
      /LEAKWATCH_KAFKA_ALLOW_SASL_PLAINTEXT/,
    );
  });

  it('takes a user and password for Redis Cluster nodes', () => {
    const parsed = parseEnv(schema, {
      ...base,
      LEAKWATCH_REDIS_CLUSTER_NODES: 'a:1,b:2',
      LEAKWATCH_REDIS_CLUSTER_USERNAME: 'leakwatch',
      LEAKWATCH_REDIS_CLUSTER_PASSWORD: 'cluster-secret',
    });
    expect(toRedisSettings(parsed)).toEqual({
      mode: 'cluster',
      nodes: ['a:1', 'b:2'],
      tls: false,
      keyPrefix: 'lw:',
      username: 'leakwatch',
      password: 'cluster-secret',
    });
    // the password alone authenticates as the default user (requirepass)
    expect(
      toRedisSettings(
        parseEnv(schema, {
          ...base,
          LEAKWATCH_REDIS_CLUSTER_NODES: 'a:1',
          LEAKWATCH_REDIS_CLUSTER_PASSWORD: 'p',
        }),
      ),
    ).toMatchObject({ mode: 'cluster', password: 'p', username: undefined });
  });

  it('refuses Cluster credentials without Cluster nodes, and a user without a password', () => {
    const problems = (env: Record<string, string>): string => {
      try {
        parseEnv(schema, { ...base, ...env });
        return '';
      } catch (e) {
        return (e as Error).message;
      }
    };
    const noNodes = problems({ LEAKWATCH_REDIS_CLUSTER_PASSWORD: 'cluster-secret' });
    expect(noNodes).toMatch(
      /LEAKWATCH_REDIS_CLUSTER_PASSWORD: applies to LEAKWATCH_REDIS_CLUSTER_NODES only/,
    );
    expect(noNodes).not.toContain('cluster-secret');
    expect(problems({ LEAKWATCH_REDIS_CLUSTER_NODES: 'a:1', LEAKWATCH_REDIS_CLUSTER_USERNAME: 'u' })).toMatch(
      /LEAKWATCH_REDIS_CLUSTER_USERNAME needs LEAKWATCH_REDIS_CLUSTER_PASSWORD/,
    );
  });

  it('binds the HTTP server to loopback unless LEAKWATCH_HTTP_HOST says otherwise', () => {
    expect(parseEnv(schema, base).LEAKWATCH_HTTP_HOST).toBe('127.0.0.1');
    for (const host of ['0.0.0.0', '::', '::1', '10.1.2.3', 'localhost', 'monitor-0.internal'])
      expect(parseEnv(schema, { ...base, LEAKWATCH_HTTP_HOST: host }).LEAKWATCH_HTTP_HOST).toBe(host);
    for (const host of ['', 'a b', 'http://x', '-bad'])
      expect(() => parseEnv(schema, { ...base, LEAKWATCH_HTTP_HOST: host }), host).toThrow(
        /LEAKWATCH_HTTP_HOST/,
      );
  });
});

describe('parseFingerprintKeys', () => {
  it('keeps order (first is current) and decodes base64 and base64url', () => {
    const url = Buffer.alloc(40, 0xfb).toString('base64url');
    const keys = parseFingerprintKeys(`k2:${key32}, k1:${url}`);
    expect(Array.isArray(keys)).toBe(true);
    if (typeof keys === 'string') throw new Error(keys);
    expect(keys.map((k) => k.keyId)).toEqual(['k2', 'k1']);
    expect(keys[1]?.key.length).toBe(40);
  });

  it('names every bad key without echoing key bytes', () => {
    const problems = parseFingerprintKeys('k1:c2hvcnQ=,k1:' + key32 + ',:abc,k3:!!!');
    expect(problems).toContain('k1": 5 bytes');
    expect(problems).toContain('listed twice');
    expect(problems).toContain('key #3');
    expect(problems).toContain('k3": not base64');
    expect(problems).not.toContain('c2hvcnQ');
  });
});
