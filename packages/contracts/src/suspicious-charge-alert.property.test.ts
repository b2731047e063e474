import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { currency, digits, maybe, withoutUndefined, type Json } from './arbitraries.fakes.js';
import { suspiciousChargeAlertAvro } from './avro-schemas.js';
import { CHANNELS, CVV_RESULTS, THREE_DS_RESULTS } from './card-authorization.js';
import { exampleAlert } from './examples.js';
import { COUNTRY_PATTERN, EPOCH_MILLIS_MAX, EPOCH_MILLIS_MIN } from './fields.js';
import { FINGERPRINT_PATTERN, INCIDENT_ID_PATTERN, KEY_ID_PATTERN } from './rules.js';
import {
  RECOMMENDED_ACTIONS,
  SEVERITIES,
  checkSuspiciousChargeAlert,
  suspiciousChargeAlertSchema,
  validateSuspiciousChargeAlert,
} from './suspicious-charge-alert.js';

/*
 * The dispatcher checks decoded alerts with plain code (checkSuspiciousChargeAlert) and runs zod
 * only to word a failure. These properties prove, over thousands of generated records, that the
 * two accept and refuse the same records and, when they accept, give the same value: the same
 * fields, values and key order (the dispatcher signs JSON.stringify of it), in new objects.
 */

/** Non-empty text of at most `max` characters, sometimes exactly `max`. */
const text = (max: number) =>
  fc.oneof(
    fc.string({ minLength: 1, maxLength: max, unit: 'grapheme' }).filter((s) => s.length <= max),
    fc.string({ minLength: max, maxLength: max }),
  );

/** How a field's arbitrary is used: as is (valid records) or now and then replaced by anything. */
type Wrap = (arb: fc.Arbitrary<unknown>) => fc.Arbitrary<unknown>;
const asIs: Wrap = (arb) => arb;
const anything = fc.anything({
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withNullPrototype: true,
  withSet: true,
  withSparseArray: true,
  withTypedArray: true,
});
const orAnything: Wrap = (arb) =>
  fc.oneof({ arbitrary: arb, weight: 24 }, { arbitrary: anything, weight: 1 });

const epochMillis = fc.oneof(
  fc.integer({ min: EPOCH_MILLIS_MIN, max: EPOCH_MILLIS_MAX }),
  fc.constantFrom(EPOCH_MILLIS_MIN, EPOCH_MILLIS_MAX),
);
/** Mostly small, now and then at a limit (of the contract, past Avro's int and avsc's long). */
const limitsNowAndThen = (usual: fc.Arbitrary<number>, ...limits: number[]) =>
  fc.oneof({ arbitrary: usual, weight: 8 }, { arbitrary: fc.constantFrom(...limits), weight: 1 });
const wholeNumber = limitsNowAndThen(
  fc.integer({ min: -1000, max: 1000 }),
  -0,
  Number.MIN_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER,
);

