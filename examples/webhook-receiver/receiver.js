// A reference receiver of Leakwatch alert webhooks, for card issuers to copy.
//
// Leakwatch signs every delivery as Standard Webhooks v1 (https://www.standardwebhooks.com/):
// headers webhook-id, webhook-timestamp and webhook-signature over "<id>.<timestamp>.<body>".
// This receiver checks them with the `standardwebhooks` npm package (any Standard Webhooks
// library in your language does the same), refuses requests signed more than 5 minutes off,
// drops a repeated webhook-id (Leakwatch delivers at least once), and posts dispositions back.
//
// Plain node:http and one dependency, so it reads top to bottom. In production put it behind
// your TLS terminator, keep seen webhook-ids in your database (a unique key), and process the
// alert from a queue: answer 2xx fast, Leakwatch retries anything else.

/* global fetch, AbortSignal */
import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

/** Standard Webhooks' tolerance; the library enforces it too (5 minutes either way). */
export const TOLERANCE_SECONDS = 5 * 60;
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Remembers webhook-ids for a while, so a delivery that arrives twice is handled once. A
 * request older than the tolerance is refused anyway, so an hour is plenty; an in-memory map is
 * enough for one process, use your database for more.
 */
export function createSeenIds({ ttlMs = 60 * 60 * 1000, now = Date.now } = {}) {
  const seen = new Map();
  return {
    /** True the first time an id is seen (and records it), false for a repeat. */
    firstTime(id) {
      const t = now();
      for (const [key, expires] of seen) {
        if (expires > t) break; // insertion order: the oldest first
        seen.delete(key);
      }
      if (seen.has(id)) return false;
      seen.set(id, t + ttlMs);
      return true;
    },
    /** Handling failed: the retry must not be taken for a repeat. */
    forget(id) {
      seen.delete(id);
    },
  };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function reply(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * Verifies one delivery: the raw body (exactly the bytes received: never re-serialise JSON
 * before checking) and its three headers, against each secret you hold (two during a rotation).
 * Returns the parsed event, or throws WebhookVerificationError.
 */
export function verifyDelivery(webhooks, rawBody, headers) {
  const signed = {
    'webhook-id': headers['webhook-id'],
    'webhook-timestamp': headers['webhook-timestamp'],
    'webhook-signature': headers['webhook-signature'],
  };
  let lastError = new WebhookVerificationError('No secret configured');
  for (const webhook of webhooks) {
    try {
      // checks the timestamp (±5 min), then the v1 HMAC; returns the JSON-parsed body
      return webhook.verify(rawBody, signed);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/**
 * An http.Server that takes Leakwatch alerts on POST `path`.
 * @param {object} options
 * @param {string[]} options.secrets  the whsec_… secret(s) Leakwatch signs with for you
 * @param {(event: {type: string, timestamp: string, data: object}, id: string) => void | Promise<void>} options.onAlert
 * @param {string} [options.path]  default /webhooks/leakwatch
 * @param {(line: object) => void} [options.log]
 */
export function createReceiver({ secrets, onAlert, path = '/webhooks/leakwatch', log = () => {} }) {
  if (!secrets || secrets.length === 0) throw new Error('at least one whsec_ secret is needed');
  const webhooks = secrets.map((secret) => new Webhook(secret));
  const seen = createSeenIds();

  return createServer(async (req, res) => {
    if (req.method !== 'POST' || req.url !== path) {
      reply(res, 404, { error: 'not found' });
      return;
    }
    let rawBody;
    try {
      rawBody = await readBody(req);
    } catch {
      reply(res, 413, { error: 'body too large' });
      return;
    }
    let event;
    try {
      event = verifyDelivery(webhooks, rawBody, req.headers);
    } catch (error) {
      // a bad signature or a stale timestamp: not from Leakwatch, or replayed. 4xx, not retried
      // usefully; Leakwatch dead-letters it after its retries and an operator looks.
      log({ msg: 'refused', reason: error instanceof Error ? error.message : String(error) });
      reply(res, 401, { error: 'invalid signature or timestamp' });
      return;
    }
    const id = req.headers['webhook-id'];
    if (!seen.firstTime(id)) {
      // already handled (a retry whose 2xx got lost): say yes again, do nothing
      log({ msg: 'duplicate dropped', webhookId: id });
      reply(res, 200, { status: 'duplicate' });
      return;
    }
    try {
      await onAlert(event, id);
    } catch (error) {
      seen.forget(id);
      log({ msg: 'handler failed', error: String(error) });
      reply(res, 500, { error: 'try again' });
      return;
    }
    log({ msg: 'accepted', webhookId: id, type: event.type, alertId: event.data?.alertId });
    reply(res, 200, { status: 'accepted' });
  });
}

/**
 * Posts a disposition (your verdict on an alert) back to Leakwatch, signed with your inbound
 * secret the same way Leakwatch signs its webhooks.
 * @param {object} options
 * @param {string} options.intakeUrl  e.g. https://leakwatch.example/v1/partners/<partnerId>/dispositions
 * @param {string} options.secret  your inbound whsec_… secret (the partners file's `inbound.secrets`)
 * @param {{alertId: string, disposition: 'CONFIRMED_FRAUD'|'FALSE_POSITIVE'|'CARD_REISSUED'|'UNDER_REVIEW', by: string, at?: number|string, note?: string|null}} options.disposition
 * @param {string} [options.webhookId]  reuse the same id when you retry the same post
 * @returns {Promise<{status: number, body: unknown}>} 202 accepted, 200 duplicate, 4xx refused (body says why)
 */
export async function postDisposition({ intakeUrl, secret, disposition, webhookId = `msg_${randomUUID()}` }) {
  const body = JSON.stringify({ note: null, at: Date.now(), ...disposition });
  const now = new Date();
  const signature = new Webhook(secret).sign(webhookId, now, body);
  const response = await fetch(intakeUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': webhookId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signature,
    },
    body,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: response.status, body: parsed };
}
