import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { Keyring, luhnValid } from '@leakwatch/card';
import { isLeakwatchError } from '@leakwatch/errors';
import type { CardAuthorization } from './authorization.js';
import { generateCards } from './cards.js';
import { messageValue } from './encode.js';
import { POISON_EXPECTED_ERROR, POISON_KINDS, UNKNOWN_SCHEMA_ID } from './poison.js';
import {
  type SimulatedAuthorization,
  type SimulatedEvent,
  type SimulatedPoison,
  type TrafficGeneratorOptions,
  createTrafficGenerator,
} from './traffic.js';

const schema = JSON.parse(
  readFileSync(new URL('../../../schemas/CardAuthorization.avsc', import.meta.url), 'utf8'),
) as avro.Schema & { fields: { name: string; type: unknown }[] };
const avroType = avro.Type.forSchema(schema);
const SCHEMA_ID = 7;

/** Confluent framing around avsc's encoding: what the CLI's registry serializer produces. */
function encodeAvro(value: CardAuthorization): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(SCHEMA_ID, 1);
  return Buffer.concat([header, avroType.toBuffer(value)]);
}

function decodeAvro(bytes: Buffer): CardAuthorization {
  return avroType.fromBuffer(bytes.subarray(5)) as CardAuthorization;
}

const referenceTime = Date.UTC(2025, 5, 1);
/** A clock that ticks 10 ms per reading: 100 events a second, reproducible. */
function steppingClock(start = referenceTime, stepMs = 10): () => number {
  let now = start;
  return () => (now += stepMs);
}

const leaked = generateCards({ count: 500, seed: 'leak', referenceTime });
const watchedPans = new Set(leaked.map((c) => c.pan));
const leakedExpiry = new Map(leaked.map((c) => [c.pan, c.expiry]));
const keyring = new Keyring([{ keyId: 'k1', key: Buffer.alloc(32, 7) }]);
const fingerprintToPan = new Map(leaked.map((c) => [keyring.fingerprint(c.pan), c.pan]));

function generate(options: Partial<TrafficGeneratorOptions>, count: number): SimulatedEvent[] {
  const generator = createTrafficGenerator({
    seed: 'traffic',
    clock: steppingClock(),
    watchedCards: leaked,
    populationSize: 5_000,
    merchantCount: 500,
    ...options,
  });
  return generator.nextBatch(count);
}

const authorizations = (events: SimulatedEvent[]) =>
  events.filter((e): e is SimulatedAuthorization => e.kind === 'authorization');
const share = (part: number, whole: number) => part / whole;

