/**
 * The one fingerprint check of the contract: HMAC-SHA256 (32 bytes) written as base64url without
 * padding. 32 bytes take 43 characters, the last one carrying 4 bits and 2 zero bits, so only
 * 16 characters can end a fingerprint. A string that ends otherwise decodes to other bytes than
 * it says (it is not a fingerprint any key made), so it is refused here, at the edge, rather than
 * later by the store.
 */
const FINGERPRINT = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** True for a fingerprint: 43 characters of canonical base64url encoding exactly 32 bytes. */
export function isFingerprint(value: unknown): value is string {
  return typeof value === 'string' && FINGERPRINT.test(value);
}

/** What a refused fingerprint is told. */
export const FINGERPRINT_RULE = 'must be 43 characters of base64url (HMAC-SHA256)';
