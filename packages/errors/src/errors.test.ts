import { describe, expect, it } from 'vitest';
import { ErrorCodes, LeakwatchError, describeError, isLeakwatchError, isRetryable } from './index.js';

describe('LeakwatchError', () => {
  it('takes retryability from its code', () => {
    expect(new LeakwatchError('REDIS_UNAVAILABLE', 'down').retryable).toBe(true);
    expect(new LeakwatchError('BAD_FRAMING', 'bad').retryable).toBe(false);
    expect(isRetryable(new LeakwatchError('KAFKA_UNAVAILABLE', 'x'))).toBe(true);
    expect(isRetryable(new Error('plain'))).toBe(false);
  });

  it('keeps the cause and describes itself with its code', () => {
    const cause = new Error('ECONNREFUSED');
    const error = new LeakwatchError('REGISTRY_UNAVAILABLE', 'registry down', { cause });
    expect(error.cause).toBe(cause);
    expect(describeError(error)).toBe('REGISTRY_UNAVAILABLE: registry down');
    expect(isLeakwatchError(error, 'REGISTRY_UNAVAILABLE')).toBe(true);
    expect(isLeakwatchError(error, 'BAD_FRAMING')).toBe(false);
  });

  it('has a description for every code', () => {
    for (const [code, meta] of Object.entries(ErrorCodes)) {
      expect(meta.description.length, code).toBeGreaterThan(5);
    }
  });
});
