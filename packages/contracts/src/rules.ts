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