describe('createTrafficGenerator', () => {
  const events = generate(
    {
      watchedShare: 0.05,
      expiryMatchShare: 0.7,
      poisonShare: 0.02,
      jsonShare: 0.2,
      fingerprintShare: 0.1,
      fingerprinter: (pan) => ({ keyId: keyring.currentKeyId, fingerprint: keyring.fingerprint(pan) }),
      encodeAvro,
    },
    10_000,
  );
  const auths = authorizations(events);

  it('produces values with exactly the schema field names, valid for the Avro schema', () => {
    const names = (fields: { name: string }[]) => fields.map((f) => f.name).sort();
    const record = (name: string) =>
      schema.fields.find((f) => f.name === name)!.type as { fields: { name: string }[] };
    const invalid: string[] = [];
    for (const { value } of auths)
      avroType.isValid(value, { errorHook: (path) => invalid.push(path.join('.')) });
    expect(invalid).toEqual([]);
    const sample = auths[0]!.value;
    expect(Object.keys(sample).sort()).toEqual(names(schema.fields));
    expect(Object.keys(sample.card).sort()).toEqual(names(record('card').fields));
    expect(Object.keys(sample.merchant).sort()).toEqual(names(record('merchant').fields));
  });

  it('respects the configured shares within tolerances', () => {
    const poison = events.length - auths.length;
    expect(share(poison, events.length)).toBeCloseTo(0.02, 2);
    const watched = auths.filter((e) => e.watched);
    expect(Math.abs(share(watched.length, auths.length) - 0.05)).toBeLessThan(0.01);
    const matching = watched.filter((e) => e.expiryMatchesLeak === true);
    expect(Math.abs(share(matching.length, watched.length) - 0.7)).toBeLessThan(0.06);
    expect(watched.some((e) => e.expiryMatchesLeak === false)).toBe(true);
    const json = auths.filter((e) => e.format === 'json');
    expect(Math.abs(share(json.length, auths.length) - 0.2)).toBeLessThan(0.02);
    const fingerprinted = auths.filter((e) => e.value.card.pan === null);
    expect(Math.abs(share(fingerprinted.length, auths.length) - 0.1)).toBeLessThan(0.015);
  });

  it('flags exactly the events on watched cards, with the leaked expiry where it says so', () => {
    const wrong = auths.filter((e) => {
      const { card } = e.value;
      const pan = card.pan ?? fingerprintToPan.get(card.fingerprint ?? '');
      const isWatched = pan !== undefined && watchedPans.has(pan);
      if (isWatched !== e.watched) return true;
      if (!e.watched) return e.expiryMatchesLeak !== null;
      const matches = card.expiry === null ? null : card.expiry === leakedExpiry.get(pan!);
      return matches !== e.expiryMatchesLeak;
    });
    expect(wrong).toEqual([]);
  });

  it('sends fingerprinted cards with key id, BIN and last 4, and no PAN', () => {
    const fingerprinted = auths.filter((e) => e.value.card.pan === null);
    for (const { value } of fingerprinted.slice(0, 200)) {
      expect(value.card.fingerprint).toHaveLength(43);
      expect(value.card.keyId).toBe('k1');
      expect(value.card.bin).toMatch(/^\d{6}(\d{2})?$/);
      expect(value.card.last4).toMatch(/^\d{4}$/);
    }
    const watchedFingerprinted = fingerprinted.filter((e) => e.watched);
    expect(watchedFingerprinted.length).toBeGreaterThan(0);
    for (const { value } of watchedFingerprinted) {
      const pan = fingerprintToPan.get(value.card.fingerprint!)!;
      expect(pan.startsWith(value.card.bin!)).toBe(true);
      expect(pan.endsWith(value.card.last4!)).toBe(true);
    }
  });

  it('looks like Japanese card traffic', () => {
    const clean = auths.filter((e) => !e.watched).map((e) => e.value);
    const count = (pred: (v: CardAuthorization) => boolean) => share(clean.filter(pred).length, clean.length);
    expect(count((v) => v.currency === 'JPY')).toBeGreaterThan(0.75);
    expect(count((v) => v.merchant.country === 'JP')).toBeGreaterThan(0.75);
    expect(count((v) => v.responseCode === '00')).toBeGreaterThan(0.9);
    expect(count((v) => v.mti === '0100')).toBeGreaterThan(0.9);
    const highRisk = new Set(['4829', '6051', '5732', '7995', '5816', '5944', '5967', '6540']);
    expect(count((v) => highRisk.has(v.merchant.mcc))).toBeLessThan(0.12);
    expect(new Set(clean.map((v) => v.channel))).toEqual(
      new Set(['ECOMMERCE', 'CARD_PRESENT', 'CONTACTLESS', 'MOTO', 'RECURRING', 'ATM']),
    );
    expect(new Set(clean.map((v) => v.currency)).size).toBeGreaterThan(5);
    const ecommerce = clean.filter((v) => v.channel === 'ECOMMERCE');
    expect(
      share(ecommerce.filter((v) => v.threeDs === 'AUTHENTICATED').length, ecommerce.length),
    ).toBeGreaterThan(0.6);
    expect(clean.filter((v) => v.channel === 'CARD_PRESENT' && v.threeDs !== null)).toEqual([]);
    expect(clean.every((v) => Number.isSafeInteger(v.amountMinor) && v.amountMinor > 0)).toBe(true);
    const fraud = auths.filter((e) => e.pattern === 'watched-fraud').map((e) => e.value);
    expect(fraud.length).toBeGreaterThan(50);
    expect(share(fraud.filter((v) => highRisk.has(v.merchant.mcc)).length, fraud.length)).toBeGreaterThan(
      0.5,
    );
    expect(fraud.every((v) => v.channel === 'ECOMMERCE' || v.channel === 'MOTO')).toBe(true);
  });

  it('gives unique event ids and keys by event id or merchant', () => {
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    expect(events[0]!.eventId).toBe('sim-traffic-0');
    expect(events[9_999]!.eventId).toBe('sim-traffic-9999');
    const byMerchant = auths.filter((e) => e.key === e.value.merchant.id);
    expect(share(byMerchant.length, auths.length)).toBeGreaterThan(0.2);
    expect(auths.every((e) => e.key === e.eventId || e.key === e.value.merchant.id)).toBe(true);
    expect(auths.every((e) => e.value.eventId === e.eventId)).toBe(true);
  });

  it('replays the same events from the same seed and clock', () => {
    const options = { watchedShare: 0.05, poisonShare: 0.05, jsonShare: 0.3, encodeAvro };
    const first = generate(options, 2_000);
    expect(generate(options, 2_000)).toEqual(first);
    expect(generate({ ...options, seed: 'other' }, 200)).not.toEqual(first.slice(0, 200));
    const withRunId = generate({ ...options, runId: 'run-2' }, 5);
    expect(withRunId.map((e) => e.eventId)).toEqual(['0', '1', '2', '3', '4'].map((n) => `sim-run-2-${n}`));
  });
});

