import { describe, expect, it } from 'vitest';
import { LeakwatchError } from '@leakwatch/errors';
import { binLength, maskPan, maskUnparsedPan } from './mask.js';

describe('maskPan', () => {
  it('keeps an 8-digit BIN for 16+ digit PANs and shows 6 + 4', () => {
    expect(maskPan('4111111111111111')).toEqual({
      bin: '41111111',
      last4: '1111',
      masked: '411111******1111',
    });
    expect(maskPan('6200000000000000005')).toMatchObject({ bin: '62000000', masked: '620000*********0005' });
  });

  it('keeps a 6-digit BIN for shorter PANs', () => {
    expect(maskPan('378282246310005')).toEqual({ bin: '378282', last4: '0005', masked: '378282*****0005' });
    expect(maskPan('36227206271667')).toEqual({ bin: '362272', last4: '1667', masked: '362272****1667' });
    expect(binLength(12)).toBe(6);
    expect(binLength(16)).toBe(8);
  });

  it('refuses anything but a normalized number', () => {
    expect(() => maskPan('4111 1111 1111 1111')).toThrow(LeakwatchError);
    expect(() => maskPan('41111')).toThrow(LeakwatchError);
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
