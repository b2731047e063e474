import { maskBin, withLuhnCheckDigit } from '@leakwatch/card';
import {
  alertIdFor,
  cardAuthorizationAvro,
  confluentFrame,
  createAuthorizationEncoder,
  createSchemaRegistry,
  valueSubject,
  type CardAuthorizationInput,
  type SuspiciousChargeAlert,
} from '@leakwatch/contracts';
import { createRootLogger } from '@leakwatch/logger';
import type { MonitorHandle } from '@leakwatch/monitor-service';
import { DLQ_HEADERS } from '@leakwatch/pipeline';
import { defaultRuleSet } from '@leakwatch/rules';
import { integrationTest as it } from '@leakwatch/testing';
import type { Producer, RecordMetadata } from 'kafkajs';
import { describe, expect, vi } from 'vitest';
import {
  authorizationBuilder,
  captureLines,
  createMonitorTopics,
  decodeAlerts,
  freshFingerprintKey,
  getOps,
  importIncident,
  metricValue,
  processedCounts,
  readToEnd,
  startInProcessMonitor,
  testManifest,
  waitUntilReady,
} from './support/monitor-harness.js';

/*
 * The monitor end to end, in-process, against real Kafka, registry and Redis: a hand-written
 * stream whose every outcome is known in advance, checked message by message.
 *
 * Expected scores follow packages/rules/defaults.yaml (no rules file is given, so the built-in
 * set runs): LEAKED_CARD 20, EXPIRY_MATCHES_LEAK 5, CVV_EXPOSED_CARD_NOT_PRESENT 10 (ECOMMERCE,
 * MOTO; the incident exposed CVV), NO_3DS_CARD_NOT_PRESENT 15 (ECOMMERCE with threeDs null,
 * NOT_PERFORMED or FAILED), HIGH_RISK_MCC 15 (5732 is on the list), CROSS_BORDER 10 (no partners
 * file, so the issuer country is the default JP), HIGH_AMOUNT 15 (JPY ≥ 100000), VELOCITY 20
 * (≥ 5 authorizations of a card in 600 s). Bands: LOW ≥ 0 MONITOR, MEDIUM ≥ 40 STEP_UP_AUTH,
 * HIGH ≥ 60 CONTACT_CARDHOLDER, CRITICAL ≥ 80 DECLINE_AND_REISSUE. alertMinScore 0: every
 * authorization on a watched card alerts.
 */

const KEY_ID = 'k1';
const INCIDENT_ID = 'inc-e2e-web-skimming';
const T0 = Date.UTC(2026, 4, 1, 1, 0, 0);
const MINUTE = 60_000;

// Watched cards (on the incident's list) and clean ones; all Luhn-valid, none a real card.
const A = { pan: withLuhnCheckDigit('412345678901234'), expiry: '2028-04' }; // VISA, 16 digits
const B = { pan: withLuhnCheckDigit('37144963539843'), expiry: '2027-11' }; // AMEX, 15 digits
const C = { pan: withLuhnCheckDigit('353011133330000'), expiry: '2029-01' }; // JCB: the velocity burst
const D = { pan: withLuhnCheckDigit('552233445566778'), expiry: '2028-08' }; // MASTERCARD: sent as fingerprint
const E = withLuhnCheckDigit('476142000011112'); // clean VISA
const F = withLuhnCheckDigit('222300123456789'); // clean MASTERCARD
const G = withLuhnCheckDigit('621483000011112222'); // clean UNIONPAY, 19 digits
/** A's and B's numbers with the last digit changed: they fail Luhn. */
const A_BROKEN = A.pan.slice(0, -1) + String((Number(A.pan.at(-1)) + 1) % 10);
const B_BROKEN = B.pan.slice(0, -1) + String((Number(B.pan.at(-1)) + 3) % 10);
const ALL_PANS = [A.pan, B.pan, C.pan, D.pan, E, F, G, A_BROKEN, B_BROKEN];

/** The forms a card number is written in: plain, grouped by 4 with spaces or dashes, and AMEX 4-6-5. */
function writtenForms(pan: string): string[] {
  const groups = pan.match(/.{1,4}/g) ?? [pan];
  const forms = [pan, groups.join(' '), groups.join('-')];
  if (pan.length === 15) forms.push(`${pan.slice(0, 4)} ${pan.slice(4, 10)} ${pan.slice(10)}`);
  return forms;
}

