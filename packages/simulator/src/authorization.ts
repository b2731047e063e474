/**
 * The `CardAuthorization` value as `schemas/CardAuthorization.avsc` names it, field for field, in
 * the plain-object form an Avro encoder (avsc, unwrapped unions) takes and JSON upstreams send.
 */

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

export const THREE_DS_RESULTS = ['AUTHENTICATED', 'ATTEMPTED', 'FAILED', 'NOT_PERFORMED'] as const;
export type ThreeDsResult = (typeof THREE_DS_RESULTS)[number];

export const CVV_RESULTS = ['MATCH', 'NO_MATCH', 'NOT_PROVIDED', 'NOT_CHECKED'] as const;
export type CvvResult = (typeof CVV_RESULTS)[number];

export interface AuthorizationCard {
  /** 12-19 digits, or null when the event carries a fingerprint instead. */
  pan: string | null;
  fingerprint: string | null;
  keyId: string | null;
  bin: string | null;
  last4: string | null;
  /** "YYYY-MM". */
  expiry: string | null;
}

export interface AuthorizationMerchant {
  id: string;
  name: string | null;
  /** 4 digits. */
  mcc: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
}

export interface CardAuthorization {
  eventId: string;
  /** Epoch milliseconds (timestamp-millis). */
  occurredAt: number;
  mti: string | null;
  card: AuthorizationCard;
  /** In the currency's minor unit (JPY and KRW have none). */
  amountMinor: number;
  /** ISO 4217 alpha-3. */
  currency: string;
  merchant: AuthorizationMerchant;
  channel: Channel;
  threeDs: ThreeDsResult | null;
  cvvResult: CvvResult | null;
  /** ISO 8583 field 39; "00" approved. */
  responseCode: string | null;
  acquirerId: string | null;
}

/**
 * Encodes a value as Confluent-framed Avro (magic byte 0, 4-byte schema id, body) with the
 * registered CardAuthorization schema. The CLI supplies it; the simulator stays registry-free.
 */
export type EncodeAvro = (value: CardAuthorization) => Buffer;
