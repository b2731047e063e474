import { describe, expect, it } from 'vitest';
import { isExpiry, luhnValid, schemeOf } from '@leakwatch/card';
import { isLeakwatchError } from '@leakwatch/errors';
import {
  JAPAN_SCHEME_MIX,
  SIMULATED_ISSUER_BINS,
  SIMULATED_SCHEMES,
  addMonths,
  generateCards,
  iterateCards,
  luhnCheckDigit,
  monthAfter,
} from './cards.js';

const referenceTime = Date.UTC(2025, 4, 28); // 2025-05
const LENGTHS: Record<string, number[]> = {
  VISA: [16],
  MASTERCARD: [16],
  JCB: [16],
  AMEX: [15],
  DINERS: [14, 16],
  DISCOVER: [16],
  UNIONPAY: [16, 19],
};

describe('generateCards', () => {
  const cards = generateCards({ count: 20_000, seed: 'cards', referenceTime });

  it('issues Luhn-valid PANs of the right length in their scheme ranges', () => {
    const wrong = cards.filter(
      (c) => !luhnValid(c.pan) || schemeOf(c.pan) !== c.scheme || !LENGTHS[c.scheme]!.includes(c.pan.length),
    );
    expect(wrong).toEqual([]);
  });

  it('covers every scheme, Mastercard 2-series and both Amex ranges included, roughly by the mix', () => {
    const byScheme = new Map<string, number>();
    for (const card of cards) byScheme.set(card.scheme, (byScheme.get(card.scheme) ?? 0) + 1);
    for (const scheme of SIMULATED_SCHEMES) {
      const share = (byScheme.get(scheme) ?? 0) / cards.length;
      expect(Math.abs(share - JAPAN_SCHEME_MIX[scheme]), scheme).toBeLessThan(0.015);
    }
    expect(cards.some((c) => c.scheme === 'MASTERCARD' && c.pan.startsWith('2'))).toBe(true);
    expect(cards.some((c) => c.pan.startsWith('34'))).toBe(true);
    expect(cards.some((c) => c.pan.startsWith('37'))).toBe(true);
    expect(cards.some((c) => c.scheme === 'UNIONPAY' && c.pan.length === 19)).toBe(true);
  });

  it('gives future expiries within five years, CVVs of 3 digits (4 for Amex) and names', () => {
    const wrong = cards.filter(
      (c) =>
        !isExpiry(c.expiry) ||
        !(c.expiry > '2025-05' && c.expiry <= '2030-05') ||
        !(c.scheme === 'AMEX' ? /^\d{4}$/ : /^\d{3}$/).test(c.cvv) ||
        !/^[A-Z'-]+ [A-Z'-]+$/.test(c.name),
    );
    expect(wrong).toEqual([]);
    expect(new Set(cards.map((c) => c.expiry)).size).toBe(60);
  });

  it('keeps PANs distinct', () => {
    expect(new Set(cards.map((c) => c.pan)).size).toBe(cards.length);
  });

  it('is deterministic for a seed and reference month', () => {
    expect(generateCards({ count: 50, seed: 'cards', referenceTime })).toEqual(cards.slice(0, 50));
    expect(generateCards({ count: 50, seed: 'other', referenceTime })).not.toEqual(cards.slice(0, 50));
    const iterated = [...iterateCards({ count: 50, seed: 'cards', referenceTime })];
    expect(iterated).toEqual(cards.slice(0, 50));
  });

  it('follows a custom scheme mix', () => {
    const jcbOnly = generateCards({ count: 200, seed: 1, referenceTime, schemeMix: { JCB: 1 } });
    expect(jcbOnly.every((c) => c.scheme === 'JCB')).toBe(true);
  });

  it('refuses bad options with USAGE, every problem listed', () => {
    let caught: unknown;
    try {
      generateCards({ count: -1, seed: 1, schemeMix: { VISA: -1, BOGUS: 1 } as never });
    } catch (error) {
      caught = error;
    }
    expect(isLeakwatchError(caught, 'USAGE')).toBe(true);
    expect(() => generateCards({ count: 1.5, seed: 1 })).toThrow(/count/);
    expect(() => generateCards({ count: 1, seed: 1, schemeMix: { VISA: 0 } })).toThrow(/positive/);
  });
});

describe('issuer BINs', () => {
  it('belong to their scheme', () => {
    for (const scheme of SIMULATED_SCHEMES) {
      for (const { bin, panLength } of SIMULATED_ISSUER_BINS[scheme]) {
        expect(schemeOf(bin), bin).toBe(scheme);
        expect(LENGTHS[scheme], bin).toContain(panLength);
      }
    }
  });
});

describe('helpers', () => {
  it('computes Luhn check digits', () => {
    expect(luhnCheckDigit('411111111111111')).toBe('1');
    expect(luhnCheckDigit('7992739871')).toBe('3');
    expect(luhnCheckDigit('37828224631000')).toBe('5');
  });

  it('adds months across years', () => {
    expect(addMonths('2025-11', 3)).toBe('2026-02');
    expect(addMonths('2025-01', -1)).toBe('2024-12');
    expect(monthAfter(Date.UTC(2025, 11, 31, 23), 1)).toBe('2026-01');
  });
});
