import { defaultRuleSet } from '@leakwatch/rules';
import { createRootLogger } from '@leakwatch/logger';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMonitorMetrics } from './metrics.js';
import { AuthorizationMonitor, type MonitorOptions } from './monitor.js';
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

function monitorOn(kafka: Kafka, extra: Partial<MonitorOptions> = {}) {
  return new AuthorizationMonitor({
    ...extra,
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

/** A send the test finishes: resolves or rejects when told to. */
interface PendingSend {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * A started monitor over a fake Kafka whose eachBatch the test drives: every message is poison
 * (the fake decoder knows none), so each batch publishes its dead letters in one send, which the
 * test holds open or fails.
 */
async function drivenMonitor(options: { failCommits?: number; extra?: Partial<MonitorOptions> } = {}) {
  const sends: PendingSend[] = [];
  const commits: string[] = [];
  const resumed: unknown[] = [];
  let commitFailures = options.failCommits ?? 0;
  const listeners = new Map<string, (event: { payload: Record<string, unknown> }) => void>();
  let eachBatch: ((payload: unknown) => Promise<void>) | undefined;
  const running = { value: true };
  const consumer = {
    events: { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' },
    on: (event: string, listener: (event: { payload: Record<string, unknown> }) => void) => {
      listeners.set(event, listener);
      return () => undefined;
    },
    connect: () => Promise.resolve(),
    subscribe: () => Promise.resolve(),
    run: (config: { eachBatch: (payload: unknown) => Promise<void> }) => {
      eachBatch = config.eachBatch;
      return Promise.resolve();
    },
    disconnect: () => Promise.resolve(),
    pause: () => undefined,
    resume: (topics: unknown) => void resumed.push(topics),
    commitOffsets: (offsets: Array<{ partition: number; offset: string }>) => {
      if (commitFailures-- > 0) return Promise.reject(new Error('The coordinator is loading'));
      for (const o of offsets) commits.push(`${o.partition}@${o.offset}`);
      return Promise.resolve();
    },
  };
  const producer = {
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    sendBatch: () =>
      new Promise<unknown[]>((resolve, reject) => sends.push({ resolve: () => resolve([]), reject })),
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
  const monitor = monitorOn(kafka, { retryInitialMs: 5, retryMaxMs: 5, ...options.extra });
  await monitor.start();
  const join = () =>
    listeners.get('consumer.group_join')?.({ payload: { memberId: 'm', memberAssignment: {} } });
  join();
  /** Hands kafkajs' batch of offsets [from, to] of a partition to the monitor. */
  const deliver = (partition: number, from: number, to: number) => {
    const messages = Array.from({ length: to - from + 1 }, (_, i) => ({
      offset: String(from + i),
      key: null,
      value: Buffer.from(`poison-${partition}-${from + i}`),
      timestamp: '0',
      headers: {},
    }));
    const resolved: string[] = [];
    const handled = (eachBatch as (payload: unknown) => Promise<void>)({
      batch: {
        topic: 'in',
        partition,
        messages,
        firstOffset: () => String(from),
        lastOffset: () => String(to),
        offsetLag: () => '0',
      },
      heartbeat: () => Promise.resolve(),
      isRunning: () => running.value,
      isStale: () => false,
      resolveOffset: (offset: string) => resolved.push(offset),
    });
    let done = false;
    void handled.then(() => (done = true));
    return { handled, resolved, isDone: () => done };
  };
  const settle = () => new Promise((r) => setTimeout(r, 20));
  return { monitor, sends, commits, deliver, settle, running, resumed, join };
}

describe('AuthorizationMonitor publishing behind the next fetch', () => {
  it('hands a batch off once decided; commits only after its publish, in order per partition', async () => {
    const { monitor, sends, commits, deliver, settle } = await drivenMonitor();
    const first = deliver(0, 0, 1);
    await settle();
    // decided and handed off: kafkajs may fetch again while the dead letters are being written
    expect(first.isDone()).toBe(true);
    expect(first.resolved).toEqual(['1']);
    expect(sends).toHaveLength(1);
    expect(commits).toEqual([]);

    // the partition's next batch waits for the publish before it; another partition does not
    const second = deliver(0, 2, 3);
    const other = deliver(1, 0, 0);
    await settle();
    expect(second.isDone()).toBe(false);
    expect(other.isDone()).toBe(true);
    expect(sends).toHaveLength(2);

    sends[0]?.resolve();
    await settle();
    expect(second.isDone()).toBe(true);
    expect(commits).toEqual(['0@2']);
    sends[2]?.resolve();
    sends[1]?.resolve();
    await settle();
    expect(commits.filter((c) => c.startsWith('0@'))).toEqual(['0@2', '0@4']);
    expect(commits).toContain('1@1');
    await monitor.close();
  });

  it('a publish that is given back (stop mid-retry) leaves it and every later batch uncommitted', async () => {
    const { monitor, sends, commits, deliver, settle, running } = await drivenMonitor();
    deliver(0, 0, 1);
    await settle();
    const later = deliver(0, 2, 3);
    // the broker is away: the publish is retried...
    sends[0]?.reject(Object.assign(new Error('broker not available'), { retriable: true }));
    await settle();
    expect(sends.length).toBeGreaterThan(1);
    // ...until the group is rebalancing or the monitor stops
    running.value = false;
    for (const send of sends)
      send.reject(Object.assign(new Error('broker not available'), { retriable: true }));
    await later.handled;
    await monitor.close();
    expect(commits).toEqual([]);
  });

  it('tries a failed commit again: a bounded run has no later commit to cover it', async () => {
    const { monitor, sends, commits, deliver, settle } = await drivenMonitor({ failCommits: 2 });
    deliver(0, 0, 1);
    await settle();
    sends[0]?.resolve();
    await new Promise((r) => setTimeout(r, 1000));
    expect(commits).toEqual(['0@2']);
    await monitor.close();
  });

  it('a bounded run reads its paused partitions again after a rejoin; a live one does not', async () => {
    const bounded = await drivenMonitor({ extra: { bounds: new Map([[0, { start: 0n, end: 10n }]]) } });
    expect(bounded.resumed).toEqual([[{ topic: 'in' }]]);
    bounded.join();
    expect(bounded.resumed).toHaveLength(2);
    await bounded.monitor.close();
    const live = await drivenMonitor();
    live.join();
    expect(live.resumed).toEqual([]);
    await live.monitor.close();
  });
});
