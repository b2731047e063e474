import {
  CHANNELS,
  RECOMMENDED_ACTIONS,
  SEVERITIES,
  type Channel,
  type RecommendedAction,
  type Severity,
} from '@leakwatch/contracts';
import { z } from 'zod';

/** Every rule can be switched off, and its points (0-100) are added to the score when it fires. */
export interface RuleToggle {
  enabled: boolean;
  /** Added to the score when the rule fires; 0 keeps the reason on the alert without scoring it. */
  points: number;
}

/** A score range, from `minScore` up to the next band's `minScore` (exclusive). */
export interface SeverityBand {
  minScore: number;
  recommendedAction: RecommendedAction;
}

/** A rule set as loaded: every field present, defaults applied, lists sorted and deduplicated. */
export interface RulesConfig {
  /**
   * A charge on a watched card raises an alert when its score is at least this. 0 means every
   * charge on a watched card alerts (at least LOW): the card companies asked for those cards to
   * be watched, so silence by default would hide the charges they most want to see.
   */
  alertMinScore: number;
  /** LOW starts at 0; each next band starts strictly higher. Score ≥ a band's minScore → that band. */
  severityBands: Record<Severity, SeverityBand>;
  rules: {
    /** The card is on the watch list of at least one active incident. */
    LEAKED_CARD: RuleToggle;
    /** The expiry presented equals the leaked expiry: the leaked data is still usable. */
    EXPIRY_MATCHES_LEAK: RuleToggle;
    /** An incident exposed the security code and the charge is on a channel where CVV is typed. */
    CVV_EXPOSED_CARD_NOT_PRESENT: RuleToggle & { channels: Channel[] };
    /** A card-not-present charge without 3-D Secure (missing, NOT_PERFORMED or FAILED). */
    NO_3DS_CARD_NOT_PRESENT: RuleToggle & { channels: Channel[] };
    /** The merchant category code is on this list (4-digit strings). */
    HIGH_RISK_MCC: RuleToggle & { mccs: string[] };
    /**
     * The merchant country differs from the card's issuing country. The authorization does not
     * carry the issuing country: the caller passes it (from the partner that owns the BIN) and this
     * default stands in when it is unknown; null means "unknown country never fires".
     */
    CROSS_BORDER: RuleToggle & { defaultIssuerCountry: string | null };
    /** Amount ≥ the threshold of its currency, in minor units. */
    HIGH_AMOUNT: RuleToggle & {
      thresholdMinor: Record<string, number>;
      /** For currencies not listed; null means such amounts never fire (minor units do not compare across currencies). */
      otherCurrencyThresholdMinor: number | null;
    };
    /** At least `minAuthorizations` authorizations of one card within `windowSeconds` (this one included). */
    VELOCITY: RuleToggle & { minAuthorizations: number; windowSeconds: number };
    /** At least `minAuthorizations` small-amount authorizations of one card within `windowSeconds`. */
    CARD_TESTING: RuleToggle & {
      minAuthorizations: number;
      windowSeconds: number;
      /** Only authorizations on these channels count as card tests. */
      channels: Channel[];
      /** Largest amount (minor units, inclusive) that counts as small, per currency. */
      smallAmountMaxMinor: Record<string, number>;
      /** For currencies not listed; null means they never count as small. */
      otherCurrencySmallAmountMaxMinor: number | null;
    };
  };
}

/**
 * The built-in rule set, used when no rules file is given; `defaults.yaml` in this package is the
 * same set written out with comments (a test keeps the two equal). Why these numbers:
 *
 * - Bands LOW <40 ≤ MEDIUM <60 ≤ HIGH <80 ≤ CRITICAL. A watched card on its own scores 20: LOW,
 *   MONITOR. A leaked-CVV e-commerce charge without 3-D Secure scores 50: MEDIUM, STEP_UP_AUTH
 *   (exactly what 3-D Secure is for). Add a high-risk merchant or a burst of charges and it is
 *   HIGH (call the cardholder); card testing on a leaked card, or several strong signals together,
 *   reach CRITICAL (decline and reissue).
 * - Card-not-present: CVV exposure matters where a person types the CVV (ECOMMERCE, MOTO);
 *   RECURRING charges are merchant-initiated without CVV. 3-D Secure exists only for ECOMMERCE,
 *   so only there is its absence a signal.
 * - CARD_TESTING (30) is the strongest single signal: small repeated online charges on a card
 *   known to be leaked are a fraudster checking that the stolen data works.
 * - CROSS_BORDER assumes a Japanese issuer when the partner does not say (the reference incident
 *   and its card companies are Japanese); set `defaultIssuerCountry` for another market, or null.
 */
