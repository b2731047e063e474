import type { Keyring } from '@leakwatch/card';
import type { CardIncident } from '@leakwatch/leak-store';
import type { AlertIncident } from '@leakwatch/contracts';
import { evaluate, type Evaluation, type RuleSet } from '@leakwatch/rules';
import type { HistoryCounts } from '../card-history.js';
import type { WatchedAuthorization } from './look-up-watched.js';
import type { Route } from './route.js';

/** What evaluating needs of the keyring: the expiry tag of a fingerprint under its key. */
export type ExpiryTagger = Pick<Keyring, 'expiryTag'>;

/** A watched authorization, scored. */
export interface Scored {
  evaluation: Evaluation;
  /** Whether the presented expiry equals a leaked one; null when either side is unknown. */
  expiryMatchesLeak: boolean | null;
}

/** The incidents of a hit as the rules and the alert describe them. */
export function watchIncidents(incidents: readonly CardIncident[]): AlertIncident[] {
  return incidents.map((i) => ({
    incidentId: i.incidentId,
    compromiseType: i.incident.compromiseType,
    exposureStart: i.incident.exposureStart ?? null,
    exposureEnd: i.incident.exposureEnd ?? null,
    dataExposed: [...i.incident.dataExposed],
  }));
}

/**
 * Stage 5: scores one watched authorization with the rule set in force, its card's history
 * counts and its issuer country. Pure: no I/O.
 */
export function evaluateWatched(
  watched: WatchedAuthorization,
  history: HistoryCounts,
  route: Route,
  ruleSet: RuleSet,
  keyring: ExpiryTagger,
): Scored {
  const { auth, card } = watched.item;
  const expiryMatchesLeak = expiryMatch(card.expiry, watched.incidents, (expiry) =>
    keyring.expiryTag(watched.fingerprint, expiry, watched.keyId),
  );
  const evaluation = evaluate(ruleSet, {
    auth,
    card: { bin: card.bin, last4: card.last4, scheme: card.scheme, issuerCountry: route.issuerCountry },
    watch: { incidents: watchIncidents(watched.incidents), expiryMatchesLeak },
    history,
  });
  return { evaluation, expiryMatchesLeak };
}

/** Whether the presented expiry equals a leaked one; null when either side is unknown. */
export function expiryMatch(
  expiry: string | null,
  incidents: readonly CardIncident[],
  tagOf: (expiry: string) => string,
): boolean | null {
  const leaked = incidents.flatMap((i) => i.expiryTags);
  if (expiry === null || leaked.length === 0) return null;
  return leaked.includes(tagOf(expiry));
}
