import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES_CONFIG } from './config.js';
import {
  countsTowardCardTesting,
  evaluate,
  historyWindows,
  type EvaluationInput,
  type WatchIncident,
} from './evaluate.js';
import { defaultRuleSet, ruleSetFromObject } from './rule-set.js';

const skimming: WatchIncident = {
  incidentId: 'inc-2025-shop',
  compromiseType: 'WEB_SKIMMING',
  exposureStart: '2020-02-24',
  exposureEnd: '2024-10-15',
  dataExposed: ['PAN', 'EXPIRY', 'CVV', 'NAME'],
};

const breachNoCvv: WatchIncident = {
  incidentId: 'inc-db',
  compromiseType: 'DATABASE_BREACH',
  exposureStart: null,
  exposureEnd: null,
  dataExposed: ['PAN', 'EXPIRY'],
};

type Overrides = {
  auth?: Partial<EvaluationInput['auth']>;
  merchant?: Partial<EvaluationInput['auth']['merchant']>;
  card?: Partial<EvaluationInput['card']>;
  watch?: Partial<EvaluationInput['watch']>;
  history?: Partial<EvaluationInput['history']>;
};

/** A quiet charge on a watched card: domestic, card present, small but not tiny, first of its kind. */
function input(overrides: Overrides = {}): EvaluationInput {
  return {
    auth: {
      eventId: 'evt-1',
      occurredAt: Date.UTC(2025, 5, 1),
      amountMinor: 3000,
      currency: 'JPY',
      merchant: { id: 'm-1', name: 'Corner Store', mcc: '5411', country: 'JP', ...overrides.merchant },
      channel: 'CARD_PRESENT',
      threeDs: null,
      cvvResult: null,
      responseCode: '00',
      ...overrides.auth,
    },
    card: { bin: '45391234', last4: '4242', scheme: 'VISA', ...overrides.card },
    watch: { incidents: [breachNoCvv], expiryMatchesLeak: null, ...overrides.watch },
    history: { authorizationsInVelocityWindow: 1, smallAmountsInCardTestingWindow: 0, ...overrides.history },
  };
}

const rules = defaultRuleSet();
const codes = (overrides: Overrides = {}) => evaluate(rules, input(overrides)).reasons.map((r) => r.code);
const reason = (code: string, overrides: Overrides) =>
  evaluate(rules, input(overrides)).reasons.find((r) => r.code === code);

