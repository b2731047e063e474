import { z } from 'zod';
import {
  CHANNELS,
  CVV_RESULTS,
  THREE_DS_RESULTS,
  type Channel,
  type CvvResult,
  type ThreeDsResult,
} from './card-authorization.js';
import * as field from './fields.js';
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

export const suspiciousChargeAlertSchema = z.object({
  alertId: field.text(128),
  eventId: field.text(128),
  occurredAt: field.epochMillis(),
  detectedAt: field.epochMillis(),
  partnerId: field.text(128),
  card: z.object({
    fingerprint: field.fingerprint(),
    keyId: field.keyId(),
    bin: field.shownBin(),
    last4: field.last4(),
    scheme: field.text(32),
    expiryMatchesLeak: field.nullable(z.boolean()),
  }),
  severity: z.enum(SEVERITIES),
  score: z.number().int('must be a whole number').min(0, 'must be 0-100').max(100, 'must be 0-100'),
  recommendedAction: z.enum(RECOMMENDED_ACTIONS),
  reasons: z.array(
    z.object({
      code: field.text(64),
      description: field.text(1024),
      points: z.number().int('must be a whole number'),
    }),
  ),
  incidents: z.array(
    z.object({
      incidentId: field.incidentId(),
      compromiseType: field.text(64),
      exposureStart: field.nullable(z.string()),
      exposureEnd: field.nullable(z.string()),
      dataExposed: z.array(field.text(32)),
    }),
  ),
  transaction: z.object({
    amountMinor: field.amountMinor(),
    currency: field.currency(),
    merchantId: field.text(128),
    merchantName: field.nullable(field.merchantName()),
    mcc: field.mcc(),
    merchantCountry: field.country(),
    channel: z.enum(CHANNELS),
    threeDs: field.nullable(z.enum(THREE_DS_RESULTS)),
    cvvResult: field.nullable(z.enum(CVV_RESULTS)),
    responseCode: field.nullable(field.text(16)),
  }),
  ruleSetVersion: field.text(128),
  retrospective: z.boolean().default(false),
});

const _outputIsAlert: Equals<z.output<typeof suspiciousChargeAlertSchema>, SuspiciousChargeAlert> = true;

/** Checks an alert against the contract; the message names fields and rules only. */
export function validateSuspiciousChargeAlert(input: unknown): ValidationResult<SuspiciousChargeAlert> {
  return validateWith(suspiciousChargeAlertSchema, input, 'SuspiciousChargeAlert');
}
