import { describe, expect, it } from 'vitest';
import { FINGERPRINT_LENGTH, FINGERPRINT_PATTERN, isFingerprint } from './rules.js';

describe('isFingerprint', () => {
  const base = 'A'.repeat(42);

  it('accepts exactly the 43-character base64url strings that decode to 32 bytes', () => {
    for (let byte = 0; byte < 256; byte++) {
      const bytes = Buffer.alloc(32, byte);
      bytes[31] = byte;
      const fp = bytes.toString('base64url');
      expect(fp).toHaveLength(FINGERPRINT_LENGTH);
      expect(isFingerprint(fp), fp).toBe(true);
    }
  });

  it('refuses a last character whose low 2 bits are not zero', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const accepted = [...alphabet].filter((c) => isFingerprint(base + c));
    expect(accepted.join('')).toBe('AEIMQUYcgkosw048');
    for (const c of alphabet) {
      // the rule and the bytes agree: a string is accepted iff it round-trips through 32 bytes
      const roundTrips = Buffer.from(base + c, 'base64url').toString('base64url') === base + c;
      expect(isFingerprint(base + c), c).toBe(roundTrips);
    }
  });

  it('refuses wrong lengths, padding, base64 (not url) letters and non-strings', () => {
    for (const bad of [
      base,
      base + 'AA',
      base + '=',
      `${'A'.repeat(41)}+A`,
      `${'A'.repeat(41)}/A`,
      '',
      ' '.repeat(43),
    ])
      expect(isFingerprint(bad), bad).toBe(false);
    expect(isFingerprint(undefined)).toBe(false);
    expect(isFingerprint(43)).toBe(false);
    expect(FINGERPRINT_PATTERN.test(base + 'B')).toBe(false);
  });
});
