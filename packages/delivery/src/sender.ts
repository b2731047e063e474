import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { describeError } from '@leakwatch/errors';
import { parseRetryAfter } from './schedule.js';
import { forbiddenAddressReason, guardedLookup, RefusedDestinationError, webhookUrlProblem } from './ssrf.js';

/** What one attempt came to. */
export type AttemptResult =
  /** 2xx: the partner has it; never sent again on purpose. */
  | { kind: 'accepted'; status: number }
  /** 410 Gone: the endpoint is disabled until an operator enables it again. */
  | { kind: 'gone'; status: number }
  /** Anything else (3xx not followed, 4xx, 5xx, timeout, connection error): retried. */
  | { kind: 'failed'; status: number | null; error: string; retryAfterMs: number | null }
  /** The URL or the address it resolved to is off limits (SSRF guard): retried, counted apart. */
  | { kind: 'refused'; error: string };

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export interface WebhookSenderOptions {
  allowPrivateNetwork: boolean;
  /** Connections kept per partner (its concurrency bound). */
  maxSockets: number;
  /** Reads the clock for Retry-After dates. */
  now?: () => number;
}

/** Sends webhooks to one partner: its own connection pool, the SSRF guard at each connection. */
export interface WebhookSender {
  send(request: WebhookRequest): Promise<AttemptResult>;
  close(): void;
}

/** Bytes of a response body read before the connection is dropped: we only need the status. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export function classifyStatus(
  status: number,
  retryAfter: string | undefined,
  now: number,
): Exclude<AttemptResult, { kind: 'refused' }> {
  if (status >= 200 && status < 300) return { kind: 'accepted', status };
  if (status === 410) return { kind: 'gone', status };
  const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(retryAfter, now) : null;
  const error =
    status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`;
  return { kind: 'failed', status, error, retryAfterMs };
}

/**
 * One partner's HTTP client. Node's http client never follows redirects; every connection
 * resolves its host through the guarded lookup (unless the partner allows private networks), and
 * a literal IP in the URL is checked before connecting (Node skips lookup for those).
 */
export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const now = options.now ?? Date.now;
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSockets,
    ...(options.allowPrivateNetwork ? {} : { lookup: guardedLookup() }),
  };
  const https = new HttpsAgent(agentOptions);
  const http = new HttpAgent(agentOptions);

  function send(request: WebhookRequest): Promise<AttemptResult> {
    const problem = webhookUrlProblem(request.url, options.allowPrivateNetwork);
    if (problem !== null) return Promise.resolve({ kind: 'refused', error: `webhook URL ${problem}` });
    const url = new URL(request.url);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!options.allowPrivateNetwork && isIP(host) !== 0) {
      const reason = forbiddenAddressReason(host);
      if (reason !== null)
        return Promise.resolve({ kind: 'refused', error: `${host} is a ${reason} address` });
    }
    const isHttps = url.protocol === 'https:';
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      const finish = (result: AttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const req = (isHttps ? httpsRequest : httpRequest)(url, {
        method: 'POST',
        agent: isHttps ? https : http,
        headers: {
          ...request.headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(request.body)),
          'user-agent': 'Leakwatch-Webhooks/1',
        },
      });
      // The whole attempt (connect, send, answer) has one deadline.
      const timer = setTimeout(() => {
        finish({
          kind: 'failed',
          status: null,
          error: `no answer within ${request.timeoutMs} ms`,
          retryAfterMs: null,
        });
        req.destroy();
      }, request.timeoutMs);
      timer.unref();
      req.on('response', (res: IncomingMessage) => {
        const result = classifyStatus(res.statusCode ?? 0, headerValue(res.headers['retry-after']), now());
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) res.destroy();
        });
        res.on('end', () => finish(result));
        res.on('close', () => finish(result));
        res.on('error', () => finish(result));
      });
      req.on('error', (error) => {
        const refused = error instanceof RefusedDestinationError;
        finish(
          refused
            ? { kind: 'refused', error: error.message }
            : { kind: 'failed', status: null, error: describeError(error), retryAfterMs: null },
        );
      });
      req.end(request.body);
    });
  }

  return {
    send,
    close() {
      https.destroy();
      http.destroy();
    },
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
