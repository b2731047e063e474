import { existsSync } from 'node:fs';
import {
  cardAuthorizationAvro,
  createSchemaRegistry,
  ensureSchemaRegistered,
  valueSubject,
} from '@leakwatch/contracts';
import { webhookId } from '@leakwatch/delivery';
import { integrationTest as it } from '@leakwatch/testing';
import { describe, expect, onTestFinished, vi } from 'vitest';
import { ANALYST, consoleEnv, ConsoleClient, writeUsersFile } from './support/console-harness.js';
import {
  alert,
  DISPATCHER_MAIN,
  dispatcherEnv,
  produceAlerts,
  secret,
  writePartnersFile,
} from './support/dispatcher-harness.js';
import {
  committedCount,
  getOps,
  monitorEnv,
  processedCounts,
  waitUntilReady,
  watchedIncident,
} from './support/monitor-harness.js';
import { alive, portFree, REPO_ROOT, spawnService, type ServiceProcess } from './support/service-process.js';
import { produceEvents, simulatedValue, trafficFor } from './support/traffic.js';
import { startWebhookReceiver } from './support/webhook-receiver.js';

/*
 * README "Run in production": SIGTERM to exactly the command the README gives drains, commits,
 * exits 0 (so within LEAKWATCH_SHUTDOWN_TIMEOUT_MS: past it the exit code is 1), releases its
 * ports and leaves no process behind. The development command (`pnpm leakwatch monitor`) must not
 * leave an orphan either: pnpm forwards the signal to its child only when the script execs node.
 */

const WAIT = { timeout: 60_000, interval: 200 } as const;

/** SIGTERM, then: exit 0 (not the deadline's 1), "stopped" logged, no process left, `ports` free. */
async function stopsCleanly(service: ServiceProcess, ports: number[]): Promise<void> {
  const tree = service.tree();
  expect(tree.length, 'the service runs').toBeGreaterThanOrEqual(1);
  service.child.kill('SIGTERM');
  const exit = await service.exited;
  expect(exit, service.lines.slice(-20).join('\n')).toEqual({ code: 0, signal: null });
  expect(service.lines.join('\n')).toContain('"msg":"shutdown requested"');
  await vi.waitFor(() => expect(tree.filter(alive), 'processes left behind').toEqual([]), {
    timeout: 5000,
    interval: 100,
  });
  for (const port of ports) expect(await portFree(port), `port ${port} released`).toBe(true);
}

const COMMANDS: Array<{ name: string; command: string; args: string[] }> = [
  {
    name: 'production: node services/monitor/dist/main.js',
    command: process.execPath,
    args: ['--max-semi-space-size=64', 'services/monitor/dist/main.js'],
  },
  { name: 'development: pnpm leakwatch monitor', command: 'pnpm', args: ['-s', 'leakwatch', 'monitor'] },
];

describe('README "Run in production": SIGTERM to the documented command', () => {
  for (const { name, command, args } of COMMANDS) {
    it(`${name} drains, commits, exits 0, frees its port and leaves no process`, async ({
      endpoints,
      kafka,
      admin,
      createTopics,
      redis,
      redisPrefix,
      groupId,
      testId,
    }) => {
      expect(existsSync(`${REPO_ROOT}services/monitor/dist/main.js`), 'build first (pnpm build)').toBe(true);
      const { topics, fingerprintKeys, keyring, watchedCards } = await watchedIncident({
        createTopics,
        redis,
        redisPrefix,
        testId,
      });
      const schemaId = await ensureSchemaRegistered(
        createSchemaRegistry({ url: endpoints.schemaRegistryUrl }),
        cardAuthorizationAvro,
        valueSubject(topics.authorizations),
      );
      const { generator, encodeAvro } = trafficFor({ seed: testId, keyring, watchedCards, schemaId });
      const events = generator.nextBatch(300);
      const env = monitorEnv({
        endpoints,
        topics,
        groupId,
        redisPrefix,
        fingerprintKeys,
        extra: { LEAKWATCH_LOG_LEVEL: 'info' },
      });
      const monitor = spawnService(command, args, env);
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      try {
        const httpPort = (await monitor.logged('serving /metrics')).port as number;
        await waitUntilReady(httpPort, WAIT);
        await producer.connect();
        await produceEvents(producer, topics.authorizations, events, simulatedValue(encodeAvro));
        await vi.waitFor(async () => {
          const metrics = (await getOps(httpPort, '/metrics')).body;
          expect(processedCounts(metrics).total).toBe(events.length);
        }, WAIT);

        await stopsCleanly(monitor, [httpPort]);
        expect(monitor.lines.join('\n')).toContain('"msg":"stopped"');
        expect(await committedCount(admin, groupId, topics.authorizations)).toBe(events.length);
      } finally {
        await producer.disconnect();
        // a failed run must not leave its orphan running into the next tests
        monitor.killAll();
      }
    });
  }
});