type Format = 'avro' | 'json';

/** An authorization with everyday defaults: a grocery in Japan, 5,000 JPY, card present, approved. */
const authorization = authorizationBuilder(T0, {
  id: 'm-grocer-01',
  name: 'Grocer Shibuya',
  mcc: '5411',
  country: 'JP',
});

const pan = (number: string, expiry: string | null) => ({ pan: number, expiry });

/** JSON as an upstream might write it: ISO time, nulls left out. */
function asJson(auth: CardAuthorizationInput): Buffer {
  const shaped = { ...auth, occurredAt: new Date(auth.occurredAt).toISOString() };
  return Buffer.from(
    JSON.stringify(shaped, (_k, v: unknown) => (v === null ? undefined : v)),
    'utf8',
  );
}

/** Confluent-framed Avro written without validation, for values the contract's encoder refuses. */
function rawAvro(schemaId: number, auth: CardAuthorizationInput): Buffer {
  const card = {
    pan: null,
    fingerprint: null,
    keyId: null,
    bin: null,
    last4: null,
    expiry: null,
    ...auth.card,
  };
  return confluentFrame(schemaId, cardAuthorizationAvro.type.toBuffer({ ...auth, card }));
}

interface ExpectedAlert {
  eventId: string;
  /** Kafka key of the alert: the fingerprint the card is known by under the current key. */
  fingerprint: string;
  bin: string;
  last4: string;
  scheme: string;
  expiryMatchesLeak: boolean | null;
  reasons: Array<[code: string, points: number]>;
  score: number;
  severity: SuspiciousChargeAlert['severity'];
  action: SuspiciousChargeAlert['recommendedAction'];
  auth: CardAuthorizationInput;
}

interface Sent {
  key: string;
  value: Buffer;
  partition: number;
  offset: string;
}

async function send(producer: Producer, topic: string, key: string, value: Buffer): Promise<Sent> {
  const [meta] = (await producer.send({ topic, acks: -1, messages: [{ key, value }] })) as [RecordMetadata];
  return { key, value, partition: meta.partition, offset: meta.baseOffset ?? '' };
}

