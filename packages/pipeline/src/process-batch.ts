import type { Keyring } from '@leakwatch/card';
import type { ErrorCode } from '@leakwatch/errors';
import type { CardIncident, LeakHit } from '@leakwatch/leak-store';
import { UNROUTED_PARTNER_ID, type PartnerRouter } from '@leakwatch/partners';
import { countsTowardCardTesting, evaluate, historyWindows, type RuleSet } from '@leakwatch/rules';
import { alertIdFor } from './alert-id.js';
import type { CardHistory, HistoryCounts } from './card-history.js';
import { resolveCard, type ResolvedCard } from './card-resolver.js';
import type {
  Authorization,
  AuthorizationDecoder,
  DecodeResult,
  InboundMessage,
  SuspiciousChargeAlert,
} from './types.js';

export interface WatchList {
  /** Hits among the fingerprints, in one round trip. */
  lookup(fingerprints: readonly string[]): Promise<Map<string, LeakHit>>;
}

export interface BatchDependencies {
  decoder: AuthorizationDecoder;
  keyring: Keyring;
  watchList: WatchList;
  history: Pick<CardHistory, 'record'>;
  ruleSet: RuleSet;
  router: PartnerRouter;
  now: () => number;
  /** Called with lookup latency (seconds) so it can be observed; optional. */
  onLookup?: (seconds: number, fingerprints: number) => void;
}

export interface AlertDecision {
  message: InboundMessage;
  alert: SuspiciousChargeAlert;
}

export interface DeadLetterDecision {
  message: InboundMessage;
  code: ErrorCode;
  reason: string;
}

export interface BatchOutcome {
  alerts: AlertDecision[];
  deadLetters: DeadLetterDecision[];
  clean: number;
  /** Authorizations on watched cards (alerting or not). */
  watched: number;
}

interface Pending {
  message: InboundMessage;
  auth: Authorization;
  card: ResolvedCard;
}

/**
 * Decides, for a batch in offset order, which messages raise alerts, which are poison and which
 * are clean. It writes nothing to Kafka; it only touches Redis for per-card history. It is safe
 * to run again on the same batch (after a retry or a crash): history counts an eventId once and
 * alertIds derive from eventIds. A retryable failure (Redis, registry) throws and nothing of the
 * batch is to be committed.
 */