/** Alert records: every field valid (`asIs`), or now and then anything (`orAnything`). */
function alertRecord(w: Wrap): fc.Arbitrary<Json> {
  const record = (fields: Record<string, fc.Arbitrary<unknown>>) =>
    fc
      .record(Object.fromEntries(Object.entries(fields).map(([k, arb]) => [k, w(arb)])))
      .map(withoutUndefined);
  const card = record({
    fingerprint: fc.stringMatching(FINGERPRINT_PATTERN),
    keyId: fc.stringMatching(KEY_ID_PATTERN),
    bin: digits(2, 8),
    last4: digits(4, 4),
    scheme: text(32),
    expiryMatchesLeak: maybe(fc.boolean()),
  });
  const reason = record({ code: text(64), description: text(1024), points: wholeNumber });
  const incident = record({
    incidentId: fc.stringMatching(INCIDENT_ID_PATTERN),
    compromiseType: text(64),
    exposureStart: maybe(fc.string()),
    exposureEnd: maybe(fc.string()),
    dataExposed: fc.array(w(text(32)), { maxLength: 5 }),
  });
  const transaction = record({
    amountMinor: limitsNowAndThen(fc.integer({ min: 0, max: 1_000_000 }), 0, Number.MAX_SAFE_INTEGER),
    currency,
    merchantId: text(128),
    merchantName: maybe(fc.string({ maxLength: 512 })),
    mcc: digits(4, 4),
    merchantCountry: fc.stringMatching(COUNTRY_PATTERN),
    channel: fc.constantFrom(...CHANNELS),
    threeDs: maybe(fc.constantFrom(...THREE_DS_RESULTS)),
    cvvResult: maybe(fc.constantFrom(...CVV_RESULTS)),
    responseCode: maybe(text(16)),
  });
  return record({
    alertId: text(128),
    eventId: text(128),
    occurredAt: epochMillis,
    detectedAt: epochMillis,
    partnerId: text(128),
    card,
    severity: fc.constantFrom(...SEVERITIES),
    score: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constantFrom(0, 100)),
    recommendedAction: fc.constantFrom(...RECOMMENDED_ACTIONS),
    reasons: fc.array(reason, { maxLength: 4 }),
    incidents: fc.array(incident, { maxLength: 3 }),
    transaction,
    ruleSetVersion: text(128),
    retrospective: fc.option(fc.boolean(), { nil: undefined }),
  });
}

/** The same record with the keys of every object in reverse order. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reversed(v)]),
  );
}

/** Records that every rule of the contract accepts, as JSON sends them, in any key order. */
const validRecord = fc
  .tuple(alertRecord(asIs), fc.boolean())
  .map(([record, reverse]) => (reverse ? (reversed(record) as Json) : record));

/**
 * Values that break some rule somewhere, or sit just inside or just outside a limit. New ones each
 * call: a mutation may set a field inside one that an earlier mutation put in.
 */
const nearValues = (): unknown[] => [
  undefined,
  null,
  '',
  ' ',
  'x',
  '1',
  '12',
  '123',
  '1234',
  '12345',
  '12345678',
  '123456789',
  '123a',
  '5732',
  'JP',
  'JPN',
  'jp',
  'USD',
  'usd',
  'XXX',
  'ZZZ',
  'LOW',
  'CRITICAL',
  'critical',
  'SEVERE',
  'MONITOR',
  'DECLINE_AND_REISSUE',
  'ECOMMERCE',
  'ecommerce',
  'MATCH',
  'AUTHENTICATED',
  'q5lJcV7mS1sSxX0t1m3Jg6aUQd0lqzv8wOQ0y6H8nZc',
  'q5lJcV7mS1sSxX0t1m3Jg6aUQd0lqzv8wOQ0y6H8nZd',
  'q5lJcV7mS1sSxX0t1m3Jg6aUQd0lqzv8wOQ0y6H8nZ',
  'q5lJcV7mS1sSxX0t1m3Jg6aUQd0lqzv8wOQ0y6H8nZcA',
  'k'.repeat(32),
  'k'.repeat(33),
  'k:1',
  'inc-2025-001',
  '-inc',
  '.inc',
  'inc:1',
  'i'.repeat(64),
  'i'.repeat(65),
  '2024-11-19T07:06:40Z',
  ...[16, 32, 64, 128, 512, 1024].flatMap((n) => ['x'.repeat(n - 1), 'x'.repeat(n), 'x'.repeat(n + 1)]),
  0,
  -0,
  1,
  -1,
  0.5,
  99,
  100,
  101,
  100.5,
  -0.5,
  NaN,
  Infinity,
  -Infinity,
  EPOCH_MILLIS_MIN,
  EPOCH_MILLIS_MIN - 1,
  EPOCH_MILLIS_MIN + 0.5,
  EPOCH_MILLIS_MAX,
  EPOCH_MILLIS_MAX + 1,
  1_746_059_400,
  1_746_059_400_000_000,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  Number.MAX_SAFE_INTEGER + 2,
  Number.MIN_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER - 2,
  1e300,
  '72',
  true,
  false,
  [],
  [''],
  ['PAN'],
  ['x'.repeat(33)],
  [null],
  {},
  { code: 'C', description: 'd', points: 1 },
  { code: 'C', description: 'd', points: 1.5 },
  { incidentId: 'i', compromiseType: 'c', dataExposed: [] },
  { incidentId: 'i', compromiseType: 'c', dataExposed: {} },
  new Date(1_746_059_400_000),
  new String('x'),
  new Number(1),
  Object.create(null) as unknown,
];
const NEAR_VALUE_COUNT = nearValues().length;
const nearValue = fc.nat({ max: NEAR_VALUE_COUNT - 1 }).map((i) => nearValues()[i]);

