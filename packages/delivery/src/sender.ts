import { isIP } from 'node:net';
import { describeError } from '@leakwatch/errors';
import { Pool, type Dispatcher } from 'undici';
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
  /** Closes its connections. */
  close(): Promise<void>;
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

/** Where a webhook URL goes: its origin's pool and path, or why it is refused (no DNS needed). */
type Target = { kind: 'ok'; pool: Pool; path: string } | { kind: 'refused'; result: AttemptResult };

/**
 * One partner's HTTP client: an undici pool of keep-alive connections (at most `maxSockets`) per
 * origin. undici's `dispatch` never follows redirects; every connection resolves its host through
 * the guarded lookup (unless the partner allows private networks), and a literal IP in the URL is
 * checked before connecting (the socket skips lookup for those). What a URL string checks to
 * before DNS does not change, so it is worked out once per URL.
 */
export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const now = options.now ?? Date.now;
  const pools = new Map<string, Pool>();
  const targets = new Map<string, Target>();

  function targetOf(raw: string): Target {
    const known = targets.get(raw);
    if (known) return known;
    let target: Target;
    const problem = webhookUrlProblem(raw, options.allowPrivateNetwork);
    const url = problem === null ? new URL(raw) : null;
    const host = url ? url.hostname.replace(/^\[|\]$/g, '') : '';
    const reason =
      url && !options.allowPrivateNetwork && isIP(host) !== 0 ? forbiddenAddressReason(host) : null;
    if (problem !== null)
      target = { kind: 'refused', result: { kind: 'refused', error: `webhook URL ${problem}` } };
    else if (reason !== null)
      target = { kind: 'refused', result: { kind: 'refused', error: `${host} is a ${reason} address` } };
    else {
      const { origin, pathname, search } = url as URL;
      let pool = pools.get(origin);
      if (!pool) {
        pool = new Pool(origin, {
          connections: options.maxSockets,
          pipelining: 1,
          // the attempt's own deadline (below) bounds connect, send and answer together
          headersTimeout: 0,
          bodyTimeout: 0,
          connect: options.allowPrivateNetwork ? {} : { lookup: guardedLookup() },
        });
        pools.set(origin, pool);
      }
      target = { kind: 'ok', pool, path: pathname + search };
    }
    targets.set(raw, target);
    return target;
  }

  function send(request: WebhookRequest): Promise<AttemptResult> {
    const target = targetOf(request.url);
    if (target.kind === 'refused') return Promise.resolve(target.result);
    const { pool, path } = target;
    return new Promise<AttemptResult>((resolve) => {
      let result: AttemptResult | undefined;
      let controller: Dispatcher.DispatchController | undefined;
      let settled = false;
      let read = 0;
      const finish = (outcome: AttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      // The whole attempt (connect, send, answer) has one deadline.
      const timer = setTimeout(() => {
        finish({
          kind: 'failed',
          status: null,
          error: `no answer within ${request.timeoutMs} ms`,
          retryAfterMs: null,
        });
        controller?.abort(new Error('attempt timed out'));
      }, request.timeoutMs);
      timer.unref();
      // undici's low-level dispatch: the status is all we need, so no body stream is built
      pool.dispatch(
        {
          path,
          method: 'POST',
          headers: { ...request.headers, ...FIXED_HEADERS },
          body: request.body,
        },
        {
          onRequestStart(c) {
            controller = c;
            if (settled) c.abort(new Error('attempt timed out'));
          },
          onResponseStart(_c, statusCode, headers) {
            result = classifyStatus(statusCode, headerValue(headers['retry-after']), now());
          },
          onResponseData(c, chunk) {
            read += chunk.length;
            // a body this large is not an acknowledgement: stop reading, keep the status
            if (read > MAX_RESPONSE_BYTES && result) {
              finish(result);
              c.abort(new Error('response body too large'));
            }
          },
          onResponseEnd() {
            finish(result ?? { kind: 'failed', status: null, error: 'no response', retryAfterMs: null });
          },
          onResponseError(_c, error) {
            if (result) {
              finish(result);
              return;
            }
            const refused = refusal(error);
            finish(
              refused !== null
                ? { kind: 'refused', error: refused.message }
                : { kind: 'failed', status: null, error: describeError(error), retryAfterMs: null },
            );
          },
        },
      );
    });
  }

  return {
    send,
    close: () =>
      Promise.all([...pools.values()].map((pool) => pool.destroy().catch(() => undefined))).then(
        () => undefined,
      ),
  };
}

const FIXED_HEADERS = { 'content-type': 'application/json', 'user-agent': 'Leakwatch-Webhooks/1' };

/** The SSRF guard's refusal inside a connection error (undici may wrap it), or null. */
function refusal(error: unknown): RefusedDestinationError | null {
  for (let e = error, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    if (e instanceof RefusedDestinationError) return e;
  }
  return null;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