export const DEFAULT_RULES_CONFIG: RulesConfig = deepFreeze({
  alertMinScore: 0,
  severityBands: {
    LOW: { minScore: 0, recommendedAction: 'MONITOR' },
    MEDIUM: { minScore: 40, recommendedAction: 'STEP_UP_AUTH' },
    HIGH: { minScore: 60, recommendedAction: 'CONTACT_CARDHOLDER' },
    CRITICAL: { minScore: 80, recommendedAction: 'DECLINE_AND_REISSUE' },
  },
  rules: {
    LEAKED_CARD: { enabled: true, points: 20 },
    EXPIRY_MATCHES_LEAK: { enabled: true, points: 5 },
    CVV_EXPOSED_CARD_NOT_PRESENT: { enabled: true, points: 10, channels: ['ECOMMERCE', 'MOTO'] },
    NO_3DS_CARD_NOT_PRESENT: { enabled: true, points: 15, channels: ['ECOMMERCE'] },
    HIGH_RISK_MCC: {
      enabled: true,
      points: 15,
      mccs: ['4829', '5732', '5816', '5944', '5967', '6051', '6540', '7995'],
    },
    CROSS_BORDER: { enabled: true, points: 10, defaultIssuerCountry: 'JP' },
    HIGH_AMOUNT: {
      enabled: true,
      points: 15,
      thresholdMinor: { EUR: 100000, GBP: 100000, JPY: 100000, USD: 100000 },
      otherCurrencyThresholdMinor: null,
    },
    VELOCITY: { enabled: true, points: 20, minAuthorizations: 5, windowSeconds: 600 },
    CARD_TESTING: {
      enabled: true,
      points: 30,
      minAuthorizations: 3,
      windowSeconds: 3600,
      channels: ['ECOMMERCE', 'MOTO'],
      smallAmountMaxMinor: { EUR: 100, GBP: 100, JPY: 100, USD: 100 },
      otherCurrencySmallAmountMaxMinor: null,
    },
  },
});

const MAX_WINDOW_SECONDS = 7 * 24 * 3600;

const score = z
  .number({ error: 'must be a whole number from 0 to 100' })
  .int('must be a whole number from 0 to 100')
  .min(0, 'must be a whole number from 0 to 100')
  .max(100, 'must be a whole number from 0 to 100');

const minorAmount = z
  .number({ error: 'must be an amount in minor units (a whole number ≥ 0)' })
  .int('must be an amount in minor units (a whole number ≥ 0)')
  .min(0, 'must be an amount in minor units (a whole number ≥ 0)');

const currencyMap = z.record(
  z.string().regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code in capitals, e.g. JPY'),
  minorAmount,
);

const windowSeconds = z
  .number({ error: `must be a whole number of seconds from 1 to ${MAX_WINDOW_SECONDS}` })
  .int(`must be a whole number of seconds from 1 to ${MAX_WINDOW_SECONDS}`)
  .min(1, `must be a whole number of seconds from 1 to ${MAX_WINDOW_SECONDS}`)
  .max(MAX_WINDOW_SECONDS, `must be at most ${MAX_WINDOW_SECONDS} seconds (7 days)`);

const authorizationCount = z
  .number({ error: 'must be a whole number ≥ 2' })
  .int('must be a whole number ≥ 2')
  .min(2, 'must be ≥ 2 (1 would fire on every charge)');

/** A set of values: sorted and deduplicated, so order in the file does not change the version. */
function sortedSet<T extends string>(item: z.ZodType<T>) {
  return z
    .array(item)
    .min(1, 'needs at least one entry (set enabled: false to turn the rule off)')
    .transform((values) => [...new Set(values)].sort());
}

const channels = sortedSet(z.enum(CHANNELS, { error: `must be one of ${CHANNELS.join(', ')}` }));

/**
 * A 4-digit MCC. YAML reads an unquoted 4829 as a number, which is fine; 0742 would lose its
 * leading zero, so numbers below 1000 are refused and must be quoted.
 */
const mcc = z.union([z.string(), z.number()]).transform((value, ctx): string => {
  const text = typeof value === 'number' && Number.isInteger(value) && value >= 1000 ? String(value) : value;
  if (typeof text === 'string' && /^\d{4}$/.test(text)) return text;
  ctx.addIssue({ code: 'custom', message: 'must be a 4-digit merchant category code (quote it: "0742")' });
  return z.NEVER;
});

const country = z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code in capitals, e.g. JP');

