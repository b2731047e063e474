import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { exampleAlert } from '@leakwatch/contracts';
import {
  ed25519PublicKey,
  ed25519PublicKeyOf,
  ed25519Signer,
  hmacSigner,
  signerFor,
  webhookBody,
  webhookHeaders,
  webhookId,
} from './signing.js';

const oldSecret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
const newSecret = `whsec_${Buffer.alloc(24, 2).toString('base64')}`;

function seed(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  return `whsk_${der.subarray(der.length - 32).toString('base64')}`;
}

describe('webhookId', () => {
  it('is msg_ + 22 base64url characters, stable per partner and alert, and differs between them', () => {
    const id = webhookId('sakura-card', 'alt-1');
    expect(id).toMatch(/^msg_[A-Za-z0-9_-]{22}$/);
    expect(webhookId('sakura-card', 'alt-1')).toBe(id);
    expect(webhookId('fuji-bank', 'alt-1')).not.toBe(id);
    expect(webhookId('sakura-card', 'alt-2')).not.toBe(id);
    // no ambiguity between ("a-b", "c") and ("a", "b-c")-like splits
    expect(webhookId('ab', 'c')).not.toBe(webhookId('a', 'bc'));
    const expected = createHash('sha256').update('sakura-card\nalt-1').digest().subarray(0, 16);
    expect(id).toBe(`msg_${expected.toString('base64url')}`);
  });
});

describe('webhookBody', () => {
  it('is {type, timestamp, data} with the alert, the same bytes every time, and no PAN', () => {
    const alert = exampleAlert();
    const body = webhookBody(alert);
    expect(webhookBody(exampleAlert())).toBe(body);
    const parsed = JSON.parse(body) as { type: string; timestamp: string; data: { alertId: string } };
    expect(parsed.type).toBe('alert.created');
    expect(parsed.timestamp).toBe(new Date(alert.detectedAt).toISOString());
    expect(parsed.data.alertId).toBe(alert.alertId);
    expect(body).not.toContain('4111111111111111'); // the example card's PAN
    expect(Object.keys(parsed)).toEqual(['type', 'timestamp', 'data']);
  });
});

describe('HMAC v1 signatures', () => {
  const body = webhookBody(exampleAlert());
  const id = webhookId('sakura-card', 'alt-0001');
  const now = Date.now();

  it('verify with the standardwebhooks package, under every active secret (rotation)', () => {
    const headers = webhookHeaders(hmacSigner([newSecret, oldSecret]), id, body, now);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+ v1,[A-Za-z0-9+/=]+$/);
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(now / 1000)));
    // a receiver holding only the new secret accepts, and one holding only the old one too
    for (const secret of [newSecret, oldSecret]) {
      expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    }
  });

  it('fail verification for a secret not signed with, a changed body or id', () => {
    const headers = webhookHeaders(hmacSigner([newSecret]), id, body, now);
    expect(() => new Webhook(oldSecret).verify(body, headers)).toThrow();
    expect(() => new Webhook(newSecret).verify(body.replace('HIGH', 'LOW'), headers)).toThrow();
    expect(() =>
      new Webhook(newSecret).verify(body, { ...headers, 'webhook-id': webhookId('x', 'y') }),
    ).toThrow();
  });

  it('signerFor picks HMAC when the partner has secrets', () => {
    const headers = webhookHeaders(signerFor({ secrets: [newSecret], ed25519: null }), id, body, now);
    expect(new Webhook(newSecret).verify(body, headers)).toBeTruthy();
  });
});

describe('Ed25519 v1a signatures', () => {
  it('verify with node crypto and only the public key (32-byte seed and 64-byte forms)', () => {
    const whsk = seed();
    const whpk = ed25519PublicKeyOf(whsk);
    expect(whpk).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
    const seedBytes = Buffer.from(whsk.slice(5), 'base64');
    const libsodiumForm = `whsk_${Buffer.concat([seedBytes, Buffer.from(whpk.slice(5), 'base64')]).toString('base64')}`;
    const body = webhookBody(exampleAlert());
    const id = webhookId('fuji-bank', 'alt-0001');
    for (const key of [whsk, libsodiumForm]) {
      const headers = webhookHeaders(
        signerFor({ secrets: [], ed25519: { privateKey: key } }),
        id,
        body,
        1_700_000_000_000,
      );
      const [version, signature] = headers['webhook-signature'].split(',');
      expect(version).toBe('v1a');
      const content = Buffer.from(`${id}.${headers['webhook-timestamp']}.${body}`);
      expect(verify(null, content, ed25519PublicKey(whpk), Buffer.from(signature ?? '', 'base64'))).toBe(
        true,
      );
      expect(
        verify(
          null,
          Buffer.from(`${content.toString()}x`),
          ed25519PublicKey(whpk),
          Buffer.from(signature ?? '', 'base64'),
        ),
      ).toBe(false);
    }
    expect(ed25519Signer(whsk).sign(id, 1, body)).toBe(ed25519Signer(libsodiumForm).sign(id, 1, body));
  });
});
