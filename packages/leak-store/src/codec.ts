import { isFingerprint } from '@leakwatch/contracts';
import { LeakwatchError } from '@leakwatch/errors';

/**
 * Byte formats of what the store writes. Nothing here ever sees a card number: the store is
 * given keyed fingerprints (HMAC-SHA256, base64url, 43 characters) and expiry tags (11
 * base64url characters) and keeps them as raw bytes, which halves their size in Redis.
 */

const EXPIRY_TAG_PATTERN = /^[A-Za-z0-9_-]{11}$/;

const FINGERPRINT_BYTES = 32;
/** An expiry tag packed losslessly: 11 characters × 6 bits = 66 bits, in 9 bytes. */
export const PACKED_TAG_BYTES = 9;

/** The contract's one fingerprint check (`@leakwatch/contracts`), re-exported for the store's callers. */
export { isFingerprint };

export function isExpiryTag(value: string): boolean {
  return EXPIRY_TAG_PATTERN.test(value);
}

/** The 32 bytes of a fingerprint; throws VALIDATION_FAILED for anything else. */
export function fingerprintBytes(fingerprint: string, what = 'fingerprint'): Buffer {
  if (!isFingerprint(fingerprint)) {
    throw new LeakwatchError('VALIDATION_FAILED', `${what} is not a 43-character base64url fingerprint`);
  }
  return Buffer.from(fingerprint, 'base64url');
}

/**
 * Decodes many fingerprints into one buffer, 32 bytes each, with no per-card allocation (the
 * hot paths handle batches of hundreds). Throws VALIDATION_FAILED naming the first bad index.
 */
export function fingerprintsToBuffer(fingerprints: readonly string[], what = 'fingerprints'): Buffer {
  const out = Buffer.allocUnsafe(fingerprints.length * FINGERPRINT_BYTES);
  for (let i = 0; i < fingerprints.length; i++) {
    const fingerprint = fingerprints[i] as string;
    if (!isFingerprint(fingerprint)) {
      throw new LeakwatchError(
        'VALIDATION_FAILED',
        `${what}[${i}] is not a 43-character base64url fingerprint`,
      );
    }
    out.write(fingerprint, i * FINGERPRINT_BYTES, FINGERPRINT_BYTES, 'base64url');
  }
  return out;
}

/** Writes a packed expiry tag (see packExpiryTag) into `target` at `offset`. */
export function writePackedExpiryTag(tag: string, target: Buffer, offset: number, what = 'expiry tag'): void {
  if (typeof tag !== 'string' || !EXPIRY_TAG_PATTERN.test(tag)) {
    throw new LeakwatchError('VALIDATION_FAILED', `${what} is not an 11-character base64url expiry tag`);
  }
  target.write(`${tag}A`, offset, PACKED_TAG_BYTES, 'base64url');
}

/**
 * Packs an expiry tag into 9 bytes. Appending "A" (six zero bits) makes 12 characters, which
 * base64url-decode to exactly 9 bytes, so any 11-character tag round-trips (canonical or not).
 */
export function packExpiryTag(tag: string, what = 'expiry tag'): Buffer {
  if (typeof tag !== 'string' || !EXPIRY_TAG_PATTERN.test(tag)) {
    throw new LeakwatchError('VALIDATION_FAILED', `${what} is not an 11-character base64url expiry tag`);
  }
  return Buffer.from(`${tag}A`, 'base64url');
}

export function unpackExpiryTag(packed: Uint8Array): string {
  return Buffer.from(packed.buffer, packed.byteOffset, PACKED_TAG_BYTES).toString('base64url').slice(0, 11);
}

/**
 * A stored value lists the incidents a card belongs to, as records:
 * `varint(incidentNumber * 2 + hasTag)` followed, when hasTag is 1, by the 9-byte packed expiry
 * tag. A card may have several records for one incident (several leaked expiries); a record
 * without a tag exists only while the incident has no tagged record for the card.
 * Varints are LEB128 (7 bits a byte, high bit = more), so incidents 1..63 cost one byte.
 */
export interface StoredLink {
  incidentNumber: number;
  /** Packed tag bytes (a view into the value), or null when the list had no expiry. */
  tag: Buffer | null;
}

export function encodeVarint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** One record, as the Lua scripts write it (used by tests and the reference encoder). */
export function encodeRecord(incidentNumber: number, packedTag: Buffer | null): Buffer {
  const header = encodeVarint(incidentNumber * 2 + (packedTag ? 1 : 0));
  return packedTag ? Buffer.concat([header, packedTag]) : header;
}

/**
 * Decodes a stored value. Returns null when the bytes are not exactly a sequence of
 * well-formed records, which the tests use to prove every stored byte is accounted for.
 */
export function decodeRecords(value: Buffer): StoredLink[] | null {
  const links: StoredLink[] = [];
  let pos = 0;
  while (pos < value.length) {
    let header = 0;
    let multiplier = 1;
    let byte: number;
    do {
      if (pos >= value.length || multiplier > 2 ** 35) return null;
      byte = value[pos++] as number;
      header += (byte & 0x7f) * multiplier;
      multiplier *= 128;
    } while (byte >= 128);
    const incidentNumber = Math.floor(header / 2);
    if (incidentNumber < 1) return null;
    if (header % 2 === 1) {
      if (pos + PACKED_TAG_BYTES > value.length) return null;
      links.push({ incidentNumber, tag: value.subarray(pos, pos + PACKED_TAG_BYTES) });
      pos += PACKED_TAG_BYTES;
    } else {
      links.push({ incidentNumber, tag: null });
    }
  }
  return links.length > 0 ? links : null;
}
