// Fakes for the stages' small interfaces, shared by the unit tests (not built into dist).
import { createKeyring, type Keyring } from '@leakwatch/card';
import type { AuthorizationCard } from '@leakwatch/contracts';
import type { CardIncident, LeakHit } from '@leakwatch/leak-store';
import type { HistoryCounts, HistoryEvent, HistoryWindowsMs } from '../card-history.js';
import type { Authorization, AuthorizationDecoder, DecodeResult, InboundMessage } from '../types.js';
import type { WatchList } from './look-up-watched.js';
import type { HistoryRecorder } from './record-history.js';
import { isResolved, resolveCard, type CardKeys, type ResolvedCard } from './resolve-card.js';

export const T0 = Date.UTC(2026, 4, 2, 3, 0, 0);
/** Visa test numbers: never real cards. */
export const PAN = '4111111111111111';
export const OTHER_PAN = '4012888888881881';

/** Two active keys, k2 current: a card imported under k1 must still be found. */
export function twoKeyKeyring(): Keyring {
  return createKeyring([
    { keyId: 'k2', key: Buffer.alloc(32, 2) },
    { keyId: 'k1', key: Buffer.alloc(32, 1) },
  ]);
}

export function authorization(overrides: Partial<Authorization> = {}): Authorization {
  return {
    eventId: 'evt-1',
    occurredAt: T0,
    mti: '0100',
    card: { pan: PAN, fingerprint: null, keyId: null, bin: null, last4: null, expiry: '2028-04' },
    amountMinor: 5000,
    currency: 'JPY',
    merchant: { id: 'm-1', name: 'Grocer', mcc: '5411', country: 'JP' },
    channel: 'CARD_PRESENT',
    threeDs: null,
    cvvResult: null,
    responseCode: '00',
    acquirerId: 'acq-1',
    ...overrides,
  };
}

export function message(offset: number, value = `m${offset}`): InboundMessage {
  return {
    offset: String(offset),
    key: null,
    value: Buffer.from(value),
    timestamp: String(T0),
  };
}

/** Decodes a message value by looking it up: an Authorization, or a poison result. */
export type Decoded = Authorization | Extract<DecodeResult, { ok: false }>;

export function fakeDecoder(byValue: Record<string, Decoded>) {
  const calls: number[] = [];
  const decoder: AuthorizationDecoder = {
    decodeBatch: (values: ReadonlyArray<Buffer | null>) => {
      calls.push(values.length);
      return Promise.resolve(
        values.map((value): DecodeResult => {
          const found = byValue[value?.toString() ?? ''];
          if (!found) return { ok: false, code: 'BAD_FRAMING', message: 'unknown test value' };
          if ('ok' in found) return found;
          return { ok: true, value: found, format: 'json' };
        }),
      );
    },
  };
  return { decoder, calls };
}

export function cardIncident(incidentId: string, expiryTags: string[] = []): CardIncident {
  return {
    incidentId,
    expiryTags,
    incident: {
      incidentId,
      source: 'unit test',
      compromiseType: 'WEB_SKIMMING',
      exposureStart: '2020-02-24',
      exposureEnd: '2024-10-15',
      disclosedAt: '2025-05-20',
      dataExposed: ['PAN', 'EXPIRY', 'CVV'],
      watchUntil: null,
      number: 1,
      status: 'active',
      createdAt: '2025-05-20T00:00:00Z',
      updatedAt: '2025-05-20T00:00:00Z',
      retiredAt: null,
    },
  };
}

/** A watch list holding `hits` by fingerprint; records each lookup. */
export function fakeWatchList(hits: Map<string, LeakHit> = new Map()) {
  const lookups: string[][] = [];
  let failWith: Error | undefined;
  const watchList: WatchList = {
    lookup: (fingerprints) => {
      lookups.push([...fingerprints]);
      if (failWith !== undefined) return Promise.reject(failWith);
      return Promise.resolve(new Map([...hits].filter(([f]) => fingerprints.includes(f))));
    },
  };
  return { watchList, lookups, fail: (error: Error) => (failWith = error) };
}

/** History that answers fixed counts and records what it was given. */
export function fakeHistory(counts: Partial<HistoryCounts> = {}) {
  const calls: Array<{ events: HistoryEvent[]; windows: HistoryWindowsMs }> = [];
  const history: HistoryRecorder = {
    record: (events, windows) => {
      calls.push({ events: [...events], windows });
      return Promise.resolve(
        events.map(() => ({
          authorizationsInVelocityWindow: counts.authorizationsInVelocityWindow ?? 1,
          smallAmountsInCardTestingWindow: counts.smallAmountsInCardTestingWindow ?? 0,
        })),
      );
    },
  };
  return { history, calls };
}

export interface FakePartner {
  partnerId: string;
  country: string | null;
  binPrefixes: string[];
}

export function partner(partnerId: string, country: string | null, binPrefixes: string[]): FakePartner {
  return { partnerId, country, binPrefixes };
}

/** Routes by the first matching prefix of `partners`. */
export function fakeRouter(partners: FakePartner[]) {
  return {
    route: (bin: string) =>
      partners.find((p) => p.binPrefixes.some((prefix) => bin.startsWith(prefix))) ?? null,
  };
}

/** `card` resolved under `keys`; fails the test when it cannot be. */
export function resolvedCard(card: AuthorizationCard, keys: CardKeys): ResolvedCard {
  const result = resolveCard(card, keys);
  if (!isResolved(result)) throw new Error(result.message);
  return result;
}
