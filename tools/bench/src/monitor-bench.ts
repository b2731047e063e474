import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createKeyring } from '@leakwatch/card';
import type { KafkaSettings, RegistrySettings } from '@leakwatch/config';
import {
  cardAuthorizationAvro,
  confluentFrame,
  createAlertDecoder,
  createAuthorizationEncoder,
  createSchemaRegistry,
  valueSubject,
} from '@leakwatch/contracts';
import { createKafka, ensureTopics } from '@leakwatch/kafka';
import { silentLogger } from '@leakwatch/logger';
import type { RedisClient } from '@leakwatch/redis';
import { createTrafficGenerator, messageValue, runTraffic } from '@leakwatch/simulator';
import { Partitioners, type Kafka } from 'kafkajs';
import { percentile } from './machine.js';
import { benchMonitorEnv, benchTopics, fillBacklog, type BenchTopics } from './backlog.js';
import { committedTotal, spawnMonitor } from './processes.js';
import { watchBenchCards } from './watched.js';

export interface MonitorBenchOptions {
  kafka: KafkaSettings;
  registry: RegistrySettings;
  redis: RedisClient;
  redisUrlEnv: Record<string, string>;
  messages: number;
  partitions: number;
  watchedCards: number;
  latencyRate: number;
  latencySeconds: number;
  log: (line: string) => void;
}

export interface MonitorBenchResult {
  messages: number;
  produceRate: number;
  rawConsumeRate: number;
  monitorRate: number;
  monitorShareOfCeiling: number;
  /**
   * CPU time of the monitor process per authorization (µs), from its first commit to its last:
   * unlike the rates, it hardly moves with what else runs on the machine.
   */
  monitorCpuMicrosPerAuthorization: number;
  /** `leakwatch hunt` over the same retained messages, from its first commit. */
  huntRate: number;
  alertsDuringThroughput: number;
  latencyRate: number;
  latencyAchievedRate: number;
  latencySamples: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  warmUpSamples: number;
  warmUpP99Ms: number;
  /** After warm-up, p99 of produce → the monitor built the alert (its detectedAt). */
  toDetectedP99Ms: number;
  /** After warm-up, p99 of the monitor built the alert → the alert read from the alerts topic. */
  detectedToReceivedP99Ms: number;
  /**
   * One Kafka hop under the same load, for reference: produce → a plain consumer of the
   * authorizations topic (no monitor work), after warm-up. The alert's path has two such hops.
   */
  kafkaHopP50Ms: number;
  kafkaHopP99Ms: number;
}

async function consumeAll(kafka: Kafka, topic: string, expected: number): Promise<number> {
  const consumer = kafka.consumer({
    groupId: `bench-raw-${randomBytes(4).toString('hex')}`,
    maxBytesPerPartition: 2 * 1024 * 1024,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  // timed from the first batch (group join excluded), counting what came after it
  let seen = 0;
  let first = 0;
  let firstCount = 0;
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 3,
      eachBatchAutoResolve: false,
      eachBatch: ({ batch }) => {
        seen += batch.messages.length;
        if (first === 0) {
          first = performance.now();
          firstCount = seen;
        }
        if (seen >= expected) resolve(((seen - firstCount) / (performance.now() - first)) * 1000);
        return Promise.resolve();
      },
    });
  });
  const rate = await done;
  await consumer.disconnect();
  return rate;
}

/**
 * Throughput: N authorizations are produced first; the raw kafkajs consume rate of those same
 * messages is the ceiling; then the monitor processes them and its committed offsets are timed.
 * Latency: a fresh topic at a fixed rate, the time from producing an authorization to its alert
 * arriving on card.alerts.v1, for every alert (1% of traffic is on watched cards).
 */
