import {
  EXPIRY_REJECT_REASONS,
  type KeyedFingerprint,
  PAN_REJECT_REASONS,
  binLength,
  isExpiry,
  normalizePan,
  parseExpiry,
} from '@leakwatch/card';
import type { Channel } from '@leakwatch/contracts';
import type { AuthorizationCard, CardAuthorization, EncodeAvro } from './authorization.js';
import { CardFactory, type SchemeMix, addMonths } from './cards.js';
import { referenceTimeMs, usageError } from './usage.js';
import {
  AVRO_POISON_KINDS,
  POISON_EXPECTED_ERROR,
  POISON_KINDS,
  type PoisonErrorCode,
  type PoisonKind,
  poisonBytes,
} from './poison.js';
import { Random, type Seed } from './random.js';
import {
  MerchantPools,
  RESPONSE_CODES_CLEAN,
  RESPONSE_CODES_FRAUD,
  RESPONSE_CODES_TESTING,
  type SimMerchant,
  cvvResultFor,
  pickPopular,
  purchaseAmount,
  threeDsFor,
} from './world.js';

/** A card on a leak list, with the expiry that leaked ("YYYY-MM"; MM/YY and the other list forms are read too). */
export interface WatchedCard {
  pan: string;
  expiry: string;
}

/**
 * Why an authorization looks the way it does: a clean card; a watched card used by its holder or
 * by a fraudster; one event of a velocity burst or of a card-testing run on a watched card.
 */
export type AuthorizationPattern = 'clean' | 'watched' | 'watched-fraud' | 'velocity' | 'card-testing';

export interface SimulatedAuthorization {
  kind: 'authorization';
  eventId: string;
  /** Kafka key: the event id or the merchant id (upstreams key as they like). */
  key: string;
  value: CardAuthorization;
  /** How to send it: Confluent-framed Avro, or plain JSON (see `messageValue`). */
  format: 'avro' | 'json';
  /** True when the card is one of the watched cards. */
  watched: boolean;
  pattern: AuthorizationPattern;
  /** Watched cards only: whether the expiry sent is the leaked one (null when none is sent, or not watched). */
  expiryMatchesLeak: boolean | null;
}

export interface SimulatedPoison {
  kind: 'poison';
  /** The id the event would have had; some poison kinds carry it inside, most cannot be read back. */
  eventId: string;
  key: string;
  bytes: Buffer;
  poisonKind: PoisonKind;
  /** The `lw-error-code` the monitor must dead-letter it with. */
  expectedErrorCode: PoisonErrorCode;
}

export type SimulatedEvent = SimulatedAuthorization | SimulatedPoison;

