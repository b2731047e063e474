import { z } from 'zod';
import { isKnownCurrency } from './currency.js';
import {
  BIN_PATTERN,
  BIN_RULE,
  FINGERPRINT_PATTERN,
  FINGERPRINT_RULE,
  INCIDENT_ID_PATTERN,
  INCIDENT_ID_RULE,
  KEY_ID_PATTERN,
  KEY_ID_RULE,
  LAST4_PATTERN,
  LAST4_RULE,
  SHOWN_BIN_PATTERN,
  SHOWN_BIN_RULE,
} from './rules.js';

/**
 * Field schemas shared by the records. Every rule carries its own message, naming the rule only:
 * messages end up in dead-letter headers and logs, so they never repeat the value.
 *
 * Beside each schema used on a hot path is a plain predicate (`isText`, `readEventTime`,
 * `isEpochMillis`, the patterns) built from the same constants: the monitor and the dispatcher
 * check a valid record with those and run zod only to word the error of a record that fails (see
 * checkCardAuthorization and checkSuspiciousChargeAlert; property tests keep each in agreement
 * with its schema).
 */

/** Earliest and latest instants accepted for event times: 2000-01-01 and 2100-01-01 (UTC). */
export const EPOCH_MILLIS_MIN = Date.UTC(2000, 0, 1);
export const EPOCH_MILLIS_MAX = Date.UTC(2100, 0, 1);
const BOUNDS_MESSAGE =
  'must be epoch milliseconds between 2000-01-01 and 2100-01-01 (seconds or microseconds sent?)';

/** A nullable field whose absence (JSON may leave it out) reads as null. */
export function nullable<S extends z.ZodType<unknown>>(schema: S) {
  return schema.nullable().default(null);
}

/** A record of fields: what zod's object schema takes (any object but an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The plain form of {@link nullable}: absent or null reads as null; otherwise the value if `check`
 * accepts it, else undefined (refused).
 */
export function orNull<T>(value: unknown, check: (v: unknown) => v is T): T | null | undefined {
  if (value === undefined || value === null) return null;
  return check(value) ? value : undefined;
}

/** The plain form of `z.enum(values)`. */
export function oneOf<T>(values: readonly T[]): (value: unknown) => value is T {
  const set: ReadonlySet<unknown> = new Set(values);
  return (value): value is T => set.has(value);
}

/**
 * The longest id, in characters: event, alert, partner, merchant and acquirer ids, rule-set
 * versions. An alert repeats the ids of its authorization, so both records read this one limit.
 */
export const ID_MAX = 128;

/** The longest code an acquirer sends (MTI, response code), in characters. */
export const CODE_MAX = 16;

/** A non-empty string of at most `max` characters. */
export function text(max: number) {
  return z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
}

/** The plain form of {@link text}. */
export function isText(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= max;
}

/** Epoch milliseconds as a number: whole, and inside {@link EPOCH_MILLIS_MIN}..{@link EPOCH_MILLIS_MAX}. */
export function epochMillis() {
  return z
    .number()
    .int('must be whole epoch milliseconds')
    .min(EPOCH_MILLIS_MIN, BOUNDS_MESSAGE)
    .max(EPOCH_MILLIS_MAX, BOUNDS_MESSAGE);
}

/** The plain form of {@link epochMillis} (zod's `int()` is a safe integer). */
export function isEpochMillis(value: unknown): value is number {
  return (
    Number.isSafeInteger(value) &&
    (value as number) >= EPOCH_MILLIS_MIN &&
    (value as number) <= EPOCH_MILLIS_MAX
  );
}

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d{2}):?(\d{2}))$/;

/**
 * Reads an ISO-8601 date-time with a zone (`Z` or an offset) as epoch milliseconds, or NaN.
 * Stricter than `Date.parse`, which reads 2024-02-30 as March 1st and zone-less times as local.
 */
