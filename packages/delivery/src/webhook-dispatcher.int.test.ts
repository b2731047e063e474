import { generateKeyPairSync, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { describe, expect, onTestFinished } from 'vitest';
import { exampleAlert, type SuspiciousChargeAlert } from '@leakwatch/contracts';
import { silentLogger } from '@leakwatch/logger';
import type { Partner, WebhookDelivery } from '@leakwatch/partners';
import { integrationTest as it } from '@leakwatch/testing';
import { ed25519PublicKey, ed25519PublicKeyOf, webhookId } from './signing.js';
import { DeliveryStore } from './store.js';
import { WebhookDispatcher, type DeliveryOutcomeLabel } from './webhook-dispatcher.js';

/** What a receiver saw of one request. */
interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  at: number;
}

/** A local HTTP receiver; `answer` decides the status of each request (n = its 1-based count). */
async function receiver(
  answer: (req: Received, n: number) => number | [number, Record<string, string>] | 'hang' = () => 200,
): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const entry: Received = {
        id: String(req.headers['webhook-id']),
        timestamp: String(req.headers['webhook-timestamp']),
        signature: String(req.headers['webhook-signature']),
        body,
        at: Date.now(),
      };
      received.push(entry);
      const decision = answer(entry, received.length);
      if (decision === 'hang') return;
      const [status, headers] = Array.isArray(decision) ? decision : [decision, {}];
      res.writeHead(status, headers).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  onTestFinished(() => new Promise<void>((done) => server.close(() => done()).closeAllConnections()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, server };
}

const secret = (fill: number) => `whsec_${Buffer.alloc(32, fill).toString('base64')}`;

function webhook(url: string, extra: Partial<WebhookDelivery> = {}): WebhookDelivery {
  return {
    url,
    secrets: [secret(1)],
    ed25519: null,
    timeoutMs: 2000,
    retrySchedule: [0, 100, 100, 100],
    allowPrivateNetwork: true,
    ...extra,
  };
}

function partner(partnerId: string, hook: WebhookDelivery): Partner {
  return {
    partnerId,
    name: partnerId,
    country: null,
    binPrefixes: ['411111'],
    minSeverity: 'LOW',
    delivery: { kafka: null, webhook: hook },
    inbound: null,
  };
}

function alert(n: number): SuspiciousChargeAlert {
  return { ...exampleAlert(), alertId: `alt-${n}`, eventId: `evt-${n}`, detectedAt: Date.now() };
}

