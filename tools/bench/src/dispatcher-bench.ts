import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KafkaSettings, RegistrySettings } from '@leakwatch/config';
import {
  createAlertEncoder,
  createSchemaRegistry,
  ensureSchemaRegistered,
  exampleAlert,
  suspiciousChargeAlertAvro,
  valueSubject,
  type SuspiciousChargeAlert,
} from '@leakwatch/contracts';
import { createKafka, ensureTopics } from '@leakwatch/kafka';
import { silentLogger } from '@leakwatch/logger';
import type { Kafka, Producer } from 'kafkajs';
import { percentile } from './machine.js';
import { startReceivers } from './webhook-receivers.js';

export interface DispatcherBenchOptions {
  kafka: KafkaSettings;
  registry: RegistrySettings;
  /** LEAKWATCH_REDIS_URL or LEAKWATCH_REDIS_CLUSTER_NODES for the dispatcher process. */
  redisEnv: Record<string, string>;
  partners: number;
  /** How long each partner takes to answer. */
  answerMs: number;
  /** Alerts pre-produced for the throughput run. */
  deliveries: number;
  latencyRate: number;
  latencySeconds: number;
  /** LEAKWATCH_DISPATCH_CONCURRENCY of the dispatcher. */
  concurrency: number;
  /** Dispatcher processes run side by side (one consumer group, one Redis schedule). Default 1. */
  dispatchers?: number;
  /** Deletes the run's Redis keys (by prefix) when done. */
  deleteKeys?: (prefix: string) => Promise<void>;
  log: (line: string) => void;
}

export interface DispatcherBenchResult {
  partners: number;
  answerMs: number;
  concurrency: number;
  dispatchers: number;
  deliveries: number;
  deliveriesPerSecond: number;
  /** Deliveries per CPU second of the dispatcher processes: what one free core would do. */
  deliveriesPerCpuSecond: number | null;
  latencyRate: number;
  latencyAchievedRate: number;
  latencySamples: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  /** The first WARM_UP_MS of the latency run (JIT, connections, script caches), reported apart. */
  warmUpSamples: number;
  warmUpP99Ms: number;
}

/** As the monitor's bench: the first 3 s of steady traffic warm the process up. */
const WARM_UP_MS = 3000;

async function freePort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

/** CPU seconds (user + system) a process has used, from /proc (Linux); null elsewhere. */
async function cpuSeconds(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (100/s)
  } catch {
    return null;
  }
}

