import type { CardAuthorization as ValidatedAuthorization, Merchant } from '@leakwatch/contracts';

/**
 * The card as `schemas/CardAuthorization.avsc` has it: one record, every field nullable. Which
 * combinations are valid (a PAN, or a fingerprint with keyId, bin and last4) is for validation to
 * say; the simulator sends invalid ones on purpose.
 */
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

export type AuthorizationMerchant = Merchant;

/**
 * The `CardAuthorization` value as `schemas/CardAuthorization.avsc` names it, field for field, in
 * the plain-object form an Avro encoder (avsc, unwrapped unions) takes and JSON upstreams send:
 * the contract's validated shape with the schema's flat card record in place of the union.
 */
export interface CardAuthorization extends Omit<ValidatedAuthorization, 'card'> {
  card: AuthorizationCard;
}

/**
 * Encodes a value as Confluent-framed Avro (magic byte 0, 4-byte schema id, body) with the
 * registered CardAuthorization schema. The CLI supplies it; the simulator stays registry-free.
 */
export type EncodeAvro = (value: CardAuthorization) => Buffer;
