import { defaultRuleSet } from '@leakwatch/rules';
import { describe, expect, it } from 'vitest';
import { evaluateWatched, expiryMatch } from './evaluate.js';
import type { WatchedAuthorization } from './look-up-watched.js';
import { authorization, cardIncident, message, twoKeyKeyring, resolvedCard } from './stages.fakes.js';

const keyring = twoKeyKeyring();
const history = { authorizationsInVelocityWindow: 1, smallAmountsInCardTestingWindow: 0 };

function watched(
  overrides: Parameters<typeof authorization>[0] = {},
  expiryTags: string[] = [],
): WatchedAuthorization {
  const auth = authorization(overrides);
  const card = resolvedCard(auth.card, keyring);
  const [, k1] = card.fingerprints;
  return {
    item: { message: message(1), auth, card },
    fingerprint: k1?.fingerprint as string,
    keyId: 'k1',
    incidents: [cardIncident('inc-1', expiryTags)],
  };
}

describe('expiryMatch', () => {
  const tagOf = (expiry: string) => `tag-${expiry}`;
  it('is null when either side is unknown, else whether a leaked tag equals the presented one', () => {
    expect(expiryMatch(null, [cardIncident('i', ['tag-2028-04'])], tagOf)).toBeNull();
    expect(expiryMatch('2028-04', [cardIncident('i')], tagOf)).toBeNull();
    expect(expiryMatch('2028-04', [cardIncident('i'), cardIncident('j', ['tag-2028-04'])], tagOf)).toBe(true);
    expect(expiryMatch('2028-05', [cardIncident('i', ['tag-2028-04'])], tagOf)).toBe(false);
  });
});

describe('evaluateWatched', () => {
  it('matches the expiry under the key the watch list knows the card by', () => {
    const w = watched();
    const tag = keyring.expiryTag(w.fingerprint, '2028-04', 'k1');
    const scored = evaluateWatched(
      { ...w, incidents: [cardIncident('inc-1', [tag])] },
      history,
      { partnerId: 'unrouted', issuerCountry: null },
      defaultRuleSet(),
      keyring,
    );
    expect(scored.expiryMatchesLeak).toBe(true);
    expect(scored.evaluation.alert).toBe(true);
    expect(scored.evaluation.reasons.map((r) => r.code)).toEqual(['LEAKED_CARD', 'EXPIRY_MATCHES_LEAK']);
  });

  it('judges CROSS_BORDER against the routed issuer country', () => {
    const usShop = watched({ merchant: { id: 'm', name: null, mcc: '5411', country: 'US' } });
    const codes = (issuerCountry: string | null) =>
      evaluateWatched(
        usShop,
        history,
        { partnerId: 'p', issuerCountry },
        defaultRuleSet(),
        keyring,
      ).evaluation.reasons.map((r) => r.code);
    expect(codes('US')).not.toContain('CROSS_BORDER');
    expect(codes('JP')).toContain('CROSS_BORDER');
    // no partner: the rules' default issuer country (JP) applies
    expect(codes(null)).toContain('CROSS_BORDER');
  });

  it('passes history counts to VELOCITY', () => {
    const scored = evaluateWatched(
      watched(),
      { authorizationsInVelocityWindow: 5, smallAmountsInCardTestingWindow: 0 },
      { partnerId: 'p', issuerCountry: 'JP' },
      defaultRuleSet(),
      keyring,
    );
    expect(scored.evaluation.reasons.map((r) => r.code)).toContain('VELOCITY');
  });
});