/** Where a near value goes: every field, every nested field, array items and unknown fields. */
const PATHS = [
  'alertId',
  'eventId',
  'occurredAt',
  'detectedAt',
  'partnerId',
  'card',
  'card.fingerprint',
  'card.keyId',
  'card.bin',
  'card.last4',
  'card.scheme',
  'card.expiryMatchesLeak',
  'card.unexpected',
  'severity',
  'score',
  'recommendedAction',
  'reasons',
  'reasons.0',
  'reasons.1',
  'reasons.0.code',
  'reasons.0.description',
  'reasons.0.points',
  'reasons.0.unexpected',
  'reasons.1.points',
  'incidents',
  'incidents.0',
  'incidents.0.incidentId',
  'incidents.0.compromiseType',
  'incidents.0.exposureStart',
  'incidents.0.exposureEnd',
  'incidents.0.dataExposed',
  'incidents.0.dataExposed.0',
  'incidents.0.dataExposed.3',
  'incidents.0.unexpected',
  'transaction',
  'transaction.amountMinor',
  'transaction.currency',
  'transaction.merchantId',
  'transaction.merchantName',
  'transaction.mcc',
  'transaction.merchantCountry',
  'transaction.channel',
  'transaction.threeDs',
  'transaction.cvvResult',
  'transaction.responseCode',
  'transaction.unexpected',
  'ruleSetVersion',
  'retrospective',
  'unexpected',
];

const isPlain = (value: unknown): value is Json =>
  Array.isArray(value) ||
  (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype);

/**
 * Sets `path` of `record` to `value` in place; undefined deletes the key (in an array: a hole).
 * A path whose parent is missing, or not a plain object or array (an earlier mutation put a Date,
 * a Map or a typed array there), is left alone.
 */
function setPath(record: Json, path: string, value: unknown): void {
  const keys = path.split('.');
  let target: unknown = record;
  for (const key of keys.slice(0, -1)) {
    target = (target as Json)[key];
    if (!isPlain(target)) return;
  }
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete (target as Json)[last];
  else (target as Json)[last] = value;
}

/** A valid record with one to three fields replaced (undefined deletes the field). */
const nearValidRecord = fc
  .tuple(
    validRecord,
    fc.array(fc.tuple(fc.constantFrom(...PATHS), fc.oneof(nearValue, anything)), {
      minLength: 1,
      maxLength: 3,
    }),
  )
  .map(([record, mutations]) => {
    const copy = structuredClone(record);
    for (const [path, value] of mutations) setPath(copy, path, value);
    return copy;
  });

/** The objects and arrays inside `value`, itself included. */
function containers(value: unknown, found = new Set<unknown>()): Set<unknown> {
  if (typeof value !== 'object' || value === null || found.has(value)) return found;
  found.add(value);
  for (const item of Object.values(value)) containers(item, found);
  return found;
}

let accepted = 0;
let refused = 0;

/** Both must agree on `input`; returns whether they accepted it. */
function agreeOn(input: unknown): boolean {
  const plain = checkSuspiciousChargeAlert(input);
  const zod = suspiciousChargeAlertSchema.safeParse(input);
  expect(plain !== undefined, 'the plain check and zod disagree on accepting').toBe(zod.success);
  if (plain !== undefined && zod.success) {
    expect(plain).toStrictEqual(zod.data);
    expect(JSON.stringify(plain), 'the key order differs').toBe(JSON.stringify(zod.data));
    // new objects and arrays, as zod's: nothing of the input is handed on
    const inputs = containers(input);
    for (const made of containers(plain))
      expect(inputs.has(made), 'an object of the input is reused').toBe(false);
  }
  expect(validateSuspiciousChargeAlert(input).ok).toBe(zod.success);
  if (zod.success) accepted++;
  else refused++;
  return zod.success;
}