export async function runMonitorBenchmark(options: MonitorBenchOptions): Promise<MonitorBenchResult> {
  const { log } = options;
  const id = randomBytes(3).toString('hex');
  const keyBytes = randomBytes(32).toString('base64');
  const keyring = createKeyring([{ keyId: 'bench', key: Buffer.from(keyBytes, 'base64') }]);
  const prefix = `bench-${id}:`;
  const kafka = createKafka({ ...options.kafka, clientId: 'leakwatch-bench' }, silentLogger());
  const registry = createSchemaRegistry(options.registry);

  const { store, watched } = await watchBenchCards({
    redis: options.redis,
    prefix,
    incidentId: `bench-${id}`,
    count: options.watchedCards,
    keyring,
    keyId: 'bench',
  });

  const throughputTopics = benchTopics(id, 'tp');
  const latencyTopics = benchTopics(id, 'lat');
  await ensureTopics(
    kafka,
    [...Object.values(throughputTopics), ...Object.values(latencyTopics)].map((topic) => ({ topic })),
    options.partitions,
  );
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();

  // 1. fill the throughput topic
  log(`producing ${options.messages.toLocaleString('en-US')} authorizations…`);
  const fill = await fillBacklog({
    producer,
    registry,
    topic: throughputTopics.authorizations,
    count: options.messages,
    watched,
    runId: `bench-${id}`,
  });
  log(`  produced at ${Math.round(fill.achievedRate).toLocaleString('en-US')}/s`);

  // 2. the ceiling: kafkajs reading the same messages, doing nothing
  const rawConsumeRate = await consumeAll(kafka, throughputTopics.authorizations, options.messages);
  log(`  raw kafkajs consume: ${Math.round(rawConsumeRate).toLocaleString('en-US')}/s`);

  const monitorEnv = (topics: BenchTopics, group: string) =>
    benchMonitorEnv({ ...options, keyBytes, prefix, topics, group });

  // 3. the monitor on the same messages, as its own process; timed from its first commit
  const group = `bench-monitor-${id}`;
  let monitor = await spawnMonitor(monitorEnv(throughputTopics, group));
  let committed = 0;
  let first = 0;
  let firstCommitted = 0;
  let firstCpu = 0;
  let lastLog = performance.now();
  while (committed < options.messages) {
    await new Promise((r) => setTimeout(r, 100));
    committed = await committedTotal(kafka, group, throughputTopics.authorizations);
    if (first === 0 && committed > 0) {
      first = performance.now();
      firstCommitted = committed;
      firstCpu = monitor.cpuSeconds();
    }
    if (performance.now() - lastLog > 5000) {
      lastLog = performance.now();
      log(`  monitor: ${committed.toLocaleString('en-US')} committed…`);
    }
  }
  const monitorRate = ((committed - firstCommitted) / (performance.now() - first)) * 1000;
  const monitorCpuMicrosPerAuthorization =
    ((monitor.cpuSeconds() - firstCpu) / (committed - firstCommitted)) * 1e6;
  await monitor.stop();
  log(
    `  monitor: ${Math.round(monitorRate).toLocaleString('en-US')}/s, ${monitorCpuMicrosPerAuthorization.toFixed(1)} µs CPU per authorization`,
  );

  // 3b. the retro-hunt over the same retained messages (its own group), timed the same way
  const huntGroup = `leakwatch-hunt-bench-${id}`;
  const hunt = spawn(
    process.execPath,
    [
      '--max-semi-space-size=64',
      process.argv[1] as string,
      'hunt',
      '--incident',
      `bench-${id}`,
      '--from',
      '2000-01-01',
      '--max-rate',
      'unlimited',
    ],
    {
      env: { ...process.env, ...monitorEnv(throughputTopics, group) },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const huntExited = new Promise<number | null>((resolve) => hunt.once('exit', resolve));
  let hunted = 0;
  let huntFirst = 0;
  let huntFirstCommitted = 0;
  while (hunted < options.messages && hunt.exitCode === null) {
    await new Promise((r) => setTimeout(r, 100));
    hunted = await committedTotal(kafka, huntGroup, throughputTopics.authorizations);
    if (huntFirst === 0 && hunted > 0) {
      huntFirst = performance.now();
      huntFirstCommitted = hunted;
    }
  }
  const huntRate = ((hunted - huntFirstCommitted) / (performance.now() - huntFirst)) * 1000;
  const huntCode = await huntExited;
  if (huntCode !== 0) throw new Error(`the hunt exited with ${huntCode}`);
  log(`  retro-hunt: ${Math.round(huntRate).toLocaleString('en-US')}/s`);

  // 4. latency at a fixed rate, the monitor in its own process
  log(`latency at ${options.latencyRate}/s for ${options.latencySeconds} s…`);
  monitor = await spawnMonitor(monitorEnv(latencyTopics, `${group}-lat`));
  const latencyEncoder = await createAuthorizationEncoder({
    registry,
    subject: valueSubject(latencyTopics.authorizations),
  });
  const encodeLatency = (value: unknown) =>
    confluentFrame(latencyEncoder.schemaId, cardAuthorizationAvro.type.toBuffer(value));
  const alertDecoder = createAlertDecoder({ registry });
  const latencies: Array<{ at: number; ms: number; detectedMs: number }> = [];
  const alertsConsumer = kafka.consumer({ groupId: `bench-alerts-${id}`, maxWaitTimeInMs: 20 });
  await alertsConsumer.connect();
  await alertsConsumer.subscribe({ topic: latencyTopics.alerts, fromBeginning: true });
  await alertsConsumer.run({
    // no commits: kafkajs would await one after each batch before fetching again, and that round
    // trip would be counted as the monitor's latency (a reader that must commit does it behind
    // its next fetch, as the dispatcher does)
    autoCommit: false,
    eachMessage: async ({ message }) => {
      const arrived = Date.now();
      const decoded = await alertDecoder.decode(message.value);
      if (decoded.ok)
        latencies.push({
          at: decoded.value.occurredAt,
          ms: arrived - decoded.value.occurredAt,
          detectedMs: decoded.value.detectedAt - decoded.value.occurredAt,
        });
    },
  });
  // one Kafka hop under the same load: a plain consumer of the same input, timestamps only
  const hops: Array<{ at: number; ms: number }> = [];
  const hopConsumer = kafka.consumer({ groupId: `bench-hop-${id}`, maxWaitTimeInMs: 20 });
  await hopConsumer.connect();
  await hopConsumer.subscribe({ topic: latencyTopics.authorizations, fromBeginning: true });
  await hopConsumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const arrived = Date.now();
      for (const m of batch.messages)
        hops.push({ at: Number(m.timestamp), ms: arrived - Number(m.timestamp) });
      await Promise.resolve();
    },
  });
  // let the group settle before the clock starts
  await new Promise((r) => setTimeout(r, 3000));
  const trafficStart = Date.now();
  const paced = await runTraffic({
    generator: createTrafficGenerator({
      seed: 9,
      runId: `bench-lat-${id}`,
      watchedCards: watched,
      watchedShare: 0.01,
      encodeAvro: encodeLatency,
    }),
    ratePerSecond: options.latencyRate,
    durationMs: options.latencySeconds * 1000,
    batchSize: Math.max(1, Math.round(options.latencyRate / 100)),
    send: async (events) => {
      // latency is measured from here: the moment the authorization is handed to Kafka
      const now = Date.now();
      for (const e of events) if (e.kind === 'authorization') e.value.occurredAt = now;
      await producer.send({
        topic: latencyTopics.authorizations,
        acks: 1,
        messages: events.map((e) => ({ key: e.key, value: messageValue(e, encodeLatency) })),
      });
    },
  });
  const expectedAlerts = paced.watched;
  const deadline = Date.now() + 30_000;
  while (latencies.length < expectedAlerts && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  await alertsConsumer.disconnect();
  await hopConsumer.disconnect();
  await monitor.stop();
  await producer.disconnect();
  await store.drop();
  await store.close();

  // the first seconds warm up (JIT, connections, script and schema caches): reported apart
  const warmUpMs = 3000;
  const warm = latencies.filter((l) => l.at >= trafficStart + warmUpMs);
  const sorted = warm.map((l) => l.ms).sort((a, b) => a - b);
  // where the time goes: before the monitor built the alert (fetch, decode, lookup, rules), and
  // after (publish, the alerts topic, the reading consumer's fetch)
  const toDetected = warm.map((l) => l.detectedMs).sort((a, b) => a - b);
  const detectedToReceived = warm.map((l) => l.ms - l.detectedMs).sort((a, b) => a - b);
  const warmUp = latencies
    .filter((l) => l.at < trafficStart + warmUpMs)
    .map((l) => l.ms)
    .sort((a, b) => a - b);
  const hopMs = hops
    .filter((h) => h.at >= trafficStart + warmUpMs)
    .map((h) => h.ms)
    .sort((a, b) => a - b);
  return {
    messages: options.messages,
    produceRate: fill.achievedRate,
    rawConsumeRate,
    monitorRate,
    monitorShareOfCeiling: monitorRate / rawConsumeRate,
    monitorCpuMicrosPerAuthorization,
    huntRate,
    alertsDuringThroughput: 0,
    latencyRate: options.latencyRate,
    latencyAchievedRate: paced.achievedRate,
    latencySamples: sorted.length,
    latencyP50Ms: percentile(sorted, 50),
    latencyP99Ms: percentile(sorted, 99),
    latencyMaxMs: sorted.at(-1) ?? Number.NaN,
    warmUpSamples: warmUp.length,
    warmUpP99Ms: percentile(warmUp, 99),
    toDetectedP99Ms: percentile(toDetected, 99),
    detectedToReceivedP99Ms: percentile(detectedToReceived, 99),
    kafkaHopP50Ms: percentile(hopMs, 50),
    kafkaHopP99Ms: percentile(hopMs, 99),
  };
}