const D = DEFAULT_RULES_CONFIG;

function toggle(defaults: RuleToggle) {
  return {
    enabled: z.boolean({ error: 'must be true or false' }).default(defaults.enabled),
    points: score.default(defaults.points),
  };
}

function band(defaults: SeverityBand) {
  return z
    .strictObject({
      minScore: score.default(defaults.minScore),
      recommendedAction: z
        .enum(RECOMMENDED_ACTIONS, { error: `must be one of ${RECOMMENDED_ACTIONS.join(', ')}` })
        .default(defaults.recommendedAction),
    })
    .prefault({});
}

const R = D.rules;

/** The rules file as zod reads it: every field optional (defaults apply), unknown keys refused. */
export const rulesConfigSchema = z
  .strictObject({
    alertMinScore: score.default(D.alertMinScore),
    severityBands: z
      .strictObject({
        LOW: band(D.severityBands.LOW),
        MEDIUM: band(D.severityBands.MEDIUM),
        HIGH: band(D.severityBands.HIGH),
        CRITICAL: band(D.severityBands.CRITICAL),
      })
      .prefault({})
      .superRefine((bands, ctx) => {
        if (bands.LOW.minScore !== 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['LOW', 'minScore'],
            message: 'must be 0 so that every score has a severity',
          });
        }
        for (let i = 1; i < SEVERITIES.length; i++) {
          const lower = SEVERITIES[i - 1] as Severity;
          const upper = SEVERITIES[i] as Severity;
          if (bands[upper].minScore <= bands[lower].minScore) {
            ctx.addIssue({
              code: 'custom',
              path: [upper, 'minScore'],
              message: `must be greater than ${lower}.minScore (${bands[lower].minScore})`,
            });
          }
        }
      }),
    rules: z
      .strictObject({
        LEAKED_CARD: z.strictObject(toggle(R.LEAKED_CARD)).prefault({}),
        EXPIRY_MATCHES_LEAK: z.strictObject(toggle(R.EXPIRY_MATCHES_LEAK)).prefault({}),
        CVV_EXPOSED_CARD_NOT_PRESENT: z
          .strictObject({
            ...toggle(R.CVV_EXPOSED_CARD_NOT_PRESENT),
            channels: channels.default(R.CVV_EXPOSED_CARD_NOT_PRESENT.channels),
          })
          .prefault({}),
        NO_3DS_CARD_NOT_PRESENT: z
          .strictObject({
            ...toggle(R.NO_3DS_CARD_NOT_PRESENT),
            channels: channels.default(R.NO_3DS_CARD_NOT_PRESENT.channels),
          })
          .prefault({}),
        HIGH_RISK_MCC: z
          .strictObject({
            ...toggle(R.HIGH_RISK_MCC),
            mccs: sortedSet(mcc).default(R.HIGH_RISK_MCC.mccs),
          })
          .prefault({}),
        CROSS_BORDER: z
          .strictObject({
            ...toggle(R.CROSS_BORDER),
            defaultIssuerCountry: country.nullable().default(R.CROSS_BORDER.defaultIssuerCountry),
          })
          .prefault({}),
        HIGH_AMOUNT: z
          .strictObject({
            ...toggle(R.HIGH_AMOUNT),
            thresholdMinor: currencyMap.default(R.HIGH_AMOUNT.thresholdMinor),
            otherCurrencyThresholdMinor: minorAmount
              .nullable()
              .default(R.HIGH_AMOUNT.otherCurrencyThresholdMinor),
          })
          .prefault({}),
        VELOCITY: z
          .strictObject({
            ...toggle(R.VELOCITY),
            minAuthorizations: authorizationCount.default(R.VELOCITY.minAuthorizations),
            windowSeconds: windowSeconds.default(R.VELOCITY.windowSeconds),
          })
          .prefault({}),
        CARD_TESTING: z
          .strictObject({
            ...toggle(R.CARD_TESTING),
            minAuthorizations: authorizationCount.default(R.CARD_TESTING.minAuthorizations),
            windowSeconds: windowSeconds.default(R.CARD_TESTING.windowSeconds),
            channels: channels.default(R.CARD_TESTING.channels),
            smallAmountMaxMinor: currencyMap.default(R.CARD_TESTING.smallAmountMaxMinor),
            otherCurrencySmallAmountMaxMinor: minorAmount
              .nullable()
              .default(R.CARD_TESTING.otherCurrencySmallAmountMaxMinor),
          })
          .prefault({}),
      })
      .prefault({}),
  })
  .transform((parsed): RulesConfig => parsed);

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
