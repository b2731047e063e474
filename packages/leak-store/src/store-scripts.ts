import type { ChainableCommander } from 'ioredis';
import type { KeySpace } from './layout.js';
import type { RedisAdapter, TypedCommand } from './redis-adapter.js';
import { SCRIPTS, type ScriptName } from './scripts.js';

/**
 * Typed wrappers of the store's Lua scripts (scripts.ts): each takes named arguments, lays them
 * out as KEYS and ARGV the way its script reads them, and says what it replies. Nothing else in
 * the package names a script or counts KEYS by hand.
 */

type ScriptArg = string | Buffer | number;
type ScriptMethod = (numKeys: number, ...args: ScriptArg[]) => ChainableCommander;

/** A pipeline with the store's scripts on it (ioredis adds them by defineCommand). */
type ScriptPipeline = ChainableCommander & {
  [K in ScriptName as `lw_ls_${K}Buffer` | `lw_ls_${K}`]: ScriptMethod;
};

/** Registers the store's Lua scripts on the client (once per client; names are namespaced). */
export function defineStoreScripts(adapter: RedisAdapter): void {
  adapter.defineScripts(
    Object.fromEntries(Object.entries(SCRIPTS).map(([name, lua]) => [`lw_ls_${name}`, { lua }])),
  );
}

/** One script call on `slot`, with its keys then its arguments; `buffer` asks for raw replies. */
function scriptCall<R>(
  slot: number,
  name: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
  buffer = false,
): TypedCommand<R> {
  return {
    slot,
    add: (pipeline) => {
      const method = (pipeline as ScriptPipeline)[`lw_ls_${name}${buffer ? 'Buffer' : ''}`];
      method.call(pipeline, keys.length, ...keys, ...args);
    },
  };
}

/** The registry version (bumped on every incident change); rides along with card calls. */
export function readRegistryVersion(ks: KeySpace): TypedCommand<string | null> {
  return { slot: ks.registrySlot, add: (p) => p.hget(ks.registryMetaKey, 'version') };
}

/** Layout fields as stored: layoutVersion, bucketBits, groupBits, fieldBytes, filterBits, capacity. */
export type StoredLayoutReply = (string | null)[];

export interface InitLayoutArgs {
  metaKey: string;
  layoutVersion: number;
  bucketBits: number;
  groupBits: number;
  fieldBytes: number;
  filterBits: number;
  capacity: number;
  maxEntriesPerBucket: number;
}

/** Stores the layout unless one is stored already; replies the stored one. */
export function initLayout(slot: number, a: InitLayoutArgs): TypedCommand<StoredLayoutReply> {
  return scriptCall(
    slot,
    'initLayout',
    [a.metaKey],
    [
      a.layoutVersion,
      a.bucketBits,
      a.groupBits,
      a.fieldBytes,
      a.filterBits,
      a.capacity,
      a.maxEntriesPerBucket,
    ],
  );
}

/** [created (0/1), incident number, changed (0/1)] */
export type UpsertIncidentReply = [created: number, incidentNumber: number, changed: number];

export function upsertIncident(
  ks: KeySpace,
  incidentId: string,
  nowIso: string,
  fields: readonly [string, string][],
): TypedCommand<UpsertIncidentReply> {
  return scriptCall(
    ks.registrySlot,
    'upsertIncident',
    [ks.registryMetaKey, ks.registryIdsKey, ks.incidentKey(incidentId)],
    [incidentId, nowIso, ...fields.flat()],
  );
}

/** 0: no such incident; 1: retired now; 2: it already was. */
export type RetireIncidentReply = 0 | 1 | 2;

export function retireIncident(
  ks: KeySpace,
  incidentId: string,
  nowIso: string,
): TypedCommand<RetireIncidentReply> {
  return scriptCall(
    ks.registrySlot,
    'retireIncident',
    [ks.registryMetaKey, ks.registryIdsKey, ks.incidentKey(incidentId)],
    [incidentId, nowIso],
  );
}

export interface AddCardsArgs {
  group: number;
  /** Bucket key of each card, in the order of `fields`. */
  bucketKeys: readonly string[];
  incidentNumber: number;
  /** Every card's field (`ks.fieldLength` bytes each), concatenated. */
  fields: Buffer;
  /** Every card's packed expiry tag (zeros when none), concatenated. */
  tags: Buffer;
  /** One byte per card: "1" when it has a tag, "0" otherwise. */
  flags: Buffer;
  /** Header of the group's watch log, used only if this call creates the log. */
  watchLogHeader: Buffer;
}

/** [cards newly watched in the incident, expiry tags added to watched cards, unchanged] */
export type AddCardsReply = [added: number, expiryTagsAdded: number, unchanged: number];

