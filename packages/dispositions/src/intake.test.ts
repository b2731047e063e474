import { createHmac, randomBytes } from 'node:crypto';
import { withLuhnCheckDigit } from '@leakwatch/card';
import { type AlertDisposition } from '@leakwatch/contracts';
import { silentLogger } from '@leakwatch/logger';
import { describe, expect, it } from 'vitest';
import type { IndexedAlert } from './alert-index.js';
import { createDispositionIntake, type IntakeOutcome, type IntakeRequest } from './intake.js';
import { contentDigest, type ClaimResult, type IntakeLedger } from './intake-ledger.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const OLD_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const OTHER_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

/** Standard Webhooks v1, written out with node:crypto (independent of the library under use). */
function sign(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

function request(
  body: unknown,
  options: { partnerId?: string; secret?: string; id?: string; timestamp?: number; raw?: string } = {},
): IntakeRequest {
  const text = options.raw ?? JSON.stringify(body);
  const id = options.id ?? `msg_${randomBytes(8).toString('hex')}`;
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    partnerId: options.partnerId ?? 'sakura',
    headers: {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': sign(options.secret ?? SECRET, id, timestamp, text),
    },
    body: Buffer.from(text),
  };
}

const ALERT: IndexedAlert = {
  alertId: 'alt-1',
  partnerId: 'sakura',
  fingerprint: 'f'.repeat(43),
  keyId: 'k1',
  incidentIds: ['inc-1'],
  reasonCodes: ['LEAKED_CARD'],
  detectedAt: 1_746_063_000_000,
};
const OTHERS: IndexedAlert = { ...ALERT, alertId: 'alt-2', partnerId: 'birch' };

const disposition = (overrides: Partial<AlertDisposition> = {}): AlertDisposition => ({
  alertId: 'alt-1',
  disposition: 'CONFIRMED_FRAUD',
  by: 'analyst@sakura.example',
  at: 1_746_063_100_000,
  note: null,
  ...overrides,
});

/** The Redis ledger's semantics in memory. */
class MemoryLedger implements IntakeLedger {
  readonly state = new Map<string, 'pending' | 'done'>();
  claim(partnerId: string, webhookId: string, d: AlertDisposition): Promise<ClaimResult> {
    const keys = [`id:${partnerId}:${webhookId}`, `content:${contentDigest(d)}`];
    for (const key of keys) {
      const state = this.state.get(key);
      if (state === 'pending') return Promise.resolve({ outcome: 'in_progress' });
      if (state === 'done') return Promise.resolve({ outcome: 'duplicate' });
    }
    for (const key of keys) this.state.set(key, 'pending');
    return Promise.resolve({ outcome: 'new', claim: { keys } });
  }
  confirm(claim: { keys: readonly string[] }): Promise<void> {
    for (const key of claim.keys) this.state.set(key, 'done');
    return Promise.resolve();
  }
  release(claim: { keys: readonly string[] }): Promise<void> {
    for (const key of claim.keys) this.state.delete(key);
    return Promise.resolve();
  }
}

function setup(options: { failPublish?: boolean } = {}) {
  const written: { disposition: AlertDisposition; partnerId: string; webhookId: string }[] = [];
  const outcomes: IntakeOutcome[] = [];
  const ledger = new MemoryLedger();
  const alerts = new Map([ALERT, OTHERS].map((a) => [a.alertId, a]));
  const secrets: Record<string, readonly string[] | null> = {
    sakura: [SECRET, OLD_SECRET],
    birch: [OTHER_SECRET],
    quiet: null,
  };
  const intake = createDispositionIntake({
    inboundSecrets: (partnerId) => secrets[partnerId],
    alerts: { get: (alertId) => Promise.resolve(alerts.get(alertId) ?? null) },
    ledger,
    publish: (d, meta) => {
      if (options.failPublish) return Promise.reject(new Error('broker down'));
      written.push({ disposition: d, ...meta });
      return Promise.resolve();
    },
    logger: silentLogger(),
    onOutcome: (outcome) => outcomes.push(outcome),
    unknownAlertWaitMs: 0,
  });
  return { intake, written, outcomes, ledger };
}