/** `leakwatch dispatch` as operators run it, in its own process; ready when /readyz says so. */
async function spawnDispatcher(
  env: Record<string, string>,
): Promise<{ stop: () => Promise<void>; cpuSeconds: () => Promise<number | null> }> {
  const port = await freePort();
  // LEAKWATCH_BENCH_CPU_PROFILE=1 writes a V8 CPU profile of the dispatcher to reports/profiles
  const profile =
    process.env.LEAKWATCH_BENCH_CPU_PROFILE === '1' ? ['--cpu-prof', '--cpu-prof-dir=reports/profiles'] : [];
  const child = spawn(
    process.execPath,
    ['--max-semi-space-size=64', ...profile, process.argv[1] as string, 'dispatch'],
    {
      env: { ...process.env, ...env, LEAKWATCH_HTTP_PORT: String(port) },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error('the dispatcher did not become ready');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
    cpuSeconds: () => cpuSeconds(child.pid),
  };
}

/** `count` dispatchers side by side; their CPU seconds summed. */
async function spawnDispatchers(env: Record<string, string>, count: number) {
  const all = await Promise.all(Array.from({ length: count }, () => spawnDispatcher(env)));
  return {
    stop: () => Promise.all(all.map((d) => d.stop())).then(() => undefined),
    cpuSeconds: async () => {
      const each = await Promise.all(all.map((d) => d.cpuSeconds()));
      return each.includes(null) ? null : (each as number[]).reduce((a, b) => a + b, 0);
    },
  };
}

function benchAlert(n: number, bin: string, detectedAt: number, runId: string): SuspiciousChargeAlert {
  const base = exampleAlert();
  return {
    ...base,
    alertId: `bench-${runId}-${n}`,
    eventId: `bench-evt-${runId}-${n}`,
    detectedAt,
    card: {
      ...base.card,
      bin,
      fingerprint: createHash('sha256').update(`${runId}-${n}`).digest('base64url'),
    },
  };
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Webhook delivery throughput and latency: N partners answering in `answerMs`, the dispatcher in
 * its own process. Throughput: alerts pre-produced, first to last accepted. Latency: alerts
 * produced at a steady rate, from produce (= detectedAt) to the partner's 2xx.
 */
export async function runDispatcherBenchmark(
  options: DispatcherBenchOptions,
): Promise<DispatcherBenchResult> {
  const { log } = options;
  const runId = randomBytes(4).toString('hex');
  const kafka: Kafka = createKafka(options.kafka, silentLogger());
  const registry = createSchemaRegistry({ ...options.registry, clientId: 'leakwatch-bench' });
  const receivers = await startReceivers(options.partners, options.answerMs);
  const dir = await mkdtemp(join(tmpdir(), 'leakwatch-bench-dispatch-'));
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const bins = Array.from({ length: options.partners }, (_, i) => String(400000 + i));
  await writeFile(
    join(dir, 'partners.yaml'),
    [
      'partners:',
      ...receivers.urls.flatMap((url, i) => [
        `  - partnerId: bench-${i}`,
        `    name: Bench partner ${i}`,
        `    binPrefixes: ['${bins[i]}']`,
        '    delivery:',
        '      webhook:',
        `        url: ${url}`,
        `        secrets: [${secret}]`,
        "        retrySchedule: ['0s', '1s', '5s']",
        '        allowPrivateNetwork: true',
      ]),
      '',
    ].join('\n'),
  );
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const topics = [`bench.alerts.${runId}`, `bench.alerts-latency.${runId}`];
  await ensureTopics(
    kafka,
    topics.map((topic) => ({ topic })),
    6,
  );
  const encoders = new Map<string, Awaited<ReturnType<typeof createAlertEncoder>>>();
  for (const topic of topics) {
    await ensureSchemaRegistered(registry, suspiciousChargeAlertAvro, valueSubject(topic));
    encoders.set(topic, await createAlertEncoder({ registry, subject: valueSubject(topic) }));
  }
  const env = (topic: string) => ({
    ...options.redisEnv,
    LEAKWATCH_KAFKA_BROKERS: options.kafka.brokers.join(','),
    LEAKWATCH_SCHEMA_REGISTRY_URL: options.registry.url,
    LEAKWATCH_REDIS_KEY_PREFIX: `bench-dispatch-${runId}-${topic}:`,
    LEAKWATCH_TOPIC_ALERTS: topic,
    LEAKWATCH_TOPIC_DISPOSITIONS: `bench.dispositions.${runId}`,
    LEAKWATCH_DISPATCHER_GROUP_ID: `bench-dispatch-${runId}-${topic}`,
    LEAKWATCH_PARTNERS_FILE: join(dir, 'partners.yaml'),
    LEAKWATCH_DISPATCH_INTAKE: 'false',
    LEAKWATCH_DISPATCH_CONCURRENCY: String(options.concurrency),
    LEAKWATCH_LOG_LEVEL: 'warn',
  });
  const produce = async (topic: string, alerts: SuspiciousChargeAlert[]) => {
    const encoder = encoders.get(topic);
    if (!encoder) throw new Error(`no encoder for ${topic}`);
    await producer.send({
      topic,
      acks: -1,
      messages: alerts.map((a) => ({ key: a.card.fingerprint, value: encoder.encode(a) })),
    });
  };

  try {
    // ---- throughput: pre-produced alerts, spread over the partners ----
    const total = options.deliveries;
    log(`  producing ${total.toLocaleString('en-US')} alerts for ${options.partners} partners`);
    for (let start = 0; start < total; start += 5000) {
      const batch = Array.from({ length: Math.min(5000, total - start) }, (_, k) => {
        const n = start + k;
        return benchAlert(n, `${bins[n % bins.length]}00`, Date.now(), `${runId}t`);
      });
      await produce(topics[0] as string, batch);
    }
    receivers.acceptedAt.clear();
    const dispatchers = options.dispatchers ?? 1;
    const dispatcher = await spawnDispatchers(env(topics[0] as string), dispatchers);
    const cpuAtStart = await dispatcher.cpuSeconds();
    const receiversCpu = process.cpuUsage();
    await until(() => receivers.acceptedAt.size >= total, 600_000, 'every delivery accepted');
    const cpuAtEnd = await dispatcher.cpuSeconds();
    const receiversUsed = process.cpuUsage(receiversCpu);
    // the receivers (plain node:http, no signature check) share the cores: say what they cost
    log(
      `  receivers (a worker thread of the bench): ${Math.round((receiversUsed.user + receiversUsed.system) / total)} µs CPU per delivery`,
    );
    await dispatcher.stop();
    const cpuUsed = cpuAtStart !== null && cpuAtEnd !== null ? cpuAtEnd - cpuAtStart : null;
    const times = [...receivers.acceptedAt.values()];
    const first = Math.min(...times);
    const last = Math.max(...times);
    const deliveriesPerSecond = total / Math.max(0.001, (last - first) / 1000);
    log(`  throughput: ${Math.round(deliveriesPerSecond)} deliveries/s`);

    // ---- latency: a steady rate, produce -> accepted ----
    receivers.acceptedAt.clear();
    const latencyDispatcher = await spawnDispatchers(env(topics[1] as string), dispatchers);
    const producedAt = new Map<string, number>();
    const tickMs = 20;
    const perTick = Math.max(1, Math.round((options.latencyRate * tickMs) / 1000));
    const started = Date.now();
    let n = 0;
    while (Date.now() - started < options.latencySeconds * 1000) {
      const tickStart = Date.now();
      const batch = Array.from({ length: perTick }, () => {
        const a = benchAlert(n, `${bins[n % bins.length]}00`, Date.now(), `${runId}l`);
        n++;
        return a;
      });
      for (const a of batch) producedAt.set(a.alertId, a.detectedAt);
      await produce(topics[1] as string, batch);
      const spent = Date.now() - tickStart;
      if (spent < tickMs) await new Promise((r) => setTimeout(r, tickMs - spent));
    }
    const achieved = n / ((Date.now() - started) / 1000);
    await until(() => receivers.acceptedAt.size >= n, 120_000, 'every latency delivery accepted');
    await latencyDispatcher.stop();
    // webhook-id -> alert: recompute the id the same way the dispatcher does
    const latencies: number[] = [];
    const warmUp: number[] = [];
    for (const [alertId, at] of producedAt) {
      const index = Number(alertId.slice(alertId.lastIndexOf('-') + 1));
      const partnerId = `bench-${index % bins.length}`;
      const digest = createHash('sha256').update(`${partnerId}\n${alertId}`).digest();
      const accepted = receivers.acceptedAt.get(`msg_${digest.subarray(0, 16).toString('base64url')}`);
      if (accepted !== undefined) (at < started + WARM_UP_MS ? warmUp : latencies).push(accepted - at);
    }
    latencies.sort((a, b) => a - b);
    warmUp.sort((a, b) => a - b);
    return {
      partners: options.partners,
      answerMs: options.answerMs,
      concurrency: options.concurrency,
      dispatchers,
      deliveries: total,
      deliveriesPerSecond,
      deliveriesPerCpuSecond: cpuUsed === null || cpuUsed <= 0 ? null : total / cpuUsed,
      latencyRate: options.latencyRate,
      latencyAchievedRate: achieved,
      latencySamples: latencies.length,
      latencyP50Ms: percentile(latencies, 50),
      latencyP99Ms: percentile(latencies, 99),
      latencyMaxMs: latencies.at(-1) ?? 0,
      warmUpSamples: warmUp.length,
      warmUpP99Ms: percentile(warmUp, 99),
    };
  } finally {
    await producer.disconnect().catch(() => undefined);
    const admin = kafka.admin();
    await admin.connect().catch(() => undefined);
    // the dispatcher created the dispositions topic too (LEAKWATCH_CREATE_TOPICS)
    await admin.deleteTopics({ topics: [...topics, `bench.dispositions.${runId}`] }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await receivers.close();
    await rm(dir, { recursive: true, force: true });
    await options.deleteKeys?.(`bench-dispatch-${runId}-`).catch(() => undefined);
  }
}
