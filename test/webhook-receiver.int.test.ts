import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { exampleAlert, type AlertDisposition } from '@leakwatch/contracts';
import { hmacSigner, webhookBody, webhookHeaders, webhookId } from '@leakwatch/delivery';
import {
  contentDigest,
  createDispositionIntake,
  createIntakeServer,
  type ClaimResult,
  type IntakeLedger,
} from '@leakwatch/dispositions';
import { createReceiver, postDisposition, type LeakwatchEvent } from '@leakwatch/example-webhook-receiver';
import { silentLogger } from '@leakwatch/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * The reference receiver (examples/webhook-receiver) against our own signing code
 * (packages/delivery): it verifies with the `standardwebhooks` npm package, so passing here
 * proves our signatures interoperate with a library we did not write. Real HTTP, no broker.
 */

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const CURRENT = newSecret();
const PREVIOUS = newSecret();

const received: { event: LeakwatchEvent; id: string }[] = [];
const receiver = createReceiver({
  secrets: [CURRENT],
  onAlert: (event, id) => {
    received.push({ event, id });
  },
});
let url = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/leakwatch`;
});
afterAll(async () => {
  await new Promise((resolve) => receiver.close(resolve));
});

/** One delivery as the dispatcher makes it: same body, id and headers code. */
async function deliver(options: {
  secrets: readonly string[];
  alertId?: string;
  nowMs?: number;
  tamper?: boolean;
}): Promise<{ status: number; body: unknown }> {
  const alert = { ...exampleAlert(), alertId: options.alertId ?? `alt-${randomBytes(6).toString('hex')}` };
  const body = webhookBody(alert);
  const id = webhookId('sakura-card', alert.alertId);
  const headers = webhookHeaders(hmacSigner(options.secrets), id, body, options.nowMs ?? Date.now());
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: options.tamper ? body.replace('"severity":"', '"severity":"X') : body,
  });
  return { status: response.status, body: await response.json() };
}

describe('reference webhook receiver × our signing code', () => {
  it('accepts a signed delivery once and drops a repeat of its webhook-id', async () => {
    const before = received.length;
    const alertId = `alt-once-${randomBytes(4).toString('hex')}`;
    expect(await deliver({ secrets: [CURRENT], alertId })).toEqual({
      status: 200,
      body: { status: 'accepted' },
    });
    expect(await deliver({ secrets: [CURRENT], alertId })).toEqual({
      status: 200,
      body: { status: 'duplicate' },
    });
    expect(received.slice(before).map((r) => r.event.data.alertId)).toEqual([alertId]);
    expect(received.at(-1)?.event.type).toBe('alert.created');
    expect(received.at(-1)?.id).toBe(webhookId('sakura-card', alertId));
  });

  it('accepts during a rotation: signed with two secrets, the receiver holds one of them', async () => {
    expect((await deliver({ secrets: [newSecret(), CURRENT] })).status).toBe(200);
    expect((await deliver({ secrets: [CURRENT, PREVIOUS] })).status).toBe(200);
  });

  it('refuses timestamps more than 5 minutes off, a wrong secret and a changed body', async () => {
    const before = received.length;
    const statuses = [
      (await deliver({ secrets: [CURRENT], nowMs: Date.now() - 6 * 60_000 })).status,
      (await deliver({ secrets: [CURRENT], nowMs: Date.now() + 6 * 60_000 })).status,
      (await deliver({ secrets: [PREVIOUS] })).status,
      (await deliver({ secrets: [CURRENT], tamper: true })).status,
    ];
    expect(statuses).toEqual([401, 401, 401, 401]);
    // within the tolerance is fine
    expect((await deliver({ secrets: [CURRENT], nowMs: Date.now() - 4 * 60_000 })).status).toBe(200);
    expect(received.length).toBe(before + 1);
  });

  it('posts a disposition back that our intake verifies and writes once', async () => {
    const inbound = newSecret();
    const written: AlertDisposition[] = [];
    const done = new Set<string>();
    const ledger: IntakeLedger = {
      claim(partnerId, id, d): Promise<ClaimResult> {
        const keys = [`${partnerId}:${id}`, contentDigest(d)];
        if (keys.some((k) => done.has(k))) return Promise.resolve({ outcome: 'duplicate' });
        return Promise.resolve({ outcome: 'new', claim: { keys } });
      },
      confirm(claim) {
        for (const k of claim.keys) done.add(k);
        return Promise.resolve();
      },
      async release() {},
    };
    const server = createIntakeServer({
      port: 0,
      host: '127.0.0.1',
      logger: silentLogger(),
      intake: createDispositionIntake({
        inboundSecrets: (partnerId) => (partnerId === 'sakura-card' ? [inbound] : undefined),
        alerts: {
          get: (alertId) =>
            Promise.resolve({
              alertId,
              partnerId: 'sakura-card',
              fingerprint: 'f'.repeat(43),
              keyId: 'k1',
              incidentIds: [],
              reasonCodes: [],
              detectedAt: 0,
            }),
        },
        ledger,
        publish: (d) => {
          written.push(d);
          return Promise.resolve();
        },
        logger: silentLogger(),
      }),
    });
    const port = await server.start();
    try {
      const intakeUrl = `http://127.0.0.1:${port}/v1/partners/sakura-card/dispositions`;
      const disposition = {
        alertId: 'alt-0001',
        disposition: 'CARD_REISSUED',
        by: 'fraud-ops@sakura.example',
        at: 1_746_063_000_000,
      } as const;
      expect(await postDisposition({ intakeUrl, secret: inbound, disposition })).toEqual({
        status: 202,
        body: { status: 'accepted', alertId: 'alt-0001' },
      });
      expect((await postDisposition({ intakeUrl, secret: inbound, disposition })).status).toBe(200);
      const wrong = await postDisposition({ intakeUrl, secret: newSecret(), disposition });
      expect(wrong).toMatchObject({ status: 401, body: { error: { code: 'invalid_signature' } } });
      expect(written).toEqual([{ ...disposition, note: null }]);
    } finally {
      await server.close();
    }
  });
});
