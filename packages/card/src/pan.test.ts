import { describe, expect, it } from 'vitest';
import { LeakwatchError } from '@leakwatch/errors';
import { PAN_REJECT_REASONS, luhnValid, normalizePan, requirePan, withLuhnCheckDigit } from './pan.js';

// Published test card numbers of each scheme.
const TEST_CARDS = [
  '4111111111111111',
  '4012888888881881',
  '4222222222222',
  '5555555555554444',
  '5105105105105100',
  '2223003122003222',
  '378282246310005',
  '371449635398431',
  '3530111333300000',
  '3566002020360505',
  '36227206271667',
  '30569309025904',
  '6011111111111117',
  '6011000990139424',
  '6200000000000005',
  '6250941006528599',
];

describe('normalizePan', () => {
  it.each(TEST_CARDS)('accepts the test card %s', (pan) => {
    expect(normalizePan(pan)).toEqual({ ok: true, pan });
  });

  it('drops spaces and dashes inside and whitespace around', () => {
    expect(normalizePan('4111 1111 1111 1111')).toEqual({ ok: true, pan: '4111111111111111' });
    expect(normalizePan('4111-1111-1111-1111')).toEqual({ ok: true, pan: '4111111111111111' });
    expect(normalizePan(' \t3782-822463-10005 \n')).toEqual({ ok: true, pan: '378282246310005' });
  });

  it('refuses letters, dots and other separators as NON_DIGIT', () => {
    for (const input of [
      '4111111111111a11',
      '4111.1111.1111.1111',
      '4111_1111_1111_1111',
      '４１１１111111111111',
    ]) {
      expect(normalizePan(input)).toEqual({ ok: false, reason: 'NON_DIGIT' });
    }
  });

  it('refuses fewer than 12 or more than 19 digits as INVALID_LENGTH', () => {
    expect(normalizePan('')).toEqual({ ok: false, reason: 'INVALID_LENGTH' });
    expect(normalizePan('41111111113')).toEqual({ ok: false, reason: 'INVALID_LENGTH' }); // 11
    expect(normalizePan('41111111111111111112')).toEqual({ ok: false, reason: 'INVALID_LENGTH' }); // 20
    expect(normalizePan(withLuhnCheckDigit('60110000000'))).toMatchObject({ ok: true }); // 12
    expect(normalizePan(withLuhnCheckDigit('411111111111111111'))).toMatchObject({ ok: true }); // 19
  });

  it('refuses a wrong check digit as LUHN', () => {
    expect(normalizePan('4111111111111112')).toEqual({ ok: false, reason: 'LUHN' });
    expect(normalizePan('5555 5555 5555 4445')).toEqual({ ok: false, reason: 'LUHN' });
  });

  it('describes every reason without the number', () => {
    for (const text of Object.values(PAN_REJECT_REASONS)) expect(text).not.toMatch(/\d{6}/);
    try {
      requirePan('4111111111111112');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(LeakwatchError);
      expect((error as LeakwatchError).code).toBe('INVALID_PAN');
      expect((error as LeakwatchError).message).not.toContain('4111');
      expect((error as LeakwatchError).details).toEqual({ reason: 'LUHN' });
    }
    expect(requirePan('4111 1111 1111 1111')).toBe('4111111111111111');
  });
});

describe('luhn helpers', () => {
  it('checks and completes numbers', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
    expect(withLuhnCheckDigit('7992739871')).toBe('79927398713');
    expect(withLuhnCheckDigit('411111111111111')).toBe('4111111111111111');
    expect(() => withLuhnCheckDigit('41x')).toThrow(LeakwatchError);
  });
});
