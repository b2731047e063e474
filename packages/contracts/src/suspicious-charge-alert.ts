import { z } from 'zod';
import {
  CHANNELS,
  CVV_RESULTS,
  isChannel,
  isCvvResult,
  isThreeDs,
  THREE_DS_RESULTS,
  type Channel,
  type CvvResult,
  type ThreeDsResult,
} from './card-authorization.js';
import * as field from './fields.js';
import { isFingerprint, isIncidentId, isKeyId, isLast4, SHOWN_BIN_PATTERN } from './rules.js';
import { type Equals } from './type-equality.js';
import { validateWith, type ValidationResult } from './validation.js';

/** `Severity` symbols of SuspiciousChargeAlert.avsc, lowest first: the rules compare severities by index. */
export const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** `RecommendedAction` symbols of SuspiciousChargeAlert.avsc, mildest first. */
export const RECOMMENDED_ACTIONS = [
  'MONITOR',
  'STEP_UP_AUTH',
  'CONTACT_CARDHOLDER',
  'DECLINE_AND_REISSUE',
] as const;
export type RecommendedAction = (typeof RECOMMENDED_ACTIONS)[number];

/** The card of an alert: never a PAN. */
export interface AlertCard {
  fingerprint: string;
  keyId: string;
  /** The BIN shown with the last four: cut so that at least 6 digits stay hidden (2-8 digits). */
  bin: string;
  last4: string;
  scheme: string;
  expiryMatchesLeak: boolean | null;
}

/** One rule that fired. */
export interface AlertReason {
  code: string;
  description: string;
  points: number;
}

export interface AlertIncident {
  incidentId: string;
  compromiseType: string;
  exposureStart: string | null;
  exposureEnd: string | null;
  dataExposed: string[];
}

/**
 * The charge. On the wire (Avro) `channel`, `threeDs` and `cvvResult` are plain strings, so the
 * symbol lists can grow without breaking partners; what Leakwatch writes is one of the symbols.
 */
export interface AlertTransaction {
  amountMinor: number;
  currency: string;
  merchantId: string;
  merchantName: string | null;
  mcc: string;
  merchantCountry: string;
  channel: Channel;
  threeDs: ThreeDsResult | null;
  cvvResult: CvvResult | null;
  responseCode: string | null;
}

/** A charge on a watched card that the rules flagged, with every reason. */
export interface SuspiciousChargeAlert {
  /** Deterministic from `eventId`. */
  alertId: string;
  eventId: string;
  /** Epoch milliseconds. */
  occurredAt: number;
  /** Epoch milliseconds. */
  detectedAt: number;
  /** `unrouted` when no partner owns the BIN. */
  partnerId: string;
  card: AlertCard;
  severity: Severity;
  /** 0-100 */
  score: number;
  recommendedAction: RecommendedAction;
  reasons: AlertReason[];
  incidents: AlertIncident[];
  transaction: AlertTransaction;
  ruleSetVersion: string;
  retrospective: boolean;
}

/**
 * The longest text of each field, in characters: the schema and the plain check read these, so a
 * limit is written once.
 */
const MAX = {
  /** alertId, eventId, partnerId, transaction.merchantId, ruleSetVersion */
  id: field.ID_MAX,
  scheme: 32,
  reasonCode: 64,
  description: 1024,
  compromiseType: 64,
  dataExposed: 32,
  responseCode: field.CODE_MAX,
} as const;

const SCORE_MIN = 0;
const SCORE_MAX = 100;
const SCORE_MESSAGE = `must be ${SCORE_MIN}-${SCORE_MAX}`;

