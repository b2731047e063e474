import { z } from 'zod';
import * as field from './fields.js';
import { normalizePan, PAN_REJECT_REASONS } from '@leakwatch/card';
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
    if (c.pan === null) {
      if (c.fingerprint === null) {
        ctx.addIssue({
          code: 'custom',
          message: 'needs either pan, or fingerprint with keyId, bin and last4',
        });
        return;
      }
      for (const name of ['keyId', 'bin', 'last4'] as const) {
        if (c[name] === null) {
          ctx.addIssue({ code: 'custom', path: [name], message: 'is required with a fingerprint' });
        }
      }
      return;
    }
    if (c.fingerprint !== null && c.keyId === null) {
      ctx.addIssue({ code: 'custom', path: ['keyId'], message: 'is required with a fingerprint' });
    }
    if (c.bin !== null && !c.pan.startsWith(c.bin)) {
      ctx.addIssue({ code: 'custom', path: ['bin'], message: 'does not match the card number' });
    }
    if (c.last4 !== null && !c.pan.endsWith(c.last4)) {
      ctx.addIssue({ code: 'custom', path: ['last4'], message: 'does not match the card number' });
    }
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
  eventId: field.text(128),
  occurredAt: field.epochMillisOrIso(),
  mti: field.nullable(field.text(16)),
  card,
  amountMinor: field.amountMinor(),
  currency: field.currency(),
  merchant: z.object({
    id: field.text(128),
    name: field.nullable(z.string().max(512, 'must be at most 512 characters')),
    mcc: field.mcc(),
    country: field.country(),
  }),
  channel: z.enum(CHANNELS),
  threeDs: field.nullable(z.enum(THREE_DS_RESULTS)),
  cvvResult: field.nullable(z.enum(CVV_RESULTS)),
  responseCode: field.nullable(field.text(16)),
  acquirerId: field.nullable(field.text(128)),
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

/**
 * Validates and normalises a decoded authorization (from Avro or JSON). The failure message
 * names each field and rule, never a value: it is safe for logs and dead-letter headers.
 */
export function validateCardAuthorization(input: unknown): ValidationResult<CardAuthorization> {
  return validateWith(cardAuthorizationSchema, input, 'CardAuthorization', classify);
}