describe('evaluate with the built-in rules', () => {
  it('alerts LOW/MONITOR on any charge of a watched card, with LEAKED_CARD alone', () => {
    const result = evaluate(rules, input());
    expect(result).toMatchObject({
      alert: true,
      score: 20,
      severity: 'LOW',
      recommendedAction: 'MONITOR',
      ruleSetVersion: rules.version,
    });
    expect(result.reasons).toEqual([
      {
        code: 'LEAKED_CARD',
        points: 20,
        description: 'card is on the watch list of incident inc-db (DATABASE_BREACH)',
      },
    ]);
  });

  it('never alerts on a card that is not watched, whatever it scores', () => {
    const result = evaluate(
      rules,
      input({
        watch: { incidents: [] },
        history: { authorizationsInVelocityWindow: 9, smallAmountsInCardTestingWindow: 9 },
      }),
    );
    expect(result.alert).toBe(false);
    expect(result.reasons.map((r) => r.code)).not.toContain('LEAKED_CARD');
  });

  it('LEAKED_CARD lists every active incident', () => {
    expect(reason('LEAKED_CARD', { watch: { incidents: [skimming, breachNoCvv] } })?.description).toBe(
      'card is on the watch lists of 2 active incidents: ' +
        'inc-2025-shop (WEB_SKIMMING, exposure 2020-02-24 to 2024-10-15); inc-db (DATABASE_BREACH)',
    );
  });

  it('EXPIRY_MATCHES_LEAK fires only when the expiry is known to match', () => {
    expect(codes({ watch: { expiryMatchesLeak: true } })).toContain('EXPIRY_MATCHES_LEAK');
    expect(codes({ watch: { expiryMatchesLeak: false } })).not.toContain('EXPIRY_MATCHES_LEAK');
    expect(codes({ watch: { expiryMatchesLeak: null } })).not.toContain('EXPIRY_MATCHES_LEAK');
  });

  it('CVV_EXPOSED_CARD_NOT_PRESENT needs a CVV-exposing incident and a CVV-typing channel', () => {
    const cvvLeak = { incidents: [breachNoCvv, skimming] };
    const fired = reason('CVV_EXPOSED_CARD_NOT_PRESENT', {
      watch: cvvLeak,
      auth: { channel: 'ECOMMERCE', cvvResult: 'MATCH', threeDs: 'AUTHENTICATED' },
    });
    expect(fired?.points).toBe(10);
    expect(fired?.description).toContain('inc-2025-shop');
    expect(fired?.description).not.toContain('inc-db');
    expect(fired?.description).toContain('CVV result: MATCH');
    expect(codes({ watch: cvvLeak, auth: { channel: 'MOTO' } })).toContain('CVV_EXPOSED_CARD_NOT_PRESENT');
    for (const channel of ['CARD_PRESENT', 'CONTACTLESS', 'ATM', 'RECURRING', 'UNKNOWN'] as const) {
      expect(codes({ watch: cvvLeak, auth: { channel } }), channel).not.toContain(
        'CVV_EXPOSED_CARD_NOT_PRESENT',
      );
    }
    expect(codes({ auth: { channel: 'ECOMMERCE' } })).not.toContain('CVV_EXPOSED_CARD_NOT_PRESENT');
  });

  it('NO_3DS_CARD_NOT_PRESENT fires on e-commerce without successful 3-D Secure', () => {
    for (const threeDs of [null, 'NOT_PERFORMED', 'FAILED'] as const) {
      expect(codes({ auth: { channel: 'ECOMMERCE', threeDs } }), String(threeDs)).toContain(
        'NO_3DS_CARD_NOT_PRESENT',
      );
    }
    for (const threeDs of ['AUTHENTICATED', 'ATTEMPTED'] as const) {
      expect(codes({ auth: { channel: 'ECOMMERCE', threeDs } }), threeDs).not.toContain(
        'NO_3DS_CARD_NOT_PRESENT',
      );
    }
    expect(codes({ auth: { channel: 'MOTO', threeDs: null } })).not.toContain('NO_3DS_CARD_NOT_PRESENT');
    expect(codes({ auth: { channel: 'CARD_PRESENT', threeDs: null } })).not.toContain(
      'NO_3DS_CARD_NOT_PRESENT',
    );
    expect(reason('NO_3DS_CARD_NOT_PRESENT', { auth: { channel: 'ECOMMERCE' } })?.description).toBe(
      'ECOMMERCE charge without 3-D Secure authentication (3DS result: not reported)',
    );
  });

  it('HIGH_RISK_MCC fires for listed categories only', () => {
    expect(reason('HIGH_RISK_MCC', { merchant: { mcc: '6051' } })?.description).toBe(
      'merchant category 6051 (quasi-cash) is on the high-risk list',
    );
    expect(codes({ merchant: { mcc: '5411' } })).not.toContain('HIGH_RISK_MCC');
  });

  it('CROSS_BORDER compares with the issuer country, else the rules default (JP)', () => {
    expect(reason('CROSS_BORDER', { merchant: { country: 'US' } })?.description).toBe(
      'merchant country US differs from issuer country JP (assumed: rules default)',
    );
    expect(codes({ merchant: { country: 'JP' } })).not.toContain('CROSS_BORDER');
    expect(codes({ merchant: { country: 'JP' }, card: { issuerCountry: 'US' } })).toContain('CROSS_BORDER');
    expect(
      reason('CROSS_BORDER', { merchant: { country: 'JP' }, card: { issuerCountry: 'US' } }),
    ).toMatchObject({ description: 'merchant country JP differs from issuer country US' });
    expect(codes({ merchant: { country: 'US' }, card: { issuerCountry: 'US' } })).not.toContain(
      'CROSS_BORDER',
    );
    const noDefault = ruleSetFromObject({ rules: { CROSS_BORDER: { defaultIssuerCountry: null } } }, 't');
    const result = evaluate(noDefault, input({ merchant: { country: 'US' } }));
    expect(result.reasons.map((r) => r.code)).not.toContain('CROSS_BORDER');
  });

  it('HIGH_AMOUNT uses per-currency thresholds in minor units, inclusive', () => {
    expect(reason('HIGH_AMOUNT', { auth: { amountMinor: 150000, currency: 'JPY' } })?.description).toBe(
      'amount 150,000 JPY ≥ 100,000 JPY',
    );
    expect(codes({ auth: { amountMinor: 100000, currency: 'JPY' } })).toContain('HIGH_AMOUNT');
    expect(codes({ auth: { amountMinor: 99999, currency: 'JPY' } })).not.toContain('HIGH_AMOUNT');
    expect(reason('HIGH_AMOUNT', { auth: { amountMinor: 123456, currency: 'USD' } })?.description).toBe(
      'amount 1,234.56 USD ≥ 1,000.00 USD',
    );
    // An unlisted currency never fires by default: minor units do not compare across currencies.
    expect(codes({ auth: { amountMinor: 10 ** 12, currency: 'KRW' } })).not.toContain('HIGH_AMOUNT');
    const withOthers = ruleSetFromObject(
      { rules: { HIGH_AMOUNT: { otherCurrencyThresholdMinor: 500 } } },
      't',
    );
    const result = evaluate(withOthers, input({ auth: { amountMinor: 500, currency: 'KWD' } }));
    expect(result.reasons.find((r) => r.code === 'HIGH_AMOUNT')?.description).toBe(
      'amount 0.500 KWD ≥ 0.500 KWD',
    );
  });

  it('VELOCITY fires at N authorizations in the window', () => {
    expect(reason('VELOCITY', { history: { authorizationsInVelocityWindow: 5 } })?.description).toBe(
      '5 authorizations of this card in 10 minutes (threshold 5)',
    );
    expect(codes({ history: { authorizationsInVelocityWindow: 4 } })).not.toContain('VELOCITY');
  });

  it('CARD_TESTING fires at K small amounts in the window, on the charge that follows too', () => {
    expect(
      reason('CARD_TESTING', {
        auth: { amountMinor: 80000, channel: 'ECOMMERCE' },
        history: { smallAmountsInCardTestingWindow: 3 },
      })?.description,
    ).toBe('3 small-amount authorizations of this card in 1 hour (threshold 3; small means ≤ 100 JPY)');
    expect(codes({ history: { smallAmountsInCardTestingWindow: 2 } })).not.toContain('CARD_TESTING');
    expect(
      reason('CARD_TESTING', { auth: { currency: 'THB' }, history: { smallAmountsInCardTestingWindow: 4 } })
        ?.description,
    ).toBe('4 small-amount authorizations of this card in 1 hour (threshold 3)');
  });

  it('a leaked-CVV e-commerce charge without 3-D Secure is MEDIUM / STEP_UP_AUTH', () => {
    const result = evaluate(
      rules,
      input({ watch: { incidents: [skimming], expiryMatchesLeak: true }, auth: { channel: 'ECOMMERCE' } }),
    );
    expect(result.reasons.map((r) => r.code)).toEqual([
      'LEAKED_CARD',
      'EXPIRY_MATCHES_LEAK',
      'CVV_EXPOSED_CARD_NOT_PRESENT',
      'NO_3DS_CARD_NOT_PRESENT',
    ]);
    expect(result).toMatchObject({ score: 50, severity: 'MEDIUM', recommendedAction: 'STEP_UP_AUTH' });
  });

  it('caps the score at 100 while every reason keeps its points', () => {
    const result = evaluate(
      rules,
      input({
        watch: { incidents: [skimming], expiryMatchesLeak: true },
        auth: { channel: 'ECOMMERCE', amountMinor: 500000, currency: 'JPY' },
        merchant: { mcc: '6051', country: 'US' },
        history: { authorizationsInVelocityWindow: 6, smallAmountsInCardTestingWindow: 3 },
      }),
    );
    expect(result.reasons).toHaveLength(9);
    expect(result.reasons.reduce((sum, r) => sum + r.points, 0)).toBe(140);
    expect(result).toMatchObject({
      score: 100,
      severity: 'CRITICAL',
      recommendedAction: 'DECLINE_AND_REISSUE',
    });
  });

  it('descriptions never carry card digits', () => {
    const result = evaluate(
      rules,
      input({
        watch: { incidents: [skimming], expiryMatchesLeak: true },
        auth: { channel: 'ECOMMERCE', amountMinor: 500000 },
        merchant: { mcc: '6051', country: 'US' },
        history: { authorizationsInVelocityWindow: 6, smallAmountsInCardTestingWindow: 3 },
      }),
    );
    for (const r of result.reasons) {
      expect(r.description).not.toContain('45391234');
      expect(r.description).not.toContain('4242');
    }
  });
});

