import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@leakwatch/logger';
import { Gauge, type Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  /**
   * A short code for why ('ready', 'reconnecting', 'ECONNREFUSED', 'retrying'). Anything else
   * (error text, host names, ids) is not shown: /readyz says `ok` or `failing` instead.
   */
  detail?: string;
}

/** A code: a letter, then up to 39 letters, digits, `_`, `.` or `-`. No spaces, no colons. */
const CODE = /^[A-Za-z][A-Za-z0-9_.-]{0,39}$/;

/** What /readyz shows of a check: its code when it is one, else only `ok` or `failing`. */
function publicReadiness(report: ReadinessReport): ReadinessReport {
  return {
    ready: report.ready,
    checks: report.checks.map((c) => ({
      name: c.name,
      ok: c.ok,
      detail: c.detail !== undefined && CODE.test(c.detail) ? c.detail : c.ok ? 'ok' : 'failing',
    })),
  };
}

export interface ReadinessReport {
  ready: boolean;
  checks: ReadinessCheck[];
}

export interface OpsServerOptions {
  port: number;
  /** Interface to listen on (LEAKWATCH_HTTP_HOST); default loopback only. */
  host?: string;
  registry: Registry;
  /** Connected and working? Called on every /readyz. */
  readiness: () => ReadinessReport | Promise<ReadinessReport>;
  logger: Logger;
}

export interface OpsServer {
  start(): Promise<number>;
  close(): Promise<void>;
  readonly port: number | undefined;
  /** The address it listens on, once started ('127.0.0.1', '::', ...). */
  readonly address: string | undefined;
}

/**
 * /metrics (Prometheus text), /healthz (the process is alive and its event loop turns) and
 * /readyz (200 only when every dependency is connected and the work is flowing; 503 with the
 * failing checks otherwise, so an orchestrator stops routing and an operator sees why).
 */
export function createOpsServer(options: OpsServerOptions): OpsServer {
  registerReadinessMetrics(options.registry, options.readiness);
  let server: Server | undefined;
  let closing: Promise<void> | undefined;
  let port: number | undefined;
  let address: string | undefined;

  const handler = async (url: string): Promise<{ status: number; type: string; body: string }> => {
    switch (url.split('?')[0]) {
      case '/metrics':
        return { status: 200, type: options.registry.contentType, body: await options.registry.metrics() };
      case '/healthz':
        return { status: 200, type: 'application/json', body: '{"status":"alive"}' };
      case '/readyz': {
        const report = await options.readiness();
        const failing = report.checks.filter((c) => !c.ok);
        // the full story goes to the log, for operators; the body is for anyone who can connect
        if (failing.length > 0) options.logger.debug({ checks: failing }, 'not ready');
        return {
          status: report.ready ? 200 : 503,
          type: 'application/json',
          body: JSON.stringify(publicReadiness(report)),
        };
      }
      default:
        return { status: 404, type: 'text/plain', body: 'not found: try /metrics, /healthz or /readyz\n' };
    }
  };

  return {
    get port() {
      return port;
    },
    get address() {
      return address;
    },
    start() {
      server = createServer((req, res) => {
        handler(req.url ?? '/').then(
          ({ status, type, body }) => {
            res.writeHead(status, { 'content-type': type });
            res.end(body);
          },
          (error: unknown) => {
            options.logger.error({ err: error }, 'ops endpoint failed');
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end('internal error\n');
          },
        );
      });
      server.keepAliveTimeout = 5000;
      const s = server;
      return new Promise((resolve, reject) => {
        s.once('error', reject);
        s.listen({ port: options.port, host: options.host ?? '127.0.0.1' }, () => {
          ({ port, address } = s.address() as AddressInfo);
          options.logger.info({ port, host: address }, 'serving /metrics, /healthz, /readyz');
          resolve(port);
        });
      });
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        if (!server) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/**
 * leakwatch_ready (0/1) and leakwatch_ready_check{check} (0/1): the /readyz verdict at scrape
 * time, so Prometheus can alert on a service that is up but not ready (the target-down alert
 * cannot see that).
 */
function registerReadinessMetrics(registry: Registry, readiness: OpsServerOptions['readiness']): void {
  let last: Promise<ReadinessReport> | undefined;
  // both gauges are collected in one scrape: ask once
  const report = () => {
    last ??= Promise.resolve(readiness()).finally(() => setImmediate(() => (last = undefined)));
    return last;
  };
  new Gauge({
    name: 'leakwatch_ready',
    help: 'The service answers /readyz with 200 (1) or 503 (0).',
    registers: [registry],
    async collect() {
      this.set((await report()).ready ? 1 : 0);
    },
  });
  new Gauge({
    name: 'leakwatch_ready_check',
    help: 'Each readiness check of /readyz: passing (1) or failing (0).',
    labelNames: ['check'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of (await report()).checks) this.set({ check: c.name }, c.ok ? 1 : 0);
    },
  });
}