export interface TrafficGeneratorOptions {
  seed: Seed;
  /**
   * Goes into every event id (`sim-<runId>-<n>`). Default: the seed. Give each run its own id when
   * the same seed is replayed against the same topics: the same id means a redelivery downstream.
   */
  runId?: string | undefined;
  /** Cards on the leak lists. Default none. */
  watchedCards?: readonly WatchedCard[] | undefined;
  /** Share of authorizations on watched cards. Default 0.01 with watched cards, else 0. */
  watchedShare?: number | undefined;
  /** Share of watched-card authorizations that carry the leaked expiry; the rest carry a reissued one or none. Default 0.7. */
  expiryMatchShare?: number | undefined;
  /** Share of single watched-card authorizations made by a fraudster rather than the cardholder. Default 0.5. */
  watchedFraudShare?: number | undefined;
  /** Chance that a watched-card authorization opens a velocity burst (several buys within minutes). Default 0.02. */
  velocityBurstShare?: number | undefined;
  /** Authorizations in a velocity burst, [min, max]. Default [5, 8] (the default VELOCITY rule fires at 5 in 10 min). */
  velocityBurstSize?: readonly [number, number] | undefined;
  /** Chance that a watched-card authorization opens a card-testing run (tiny online charges). Default 0.02. */
  cardTestingShare?: number | undefined;
  /** Authorizations in a card-testing run, [min, max]. Default [3, 6] (the default CARD_TESTING rule fires at 3 in 1 h). */
  cardTestingSize?: readonly [number, number] | undefined;
  /** Share of all events that are poison. Default 0. */
  poisonShare?: number | undefined;
  /** Poison kinds to draw from, uniformly. Default all, or all but the Avro ones without `encodeAvro`. */
  poisonKinds?: readonly PoisonKind[] | undefined;
  /** Needed for UNKNOWN_SCHEMA_ID and TRUNCATED_AVRO poison (a valid framed message to spoil). */
  encodeAvro?: EncodeAvro | undefined;
  /** Share of authorizations (and of decodable poison) sent as JSON instead of Avro. Default 0. */
  jsonShare?: number | undefined;
  /** Share of authorizations that carry a fingerprint (with keyId, bin, last4) instead of the PAN. Default 0. */
  fingerprintShare?: number | undefined;
  /** Fingerprints a PAN, e.g. `(pan) => ({ keyId: keyring.currentKeyId, fingerprint: keyring.fingerprint(pan) })`. */
  fingerprinter?: ((pan: string) => KeyedFingerprint) | undefined;
  /** Distinct clean cards in circulation. Default 100 000. */
  populationSize?: number | undefined;
  /** Everyday merchants. Default 5 000 (plus a twentieth as many risky ones, and a few card-testing ones). */
  merchantCount?: number | undefined;
  /** Scheme mix of clean cards. Default `JAPAN_SCHEME_MIX`. */
  schemeMix?: SchemeMix | undefined;
  /** Source of `occurredAt` (epoch ms). Default `Date.now`; pass a fixed clock to reproduce whole events. */
  clock?: (() => number) | undefined;
}

/** Produces an endless, reproducible stream of simulated events. */
export interface TrafficGenerator {
  next(): SimulatedEvent;
  nextBatch(count: number): SimulatedEvent[];
  /** Events produced so far. */
  readonly generated: number;
}

interface WatchedEntry {
  pan: string;
  leakedExpiry: string;
}

interface PopulationCard {
  pan: string;
  expiry: string | null;
}

interface Pending {
  card: WatchedEntry;
  pattern: 'velocity' | 'card-testing';
  merchant: SimMerchant | undefined;
}

interface Context {
  merchant: SimMerchant;
  channel: Channel;
  amountMinor: number;
  threeDs: CardAuthorization['threeDs'];
  cvvResult: CardAuthorization['cvvResult'];
  responseCode: string | null;
}

const KEY_BY_EVENT_ID_SHARE = 0.7;
const CLEAN_RISKY_MERCHANT_SHARE = 0.02;
const NO_EXPIRY_SHARE = 0.03;
const NULL_MTI_SHARE = 0.01;
const REISSUED_SHARE_OF_MISMATCH = 0.85;
const FRAUD_AMOUNT_SCALE = 2.5;
const TESTING_AMOUNTS = [1, 1, 10, 50, 99, 100];
const RUN_ID = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_LISTED_BAD_CARDS = 5;

/**
 * A seeded generator of card authorization traffic: mostly clean cards at everyday merchants
 * (Japan first), a configurable share on watched cards (some by the cardholder, some by a
 * fraudster: abroad, high-risk categories, no 3-D Secure, bigger amounts, occasional velocity
 * bursts and card-testing runs) and optional poison. The same options and clock give the same
 * events. Burst events take the next watched-card slots, so they interleave with the rest and
 * the watched share holds; a burst of n spans about n / (rate × watchedShare) seconds of a paced
 * run (8 events at 100/s and 1 % take 8 s, well inside the rules' 10-minute velocity window).
 * Clean cards come from a fixed population and never collide with a watched PAN.
 *
 * Invalid options fail with USAGE, every problem listed.
 */
export function createTrafficGenerator(options: TrafficGeneratorOptions): TrafficGenerator {
  return new Traffic(options);
}

