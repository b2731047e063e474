import { describe, expect, it } from 'vitest';
import { schemeOf, type CardScheme } from './scheme.js';

describe('schemeOf', () => {
  const cases: [string, CardScheme][] = [
    ['4111111111111111', 'VISA'],
    ['4012888888881881', 'VISA'],
    ['5555555555554444', 'MASTERCARD'],
    ['5105105105105100', 'MASTERCARD'],
    ['2223003122003222', 'MASTERCARD'],
    ['2221000000000009', 'MASTERCARD'],
    ['2720990000000007', 'MASTERCARD'],
    ['378282246310005', 'AMEX'],
    ['341111111111111', 'AMEX'],
    ['3530111333300000', 'JCB'],
    ['3566002020360505', 'JCB'],
    ['36227206271667', 'DINERS'],
    ['30569309025904', 'DINERS'],
    ['38520000023237', 'DINERS'],
    ['6011111111111117', 'DISCOVER'],
    ['6445644564456445', 'DISCOVER'],
    ['6500000000000002', 'DISCOVER'],
    ['6200000000000005', 'UNIONPAY'],
    ['6250941006528599', 'UNIONPAY'],
  ];
  it.each(cases)('%s is %s', (pan, scheme) => {
    expect(schemeOf(pan)).toBe(scheme);
  });

  it('works on BINs of 6 or 8 digits', () => {
    expect(schemeOf('411111')).toBe('VISA');
    expect(schemeOf('22230031')).toBe('MASTERCARD');
    expect(schemeOf('352800')).toBe('JCB');
    expect(schemeOf('358999')).toBe('JCB');
    expect(schemeOf('305999')).toBe('DINERS');
    expect(schemeOf('309500')).toBe('DINERS');
    expect(schemeOf('644000')).toBe('DISCOVER');
    expect(schemeOf('649999')).toBe('DISCOVER');
  });

  it('reports the UnionPay/Discover co-branded range 622126-622925 as UNIONPAY', () => {
    expect(schemeOf('622126')).toBe('UNIONPAY');
    expect(schemeOf('622925')).toBe('UNIONPAY');
    expect(schemeOf('622125')).toBe('UNIONPAY');
  });

  it('says UNKNOWN just outside every range and for junk', () => {
    for (const bin of [
      '222099',
      '272100',
      '560000',
      '352700',
      '359000',
      '306000',
      '350000',
      '601200',
      '643999',
      '640000',
      '',
      'abc',
      'x',
      '1234567',
      '9999999',
    ]) {
      expect(schemeOf(bin), bin).toBe('UNKNOWN');
    }
  });
});
