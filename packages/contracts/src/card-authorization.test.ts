import { describe, expect, it } from 'vitest';
import { validateCardAuthorization, type CardAuthorization } from './card-authorization.js';
import { exampleAuthorization } from './examples.js';
import { type ValidationResult } from './validation.js';

const PAN = '4111111111111111';
const FINGERPRINT = 'q5lJcV7mS1sSxX0t1m3Jg6aUQd0lqzv8wOQ0y6H8nZc';

type Json = Record<string, unknown>;

/** The example with `patch` applied at a dotted path (`undefined` deletes the field). */
function withField(path: string, value: unknown): Json {
  const record = exampleAuthorization() as unknown as Json;
  const parts = path.split('.');
  let target = record;
  for (const part of parts.slice(0, -1)) target = target[part] as Json;
  const last = parts.at(-1) as string;
  if (value === undefined) delete target[last];
  else target[last] = value;
  return record;
}

function failure(result: ValidationResult<CardAuthorization>) {
  if (result.ok) throw new Error('expected a validation failure');
  return result;
}

describe('validateCardAuthorization: valid input', () => {
  it('normalises JSON: ISO occurredAt to epoch millis, PAN to digits, absent nullable fields to null', () => {
    const result = validateCardAuthorization(exampleAuthorization());
    expect(result).toEqual({
      ok: true,
      value: {
        eventId: 'evt-0001',
        occurredAt: Date.UTC(2025, 4, 1, 0, 30),
        mti: '0100',
        card: { pan: PAN, fingerprint: null, keyId: null, bin: null, last4: null, expiry: '2027-09' },
        amountMinor: 12_800,
        currency: 'JPY',
        merchant: { id: 'm-0001', name: 'Example Shop', mcc: '5732', country: 'JP' },
        channel: 'ECOMMERCE',
        threeDs: 'NOT_PERFORMED',
        cvvResult: 'MATCH',
        responseCode: '00',
        acquirerId: null,
      },
    });
  });

  it('accepts the bare minimum: every nullable field absent', () => {
    const minimal = {
      eventId: 'e',
      occurredAt: 1_732_000_000_000,
      card: { pan: PAN },
      amountMinor: 0,
      currency: 'USD',
      merchant: { id: 'm', mcc: '5999', country: 'US' },
      channel: 'UNKNOWN',
    };
    const result = validateCardAuthorization(minimal);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.value.threeDs).toBeNull();
      expect(result.value.merchant.name).toBeNull();
      expect(result.value.card.expiry).toBeNull();
    }
  });

  it('accepts explicit nulls, as Avro decodes them', () => {
    const record = withField('card', {
      pan: null,
      fingerprint: FINGERPRINT,
      keyId: 'k1',
      bin: '41111111',
      last4: '1111',
      expiry: null,
    });
    Object.assign(record, {
      mti: null,
      threeDs: null,
      cvvResult: null,
      responseCode: null,
      acquirerId: null,
    });
    const result = validateCardAuthorization(record);
    expect(result.ok).toBe(true);
    if (result.ok && result.value.card.pan === null) {
      // the union narrows: a fingerprint card always has keyId, bin and last4
      const { fingerprint, keyId, bin, last4 } = result.value.card;
      expect([fingerprint, keyId, bin, last4]).toEqual([FINGERPRINT, 'k1', '41111111', '1111']);
    }
  });

  it('accepts a PAN with bin and last4 that match it, and a Date occurredAt', () => {
    const record = withField('card', { pan: PAN, bin: '411111', last4: '1111' });
    record.occurredAt = new Date(1_732_000_000_000);
    const result = validateCardAuthorization(record);
    expect(result.ok && result.value.occurredAt).toBe(1_732_000_000_000);
  });
});