export const suspiciousChargeAlertSchema = z.object({
  alertId: field.text(MAX.id),
  eventId: field.text(MAX.id),
  occurredAt: field.epochMillis(),
  detectedAt: field.epochMillis(),
  partnerId: field.text(MAX.id),
  card: z.object({
    fingerprint: field.fingerprint(),
    keyId: field.keyId(),
    bin: field.shownBin(),
    last4: field.last4(),
    scheme: field.text(MAX.scheme),
    expiryMatchesLeak: field.nullable(z.boolean()),
  }),
  severity: z.enum(SEVERITIES),
  score: z.number().int('must be a whole number').min(SCORE_MIN, SCORE_MESSAGE).max(SCORE_MAX, SCORE_MESSAGE),
  recommendedAction: z.enum(RECOMMENDED_ACTIONS),
  reasons: z.array(
    z.object({
      code: field.text(MAX.reasonCode),
      description: field.text(MAX.description),
      points: z.number().int('must be a whole number'),
    }),
  ),
  incidents: z.array(
    z.object({
      incidentId: field.incidentId(),
      compromiseType: field.text(MAX.compromiseType),
      exposureStart: field.nullable(z.string()),
      exposureEnd: field.nullable(z.string()),
      dataExposed: z.array(field.text(MAX.dataExposed)),
    }),
  ),
  transaction: z.object({
    amountMinor: field.amountMinor(),
    currency: field.currency(),
    merchantId: field.text(MAX.id),
    merchantName: field.nullable(field.merchantName()),
    mcc: field.mcc(),
    merchantCountry: field.country(),
    channel: z.enum(CHANNELS),
    threeDs: field.nullable(z.enum(THREE_DS_RESULTS)),
    cvvResult: field.nullable(z.enum(CVV_RESULTS)),
    responseCode: field.nullable(field.text(MAX.responseCode)),
  }),
  ruleSetVersion: field.text(MAX.id),
  retrospective: z.boolean().default(false),
});

const _outputIsAlert: Equals<z.output<typeof suspiciousChargeAlertSchema>, SuspiciousChargeAlert> = true;

const NOT_CHECKED = undefined;
const isId = (v: unknown): v is string => field.isText(v, MAX.id);
const isShownBin = (v: unknown): v is string => field.matches(v, SHOWN_BIN_PATTERN);
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isString = (v: unknown): v is string => typeof v === 'string';
const isResponseCode = (v: unknown): v is string => field.isText(v, MAX.responseCode);
const isSeverity = field.oneOf(SEVERITIES);
const isRecommendedAction = field.oneOf(RECOMMENDED_ACTIONS);
/** zod's `int()`: a whole number within the safe range. */
const isWhole = (v: unknown): v is number => Number.isSafeInteger(v);

/** The plain form of `z.array(item)`: a new array of the checked items, or undefined. */
function checkArray<T>(input: unknown, checkItem: (item: unknown) => T | undefined): T[] | undefined {
  if (!Array.isArray(input)) return NOT_CHECKED;
  const items: T[] = [];
  // by index, as zod reads it: a hole reads as undefined (forEach would skip it)
  for (let i = 0; i < input.length; i++) {
    const item = checkItem(input[i]);
    if (item === undefined) return NOT_CHECKED;
    items.push(item);
  }
  return items;
}

function checkCard(input: unknown): AlertCard | undefined {
  if (!field.isRecord(input)) return NOT_CHECKED;
  const { fingerprint, keyId, bin, last4, scheme } = input;
  if (!isFingerprint(fingerprint) || !isKeyId(keyId) || !isShownBin(bin) || !isLast4(last4))
    return NOT_CHECKED;
  const expiryMatchesLeak = field.orNull(input.expiryMatchesLeak, isBoolean);
  if (!field.isText(scheme, MAX.scheme) || expiryMatchesLeak === undefined) return NOT_CHECKED;
  return { fingerprint, keyId, bin, last4, scheme, expiryMatchesLeak };
}

function checkReason(input: unknown): AlertReason | undefined {
  if (!field.isRecord(input)) return NOT_CHECKED;
  const { code, description, points } = input;
  if (!field.isText(code, MAX.reasonCode) || !field.isText(description, MAX.description)) return NOT_CHECKED;
  if (!isWhole(points)) return NOT_CHECKED;
  return { code, description, points };
}

const checkDataExposed = (v: unknown): string | undefined =>
  field.isText(v, MAX.dataExposed) ? v : NOT_CHECKED;

function checkIncident(input: unknown): AlertIncident | undefined {
  if (!field.isRecord(input)) return NOT_CHECKED;
  const { incidentId, compromiseType } = input;
  if (!isIncidentId(incidentId) || !field.isText(compromiseType, MAX.compromiseType)) return NOT_CHECKED;
  const exposureStart = field.orNull(input.exposureStart, isString);
  const exposureEnd = field.orNull(input.exposureEnd, isString);
  if (exposureStart === undefined || exposureEnd === undefined) return NOT_CHECKED;
  const dataExposed = checkArray(input.dataExposed, checkDataExposed);
  if (dataExposed === undefined) return NOT_CHECKED;
  return { incidentId, compromiseType, exposureStart, exposureEnd, dataExposed };
}

