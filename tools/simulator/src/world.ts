import type { Channel, CvvResult, ThreeDsResult } from '@leakwatch/contracts';
import { type Random, Weighted } from './random.js';

/**
 * The simulated world: merchants (category, country, currency, acquirer), what people buy from
 * them and how a charge on a leaked card looks different. Weights are plausible, not measured:
 * they only need to give every rule something to fire on and the clean path its real bulk.
 */

interface CurrencyInfo {
  /** A typical purchase in minor units. */
  typicalMinor: number;
  /** One ATM note step in minor units. */
  atmStepMinor: number;
  /** Round amounts to this many minor units (prices in yen end in 0, won in 00). */
  roundTo: number;
}

const CURRENCIES: Readonly<Record<string, CurrencyInfo>> = {
  JPY: { typicalMinor: 3_000, atmStepMinor: 10_000, roundTo: 10 },
  KRW: { typicalMinor: 30_000, atmStepMinor: 50_000, roundTo: 100 },
  USD: { typicalMinor: 3_500, atmStepMinor: 2_000, roundTo: 1 },
  EUR: { typicalMinor: 3_000, atmStepMinor: 2_000, roundTo: 1 },
  GBP: { typicalMinor: 2_500, atmStepMinor: 2_000, roundTo: 1 },
  SGD: { typicalMinor: 4_500, atmStepMinor: 5_000, roundTo: 1 },
  HKD: { typicalMinor: 25_000, atmStepMinor: 10_000, roundTo: 1 },
  TWD: { typicalMinor: 90_000, atmStepMinor: 100_000, roundTo: 100 },
  THB: { typicalMinor: 100_000, atmStepMinor: 100_000, roundTo: 100 },
  AUD: { typicalMinor: 5_000, atmStepMinor: 2_000, roundTo: 1 },
  CNY: { typicalMinor: 20_000, atmStepMinor: 10_000, roundTo: 100 },
};

interface CountryInfo {
  currency: string;
  /** Weight among everyday merchants (where cardholders of a Japanese shop spend). */
  everyday: number;
  /** Weight among merchants where leaked cards get used. */
  risky: number;
  places: readonly string[];
}

// prettier-ignore
const COUNTRIES: Readonly<Record<string, CountryInfo>> = {
  JP: { currency: 'JPY', everyday: 88, risky: 25, places: ['Shibuya', 'Shinjuku', 'Umeda', 'Namba', 'Sapporo', 'Hakata', 'Sendai', 'Sakae', 'Yokohama', 'Kobe', 'Kyoto', 'Naha'] },
  US: { currency: 'USD', everyday: 2.5, risky: 25, places: ['Seattle', 'Austin', 'Honolulu', 'Brooklyn', 'San Jose'] },
  KR: { currency: 'KRW', everyday: 2, risky: 5, places: ['Myeongdong', 'Gangnam', 'Busan'] },
  TW: { currency: 'TWD', everyday: 1.5, risky: 0, places: ['Taipei', 'Taichung'] },
  HK: { currency: 'HKD', everyday: 1, risky: 6, places: ['Central', 'Mong Kok'] },
  TH: { currency: 'THB', everyday: 1, risky: 3, places: ['Bangkok', 'Phuket'] },
  SG: { currency: 'SGD', everyday: 0.8, risky: 6, places: ['Orchard', 'Marina'] },
  GB: { currency: 'GBP', everyday: 0.8, risky: 10, places: ['London', 'Manchester'] },
  FR: { currency: 'EUR', everyday: 0.8, risky: 5, places: ['Paris', 'Nice'] },
  DE: { currency: 'EUR', everyday: 0.4, risky: 3, places: ['Berlin', 'Munich'] },
  IT: { currency: 'EUR', everyday: 0.4, risky: 0, places: ['Rome', 'Milan'] },
  NL: { currency: 'EUR', everyday: 0, risky: 6, places: ['Amsterdam'] },
  AU: { currency: 'AUD', everyday: 0.5, risky: 0, places: ['Sydney', 'Cairns'] },
  CN: { currency: 'CNY', everyday: 0.3, risky: 6, places: ['Shanghai', 'Shenzhen'] },
};

