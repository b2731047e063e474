import { isLeakwatchError } from '@leakwatch/errors';
import { silentLogger } from '@leakwatch/logger';
import { describe, expect, it } from 'vitest';
import { createKafka } from './index.js';

const sasl = { mechanism: 'plain' as const, username: 'svc', password: 'sasl-secret-value' };
const base = { brokers: ['127.0.0.1:1'], clientId: 'test' };

describe('createKafka and SASL (issue 7, defect 15)', () => {
  it('refuses SASL over plaintext unless explicitly allowed, without echoing the password', () => {
    let error: unknown;
    try {
      createKafka({ ...base, ssl: false, sasl }, silentLogger());
    } catch (e) {
      error = e;
    }
    expect(isLeakwatchError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toContain('LEAKWATCH_KAFKA_ALLOW_SASL_PLAINTEXT=true');
    expect((error as Error).message).not.toContain('sasl-secret-value');
  });

  it('accepts SASL over TLS, SASL over plaintext when allowed, and plaintext without SASL', () => {
    expect(() => createKafka({ ...base, ssl: true, sasl }, silentLogger())).not.toThrow();
    expect(() =>
      createKafka({ ...base, ssl: false, sasl, allowSaslPlaintext: true }, silentLogger()),
    ).not.toThrow();
    expect(() => createKafka({ ...base, ssl: false }, silentLogger())).not.toThrow();
  });
});
