/**
 * The format rules of the contract, each defined once. Every package that checks one of these
 * formats imports it from here: a value the contract accepts is one the store and the pipeline
 * accept too.
 */

/** A keyed fingerprint is HMAC-SHA256 (32 bytes) in base64url without padding: 43 characters. */
export const FINGERPRINT_LENGTH = 43;

/**
 * 43 base64url characters that decode to exactly 32 bytes: 42 free characters, then one that
 * carries 4 bits and 2 zero bits (so only 16 of the 64 letters can end a fingerprint). Without the
 * last rule, 4 strings would read as the same 32 bytes, and a store that keeps raw bytes would
 * refuse what the contract let through.
 */
export const FINGERPRINT_PATTERN = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** True for a well-formed fingerprint (see {@link FINGERPRINT_PATTERN}). */
export function isFingerprint(value: unknown): value is string {
  return typeof value === 'string' && value.length === FINGERPRINT_LENGTH && FINGERPRINT_PATTERN.test(value);
}

/** What a fingerprint must be, for messages: names the rule, never the value. */
export const FINGERPRINT_RULE = 'must be 43 characters of base64url (HMAC-SHA256)';

/**
 * An incident id: 1-64 characters of letters, digits, `.`, `_` and `-`, starting with a letter or
 * digit. Ids become the last part of Redis keys (`…{incidents}:i:<id>`) and appear in alerts,
 * URLs and file names, so no `:` key separators, no `{}` cluster hash tags, no glob characters.
 */
export const INCIDENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const INCIDENT_ID_RULE =
  'must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit';

export function isIncidentId(value: unknown): value is string {
  return typeof value === 'string' && INCIDENT_ID_PATTERN.test(value);
}

/** A fingerprint key id (LEAKWATCH_FINGERPRINT_KEYS, `card.keyId`, a cards file's `key_id`). */
export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;
export const KEY_ID_RULE = 'must be 1-32 characters of A-Z a-z 0-9 . _ -';

export function isKeyId(value: unknown): value is string {
  return typeof value === 'string' && KEY_ID_PATTERN.test(value);
}

/** The BIN of a card as events and files carry it: 6 to 8 digits (see maskPan in @leakwatch/card). */
export const BIN_PATTERN = /^\d{6,8}$/;
export const BIN_RULE = 'must be 6 to 8 digits';

export function isBin(value: unknown): value is string {
  return typeof value === 'string' && BIN_PATTERN.test(value);
}

/**
 * The BIN an alert shows next to the last four: the issuer BIN cut so that at least 6 digits of
 * the card stay hidden (maskPan / maskBin in @leakwatch/card), so 2 digits for a 12-digit card.
 */
export const SHOWN_BIN_PATTERN = /^\d{2,8}$/;
export const SHOWN_BIN_RULE = 'must be 2 to 8 digits';

/** The last four digits of a card. */
export const LAST4_PATTERN = /^\d{4}$/;
export const LAST4_RULE = 'must be 4 digits';

export function isLast4(value: unknown): value is string {
  return typeof value === 'string' && LAST4_PATTERN.test(value);
}
