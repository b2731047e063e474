import { z } from 'zod';
import * as field from './fields.js';
import { normalizePan, PAN_REJECT_REASONS } from '@leakwatch/card';
import { BIN_PATTERN, FINGERPRINT_PATTERN, KEY_ID_PATTERN, LAST4_PATTERN } from './rules.js';
import { type Equals } from './type-equality.js';
import {
  validateWith,
  type ValidationCode,
  type ValidationProblem,
  type ValidationResult,
} from './validation.js';

/** `Channel` symbols of CardAuthorization.avsc. */
export const CHANNELS = [
  'ECOMMERCE',
  'CARD_PRESENT',
  'CONTACTLESS',
  'MOTO',
  'RECURRING',
  'ATM',
  'UNKNOWN',
] as const;
export type Channel = (typeof CHANNELS)[number];

/** `ThreeDsResult` symbols of CardAuthorization.avsc. */
export const THREE_DS_RESULTS = ['AUTHENTICATED', 'ATTEMPTED', 'FAILED', 'NOT_PERFORMED'] as const;
export type ThreeDsResult = (typeof THREE_DS_RESULTS)[number];

/** `CvvResult` symbols of CardAuthorization.avsc. */
export const CVV_RESULTS = ['MATCH', 'NO_MATCH', 'NOT_PROVIDED', 'NOT_CHECKED'] as const;
export type CvvResult = (typeof CVV_RESULTS)[number];

/**
 * The card record of CardAuthorization.avsc as it travels (Avro with unwrapped unions, or JSON):
 * every field nullable. Which combinations are valid (a PAN, or a fingerprint with keyId, bin and
 * last4) is for {@link validateCardAuthorization} to say; after it, the card is an
 * {@link AuthorizationCard}, which is assignable to this.
 */
export interface AuthorizationCardRecord {
  /** 12-19 digits (spaces and dashes allowed on input), or null when a fingerprint is sent instead. */
  pan: string | null;
  fingerprint: string | null;
  keyId: string | null;
  bin: string | null;
  last4: string | null;
  /** `YYYY-MM` */
  expiry: string | null;
}

/** The card of an authorization that carries the card number (digits only, Luhn-valid). */
export interface PanCard {
  pan: string;
  fingerprint: string | null;
  keyId: string | null;
  bin: string | null;
  last4: string | null;
  /** `YYYY-MM` */
  expiry: string | null;
}

/** The card of an authorization sent by an upstream that holds the fingerprint key. */
export interface FingerprintCard {
  pan: null;
  fingerprint: string;
  keyId: string;
  bin: string;
  last4: string;
  /** `YYYY-MM` */
  expiry: string | null;
}

export type AuthorizationCard = PanCard | FingerprintCard;

export interface Merchant {
  id: string;
  name: string | null;
  /** 4 digits */
  mcc: string;
  /** ISO 3166-1 alpha-2 */
  country: string;
}

/**
 * A card authorization after validation: every rule of the contract holds, absent nullable
 * fields are null, `occurredAt` is epoch milliseconds, a PAN is digits only.
 */
export interface CardAuthorization {
  eventId: string;
  /** Epoch milliseconds. */
  occurredAt: number;
  mti: string | null;
  card: AuthorizationCard;
  /** In the currency's minor unit; never negative. */
  amountMinor: number;
  /** ISO 4217 alpha-3, a code this runtime knows. */
  currency: string;
  merchant: Merchant;
  channel: Channel;
  threeDs: ThreeDsResult | null;
  cvvResult: CvvResult | null;
  responseCode: string | null;
  acquirerId: string | null;
}

const pan = z.string().transform((value, ctx) => {
  const result = normalizePan(value);
  if (result.ok) return result.pan;
  ctx.addIssue({ code: 'custom', message: PAN_REJECT_REASONS[result.reason] });
  return z.NEVER;
});

const FINGERPRINT_ONLY_MESSAGE = 'needs either pan, or fingerprint with keyId, bin and last4';
const WITH_FINGERPRINT_MESSAGE = 'is required with a fingerprint';
const MISMATCH_MESSAGE = 'does not match the card number';

/**
 * The rule across the card's fields: a PAN (with bin and last4, if sent, matching it), or a
 * fingerprint with keyId, bin and last4. Calls `problem` for each breach (field, rule) and
 * returns whether there was none. Shared by the schema and the plain check.
 */