describe('validateCardAuthorization: poison', () => {
  const cases: Array<[string, Json, string, string]> = [
    ['missing eventId', withField('eventId', undefined), 'VALIDATION_FAILED', 'eventId: is required'],
    ['empty eventId', withField('eventId', ''), 'VALIDATION_FAILED', 'eventId: must not be empty'],
    [
      'long eventId',
      withField('eventId', 'e'.repeat(129)),
      'VALIDATION_FAILED',
      'eventId: must be at most 128',
    ],
    [
      'missing occurredAt',
      withField('occurredAt', undefined),
      'VALIDATION_FAILED',
      'occurredAt: must be epoch',
    ],
    [
      'occurredAt in seconds',
      withField('occurredAt', 1_732_000_000),
      'VALIDATION_FAILED',
      'occurredAt: must be epoch milliseconds between',
    ],
    [
      'occurredAt in microseconds',
      withField('occurredAt', 1_732_000_000_000_000),
      'VALIDATION_FAILED',
      'occurredAt: must be epoch milliseconds between',
    ],
    [
      'fractional occurredAt',
      withField('occurredAt', 1_732_000_000_000.5),
      'VALIDATION_FAILED',
      'occurredAt: must be whole',
    ],
    [
      'zone-less ISO occurredAt',
      withField('occurredAt', '2025-05-01T09:30:00'),
      'VALIDATION_FAILED',
      'occurredAt: must be an ISO-8601 date-time with a zone',
    ],
    [
      'impossible ISO date',
      withField('occurredAt', '2025-02-30T09:30:00Z'),
      'VALIDATION_FAILED',
      'occurredAt: must be an ISO-8601',
    ],
    ['missing card', withField('card', undefined), 'VALIDATION_FAILED', 'card: is required'],
    [
      'card without pan or fingerprint',
      withField('card', { expiry: '2027-09' }),
      'VALIDATION_FAILED',
      'card: needs either pan, or fingerprint',
    ],
    [
      'fingerprint without keyId, bin, last4',
      withField('card', { fingerprint: FINGERPRINT }),
      'VALIDATION_FAILED',
      'card.keyId: is required with a fingerprint',
    ],
    [
      'short fingerprint',
      withField('card', { fingerprint: 'abc', keyId: 'k1', bin: '411111', last4: '1111' }),
      'VALIDATION_FAILED',
      'card.fingerprint: must be 43 characters of base64url',
    ],
    [
      // 43 base64url characters, but "d" leaves non-zero bits past the 32nd byte: the store
      // could not keep it as 32 bytes, so the contract refuses it too (one rule, see rules.ts)
      'fingerprint that does not decode to 32 bytes',
      withField('card', {
        fingerprint: `${FINGERPRINT.slice(0, 42)}d`,
        keyId: 'k1',
        bin: '411111',
        last4: '1111',
      }),
      'VALIDATION_FAILED',
      'card.fingerprint: must be 43 characters of base64url',
    ],
    [
      'bad bin',
      withField('card', { fingerprint: FINGERPRINT, keyId: 'k1', bin: '4111', last4: '1111' }),
      'VALIDATION_FAILED',
      'card.bin: must be 6 to 8 digits',
    ],
    [
      'bad last4',
      withField('card', { fingerprint: FINGERPRINT, keyId: 'k1', bin: '411111', last4: '11a1' }),
      'VALIDATION_FAILED',
      'card.last4: must be 4 digits',
    ],
    [
      'bin that is not the PAN prefix',
      withField('card', { pan: PAN, bin: '555555' }),
      'VALIDATION_FAILED',
      'card.bin: does not match the card number',
    ],
    [
      'PAN failing Luhn',
      withField('card.pan', '4111111111111112'),
      'INVALID_PAN',
      'card.pan: card number fails the Luhn check',
    ],
    [
      'PAN too short',
      withField('card.pan', '41111111111'),
      'INVALID_PAN',
      'card.pan: card number must have 12 to 19 digits',
    ],
    [
      'PAN too long',
      withField('card.pan', '41111111111111111111'),
      'INVALID_PAN',
      'card.pan: card number must have 12 to 19 digits',
    ],
    [
      'letters in PAN',
      withField('card.pan', '4111-1111-1111-111O'),
      'INVALID_PAN',
      'card.pan: card number may contain only digits',
    ],
    ['PAN as a number', withField('card.pan', 411_111_111_111), 'INVALID_PAN', 'card.pan: must be a string'],
    [
      'expiry as MM/YY',
      withField('card.expiry', '09/27'),
      'INVALID_EXPIRY',
      'card.expiry: must be a month as YYYY-MM',
    ],
    [
      'expiry month 13',
      withField('card.expiry', '2027-13'),
      'INVALID_EXPIRY',
      'card.expiry: must be a month as YYYY-MM',
    ],
    [
      'negative amount',
      withField('amountMinor', -1),
      'VALIDATION_FAILED',
      'amountMinor: must not be negative',
    ],
    [
      'fractional amount',
      withField('amountMinor', 12.5),
      'VALIDATION_FAILED',
      'amountMinor: must be a whole number of minor units',
    ],
    [
      'amount as a string',
      withField('amountMinor', '12800'),
      'VALIDATION_FAILED',
      'amountMinor: must be a number',
    ],
    [
      'lower-case currency',
      withField('currency', 'jpy'),
      'VALIDATION_FAILED',
      'currency: must be three capital letters',
    ],
    [
      'unknown currency',
      withField('currency', 'XYZ'),
      'VALIDATION_FAILED',
      'currency: is not a known ISO 4217 currency code',
    ],
    ['3-digit mcc', withField('merchant.mcc', '573'), 'VALIDATION_FAILED', 'merchant.mcc: must be 4 digits'],
    [
      '3-letter country',
      withField('merchant.country', 'JPN'),
      'VALIDATION_FAILED',
      'merchant.country: must be two capital letters',
    ],
    [
      'missing merchant id',
      withField('merchant.id', undefined),
      'VALIDATION_FAILED',
      'merchant.id: is required',
    ],
    ['missing channel', withField('channel', undefined), 'VALIDATION_FAILED', 'channel: is required'],
    [
      'unknown channel',
      withField('channel', 'WALLET'),
      'VALIDATION_FAILED',
      'channel: must be one of ECOMMERCE, CARD_PRESENT',
    ],
    ['null channel', withField('channel', null), 'VALIDATION_FAILED', 'channel: must not be null'],
    [
      'unknown 3DS result',
      withField('threeDs', 'SKIPPED'),
      'VALIDATION_FAILED',
      'threeDs: must be one of AUTHENTICATED',
    ],
    [
      'unknown CVV result',
      withField('cvvResult', 'OK'),
      'VALIDATION_FAILED',
      'cvvResult: must be one of MATCH',
    ],
  ];

  it.each(cases)('%s', (_name, input, code, message) => {
    const result = failure(validateCardAuthorization(input));
    expect(result.code).toBe(code);
    expect(result.message).toContain(message);
  });

  it('refuses a record that is not an object', () => {
    for (const input of [null, undefined, 'evt', 42, []]) {
      expect(failure(validateCardAuthorization(input)).message).toMatch(
        /^invalid CardAuthorization: \(record\): /,
      );
    }
  });

  it('lists every problem, and calls a mix of PAN and other problems VALIDATION_FAILED', () => {
    const record = withField('card.pan', '4111111111111112');
    record.currency = 'XYZ';
    record.amountMinor = -5;
    const result = failure(validateCardAuthorization(record));
    expect(result.code).toBe('VALIDATION_FAILED');
    expect(result.problems.map((p) => p.path)).toEqual(['card.pan', 'amountMinor', 'currency']);
  });
});