export function parseIsoDateTime(value: string): number {
  const m = ISO_DATE_TIME.exec(value);
  if (!m) return NaN;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return NaN;
  if (hour > 23 || minute > 59 || second > 59) return NaN;
  let offsetMinutes = 0;
  if (m[8] !== undefined) {
    const offsetHours = Number(m[9]);
    const offsetMins = Number(m[10]);
    if (offsetHours > 23 || offsetMins > 59) return NaN;
    offsetMinutes = (m[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}

const EVENT_TIME_UNION_MESSAGE = 'must be epoch milliseconds or an ISO-8601 date-time with a zone';
const ISO_MESSAGE = 'must be an ISO-8601 date-time with a zone, e.g. 2025-05-01T09:30:00+09:00';
const WHOLE_MILLIS_MESSAGE = 'must be whole epoch milliseconds';

/**
 * An event time (a number, an ISO-8601 string or a Date) as epoch milliseconds, or the rule it
 * breaks (a string). The rule of {@link epochMillisOrIso}, in plain code.
 */
export function readEventTime(value: unknown): number | string {
  let millis: number;
  if (typeof value === 'number') millis = value;
  else if (value instanceof Date) millis = value.getTime();
  else if (typeof value === 'string') {
    millis = parseIsoDateTime(value);
    if (Number.isNaN(millis)) return ISO_MESSAGE;
  } else return EVENT_TIME_UNION_MESSAGE;
  if (!Number.isSafeInteger(millis)) return WHOLE_MILLIS_MESSAGE;
  if (millis < EPOCH_MILLIS_MIN || millis > EPOCH_MILLIS_MAX) return BOUNDS_MESSAGE;
  return millis;
}

/**
 * An event time that JSON may send as an ISO-8601 string and Avro decoders may hand over as a
 * Date (logical-type options): all are normalised to epoch milliseconds.
 */
export function epochMillisOrIso() {
  return z
    .union([z.number(), z.string(), z.date()], { error: EVENT_TIME_UNION_MESSAGE })
    .transform((value, ctx) => {
      const millis = readEventTime(value);
      if (typeof millis === 'number') return millis;
      ctx.addIssue({ code: 'custom', message: millis });
      return z.NEVER;
    });
}

/** The plain form of {@link amountMinor}. */
export function isAmountMinor(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** A whole number of minor units, never negative. */
export function amountMinor() {
  return z
    .number()
    .int('must be a whole number of minor units')
    .min(0, 'must not be negative')
    .max(Number.MAX_SAFE_INTEGER, 'is too large');
}

const MERCHANT_NAME_MAX = 512;

/**
 * A merchant's name as the acquirer sent it: checked loosely on purpose (empty allowed), as no
 * rule depends on it.
 */
export function merchantName() {
  return z.string().max(MERCHANT_NAME_MAX, `must be at most ${MERCHANT_NAME_MAX} characters`);
}

/** The plain form of {@link merchantName}. */
export function isMerchantName(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MERCHANT_NAME_MAX;
}

const CURRENCY_PATTERN = /^[A-Z]{3}$/;
export const MCC_PATTERN = /^\d{4}$/;
export const COUNTRY_PATTERN = /^[A-Z]{2}$/;
export const EXPIRY_PATTERN = /^\d{4}-(0[1-9]|1[0-2])$/;

export function currency() {
  return z
    .string()
    .regex(CURRENCY_PATTERN, { message: 'must be three capital letters (ISO 4217 alpha-3)', abort: true })
    .refine(isKnownCurrency, 'is not a known ISO 4217 currency code');
}

/** The plain form of {@link currency}. */
export function isCurrency(value: unknown): value is string {
  return typeof value === 'string' && CURRENCY_PATTERN.test(value) && isKnownCurrency(value);
}

export function mcc() {
  return z.string().regex(MCC_PATTERN, 'must be 4 digits (merchant category code)');
}

export function country() {
  return z.string().regex(COUNTRY_PATTERN, 'must be two capital letters (ISO 3166-1 alpha-2)');
}

/** True when `value` is a string that `pattern` matches: the plain form of a regex field. */
export function matches(value: unknown, pattern: RegExp): value is string {
  return typeof value === 'string' && pattern.test(value);
}

/** A keyed fingerprint: HMAC-SHA256 in base64url without padding. */
export function fingerprint() {
  return z.string().regex(FINGERPRINT_PATTERN, FINGERPRINT_RULE);
}

/** Same rule as LEAKWATCH_FINGERPRINT_KEYS key ids. */
export function keyId() {
  return z.string().regex(KEY_ID_PATTERN, KEY_ID_RULE);
}

export function bin() {
  return z.string().regex(BIN_PATTERN, BIN_RULE);
}

/** The BIN an alert shows (see SHOWN_BIN_PATTERN). */
export function shownBin() {
  return z.string().regex(SHOWN_BIN_PATTERN, SHOWN_BIN_RULE);
}

export function last4() {
  return z.string().regex(LAST4_PATTERN, LAST4_RULE);
}

/** A card expiry month as `YYYY-MM`. */
export function expiry() {
  return z.string().regex(EXPIRY_PATTERN, 'must be a month as YYYY-MM');
}

/** An incident id (see INCIDENT_ID_PATTERN). */
export function incidentId() {
  return z.string().regex(INCIDENT_ID_PATTERN, INCIDENT_ID_RULE);
}
