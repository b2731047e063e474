import { describe, expect, it } from 'vitest';
import { LeakwatchError } from '@leakwatch/errors';
import { isExpiry, parseExpiry, requireExpiry } from './expiry.js';

describe('parseExpiry', () => {
  it.each([
    ['12/27', '2027-12'],
    ['01/2030', '2030-01'],
    ['0929', '2029-09'],
    ['2031-02', '2031-02'],
    ['  07/26 \t', '2026-07'],
    ['12/00', '2000-12'],
    ['12/99', '2099-12'],
  ])('reads %j as %s', (input, expected) => {
    expect(parseExpiry(input)).toEqual({ ok: true, expiry: expected });
  });

  it.each([
    '7/26',
    '07/6',
    '07-26',
    '07/26/27',
    '2026/07',
    '2026-7',
    '072026',
    '',
    'ab/cd',
    '0a/26',
    '1/2026',
    '07 26',
    '12/2O27',
  ])('refuses %j as EXPIRY_FORMAT', (input) => {
    expect(parseExpiry(input)).toEqual({ ok: false, reason: 'EXPIRY_FORMAT' });
  });

  it.each(['13/25', '00/25', '1325', '2025-13', '2025-00', '99/2027'])(
    'refuses %j as EXPIRY_MONTH',
    (input) => {
      expect(parseExpiry(input)).toEqual({ ok: false, reason: 'EXPIRY_MONTH' });
    },
  );

  it.each(['12/1999', '1999-12', '01/2100'])('refuses %j as EXPIRY_YEAR', (input) => {
    expect(parseExpiry(input)).toEqual({ ok: false, reason: 'EXPIRY_YEAR' });
  });

  it('has a throwing form and a canonical check', () => {
    expect(requireExpiry('12/27')).toBe('2027-12');
    expect(() => requireExpiry('13/27')).toThrow(LeakwatchError);
    expect(isExpiry('2027-12')).toBe(true);
    for (const bad of ['2027-13', '12/27', '2027-1', '1999-12', '2027_12'])
      expect(isExpiry(bad), bad).toBe(false);
  });
});
