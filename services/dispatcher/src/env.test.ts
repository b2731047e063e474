import { describe, expect, it } from 'vitest';
import { isLeakwatchError } from '@leakwatch/errors';
import { loadEnv } from './env.js';

describe('dispatcher loadEnv', () => {
  it('has defaults for everything, no fingerprint keys needed', () => {
    const config = loadEnv({});
    expect(config.env).toMatchObject({
      LEAKWATCH_HTTP_PORT: 9465,
      // /metrics and the intake listen on loopback unless told (the image sets 0.0.0.0)
      LEAKWATCH_HTTP_HOST: '127.0.0.1',
      LEAKWATCH_INTAKE_PORT: 8088,
      LEAKWATCH_DISPATCHER_GROUP_ID: 'leakwatch-dispatcher',
      LEAKWATCH_DISPATCH_CONCURRENCY: 32,
      LEAKWATCH_DISPATCH_QUEUE_MAX: 100_000,
      LEAKWATCH_DISPATCH_INTAKE: true,
    });
    expect(config.topics).toEqual({ alerts: 'card.alerts.v1', dispositions: 'card.alert-dispositions.v1' });
    expect(config.redis.mode).toBe('single');
  });

  it('lists every problem at once', () => {
    try {
      loadEnv({
        LEAKWATCH_HTTP_PORT: 'x',
        LEAKWATCH_HTTP_HOST: 'not a host',
        LEAKWATCH_DISPATCH_CONCURRENCY: '0',
        LEAKWATCH_DISPATCH_INTAKE: 'yes',
        LEAKWATCH_TOPIC_ALERTS: 'bad topic',
      });
      expect.unreachable();
    } catch (error) {
      expect(isLeakwatchError(error, 'CONFIG_INVALID')).toBe(true);
      const message = (error as Error).message;
      for (const name of [
        'LEAKWATCH_HTTP_PORT',
        'LEAKWATCH_HTTP_HOST',
        'LEAKWATCH_DISPATCH_CONCURRENCY',
        'LEAKWATCH_DISPATCH_INTAKE',
        'LEAKWATCH_TOPIC_ALERTS',
      ]) {
        expect(message).toContain(name);
      }
    }
  });
});