describe('disposition intake', () => {
  it('writes a correctly signed disposition once, and answers a repeat as a duplicate', async () => {
    const { intake, written, outcomes } = setup();
    const first = request(disposition(), { id: 'msg_1' });
    expect(await intake.handle(first)).toEqual({
      status: 202,
      body: { status: 'accepted', alertId: 'alt-1' },
    });
    // the same request again (a retry), and the same verdict under a new webhook-id
    expect((await intake.handle(first)).body).toEqual({ status: 'duplicate', alertId: 'alt-1' });
    expect((await intake.handle(request(disposition(), { id: 'msg_2' }))).status).toBe(200);
    expect(written).toEqual([{ disposition: disposition(), partnerId: 'sakura', webhookId: 'msg_1' }]);
    expect(outcomes).toEqual(['accepted', 'duplicate', 'duplicate']);
  });

  it('accepts a signature made with any of the partner inbound secrets (rotation)', async () => {
    const { intake, written } = setup();
    expect((await intake.handle(request(disposition(), { secret: OLD_SECRET }))).status).toBe(202);
    expect(written).toHaveLength(1);
  });

  it('a new verdict on the same alert is written', async () => {
    const { intake, written } = setup();
    await intake.handle(request(disposition({ disposition: 'UNDER_REVIEW' })));
    await intake.handle(request(disposition({ disposition: 'CARD_REISSUED', at: 1_746_063_200_000 })));
    expect(written.map((w) => w.disposition.disposition)).toEqual(['UNDER_REVIEW', 'CARD_REISSUED']);
  });

  it('reads `at` as ISO-8601 too, and a missing note as null', async () => {
    const { intake, written } = setup();
    const { note: _note, ...withoutNote } = disposition();
    const response = await intake.handle(request({ ...withoutNote, at: '2025-05-01T01:31:40Z' }));
    expect(response.status).toBe(202);
    expect(written[0]?.disposition).toEqual(disposition({ at: Date.UTC(2025, 4, 1, 1, 31, 40) }));
  });

  it('masks a card number in the note before writing it', async () => {
    const { intake, written } = setup();
    const pan = withLuhnCheckDigit('453912012345678');
    const valid = withLuhnCheckDigit('20261202070000');
    const caseNumber = valid.slice(0, -1) + String((Number(valid.slice(-1)) + 1) % 10); // not Luhn-valid
    const spaced = pan.replace(/(\d{4})(?=\d)/g, '$1 ');
    const note = `customer card ${spaced} blocked, case ${caseNumber}`;
    expect((await intake.handle(request(disposition({ note })))).status).toBe(202);
    expect(written[0]?.disposition.note).toBe(
      `customer card ${pan.slice(0, 6)}******${pan.slice(-4)} blocked, case ${caseNumber}`,
    );
  });

  it.each([
    ['no signature headers', (r: IntakeRequest) => ({ ...r, headers: {} }), 401, 'missing_signature_headers'],
    [
      'a signature by another secret',
      () => request(disposition(), { secret: OTHER_SECRET }),
      401,
      'invalid_signature',
    ],
    [
      'a body changed after signing',
      (r: IntakeRequest) => ({
        ...r,
        body: Buffer.from(r.body.toString().replace('CONFIRMED_FRAUD', 'FALSE_POSITIVE')),
      }),
      401,
      'invalid_signature',
    ],
    [
      'a timestamp 6 minutes old',
      () => request(disposition(), { timestamp: Math.floor(Date.now() / 1000) - 360 }),
      401,
      'stale_timestamp',
    ],
    [
      'a timestamp 6 minutes ahead',
      () => request(disposition(), { timestamp: Math.floor(Date.now() / 1000) + 360 }),
      401,
      'stale_timestamp',
    ],
    [
      'a timestamp that is not Unix seconds',
      (r: IntakeRequest) => ({
        ...r,
        headers: { ...r.headers, 'webhook-timestamp': '2025-05-01T00:00:00Z' },
      }),
      401,
      'invalid_timestamp',
    ],
    ['a body that is not JSON', () => request(null, { raw: '{"alertId": "alt-1",' }), 400, 'malformed_body'],
    [
      'a body that is not an AlertDisposition',
      () => request({ ...disposition(), disposition: 'MAYBE' }),
      400,
      'invalid_disposition',
    ],
    ["another partner's alert", () => request(disposition({ alertId: 'alt-2' })), 403, 'not_your_alert'],
    ['an unknown alert', () => request(disposition({ alertId: 'alt-404' })), 404, 'unknown_alert'],
    ['an unknown partner', () => request(disposition(), { partnerId: 'nobody' }), 404, 'unknown_partner'],
    [
      'a partner without inbound secrets',
      () => request(disposition(), { partnerId: 'quiet' }),
      403,
      'inbound_not_configured',
    ],
  ] as const)('refuses %s and writes nothing', async (_what, make, status, code) => {
    const { intake, written } = setup();
    const response = await intake.handle(make(request(disposition())));
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ error: { code } });
    expect('error' in response.body && response.body.error.message).toEqual(expect.any(String));
    expect(written).toEqual([]);
  });

  it('names the fields a bad disposition breaks', async () => {
    const { intake } = setup();
    const response = await intake.handle(request({ alertId: 'alt-1', disposition: 'CONFIRMED_FRAUD' }));
    expect(response.body).toMatchObject({ error: { code: 'invalid_disposition' } });
    const problems = 'error' in response.body ? (response.body.error.problems ?? []) : [];
    expect(problems.map((p) => p.path)).toContain('by');
  });

  it('a failed write answers 503 and forgets the claim, so the retry writes', async () => {
    const failing = setup({ failPublish: true });
    const req = request(disposition());
    const response = await failing.intake.handle(req);
    expect(response).toMatchObject({
      status: 503,
      retryAfterSeconds: 5,
      body: { error: { code: 'unavailable' } },
    });
    expect(failing.ledger.state.size).toBe(0);
  });

  it('looks again for an alert raised a moment ago before answering 404', async () => {
    let lookups = 0;
    const written: AlertDisposition[] = [];
    const intake = createDispositionIntake({
      inboundSecrets: () => [SECRET],
      // indexed on the third look
      alerts: { get: () => Promise.resolve(++lookups >= 3 ? ALERT : null) },
      ledger: new MemoryLedger(),
      publish: (d) => {
        written.push(d);
        return Promise.resolve();
      },
      logger: silentLogger(),
      unknownAlertWaitMs: 60_000,
    });
    expect((await intake.handle(request(disposition()))).status).toBe(202);
    expect(lookups).toBe(3);
    expect(written).toHaveLength(1);
  });

  it('answers 409 while the same disposition is being written', async () => {
    const { intake, ledger } = setup();
    await ledger.claim('sakura', 'msg_x', disposition());
    const response = await intake.handle(request(disposition(), { id: 'msg_y' }));
    expect(response).toMatchObject({ status: 409, body: { error: { code: 'in_progress' } } });
  });
});
