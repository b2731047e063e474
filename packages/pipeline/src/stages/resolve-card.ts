import { maskBin, panParts, schemeOf, type Keyring, type KeyedFingerprint } from '@leakwatch/card';
import type { AuthorizationCard } from '@leakwatch/contracts';
import type { ErrorCode } from '@leakwatch/errors';
import type { Authorization, AuthorizationDecoder, DecodeResult, InboundMessage } from '../types.js';
import type { DeadLetterDecision } from './outcome.js';

/** What resolving needs of the keyring: fingerprint a PAN under every active key, know a key id. */
export type CardKeys = Pick<Keyring, 'fingerprintAll' | 'has'>;

/** A card as Leakwatch handles it: fingerprints, never the PAN. */
export interface ResolvedCard {
  /** Fingerprints to look up: one per active key for a PAN, the given one otherwise. */
  fingerprints: readonly KeyedFingerprint[];
  /** The fingerprint alerts are keyed by: under the current key when the PAN was given. */
  primary: KeyedFingerprint;
  /** The BIN shown with the last four (alerts, logs): cut so that at least 6 digits stay hidden. */
  bin: string;
  /** The issuer BIN, for partner routing only: never shown with the last four. */
  issuerBin: string;
  last4: string;
  scheme: string;
  expiry: string | null;
}

/** A resolved card, or why the card cannot be used (a dead-letter code and reason). */
export type ResolveResult = ResolvedCard | { code: ErrorCode; message: string };

/** True when {@link resolveCard} resolved the card. */
export function isResolved(result: ResolveResult): result is ResolvedCard {
  return 'fingerprints' in result;
}

/**
 * Turns the card of a validated authorization into fingerprints. Validation normalised the PAN
 * (digits only, Luhn-valid), so it is hashed as it is, and goes no further: nothing downstream
 * of this function ever sees it. A fingerprint card needs an active key id.
 */
export function resolveCard(card: AuthorizationCard, keyring: CardKeys): ResolveResult {
  if (card.pan !== null) {
    const fingerprints = keyring.fingerprintAll(card.pan);
    const masked = panParts(card.pan);
    return {
      fingerprints,
      primary: fingerprints[0] as KeyedFingerprint,
      bin: masked.bin,
      issuerBin: masked.issuerBin,
      last4: masked.last4,
      scheme: schemeOf(card.pan),
      expiry: card.expiry,
    };
  }
  if (!keyring.has(card.keyId)) {
    return {
      code: 'UNKNOWN_KEY_ID',
      message: `card.keyId "${card.keyId.slice(0, 32)}" is not an active key`,
    };
  }
  const keyed = { keyId: card.keyId, fingerprint: card.fingerprint };
  return {
    fingerprints: [keyed],
    primary: keyed,
    bin: maskBin(card.bin),
    issuerBin: card.bin,
    last4: card.last4,
    scheme: schemeOf(card.bin),
    expiry: card.expiry,
  };
}

/** A decoded, valid authorization whose card is resolved to fingerprints. */
export interface ResolvedAuthorization {
  message: InboundMessage;
  auth: Authorization;
  card: ResolvedCard;
}

export interface DecodedBatch {
  /** In offset order. */
  resolved: ResolvedAuthorization[];
  /** Poison: undecodable, invalid, or a card that cannot be resolved. */
  deadLetters: DeadLetterDecision[];
}

/**
 * Stage 1: decodes a batch (one registry round trip at most per unknown schema) and resolves
 * each card. Poison becomes a dead-letter decision; a registry that is down throws (retryable).
 */
export async function decodeAndResolve(
  messages: readonly InboundMessage[],
  decoder: AuthorizationDecoder,
  keyring: CardKeys,
): Promise<DecodedBatch> {
  const batch: DecodedBatch = { resolved: [], deadLetters: [] };
  const values: (Buffer | null)[] = new Array<Buffer | null>(messages.length);
  for (let i = 0; i < messages.length; i++) values[i] = (messages[i] as InboundMessage).value;
  const decoded = await decoder.decodeBatch(values);
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index] as InboundMessage;
    const result = decoded[index] as DecodeResult;
    if (!result.ok) {
      batch.deadLetters.push({ message, code: result.code, reason: result.message });
      continue;
    }
    const card = resolveCard(result.value.card, keyring);
    if (!isResolved(card)) {
      batch.deadLetters.push({ message, code: card.code, reason: card.message });
      continue;
    }
    batch.resolved.push({ message, auth: result.value, card });
  }
  return batch;
}