/** Counts outcomes reported to metrics. */
function recorder() {
  const outcomes: { partner: string; outcome: DeliveryOutcomeLabel }[] = [];
  return {
    outcomes,
    metrics: {
      delivery: (partnerId: string, outcome: DeliveryOutcomeLabel) =>
        outcomes.push({ partner: partnerId, outcome }),
      latency: () => undefined,
    },
  };
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('WebhookDispatcher (real Redis, local HTTP receivers)', () => {
  function start(redis: DeliveryStore, partners: Partner[], metrics = recorder().metrics, extra = {}) {
    const dispatcher = new WebhookDispatcher({
      store: redis,
      partners,
      logger: silentLogger(),
      metrics,
      pollMs: 50,
      leaseMarginMs: 500,
      ...extra,
    });
    dispatcher.start();
    onTestFinished(() => dispatcher.close());
    return dispatcher;
  }

  it('500 three times then 200: one accepted delivery, the same webhook-id on all four tries', async ({
    redis,
    redisPrefix,
  }) => {
    const store = new DeliveryStore({ redis, keyPrefix: redisPrefix });
    const hook = await receiver((_r, n) => (n <= 3 ? 500 : 200));
    const { outcomes, metrics } = recorder();
    const dispatcher = start(store, [partner('flaky', webhook(hook.url))], metrics);
    await dispatcher.enqueue([{ partnerId: 'flaky', alert: alert(1) }]);
    await until('an accepted delivery', () => outcomes.some((o) => o.outcome === 'accepted'));
    await until('the queue to empty', async () => (await store.status('flaky')).queueDepth === 0);
    expect(hook.received).toHaveLength(4);
    expect(new Set(hook.received.map((r) => r.id))).toEqual(new Set([webhookId('flaky', 'alt-1')]));
    expect(new Set(hook.received.map((r) => r.body)).size).toBe(1);
    expect(outcomes.map((o) => o.outcome)).toEqual(['failed', 'failed', 'failed', 'accepted']);
    // every try verifies with a library we did not write
    for (const r of hook.received) {
      expect(
        new Webhook(secret(1)).verify(r.body, {
          'webhook-id': r.id,
          'webhook-timestamp': r.timestamp,
          'webhook-signature': r.signature,
        }),
      ).toMatchObject({ type: 'alert.created', data: { alertId: 'alt-1' } });
    }
    // consumed again (a crash before the offset commit): not sent again
    expect(await dispatcher.enqueue([{ partnerId: 'flaky', alert: alert(1) }])).toEqual({
      queued: 0,
      duplicate: 1,
      overflow: 0,
    });
    const status = await store.status('flaky');
    expect(status.lastOutcomes.map((o) => o.outcome)).toEqual(['accepted', 'failed', 'failed', 'failed']);
  });

  it('down for good: dead-lettered after the last try; back up, a replay is accepted once', async ({
    redis,
    redisPrefix,
  }) => {
    const store = new DeliveryStore({ redis, keyPrefix: redisPrefix });
    let up = false;
    const hook = await receiver(() => (up ? 204 : 503));
    const { outcomes, metrics } = recorder();
    const dispatcher = start(
      store,
      [partner('down', webhook(hook.url, { retrySchedule: [0, 50, 50] }))],
      metrics,
    );
    await dispatcher.enqueue([1, 2].map((n) => ({ partnerId: 'down', alert: alert(n) })));
    await until('two dead letters', async () => (await store.status('down')).deadLetters === 2);
    expect(hook.received).toHaveLength(6);
    expect(outcomes.filter((o) => o.outcome === 'dead_lettered')).toHaveLength(2);
    expect((await store.deadLetters('down')).map((d) => [d.alertId, d.reason, d.tries]).sort()).toEqual([
      ['alt-1', 'HTTP 503', 3],
      ['alt-2', 'HTTP 503', 3],
    ]);

    up = true;
    expect(await store.replay('down', { now: Date.now(), alertId: 'alt-2' })).toBe(1);
    dispatcher.wake('down');
    await until('the replay accepted', () => outcomes.some((o) => o.outcome === 'accepted'));
    await until('the queue to empty', async () => (await store.status('down')).queueDepth === 0);
    const accepted = hook.received.slice(6);
    expect(accepted.map((r) => r.id)).toEqual([webhookId('down', 'alt-2')]);
    expect((await store.deadLetters('down')).map((d) => d.alertId)).toEqual(['alt-1']);
  });

  it('a partner that takes 20 s to answer does not delay another by more than 1 s', async ({
    redis,
    redisPrefix,
  }) => {
    const store = new DeliveryStore({ redis, keyPrefix: redisPrefix });
    const slow = await receiver(() => 'hang');
    const fast = await receiver(() => 200);
    const { outcomes, metrics } = recorder();
    const dispatcher = start(
      store,
      [
        partner('slow', webhook(slow.url, { timeoutMs: 20_000, retrySchedule: [0] })),
        partner('fast', webhook(fast.url)),
      ],
      metrics,
      { concurrency: 4 },
    );
    // the slow partner's slots fill up and its queue backs up
    await dispatcher.enqueue(Array.from({ length: 20 }, (_, n) => ({ partnerId: 'slow', alert: alert(n) })));
    await until('the slow partner busy', () => slow.received.length === 4);
    const sent: number[] = [];
    for (let n = 100; n < 110; n++) {
      sent.push(Date.now());
      await dispatcher.enqueue([{ partnerId: 'fast', alert: alert(n) }]);
    }
    await until(
      'ten fast deliveries',
      () => outcomes.filter((o) => o.partner === 'fast' && o.outcome === 'accepted').length === 10,
      5000,
    );
    const delays = fast.received.map((r, i) => r.at - (sent[i] as number));
    expect(Math.max(...delays)).toBeLessThan(1000);
    expect(slow.received).toHaveLength(4); // still waiting on the first four
  }, 30_000);

  it('sends what it enqueues from memory while slots are free: no claim before the first try', async ({
    redis,
    redisPrefix,
  }) => {
    const store = new DeliveryStore({ redis, keyPrefix: redisPrefix });
    let claims = 0;
    const claim = store.claim.bind(store);
    store.claim = (...args) => {
      claims += 1;
      return claim(...args);
    };
    const claimsAtArrival: number[] = [];
    // each arrival notes how many claims the partner's loop had made by then
    const hook = await receiver(() => {
      claimsAtArrival.push(claims);
      return 200;
    });
    const dispatcher = start(store, [partner('direct', webhook(hook.url))], undefined, {
      pollMs: 60_000,
      concurrency: 2,
    });
    await until('the loop idle after its first look', () => claims === 1);
    expect(
      await dispatcher.enqueue([1, 2, 3].map((n) => ({ partnerId: 'direct', alert: alert(n) }))),
    ).toEqual({ queued: 3, duplicate: 0, overflow: 0 });
    await until('all three tried', () => hook.received.length === 3);
    // two leased at enqueue (two slots), sent before any claim; the third waited in the schedule
    // for a slot and was claimed: the concurrency bound holds for leased tries too
    expect(claimsAtArrival.slice(0, 2)).toEqual([1, 1]);
    expect(claimsAtArrival[2]).toBeGreaterThan(1);
  });

  it('rotation: a receiver holding only the new secret, or only the old, accepts', async ({
    redis,
    redisPrefix,
  }) => {
    const store = new DeliveryStore({ redis, keyPrefix: redisPrefix });
    const oldOnly = new Webhook(secret(1));
    const newOnly = new Webhook(secret(2));
    const check = (verifier: Webhook) => (r: Received) => {
      try {
        verifier.verify(r.body, {
          'webhook-id': r.id,
          'webhook-timestamp': r.timestamp,
          'webhook-signature': r.signature,
        });
        return 200;
      } catch {
        return 401;
      }
    };
    const newReceiver = await receiver(check(newOnly));
    const oldReceiver = await receiver(check(oldOnly));
    const strangerReceiver = await receiver(check(new Webhook(secret(3))));
    const { outcomes, metrics } = recorder();
    const rotating = { secrets: [secret(2), secret(1)], retrySchedule: [0] };
    const dispatcher = start(
      store,
      [
        partner('new', webhook(newReceiver.url, rotating)),
        partner('old', webhook(oldReceiver.url, rotating)),
        partner('stranger', webhook(strangerReceiver.url, rotating)),
      ],
      metrics,
    );
    await dispatcher.enqueue(['new', 'old', 'stranger'].map((partnerId) => ({ partnerId, alert: alert(1) })));
    await until('three outcomes', () => outcomes.filter((o) => o.outcome !== 'failed').length === 3);
    expect(
      outcomes
        .filter((o) => o.outcome === 'accepted')
        .map((o) => o.partner)
        .sort(),
    ).toEqual(['new', 'old']);
    expect(outcomes.find((o) => o.partner === 'stranger' && o.outcome === 'dead_lettered')).toBeTruthy();
    expect(newReceiver.received[0]?.signature.split(' ')).toHaveLength(2);
  });

  it('Ed25519: a receiver holding only the public key accepts', async ({ redis, redisPrefix }) => {
    const store = new DeliveryStore({ redis, keyPrefix: redisPrefix });
    const der = generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' });
    const whsk = `whsk_${der.subarray(der.length - 32).toString('base64')}`;
    const publicKey = ed25519PublicKey(ed25519PublicKeyOf(whsk));
    const hook = await receiver((r) => {
      const [version, signature] = r.signature.split(',');
      const ok =
        version === 'v1a' &&
        verify(
          null,
          Buffer.from(`${r.id}.${r.timestamp}.${r.body}`),
          publicKey,
          Buffer.from(signature ?? '', 'base64'),
        );
      return ok ? 200 : 401;
    });
    const { outcomes, metrics } = recorder();
    const dispatcher = start(
      store,
      [partner('ed', webhook(hook.url, { secrets: [], ed25519: { privateKey: whsk }, retrySchedule: [0] }))],
      metrics,
    );
    await dispatcher.enqueue([{ partnerId: 'ed', alert: alert(1) }]);
    await until('an outcome', () => outcomes.length > 0 && outcomes.at(-1)?.outcome !== 'failed');
    expect(outcomes.map((o) => o.outcome)).toEqual(['accepted']);
  });

  it('refused: a redirect (never followed), a private address and plain http without the allowance', async ({
    redis,
    redisPrefix,
  }) => {
    const store = new DeliveryStore({ redis, keyPrefix: redisPrefix });
    const target = await receiver(() => 200);
    const redirecting = await receiver(() => [302, { location: target.url }]);
    const port = new URL(target.url).port;
    const { outcomes, metrics } = recorder();
    const once = { retrySchedule: [0] };
    const dispatcher = start(
      store,
      [
        partner('redirect', webhook(redirecting.url, once)),
        partner(
          'private',
          webhook(`https://127.0.0.1:${port}/hook`, { ...once, allowPrivateNetwork: false }),
        ),
        partner(
          'plain',
          webhook(`http://alerts.example:${port}/hook`, { ...once, allowPrivateNetwork: false }),
        ),
      ],
      metrics,
    );
    await dispatcher.enqueue(
      ['redirect', 'private', 'plain'].map((partnerId) => ({ partnerId, alert: alert(1) })),
    );
    await until(
      'three dead letters',
      () => outcomes.filter((o) => o.outcome === 'dead_lettered').length === 3,
    );
    expect(redirecting.received).toHaveLength(1);
    expect(target.received).toHaveLength(0);
    expect(
      outcomes
        .filter((o) => o.outcome !== 'dead_lettered')
        .sort((a, b) => a.partner.localeCompare(b.partner)),
    ).toEqual([
      { partner: 'plain', outcome: 'refused' },
      { partner: 'private', outcome: 'refused' },
      { partner: 'redirect', outcome: 'failed' },
    ]);
    expect((await store.deadLetters('redirect'))[0]?.reason).toBe('HTTP 302 (redirects are not followed)');
    expect((await store.deadLetters('private'))[0]?.reason).toContain('loopback');
    expect((await store.deadLetters('plain'))[0]?.reason).toContain('must be https');
  });

  it('410 disables the endpoint until enabled; Retry-After on 429 is honoured', async ({
    redis,
    redisPrefix,
  }) => {
    const store = new DeliveryStore({ redis, keyPrefix: redisPrefix });
    const gone = await receiver((_r, n) => (n === 1 ? 410 : 200));
    const busy = await receiver((_r, n) => (n === 1 ? [429, { 'retry-after': '1' }] : 200));
    const { outcomes, metrics } = recorder();
    const dispatcher = start(
      store,
      [partner('gone', webhook(gone.url)), partner('busy', webhook(busy.url, { retrySchedule: [0, 0] }))],
      metrics,
    );
    await dispatcher.enqueue([
      { partnerId: 'gone', alert: alert(1) },
      { partnerId: 'busy', alert: alert(1) },
    ]);
    await until('the endpoint disabled', async () => (await store.status('gone')).disabled !== null);
    await until('busy accepted', () =>
      outcomes.some((o) => o.partner === 'busy' && o.outcome === 'accepted'),
    );
    // the schedule said "at once"; Retry-After said 1 s
    expect((busy.received[1]?.at ?? 0) - (busy.received[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);

    await dispatcher.enqueue([{ partnerId: 'gone', alert: alert(2) }]);
    await new Promise((r) => setTimeout(r, 300)); // several polls: nothing is sent while disabled
    expect(gone.received).toHaveLength(1);
    expect((await store.status('gone')).queueDepth).toBe(2);
    expect(await store.enable('gone')).toBe(true);
    dispatcher.wake('gone');
    await until('both delivered after enable', async () => (await store.status('gone')).queueDepth === 0);
    expect(
      gone.received
        .slice(1)
        .map((r) => r.id)
        .sort(),
    ).toEqual([webhookId('gone', 'alt-1'), webhookId('gone', 'alt-2')].sort());
  });
});
