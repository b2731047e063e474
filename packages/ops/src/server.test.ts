import { Counter } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '@leakwatch/logger';
import { createMetricsRegistry, createOpsServer, type OpsServer } from './index.js';

let server: OpsServer | undefined;
afterEach(async () => {
  await server?.close();
});

describe('ops server', () => {
  it('serves metrics with the leakwatch_ prefix, liveness, and readiness that can fail', async () => {
    const registry = createMetricsRegistry('test');
    new Counter({ name: 'leakwatch_things_total', help: 'things', registers: [registry] }).inc(3);
    let ready = false;
    server = createOpsServer({
      port: 0,
      host: '127.0.0.1',
      registry,
      logger: silentLogger(),
      readiness: () => ({
        ready,
        checks: [{ name: 'redis', ok: ready, detail: ready ? 'ok' : 'ECONNREFUSED' }],
      }),
    });
    const port = await server.start();
    const base = `http://127.0.0.1:${port}`;

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('leakwatch_things_total{service="test"} 3');
    expect(metrics).toContain('leakwatch_process_cpu_user_seconds_total');
    // a gauge named _total fails `promtool check metrics`
    expect(metrics).not.toContain('leakwatch_nodejs_active_handles_total');
    expect(metrics).not.toMatch(/^(?!#)(?!leakwatch_)\w+/m);

    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({
      ready: false,
      checks: [{ name: 'redis', detail: 'ECONNREFUSED' }],
    });
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(
      /leakwatch_ready\{service="test"\} 0[\s\S]*leakwatch_ready_check\{check="redis",service="test"\} 0/,
    );
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('leakwatch_ready{service="test"} 1');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('/readyz shows short codes only, never raw error text (issue 7, defect 15)', async () => {
    const logged: unknown[] = [];
    const logger = silentLogger();
    logger.debug = (obj: unknown) => void logged.push(obj);
    server = createOpsServer({
      port: 0,
      registry: createMetricsRegistry('t3', { processMetrics: false }),
      logger,
      readiness: () => ({
        ready: false,
        checks: [
          { name: 'redis', ok: false, detail: 'reconnecting' },
          {
            name: 'consumer',
            ok: false,
            detail:
              'failed: KafkaJSNumberOfRetriesExceeded: connect ECONNREFUSED 10.0.4.17:9092 (group leakwatch-monitor)',
          },
          { name: 'registry', ok: false, detail: 'Error: getaddrinfo ENOTFOUND registry.internal' },
          { name: 'rules', ok: true },
        ],
      }),
    });
    const port = await server.start();
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(response.status).toBe(503);
    const body = await response.text();
    expect(JSON.parse(body)).toEqual({
      ready: false,
      checks: [
        { name: 'redis', ok: false, detail: 'reconnecting' },
        { name: 'consumer', ok: false, detail: 'failing' },
        { name: 'registry', ok: false, detail: 'failing' },
        { name: 'rules', ok: true, detail: 'ok' },
      ],
    });
    expect(body).not.toMatch(/10\.0\.4\.17|ENOTFOUND|KafkaJS|registry\.internal/);
    // operators still find the whole story in the log
    expect(JSON.stringify(logged)).toContain('ECONNREFUSED 10.0.4.17:9092');
  });

  it('listens on loopback unless told otherwise', async () => {
    server = createOpsServer({
      port: 0,
      registry: createMetricsRegistry('t4', { processMetrics: false }),
      logger: silentLogger(),
      readiness: () => ({ ready: true, checks: [] }),
    });
    await server.start();
    expect(server.address).toBe('127.0.0.1');
  });

  it('closes idempotently', async () => {
    server = createOpsServer({
      port: 0,
      host: '127.0.0.1',
      registry: createMetricsRegistry('t2', { processMetrics: false }),
      logger: silentLogger(),
      readiness: () => ({ ready: true, checks: [] }),
    });
    await server.start();
    const first = server.close();
    expect(server.close()).toBe(first);
    await first;
  });
});
