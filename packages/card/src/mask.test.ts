import { describe, expect, it } from 'vitest';
import { LeakwatchError } from '@leakwatch/errors';
import { binLength, maskBin, maskPan, maskUnparsedPan, MIN_HIDDEN_DIGITS, shownBinLength } from './mask.js';
import { withLuhnCheckDigit } from './pan.js';

function hiddenDigits(masked: string): number {
  return [...masked].filter((c) => c === '*').length;
}

describe('maskPan', () => {
  it.each([
    [12, '41', '41111111'.slice(0, 6)],
    [13, '411', '411111'],
    [14, '3622', '362272'],
    [15, '37828', '378282'],
    [16, '411111', '41111111'],
    [17, '4111111', '41111111'],
    [18, '41111111', '41111111'],
    [19, '62000000', '62000000'],
  ])('hides at least 6 digits of a %i-digit PAN, shortening the shown BIN', (length, shownBin, issuerBin) => {
    const prefix = issuerBin.padEnd(length - 1, '0').slice(0, length - 1);
    const pan = withLuhnCheckDigit(prefix);
    const m = maskPan(pan);
    expect(m.bin).toBe(shownBin);
    expect(m.bin).toHaveLength(shownBinLength(length));
    expect(m.issuerBin).toBe(pan.slice(0, binLength(length)));
    expect(m.last4).toBe(pan.slice(-4));
    expect(m.masked).toHaveLength(length);
    expect(m.masked).toBe(`${m.bin}${'*'.repeat(length - m.bin.length - 4)}${m.last4}`);
    expect(hiddenDigits(m.masked)).toBeGreaterThanOrEqual(MIN_HIDDEN_DIGITS);
    // BIN and last 4 together, as an alert shows them, still leave 6 digits unknown
    expect(length - m.bin.length - m.last4.length).toBeGreaterThanOrEqual(MIN_HIDDEN_DIGITS);
  });

  it('keeps the classic 6 + 4 for 16 digits and an 8-digit issuer BIN for routing', () => {
    expect(maskPan('4111111111111111')).toEqual({
      bin: '411111',
      issuerBin: '41111111',
      last4: '1111',
      masked: '411111******1111',
    });
    expect(binLength(12)).toBe(6);
    expect(binLength(16)).toBe(8);
  });

  it('refuses anything but a normalized number', () => {
    expect(() => maskPan('4111 1111 1111 1111')).toThrow(LeakwatchError);
    expect(() => maskPan('41111')).toThrow(LeakwatchError);
  });
});

describe('maskBin', () => {
  it('cuts a BIN sent without the PAN by the length its scheme uses, or the length given', () => {
    expect(maskBin('45391234')).toBe('453912');
    expect(maskBin('378282')).toBe('37828');
    expect(maskBin('362272')).toBe('3622');
    expect(maskBin('45391234', 12)).toBe('45');
    expect(maskBin('45391234', 19)).toBe('45391234');
  });
});

describe('maskUnparsedPan', () => {
  it('never shows more than 6 + 4 digits and hides at least 6', () => {
    expect(maskUnparsedPan('4111111111111112')).toBe('411111******1112');
    expect(maskUnparsedPan('41111111111111111112')).toBe('411111**********1112');
    expect(maskUnparsedPan('4111-1111-1111-111X')).toBe('***********1111');
    expect(maskUnparsedPan('41111111113')).toBe('*******1113');
    expect(maskUnparsedPan('123456789')).toBe('*********');
    expect(maskUnparsedPan('n/a')).toBe('');
  });

  it('ignores everything but digits', () => {
    const masked = maskUnparsedPan('card: 4111 1111 1111 1111 (John)');
    expect(masked).toBe('411111******1111');
  });
});