function checkCardCombination(
  c: AuthorizationCardRecord,
  problem?: (path: keyof AuthorizationCardRecord | undefined, message: string) => void,
): boolean {
  let ok = true;
  const fail = (path: keyof AuthorizationCardRecord | undefined, message: string) => {
    ok = false;
    problem?.(path, message);
  };
  if (c.pan === null) {
    if (c.fingerprint === null) {
      fail(undefined, FINGERPRINT_ONLY_MESSAGE);
      return ok;
    }
    for (const name of ['keyId', 'bin', 'last4'] as const) {
      if (c[name] === null) fail(name, WITH_FINGERPRINT_MESSAGE);
    }
    return ok;
  }
  if (c.fingerprint !== null && c.keyId === null) fail('keyId', WITH_FINGERPRINT_MESSAGE);
  if (c.bin !== null && !c.pan.startsWith(c.bin)) fail('bin', MISMATCH_MESSAGE);
  if (c.last4 !== null && !c.pan.endsWith(c.last4)) fail('last4', MISMATCH_MESSAGE);
  return ok;
}

const card = z
  .object({
    pan: field.nullable(pan),
    fingerprint: field.nullable(field.fingerprint()),
    keyId: field.nullable(field.keyId()),
    bin: field.nullable(field.bin()),
    last4: field.nullable(field.last4()),
    expiry: field.nullable(field.expiry()),
  })
  .superRefine((c, ctx) => {
    checkCardCombination(c, (path, message) =>
      ctx.addIssue(
        path === undefined ? { code: 'custom', message } : { code: 'custom', path: [path], message },
      ),
    );
  })
  // the refinement above is what makes the union true
  .transform((c) => c as AuthorizationCard);

/**
 * CardAuthorization as read from Avro or JSON. JSON may send `occurredAt` as an ISO-8601 string
 * and may leave nullable fields out. Fields no rule depends on (mti, responseCode, acquirerId,
 * merchant name) are checked loosely on purpose: refusing an authorization on a leaked card over
 * a cosmetic field would cost an alert.
 */
export const cardAuthorizationSchema = z.object({
  eventId: field.text(field.ID_MAX),
  occurredAt: field.epochMillisOrIso(),
  mti: field.nullable(field.text(field.CODE_MAX)),
  card,
  amountMinor: field.amountMinor(),
  currency: field.currency(),
  merchant: z.object({
    id: field.text(field.ID_MAX),
    name: field.nullable(field.merchantName()),
    mcc: field.mcc(),
    country: field.country(),
  }),
  channel: z.enum(CHANNELS),
  threeDs: field.nullable(z.enum(THREE_DS_RESULTS)),
  cvvResult: field.nullable(z.enum(CVV_RESULTS)),
  responseCode: field.nullable(field.text(field.CODE_MAX)),
  acquirerId: field.nullable(field.text(field.ID_MAX)),
});

/** What an upstream may send (before normalisation). */
export type CardAuthorizationInput = z.input<typeof cardAuthorizationSchema>;

const _outputIsCardAuthorization: Equals<z.output<typeof cardAuthorizationSchema>, CardAuthorization> = true;

/**
 * INVALID_PAN when the card number alone is at fault, INVALID_EXPIRY when the expiry alone is,
 * VALIDATION_FAILED otherwise (a mix included).
 */
function classify(problems: readonly ValidationProblem[]): ValidationCode {
  if (problems.every((p) => p.path === 'card.pan')) return 'INVALID_PAN';
  if (problems.every((p) => p.path === 'card.expiry')) return 'INVALID_EXPIRY';
  return 'VALIDATION_FAILED';
}

const NOT_CHECKED = undefined;
const isEventId = (v: unknown): v is string => field.isText(v, field.ID_MAX);
const isShortText = (v: unknown): v is string => field.isText(v, field.CODE_MAX);
const isLongText = (v: unknown): v is string => field.isText(v, field.ID_MAX);
const isFingerprintField = (v: unknown): v is string => field.matches(v, FINGERPRINT_PATTERN);
const isKeyIdField = (v: unknown): v is string => field.matches(v, KEY_ID_PATTERN);
const isBinField = (v: unknown): v is string => field.matches(v, BIN_PATTERN);
const isLast4Field = (v: unknown): v is string => field.matches(v, LAST4_PATTERN);
const isExpiryField = (v: unknown): v is string => field.matches(v, field.EXPIRY_PATTERN);
/** The plain forms of the enum fields, for the plain checks of this record and of the alert. */
export const isChannel = field.oneOf(CHANNELS);
export const isThreeDs = field.oneOf(THREE_DS_RESULTS);
export const isCvvResult = field.oneOf(CVV_RESULTS);

