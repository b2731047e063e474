import { createHmac, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LeakwatchError } from '@leakwatch/errors';
import { EXPIRY_TAG_LENGTH, Keyring, createKeyring } from './fingerprint.js';

const key0 = Buffer.from(Array.from({ length: 32 }, (_, i) => i)); // 00 01 .. 1f
const key1 = Buffer.alloc(48, 0xa5);

/** The `code` of what `run` throws (undefined if it returns). */
function codeThrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return (error as { code?: unknown }).code;
  }
  return undefined;
}

function reference(key: Buffer, message: string): string {
  return createHmac('sha256', key).update(message, 'ascii').digest('base64url');
}

describe('Keyring', () => {
  it('matches a known vector (computed with openssl) and node:crypto', () => {
    // printf 4111111111111111 | openssl dgst -sha256 -mac HMAC -macopt hexkey:000102..1f -binary | base64url
    const keyring = new Keyring([{ keyId: 'k0', key: key0 }]);
    const fp = keyring.fingerprint('4111111111111111');
    expect(fp).toBe('BiIkEgE4KkWRL7IoKLP321FTzyBycipz3tImI-p5q8k');
    expect(fp).toBe(reference(key0, '4111111111111111'));
    expect(fp).toHaveLength(43);
  });

  it('matches node:crypto for every PAN length and many keys', () => {
    for (let i = 0; i < 200; i++) {
      const key = randomBytes(32 + (i % 100));
      const keyring = new Keyring([{ keyId: 'k', key }]);
      const pan = randomBytes(19)
        .toString('hex')
        .replace(/[a-f]/g, '7')
        .slice(0, 12 + (i % 8));
      expect(keyring.fingerprint(pan)).toBe(reference(key, pan));
    }
  });

  it('makes expiry tags with a derived sub-key (known vector) and 11 characters', () => {
    const keyring = new Keyring([{ keyId: 'k0', key: key0 }]);
    const fp = keyring.fingerprint('4111111111111111');
    const tag = keyring.expiryTag(fp, '2027-12', 'k0');
    // sub-key = HMAC(key0, "leakwatch/expiry-tag/v1"); tag = base64url(HMAC(sub-key, fp|2027-12)[0..8])
    expect(tag).toBe('C0BdJcCxZp8');
    const subKey = createHmac('sha256', key0).update('leakwatch/expiry-tag/v1').digest();
    expect(tag).toBe(
      createHmac('sha256', subKey).update(`${fp}|2027-12`).digest().subarray(0, 8).toString('base64url'),
    );
    expect(tag).toHaveLength(EXPIRY_TAG_LENGTH);
    expect(keyring.expiryTag(fp, '2028-01', 'k0')).not.toBe(tag);
    expect(keyring.expiryTag(keyring.fingerprint('5555555555554444'), '2027-12', 'k0')).not.toBe(tag);
  });

  it('refuses bad inputs to expiry tags', () => {
    const keyring = new Keyring([{ keyId: 'k0', key: key0 }]);
    const fp = keyring.fingerprint('4111111111111111');
    expect(codeThrownBy(() => keyring.expiryTag(fp, '12/27', 'k0'))).toBe('INVALID_EXPIRY');
    expect(codeThrownBy(() => keyring.expiryTag('', '2027-12', 'k0'))).toBe('VALIDATION_FAILED');
    expect(codeThrownBy(() => keyring.expiryTag(fp, '2027-12', 'nope'))).toBe('UNKNOWN_KEY_ID');
  });

  it('refuses keys under 32 bytes, empty and repeated ids, and no keys, listing every problem', () => {
    let error: unknown;
    try {
      new Keyring([
        { keyId: 'short', key: Buffer.alloc(31, 1) },
        { keyId: 'ok', key: key0 },
        { keyId: 'ok', key: key1 },
        { keyId: '', key: key0 },
      ]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LeakwatchError);
    const { code, message } = error as LeakwatchError;
    expect(code).toBe('CONFIG_INVALID');
    expect(message).toContain('"short": 31 bytes, needs at least 32');
    expect(message).toContain('"ok" is listed twice');
    expect(message).toContain('key #4');
    expect(message).toMatch(/3 problems/);
    expect(codeThrownBy(() => createKeyring([]))).toBe('CONFIG_INVALID');
  });

  it('rotates: the first key is current, every active key can fingerprint and tag', () => {
    const old = new Keyring([{ keyId: 'k1', key: key1 }]);
    const rotated = new Keyring([
      { keyId: 'k2', key: key0 },
      { keyId: 'k1', key: key1 },
    ]);
    const pan = '5555555555554444';
    expect(rotated.currentKeyId).toBe('k2');
    expect(rotated.keyIds).toEqual(['k2', 'k1']);
    expect(rotated.has('k1')).toBe(true);
    expect(rotated.has('k0')).toBe(false);
    expect(rotated.fingerprint(pan)).toBe(reference(key0, pan));
    expect(rotated.fingerprint(pan, 'k1')).toBe(old.fingerprint(pan));
    expect(rotated.fingerprintAll(pan)).toEqual([
      { keyId: 'k2', fingerprint: reference(key0, pan) },
      { keyId: 'k1', fingerprint: old.fingerprint(pan) },
    ]);
    const oldFp = old.fingerprint(pan);
    expect(rotated.expiryTag(oldFp, '2027-12', 'k1')).toBe(old.expiryTag(oldFp, '2027-12', 'k1'));
    expect(codeThrownBy(() => rotated.fingerprint(pan, 'k9'))).toBe('UNKNOWN_KEY_ID');
  });

  it('does not depend on the caller keeping the key buffer intact', () => {
    const key = Buffer.from(key0);
    const keyring = new Keyring([{ keyId: 'k', key }]);
    key.fill(0);
    expect(keyring.fingerprint('4111111111111111')).toBe('BiIkEgE4KkWRL7IoKLP321FTzyBycipz3tImI-p5q8k');
  });

  it('fingerprints normalized numbers only', () => {
    const keyring = new Keyring([{ keyId: 'k', key: key0 }]);
    for (const bad of ['4111 1111 1111 1111', '41111', '', '4111111111111111x']) {
      expect(codeThrownBy(() => keyring.fingerprint(bad))).toBe('INVALID_PAN');
    }
  });

  it('never shows key material when logged, inspected or serialized', () => {
    const keyring = new Keyring([{ keyId: 'k', key: Buffer.alloc(32, 0x41) }]);
    // String(keyring) stays in on purpose: it guards against a future toString() showing a key.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- see above
    const shown = `${JSON.stringify(keyring)} ${inspect(keyring, { showHidden: true, depth: 5 })} ${String(keyring)}`;
    expect(shown).not.toContain('AAAA');
    expect(shown).not.toContain('65, 65');
    expect(JSON.parse(JSON.stringify(keyring))).toEqual({ currentKeyId: 'k', keyIds: ['k'] });
  });
});