class Traffic implements TrafficGenerator {
  readonly #random: Random;
  readonly #runPrefix: string;
  readonly #clock: () => number;
  readonly #watched: readonly WatchedEntry[];
  readonly #watchedPans: ReadonlySet<string>;
  readonly #watchedShare: number;
  readonly #expiryMatchShare: number;
  readonly #watchedFraudShare: number;
  readonly #velocityShare: number;
  readonly #velocitySize: readonly [number, number];
  readonly #testingShare: number;
  readonly #testingSize: readonly [number, number];
  readonly #poisonShare: number;
  readonly #poisonKinds: readonly PoisonKind[];
  readonly #encodeAvro: EncodeAvro | undefined;
  readonly #jsonShare: number;
  readonly #fingerprintShare: number;
  readonly #fingerprinter: ((pan: string) => KeyedFingerprint) | undefined;
  readonly #population: (PopulationCard | undefined)[];
  readonly #factory: CardFactory;
  readonly #merchants: MerchantPools;
  readonly #pending: Pending[] = [];
  #counter = 0;

  constructor(options: TrafficGeneratorOptions) {
    const problems: string[] = [];
    type ShareOption =
      | 'watchedShare'
      | 'expiryMatchShare'
      | 'watchedFraudShare'
      | 'velocityBurstShare'
      | 'cardTestingShare'
      | 'poisonShare'
      | 'jsonShare'
      | 'fingerprintShare';
    const share = (name: ShareOption, fallback: number): number => {
      const value: unknown = options[name];
      if (value === undefined) return fallback;
      if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
        problems.push(`${name}: must be a number from 0 to 1`);
        return 0;
      }
      return value;
    };
    const range = (name: 'velocityBurstSize' | 'cardTestingSize', fallback: readonly [number, number]) => {
      const value: unknown = options[name] ?? fallback;
      if (
        Array.isArray(value) &&
        value.length === 2 &&
        value.every((n) => Number.isSafeInteger(n) && n >= 1 && n <= 1000) &&
        value[0] <= value[1]
      ) {
        return value as [number, number];
      }
      problems.push(`${name}: must be [min, max], whole numbers from 1 to 1000, min ≤ max`);
      return fallback;
    };
    const count = (name: 'populationSize' | 'merchantCount', fallback: number, max: number): number => {
      const value = options[name] ?? fallback;
      if (!Number.isSafeInteger(value) || value < 1 || value > max) {
        problems.push(`${name}: must be a whole number from 1 to ${max}`);
        return fallback;
      }
      return value;
    };

    if (options.seed === undefined || (typeof options.seed !== 'string' && !Number.isFinite(options.seed))) {
      problems.push('seed: must be a finite number or a string');
    }
    const runId =
      options.runId ??
      String(options.seed)
        .replace(/[^A-Za-z0-9._-]/g, '_')
        .slice(0, 64);
    if (!RUN_ID.test(runId)) problems.push('runId: must be 1-64 characters of A-Z a-z 0-9 . _ -');

    const watched: WatchedEntry[] = [];
    const watchedPans = new Set<string>();
    let badCards = 0;
    (options.watchedCards ?? []).forEach((card, index) => {
      const pan = normalizePan(card.pan);
      const expiry = parseExpiry(card.expiry);
      if (!pan.ok || !expiry.ok) {
        // Name a few (never the number itself), count the rest: a list can hold millions.
        if (++badCards <= MAX_LISTED_BAD_CARDS) {
          if (!pan.ok) problems.push(`watchedCards[${index}].pan: ${PAN_REJECT_REASONS[pan.reason]}`);
          if (!expiry.ok)
            problems.push(`watchedCards[${index}].expiry: ${EXPIRY_REJECT_REASONS[expiry.reason]}`);
        }
        return;
      }
      if (!watchedPans.has(pan.pan)) {
        watchedPans.add(pan.pan);
        watched.push({ pan: pan.pan, leakedExpiry: expiry.expiry });
      }
    });
    if (badCards > MAX_LISTED_BAD_CARDS) {
      problems.push(`watchedCards: ${badCards - MAX_LISTED_BAD_CARDS} more invalid cards`);
    }
    this.#watched = watched;
    this.#watchedPans = watchedPans;
    this.#watchedShare = share('watchedShare', watched.length > 0 ? 0.01 : 0);
    if (this.#watchedShare > 0 && watched.length === 0) {
      problems.push('watchedShare: is above 0 but there are no (valid) watchedCards');
    }
    this.#expiryMatchShare = share('expiryMatchShare', 0.7);
    this.#watchedFraudShare = share('watchedFraudShare', 0.5);
    this.#velocityShare = share('velocityBurstShare', 0.02);
    this.#velocitySize = range('velocityBurstSize', [5, 8]);
    this.#testingShare = share('cardTestingShare', 0.02);
    this.#testingSize = range('cardTestingSize', [3, 6]);
    if (this.#velocityShare + this.#testingShare > 1) {
      problems.push('velocityBurstShare + cardTestingShare: must not exceed 1');
    }

