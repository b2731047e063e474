import { alertIdFor } from '@leakwatch/contracts';
import type { SuspiciousChargeAlert } from '../types.js';
import { watchIncidents, type Scored } from './evaluate.js';
import type { WatchedAuthorization } from './look-up-watched.js';
import type { Route } from './route.js';

/** What differs between the live monitor and a retro-hunt. */
export interface AlertContext {
  /** When the alert is raised (ms since epoch). */
  detectedAt: number;
  /** True for alerts a retro-hunt raises on past authorizations. */
  retrospective: boolean;
}

/**
 * Stage 6: the alert of a scored authorization. The alertId derives from the eventId (and
 * whether the alert is retrospective), so a redelivery or a rerun repeats the same id. Never
 * carries a PAN: the card is the fingerprint, BIN and last 4.
 */
export function buildAlert(
  watched: WatchedAuthorization,
  scored: Scored,
  route: Route,
  context: AlertContext,
): SuspiciousChargeAlert {
  const { auth, card } = watched.item;
  const { evaluation } = scored;
  return {
    alertId: alertIdFor(auth.eventId, { retrospective: context.retrospective }),
    eventId: auth.eventId,
    occurredAt: auth.occurredAt,
    detectedAt: context.detectedAt,
    partnerId: route.partnerId,
    card: {
      // keyed by the current key's fingerprint when the PAN came in: one card, one partition
      fingerprint: card.primary.fingerprint,
      keyId: card.primary.keyId,
      bin: card.bin,
      last4: card.last4,
      scheme: card.scheme,
      expiryMatchesLeak: scored.expiryMatchesLeak,
    },
    severity: evaluation.severity,
    score: evaluation.score,
    recommendedAction: evaluation.recommendedAction,
    reasons: evaluation.reasons.map((r) => ({ code: r.code, description: r.description, points: r.points })),
    incidents: watchIncidents(watched.incidents),
    transaction: {
      amountMinor: auth.amountMinor,
      currency: auth.currency,
      merchantId: auth.merchant.id,
      merchantName: auth.merchant.name,
      mcc: auth.merchant.mcc,
      merchantCountry: auth.merchant.country,
      channel: auth.channel,
      threeDs: auth.threeDs,
      cvvResult: auth.cvvResult,
      responseCode: auth.responseCode,
    },
    ruleSetVersion: evaluation.ruleSetVersion,
    retrospective: context.retrospective,
  };
}