describe('bursts on watched cards', () => {
  const events = authorizations(
    generate({ watchedShare: 0.05, velocityBurstShare: 0.15, cardTestingShare: 0.15 }, 20_000),
  ).filter((e) => e.watched);

  /** Consecutive watched events of one pattern on one card. */
  function runs(pattern: string): SimulatedAuthorization[][] {
    const out: SimulatedAuthorization[][] = [];
    let current: SimulatedAuthorization[] = [];
    for (const event of events) {
      const last = current[current.length - 1];
      if (last !== undefined && (event.pattern !== pattern || event.value.card.pan !== last.value.card.pan)) {
        out.push(current);
        current = [];
      }
      if (event.pattern === pattern) current.push(event);
    }
    if (current.length > 0) out.push(current);
    return out;
  }

  it('sends velocity bursts of 5-8 card-not-present authorizations within minutes', () => {
    const bursts = runs('velocity');
    expect(bursts.length).toBeGreaterThan(10);
    for (const burst of bursts) {
      expect(burst.length).toBeGreaterThanOrEqual(5);
      expect(burst.length).toBeLessThanOrEqual(8);
      const span = burst[burst.length - 1]!.value.occurredAt - burst[0]!.value.occurredAt;
      expect(span).toBeLessThan(600_000);
      expect(burst.every((e) => ['ECOMMERCE', 'MOTO'].includes(e.value.channel))).toBe(true);
    }
  });

  it('sends card-testing runs of 3-6 small online charges at one merchant', () => {
    const bursts = runs('card-testing');
    expect(bursts.length).toBeGreaterThan(10);
    for (const burst of bursts) {
      expect(burst.length).toBeGreaterThanOrEqual(3);
      expect(burst.length).toBeLessThanOrEqual(6);
      expect(new Set(burst.map((e) => e.value.merchant.id)).size).toBe(1);
      for (const { value } of burst) {
        expect(value.amountMinor).toBeGreaterThanOrEqual(1);
        expect(value.amountMinor).toBeLessThanOrEqual(100);
        expect(['JPY', 'USD', 'EUR', 'GBP']).toContain(value.currency);
        expect(['ECOMMERCE', 'MOTO']).toContain(value.channel);
      }
    }
  });
});

