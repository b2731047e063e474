import type { ErrorCode } from '@leakwatch/errors';
import type { CardAuthorization, EncodeAvro } from './authorization.js';
import type { Random } from './random.js';

/** The kinds of bad input the simulator sends, to prove the monitor dead-letters them and moves on. */
export const POISON_KINDS = [
  'BAD_MAGIC',
  'UNKNOWN_SCHEMA_ID',
  'TRUNCATED_AVRO',
  'INVALID_JSON',
  'MISSING_FIELDS',
  'NEGATIVE_AMOUNT',
  'BAD_CURRENCY',
  'LUHN_FAIL',
] as const;
export type PoisonKind = (typeof POISON_KINDS)[number];

/**
 * The `lw-error-code` each poison kind must be dead-lettered with.
 *
 * - BAD_MAGIC: neither framed Avro nor JSON. The first byte is not the magic byte 0 and, read as
 *   text, the message does not start (after JSON whitespace) with `{`: a decoder that routes on
 *   the first byte (0 → Avro, `{` → JSON, anything else → refuse) reports BAD_FRAMING.
 * - UNKNOWN_SCHEMA_ID: a valid body framed with schema id {@link UNKNOWN_SCHEMA_ID}.
 * - TRUNCATED_AVRO: a valid framed message cut inside its body.
 * - INVALID_JSON: starts with `{` but does not parse.
 * - MISSING_FIELDS, NEGATIVE_AMOUNT, BAD_CURRENCY: decode fine, fail validation.
 * - LUHN_FAIL: decodes and validates, but the PAN fails the Luhn check.
 */
export const POISON_EXPECTED_ERROR = {
  BAD_MAGIC: 'BAD_FRAMING',
  UNKNOWN_SCHEMA_ID: 'UNKNOWN_SCHEMA_ID',
  TRUNCATED_AVRO: 'AVRO_DECODE_FAILED',
  INVALID_JSON: 'JSON_INVALID',
  MISSING_FIELDS: 'VALIDATION_FAILED',
  NEGATIVE_AMOUNT: 'VALIDATION_FAILED',
  BAD_CURRENCY: 'VALIDATION_FAILED',
  LUHN_FAIL: 'INVALID_PAN',
} as const satisfies Record<PoisonKind, ErrorCode>;
export type PoisonErrorCode = (typeof POISON_EXPECTED_ERROR)[PoisonKind];

/** Poison kinds that need an Avro encoder to build. */
export const AVRO_POISON_KINDS: readonly PoisonKind[] = ['UNKNOWN_SCHEMA_ID', 'TRUNCATED_AVRO'];

/** Schema id of UNKNOWN_SCHEMA_ID poison: near the top of the int32 range, where no registry has reached. */
export const UNKNOWN_SCHEMA_ID = 2_147_480_000;

/** First bytes that are neither the Avro magic byte, JSON whitespace, `{`, nor the start of a UTF-8 BOM. */
const BAD_MAGIC_BYTES = [0x01, 0x02, 0x03, 0x05, 0x07, 0x08, 0x0e, 0x1f, 0x7f, 0x80, 0xa0, 0xc3, 0xff];

const REQUIRED_FIELDS = [
  'eventId',
  'occurredAt',
  'card',
  'amountMinor',
  'currency',
  'merchant',
  'channel',
] as const;

/** Not ISO 4217 alpha-3 in any reading: lower case, symbols, words, the numeric code, empty. */
const BAD_CURRENCIES = ['yen', 'US$', 'EURO', '', '¥', '392', 'JP', 'usd'];

export interface PoisonContext {
  random: Random;
  encodeAvro: EncodeAvro | undefined;
  /** Share of validation poison sent as JSON when an Avro encoder is available. */
  jsonShare: number;
}