/** A merchant category: how common it is, what it sells for, how people pay there. */
interface MccProfile {
  mcc: string;
  everyday: number;
  risky: number;
  /** Multiplier of the currency's typical purchase. */
  amount: number;
  channels: Weighted<Channel>;
  names: readonly string[];
}

const inStore = (cardPresent: number, contactless: number, ecommerce = 0): Weighted<Channel> =>
  Weighted.of<Channel>({ CARD_PRESENT: cardPresent, CONTACTLESS: contactless, ECOMMERCE: ecommerce });
const online = (ecommerce = 100, moto = 0, cardPresent = 0): Weighted<Channel> =>
  Weighted.of<Channel>({ ECOMMERCE: ecommerce, MOTO: moto, CARD_PRESENT: cardPresent });
const recurring = (share: number): Weighted<Channel> =>
  Weighted.of<Channel>({ RECURRING: share, ECOMMERCE: 100 - share });

/** High-risk categories (the rules' default list): 4829, 5732, 5816, 5944, 5967, 6051, 6540, 7995. */
// prettier-ignore
const MCC_PROFILES: readonly MccProfile[] = [
  { mcc: '5411', everyday: 16, risky: 0, amount: 1, channels: inStore(45, 50, 5), names: ['Sakura Mart', 'Midori Supermarket', 'Fresh Daily', 'Hikari Foods'] },
  { mcc: '5499', everyday: 14, risky: 0, amount: 0.25, channels: inStore(30, 70), names: ['Kado Konbini', '24 Station', 'Corner Mart'] },
  { mcc: '5812', everyday: 10, risky: 0, amount: 1.3, channels: inStore(60, 40), names: ['Izakaya Tsuki', 'Trattoria Sole', 'Ramen Kaze', 'Bistro Hana'] },
  { mcc: '5814', everyday: 7, risky: 0, amount: 0.3, channels: inStore(25, 70, 5), names: ['Burger Hoshi', 'Gyudon Express', 'Onigiri Box'] },
  { mcc: '4111', everyday: 8, risky: 0, amount: 0.12, channels: inStore(0, 90, 10), names: ['Metro Line', 'City Rail', 'Bay Bus'] },
  { mcc: '4121', everyday: 2, risky: 0, amount: 0.9, channels: inStore(40, 40, 20), names: ['Kotsu Taxi', 'Go Cab'] },
  { mcc: '5541', everyday: 4, risky: 0, amount: 1.6, channels: inStore(85, 15), names: ['Aozora Fuel', 'Route 1 Gas'] },
  { mcc: '5999', everyday: 8, risky: 4, amount: 1.2, channels: inStore(40, 20, 40), names: ['Zakka Shop', 'Daily Goods', 'Wonder Store'] },
  { mcc: '5311', everyday: 4, risky: 0, amount: 3, channels: inStore(60, 25, 15), names: ['Marunaka Department Store', 'Grand Plaza'] },
  { mcc: '5651', everyday: 5, risky: 2, amount: 2, channels: inStore(50, 20, 30), names: ['Kinu Fashion', 'Uniform Apparel'] },
  { mcc: '5942', everyday: 3, risky: 0, amount: 0.7, channels: inStore(40, 20, 40), names: ['Hon no Mori Books', 'Page Turner'] },
  { mcc: '5968', everyday: 3, risky: 0, amount: 0.5, channels: recurring(95), names: ['Monthly Box', 'Snack Club'] },
  { mcc: '4899', everyday: 3, risky: 0, amount: 0.5, channels: recurring(90), names: ['Kumo TV', 'StreamPlus'] },
  { mcc: '4814', everyday: 3, risky: 0, amount: 2, channels: recurring(85), names: ['Denwa Mobile', 'Sora Telecom'] },
  { mcc: '4900', everyday: 2, risky: 0, amount: 3, channels: recurring(100), names: ['Tokai Power', 'City Gas and Water'] },
  { mcc: '7011', everyday: 2, risky: 1, amount: 8, channels: online(40, 10, 50), names: ['Hotel Kaede', 'Harbor Inn'] },
  { mcc: '4511', everyday: 1.5, risky: 3, amount: 15, channels: online(90, 5, 5), names: ['Sky Blue Air', 'Pacific Wings'] },
  { mcc: '4722', everyday: 1, risky: 2, amount: 10, channels: online(80, 15, 5), names: ['Tabi Travel', 'Globe Tours'] },
  { mcc: '6011', everyday: 2, risky: 0, amount: 1, channels: Weighted.of<Channel>({ ATM: 1 }), names: ['Bank ATM', 'Konbini ATM'] },
  // high risk
  { mcc: '5732', everyday: 2, risky: 14, amount: 6, channels: Weighted.of<Channel>({ ECOMMERCE: 55, CARD_PRESENT: 40, CONTACTLESS: 5 }), names: ['Denki Electronics', 'Gadget Port'] },
  { mcc: '5816', everyday: 2, risky: 12, amount: 0.8, channels: online(), names: ['Pixel Quest Store', 'Game Coin Shop'] },
  { mcc: '5944', everyday: 0.5, risky: 6, amount: 12, channels: online(40, 0, 60), names: ['Kirameki Jewelry', 'Gold Leaf'] },
  { mcc: '5967', everyday: 0.3, risky: 6, amount: 1.5, channels: online(50, 50), names: ['Tele Shop Direct', 'Night TV Shopping'] },
  { mcc: '4829', everyday: 0.4, risky: 10, amount: 8, channels: online(90, 0, 10), names: ['Swift Remit', 'Yen Transfer'] },
  { mcc: '6051', everyday: 0.3, risky: 12, amount: 10, channels: online(), names: ['CoinPort Exchange', 'Bit Wallet'] },
  { mcc: '6540', everyday: 0.6, risky: 10, amount: 3, channels: online(), names: ['Pay Card Top-Up', 'E-Money Charge'] },
  { mcc: '7995', everyday: 0.2, risky: 8, amount: 2, channels: online(), names: ['Lucky Spin Casino', 'Keiba Bets'] },
];

