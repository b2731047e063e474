import {
  SEVERITIES,
  type Channel,
  type CvvResult,
  type RecommendedAction,
  type Severity,
  type ThreeDsResult,
} from '@leakwatch/contracts';
import { LeakwatchError } from '@leakwatch/errors';
import type { RulesConfig } from './config.js';
import { describeMcc, formatDuration, formatMinorAmount, plural } from './format.js';
import type { ReasonCode } from './model.js';
import type { RuleSet } from './rule-set.js';

/** An active incident whose watch list holds the card. */
export interface WatchIncident {
  incidentId: string;
  compromiseType: string;
  exposureStart: string | null;
  exposureEnd: string | null;
  /** PAN, EXPIRY, CVV, NAME, ... as in the incident manifest. */
  dataExposed: readonly string[];
}

/** Everything a decision needs, already looked up; no PAN anywhere. */
export interface EvaluationInput {
  auth: {
    eventId: string;
    occurredAt: number;
    amountMinor: number;
    currency: string;
    merchant: { id: string; name: string | null; mcc: string; country: string };
    channel: Channel;
    threeDs: ThreeDsResult | null;
    cvvResult: CvvResult | null;
    responseCode: string | null;
  };
  card: {
    bin: string;
    last4: string;
    scheme: string;
    /** ISO 3166-1 alpha-2 of the issuer when known (from the partner owning the BIN); else the rules default applies. */
    issuerCountry?: string | null;
  };
  watch: {
    /** Active incidents listing this card; empty means the card is not watched and never alerts. */
    incidents: readonly WatchIncident[];
    /** Whether the expiry presented equals the leaked one; null when either is unknown. */
    expiryMatchesLeak: boolean | null;
  };
  history: {
    /** Authorizations of this card within the velocity window, this one included. */
    authorizationsInVelocityWindow: number;
    /** Small-amount authorizations of this card within the card-testing window, this one included if small. */
    smallAmountsInCardTestingWindow: number;
  };
}

/** One rule that fired, worded for an analyst or an issuer. */
export interface Reason {
  code: ReasonCode;
  description: string;
  points: number;
}

export interface Evaluation {
  /** True only for a watched card whose score reaches `alertMinScore`. */
  alert: boolean;
  /** Sum of the points of every reason, capped at 100. */
  score: number;
  severity: Severity;
  recommendedAction: RecommendedAction;
  /** Every rule that fired, in a fixed order. */
  reasons: Reason[];
  ruleSetVersion: string;
}

const NO_3DS: ReadonlySet<ThreeDsResult | null> = new Set<ThreeDsResult | null>([
  null,
  'NOT_PERFORMED',
  'FAILED',
]);

/** Lookup structures built once per rule set, not once per charge. */
interface Compiled {
  cvvChannels: ReadonlySet<Channel>;
  no3dsChannels: ReadonlySet<Channel>;
  cardTestingChannels: ReadonlySet<Channel>;
  mccs: ReadonlySet<string>;
  /** Highest band first. */
  bands: { severity: Severity; minScore: number; recommendedAction: RecommendedAction }[];
}

const compiledCache = new WeakMap<RulesConfig, Compiled>();

function compile(config: RulesConfig): Compiled {
  let compiled = compiledCache.get(config);
  if (compiled === undefined) {
    const { rules } = config;
    compiled = {
      cvvChannels: new Set(rules.CVV_EXPOSED_CARD_NOT_PRESENT.channels),
      no3dsChannels: new Set(rules.NO_3DS_CARD_NOT_PRESENT.channels),
      cardTestingChannels: new Set(rules.CARD_TESTING.channels),
      mccs: new Set(rules.HIGH_RISK_MCC.mccs),
      bands: [...SEVERITIES].reverse().map((severity) => ({ severity, ...config.severityBands[severity] })),
    };
    compiledCache.set(config, compiled);
  }
  return compiled;
}

/**
 * Scores one charge. Pure: the same rule set and input always give the same result, so a
 * redelivered authorization gives the same alert.
 */
