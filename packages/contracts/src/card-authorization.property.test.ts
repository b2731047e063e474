import { withLuhnCheckDigit } from '@leakwatch/card';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { currency, digits, maybe, withoutUndefined, type Json } from './arbitraries.fakes.js';
import {
  CHANNELS,
  CVV_RESULTS,
  THREE_DS_RESULTS,
  cardAuthorizationSchema,
  checkCardAuthorization,
  validateCardAuthorization,
} from './card-authorization.js';
import { cardAuthorizationAvro } from './avro-schemas.js';
import { EPOCH_MILLIS_MAX, EPOCH_MILLIS_MIN } from './fields.js';

/*
 * The monitor checks authorizations with plain code (checkCardAuthorization) and runs zod only to
 * word a failure. These properties prove, over thousands of generated records, that the two
 * accept and refuse the same records and, when they accept, give the same normalised value.
 */

/** A Luhn-valid card number of 12-19 digits, sometimes written with spaces or dashes. */
const panDigits = fc.integer({ min: 11, max: 18 }).chain((n) => digits(n, n).map(withLuhnCheckDigit));
const writtenPan = fc.tuple(panDigits, fc.constantFrom('', ' ', '-'), fc.boolean()).map(([pan, sep, pad]) => {
  const written = sep === '' ? pan : (pan.match(/.{1,4}/g) ?? []).join(sep);
  return pad ? `  ${written} ` : written;
});

const base64url = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');
const fingerprint = fc
  .tuple(fc.array(base64url, { minLength: 42, maxLength: 42 }), fc.constantFrom(...'AEIMQUYcgkosw048'))
  .map(([head, last]) => head.join('') + last);
const keyId = fc.stringMatching(/^[A-Za-z0-9._-]{1,32}$/);
const expiry = fc
  .tuple(fc.integer({ min: 2000, max: 2099 }), fc.integer({ min: 1, max: 12 }))
  .map(([y, m]) => `${y}-${String(m).padStart(2, '0')}`);
const text = (max: number) =>
  fc.string({ minLength: 1, maxLength: max, unit: 'grapheme' }).filter((s) => s.length <= max);

const occurredAt = fc.oneof(
  fc.integer({ min: EPOCH_MILLIS_MIN, max: EPOCH_MILLIS_MAX }),
  fc.integer({ min: EPOCH_MILLIS_MIN, max: EPOCH_MILLIS_MAX }).map((ms) => new Date(ms)),
  fc
    .tuple(
      fc.integer({ min: EPOCH_MILLIS_MIN + 86_400_000, max: EPOCH_MILLIS_MAX - 86_400_000 }),
      fc.constantFrom('Z', '+09:00', '-0530', '+00:00'),
      fc.constantFrom(0, 1, 3, 6),
    )
    .map(([ms, zone, fraction]) => {
      const iso = new Date(ms).toISOString().slice(0, 19);
      return `${iso}${fraction > 0 ? '.' + '123456'.slice(0, fraction) : ''}${zone}`;
    }),
);

const panCard = fc
  .tuple(writtenPan, fc.boolean(), fc.boolean(), maybe(fingerprint), maybe(expiry), keyId)
  .map(([pan, withBin, withLast4, fp, exp, kid]) => {
    const clean = pan.replace(/[ -]/g, '');
    const card: Json = { pan };
    if (withBin) card.bin = clean.slice(0, 6);
    if (withLast4) card.last4 = clean.slice(-4);
    if (fp !== undefined) card.fingerprint = fp;
    if (fp) card.keyId = kid;
    if (exp !== undefined) card.expiry = exp;
    return card;
  });
const fingerprintCard = fc
  .record({ fingerprint, keyId, bin: digits(6, 8), last4: digits(4, 4), expiry: maybe(expiry) })
  .map((card) => ({ pan: null, ...card }));

/** Records that every rule of the contract accepts, in the shapes JSON and Avro send. */
const validRecord: fc.Arbitrary<Json> = fc
  .record({
    eventId: text(128),
    occurredAt,
    mti: maybe(text(16)),
    card: fc.oneof(panCard, fingerprintCard),
    amountMinor: fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.constant(Number.MAX_SAFE_INTEGER)),
    currency,
    merchant: fc
      .record({
        id: text(128),
        name: maybe(fc.string({ maxLength: 512 })),
        mcc: digits(4, 4),
        country: fc.stringMatching(/^[A-Z]{2}$/),
      })
      .map(withoutUndefined),
    channel: fc.constantFrom(...CHANNELS),
    threeDs: maybe(fc.constantFrom(...THREE_DS_RESULTS)),
    cvvResult: maybe(fc.constantFrom(...CVV_RESULTS)),
    responseCode: maybe(text(16)),
    acquirerId: maybe(text(128)),
  })
  .map(withoutUndefined);