export async function processBatch(
  messages: readonly InboundMessage[],
  deps: BatchDependencies,
): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { alerts: [], deadLetters: [], clean: 0, watched: 0 };
  const pending: Pending[] = [];

  const decodedBatch = await deps.decoder.decodeBatch(messages.map((m) => m.value));
  for (const [index, message] of messages.entries()) {
    const decoded = decodedBatch[index] as DecodeResult;
    if (!decoded.ok) {
      outcome.deadLetters.push({ message, code: decoded.code, reason: decoded.message });
      continue;
    }
    const resolved = resolveCard(decoded.value.card, deps.keyring);
    if (!resolved.ok) {
      outcome.deadLetters.push({ message, code: resolved.code, reason: resolved.message });
      continue;
    }
    pending.push({ message, auth: decoded.value, card: resolved.card });
  }

  const fingerprints: string[] = [];
  for (const p of pending) for (const f of p.card.fingerprints) fingerprints.push(f.fingerprint);
  const started = performance.now();
  const hits =
    fingerprints.length > 0 ? await deps.watchList.lookup(fingerprints) : new Map<string, LeakHit>();
  deps.onLookup?.((performance.now() - started) / 1000, fingerprints.length);

  // the watched ones, with the fingerprint (and key) the watch list knows them by
  const watched: Array<Pending & { hitFingerprint: string; hitKeyId: string; hit: LeakHit }> = [];
  for (const p of pending) {
    let found: { fingerprint: string; keyId: string; hit: LeakHit } | undefined;
    for (const f of p.card.fingerprints) {
      const hit = hits.get(f.fingerprint);
      if (hit && hit.incidents.length > 0) {
        found = { fingerprint: f.fingerprint, keyId: f.keyId, hit };
        break;
      }
    }
    if (found)
      watched.push({ ...p, hitFingerprint: found.fingerprint, hitKeyId: found.keyId, hit: found.hit });
    else outcome.clean += 1;
  }
  outcome.watched = watched.length;
  if (watched.length === 0) return outcome;

  const windows = historyWindows(deps.ruleSet);
  const counts: HistoryCounts[] = await deps.history.record(
    watched.map((w) => ({
      fingerprint: w.hitFingerprint,
      eventId: w.auth.eventId,
      occurredAt: w.auth.occurredAt,
      small: countsTowardCardTesting(deps.ruleSet, w.auth),
    })),
    {
      velocityMs: (windows.velocityWindowSeconds ?? 0) * 1000,
      cardTestingMs: (windows.cardTestingWindowSeconds ?? 0) * 1000,
    },
  );

  const detectedAt = deps.now();
  watched.forEach((w, index) => {
    const partner = deps.router.route(w.card.issuerBin);
    const expiryMatchesLeak = expiryMatch(w.card.expiry, w.hit.incidents, (expiry) =>
      deps.keyring.expiryTag(w.hitFingerprint, expiry, w.hitKeyId),
    );
    const history = counts[index] as HistoryCounts;
    const evaluation = evaluate(deps.ruleSet, {
      auth: w.auth,
      card: {
        bin: w.card.bin,
        last4: w.card.last4,
        scheme: w.card.scheme,
        issuerCountry: partner?.country ?? null,
      },
      watch: {
        incidents: w.hit.incidents.map((i) => ({
          incidentId: i.incidentId,
          compromiseType: i.incident.compromiseType,
          exposureStart: i.incident.exposureStart ?? null,
          exposureEnd: i.incident.exposureEnd ?? null,
          dataExposed: [...i.incident.dataExposed],
        })),
        expiryMatchesLeak,
      },
      history,
    });
    if (!evaluation.alert) {
      outcome.clean += 1;
      return;
    }
    const alert: SuspiciousChargeAlert = {
      alertId: alertIdFor(w.auth.eventId),
      eventId: w.auth.eventId,
      occurredAt: w.auth.occurredAt,
      detectedAt,
      partnerId: partner?.partnerId ?? UNROUTED_PARTNER_ID,
      card: {
        // keyed by the current key's fingerprint when the PAN came in: one card, one partition
        fingerprint: w.card.primary.fingerprint,
        keyId: w.card.primary.keyId,
        bin: w.card.bin,
        last4: w.card.last4,
        scheme: w.card.scheme,
        expiryMatchesLeak,
      },
      severity: evaluation.severity,
      score: evaluation.score,
      recommendedAction: evaluation.recommendedAction,
      reasons: evaluation.reasons.map((r) => ({
        code: r.code,
        description: r.description,
        points: r.points,
      })),
      incidents: w.hit.incidents.map((i) => ({
        incidentId: i.incidentId,
        compromiseType: i.incident.compromiseType,
        exposureStart: i.incident.exposureStart ?? null,
        exposureEnd: i.incident.exposureEnd ?? null,
        dataExposed: [...i.incident.dataExposed],
      })),
      transaction: {
        amountMinor: w.auth.amountMinor,
        currency: w.auth.currency,
        merchantId: w.auth.merchant.id,
        merchantName: w.auth.merchant.name,
        mcc: w.auth.merchant.mcc,
        merchantCountry: w.auth.merchant.country,
        channel: w.auth.channel,
        threeDs: w.auth.threeDs,
        cvvResult: w.auth.cvvResult,
        responseCode: w.auth.responseCode,
      },
      ruleSetVersion: evaluation.ruleSetVersion,
      retrospective: false,
    };
    outcome.alerts.push({ message: w.message, alert });
  });
  return outcome;
}

/** Whether the presented expiry equals a leaked one; null when either side is unknown. */
function expiryMatch(
  expiry: string | null,
  incidents: readonly CardIncident[],
  tagOf: (expiry: string) => string,
): boolean | null {
  const leaked = incidents.flatMap((i) => i.expiryTags);
  if (expiry === null || leaked.length === 0) return null;
  return leaked.includes(tagOf(expiry));
}