describe('poison', () => {
  const poison = generate({ poisonShare: 1, encodeAvro, jsonShare: 0.5 }, 4_000) as SimulatedPoison[];

  function decode(bytes: Buffer): Record<string, unknown> {
    return bytes[0] === 0
      ? (decodeAvro(bytes) as unknown as Record<string, unknown>)
      : (JSON.parse(bytes.toString('utf8')) as Record<string, unknown>);
  }

  it('draws every kind, each with its expected dead-letter code', () => {
    expect(poison.every((e) => e.kind === 'poison')).toBe(true);
    expect(new Set(poison.map((e) => e.poisonKind))).toEqual(new Set(POISON_KINDS));
    expect(poison.every((e) => e.expectedErrorCode === POISON_EXPECTED_ERROR[e.poisonKind])).toBe(true);
    expect(POISON_EXPECTED_ERROR).toEqual({
      BAD_MAGIC: 'BAD_FRAMING',
      UNKNOWN_SCHEMA_ID: 'UNKNOWN_SCHEMA_ID',
      TRUNCATED_AVRO: 'AVRO_DECODE_FAILED',
      INVALID_JSON: 'JSON_INVALID',
      MISSING_FIELDS: 'VALIDATION_FAILED',
      NEGATIVE_AMOUNT: 'VALIDATION_FAILED',
      BAD_CURRENCY: 'VALIDATION_FAILED',
      LUHN_FAIL: 'INVALID_PAN',
    });
  });

  it('builds bytes that fail in exactly the intended way', () => {
    const problems: string[] = [];
    const check = (ok: boolean, event: SimulatedPoison) => {
      if (!ok) problems.push(`${event.poisonKind} ${event.eventId}`);
    };
    for (const event of poison) {
      const { bytes } = event;
      switch (event.poisonKind) {
        case 'BAD_MAGIC':
          check(bytes[0] !== 0 && !bytes.toString('latin1').trimStart().startsWith('{'), event);
          break;
        case 'UNKNOWN_SCHEMA_ID':
          check(
            bytes[0] === 0 &&
              bytes.readInt32BE(1) === UNKNOWN_SCHEMA_ID &&
              avroType.isValid(decodeAvro(bytes)),
            event,
          );
          break;
        case 'TRUNCATED_AVRO':
          check(bytes[0] === 0 && bytes.readInt32BE(1) === SCHEMA_ID && bytes.length > 5, event);
          check(
            (() => {
              try {
                decodeAvro(bytes);
                return false;
              } catch {
                return true;
              }
            })(),
            event,
          );
          break;
        case 'INVALID_JSON':
          check(bytes.toString('utf8').startsWith('{'), event);
          check(
            (() => {
              try {
                JSON.parse(bytes.toString('utf8'));
                return false;
              } catch {
                return true;
              }
            })(),
            event,
          );
          break;
        case 'MISSING_FIELDS': {
          const value = JSON.parse(bytes.toString('utf8')) as Record<
            string,
            Record<string, unknown> | undefined
          >;
          const required = [
            'eventId',
            'occurredAt',
            'card',
            'amountMinor',
            'currency',
            'merchant',
            'channel',
          ];
          const missingTop = required.some((field) => !(field in value));
          const noCardId =
            value['card'] !== undefined &&
            value['card']['pan'] == null &&
            value['card']['fingerprint'] == null;
          const noMcc = value['merchant'] !== undefined && !('mcc' in value['merchant']);
          check(missingTop || noCardId || noMcc, event);
          break;
        }
        case 'NEGATIVE_AMOUNT':
          check((decode(bytes)['amountMinor'] as number) < 0, event);
          break;
        case 'BAD_CURRENCY':
          check(!/^[A-Z]{3}$/.test(decode(bytes)['currency'] as string), event);
          break;
        case 'LUHN_FAIL': {
          const pan = (decode(bytes)['card'] as { pan: string }).pan;
          check(/^\d{12,19}$/.test(pan) && !luhnValid(pan), event);
          break;
        }
      }
    }
    expect(problems).toEqual([]);
    // Validation poison goes out both ways when an encoder is there.
    const negative = poison.filter((e) => e.poisonKind === 'NEGATIVE_AMOUNT');
    expect(negative.some((e) => e.bytes[0] === 0)).toBe(true);
    expect(negative.some((e) => e.bytes[0] === 0x7b)).toBe(true);
  });

  it('leaves the Avro kinds out without an encoder, and refuses them when asked for', () => {
    const kinds = new Set(generate({ poisonShare: 1 }, 500).map((e) => (e as SimulatedPoison).poisonKind));
    expect(kinds.has('UNKNOWN_SCHEMA_ID') || kinds.has('TRUNCATED_AVRO')).toBe(false);
    expect(kinds.size).toBe(6);
    expect(() => generate({ poisonShare: 0.1, poisonKinds: ['TRUNCATED_AVRO'] }, 1)).toThrow(
      /needs encodeAvro/,
    );
  });
});

