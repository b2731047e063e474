import { describe, expect, it } from 'vitest';
import {
  FINGERPRINT_LENGTH,
  FINGERPRINT_PATTERN,
  isBin,
  isFingerprint,
  isIncidentId,
  isKeyId,
  isLast4,
} from './rules.js';

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

describe('isIncidentId', () => {
  it('takes 1-64 key-safe characters starting with a letter or digit', () => {
    for (const id of ['x', 'INC-2025-0001', 'jp.shop_2025-05', '9'.repeat(64)])
      expect(isIncidentId(id), id).toBe(true);
  });

  it('refuses Redis key separators, hash tags, globs, spaces, a lead dash, and 65+ characters', () => {
    for (const id of ['a:b', '{tag}', 'a*', 'a?', 'a b', '-lead', '.lead', '', 'x'.repeat(65), 'é', 'a\n'])
      expect(isIncidentId(id), id).toBe(false);
    expect(isIncidentId(null)).toBe(false);
  });
});

describe('isKeyId, isBin, isLast4', () => {
  it('key ids: 1-32 of A-Z a-z 0-9 . _ -', () => {
    for (const id of ['k1', '2025-06.a_b', 'k'.repeat(32)]) expect(isKeyId(id), id).toBe(true);
    for (const id of ['', 'k'.repeat(33), 'a b', 'k:1', 'k/1']) expect(isKeyId(id), id).toBe(false);
  });

  it('bins: 6 to 8 digits; last4: 4 digits', () => {
    for (const bin of ['411111', '4111111', '41111111']) expect(isBin(bin), bin).toBe(true);
    for (const bin of ['41111', '411111111', '41111a', ' 411111']) expect(isBin(bin), bin).toBe(false);
    expect(isLast4('1111')).toBe(true);
    for (const last4 of ['111', '11111', '11a1']) expect(isLast4(last4), last4).toBe(false);
  });
});