describe('validateCardAuthorization never echoes a card number', () => {
  const spellings = [PAN, '4111 1111 1111 1111', '4111-1111-1111-1112', `${PAN}9999`, `${PAN}x`];
  const stringFields = [
    'eventId',
    'mti',
    'currency',
    'channel',
    'threeDs',
    'cvvResult',
    'responseCode',
    'acquirerId',
    'occurredAt',
    'card.fingerprint',
    'card.keyId',
    'card.bin',
    'card.last4',
    'card.expiry',
    'card.pan',
    'merchant.id',
    'merchant.mcc',
    'merchant.country',
    'card',
    'merchant',
  ];

  function assertNoEcho(input: unknown, label: string) {
    const result = validateCardAuthorization(input);
    if (result.ok) return; // some spellings are valid in some fields (a PAN is a fine eventId)
    const said = `${result.message} ${JSON.stringify(result.problems)}`;
    expect(said, label).not.toMatch(/\d{7,}/);
    expect(said, label).not.toContain('4111 1111');
    expect(said, label).not.toContain('4111-1111');
  }

  it.each(stringFields)('in %s, as text or as a number', (path) => {
    for (const spelling of spellings) assertNoEcho(withField(path, spelling), `${path} = ${spelling}`);
    assertNoEcho(withField(path, Number(PAN)), `${path} as a number`);
    assertNoEcho(withField(path, [PAN]), `${path} as an array`);
    assertNoEcho(withField(path, { pan: PAN }), `${path} as an object`);
  });

  it('as the whole record, as an unknown field and as a field name', () => {
    assertNoEcho(PAN, 'record');
    assertNoEcho({ [PAN]: PAN }, 'key');
    assertNoEcho({ ...withField('currency', 'XYZ'), extra: PAN, [PAN]: 1 }, 'extra field');
    assertNoEcho({ ...withField('card', { [PAN]: PAN }) }, 'card key');
  });

  it('with a very long value', () => {
    assertNoEcho(withField('eventId', PAN.repeat(20)), 'long eventId');
    assertNoEcho(withField('merchant.name', PAN.repeat(40)), 'long merchant name');
  });
});