describe('JSON events', () => {
  it('encode to JSON that parses back to the value, with ISO times and omitted nulls allowed', () => {
    const events = authorizations(generate({ jsonShare: 1, watchedShare: 0.1 }, 400));
    const styles = new Set<string>();
    for (const event of events) {
      expect(event.format).toBe('json');
      const text = messageValue(event).toString('utf8');
      const parsed = JSON.parse(text) as Record<string, unknown>;
      styles.add(`${typeof parsed['occurredAt']}/${text.includes('null')}`);
      const occurredAt =
        typeof parsed['occurredAt'] === 'string' ? Date.parse(parsed['occurredAt']) : parsed['occurredAt'];
      const restored: unknown = avroType.fromBuffer(avroType.toBuffer({ ...parsed, occurredAt }));
      expect(restored).toEqual(event.value);
    }
    expect(styles).toEqual(new Set(['number/true', 'string/true', 'number/false', 'string/false']));
  });

  it('needs an encoder for Avro events', () => {
    const [event] = generate({}, 1);
    expect(() => messageValue(event!)).toThrow(/encodeAvro/);
    expect(messageValue(event!, encodeAvro)[0]).toBe(0);
  });
});

describe('options', () => {
  it('accepts watched cards as lists write them', () => {
    const card = leaked[0]!;
    const spaced = card.pan.replace(/(\d{4})(?=\d)/g, '$1 ');
    const expiry = `${card.expiry.slice(5)}/${card.expiry.slice(2, 4)}`;
    const events = authorizations(generate({ watchedCards: [{ pan: spaced, expiry }], watchedShare: 1 }, 20));
    expect(events.every((e) => e.value.card.pan === card.pan)).toBe(true);
    expect(events.some((e) => e.value.card.expiry === card.expiry)).toBe(true);
  });

  it('refuses bad options with USAGE, every problem named', () => {
    let caught: unknown;
    try {
      createTrafficGenerator({
        seed: 1,
        watchedCards: [{ pan: '4111111111111112', expiry: '13/27' }],
        watchedShare: 2,
        jsonShare: -1,
        fingerprintShare: 0.5,
        velocityBurstSize: [9, 3],
        poisonKinds: ['NOPE' as never],
      });
    } catch (error) {
      caught = error;
    }
    expect(isLeakwatchError(caught, 'USAGE')).toBe(true);
    const problems = (caught as { details: { problems: string[] } }).details.problems;
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'watchedCards[0].pan',
      'watchedCards[0].expiry',
      'watchedShare',
      'velocityBurstSize',
      'poisonKinds',
      'jsonShare',
      'fingerprinter',
    ]);
    expect(problems[0]).toBe('watchedCards[0].pan: card number fails the Luhn check');
    expect(() => createTrafficGenerator({ seed: 1, watchedShare: 0.1 })).toThrow(/no \(valid\) watchedCards/);
    const many = Array.from({ length: 8 }, () => ({ pan: '1234', expiry: '2030-01' }));
    expect(() => createTrafficGenerator({ seed: 1, watchedCards: many })).toThrow(/3 more invalid cards/);
  });
});