/** Where card testers probe: small online charges in currencies the card-testing rule counts. */
const TESTING_PROFILES: readonly { mcc: string; names: readonly string[] }[] = [
  { mcc: '8398', names: ['Hope Donations', 'Green Earth Fund'] },
  { mcc: '5999', names: ['Tiny Shop Online', 'Sticker Store'] },
  { mcc: '5816', names: ['App Credits', 'Gem Shop'] },
  { mcc: '5734', names: ['Cloud Tools', 'Soft Key Store'] },
];
const TESTING_COUNTRIES = Weighted.of({ US: 40, GB: 20, JP: 25, DE: 8, FR: 7 });

export interface SimMerchant {
  id: string;
  name: string | null;
  mcc: string;
  country: string;
  currency: string;
  acquirerId: string | null;
  channels: Weighted<Channel>;
  /** Median amount here, minor units. */
  typicalMinor: number;
  roundTo: number;
  atmStepMinor: number;
}

const ONLINE_MCC_USD_PRICING = 0.3;
const NULL_NAME_SHARE = 0.03;
const NULL_ACQUIRER_SHARE = 0.04;

function makeMerchant(
  random: Random,
  id: string,
  country: string,
  profile: { mcc: string; amount: number; channels: Weighted<Channel>; names: readonly string[] },
  currencyOverride?: string,
): SimMerchant {
  const info = COUNTRIES[country] as CountryInfo;
  const onlineOnly = profile.channels.values.every((c) => c === 'ECOMMERCE' || c === 'MOTO');
  // Foreign web shops often price in dollars whatever their country.
  const currency =
    currencyOverride ??
    (country !== 'JP' && onlineOnly && random.chance(ONLINE_MCC_USD_PRICING) ? 'USD' : info.currency);
  const money = CURRENCIES[currency] as CurrencyInfo;
  const base = random.pick(profile.names);
  const name = onlineOnly ? `${base} ${country}` : `${base} ${random.pick(info.places)}`;
  return {
    id,
    name: random.chance(NULL_NAME_SHARE) ? null : name,
    mcc: profile.mcc,
    country,
    currency,
    acquirerId: random.chance(NULL_ACQUIRER_SHARE) ? null : `${country}ACQ${random.int(1, 4)}`,
    channels: profile.channels,
    typicalMinor: money.typicalMinor * profile.amount,
    roundTo: money.roundTo,
    atmStepMinor: money.atmStepMinor,
  };
}