describe('monitor end to end (in-process, real Kafka, registry and Redis)', () => {
  it('alerts exactly on watched cards with the documented reasons, dead-letters every kind of poison, counts it all, and never shows a card number', async ({
    endpoints,
    kafka,
    admin,
    createTopics,
    redis,
    redisPrefix,
    groupId,
  }) => {
    const topics = await createMonitorTopics(createTopics);
    const fingerprintKey = freshFingerprintKey(KEY_ID);
    const { keyring } = fingerprintKey;
    const fp = (number: string) => keyring.fingerprint(number);
    const manifest = testManifest(INCIDENT_ID);
    await importIncident({ redis, keyPrefix: redisPrefix, keyring, manifest, cards: [A, B, C, D] });

    const log = captureLines();
    const logger = createRootLogger({ name: 'monitor', level: 'debug', destination: log.stream });
    let handle: MonitorHandle | undefined;
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    try {
      expect(logger.isLevelEnabled('debug')).toBe(true);
      handle = await startInProcessMonitor(
        { endpoints, topics, groupId, redisPrefix, fingerprintKeys: fingerprintKey.env },
        { logger },
      );
      const port = handle.httpPort;
      await waitUntilReady(port, { timeout: 30_000, interval: 200 });

      const encoder = await createAuthorizationEncoder({
        registry: createSchemaRegistry({ url: endpoints.schemaRegistryUrl }),
        subject: valueSubject(topics.authorizations),
      });
      const encode = (auth: CardAuthorizationInput, format: Format) =>
        format === 'avro' ? encoder.encode(auth) : asJson(auth);

      // ---- the stream, with the outcome of each message written next to it ----
      const expected: ExpectedAlert[] = [];
      const stream: Array<{ key: string; value: Buffer; poison?: string; label: string }> = [];
      const watched = (format: Format, key: string, e: Omit<ExpectedAlert, 'score'> & { score?: number }) => {
        const score = e.reasons.reduce((sum, [, points]) => sum + points, 0);
        if (e.score !== undefined) expect(e.score, `${e.eventId}: hand-computed score`).toBe(score);
        expected.push({ ...e, score });
        stream.push({ key, value: encode(e.auth, format), label: e.eventId });
      };
      const clean = (format: Format, auth: CardAuthorizationInput) =>
        stream.push({ key: auth.eventId, value: encode(auth, format), label: auth.eventId });
      const poison = (code: string, key: string, value: Buffer) =>
        stream.push({ key, value, poison: code, label: key });
      const cardA = {
        fingerprint: fp(A.pan),
        bin: A.pan.slice(0, 8),
        last4: A.pan.slice(-4),
        scheme: 'VISA',
      };
      const cardB = {
        fingerprint: fp(B.pan),
        bin: B.pan.slice(0, 6),
        last4: B.pan.slice(-4),
        scheme: 'AMEX',
      };
      const cardC = { fingerprint: fp(C.pan), bin: C.pan.slice(0, 8), last4: C.pan.slice(-4), scheme: 'JCB' };
      const cardD = {
        fingerprint: fp(D.pan),
        bin: D.pan.slice(0, 8),
        last4: D.pan.slice(-4),
        scheme: 'MASTERCARD',
      };
      const dByFingerprint = (expiry: string | null) => ({
        pan: null,
        fingerprint: cardD.fingerprint,
        keyId: KEY_ID,
        bin: cardD.bin,
        last4: cardD.last4,
        expiry,
      });

      // Watched card A in a shop, with the leaked expiry: 20 + 5 = 25 → LOW.
      watched('avro', 'w1', {
        eventId: 'e2e-w1-a-card-present',
        ...cardA,
        expiryMatchesLeak: true,
        reasons: [
          ['LEAKED_CARD', 20],
          ['EXPIRY_MATCHES_LEAK', 5],
        ],
        score: 25,
        severity: 'LOW',
        action: 'MONITOR',
        auth: authorization('e2e-w1-a-card-present', 0, pan(A.pan, A.expiry)),
      });
      clean(
        'avro',
        authorization('e2e-c1-e-risky-but-clean', 1, pan(E, '2029-02'), {
          channel: 'ECOMMERCE',
          threeDs: 'NOT_PERFORMED',
          amountMinor: 250_000,
          merchant: { id: 'm-gadgets-us', name: 'Gadgets', mcc: '5732', country: 'US' },
        }),
      );
      // Watched card A online without 3-D Secure, a reissued expiry, PAN written with spaces, JSON:
      // 20 + CVV exposed online 10 + no 3DS 15 = 45 → MEDIUM.
      watched('json', 'w2', {
        eventId: 'e2e-w2-a-ecommerce-no-3ds',
        ...cardA,
        expiryMatchesLeak: false,
        reasons: [
          ['LEAKED_CARD', 20],
          ['CVV_EXPOSED_CARD_NOT_PRESENT', 10],
          ['NO_3DS_CARD_NOT_PRESENT', 15],
        ],
        score: 45,
        severity: 'MEDIUM',
        action: 'STEP_UP_AUTH',
        auth: authorization(
          'e2e-w2-a-ecommerce-no-3ds',
          2,
          pan(writtenForms(A.pan)[1] as string, '2030-01'),
          { channel: 'ECOMMERCE', threeDs: 'NOT_PERFORMED', cvvResult: 'MATCH' },
        ),
      });
      poison(
        'BAD_FRAMING',
        'poison-bad-magic',
        (() => {
          const bytes = Buffer.from(encoder.encode(authorization('e2e-p-bad-magic', 3, pan(E, null))));
          bytes[0] = 0x01;
          return bytes;
        })(),
      );
      // Watched card B (AMEX) online with 3-D Secure and the leaked expiry: 20 + 5 + 10 = 35 → LOW.
      watched('avro', 'w3', {
        eventId: 'e2e-w3-b-ecommerce-3ds',
        ...cardB,
        expiryMatchesLeak: true,
        reasons: [
          ['LEAKED_CARD', 20],
          ['EXPIRY_MATCHES_LEAK', 5],
          ['CVV_EXPOSED_CARD_NOT_PRESENT', 10],
        ],
        score: 35,
        severity: 'LOW',
        action: 'MONITOR',
        auth: authorization('e2e-w3-b-ecommerce-3ds', 4, pan(B.pan, B.expiry), {
          channel: 'ECOMMERCE',
          threeDs: 'AUTHENTICATED',
          cvvResult: 'MATCH',
        }),
      });
      clean('json', authorization('e2e-c2-f-shop', 5, pan(writtenForms(F)[2] as string, '2027-03')));
      poison(
        'UNKNOWN_SCHEMA_ID',
        'poison-unknown-schema',
        (() => {
          const bytes = Buffer.from(
            encoder.encode(authorization('e2e-p-unknown-schema', 6, pan(A.pan, A.expiry))),
          );
          bytes.writeInt32BE(2_147_480_000, 1);
          return bytes;
        })(),
      );
      // Watched card B, fraud-shaped: no expiry sent, 3DS failed, electronics abroad, 150,000 JPY:
      // 20 + 10 + 15 + 15 + 10 + 15 = 85 → CRITICAL.
      watched('json', 'w4', {
        eventId: 'e2e-w4-b-fraud',
        ...cardB,
        expiryMatchesLeak: null,
        reasons: [
          ['LEAKED_CARD', 20],
          ['CVV_EXPOSED_CARD_NOT_PRESENT', 10],
          ['NO_3DS_CARD_NOT_PRESENT', 15],
          ['HIGH_RISK_MCC', 15],
          ['CROSS_BORDER', 10],
          ['HIGH_AMOUNT', 15],
        ],
        score: 85,
        severity: 'CRITICAL',
        action: 'DECLINE_AND_REISSUE',
        auth: authorization('e2e-w4-b-fraud', 7, pan(B.pan, null), {
          channel: 'ECOMMERCE',
          threeDs: 'FAILED',
          cvvResult: 'MATCH',
          amountMinor: 150_000,
          merchant: { id: 'm-gadgets-us', name: 'Gadgets', mcc: '5732', country: 'US' },
        }),
      });
      poison(
        'AVRO_DECODE_FAILED',
        'poison-truncated',
        (() => {
          const bytes = encoder.encode(authorization('e2e-p-truncated', 8, pan(A.pan, A.expiry)));
          return Buffer.from(bytes.subarray(0, bytes.length - 12));
        })(),
      );
      // Watched card A by mail order: CVV rule fires (MOTO), no-3DS does not (e-commerce only): 35 → LOW.
      watched('avro', 'w5', {
        eventId: 'e2e-w5-a-moto',
        ...cardA,
        expiryMatchesLeak: true,
        reasons: [
          ['LEAKED_CARD', 20],
          ['EXPIRY_MATCHES_LEAK', 5],
          ['CVV_EXPOSED_CARD_NOT_PRESENT', 10],
        ],
        score: 35,
        severity: 'LOW',
        action: 'MONITOR',
        auth: authorization('e2e-w5-a-moto', 9, pan(A.pan, A.expiry), { channel: 'MOTO' }),
      });
      clean('json', authorization('e2e-c3-g-moto', 10, pan(G, '2031-12'), { channel: 'MOTO' }));
      poison(
        'JSON_INVALID',
        'poison-invalid-json',
        Buffer.from(
          asJson(authorization('e2e-p-invalid-json', 11, pan(A.pan, A.expiry)))
            .toString('utf8')
            .slice(0, 90),
          'utf8',
        ),
      );
      // Watched card D sent by fingerprint (no PAN), leaked expiry, online with 3DS attempted, in
      // Korea: 20 + 5 + 10 + cross-border 10 = 45 → MEDIUM.
      watched('avro', 'f1', {
        eventId: 'e2e-f1-d-fingerprint',
        ...cardD,
        expiryMatchesLeak: true,
        reasons: [
          ['LEAKED_CARD', 20],
          ['EXPIRY_MATCHES_LEAK', 5],
          ['CVV_EXPOSED_CARD_NOT_PRESENT', 10],
          ['CROSS_BORDER', 10],
        ],
        score: 45,
        severity: 'MEDIUM',
        action: 'STEP_UP_AUTH',
        auth: authorization('e2e-f1-d-fingerprint', 12, dByFingerprint(D.expiry), {
          channel: 'ECOMMERCE',
          threeDs: 'ATTEMPTED',
          merchant: { id: 'm-seoul', name: 'Seoul Books', mcc: '5942', country: 'KR' },
        }),
      });
      // A clean card sent by fingerprint.
      clean(
        'avro',
        authorization('e2e-c4-e-fingerprint', 13, {
          pan: null,
          fingerprint: fp(E),
          keyId: KEY_ID,
          bin: E.slice(0, 8),
          last4: E.slice(-4),
          expiry: '2029-02',
        }),
      );
      const missingMerchant: Record<string, unknown> = {
        ...authorization('e2e-p-missing', 14, pan(A.pan, A.expiry)),
      };
      delete missingMerchant.merchant;
      poison(
        'VALIDATION_FAILED',
        'poison-missing-fields',
        Buffer.from(JSON.stringify(missingMerchant), 'utf8'),
      );
      poison(
        'VALIDATION_FAILED',
        'poison-negative-amount-avro',
        rawAvro(
          encoder.schemaId,
          authorization('e2e-p-negative-avro', 15, pan(A.pan, A.expiry), { amountMinor: -500 }),
        ),
      );
      poison(
        'VALIDATION_FAILED',
        'poison-negative-amount-json',
        asJson(authorization('e2e-p-negative-json', 16, pan(B.pan, B.expiry), { amountMinor: -1 })),
      );
      poison(
        'VALIDATION_FAILED',
        'poison-bad-currency',
        rawAvro(
          encoder.schemaId,
          authorization('e2e-p-currency', 17, pan(A.pan, A.expiry), { currency: 'yen' }),
        ),
      );
      poison(
        'INVALID_PAN',
        'poison-luhn-json',
        asJson(authorization('e2e-p-luhn-json', 18, pan(A_BROKEN, A.expiry))),
      );
      poison(
        'INVALID_PAN',
        'poison-luhn-avro',
        rawAvro(encoder.schemaId, authorization('e2e-p-luhn-avro', 19, pan(B_BROKEN, B.expiry))),
      );
      poison(
        'UNKNOWN_KEY_ID',
        'poison-unknown-key',
        encoder.encode(
          authorization('e2e-p-unknown-key', 20, { ...dByFingerprint(D.expiry), keyId: 'k-retired' }),
        ),
      );
      // Watched card D by fingerprint in a shop, JSON, another expiry: 20 → LOW.
      watched('json', 'f2', {
        eventId: 'e2e-f2-d-fingerprint-json',
        ...cardD,
        expiryMatchesLeak: false,
        reasons: [['LEAKED_CARD', 20]],
        score: 20,
        severity: 'LOW',
        action: 'MONITOR',
        auth: authorization('e2e-f2-d-fingerprint-json', 21, dByFingerprint('2031-05')),
      });
      clean('json', authorization('e2e-c5-e-atm', 22, pan(E, null), { channel: 'ATM', amountMinor: 30_000 }));
      // A velocity burst on watched card C: 6 contactless buys a minute apart, one Kafka key so
      // they stay in order. The 1st-4th score 20 + 5 = 25 (LOW); the 5th and 6th add VELOCITY
      // 20 → 45 (MEDIUM).
      for (let i = 1; i <= 6; i++) {
        const eventId = `e2e-v${i}-c-burst`;
        const fired = i >= 5;
        watched(i % 2 === 0 ? 'json' : 'avro', 'card-c', {
          eventId,
          ...cardC,
          expiryMatchesLeak: true,
          reasons: fired
            ? [
                ['LEAKED_CARD', 20],
                ['EXPIRY_MATCHES_LEAK', 5],
                ['VELOCITY', 20],
              ]
            : [
                ['LEAKED_CARD', 20],
                ['EXPIRY_MATCHES_LEAK', 5],
              ],
          score: fired ? 45 : 25,
          severity: fired ? 'MEDIUM' : 'LOW',
          action: fired ? 'STEP_UP_AUTH' : 'MONITOR',
          auth: authorization(eventId, 30 + i, pan(C.pan, C.expiry), {
            channel: 'CONTACTLESS',
            amountMinor: 3000,
            merchant: { id: `m-konbini-${i}`, name: null, mcc: '5499', country: 'JP' },
          }),
        });
      }
      clean('avro', authorization('e2e-c6-f-contactless', 40, pan(F, '2027-03'), { channel: 'CONTACTLESS' }));

      const poisonCount = stream.filter((m) => m.poison).length;
      const cleanCount = stream.length - poisonCount - expected.length;
      expect([expected.length, cleanCount, poisonCount]).toEqual([13, 6, 11]);

      // one message per send, in order: each gets its exact partition and offset back
      await producer.connect();
      const sent: Array<Sent & { poison?: string; label: string }> = [];
      for (const message of stream) {
        sent.push({
          ...(await send(producer, topics.authorizations, message.key, message.value)),
          ...(message.poison ? { poison: message.poison } : {}),
          label: message.label,
        });
      }
      const velocityPartitions = new Set(sent.filter((s) => s.key === 'card-c').map((s) => s.partition));
      expect(velocityPartitions.size).toBe(1);

      // ---- wait until everything is processed and committed ----
      let metrics = '';
      await vi.waitFor(
        async () => {
          metrics = (await getOps(port, '/metrics')).body;
          expect(processedCounts(metrics).total).toBe(stream.length);
        },
        { timeout: 60_000, interval: 250 },
      );

      // ---- alerts: exactly the watched-card events, each with its documented reasons ----
      const alerts = await decodeAlerts(
        endpoints.schemaRegistryUrl,
        await readToEnd(kafka, admin, topics.alerts),
      );
      expect(alerts.map((a) => a.alert.eventId).sort()).toEqual(expected.map((e) => e.eventId).sort());
      const ruleSetVersion = defaultRuleSet().version;
      for (const want of expected) {
        const got = alerts.find((a) => a.alert.eventId === want.eventId);
        expect(got, want.eventId).toBeDefined();
        const { alert, key: alertKey } = got as (typeof alerts)[number];
        const occurredAt = want.auth.occurredAt as number;
        expect(alertKey, `${want.eventId}: keyed by fingerprint`).toBe(want.fingerprint);
        expect(
          {
            alertId: alert.alertId,
            reasons: alert.reasons.map((r) => [r.code, r.points]),
            score: alert.score,
            severity: alert.severity,
            recommendedAction: alert.recommendedAction,
          },
          want.eventId,
        ).toEqual({
          alertId: alertIdFor(want.eventId),
          reasons: want.reasons,
          score: want.score,
          severity: want.severity,
          recommendedAction: want.action,
        });
        expect(alert, want.eventId).toMatchObject({
          eventId: want.eventId,
          occurredAt,
          partnerId: 'unrouted',
          card: {
            fingerprint: want.fingerprint,
            keyId: KEY_ID,
            bin: maskBin(want.bin), // the BIN shown leaves 6 digits hidden
            last4: want.last4,
            scheme: want.scheme,
            expiryMatchesLeak: want.expiryMatchesLeak,
          },
          incidents: [
            {
              incidentId: INCIDENT_ID,
              compromiseType: manifest.compromiseType,
              exposureStart: manifest.exposureStart,
              exposureEnd: manifest.exposureEnd,
              dataExposed: ['PAN', 'EXPIRY', 'CVV', 'NAME'],
            },
          ],
          transaction: {
            amountMinor: want.auth.amountMinor,
            currency: want.auth.currency,
            merchantId: want.auth.merchant.id,
            merchantName: want.auth.merchant.name ?? null,
            mcc: want.auth.merchant.mcc,
            merchantCountry: want.auth.merchant.country,
            channel: want.auth.channel,
            threeDs: want.auth.threeDs ?? null,
            cvvResult: want.auth.cvvResult ?? null,
            responseCode: want.auth.responseCode ?? null,
          },
          ruleSetVersion,
          retrospective: false,
        });
        for (const reason of alert.reasons)
          expect(reason.description.length, `${want.eventId} ${reason.code}`).toBeGreaterThan(0);
        expect(alert.detectedAt).toBeGreaterThan(Date.now() - 5 * MINUTE);
      }
      // one card, one alert partition, in the order of its authorizations
      const burst = alerts.filter((a) => a.key === cardC.fingerprint);
      expect(new Set(burst.map((a) => a.partition)).size).toBe(1);
      expect(burst.map((a) => a.alert.eventId)).toEqual([1, 2, 3, 4, 5, 6].map((i) => `e2e-v${i}-c-burst`));

      // ---- dead letters: every poison message, with the original key and bytes and all headers ----
      const dlq = await readToEnd(kafka, admin, topics.deadLetters);
      const poisonSent = sent.filter((s) => s.poison);
      expect(dlq.map((m) => m.key?.toString()).sort()).toEqual(poisonSent.map((p) => p.key).sort());
      for (const p of poisonSent) {
        const letter = dlq.find((m) => m.key?.toString() === p.key);
        expect(letter, p.key).toBeDefined();
        const { headers, value } = letter as (typeof dlq)[number];
        expect(Buffer.compare(value as Buffer, p.value), `${p.key}: original bytes`).toBe(0);
        expect(headers[DLQ_HEADERS.code], p.key).toBe(p.poison);
        expect(headers[DLQ_HEADERS.message], p.key).toMatch(/\S/);
        expect(headers[DLQ_HEADERS.topic], p.key).toBe(topics.authorizations);
        expect(headers[DLQ_HEADERS.partition], p.key).toBe(String(p.partition));
        expect(headers[DLQ_HEADERS.offset], p.key).toBe(p.offset);
        const failedAt = Date.parse(headers[DLQ_HEADERS.failedAt] ?? '');
        expect(failedAt, `${p.key}: lw-failed-at is an ISO time of this run`).toBeGreaterThan(
          Date.now() - 5 * MINUTE,
        );
        expect(headers[DLQ_HEADERS.failedAt]).toBe(new Date(failedAt).toISOString());
      }

      // ---- metrics: every message counted once, in exactly one outcome ----
      const counts = processedCounts(metrics);
      expect(counts).toEqual({
        clean: cleanCount,
        alerted: expected.length,
        deadLettered: poisonCount,
        total: stream.length,
      });
      expect(counts.alerted).toBe(alerts.length);
      expect(counts.deadLettered).toBe(dlq.length);
      expect(metricValue(metrics, 'leakwatch_authorizations_on_watched_cards_total')).toBe(expected.length);
      for (const code of new Set(poisonSent.map((p) => p.poison as string))) {
        expect(metricValue(metrics, 'leakwatch_dead_letters_total', { reason: code }), code).toBe(
          poisonSent.filter((p) => p.poison === code).length,
        );
      }
      for (const severity of ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const) {
        expect(
          metricValue(metrics, 'leakwatch_alerts_total', { severity, partner: 'unrouted' }),
          severity,
        ).toBe(expected.filter((e) => e.severity === severity).length);
      }

      // ---- redelivery: the 5th burst event again, same eventId: same alertId, same verdict ----
      const fifth = sent.find((s) => s.label === 'e2e-v5-c-burst') as Sent;
      await send(producer, topics.authorizations, fifth.key, fifth.value);
      await vi.waitFor(
        async () => {
          metrics = (await getOps(port, '/metrics')).body;
          expect(processedCounts(metrics).total).toBe(stream.length + 1);
        },
        { timeout: 30_000, interval: 250 },
      );
      const afterRedelivery = await decodeAlerts(
        endpoints.schemaRegistryUrl,
        await readToEnd(kafka, admin, topics.alerts),
      );
      expect(afterRedelivery).toHaveLength(alerts.length + 1);
      const both = afterRedelivery.filter((a) => a.alert.eventId === 'e2e-v5-c-burst');
      expect(both).toHaveLength(2);
      const [first, again] = both as [(typeof both)[number], (typeof both)[number]];
      expect(again.alert.alertId).toBe(first.alert.alertId);
      expect(again.alert.alertId).toBe(alertIdFor('e2e-v5-c-burst'));
      // per-card history counts an eventId once, so the redelivery sees the count it saw first
      expect({ ...again.alert, detectedAt: 0 }).toEqual({ ...first.alert, detectedAt: 0 });
      expect([again.key, again.partition]).toEqual([first.key, first.partition]);

      // ---- redaction: no card number, in any written form, anywhere the monitor writes ----
      await handle.close();
      handle = undefined;
      log.stream.end();
      expect(log.lines.length).toBeGreaterThan(20);
      expect(log.lines.filter((line) => line.includes('alert raised'))).toHaveLength(expected.length + 1);
      expect(log.lines.filter((line) => line.includes('dead-lettered an authorization'))).toHaveLength(
        poisonCount,
      );
      const places: Array<[where: string, text: string]> = [
        ['logs', log.lines.join('\n')],
        ['/metrics', metrics],
        ...afterRedelivery.map((a): [string, string] => [
          `alert ${a.alert.eventId}`,
          `${a.key}\n${a.value.toString('latin1')}\n${JSON.stringify(a.alert)}`,
        ]),
        ...dlq.map((m): [string, string] => [
          `dead-letter headers of ${m.key?.toString()}`,
          JSON.stringify(m.headers),
        ]),
      ];
      for (const number of ALL_PANS) {
        for (const form of writtenForms(number)) {
          for (const [where, text] of places)
            expect(text.includes(form), `${where} must not contain a card number`).toBe(false);
        }
      }
    } finally {
      await producer.disconnect();
      await handle?.close();
    }
  });
});
