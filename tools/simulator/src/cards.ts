import { Random, Weighted, type Seed } from './random.js';
import { referenceTimeMs, usageError } from './usage.js';

/** The schemes the simulator issues cards for (every named scheme `schemeOf` knows). */
export const SIMULATED_SCHEMES = [
  'VISA',
  'MASTERCARD',
  'JCB',
  'AMEX',
  'DINERS',
  'DISCOVER',
  'UNIONPAY',
] as const;
export type SimulatedScheme = (typeof SIMULATED_SCHEMES)[number];

/** Relative weights per scheme; schemes left out are not issued. */
export type SchemeMix = Partial<Record<SimulatedScheme, number>>;

/**
 * Cards used at a Japanese online shop: Visa first, JCB strong (it is the domestic scheme),
 * Mastercard, then a little Amex, Diners, UnionPay (inbound visitors) and Discover.
 */
export const JAPAN_SCHEME_MIX: Readonly<Record<SimulatedScheme, number>> = Object.freeze({
  VISA: 0.42,
  JCB: 0.28,
  MASTERCARD: 0.19,
  AMEX: 0.05,
  DINERS: 0.02,
  UNIONPAY: 0.03,
  DISCOVER: 0.01,
});

/** A synthetic card with what a skimmer would have taken: number, expiry, security code, name. */
export interface GeneratedCard {
  /** 12-19 digits, Luhn-valid, in the scheme's ranges. */
  pan: string;
  scheme: SimulatedScheme;
  /** "YYYY-MM", in the months after the reference date. */
  expiry: string;
  /** 3 digits (4 for Amex). */
  cvv: string;
  /** As embossed: upper case, given name first. */
  name: string;
}

/**
 * Fictional issuer BINs (6 digits, with the PAN length the issuer uses), a handful per scheme, so
 * that cards cluster on issuers as real ones do and a demo partners file can route them by prefix.
 * About one card in seven gets a random BIN elsewhere in its scheme's ranges instead.
 */
export const SIMULATED_ISSUER_BINS: Readonly<
  Record<SimulatedScheme, readonly { bin: string; panLength: number }[]>
> = Object.freeze({
  VISA: [
    { bin: '412345', panLength: 16 },
    { bin: '431940', panLength: 16 },
    { bin: '455701', panLength: 16 },
    { bin: '462263', panLength: 16 },
    { bin: '476142', panLength: 16 },
    { bin: '498765', panLength: 16 },
  ],
  MASTERCARD: [
    { bin: '510510', panLength: 16 },
    { bin: '525412', panLength: 16 },
    { bin: '540018', panLength: 16 },
    { bin: '552233', panLength: 16 },
    { bin: '222300', panLength: 16 },
    { bin: '272011', panLength: 16 },
  ],
  JCB: [
    { bin: '352801', panLength: 16 },
    { bin: '353011', panLength: 16 },
    { bin: '354012', panLength: 16 },
    { bin: '356600', panLength: 16 },
    { bin: '358901', panLength: 16 },
  ],
  AMEX: [
    { bin: '340001', panLength: 15 },
    { bin: '371449', panLength: 15 },
    { bin: '376211', panLength: 15 },
    { bin: '378282', panLength: 15 },
  ],
  DINERS: [
    { bin: '300012', panLength: 14 },
    { bin: '305693', panLength: 14 },
    { bin: '309512', panLength: 14 },
    { bin: '361234', panLength: 14 },
    { bin: '389012', panLength: 16 },
  ],
  DISCOVER: [
    { bin: '601100', panLength: 16 },
    { bin: '601155', panLength: 16 },
    { bin: '644500', panLength: 16 },
    { bin: '650001', panLength: 16 },
  ],
  UNIONPAY: [
    { bin: '621098', panLength: 16 },
    { bin: '622848', panLength: 16 },
    { bin: '625001', panLength: 16 },
    { bin: '621483', panLength: 19 },
  ],
});

/** A prefix range (inclusive, all of `digits` digits) and the PAN length cards in it have. */
interface PrefixRange {
  from: number;
  to: number;
  panLength: number;
  weight: number;
}

