import { alertIdFor, suspiciousChargeAlertSchema } from '@leakwatch/contracts';
import { defaultRuleSet } from '@leakwatch/rules';
import { describe, expect, it } from 'vitest';
import { buildAlert } from './build-alert.js';
import { evaluateWatched } from './evaluate.js';
import type { WatchedAuthorization } from './look-up-watched.js';
import {
  authorization,
  cardIncident,
  message,
  PAN,
  T0,
  twoKeyKeyring,
  resolvedCard,
} from './stages.fakes.js';

const keyring = twoKeyKeyring();
const route = { partnerId: 'asahi', issuerCountry: 'JP' };

function scoredAuthorization(eventId: string) {
  const auth = authorization({ eventId, channel: 'ECOMMERCE', threeDs: 'NOT_PERFORMED', cvvResult: 'MATCH' });
  const card = resolvedCard(auth.card, keyring);
  const [, k1] = card.fingerprints;
  const watched: WatchedAuthorization = {
    item: { message: message(7), auth, card },
    fingerprint: k1?.fingerprint as string,
    keyId: 'k1',
    incidents: [cardIncident('inc-1')],
  };
  const scored = evaluateWatched(
    watched,
    { authorizationsInVelocityWindow: 1, smallAmountsInCardTestingWindow: 0 },
    route,
    defaultRuleSet(),
    keyring,
  );
  return { watched, scored };
}

describe('buildAlert', () => {
  it('builds a contract-valid alert keyed by the current key, stamped with the route, without the PAN', () => {
    const { watched, scored } = scoredAuthorization('evt-42');
    const alert = buildAlert(watched, scored, route, { detectedAt: T0 + 5, retrospective: false });
    expect(suspiciousChargeAlertSchema.safeParse(alert).success).toBe(true);
    expect(alert).toMatchObject({
      alertId: alertIdFor('evt-42'),
      eventId: 'evt-42',
      occurredAt: T0,
      detectedAt: T0 + 5,
      partnerId: 'asahi',
      retrospective: false,
      card: { fingerprint: keyring.fingerprint(PAN), keyId: 'k2', last4: '1111', expiryMatchesLeak: null },
      score: scored.evaluation.score,
      severity: scored.evaluation.severity,
      ruleSetVersion: defaultRuleSet().version,
    });
    expect(alert.incidents.map((i) => i.incidentId)).toEqual(['inc-1']);
    expect(alert.reasons.map((r) => r.code)).toEqual(scored.evaluation.reasons.map((r) => r.code));
    expect(JSON.stringify(alert)).not.toContain(PAN);
  });

  it('gives a retrospective alert its own deterministic id, never the live one', () => {
    const { watched, scored } = scoredAuthorization('evt-42');
    const live = buildAlert(watched, scored, route, { detectedAt: T0, retrospective: false });
    const retro = buildAlert(watched, scored, route, { detectedAt: T0 + 1000, retrospective: true });
    const rerun = buildAlert(watched, scored, route, { detectedAt: T0 + 9000, retrospective: true });
    expect(retro.retrospective).toBe(true);
    expect(retro.alertId).not.toBe(live.alertId);
    expect(rerun.alertId).toBe(retro.alertId);
    expect(retro.alertId).toMatch(/^al_[A-Za-z0-9_-]{22}$/);
  });
});