function checkTransaction(input: unknown): AlertTransaction | undefined {
  if (!field.isRecord(input)) return NOT_CHECKED;
  const { amountMinor, currency, merchantId, mcc, merchantCountry, channel } = input;
  if (!field.isAmountMinor(amountMinor) || !field.isCurrency(currency) || !isId(merchantId))
    return NOT_CHECKED;
  if (!field.matches(mcc, field.MCC_PATTERN) || !field.matches(merchantCountry, field.COUNTRY_PATTERN))
    return NOT_CHECKED;
  const merchantName = field.orNull(input.merchantName, field.isMerchantName);
  const threeDs = field.orNull(input.threeDs, isThreeDs);
  const cvvResult = field.orNull(input.cvvResult, isCvvResult);
  const responseCode = field.orNull(input.responseCode, isResponseCode);
  if (
    merchantName === undefined ||
    !isChannel(channel) ||
    threeDs === undefined ||
    cvvResult === undefined ||
    responseCode === undefined
  )
    return NOT_CHECKED;
  return {
    amountMinor,
    currency,
    merchantId,
    merchantName,
    mcc,
    merchantCountry,
    channel,
    threeDs,
    cvvResult,
    responseCode,
  };
}

/**
 * The plain-code check of {@link suspiciousChargeAlertSchema}: the same rules (the same patterns,
 * limits and functions) and the same output as zod's, without zod's machinery: a new object with
 * the schema's fields only, in the schema's key order at every level (the dispatcher signs
 * `JSON.stringify` of it), absent nullable fields as null and an absent `retrospective` as false.
 * Returns undefined when any rule fails (the schema then words why). A property test proves both
 * accept and refuse the same records, with the same value.
 */
export function checkSuspiciousChargeAlert(input: unknown): SuspiciousChargeAlert | undefined {
  if (!field.isRecord(input)) return NOT_CHECKED;
  const { alertId, eventId, occurredAt, detectedAt, partnerId, severity, score, recommendedAction } = input;
  if (!isId(alertId) || !isId(eventId) || !isId(partnerId)) return NOT_CHECKED;
  if (!field.isEpochMillis(occurredAt) || !field.isEpochMillis(detectedAt)) return NOT_CHECKED;
  const card = checkCard(input.card);
  if (card === undefined || !isSeverity(severity) || !isRecommendedAction(recommendedAction))
    return NOT_CHECKED;
  if (!isWhole(score) || score < SCORE_MIN || score > SCORE_MAX) return NOT_CHECKED;
  const reasons = checkArray(input.reasons, checkReason);
  const incidents = checkArray(input.incidents, checkIncident);
  const transaction = checkTransaction(input.transaction);
  if (reasons === undefined || incidents === undefined || transaction === undefined) return NOT_CHECKED;
  const { ruleSetVersion } = input;
  // a default, not a nullable: absent reads as false, null is refused
  const retrospective = input.retrospective === undefined ? false : input.retrospective;
  if (!isId(ruleSetVersion) || !isBoolean(retrospective)) return NOT_CHECKED;
  return {
    alertId,
    eventId,
    occurredAt,
    detectedAt,
    partnerId,
    card,
    severity,
    score,
    recommendedAction,
    reasons,
    incidents,
    transaction,
    ruleSetVersion,
    retrospective,
  };
}

/**
 * Checks an alert against the contract: in plain code ({@link checkSuspiciousChargeAlert}), zod
 * running only to word a failure. The message names fields and rules only.
 */
export function validateSuspiciousChargeAlert(input: unknown): ValidationResult<SuspiciousChargeAlert> {
  const value = checkSuspiciousChargeAlert(input);
  if (value !== undefined) return { ok: true, value };
  return validateWith(suspiciousChargeAlertSchema, input, 'SuspiciousChargeAlert', undefined, {
    knownInvalid: true,
  });
}
