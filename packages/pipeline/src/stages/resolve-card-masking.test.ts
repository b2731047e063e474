import { describe, expect, it } from 'vitest';
import { Keyring, withLuhnCheckDigit } from '@leakwatch/card';
import { resolveCard } from './resolve-card.js';

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
    const result = resolveCard({ ...card, pan }, keyring);
    if (!result.ok) throw new Error(result.message);
    expect(result.card.bin).toBe(shown);
    expect(length - result.card.bin.length - result.card.last4.length).toBeGreaterThanOrEqual(6);
    expect(result.card.issuerBin).toBe(pan.slice(0, length >= 16 ? 8 : 6));
  });

  it('a fingerprint event shows its BIN cut by the scheme length and routes by the whole BIN', () => {
    const fingerprint = keyring.fingerprint('4539123456789012');
    const result = resolveCard(
      { ...card, fingerprint, keyId: 'k1', bin: '45391234', last4: '9012' },
      keyring,
    );
    if (!result.ok) throw new Error(result.message);
    expect([result.card.bin, result.card.issuerBin]).toEqual(['453912', '45391234']);
  });
});