/** Three fixed pools of merchants, built once from the seed. */
export class MerchantPools {
  /** Where cardholders spend every day. */
  readonly everyday: readonly SimMerchant[];
  /** Where stolen cards get cashed out: high-risk categories, abroad, online. */
  readonly risky: readonly SimMerchant[];
  /** Where stolen cards get tested with tiny amounts. */
  readonly testing: readonly SimMerchant[];

  constructor(random: Random, everydayCount: number) {
    const everydayCountries = new Weighted(
      Object.entries(COUNTRIES).map(([c, i]) => [c, i.everyday] as const),
    );
    const riskyCountries = new Weighted(Object.entries(COUNTRIES).map(([c, i]) => [c, i.risky] as const));
    const everydayProfiles = new Weighted(MCC_PROFILES.map((p) => [p, p.everyday] as const));
    const riskyProfiles = new Weighted(MCC_PROFILES.map((p) => [p, p.risky] as const));
    const pad = (n: number) => String(n).padStart(6, '0');
    this.everyday = Array.from({ length: everydayCount }, (_, i) => {
      const country = everydayCountries.pick(random);
      return makeMerchant(random, `M${country}${pad(i)}`, country, everydayProfiles.pick(random));
    });
    const riskyCount = Math.max(40, Math.ceil(everydayCount / 20));
    this.risky = Array.from({ length: riskyCount }, (_, i) => {
      const country = riskyCountries.pick(random);
      return makeMerchant(random, `R${country}${pad(i)}`, country, riskyProfiles.pick(random));
    });
    this.testing = Array.from({ length: 12 }, (_, i) => {
      const country = TESTING_COUNTRIES.pick(random);
      const profile = random.pick(TESTING_PROFILES);
      const currency = (COUNTRIES[country] as CountryInfo).currency;
      return makeMerchant(
        random,
        `T${country}${pad(i)}`,
        country,
        { ...profile, amount: 1, channels: Weighted.of<Channel>({ ECOMMERCE: 85, MOTO: 15 }) },
        currency,
      );
    });
  }
}

/**
 * A merchant from `pool`, popular ones (the front of the pool) far more often: a power law,
 * as a few chains and web shops take most of the volume.
 */
export function pickPopular(random: Random, pool: readonly SimMerchant[]): SimMerchant {
  const u = random.next();
  return pool[Math.floor(u * u * u * pool.length)] as SimMerchant;
}

/** A purchase amount at `merchant`, minor units, always ≥ 1. `scale` raises it (fraud buys big). */
export function purchaseAmount(random: Random, merchant: SimMerchant, channel: Channel, scale = 1): number {
  if (channel === 'ATM') return merchant.atmStepMinor * random.pick(ATM_NOTES);
  const median = merchant.typicalMinor * scale;
  const raw = Math.min(random.logNormal(median, 0.9), median * 40);
  const rounded = Math.round(raw / merchant.roundTo) * merchant.roundTo;
  return Math.max(merchant.roundTo, rounded);
}
const ATM_NOTES = [1, 1, 2, 2, 3, 3, 4, 5, 5, 10];