describe('evaluate with configured rules', () => {
  it('maps scores to bands at their boundaries', () => {
    const at = (points: number) =>
      evaluate(ruleSetFromObject({ rules: { LEAKED_CARD: { points } } }, 't'), input());
    expect(at(0)).toMatchObject({ score: 0, severity: 'LOW', recommendedAction: 'MONITOR' });
    expect(at(39)).toMatchObject({ severity: 'LOW' });
    expect(at(40)).toMatchObject({ severity: 'MEDIUM', recommendedAction: 'STEP_UP_AUTH' });
    expect(at(59)).toMatchObject({ severity: 'MEDIUM' });
    expect(at(60)).toMatchObject({ severity: 'HIGH', recommendedAction: 'CONTACT_CARDHOLDER' });
    expect(at(79)).toMatchObject({ severity: 'HIGH' });
    expect(at(80)).toMatchObject({ severity: 'CRITICAL', recommendedAction: 'DECLINE_AND_REISSUE' });
    expect(at(100)).toMatchObject({ score: 100, severity: 'CRITICAL' });
  });

  it('keeps a 0-point rule on the alert as an explanation', () => {
    const explainOnly = ruleSetFromObject(
      { rules: { LEAKED_CARD: { points: 0 }, HIGH_AMOUNT: { thresholdMinor: { JPY: 0 } } } },
      't',
    );
    const result = evaluate(explainOnly, input());
    expect(result.reasons.map((r) => [r.code, r.points])).toEqual([
      ['LEAKED_CARD', 0],
      ['HIGH_AMOUNT', 15],
    ]);
    expect(result.score).toBe(15);
  });

  it('uses custom bands and actions', () => {
    const custom = ruleSetFromObject(
      {
        severityBands: {
          MEDIUM: { minScore: 10, recommendedAction: 'CONTACT_CARDHOLDER' },
          HIGH: { minScore: 50 },
          CRITICAL: { minScore: 95 },
        },
      },
      't',
    );
    expect(evaluate(custom, input())).toMatchObject({
      score: 20,
      severity: 'MEDIUM',
      recommendedAction: 'CONTACT_CARDHOLDER',
    });
  });

  it('alerts only at or above alertMinScore', () => {
    const strict = ruleSetFromObject({ alertMinScore: 30 }, 't');
    expect(evaluate(strict, input()).alert).toBe(false);
    expect(evaluate(strict, input({ merchant: { mcc: '7995' } }))).toMatchObject({ alert: true, score: 35 });
  });

  it('a disabled rule never fires', () => {
    const off = ruleSetFromObject(
      {
        rules: Object.fromEntries(
          Object.keys(DEFAULT_RULES_CONFIG.rules).map((code) => [code, { enabled: false }]),
        ),
      },
      't',
    );
    const result = evaluate(
      off,
      input({
        watch: { incidents: [skimming], expiryMatchesLeak: true },
        auth: { channel: 'ECOMMERCE', amountMinor: 500000 },
        merchant: { mcc: '6051', country: 'US' },
        history: { authorizationsInVelocityWindow: 60, smallAmountsInCardTestingWindow: 30 },
      }),
    );
    expect(result).toMatchObject({ alert: true, score: 0, reasons: [], severity: 'LOW' });
  });

  it('uses configured channels, lists and thresholds', () => {
    const custom = ruleSetFromObject(
      {
        rules: {
          CVV_EXPOSED_CARD_NOT_PRESENT: { channels: ['RECURRING'] },
          NO_3DS_CARD_NOT_PRESENT: { channels: ['MOTO', 'ECOMMERCE'] },
          HIGH_RISK_MCC: { mccs: [5411] },
          VELOCITY: { minAuthorizations: 2, windowSeconds: 90 },
        },
      },
      't',
    );
    const result = evaluate(
      custom,
      input({
        watch: { incidents: [skimming] },
        auth: { channel: 'RECURRING' },
        history: { authorizationsInVelocityWindow: 2 },
      }),
    );
    expect(result.reasons.map((r) => r.code)).toEqual([
      'LEAKED_CARD',
      'CVV_EXPOSED_CARD_NOT_PRESENT',
      'HIGH_RISK_MCC',
      'VELOCITY',
    ]);
    expect(result.reasons.at(-1)?.description).toBe(
      '2 authorizations of this card in 90 seconds (threshold 2)',
    );
    expect(evaluate(custom, input({ auth: { channel: 'MOTO' } })).reasons.map((r) => r.code)).toContain(
      'NO_3DS_CARD_NOT_PRESENT',
    );
  });
});