/** The bytes of one poison message of `kind`, built from a plausible authorization `value`. */
export function poisonBytes(kind: PoisonKind, value: CardAuthorization, context: PoisonContext): Buffer {
  const { random } = context;
  switch (kind) {
    case 'BAD_MAGIC':
      return badMagic(value, context);
    case 'UNKNOWN_SCHEMA_ID': {
      const framed = Buffer.from(framedAvro(value, context));
      framed.writeInt32BE(UNKNOWN_SCHEMA_ID, 1);
      return framed;
    }
    case 'TRUNCATED_AVRO': {
      const framed = framedAvro(value, context);
      // Keep the header and at least one body byte; drop at least one. Avro decoding is a pure
      // function of the bytes read so far, so any strict prefix runs out of input.
      return Buffer.from(framed.subarray(0, random.int(6, framed.length - 1)));
    }
    case 'INVALID_JSON':
      return invalidJson(value, random);
    case 'MISSING_FIELDS':
      return json(withoutRequiredField(value, random));
    case 'NEGATIVE_AMOUNT':
      return encoded({ ...value, amountMinor: -random.int(1, Math.max(1, value.amountMinor)) }, context);
    case 'BAD_CURRENCY':
      return encoded({ ...value, currency: random.pick(BAD_CURRENCIES) }, context);
    case 'LUHN_FAIL':
      return encoded(
        { ...value, card: { ...value.card, pan: breakLuhn(value.card.pan ?? '', random) } },
        context,
      );
  }
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function encoded(value: CardAuthorization, context: PoisonContext): Buffer {
  if (context.encodeAvro === undefined || context.random.chance(context.jsonShare)) return json(value);
  return framedAvro(value, context);
}

function framedAvro(value: CardAuthorization, context: PoisonContext): Buffer {
  const framed = context.encodeAvro?.(value);
  if (framed === undefined || framed.length < 7 || framed[0] !== 0) {
    // Options validation keeps Avro poison kinds off without an encoder; a bad encoder is a caller bug.
    throw new RangeError('encodeAvro must return a Confluent-framed message (magic 0, schema id, body)');
  }
  return framed;
}

function badMagic(value: CardAuthorization, context: PoisonContext): Buffer {
  const { random } = context;
  const variant = random.int(0, 2);
  if (variant === 0) {
    // Another framing (a different magic byte) in front of a real body.
    if (context.encodeAvro === undefined)
      return Buffer.concat([Buffer.of(random.pick(BAD_MAGIC_BYTES)), json(value)]);
    const bytes = Buffer.from(framedAvro(value, context));
    bytes[0] = random.pick(BAD_MAGIC_BYTES);
    return bytes;
  }
  if (variant === 1) {
    // A legacy upstream speaking XML.
    return Buffer.from(
      `<authorization id="${value.eventId}" amount="${value.amountMinor}" currency="${value.currency}"/>`,
      'utf8',
    );
  }
  const noise = Buffer.alloc(random.int(8, 64));
  for (let i = 0; i < noise.length; i++) noise[i] = random.int(0, 255);
  noise[0] = random.pick(BAD_MAGIC_BYTES);
  return noise;
}

function invalidJson(value: CardAuthorization, random: Random): Buffer {
  const text = JSON.stringify(value);
  switch (random.int(0, 3)) {
    case 0: // cut short: the outer object never closes
      return Buffer.from(text.slice(0, random.int(1, text.length - 1)), 'utf8');
    case 1: // trailing comma
      return Buffer.from(`${text.slice(0, -1)},}`, 'utf8');
    case 2: // single quotes
      return Buffer.from(text.replaceAll('"', "'"), 'utf8');
    default: // a JavaScript literal JSON does not have
      return Buffer.from(text.replace(/"amountMinor":-?\d+/, '"amountMinor":NaN'), 'utf8');
  }
}

function withoutRequiredField(value: CardAuthorization, random: Random): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...value };
  switch (random.int(0, 2)) {
    case 0:
      delete copy[random.pick(REQUIRED_FIELDS)];
      break;
    case 1: // a card with neither a PAN nor a fingerprint
      copy['card'] = { expiry: value.card.expiry };
      break;
    default: {
      const { mcc: _mcc, ...merchant } = value.merchant;
      copy['merchant'] = merchant;
    }
  }
  return copy;
}

/** The PAN with its last digit changed: a single changed digit always fails Luhn. */
function breakLuhn(pan: string, random: Random): string {
  const last = pan.charCodeAt(pan.length - 1) - 48;
  return pan.slice(0, -1) + String((last + random.int(1, 9)) % 10);
}