const THREE_DS_ECOMMERCE = new Weighted<ThreeDsResult | null>([
  ['AUTHENTICATED', 72],
  ['ATTEMPTED', 8],
  ['NOT_PERFORMED', 14],
  ['FAILED', 2],
  [null, 4],
]);
const THREE_DS_ECOMMERCE_FRAUD = new Weighted<ThreeDsResult | null>([
  ['AUTHENTICATED', 15],
  ['ATTEMPTED', 15],
  ['NOT_PERFORMED', 55],
  ['FAILED', 10],
  [null, 5],
]);
const THREE_DS_REMOTE = new Weighted<ThreeDsResult | null>([
  [null, 90],
  ['NOT_PERFORMED', 10],
]);

/**
 * 3-D Secure only happens online; mail/phone orders and recurring charges sometimes say "not
 * performed"; at a terminal it is absent.
 */
export function threeDsFor(random: Random, channel: Channel, fraud: boolean): ThreeDsResult | null {
  switch (channel) {
    case 'ECOMMERCE':
      return (fraud ? THREE_DS_ECOMMERCE_FRAUD : THREE_DS_ECOMMERCE).pick(random);
    case 'MOTO':
    case 'RECURRING':
      return THREE_DS_REMOTE.pick(random);
    default:
      return null;
  }
}

const CVV_CARD_NOT_PRESENT = new Weighted<CvvResult | null>([
  ['MATCH', 92],
  ['NO_MATCH', 1.5],
  ['NOT_PROVIDED', 4],
  ['NOT_CHECKED', 2.5],
]);
/** The skimmer took the CVV too: leaked cards mostly pass the check. */
const CVV_CARD_NOT_PRESENT_FRAUD = new Weighted<CvvResult | null>([
  ['MATCH', 85],
  ['NO_MATCH', 5],
  ['NOT_PROVIDED', 8],
  ['NOT_CHECKED', 2],
]);
const CVV_TESTING = new Weighted<CvvResult | null>([
  ['MATCH', 50],
  ['NO_MATCH', 30],
  ['NOT_PROVIDED', 20],
]);
const CVV_RECURRING = new Weighted<CvvResult | null>([
  ['NOT_PROVIDED', 80],
  [null, 20],
]);
const CVV_PRESENT = new Weighted<CvvResult | null>([
  [null, 85],
  ['NOT_CHECKED', 15],
]);

export function cvvResultFor(
  random: Random,
  channel: Channel,
  kind: 'clean' | 'fraud' | 'testing',
): CvvResult | null {
  switch (channel) {
    case 'ECOMMERCE':
    case 'MOTO':
      if (kind === 'testing') return CVV_TESTING.pick(random);
      return (kind === 'fraud' ? CVV_CARD_NOT_PRESENT_FRAUD : CVV_CARD_NOT_PRESENT).pick(random);
    case 'RECURRING':
      return CVV_RECURRING.pick(random);
    default:
      return CVV_PRESENT.pick(random);
  }
}

/** ISO 8583 field 39: 00 approved, 05 do not honour, 51 insufficient funds, 54 expired, 59 suspected fraud, 61 over limit, 91 issuer down, N7 CVV mismatch. */
export const RESPONSE_CODES_CLEAN = new Weighted<string | null>([
  ['00', 94],
  ['05', 2],
  ['51', 2],
  ['61', 0.5],
  ['91', 0.5],
  ['54', 0.3],
  ['14', 0.2],
  [null, 0.5],
]);
export const RESPONSE_CODES_FRAUD = new Weighted<string | null>([
  ['00', 76],
  ['05', 12],
  ['51', 4],
  ['59', 4],
  ['61', 4],
]);
export const RESPONSE_CODES_TESTING = new Weighted<string | null>([
  ['00', 45],
  ['05', 25],
  ['N7', 15],
  ['51', 10],
  ['54', 5],
]);