export function evaluate(ruleSet: RuleSet, input: EvaluationInput): Evaluation {
  const { config } = ruleSet;
  const { rules } = config;
  const compiled = compile(config);
  const { auth, watch, history } = input;
  const reasons: Reason[] = [];
  const fire = (code: ReasonCode, points: number, description: string) =>
    reasons.push({ code, description, points });

  if (rules.LEAKED_CARD.enabled && watch.incidents.length > 0) {
    fire('LEAKED_CARD', rules.LEAKED_CARD.points, describeIncidents(watch.incidents));
  }

  if (rules.EXPIRY_MATCHES_LEAK.enabled && watch.expiryMatchesLeak === true) {
    fire(
      'EXPIRY_MATCHES_LEAK',
      rules.EXPIRY_MATCHES_LEAK.points,
      'expiry presented equals the leaked expiry, so the leaked card data is still usable',
    );
  }

  if (rules.CVV_EXPOSED_CARD_NOT_PRESENT.enabled && compiled.cvvChannels.has(auth.channel)) {
    const exposing = watch.incidents.filter((incident) => incident.dataExposed.includes('CVV'));
    if (exposing.length > 0) {
      const ids = exposing.map((incident) => incident.incidentId).join(', ');
      const cvv = auth.cvvResult === null ? 'not reported' : auth.cvvResult;
      fire(
        'CVV_EXPOSED_CARD_NOT_PRESENT',
        rules.CVV_EXPOSED_CARD_NOT_PRESENT.points,
        `security code exposed by ${exposing.length === 1 ? 'incident' : 'incidents'} ${ids}; ` +
          `${auth.channel} charge where a CVV check cannot tell a fraudster from the cardholder (CVV result: ${cvv})`,
      );
    }
  }

  if (
    rules.NO_3DS_CARD_NOT_PRESENT.enabled &&
    compiled.no3dsChannels.has(auth.channel) &&
    NO_3DS.has(auth.threeDs)
  ) {
    const result = auth.threeDs === null ? 'not reported' : auth.threeDs;
    fire(
      'NO_3DS_CARD_NOT_PRESENT',
      rules.NO_3DS_CARD_NOT_PRESENT.points,
      `${auth.channel} charge without 3-D Secure authentication (3DS result: ${result})`,
    );
  }

  if (rules.HIGH_RISK_MCC.enabled && compiled.mccs.has(auth.merchant.mcc)) {
    fire(
      'HIGH_RISK_MCC',
      rules.HIGH_RISK_MCC.points,
      `merchant category ${describeMcc(auth.merchant.mcc)} is on the high-risk list`,
    );
  }

  if (rules.CROSS_BORDER.enabled) {
    const known = input.card.issuerCountry ?? null;
    const issuerCountry = known ?? rules.CROSS_BORDER.defaultIssuerCountry;
    const merchantCountry = auth.merchant.country.toUpperCase();
    if (issuerCountry !== null && merchantCountry !== issuerCountry.toUpperCase()) {
      fire(
        'CROSS_BORDER',
        rules.CROSS_BORDER.points,
        `merchant country ${merchantCountry} differs from issuer country ${issuerCountry.toUpperCase()}` +
          (known === null ? ' (assumed: rules default)' : ''),
      );
    }
  }

  if (rules.HIGH_AMOUNT.enabled) {
    const threshold =
      rules.HIGH_AMOUNT.thresholdMinor[auth.currency] ?? rules.HIGH_AMOUNT.otherCurrencyThresholdMinor;
    if (threshold !== null && auth.amountMinor >= threshold) {
      fire(
        'HIGH_AMOUNT',
        rules.HIGH_AMOUNT.points,
        `amount ${formatMinorAmount(auth.amountMinor, auth.currency)} ≥ ${formatMinorAmount(threshold, auth.currency)}`,
      );
    }
  }

  if (rules.VELOCITY.enabled && history.authorizationsInVelocityWindow >= rules.VELOCITY.minAuthorizations) {
    fire(
      'VELOCITY',
      rules.VELOCITY.points,
      `${plural(history.authorizationsInVelocityWindow, 'authorization')} of this card in ` +
        `${formatDuration(rules.VELOCITY.windowSeconds)} (threshold ${rules.VELOCITY.minAuthorizations})`,
    );
  }

  if (
    rules.CARD_TESTING.enabled &&
    history.smallAmountsInCardTestingWindow >= rules.CARD_TESTING.minAuthorizations
  ) {
    const small = smallAmountMax(config, auth.currency);
    fire(
      'CARD_TESTING',
      rules.CARD_TESTING.points,
      `${plural(history.smallAmountsInCardTestingWindow, 'small-amount authorization')} of this card in ` +
        `${formatDuration(rules.CARD_TESTING.windowSeconds)} (threshold ${rules.CARD_TESTING.minAuthorizations}` +
        (small === null ? ')' : `; small means ≤ ${formatMinorAmount(small, auth.currency)})`),
    );
  }

  let total = 0;
  for (const reason of reasons) total += reason.points;
  const score = Math.min(100, total);
  const band = compiled.bands.find((candidate) => score >= candidate.minScore) ?? compiled.bands.at(-1);
  if (band === undefined) throw new LeakwatchError('INTERNAL', 'rule set has no severity bands');
  return {
    alert: watch.incidents.length > 0 && score >= config.alertMinScore,
    score,
    severity: band.severity,
    recommendedAction: band.recommendedAction,
    reasons,
    ruleSetVersion: ruleSet.version,
  };
}