/** {@link agreeOn} as a property (returning a boolean would make false a failure). */
function agree(input: unknown): void {
  agreeOn(input);
}

/** Runs `body` and gives how many records it had checked, accepted and refused. */
function counting(body: () => void): { accepted: number; refused: number } {
  accepted = 0;
  refused = 0;
  body();
  return { accepted, refused };
}

const avro = suspiciousChargeAlertAvro.type;

// thousands of records each: generous time on a shared, busy machine
describe('checkSuspiciousChargeAlert agrees with the zod schema', { timeout: 120_000 }, () => {
  it('accepts every valid record with the same value, from JSON and from Avro', () => {
    let fromAvro = 0;
    const counts = counting(() =>
      fc.assert(
        fc.property(validRecord, (record) => {
          expect(checkSuspiciousChargeAlert(record)).toBeDefined();
          agree(record);
          // as the decoder hands it over: a record of avsc's classes. Avro's int is 32 bits and
          // avsc's long stops short of 2^53 - 1, so points and amountMinor at the contract's
          // limits are JSON only.
          const parsed = suspiciousChargeAlertSchema.parse(record);
          if (!avro.isValid(parsed)) return;
          agree(avro.fromBuffer(avro.toBuffer(parsed)));
          fromAvro++;
        }),
        { numRuns: 2000 },
      ),
    );
    expect(counts).toEqual({ accepted: 2000 + fromAvro, refused: 0 });
    expect(fromAvro).toBeGreaterThan(1000);
  });

  it('accepts and refuses the same near-valid mutations', () => {
    const counts = counting(() => fc.assert(fc.property(nearValidRecord, agree), { numRuns: 4000 }));
    // the mutations are near misses: most must be refused, some must still pass
    expect(counts.refused).toBeGreaterThan(2000);
    expect(counts.accepted).toBeGreaterThan(200);
  });

  it('agrees on every field set to every near value, in two alerts', () => {
    // the example, and one with every text at its limit and two items in every array
    const atLimits = { ...exampleAlert(), alertId: 'a'.repeat(128), ruleSetVersion: 'r'.repeat(128) };
    atLimits.card = { ...atLimits.card, scheme: 's'.repeat(32), bin: '12' };
    atLimits.reasons = [
      { code: 'c'.repeat(64), description: 'd'.repeat(1024), points: -5 },
      { code: 'C', description: 'D', points: Number.MAX_SAFE_INTEGER },
    ];
    atLimits.incidents = [
      ...atLimits.incidents,
      { ...atLimits.incidents[0]!, incidentId: 'i'.repeat(64), dataExposed: ['TRACK'] },
    ];
    atLimits.transaction = { ...atLimits.transaction, merchantName: 'n'.repeat(512), responseCode: null };
    const counts = counting(() => {
      for (const base of [exampleAlert(), atLimits]) {
        expect(agreeOn(base)).toBe(true);
        for (const path of PATHS) {
          for (let i = 0; i < NEAR_VALUE_COUNT; i++) {
            const copy = structuredClone(base) as unknown as Json;
            setPath(copy, path, nearValues()[i]);
            agree(copy);
          }
        }
      }
    });
    expect(counts.accepted + counts.refused).toBe(2 * (1 + PATHS.length * NEAR_VALUE_COUNT));
    expect(counts.refused).toBeGreaterThan(counts.accepted);
  });

  it('refuses what is not an alert as zod does', () => {
    fc.assert(fc.property(anything, agree), { numRuns: 2000 });
    // alert-shaped records whose fields, nested ones and array items included, are now and
    // then anything at all
    const counts = counting(() => fc.assert(fc.property(alertRecord(orAnything), agree), { numRuns: 3000 }));
    expect(counts.accepted).toBeGreaterThan(200);
    expect(counts.refused).toBeGreaterThan(1500);
  });
});