/** Values that break some rule somewhere, or sit just inside or outside a limit. */
const nearValue = fc.oneof(
  fc.constantFrom<unknown>(
    undefined,
    null,
    '',
    ' ',
    'x',
    'usd',
    'XXX',
    'ZZZ',
    'US',
    'USA',
    '5999',
    '599',
    '59999',
    '2027-13',
    '2027-00',
    '2027-9',
    '4111111111111111',
    '4111111111111112',
    '4111-1111-1111-1111',
    '4111 1111 1111 111a',
    '41111111',
    '411111',
    '41111',
    '1111',
    '111',
    'q5lJcV7mS1sSxX0t1m3Jg6aUQd0lqzv8wOQ0y6H8nZc',
    'q5lJcV7mS1sSxX0t1m3Jg6aUQd0lqzv8wOQ0y6H8nZd',
    '2024-02-30T00:00:00Z',
    '2024-11-19T07:06:40',
    '2024-11-19T07:06:40Z',
    '1999-12-31T23:59:59Z',
    'ECOMMERCE',
    'ecommerce',
    'MATCH',
    'AUTHENTICATED',
    0,
    -0,
    -1,
    1.5,
    NaN,
    Infinity,
    -Infinity,
    EPOCH_MILLIS_MIN,
    EPOCH_MILLIS_MIN - 1,
    EPOCH_MILLIS_MAX,
    EPOCH_MILLIS_MAX + 1,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 1,
    1_732_000_000,
    true,
    [],
    {},
    new Date(NaN),
    new Date(1_732_000_000_000),
    'x'.repeat(16),
    'x'.repeat(17),
    'x'.repeat(128),
    'x'.repeat(129),
    'x'.repeat(512),
    'x'.repeat(513),
  ),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
);

const PATHS = [
  'eventId',
  'occurredAt',
  'mti',
  'card',
  'card.pan',
  'card.fingerprint',
  'card.keyId',
  'card.bin',
  'card.last4',
  'card.expiry',
  'amountMinor',
  'currency',
  'merchant',
  'merchant.id',
  'merchant.name',
  'merchant.mcc',
  'merchant.country',
  'channel',
  'threeDs',
  'cvvResult',
  'responseCode',
  'acquirerId',
  'unexpected',
];

/** A valid record with one to three fields replaced (undefined deletes the field). */
const nearValidRecord = fc
  .tuple(
    validRecord,
    fc.array(fc.tuple(fc.constantFrom(...PATHS), nearValue), { minLength: 1, maxLength: 3 }),
  )
  .map(([record, mutations]) => {
    const copy: Json = {
      ...record,
      card: { ...(record.card as Json) },
      merchant: { ...(record.merchant as Json) },
    };
    for (const [path, value] of mutations) {
      const [head, tail] = path.split('.') as [string, string | undefined];
      const target: Json = tail === undefined ? copy : (copy[head] as Json);
      const key = tail ?? head;
      if (typeof target !== 'object' || target === null) continue;
      if (value === undefined) delete target[key];
      else target[key] = value;
    }
    return copy;
  });

function agree(input: unknown): void {
  const plain = checkCardAuthorization(input);
  const zod = cardAuthorizationSchema.safeParse(input);
  expect(plain !== undefined, 'the plain check and zod disagree on accepting').toBe(zod.success);
  if (plain !== undefined && zod.success) expect(plain).toStrictEqual(zod.data);
  const result = validateCardAuthorization(input);
  expect(result.ok).toBe(zod.success);
  // reusing the input where it is already normalised changes neither the verdict nor the value
  const reused = checkCardAuthorization(input, true);
  expect(reused !== undefined, 'the reusing check and zod disagree on accepting').toBe(zod.success);
  if (reused !== undefined && zod.success) expect(reused).toMatchObject(zod.data);
}

// thousands of records each: generous time on a shared, busy machine
describe('checkCardAuthorization agrees with the zod schema', { timeout: 120_000 }, () => {
  it('accepts every valid record, with the same normalised value', () => {
    fc.assert(
      fc.property(validRecord, (record) => {
        expect(checkCardAuthorization(record)).toBeDefined();
        agree(record);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts and refuses the same near-valid mutations', () => {
    let refused = 0;
    fc.assert(
      fc.property(nearValidRecord, (record) => {
        agree(record);
        if (checkCardAuthorization(record) === undefined) refused++;
      }),
      { numRuns: 3000 },
    );
    // the mutations are near misses: most must be refused, some must still pass
    expect(refused).toBeGreaterThan(600);
    expect(refused).toBeLessThan(3000);
  });

  it('returns a record the Avro reader built as it is, equal to the normalised value', () => {
    fc.assert(
      fc.property(validRecord, (record) => {
        const normalised = cardAuthorizationSchema.parse(record);
        // avsc writes longs up to 2^53 - 2 only; the contract's 2^53 - 1 cannot reach the reader
        fc.pre(normalised.amountMinor < Number.MAX_SAFE_INTEGER);
        const decoded: unknown = cardAuthorizationAvro.type.fromBuffer(
          cardAuthorizationAvro.type.toBuffer(normalised),
        );
        const reused = checkCardAuthorization(decoded, true);
        expect(reused).toBe(decoded);
        expect(reused).toEqual(normalised);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses what is not a record as zod does', () => {
    fc.assert(fc.property(fc.anything(), agree), { numRuns: 2000 });
  });
});
