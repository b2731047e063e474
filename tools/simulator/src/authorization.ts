import type {
  AuthorizationCardRecord,
  CardAuthorization as ValidatedAuthorization,
  Merchant,
} from '@leakwatch/contracts';

/**
 * The card as `schemas/CardAuthorization.avsc` has it (the contract's record, every field
 * nullable); the simulator sends invalid combinations on purpose.
 */
export type AuthorizationCard = AuthorizationCardRecord;

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