function checkCard(input: unknown, reuse: boolean): AuthorizationCard | undefined {
  if (!field.isRecord(input)) return NOT_CHECKED;
  let pan: string | null = null;
  if (input.pan !== undefined && input.pan !== null) {
    if (typeof input.pan !== 'string') return NOT_CHECKED;
    const normalized = normalizePan(input.pan);
    if (!normalized.ok) return NOT_CHECKED;
    pan = normalized.pan;
  }
  const fingerprint = field.orNull(input.fingerprint, isFingerprintField);
  const keyId = field.orNull(input.keyId, isKeyIdField);
  const bin = field.orNull(input.bin, isBinField);
  const last4 = field.orNull(input.last4, isLast4Field);
  const expiry = field.orNull(input.expiry, isExpiryField);
  if (
    fingerprint === undefined ||
    keyId === undefined ||
    bin === undefined ||
    last4 === undefined ||
    expiry === undefined
  )
    return NOT_CHECKED;
  const card =
    reuse &&
    pan === input.pan &&
    fingerprint === input.fingerprint &&
    keyId === input.keyId &&
    bin === input.bin &&
    last4 === input.last4 &&
    expiry === input.expiry
      ? (input as unknown as AuthorizationCardRecord)
      : { pan, fingerprint, keyId, bin, last4, expiry };
  // the combination rule is what makes the union true
  return checkCardCombination(card) ? (card as AuthorizationCard) : NOT_CHECKED;
}

function checkMerchant(input: unknown, reuse: boolean): Merchant | undefined {
  if (!field.isRecord(input)) return NOT_CHECKED;
  const { id, mcc, country } = input;
  const name = field.orNull(input.name, field.isMerchantName);
  if (!isLongText(id) || name === undefined || !field.matches(mcc, field.MCC_PATTERN)) return NOT_CHECKED;
  if (!field.matches(country, field.COUNTRY_PATTERN)) return NOT_CHECKED;
  return reuse && name === input.name ? (input as unknown as Merchant) : { id, name, mcc, country };
}

/**
 * The plain-code check of {@link cardAuthorizationSchema}: the same rules (the same patterns,
 * limits and functions), the same normalised output, without zod's machinery. Returns the
 * authorization, or undefined when any rule fails (the schema then words why). A property test
 * proves both accept and refuse the same records.
 *
 * `reuse` is for a record the caller owns and that has exactly the contract's fields (one the
 * Avro reader just decoded): what is already in normalised form is returned as it is instead of
 * copied, which spares the monitor three objects per authorization. JSON keeps the default: its
 * objects may hold fields the contract does not have, which the copy leaves behind.
 */
export function checkCardAuthorization(input: unknown, reuse = false): CardAuthorization | undefined {
  if (!field.isRecord(input)) return NOT_CHECKED;
  const { eventId, amountMinor, currency, channel } = input;
  if (!isEventId(eventId)) return NOT_CHECKED;
  const occurredAt = field.readEventTime(input.occurredAt);
  if (typeof occurredAt !== 'number') return NOT_CHECKED;
  const mti = field.orNull(input.mti, isShortText);
  if (mti === undefined) return NOT_CHECKED;
  const card = checkCard(input.card, reuse);
  if (card === undefined) return NOT_CHECKED;
  if (!field.isAmountMinor(amountMinor) || !field.isCurrency(currency)) return NOT_CHECKED;
  const merchant = checkMerchant(input.merchant, reuse);
  if (merchant === undefined || !isChannel(channel)) return NOT_CHECKED;
  const threeDs = field.orNull(input.threeDs, isThreeDs);
  const cvvResult = field.orNull(input.cvvResult, isCvvResult);
  const responseCode = field.orNull(input.responseCode, isShortText);
  const acquirerId = field.orNull(input.acquirerId, isLongText);
  if (
    threeDs === undefined ||
    cvvResult === undefined ||
    responseCode === undefined ||
    acquirerId === undefined
  )
    return NOT_CHECKED;
  if (
    reuse &&
    occurredAt === input.occurredAt &&
    mti === input.mti &&
    card === input.card &&
    merchant === input.merchant &&
    threeDs === input.threeDs &&
    cvvResult === input.cvvResult &&
    responseCode === input.responseCode &&
    acquirerId === input.acquirerId
  )
    return input as unknown as CardAuthorization;
  return {
    eventId,
    occurredAt,
    mti,
    card,
    amountMinor,
    currency,
    merchant,
    channel,
    threeDs,
    cvvResult,
    responseCode,
    acquirerId,
  };
}

/**
 * Validates and normalises a decoded authorization (from Avro or JSON). A valid record is
 * checked in plain code ({@link checkCardAuthorization}); zod runs only to word a failure. The
 * failure message names each field and rule, never a value: it is safe for logs and dead-letter
 * headers.
 */
export function validateCardAuthorization(input: unknown): ValidationResult<CardAuthorization> {
  const value = checkCardAuthorization(input);
  if (value !== undefined) return { ok: true, value };
  return validateWith(cardAuthorizationSchema, input, 'CardAuthorization', classify, { knownInvalid: true });
}