    this.#encodeAvro = options.encodeAvro;
    this.#poisonShare = share('poisonShare', 0);
    const defaultKinds = POISON_KINDS.filter(
      (k) => options.encodeAvro !== undefined || !AVRO_POISON_KINDS.includes(k),
    );
    this.#poisonKinds = options.poisonKinds ?? defaultKinds;
    for (const kind of this.#poisonKinds) {
      if (!(POISON_KINDS as readonly string[]).includes(kind)) {
        problems.push(
          `poisonKinds: unknown kind "${String(kind)}", expected some of ${POISON_KINDS.join(', ')}`,
        );
      } else if (AVRO_POISON_KINDS.includes(kind) && options.encodeAvro === undefined) {
        problems.push(`poisonKinds: ${kind} needs encodeAvro`);
      }
    }
    if (this.#poisonShare > 0 && this.#poisonKinds.length === 0) {
      problems.push('poisonKinds: must name at least one kind when poisonShare is above 0');
    }

    this.#jsonShare = share('jsonShare', 0);
    this.#fingerprintShare = share('fingerprintShare', 0);
    this.#fingerprinter = options.fingerprinter;
    if (this.#fingerprintShare > 0 && this.#fingerprinter === undefined) {
      problems.push('fingerprinter: is required when fingerprintShare is above 0');
    }
    const populationSize = count('populationSize', 100_000, 10_000_000);
    const merchantCount = count('merchantCount', 5_000, 1_000_000);
    let clock: () => number = Date.now;
    if (typeof options.clock === 'function') clock = options.clock;
    else if (options.clock !== undefined)
      problems.push('clock: must be a function returning epoch milliseconds');
    this.#clock = clock;
    // Clean cards' expiries are drawn in the five years after the clock's month at start.
    const referenceMs = referenceTimeMs(clock(), 'clock()', problems);

    let factory: CardFactory | undefined;
    try {
      factory = new CardFactory({ schemeMix: options.schemeMix, referenceMs });
    } catch (error) {
      const details = (error as { details?: { problems?: string[] } }).details;
      problems.push(...(details?.problems ?? [String(error)]));
    }
    if (problems.length > 0 || factory === undefined)
      throw usageError('invalid traffic generator options', problems);

