import { defaultRuleSet } from '@leakwatch/rules';
import { createRootLogger } from '@leakwatch/logger';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMonitorMetrics } from './metrics.js';
import { AuthorizationMonitor } from './monitor.js';
import { fakeDecoder, fakeHistory, fakeRouter, fakeWatchList, twoKeyKeyring } from './stages/stages.fakes.js';

/** A Kafka whose consumer fails to connect `failures` times, then works; counts listeners. */
function fakeKafka(failures: number) {
  const listeners = new Map<string, number>();
  const calls: string[] = [];
  let connectAttempts = 0;
  const consumer = {
    events: { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' },
    on: (event: string) => {
      listeners.set(event, (listeners.get(event) ?? 0) + 1);
      return () => undefined;
    },
    connect: () => {
      calls.push('consumer.connect');
      return ++connectAttempts <= failures
        ? Promise.reject(Object.assign(new Error('broker not available'), { retriable: true }))
        : Promise.resolve();
    },
    subscribe: () => Promise.resolve(void calls.push('consumer.subscribe')),
    run: () => Promise.resolve(void calls.push('consumer.run')),
    disconnect: () => Promise.resolve(void calls.push('consumer.disconnect')),
    pause: () => undefined,
    commitOffsets: () => Promise.resolve(),
  };
  const producer = {
    connect: () => Promise.resolve(void calls.push('producer.connect')),
    disconnect: () => Promise.resolve(void calls.push('producer.disconnect')),
    sendBatch: () => Promise.resolve([]),
  };
  const admin = {
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    describeConfigs: () => Promise.resolve({ resources: [] }),
  };
  const kafka = {
    consumer: () => consumer,
    producer: () => producer,
    admin: () => admin,
  } as unknown as Kafka;
  return { kafka, listeners, calls };
}

function monitorOn(kafka: Kafka) {
  return new AuthorizationMonitor({
    kafka,
    topics: { authorizations: 'in', alerts: 'alerts', deadLetters: 'dlq' },
    groupId: 'g',
    dependencies: {
      decoder: fakeDecoder({}).decoder,
      keyring: twoKeyKeyring(),
      watchList: fakeWatchList().watchList,
      history: fakeHistory().history,
      router: fakeRouter([]),
      now: () => 0,
    },
    ruleSet: defaultRuleSet,
    encodeAlert: () => Buffer.alloc(0),
    metrics: createMonitorMetrics(new Registry()),
    logger: createRootLogger({ name: 'test', level: 'silent' }),
  });
}

describe('AuthorizationMonitor start-up', () => {
  it('can be started again after a failed start, with one GROUP_JOIN and one CRASH listener', async () => {
    const { kafka, listeners, calls } = fakeKafka(2);
    const monitor = monitorOn(kafka);
    await expect(monitor.start()).rejects.toThrow('broker not available');
    expect(monitor.state).toBe('idle');
    await expect(monitor.start()).rejects.toThrow('broker not available');
    await monitor.start();
    expect(monitor.state).toBe('starting');
    expect(listeners).toEqual(
      new Map([
        ['consumer.group_join', 1],
        ['consumer.crash', 1],
      ]),
    );
    // each failed try released what it had connected
    expect(calls.filter((c) => c === 'consumer.disconnect')).toHaveLength(2);
    expect(calls.filter((c) => c === 'producer.disconnect')).toHaveLength(2);
    expect(calls.filter((c) => c === 'consumer.run')).toHaveLength(1);
    await monitor.close();
    expect(monitor.state).toBe('stopped');
  });

  it('closes cleanly when it never started', async () => {
    const { kafka, calls } = fakeKafka(0);
    const monitor = monitorOn(kafka);
    await monitor.close();
    expect(monitor.state).toBe('stopped');
    expect(calls).toEqual([]);
    await expect(monitor.start()).rejects.toThrow(/cannot start from state stopped/);
  });
});