function describeIncidents(incidents: readonly WatchIncident[]): string {
  const one = (incident: WatchIncident) => {
    const window =
      incident.exposureStart !== null || incident.exposureEnd !== null
        ? `, exposure ${incident.exposureStart ?? '?'} to ${incident.exposureEnd ?? '?'}`
        : '';
    return `${incident.incidentId} (${incident.compromiseType}${window})`;
  };
  if (incidents.length === 1)
    return `card is on the watch list of incident ${one(incidents[0] as WatchIncident)}`;
  return `card is on the watch lists of ${incidents.length} active incidents: ${incidents.map(one).join('; ')}`;
}

function smallAmountMax(config: RulesConfig, currency: string): number | null {
  const rule = config.rules.CARD_TESTING;
  return rule.smallAmountMaxMinor[currency] ?? rule.otherCurrencySmallAmountMaxMinor;
}

/** What the caller must count per card (in Redis) so that `history` can be filled in. */
export interface HistoryWindows {
  /** Look-back of the VELOCITY count; null when VELOCITY is off (no need to count). */
  velocityWindowSeconds: number | null;
  /** Look-back of the CARD_TESTING count; null when CARD_TESTING is off. */
  cardTestingWindowSeconds: number | null;
  /**
   * What counts as small, for reference; decide per authorization with
   * {@link countsTowardCardTesting}, which also checks the channel.
   */
  cardTestingSmallAmountMaxMinor: Readonly<Record<string, number>>;
  cardTestingOtherCurrencySmallAmountMaxMinor: number | null;
}

export function historyWindows(ruleSet: RuleSet): HistoryWindows {
  const { rules } = ruleSet.config;
  return {
    velocityWindowSeconds: rules.VELOCITY.enabled ? rules.VELOCITY.windowSeconds : null,
    cardTestingWindowSeconds: rules.CARD_TESTING.enabled ? rules.CARD_TESTING.windowSeconds : null,
    cardTestingSmallAmountMaxMinor: rules.CARD_TESTING.smallAmountMaxMinor,
    cardTestingOtherCurrencySmallAmountMaxMinor: rules.CARD_TESTING.otherCurrencySmallAmountMaxMinor,
  };
}

/**
 * Whether this authorization counts toward CARD_TESTING: a card-testing channel and an amount at
 * or below the small-amount maximum of its currency. The caller adds it to the card's counter
 * before reading `smallAmountsInCardTestingWindow`.
 */
export function countsTowardCardTesting(
  ruleSet: RuleSet,
  auth: Pick<EvaluationInput['auth'], 'amountMinor' | 'currency' | 'channel'>,
): boolean {
  const { config } = ruleSet;
  if (!config.rules.CARD_TESTING.enabled || !compile(config).cardTestingChannels.has(auth.channel))
    return false;
  const max = smallAmountMax(config, auth.currency);
  return max !== null && auth.amountMinor <= max;
}
