import { describe, expect, it } from 'vitest';
import { validateCardAuthorization } from './card-authorization.js';
import { exampleAuthorization } from './examples.js';
import { isFingerprint } from './rules.js';

const FP = 'q5lJcV7mS1sSxX0t1m3Jg6aUQd0lqzv8wOQ0y6H8nZc';

describe('isFingerprint', () => {
  it('accepts 43 base64url characters of 32 bytes, each of the 16 possible last characters', () => {
    for (const last of 'AEIMQUYcgkosw048') expect(isFingerprint(`${FP.slice(0, 42)}${last}`)).toBe(true);
    for (let i = 0; i < 50; i++) {
      const bytes = Buffer.alloc(32, i * 5 + 1);
      expect(isFingerprint(bytes.toString('base64url'))).toBe(true);
    }
  });

  it('refuses a last character whose low bits are set: it does not encode 32 bytes', () => {
    for (const last of 'BCDFZbdz159_-') expect(isFingerprint(`${FP.slice(0, 42)}${last}`)).toBe(false);
  });

  it('refuses other lengths, padding, base64 (not url) and non-strings', () => {
    expect(isFingerprint(FP.slice(0, 42))).toBe(false);
    expect(isFingerprint(`${FP}A`)).toBe(false);
    expect(isFingerprint(`${FP}=`)).toBe(false);
    expect(isFingerprint(`+${FP.slice(1)}`)).toBe(false);
    expect(isFingerprint(null)).toBe(false);
    expect(isFingerprint(43)).toBe(false);
  });

  it('is the rule validation applies: such an authorization fails as VALIDATION_FAILED', () => {
    const record = exampleAuthorization() as unknown as { card: Record<string, unknown> };
    record.card = {
      pan: null,
      fingerprint: `${FP.slice(0, 42)}B`,
      keyId: 'k1',
      bin: '411111',
      last4: '1111',
    };
    const result = validateCardAuthorization(record);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe('VALIDATION_FAILED');
      expect(result.message).toContain('card.fingerprint: must be 43 characters of base64url');
    }
  });
});
