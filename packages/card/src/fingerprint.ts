import { LeakwatchError } from '@leakwatch/errors';
import { isExpiry } from './expiry.js';
import { HmacSha256 } from './hmac-sha256.js';
import { isPanShape } from './pan.js';

/** A fingerprint key as configured (`LEAKWATCH_FINGERPRINT_KEYS`): an id and at least 32 secret bytes. */
export interface FingerprintKey {
  keyId: string;
  key: Uint8Array;
}

export interface KeyedFingerprint {
  keyId: string;
  fingerprint: string;
}

export const MIN_KEY_BYTES = 32;
/** base64url, no padding, of the first 8 bytes of the expiry HMAC. */
export const EXPIRY_TAG_LENGTH = 11;
const EXPIRY_TAG_BYTES = 8;
/** Label of the sub-key expiry tags are made with, so they never share a key with fingerprints. */
const EXPIRY_TAG_KEY_LABEL = 'leakwatch/expiry-tag/v1';

interface KeyEntry {
  keyId: string;
  fingerprint: HmacSha256;
  expiryTag: HmacSha256;
}

/**
 * The active fingerprint keys; the first is current (new fingerprints), the others stay active
 * for lookups while keys rotate. Key bytes stay inside: nothing here returns, logs or serializes them.
 */
export class Keyring {
  /** Id of the key new fingerprints are made with. */
  readonly currentKeyId: string;
  /** Ids of every active key, current first. */
  readonly keyIds: readonly string[];
  readonly #entries: ReadonlyMap<string, KeyEntry>;
  readonly #ordered: readonly KeyEntry[];
  readonly #current: KeyEntry;

  /**
   * Refuses (CONFIG_INVALID, every problem listed) an empty list, empty or repeated ids, keys under
   * 32 bytes. The key-id format is a contract rule (isKeyId in @leakwatch/contracts), checked where
   * keys are read (config); this package sits below the contract and does not redefine it.
   */
  constructor(keys: readonly FingerprintKey[]) {
    const problems: string[] = [];
    if (keys.length === 0) problems.push('needs at least one key');
    const entries = new Map<string, KeyEntry>();
    keys.forEach(({ keyId, key }, index) => {
      if (typeof keyId !== 'string' || keyId.length === 0) {
        problems.push(`key #${index + 1}: needs a key id`);
        return;
      }
      if (entries.has(keyId)) problems.push(`key "${keyId}" is listed twice`);
      if (key.length < MIN_KEY_BYTES) {
        problems.push(`key "${keyId}": ${key.length} bytes, needs at least ${MIN_KEY_BYTES}`);
        return;
      }
      if (entries.has(keyId)) return;
      const fingerprint = new HmacSha256(key);
      const subKey = fingerprint.digest(EXPIRY_TAG_KEY_LABEL);
      entries.set(keyId, { keyId, fingerprint, expiryTag: new HmacSha256(subKey) });
      subKey.fill(0);
    });
    const first = entries.values().next();
    if (problems.length > 0 || first.done) {
      throw new LeakwatchError(
        'CONFIG_INVALID',
        `invalid fingerprint keys (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join('; ')}`,
        { details: { problems } },
      );
    }
    this.#entries = entries;
    this.#ordered = [...entries.values()];
    this.#current = first.value;
    this.currentKeyId = first.value.keyId;
    this.keyIds = Object.freeze([...entries.keys()]);
  }

  /** True when `keyId` is one of the active keys. */
  has(keyId: string): boolean {
    return this.#entries.has(keyId);
  }

  /**
   * HMAC-SHA256 of the PAN digits under `keyId` (default: current), as 43 base64url characters.
   * `pan` must be normalized (12-19 digits, see normalizePan); anything else is refused with
   * INVALID_PAN rather than fingerprinted into a value no lookup would ever match.
   */
  fingerprint(pan: string, keyId?: string): string {
    if (!isPanShape(pan))
      throw new LeakwatchError('INVALID_PAN', 'a fingerprint needs a normalized card number');
    return this.#entry(keyId).fingerprint.digestBase64url(pan);
  }

  /**
   * The fingerprint of `pan` under every active key, current first: lookups while keys rotate.
   * With one key (no rotation) that is one HMAC; the other keys cost only while they are listed.
   */
  fingerprintAll(pan: string): KeyedFingerprint[] {
    if (!isPanShape(pan))
      throw new LeakwatchError('INVALID_PAN', 'a fingerprint needs a normalized card number');
    const current = this.#current;
    const all: KeyedFingerprint[] = [
      { keyId: current.keyId, fingerprint: current.fingerprint.digestBase64url(pan) },
    ];
    if (this.#ordered.length === 1) return all;
    for (let i = 1; i < this.#ordered.length; i++) {
      const entry = this.#ordered[i] as KeyEntry;
      all.push({ keyId: entry.keyId, fingerprint: entry.fingerprint.digestBase64url(pan) });
    }
    return all;
  }

  /**
   * A short keyed tag binding an expiry ("YYYY-MM") to a card's fingerprint under `keyId`: the
   * first 8 bytes of HMAC-SHA256(k, fingerprint "|" expiry), 11 base64url characters, where k is a
   * sub-key derived from the fingerprint key. A leaked expiry is stored as this tag, never in clear,
   * and an event that carries only a fingerprint and an expiry can still be compared with it.
   * Without the key the few hundred possible expiries cannot be tried against a stolen tag.
   * `fingerprint` is one the contract accepted (isFingerprint in @leakwatch/contracts).
   */
  expiryTag(fingerprint: string, expiry: string, keyId: string): string {
    if (fingerprint.length === 0)
      throw new LeakwatchError('VALIDATION_FAILED', 'an expiry tag needs a fingerprint');
    if (!isExpiry(expiry))
      throw new LeakwatchError('INVALID_EXPIRY', 'an expiry tag needs an expiry as YYYY-MM');
    return this.#entry(keyId).expiryTag.digestBase64url([fingerprint, '|', expiry], EXPIRY_TAG_BYTES);
  }

  #entry(keyId: string | undefined): KeyEntry {
    if (keyId === undefined) return this.#current;
    const entry = this.#entries.get(keyId);
    if (entry === undefined) {
      // The id is not echoed: it came from an event or a file, not from this configuration.
      throw new LeakwatchError('UNKNOWN_KEY_ID', 'fingerprint key id is not active');
    }
    return entry;
  }

  /** Never shows key material, whatever logs or inspects the keyring. */
  toJSON(): { currentKeyId: string; keyIds: readonly string[] } {
    return { currentKeyId: this.currentKeyId, keyIds: this.keyIds };
  }
}

/** Builds a {@link Keyring}; same as `new Keyring(keys)`. */
export function createKeyring(keys: readonly FingerprintKey[]): Keyring {
  return new Keyring(keys);
}