/** The scheme ranges, as `schemeOf` in @leakwatch/card reads them (Diners 36 and 30x keep 14 digits). */
const SCHEME_RANGES: Readonly<Record<SimulatedScheme, readonly PrefixRange[]>> = {
  VISA: [{ from: 4, to: 4, panLength: 16, weight: 1 }],
  MASTERCARD: [
    { from: 51, to: 55, panLength: 16, weight: 0.8 },
    { from: 2221, to: 2720, panLength: 16, weight: 0.2 },
  ],
  JCB: [{ from: 3528, to: 3589, panLength: 16, weight: 1 }],
  AMEX: [
    { from: 34, to: 34, panLength: 15, weight: 0.3 },
    { from: 37, to: 37, panLength: 15, weight: 0.7 },
  ],
  DINERS: [
    { from: 300, to: 305, panLength: 14, weight: 0.15 },
    { from: 3095, to: 3095, panLength: 14, weight: 0.05 },
    { from: 36, to: 36, panLength: 14, weight: 0.5 },
    { from: 38, to: 39, panLength: 16, weight: 0.3 },
  ],
  DISCOVER: [
    { from: 6011, to: 6011, panLength: 16, weight: 0.6 },
    { from: 644, to: 649, panLength: 16, weight: 0.1 },
    { from: 65, to: 65, panLength: 16, weight: 0.3 },
  ],
  UNIONPAY: [
    { from: 62, to: 62, panLength: 16, weight: 0.85 },
    { from: 62, to: 62, panLength: 19, weight: 0.15 },
  ],
};

const RANDOM_BIN_SHARE = 0.15;

// prettier-ignore
const GIVEN_NAMES_JP = [
  'TARO', 'HANAKO', 'HIROSHI', 'YUKI', 'KENJI', 'AYAKA', 'SHOTA', 'MISAKI', 'DAISUKE', 'NAOMI',
  'TAKUYA', 'SAKURA', 'RYO', 'MEGUMI', 'KAZUKI', 'YUI', 'HARUTO', 'AOI', 'SOTA', 'RIN',
  'TAKESHI', 'EMI', 'KOJI', 'MAI', 'YUTA', 'NANAMI', 'SHINJI', 'KAORI', 'MASATO', 'AKIKO',
];
// prettier-ignore
const SURNAMES_JP = [
  'SATO', 'SUZUKI', 'TAKAHASHI', 'TANAKA', 'WATANABE', 'ITO', 'YAMAMOTO', 'NAKAMURA', 'KOBAYASHI',
  'KATO', 'YOSHIDA', 'YAMADA', 'SASAKI', 'YAMAGUCHI', 'MATSUMOTO', 'INOUE', 'KIMURA', 'HAYASHI',
  'SHIMIZU', 'YAMAZAKI', 'MORI', 'ABE', 'IKEDA', 'HASHIMOTO', 'ISHIKAWA', 'OGAWA', 'OKADA', 'GOTO',
];
// prettier-ignore
const GIVEN_NAMES_OTHER = [
  'JAMES', 'MARY', 'DAVID', 'EMMA', 'MICHAEL', 'SOPHIE', 'WEI', 'MIN-JUN', 'JI-WOO', 'LUCAS',
  'CHLOE', 'DANIEL', 'OLIVIA', 'THOMAS', 'ANNA', 'CHEN', 'LIAM', 'GRACE',
];
// prettier-ignore
const SURNAMES_OTHER = [
  'SMITH', 'JOHNSON', 'BROWN', 'WILSON', 'MARTIN', 'LEE', 'KIM', 'PARK', 'WANG', 'CHEN',
  'MULLER', 'DUBOIS', "O'BRIEN", 'GARCIA', 'TAYLOR', 'NGUYEN', 'WONG', 'ROSSI',
];
const JAPANESE_NAME_SHARE = 0.85;

/** Expiries are spread over the five years after the reference month, as issued cards are. */
const EXPIRY_WINDOW_MONTHS = 60;

/** The Luhn check digit that completes `body` (ASCII digits). */
export function luhnCheckDigit(body: string): string {
  let sum = 0;
  // The check digit will be rightmost, so the body's rightmost digit is the first one doubled.
  let double = true;
  for (let i = body.length - 1; i >= 0; i--) {
    let d = body.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return String.fromCharCode(48 + ((10 - (sum % 10)) % 10));
}

/** "YYYY-MM" of the month `offset` months after the month of `epochMs` (UTC). */
export function monthAfter(epochMs: number, offset: number): string {
  const date = new Date(epochMs);
  return addMonths(`${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`, offset);
}

/** "YYYY-MM" plus `months` (may be negative). */
export function addMonths(expiry: string, months: number): string {
  const index = Number(expiry.slice(0, 4)) * 12 + Number(expiry.slice(5, 7)) - 1 + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  return `${year}-${month < 10 ? '0' : ''}${month}`;
}

/** Validates a scheme mix: known schemes, finite non-negative weights, at least one positive. */
function schemeTable(mix: SchemeMix | undefined, path: string): Weighted<SimulatedScheme> {
  const source: SchemeMix = mix ?? JAPAN_SCHEME_MIX;
  const problems: string[] = [];
  const entries: [SimulatedScheme, number][] = [];
  for (const [scheme, weight] of Object.entries(source)) {
    if (!(SIMULATED_SCHEMES as readonly string[]).includes(scheme)) {
      problems.push(`${path}.${scheme}: unknown scheme, expected one of ${SIMULATED_SCHEMES.join(', ')}`);
    } else if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
      problems.push(`${path}.${scheme}: must be a finite number ≥ 0`);
    } else {
      entries.push([scheme as SimulatedScheme, weight]);
    }
  }
  if (problems.length === 0 && !entries.some(([, weight]) => weight > 0)) {
    problems.push(`${path}: needs at least one scheme with a positive weight`);
  }
  if (problems.length > 0) throw usageError('invalid scheme mix', problems);
  return new Weighted(entries);
}