describe('README "Run in production": SIGTERM to the dispatcher and the console', () => {
  it('node services/dispatcher/dist/main.js: exits 0, frees its ports; retries in flight survive', async ({
    kafka,
    admin,
    endpoints,
    createTopics,
    groupId,
    redisPrefix,
  }) => {
    expect(existsSync(DISPATCHER_MAIN), 'build first (pnpm build)').toBe(true);
    const [alerts, dispositions] = await createTopics([
      { name: 'alerts' },
      { name: 'dispositions', numPartitions: 1 },
    ]);
    // the issuer refuses every try until the first dispatcher has stopped: at SIGTERM each
    // delivery is waiting for its next try, kept only in Redis (its alert is committed)
    let issuerUp = false;
    const receiver = await startWebhookReceiver(secret, () => (issuerUp ? 200 : 503));
    onTestFinished(() => receiver.close());
    const partnersFile = await writePartnersFile([
      'partners:',
      '  - partnerId: issuer',
      '    name: Issuer',
      "    binPrefixes: ['411111']",
      '    delivery:',
      '      webhook:',
      `        url: ${receiver.url}`,
      `        secrets: [${secret}]`,
      '        timeoutMs: 1000',
      // 50 tries a second apart: the first process stops long before any is dead-lettered
      `        retrySchedule: [0s${', 1s'.repeat(49)}]`,
      '        allowPrivateNetwork: true',
    ]);
    const env = {
      ...dispatcherEnv(endpoints, {
        alerts: alerts as string,
        dispositions: dispositions as string,
        groupId,
        redisPrefix,
        partnersFile,
      }),
      LEAKWATCH_LOG_LEVEL: 'info',
      LEAKWATCH_DISPATCH_INTAKE: 'true',
      LEAKWATCH_INTAKE_PORT: '0',
      LEAKWATCH_SHUTDOWN_TIMEOUT_MS: '20000',
    };
    const sent = Array.from({ length: 40 }, (_, n) => alert(n, '41111100'));
    await produceAlerts(kafka, endpoints, alerts as string, sent);

    const first = spawnService(process.execPath, ['services/dispatcher/dist/main.js'], env);
    onTestFinished(() => first.killAll());
    const started = await first.logged('dispatcher started');
    const ports = [started.httpPort as number, started.intakePort as number];
    expect(ports.every((port) => port > 0)).toBe(true);
    await waitUntilReady(ports[0] as number, WAIT);
    await vi.waitFor(() => {
      expect(new Set(receiver.received.map((r) => r.id)).size).toBe(sent.length);
    }, WAIT);
    await stopsCleanly(first, ports);
    expect(first.lines.join('\n')).toContain('"msg":"stopped"');
    expect(receiver.accepted.size).toBe(0);
    // every alert was committed: a restart will not read them again, so what it delivers comes
    // from the retry schedule the first process left in Redis
    expect(await committedCount(admin, groupId, alerts as string)).toBe(sent.length);

    issuerUp = true;
    const second = spawnService(process.execPath, ['services/dispatcher/dist/main.js'], env);
    onTestFinished(() => second.killAll());
    await vi.waitFor(() => expect(receiver.accepted.size).toBe(sent.length), { ...WAIT, timeout: 90_000 });
    expect([...receiver.accepted].sort()).toEqual(sent.map((a) => webhookId('issuer', a.alertId)).sort());
    const secondStarted = await second.logged('dispatcher started');
    await stopsCleanly(second, [secondStarted.httpPort as number, secondStarted.intakePort as number]);
  }, 180_000);

  it('node services/console/dist/main.js: exits 0 with a live stream open, frees both ports', async ({
    endpoints,
    createTopics,
    redisPrefix,
  }) => {
    expect(existsSync(`${REPO_ROOT}services/console/dist/main.js`), 'build first (pnpm build)').toBe(true);
    const [alerts, dispositions] = await createTopics([
      { name: 'alerts' },
      { name: 'dispositions', numPartitions: 1 },
    ]);
    const env = {
      ...consoleEnv({
        endpoints,
        usersFile: await writeUsersFile(),
        topics: { alerts: alerts as string, dispositions: dispositions as string },
        redisPrefix,
      }),
      LEAKWATCH_LOG_LEVEL: 'info',
      LEAKWATCH_SHUTDOWN_TIMEOUT_MS: '20000',
    };
    const consoleProcess = spawnService(process.execPath, ['services/console/dist/main.js'], env);
    onTestFinished(() => consoleProcess.killAll());
    const started = await consoleProcess.logged('console started');
    const [port, httpPort] = [started.port as number, started.httpPort as number];
    await waitUntilReady(httpPort, WAIT);
    // an analyst with the live feed open: the stream must not hold the stop up
    const client = new ConsoleClient(`http://127.0.0.1:${port}`);
    expect((await client.signIn(ANALYST)).status).toBe(303);
    const stream = await client.request('/api/stream');
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = stream.body?.getReader();
    await stopsCleanly(consoleProcess, [port, httpPort]);
    await reader?.cancel().catch(() => undefined);
  }, 120_000);
});
