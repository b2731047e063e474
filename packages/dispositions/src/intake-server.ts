import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@leakwatch/logger';
import type { DispositionIntake, IntakeResponse } from './intake.js';

export interface IntakeServerOptions {
  /** LEAKWATCH_INTAKE_PORT (default 8088); 0 picks a free port. */
  port: number;
  /** Interface to listen on (the dispatcher's LEAKWATCH_HTTP_HOST); default loopback only. */
  host?: string;
  intake: DispositionIntake;
  logger: Logger;
  /** A disposition is a few hundred bytes; anything much larger is refused unread. Default 64 KiB. */
  maxBodyBytes?: number;
}

export interface IntakeServer {
  start(): Promise<number>;
  /** Stops accepting, lets requests in hand finish; idempotent. */
  close(): Promise<void>;
  readonly port: number | undefined;
}

const ROUTE = /^\/v1\/partners\/([a-z0-9-]{1,64})\/dispositions\/?$/;

function send(res: ServerResponse, response: IntakeResponse): void {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (response.retryAfterSeconds !== undefined) headers['retry-after'] = String(response.retryAfterSeconds);
  res.writeHead(response.status, headers);
  res.end(JSON.stringify(response.body));
}

function error(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...extra });
  res.end(JSON.stringify({ error: { code, message } }));
}

/** Reads the body up to `limit` bytes; null when it is larger (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) {
      resolve(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The issuer-facing HTTP server: only `POST /v1/partners/<partnerId>/dispositions` (metrics
 * and health stay on the ops port, which issuers never reach). Every answer is JSON; errors are
 * `{"error":{"code","message"}}`.
 */
export function createIntakeServer(options: IntakeServerOptions): IntakeServer {
  const limit = options.maxBodyBytes ?? 64 * 1024;
  let server: Server | undefined;
  let port: number | undefined;
  let closing: Promise<void> | undefined;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const match = ROUTE.exec(path);
    if (!match) {
      error(res, 404, 'not_found', 'the only endpoint is POST /v1/partners/<partnerId>/dispositions');
      return;
    }
    if (req.method !== 'POST') {
      error(res, 405, 'method_not_allowed', 'use POST', { allow: 'POST' });
      return;
    }
    const body = await readBody(req, limit);
    if (body === null) {
      error(res, 413, 'body_too_large', `the body must be at most ${limit} bytes`, { connection: 'close' });
      return;
    }
    const headers: Record<string, string | undefined> = {};
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const value = req.headers[name];
      headers[name] = Array.isArray(value) ? value.join(' ') : value;
    }
    send(res, await options.intake.handle({ partnerId: match[1] as string, headers, body }));
  }

  return {
    get port() {
      return port;
    },
    start() {
      const s = createServer((req, res) => {
        route(req, res).catch((err: unknown) => {
          options.logger.error({ err }, 'disposition intake request failed');
          if (!res.headersSent) error(res, 500, 'internal', 'internal error');
          else res.end();
        });
      });
      s.requestTimeout = 15_000;
      s.headersTimeout = 10_000;
      s.keepAliveTimeout = 5000;
      server = s;
      return new Promise((resolve, reject) => {
        s.once('error', reject);
        s.listen({ port: options.port, host: options.host ?? '127.0.0.1' }, () => {
          s.off('error', reject);
          port = (s.address() as AddressInfo).port;
          resolve(port);
        });
      });
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        if (!server?.listening) {
          resolve();
          return;
        }
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
