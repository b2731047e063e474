import { describe, expect, it } from 'vitest';
import { isKnownCurrency } from './currency.js';
import { parseIsoDateTime } from './fields.js';
import { luhnValid, normalizePan } from '@leakwatch/card';

describe('parseIsoDateTime', () => {
  it('reads zones and offsets, with or without seconds and fractions', () => {
    expect(parseIsoDateTime('2024-11-19T07:06:40Z')).toBe(1_732_000_000_000);
    expect(parseIsoDateTime('2024-11-19T16:06:40+09:00')).toBe(1_732_000_000_000);
    expect(parseIsoDateTime('2024-11-19T16:06:40.123456+0900')).toBe(1_732_000_000_123);
    expect(parseIsoDateTime('2024-11-19T02:06:40.5-05:00')).toBe(1_732_000_000_500);
    expect(parseIsoDateTime('2024-11-19T07:06Z')).toBe(1_732_000_000_000 - 40_000);
  });

  it('refuses what Date.parse would guess at', () => {
    for (const bad of [
      '2024-02-30T00:00:00Z', // Date.parse: March 1st
      '2023-02-29T00:00:00Z',
      '2024-11-19T07:06:40', // no zone: local time of whom?
      '2024-11-19',
      '2024-11-19T24:00:00Z',
      '2024-13-01T00:00:00Z',
      '2024-11-19T07:06:61Z',
      '1732000000000',
      '',
    ]) {
      expect(parseIsoDateTime(bad), bad).toBeNaN();
    }
    expect(parseIsoDateTime('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
  });
});

describe('isKnownCurrency', () => {
  it('knows ISO 4217 codes and refuses others', () => {
    for (const code of ['JPY', 'USD', 'EUR', 'GBP', 'VED', 'ZWG'])
      expect(isKnownCurrency(code), code).toBe(true);
    for (const code of ['XYZ', 'ABC', 'jpy', 'JP', 'JPYY', ''])
      expect(isKnownCurrency(code), code).toBe(false);
  });
});

describe('normalizePan (local stand-in for @leakwatch/card)', () => {
  it('strips spaces and dashes and checks length, digits and Luhn', () => {
    expect(normalizePan(' 4111-1111 1111-1111 ')).toEqual({ ok: true, pan: '4111111111111111' });
    expect(normalizePan('4111111111111112')).toEqual({ ok: false, reason: 'LUHN' });
    expect(normalizePan('41111111111')).toEqual({ ok: false, reason: 'INVALID_LENGTH' });
    expect(normalizePan('4'.repeat(20))).toEqual({ ok: false, reason: 'INVALID_LENGTH' });
    expect(normalizePan('4111x11111111111')).toEqual({ ok: false, reason: 'NON_DIGIT' });
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
  });
});