/**
 * Issues synthetic cards: a scheme by the mix, an issuer BIN (mostly from
 * {@link SIMULATED_ISSUER_BINS}), random account digits and the Luhn check digit.
 */
export class CardFactory {
  readonly #schemes: Weighted<SimulatedScheme>;
  readonly #ranges: Readonly<Record<SimulatedScheme, Weighted<PrefixRange>>>;
  readonly #referenceMs: number;

  constructor(options: { schemeMix?: SchemeMix | undefined; referenceMs: number }) {
    this.#schemes = schemeTable(options.schemeMix, 'schemeMix');
    this.#referenceMs = options.referenceMs;
    const ranges = {} as Record<SimulatedScheme, Weighted<PrefixRange>>;
    for (const scheme of SIMULATED_SCHEMES) {
      ranges[scheme] = new Weighted(SCHEME_RANGES[scheme].map((range) => [range, range.weight] as const));
    }
    this.#ranges = ranges;
  }

  scheme(random: Random): SimulatedScheme {
    return this.#schemes.pick(random);
  }

  /** A Luhn-valid PAN of `scheme`. */
  pan(random: Random, scheme: SimulatedScheme): string {
    let prefix: string;
    let panLength: number;
    if (random.chance(RANDOM_BIN_SHARE)) {
      const range = this.#ranges[scheme].pick(random);
      prefix = String(random.int(range.from, range.to));
      panLength = range.panLength;
    } else {
      const issuer = random.pick(SIMULATED_ISSUER_BINS[scheme]);
      prefix = issuer.bin;
      panLength = issuer.panLength;
    }
    const body = prefix + random.digits(panLength - prefix.length - 1);
    return body + luhnCheckDigit(body);
  }

  /** An expiry 1 to 60 months after the reference month. */
  expiry(random: Random): string {
    return monthAfter(this.#referenceMs, random.int(1, EXPIRY_WINDOW_MONTHS));
  }

  card(random: Random): GeneratedCard {
    const scheme = this.scheme(random);
    const pan = this.pan(random, scheme);
    const expiry = this.expiry(random);
    const cvv = random.digits(scheme === 'AMEX' ? 4 : 3);
    const japanese = random.chance(JAPANESE_NAME_SHARE);
    const given = random.pick(japanese ? GIVEN_NAMES_JP : GIVEN_NAMES_OTHER);
    const surname = random.pick(japanese ? SURNAMES_JP : SURNAMES_OTHER);
    return { pan, scheme, expiry, cvv, name: `${given} ${surname}` };
  }
}

export interface GenerateCardsOptions {
  count: number;
  seed: Seed;
  /** Default {@link JAPAN_SCHEME_MIX}. */
  schemeMix?: SchemeMix | undefined;
  /** Expiries fall in the 60 months after this instant's month. Default: now (pass one to reproduce across months). */
  referenceTime?: number | Date | undefined;
}

/**
 * Synthetic cards, one at a time (for lists too large to hold). Deterministic for a seed and a
 * reference month. PANs are distinct within one call.
 */
export function* iterateCards(options: GenerateCardsOptions): Generator<GeneratedCard, void, undefined> {
  const problems: string[] = [];
  if (!Number.isSafeInteger(options.count) || options.count < 0)
    problems.push('count: must be a whole number ≥ 0');
  const referenceMs = referenceTimeMs(options.referenceTime, 'referenceTime', problems);
  if (problems.length > 0) throw usageError('invalid card generation options', problems);
  const factory = new CardFactory({ schemeMix: options.schemeMix, referenceMs });
  const random = new Random(options.seed).fork('cards');
  // Collisions are rare (a handful per million on 9+ free digits per BIN) but a list with a
  // duplicate would import one card fewer than it claims. PANs are kept as numbers (a third of the
  // memory of strings at a million cards); 16+ digits round, so a neighbour may be refused too,
  // which only costs a redraw.
  const seen = new Set<number>();
  for (let i = 0; i < options.count; i++) {
    let card = factory.card(random);
    while (seen.has(Number(card.pan))) card = factory.card(random);
    seen.add(Number(card.pan));
    yield card;
  }
}

/** `count` synthetic cards; see {@link iterateCards}. */
export function generateCards(options: GenerateCardsOptions): GeneratedCard[] {
  return Array.from(iterateCards(options));
}