/** Adds cards of one group to one incident, moving its counter and filter in the same call. */
export function addCards(ks: KeySpace, a: AddCardsArgs): TypedCommand<AddCardsReply> {
  return scriptCall(
    ks.groupSlots[a.group] as number,
    'addCards',
    [
      ks.counterKeys[a.group] as string,
      ks.filterKeys[a.group] as string,
      ks.watchLogKeys[a.group] as string,
      ...a.bucketKeys,
    ],
    [
      String(a.incidentNumber),
      ks.fieldLength,
      ks.filterByteOffset,
      ks.layout.filterBits,
      a.fields,
      a.tags,
      a.flags,
      ks.watchLogByteOffset,
      a.watchLogHeader,
    ],
  );
}

export interface LookupArgs {
  slot: number;
  /** The groups of the call, in the order of `bucketKeys`, with how many fingerprints each. */
  groups: readonly { group: number; count: number }[];
  bucketKeys: readonly string[];
  /** Every fingerprint's field, concatenated, in the order of `bucketKeys`. */
  fields: Buffer;
}

/** Hits only, flat: position (1-based, in the call) then the stored value, repeated. */
export type LookupReply = (number | Buffer)[];

/** Looks fingerprints up through their groups' presence filters; values come back raw. */
export function lookup(ks: KeySpace, a: LookupArgs): TypedCommand<LookupReply> {
  return scriptCall(
    a.slot,
    'lookup',
    [...a.groups.map((g) => ks.filterKeys[g.group] as string), ...a.bucketKeys],
    [ks.fieldLength, ks.filterByteOffset, ks.layout.filterBits, a.fields, ...a.groups.map((g) => g.count)],
    true,
  );
}

/** Per card that was watched: its position (1-based, in the call), then its incident numbers. */
export type RemoveCardsReply = number[][];

/** Takes cards of one group off the watch list in every incident. */
export function removeCards(
  ks: KeySpace,
  group: number,
  bucketKeys: readonly string[],
  fields: readonly Buffer[],
): TypedCommand<RemoveCardsReply> {
  return scriptCall(
    ks.groupSlots[group] as number,
    'removeCards',
    [ks.counterKeys[group] as string, ...bucketKeys],
    fields,
  );
}

/** [values rewritten, cards no longer watched at all] */
export type PurgeReply = [valuesRewritten: number, cardsReleased: number];

/** Drops the records of retired incidents from some buckets of one group. */
export function purge(
  ks: KeySpace,
  group: number,
  bucketKeys: readonly string[],
  retiredNumbers: readonly string[],
): TypedCommand<PurgeReply> {
  return scriptCall(
    ks.groupSlots[group] as number,
    'purge',
    [ks.counterKeys[group] as string, ...bucketKeys],
    retiredNumbers,
  );
}

/**
 * Rebuilds one group's filter and watch log (under a new `header`) from all its buckets;
 * replies the number of cards seen.
 */
export function rebuildFilter(ks: KeySpace, group: number, header: Buffer): TypedCommand<number> {
  const perGroup = ks.buckets / ks.groups;
  return scriptCall(
    ks.groupSlots[group] as number,
    'rebuildFilter',
    [
      ks.filterKeys[group] as string,
      ks.watchLogKeys[group] as string,
      ...ks.bucketKeyRange(group * perGroup, (group + 1) * perGroup),
    ],
    [ks.filterByteOffset, ks.layout.filterBits, ks.watchLogByteOffset, header],
  );
}

/** [header (empty when there is no log), log length, bytes from `from`] */
export type ReadWatchLogReply = [header: Buffer, length: number, bytes: Buffer];

/** Reads up to `maxBytes` of a group's watch log from byte `from` (≥ 8), with its header. */
export function readWatchLog(
  ks: KeySpace,
  group: number,
  from: number,
  maxBytes: number,
): TypedCommand<ReadWatchLogReply> {
  return scriptCall(
    ks.groupSlots[group] as number,
    'readWatchLog',
    [ks.watchLogKeys[group] as string],
    [from, maxBytes],
    true,
  );
}

/**
 * Runs `commands` with the registry version in the same round trip, so a retirement by another
 * process is noticed within one batch at no extra round trip.
 */
export async function runWithRegistryVersion<R>(
  adapter: RedisAdapter,
  ks: KeySpace,
  commands: readonly TypedCommand<R>[],
  what: string,
): Promise<{ replies: R[]; version: string | null }> {
  const all = await adapter.run<R | string | null>([...commands, readRegistryVersion(ks)], what);
  return { replies: all.slice(0, -1) as R[], version: all[all.length - 1] as string | null };
}
