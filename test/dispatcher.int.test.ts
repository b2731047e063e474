import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAlertDecoder, createSchemaRegistry, type SuspiciousChargeAlert } from '@leakwatch/contracts';
import { webhookId } from '@leakwatch/delivery';
import { loadEnv, startDispatcher, type DispatcherHandle } from '@leakwatch/dispatcher-service';
import { silentLogger } from '@leakwatch/logger';
import { collectMessages, integrationTest as it } from '@leakwatch/testing';
import { describe, expect, onTestFinished } from 'vitest';
import { waitForStableGroup } from './support/consumer-group.js';
import { buildCli, CLI_MAIN, REPO_ROOT } from './support/monitor-process.js';
import {
  alert,
  DISPATCHER_MAIN,
  dispatcherEnv,
  produceAlerts,
  secret,
} from './support/dispatcher-harness.js';
import { startWebhookReceiver } from './support/webhook-receiver.js';

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('dispatcher end to end (real Kafka, registry, Redis and HTTP receivers)', () => {
  it('partner topics hold exactly their own partner alerts; webhooks reach theirs', async ({
    kafka,
    admin,
    endpoints,
    createTopics,
    groupId,
    redisPrefix,
    testId,
  }) => {
    const [alerts, dispositions] = await createTopics([
      { name: 'alerts' },
      { name: 'dispositions', numPartitions: 1 },
    ]);
    const topicA = `partner.a.alerts.v1.${testId}`;
    const topicBoth = `partner.both.alerts.v1.${testId}`;
    onTestFinished(() => admin.deleteTopics({ topics: [topicA, topicBoth] }).catch(() => undefined));
    const hooked = await startWebhookReceiver(secret);
    const both = await startWebhookReceiver(secret);
    onTestFinished(() => Promise.all([hooked.close(), both.close()]).then(() => undefined));
    const dir = await mkdtemp(join(tmpdir(), 'leakwatch-dispatch-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const partnersFile = join(dir, 'partners.yaml');
    const hook = (url: string) => [
      '      webhook:',
      `        url: ${url}`,
      `        secrets: [${secret}]`,
      "        retrySchedule: ['0s', '200ms']",
      '        allowPrivateNetwork: true',
    ];
    await writeFile(
      partnersFile,
      [
        'partners:',
        '  - partnerId: a',
        '    name: A (topic)',
        "    binPrefixes: ['411111']",
        '    delivery:',
        `      kafka: { topic: ${topicA} }`,
        '  - partnerId: hooked',
        '    name: Hooked (webhook)',
        "    binPrefixes: ['522222', '52222233']",
        '    delivery:',
        ...hook(hooked.url),
        '  - partnerId: both',
        '    name: Both, HIGH and up',
        "    binPrefixes: ['5222223']",
        '    minSeverity: HIGH',
        '    delivery:',
        `      kafka: { topic: ${topicBoth} }`,
        ...hook(both.url),
        '',
      ].join('\n'),
    );
    const sent = [
      alert(1, '41111100'), // a
      alert(2, '52222211'), // hooked
      alert(3, '52222233'), // hooked: the 8-digit prefix beats both's 7
      alert(4, '52222234', 'CRITICAL'), // both
      alert(5, '52222235', 'MEDIUM'), // both, below its minimum: nobody
      alert(6, '99999900'), // unrouted
      alert(7, '41111177', 'LOW'), // a
    ];
    await produceAlerts(kafka, endpoints, alerts as string, sent);
    const config = loadEnv(
      dispatcherEnv(endpoints, {
        alerts: alerts as string,
        dispositions: dispositions as string,
        groupId,
        redisPrefix,
        partnersFile,
      }),
    );
    let handle: DispatcherHandle | undefined;
    try {
      handle = await startDispatcher(config, { logger: silentLogger(), secretEnv: {} });
      await until('webhooks accepted', () => hooked.accepted.size === 2 && both.accepted.size === 1);
      const registry = createSchemaRegistry({ url: endpoints.schemaRegistryUrl });
      const decoder = createAlertDecoder({ registry });
      const read = async (topic: string, count: number) => {
        const messages = await collectMessages(kafka, {
          topic,
          until: (m) => m.length >= count,
          timeoutMs: 30_000,
        });
        const decoded = await decoder.decodeBatch(messages.map((m) => m.value));
        return decoded.map((d, i) => {
          if (!d.ok) throw new Error(d.message);
          expect(messages[i]?.key?.toString()).toBe(d.value.card.fingerprint);
          return d.value.alertId;
        });
      };
      expect((await read(topicA, 2)).sort()).toEqual(['alt-1', 'alt-7']);
      expect(await read(topicBoth, 1)).toEqual(['alt-4']);
      expect([...hooked.accepted].sort()).toEqual(
        [webhookId('hooked', 'alt-2'), webhookId('hooked', 'alt-3')].sort(),
      );
      expect([...both.accepted]).toEqual([webhookId('both', 'alt-4')]);
      const bodies = hooked.received.map(
        (r) => JSON.parse(r.body) as { type: string; data: SuspiciousChargeAlert },
      );
      expect(bodies.every((b) => b.type === 'alert.created')).toBe(true);
      expect(bodies.map((b) => b.data.alertId).sort()).toEqual(['alt-2', 'alt-3']);

      // metrics with the agreed names
      const metrics = await (await fetch(`http://127.0.0.1:${handle.httpPort}/metrics`)).text();
      expect(metrics).toMatch(
        /leakwatch_webhook_deliveries_total\{[^}]*partner="hooked"[^}]*outcome="accepted"[^}]*\} 2/,
      );
      expect(metrics).toMatch(/leakwatch_partner_topic_alerts_total\{[^}]*partner="a"[^}]*\} 2/);
      expect(metrics).toMatch(/leakwatch_delivery_queue_depth\{[^}]*partner="hooked"[^}]*\} 0/);
      expect(metrics).toContain('leakwatch_webhook_delivery_latency_seconds_bucket');
      expect(metrics).toContain('leakwatch_delivery_oldest_pending_seconds');
      expect(metrics).toContain('leakwatch_delivery_dead_letters');
      expect(metrics).toContain('leakwatch_webhook_endpoint_disabled');
      // the offsets are committed: every alert of the batch is delivered or durably scheduled
      await until('offsets committed', async () => {
        const offsets = await admin.fetchOffsets({ groupId, topics: [alerts as string] });
        const total = offsets[0]?.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
        return total === sent.length;
      });
    } finally {
      await handle?.close();
    }
  });

  it('down for good: dead-lettered; `leakwatch partners replay` delivers it once; list and status', async ({
    kafka,
    endpoints,
    createTopics,
    groupId,
    redisPrefix,
  }) => {
    const built = await buildCli();
    expect(built.output).not.toContain('error TS');
    const [alerts, dispositions] = await createTopics([
      { name: 'alerts' },
      { name: 'dispositions', numPartitions: 1 },
    ]);
    let up = false;
    const receiver = await startWebhookReceiver(secret, () => (up ? 200 : 503));
    onTestFinished(() => receiver.close());
    const dir = await mkdtemp(join(tmpdir(), 'leakwatch-dispatch-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const partnersFile = join(dir, 'partners.yaml');
    await writeFile(
      partnersFile,
      [
        'partners:',
        '  - partnerId: issuer',
        '    name: Issuer',
        "    binPrefixes: ['411111']",
        '    delivery:',
        '      webhook:',
        `        url: ${receiver.url}`,
        '        secrets: [{ env: ISSUER_SECRET }]',
        "        retrySchedule: ['0s', '100ms', '100ms']",
        '        allowPrivateNetwork: true',
        '',
      ].join('\n'),
    );
    const env = dispatcherEnv(endpoints, {
      alerts: alerts as string,
      dispositions: dispositions as string,
      groupId,
      redisPrefix,
      partnersFile,
    });
    const cli = async (...args: string[]) => {
      const child = spawn(process.execPath, [CLI_MAIN, 'partners', ...args], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', ...env, ISSUER_SECRET: secret },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise<number | null>((done) => child.on('close', done));
      return { code, output };
    };
    await produceAlerts(kafka, endpoints, alerts as string, [alert(1, '41111100'), alert(2, '41111100')]);
    const handle = await startDispatcher(loadEnv(env), {
      logger: silentLogger(),
      secretEnv: { ISSUER_SECRET: secret },
    });
    try {
      await until('two dead letters', async () => (await handle.store.status('issuer')).deadLetters === 2);
      expect(receiver.received).toHaveLength(6);
      expect(receiver.accepted.size).toBe(0);

      const list = await cli('list');
      expect(list.code).toBe(0);
      expect(list.output).toContain('"partnerId": "issuer"');
      expect(list.output).toContain('[REDACTED]');
      expect(list.output).not.toContain(secret.slice(6));
      const status = await cli('status', 'issuer');
      expect(status.code).toBe(0);
      expect(status.output).toMatch(/dead letters\s+2/);
      expect(status.output).toContain('dead_lettered');

      up = true;
      const replay = await cli('replay', 'issuer', '--alert', 'alt-2');
      expect(replay).toEqual({ code: 0, output: '1 dead letter(s) of issuer scheduled again\n' });
      await until('the replay accepted', () => receiver.accepted.size === 1);
      await until('the schedule empty', async () => (await handle.store.status('issuer')).queueDepth === 0);
      expect([...receiver.accepted]).toEqual([webhookId('issuer', 'alt-2')]);
      expect(receiver.received.filter((r) => r.status === 200)).toHaveLength(1);
      // the replayed delivery kept its webhook-id
      expect(new Set(receiver.received.map((r) => r.id)).size).toBe(2);
      expect((await handle.store.deadLetters('issuer')).map((d) => d.alertId)).toEqual(['alt-1']);
      expect((await cli('replay', 'nobody')).code).toBe(1);
    } finally {
      await handle.close();
    }
  });

  it('refuses to start on a webhook URL without https or resolving to a private address', async ({
    endpoints,
    createTopics,
    groupId,
    redisPrefix,
  }) => {
    const [alerts, dispositions] = await createTopics([
      { name: 'alerts' },
      { name: 'dispositions', numPartitions: 1 },
    ]);
    const dir = await mkdtemp(join(tmpdir(), 'leakwatch-dispatch-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const partnersFile = join(dir, 'partners.yaml');
    await writeFile(
      partnersFile,
      [
        'partners:',
        '  - partnerId: inside',
        '    name: Resolves inside',
        "    binPrefixes: ['411111']",
        '    delivery:',
        '      webhook:',
        '        url: https://localhost:8443/hook',
        `        secrets: [${secret}]`,
        '',
      ].join('\n'),
    );
    const config = loadEnv(
      dispatcherEnv(endpoints, {
        alerts: alerts as string,
        dispositions: dispositions as string,
        groupId,
        redisPrefix,
        partnersFile,
      }),
    );
    const starting = startDispatcher(config, { logger: silentLogger(), secretEnv: {} });
    await expect(starting).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(starting).rejects.toThrow('inside: webhook URL is loopback');
  });

  it('binds /metrics and the disposition intake to LEAKWATCH_HTTP_HOST, and nothing else', async ({
    endpoints,
    createTopics,
    groupId,
    redisPrefix,
  }) => {
    const [alerts, dispositions] = await createTopics([
      { name: 'alerts' },
      { name: 'dispositions', numPartitions: 1 },
    ]);
    const dir = await mkdtemp(join(tmpdir(), 'leakwatch-dispatch-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const partnersFile = join(dir, 'partners.yaml');
    await writeFile(
      partnersFile,
      "partners:\n  - partnerId: topic-only\n    name: Topic only\n    binPrefixes: ['411111']\n    delivery: { kafka: true }\n",
    );
    const config = loadEnv({
      ...dispatcherEnv(endpoints, {
        alerts: alerts as string,
        dispositions: dispositions as string,
        groupId,
        redisPrefix,
        partnersFile,
      }),
      // a loopback address other than 127.0.0.1 (Linux routes all of 127/8 to lo)
      LEAKWATCH_HTTP_HOST: '127.0.0.2',
      LEAKWATCH_DISPATCH_INTAKE: 'true',
      LEAKWATCH_INTAKE_PORT: '0',
      LEAKWATCH_CREATE_TOPICS: 'false',
    });
    const handle = await startDispatcher(config, { logger: silentLogger(), secretEnv: {} });
    onTestFinished(() => handle.close());
    const reach = (host: string, port: number | null, path: string, method = 'GET') =>
      fetch(`http://${host}:${port}${path}`, { method, signal: AbortSignal.timeout(5000) }).then(
        (r) => r.status,
        (error: unknown) => (error as { cause?: { code?: string } }).cause?.code ?? 'error',
      );
    const intakePath = '/v1/partners/topic-only/dispositions';
    expect(await reach('127.0.0.2', handle.httpPort, '/healthz')).toBe(200);
    expect(await reach('127.0.0.2', handle.intakePort, intakePath, 'POST')).toBe(404); // the intake answers: no inbound secret for this partner
    expect(await reach('127.0.0.1', handle.httpPort, '/healthz')).toBe('ECONNREFUSED');
    expect(await reach('127.0.0.1', handle.intakePort, intakePath, 'POST')).toBe('ECONNREFUSED');
  });

  it('SIGKILL while deliveries are retrying, then restart: every alert accepted, each once after dedup', async ({
    kafka,
    endpoints,
    createTopics,
    groupId,
    redisPrefix,
  }) => {
    const built = await buildCli();
    expect(built.output).not.toContain('error TS');
    const [alerts, dispositions] = await createTopics([
      { name: 'alerts' },
      { name: 'dispositions', numPartitions: 1 },
    ]);
    // each delivery fails twice, then is accepted: the kill lands while most are between tries
    const receiver = await startWebhookReceiver(secret, (_r, tries) => (tries <= 2 ? 500 : 200));
    onTestFinished(() => receiver.close());
    const dir = await mkdtemp(join(tmpdir(), 'leakwatch-dispatch-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const partnersFile = join(dir, 'partners.yaml');
    await writeFile(
      partnersFile,
      [
        'partners:',
        '  - partnerId: issuer',
        '    name: Issuer',
        "    binPrefixes: ['411111']",
        '    delivery:',
        '      webhook:',
        `        url: ${receiver.url}`,
        `        secrets: [${secret}]`,
        '        timeoutMs: 1000',
        "        retrySchedule: ['0s', '1s', '1s', '1s', '1s']",
        '        allowPrivateNetwork: true',
        '',
      ].join('\n'),
    );
    const env = dispatcherEnv(endpoints, {
      alerts: alerts as string,
      dispositions: dispositions as string,
      groupId,
      redisPrefix,
      partnersFile,
    });
    const spawnDispatcher = (): { child: ChildProcess; exited: Promise<NodeJS.Signals | number | null> } => {
      const child = spawn(process.execPath, [DISPATCHER_MAIN], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      onTestFinished(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      return {
        child,
        exited: new Promise((done) => child.on('exit', (code, signal) => done(signal ?? code))),
      };
    };
    const sent = Array.from({ length: 40 }, (_, n) => alert(n, '41111100'));
    await produceAlerts(kafka, endpoints, alerts as string, sent);

    const first = spawnDispatcher();
    // kill once every alert has been tried at least once and none has been accepted yet
    await until(
      'first tries of every alert',
      () => new Set(receiver.received.map((r) => r.id)).size === sent.length,
    );
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const acceptedAtKill = receiver.accepted.size;
    expect(acceptedAtKill).toBeLessThan(sent.length);

    const second = spawnDispatcher();
    await until('every alert accepted', () => receiver.accepted.size === sent.length, 90_000);
    expect([...receiver.accepted].sort()).toEqual(sent.map((a) => webhookId('issuer', a.alertId)).sort());
    // no accepted delivery was sent again on purpose: after its 2xx, no further request for it
    for (const id of receiver.accepted) {
      const requests = receiver.received.filter((r) => r.id === id);
      const firstAccept = requests.findIndex((r) => r.status === 200);
      expect(requests.slice(firstAccept + 1), `requests after the 2xx of ${id}`).toEqual([]);
    }
    // the killed member stays in the group until its session times out, and a stop in the middle
    // of that rebalance waits for it: stop once the group has settled on the second process
    const admin = kafka.admin();
    await admin.connect();
    onTestFinished(() => admin.disconnect());
    await waitForStableGroup(admin, groupId, alerts as string, 1, undefined, 90_000);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    process.stderr.write(
      `[dispatcher SIGKILL] ${sent.length} alerts, ${acceptedAtKill} accepted at the kill, ${receiver.received.length} requests in all\n`,
    );
  }, 180_000);
});
