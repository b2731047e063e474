import { createHash, createHmac, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { alertToJson, validatedAlertToJson, type SuspiciousChargeAlert } from '@leakwatch/contracts';
import { LeakwatchError } from '@leakwatch/errors';
import type { WebhookDelivery } from '@leakwatch/partners';

/** The event type of every alert delivery. */
export const ALERT_CREATED = 'alert.created';

/**
 * The `webhook-id` of a partner's copy of an alert: `msg_` + base64url of the first 16 bytes
 * (128 bits) of SHA-256(partnerId "\n" alertId). The same on every attempt and replay, unique per
 * partner and alert, and it says nothing about the card.
 */
export function webhookId(partnerId: string, alertId: string): string {
  const digest = createHash('sha256').update(`${partnerId}\n${alertId}`).digest();
  return `msg_${digest.subarray(0, 16).toString('base64url')}`;
}

/**
 * The request body: `{"type":"alert.created","timestamp":<detectedAt ISO>,"data":<alert JSON>}`.
 * Only the alert's content goes in (its card is BIN, last 4 and fingerprint: never a PAN), so
 * every attempt and replay sends the same bytes. `validated`: the alert is exactly as the alert
 * decoder (or validateSuspiciousChargeAlert) returned it, so it is not checked a second time.
 */
export function webhookBody(alert: SuspiciousChargeAlert, validated = false): string {
  const timestamp = new Date(alert.detectedAt).toISOString();
  const data = validated ? validatedAlertToJson(alert) : alertToJson(alert);
  return `{"type":"${ALERT_CREATED}","timestamp":"${timestamp}","data":${data}}`;
}

/** Signs `<id>.<timestamp>.<body>` the way a partner verifies it. */
export interface WebhookSigner {
  /** The value of `webhook-signature`: space-separated `v1,<b64>` or `v1a,<b64>` entries. */
  sign(id: string, timestamp: number, body: string): string;
}

const HMAC_PREFIX = 'whsec_';
const ED25519_PREFIX = 'whsk_';
const PUBLIC_PREFIX = 'whpk_';
// PKCS#8 / SPKI DER headers of an Ed25519 key; the raw 32 bytes follow.
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

function decodeKey(value: string, prefix: string): Buffer {
  if (!value.startsWith(prefix)) {
    throw new LeakwatchError('CONFIG_INVALID', `a signing key must start with ${prefix}`);
  }
  return Buffer.from(value.slice(prefix.length), 'base64');
}

/** Signs with HMAC-SHA256 under each secret (`v1`), current first: the partner may hold any one. */
export function hmacSigner(secrets: readonly string[]): WebhookSigner {
  if (secrets.length === 0) throw new LeakwatchError('CONFIG_INVALID', 'an HMAC signer needs a secret');
  const keys = secrets.map((secret) => decodeKey(secret, HMAC_PREFIX));
  return {
    sign(id, timestamp, body) {
      // `<id>.<timestamp>.<body>` fed in two parts: the body (the bulk) is not copied per try
      const head = `${id}.${timestamp}.`;
      return keys
        .map((key) => `v1,${createHmac('sha256', key).update(head).update(body).digest('base64')}`)
        .join(' ');
    },
  };
}

/** The Ed25519 private key of a `whsk_` value: a 32-byte seed, or seed + public key (64 bytes). */
export function ed25519PrivateKey(whsk: string): KeyObject {
  const raw = decodeKey(whsk, ED25519_PREFIX);
  if (raw.length !== 32 && raw.length !== 64) {
    throw new LeakwatchError('CONFIG_INVALID', `an Ed25519 key is 32 or 64 bytes, not ${raw.length}`);
  }
  return createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, raw.subarray(0, 32)]),
    format: 'der',
    type: 'pkcs8',
  });
}

/** The `whpk_` public key a partner holds to verify `v1a` signatures made with `whsk`. */
export function ed25519PublicKeyOf(whsk: string): string {
  const spki = createPublicKey(ed25519PrivateKey(whsk)).export({ format: 'der', type: 'spki' });
  return `${PUBLIC_PREFIX}${spki.subarray(SPKI_ED25519.length).toString('base64')}`;
}

/** A node KeyObject for a `whpk_` public key (for verifiers and tests). */
export function ed25519PublicKey(whpk: string): KeyObject {
  const raw = decodeKey(whpk, PUBLIC_PREFIX);
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' });
}

/** Signs with Ed25519 (`v1a`): the partner verifies with the public key alone. */
export function ed25519Signer(whsk: string): WebhookSigner {
  const key = ed25519PrivateKey(whsk);
  return {
    sign(id, timestamp, body) {
      return `v1a,${sign(null, Buffer.from(`${id}.${timestamp}.${body}`), key).toString('base64')}`;
    },
  };
}

/** The signer a partner's webhook configuration asks for. */
export function signerFor(webhook: Pick<WebhookDelivery, 'secrets' | 'ed25519'>): WebhookSigner {
  return webhook.ed25519 ? ed25519Signer(webhook.ed25519.privateKey) : hmacSigner(webhook.secrets);
}

/** The three Standard Webhooks headers of one attempt (timestamp in Unix seconds). */
export function webhookHeaders(
  signer: WebhookSigner,
  id: string,
  body: string,
  nowMs: number,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const timestamp = Math.floor(nowMs / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signer.sign(id, timestamp, body),
  };
}