    this.#factory = factory;
    this.#runPrefix = `sim-${runId}-`;
    this.#random = new Random(options.seed).fork('traffic');
    this.#merchants = new MerchantPools(new Random(options.seed).fork('merchants'), merchantCount);
    this.#population = new Array<PopulationCard | undefined>(populationSize);
  }

  get generated(): number {
    return this.#counter;
  }

  nextBatch(count: number): SimulatedEvent[] {
    const events = new Array<SimulatedEvent>(count);
    for (let i = 0; i < count; i++) events[i] = this.next();
    return events;
  }

  next(): SimulatedEvent {
    const random = this.#random;
    const eventId = this.#runPrefix + String(this.#counter++);
    if (this.#poisonShare > 0 && random.next() < this.#poisonShare) return this.#poison(eventId);
    if (this.#watchedShare > 0 && random.next() < this.#watchedShare) return this.#watchedEvent(eventId);
    const card = this.#cleanCard();
    return this.#authorization(eventId, card.pan, card.expiry, this.#context('clean'), 'clean', null);
  }

  #watchedEvent(eventId: string): SimulatedAuthorization {
    const random = this.#random;
    const queued = this.#pending.shift();
    if (queued !== undefined) return this.#burstEvent(eventId, queued);
    const card = random.pick(this.#watched);
    const u = random.next();
    if (u < this.#velocityShare + this.#testingShare) {
      const velocity = u < this.#velocityShare;
      const [min, max] = velocity ? this.#velocitySize : this.#testingSize;
      const burst: Pending = {
        card,
        pattern: velocity ? 'velocity' : 'card-testing',
        // Testers hammer one merchant; a fraudster on a spree shops around.
        merchant: velocity ? undefined : random.pick(this.#merchants.testing),
      };
      for (let i = random.int(min, max); i > 1; i--) this.#pending.push(burst);
      return this.#burstEvent(eventId, burst);
    }
    const fraud = random.chance(this.#watchedFraudShare);
    const expiry = this.#watchedExpiry(card);
    return this.#authorization(
      eventId,
      card.pan,
      expiry,
      this.#context(fraud ? 'fraud' : 'clean'),
      fraud ? 'watched-fraud' : 'watched',
      expiry === null ? null : expiry === card.leakedExpiry,
    );
  }

  #burstEvent(eventId: string, burst: Pending): SimulatedAuthorization {
    const expiry = this.#watchedExpiry(burst.card);
    const context =
      burst.pattern === 'velocity' ? this.#context('fraud') : this.#testingContext(burst.merchant);
    return this.#authorization(
      eventId,
      burst.card.pan,
      expiry,
      context,
      burst.pattern,
      expiry === null ? null : expiry === burst.card.leakedExpiry,
    );
  }

  /** The leaked expiry, or (the card was reissued since) a later one, or none. */
  #watchedExpiry(card: WatchedEntry): string | null {
    const random = this.#random;
    if (random.chance(this.#expiryMatchShare)) return card.leakedExpiry;
    if (!random.chance(REISSUED_SHARE_OF_MISMATCH)) return null;
    const reissued = addMonths(card.leakedExpiry, random.int(12, 48));
    return isExpiry(reissued) ? reissued : null;
  }

  #cleanCard(): PopulationCard {
    const random = this.#random;
    const index = Math.floor(random.next() * this.#population.length);
    let card = this.#population[index];
    if (card === undefined) {
      const scheme = this.#factory.scheme(random);
      let pan = this.#factory.pan(random, scheme);
      while (this.#watchedPans.has(pan)) pan = this.#factory.pan(random, scheme);
      card = { pan, expiry: random.chance(NO_EXPIRY_SHARE) ? null : this.#factory.expiry(random) };
      this.#population[index] = card;
    }
    return card;
  }

  #context(kind: 'clean' | 'fraud'): Context {
    const random = this.#random;
    const pools = this.#merchants;
    if (kind === 'clean') {
      const merchant = pickPopular(
        random,
        random.chance(CLEAN_RISKY_MERCHANT_SHARE) ? pools.risky : pools.everyday,
      );
      const channel = merchant.channels.pick(random);
      return {
        merchant,
        channel,
        amountMinor: purchaseAmount(random, merchant, channel),
        threeDs: threeDsFor(random, channel, false),
        cvvResult: cvvResultFor(random, channel, 'clean'),
        responseCode: RESPONSE_CODES_CLEAN.pick(random),
      };
    }
    // A web-skimmed card has no magnetic stripe or chip data: its fraud is card-not-present.
    const merchant = pickPopular(random, pools.risky);
    const drawn = merchant.channels.pick(random);
    const channel: Channel = drawn === 'ECOMMERCE' || drawn === 'MOTO' ? drawn : 'ECOMMERCE';
    return {
      merchant,
      channel,
      amountMinor: purchaseAmount(random, merchant, channel, FRAUD_AMOUNT_SCALE),
      threeDs: threeDsFor(random, channel, true),
      cvvResult: cvvResultFor(random, channel, 'fraud'),
      responseCode: RESPONSE_CODES_FRAUD.pick(random),
    };
  }

  #testingContext(fixed: SimMerchant | undefined): Context {
    const random = this.#random;
    const merchant = fixed ?? random.pick(this.#merchants.testing);
    const channel = merchant.channels.pick(random);
    return {
      merchant,
      channel,
      // At most 100 minor units: ¥1-¥100, $0.01-$1.00 (the default CARD_TESTING small-amount limit).
      amountMinor: random.chance(0.5) ? random.pick(TESTING_AMOUNTS) : random.int(1, 100),
      threeDs: channel === 'ECOMMERCE' ? (random.chance(0.8) ? 'NOT_PERFORMED' : null) : null,
      cvvResult: cvvResultFor(random, channel, 'testing'),
      responseCode: RESPONSE_CODES_TESTING.pick(random),
    };
  }

  #authorization(
    eventId: string,
    pan: string,
    expiry: string | null,
    context: Context,
    pattern: AuthorizationPattern,
    expiryMatchesLeak: boolean | null,
  ): SimulatedAuthorization {
    const random = this.#random;
    const value = this.#value(eventId, this.#cardField(pan, expiry), context);
    return {
      kind: 'authorization',
      eventId,
      key: random.next() < KEY_BY_EVENT_ID_SHARE ? eventId : context.merchant.id,
      value,
      format: this.#jsonShare > 0 && random.next() < this.#jsonShare ? 'json' : 'avro',
      watched: pattern !== 'clean',
      pattern,
      expiryMatchesLeak,
    };
  }

  #value(eventId: string, card: AuthorizationCard, context: Context): CardAuthorization {
    const { merchant, channel } = context;
    return {
      eventId,
      occurredAt: this.#clock(),
      mti: this.#random.chance(NULL_MTI_SHARE) ? null : channel === 'ATM' ? '0200' : '0100',
      card,
      amountMinor: context.amountMinor,
      currency: merchant.currency,
      merchant: { id: merchant.id, name: merchant.name, mcc: merchant.mcc, country: merchant.country },
      channel,
      threeDs: context.threeDs,
      cvvResult: context.cvvResult,
      responseCode: context.responseCode,
      acquirerId: merchant.acquirerId,
    };
  }

  #cardField(pan: string, expiry: string | null): AuthorizationCard {
    if (this.#fingerprintShare > 0 && this.#random.next() < this.#fingerprintShare) {
      const { fingerprint, keyId } = (this.#fingerprinter as (pan: string) => KeyedFingerprint)(pan);
      return {
        pan: null,
        fingerprint,
        keyId,
        bin: pan.slice(0, binLength(pan.length)),
        last4: pan.slice(-4),
        expiry,
      };
    }
    return { pan, fingerprint: null, keyId: null, bin: null, last4: null, expiry };
  }

  #poison(eventId: string): SimulatedPoison {
    const random = this.#random;
    const poisonKind = random.pick(this.#poisonKinds);
    const card = this.#cleanCard();
    // Poison always carries the PAN: LUHN_FAIL spoils it, the others need one to be otherwise valid.
    const cardField = {
      pan: card.pan,
      fingerprint: null,
      keyId: null,
      bin: null,
      last4: null,
      expiry: card.expiry,
    };
    const value = this.#value(eventId, cardField, this.#context('clean'));
    const bytes = poisonBytes(poisonKind, value, {
      random,
      encodeAvro: this.#encodeAvro,
      jsonShare: this.#jsonShare,
    });
    return {
      kind: 'poison',
      eventId,
      key: eventId,
      bytes,
      poisonKind,
      expectedErrorCode: POISON_EXPECTED_ERROR[poisonKind],
    };
  }
}