describe('per-card history', () => {
  it('exports the windows the caller counts in, null when a rule is off', () => {
    expect(historyWindows(rules)).toEqual({
      velocityWindowSeconds: 600,
      cardTestingWindowSeconds: 3600,
      cardTestingSmallAmountMaxMinor: { EUR: 100, GBP: 100, JPY: 100, USD: 100 },
      cardTestingOtherCurrencySmallAmountMaxMinor: null,
    });
    const off = ruleSetFromObject(
      { rules: { VELOCITY: { enabled: false }, CARD_TESTING: { enabled: false } } },
      't',
    );
    expect(historyWindows(off)).toMatchObject({
      velocityWindowSeconds: null,
      cardTestingWindowSeconds: null,
    });
  });

  it('counts small amounts on card-testing channels only', () => {
    const small = { amountMinor: 100, currency: 'JPY', channel: 'ECOMMERCE' } as const;
    expect(countsTowardCardTesting(rules, small)).toBe(true);
    expect(countsTowardCardTesting(rules, { ...small, amountMinor: 0 })).toBe(true);
    expect(countsTowardCardTesting(rules, { ...small, amountMinor: 101 })).toBe(false);
    expect(countsTowardCardTesting(rules, { ...small, channel: 'CARD_PRESENT' })).toBe(false);
    expect(countsTowardCardTesting(rules, { ...small, currency: 'THB' })).toBe(false);
    const off = ruleSetFromObject({ rules: { CARD_TESTING: { enabled: false } } }, 't');
    expect(countsTowardCardTesting(off, small)).toBe(false);
    const others = ruleSetFromObject(
      { rules: { CARD_TESTING: { otherCurrencySmallAmountMaxMinor: 50 } } },
      't',
    );
    expect(countsTowardCardTesting(others, { ...small, currency: 'THB', amountMinor: 50 })).toBe(true);
  });
});
