import { describe, expect, it } from 'vitest';
import { Keyring, withLuhnCheckDigit } from '@leakwatch/card';
import { resolvedCard } from './stages.fakes.js';

const keyring = new Keyring([{ keyId: 'k1', key: Buffer.alloc(32, 7) }]);
const card = { pan: null, fingerprint: null, keyId: null, bin: null, last4: null, expiry: null };

describe('resolveCard: what an alert shows', () => {
  it.each([
    [12, '45'],
    [13, '453'],
    [16, '453912'],
    [19, '45391234'],
  ])('a %i-digit PAN shows a BIN that leaves 6 digits hidden, routes by the issuer BIN', (length, shown) => {
    const pan = withLuhnCheckDigit('45391234'.padEnd(length - 1, '7'));
    const result = resolvedCard({ ...card, pan }, keyring);
    expect(result.bin).toBe(shown);
    expect(length - result.bin.length - result.last4.length).toBeGreaterThanOrEqual(6);
    expect(result.issuerBin).toBe(pan.slice(0, length >= 16 ? 8 : 6));
  });

  it('a fingerprint event shows its BIN cut by the scheme length and routes by the whole BIN', () => {
    const fingerprint = keyring.fingerprint('4539123456789012');
    const result = resolvedCard(
      { ...card, fingerprint, keyId: 'k1', bin: '45391234', last4: '9012' },
      keyring,
    );
    expect([result.bin, result.issuerBin]).toEqual(['453912', '45391234']);
  });
});
