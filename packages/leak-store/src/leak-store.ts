import { LeakwatchError } from '@leakwatch/errors';
import {
  PACKED_TAG_BYTES,
  decodeRecords,
  fingerprintBytes,
  fingerprintsToBuffer,
  unpackExpiryTag,
  writePackedExpiryTag,
} from './codec.js';
import {
  type Incident,
  type IncidentManifest,
  type IncidentWithCount,
  checkManifest,
  incidentFromHash,
  isIncidentId,
  manifestToHash,
  watchEndMs,
} from './incident.js';
import {
  DEFAULT_CAPACITY,
  DEFAULT_MAX_ENTRIES_PER_BUCKET,
  KeySpace,
  REGISTRY_SLOT,
  type LayoutOptions,
  type StoreLayout,
  checkLayout,
  deriveLayout,
  registryMetaKey,
} from './layout.js';
import { RedisAdapter, type LeakStoreRedis, type RedisCallStats, type SlotCommand } from './redis-adapter.js';

/** The few logger methods the store uses; a pino logger fits. */
export interface LeakStoreLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface LeakStoreOptions {
  /** An ioredis `Redis` or `Cluster`. The caller owns it: `close()` does not quit it. */
  redis: LeakStoreRedis;
  /** Prefix of every key (LEAKWATCH_REDIS_KEY_PREFIX). Default "lw:". */
  keyPrefix?: string;
  /** Sizing used only when the prefix holds no store yet; afterwards the stored layout wins. */
  layout?: LayoutOptions;
  logger?: LeakStoreLogger;
  /** Cards per Lua call; bounds how long one call blocks Redis. Default 1000. */
  maxCardsPerScript?: number;
  /** Buckets per purge call. Default 32. */
  purgeBucketsPerScript?: number;
  /** Clock, for tests of `watchUntil`. */
  now?: () => number;
}

/** A card to watch: its fingerprint and, when the list had an expiry, the expiry tag. */
export interface WatchedCardInput {
  fingerprint: string;
  expiryTag: string | null;
}

export interface AddCardsResult {
  /** Cards that were not watched in this incident before. */
  added: number;
  /** Cards already watched in the incident that gained a leaked expiry. */
  expiryTagsAdded: number;
  /** Cards (with that expiry) already there: importing the same file twice adds nothing. */
  unchanged: number;
}

/** One incident a looked-up card belongs to. */
export interface CardIncident {
  incidentId: string;
  /**
   * Expiry tags leaked with this card in this incident; empty when the list had no expiry.
   * Usually one; several when the same card was listed with different expiries.
   */
  expiryTags: readonly string[];
  /** The incident's metadata, from the cache: enriching an alert costs no round trip. */
  incident: Incident;
}

export interface LeakHit {
  /** Incidents being watched (active, not past watchUntil) that list the card, by incident number. */
  incidents: readonly CardIncident[];
}

export interface UpsertIncidentResult {
  incident: Incident;
  created: boolean;
  /** False when the stored manifest already had these values. */
  changed: boolean;
}

export interface PurgeResult {
  /** Card entries that lost a retired incident but stay watched in another one. */
  valuesRewritten: number;
  /** Cards no longer in any incident, removed. */
  cardsReleased: number;
}

export interface RetireResult {
  alreadyRetired: boolean;
  /** null when purging was deferred (`purge: false`). */
  purge: PurgeResult | null;
}

export interface RemoveCardResult {
  /** Incidents the card was watched in (retired ones included), now none. */
  removedFrom: string[];
}

/** The cached incident registry; refreshed whenever its version in Redis moves. */
export interface IncidentSnapshot {
  version: string | null;
  byId: ReadonlyMap<string, Incident>;
  byNumber: ReadonlyMap<number, Incident>;
}

export interface BucketAudit {
  buckets: number;
  /** Buckets in compact encoding (listpack; ziplist before Redis 7). */
  listpack: number;
  /** Buckets converted to a hash table: over hash-max-listpack-entries/-value. */
  other: number;
  /** Buckets with no card. */
  empty: number;
  /** Watched cards (hash entries) in all buckets. */
  entries: number;
  largestBucket: number;
}

export interface ServerConfigCheck {
  ok: boolean;
  /** Per master: the values read, or null when CONFIG GET is not allowed (managed Redis). */
  nodes: {
    node: string;
    hashMaxListpackEntries: number | null;
    hashMaxListpackValue: number | null;
    maxmemoryPolicy: string | null;
  }[];
  problems: string[];
}

/** Storage needs: the longest value written for a card in up to 4 incidents with expiries. */
const MIN_LISTPACK_VALUE = 40;
const LOOKUP_CHUNK = 1000;

type LifecycleState = 'new' | 'starting' | 'started' | 'closed';

/**
 * Watched cards and compromise incidents in Redis, as keyed fingerprints (never a card number).
 *
 * Keys (prefix P, default "lw:"; see layout.ts and codec.ts for the details):
 * - `P{incidents}:meta` hash: seq (last incident number), version (bumped on every incident
 *   change), and the layout: layoutVersion, bucketBits, groupBits, fieldBytes, filterBits,
 *   capacity, maxEntriesPerBucket.
 * - `P{incidents}:ids` hash: incidentId → incident number.
 * - `P{incidents}:i:<incidentId>` hash: the manifest, number, status, createdAt, updatedAt, retiredAt.
 * - `P{<tag>}b<hex>` hash (a bucket): 16 fingerprint bytes → records
 *   `varint(number*2+hasTag)[+9-byte tag]`, one per incident (and leaked expiry) of the card.
 * - `P{<tag>}n` hash: incident number → cards watched in the group (exact: moved by the same
 *   Lua call that moves the cards).
 * - `P{<tag>}f` string: the group's presence filter.
 *
 * Every operation touches keys of one hash tag per command, so it runs unchanged on a single
 * Redis and on Redis Cluster. Lifecycle: `start()` once (reads or creates the layout, loads the
 * incident cache), then use; `close()` is idempotent and leaves the Redis client to its owner.
 */
export class LeakStore {
  private readonly adapter: RedisAdapter;
  private readonly prefix: string;
  private readonly options: LeakStoreOptions;
  private readonly maxCardsPerScript: number;
  private readonly purgeBucketsPerScript: number;
  private readonly now: () => number;
  private keys: KeySpace | null = null;
  /** Capacity the stored layout was sized for. */
  private capacity = DEFAULT_CAPACITY;
  private state: LifecycleState = 'new';
  private startPromise: Promise<void> | null = null;
  private closePromise: Promise<void> | null = null;
  private snapshot: IncidentSnapshot = { version: null, byId: new Map(), byNumber: new Map() };
  private watchEnds = new Map<number, number | null>();
  private refreshing: Promise<IncidentSnapshot> | null = null;

  constructor(options: LeakStoreOptions) {
    this.options = options;
    this.adapter = new RedisAdapter(options.redis);
    this.prefix = options.keyPrefix ?? 'lw:';
    this.maxCardsPerScript = options.maxCardsPerScript ?? 1000;
    this.purgeBucketsPerScript = options.purgeBucketsPerScript ?? 32;
    this.now = options.now ?? Date.now;
    const problems: string[] = [];
    if (!/^[^{}\s]{0,64}$/.test(this.prefix))
      problems.push('keyPrefix must be at most 64 characters without braces or spaces');
    if (!Number.isInteger(this.maxCardsPerScript) || this.maxCardsPerScript < 1)
      problems.push('maxCardsPerScript must be a positive integer');
    if (!Number.isInteger(this.purgeBucketsPerScript) || this.purgeBucketsPerScript < 1)
      problems.push('purgeBucketsPerScript must be a positive integer');
    if (problems.length > 0)
      throw new LeakwatchError('CONFIG_INVALID', `leak store options: ${problems.join('; ')}`);
  }

  /** Connects, reads (or on first use stores) the key layout, and loads the incident cache. */
  start(): Promise<void> {
    if (this.state === 'closed')
      return Promise.reject(new LeakwatchError('INTERNAL', 'leak store is closed'));
    this.startPromise ??= this.doStart();
    return this.startPromise;
  }

  private async doStart(): Promise<void> {
    this.state = 'starting';
    await this.adapter.ready();
    this.adapter.defineStoreScripts();
    const derived = deriveLayout(this.options.layout);
    const layoutOptions = this.options.layout ?? {};
    const [stored] = (await this.adapter.run(
      [
        {
          slot: REGISTRY_SLOT,
          add: (p) =>
            p.lw_ls_initLayout(
              1,
              registryMetaKey(this.prefix),
              derived.layoutVersion,
              derived.bucketBits,
              derived.groupBits,
              derived.fieldBytes,
              derived.filterBits,
              layoutOptions.capacity ?? DEFAULT_CAPACITY,
              layoutOptions.maxEntriesPerBucket ?? DEFAULT_MAX_ENTRIES_PER_BUCKET,
            ),
        },
      ],
      'layout initialisation',
    )) as [(string | null)[]];
    const layout: StoreLayout = {
      layoutVersion: Number(stored[0]) as 1,
      bucketBits: Number(stored[1]),
      groupBits: Number(stored[2]),
      fieldBytes: Number(stored[3]),
      filterBits: Number(stored[4]),
    };
    this.capacity = Number(stored[5]) || DEFAULT_CAPACITY;
    checkLayout(layout);
    this.keys = new KeySpace(this.prefix, layout);
    if (
      layout.bucketBits !== derived.bucketBits ||
      layout.groupBits !== derived.groupBits ||
      layout.fieldBytes !== derived.fieldBytes ||
      layout.filterBits !== derived.filterBits
    ) {
      this.options.logger?.info(
        { stored: layout, requested: derived },
        'leak store keeps the layout already stored under this prefix',
      );
    }
    await this.refreshIncidents();
    this.state = 'started';
  }

  /** Idempotent; resolves once in-flight start-up settled. Does not quit the Redis client. */
  close(): Promise<void> {
    this.closePromise ??= (async () => {
      this.state = 'closed';
      await this.startPromise?.catch(() => undefined);
    })();
    return this.closePromise;
  }

  /** The layout in use (after start). */
  get layout(): StoreLayout {
    return this.keySpace().layout;
  }

  /** Round trips, pipelines and commands sent so far. */
  get redisStats(): Readonly<RedisCallStats> {
    return this.adapter.stats;
  }

  /** The key space (key names, bucket maths), for audits, the benchmark and tests. */
  keySpace(): KeySpace {
    if (!this.keys || this.state === 'closed') {
      throw new LeakwatchError(
        'INTERNAL',
        this.state === 'closed' ? 'leak store is closed' : 'leak store not started',
      );
    }
    return this.keys;
  }

  // ---------------------------------------------------------------- incidents

  /**
   * Creates an incident, or updates its manifest fields when it exists (number, status and
   * counts are kept). Same manifest twice: `changed: false`, nothing written.
   */
  async upsertIncident(manifest: IncidentManifest): Promise<UpsertIncidentResult> {
    const ks = this.keySpace();
    const clean = checkManifest(manifest);
    const [reply] = (await this.adapter.run(
      [
        {
          slot: ks.registrySlot,
          add: (p) =>
            p.lw_ls_upsertIncident(
              3,
              ks.registryMetaKey,
              ks.registryIdsKey,
              ks.incidentKey(clean.incidentId),
              clean.incidentId,
              new Date(this.now()).toISOString(),
              ...manifestToHash(clean).flat(),
            ),
        },
      ],
      'incident upsert',
    )) as [[number, number, number]];
    const snapshot = await this.refreshIncidents();
    const incident = snapshot.byId.get(clean.incidentId);
    if (!incident) throw new LeakwatchError('INTERNAL', `incident ${clean.incidentId} vanished after upsert`);
    return { incident, created: reply[0] === 1, changed: reply[2] === 1 };
  }

  /**
   * Retires an incident: from this call on, lookups skip it (their version check sees the
   * change in the same round trip). With `purge` (default) its card entries are then dropped
   * too; with `purge: false` they stay, harmless, until `purgeRetired()` runs.
   */
  async retireIncident(incidentId: string, options: { purge?: boolean } = {}): Promise<RetireResult> {
    const ks = this.keySpace();
    if (!isIncidentId(incidentId)) throw new LeakwatchError('NOT_FOUND', 'no such incident');
    const [reply] = (await this.adapter.run(
      [
        {
          slot: ks.registrySlot,
          add: (p) =>
            p.lw_ls_retireIncident(
              3,
              ks.registryMetaKey,
              ks.registryIdsKey,
              ks.incidentKey(incidentId),
              incidentId,
              new Date(this.now()).toISOString(),
            ),
        },
      ],
      'incident retirement',
    )) as [number];
    if (reply === 0)
      throw new LeakwatchError('NOT_FOUND', `no incident ${incidentId}`, { details: { incidentId } });
    await this.refreshIncidents();
    this.options.logger?.info({ incidentId, alreadyRetired: reply === 2 }, 'incident retired');
    const purge = options.purge === false ? null : await this.purgeRetired();
    return { alreadyRetired: reply === 2, purge };
  }

  /**
   * Drops every retired incident's records from the card entries, bucket by bucket (each call
   * blocks Redis only for a few buckets). Safe to run again, or concurrently with imports.
   */
  async purgeRetired(): Promise<PurgeResult> {
    const ks = this.keySpace();
    const snapshot = await this.refreshIncidents();
    const retired = [...snapshot.byNumber.values()]
      .filter((i) => i.status === 'retired')
      .map((i) => String(i.number));
    const result: PurgeResult = { valuesRewritten: 0, cardsReleased: 0 };
    if (retired.length === 0) return result;
    const perGroup = ks.buckets / ks.groups;
    const commands: SlotCommand[] = [];
    for (let g = 0; g < ks.groups; g++) {
      for (let first = g * perGroup; first < (g + 1) * perGroup; first += this.purgeBucketsPerScript) {
        const last = Math.min((g + 1) * perGroup, first + this.purgeBucketsPerScript);
        const keys = ks.bucketKeyRange(first, last);
        commands.push({
          slot: ks.groupSlots[g] as number,
          add: (p) => p.lw_ls_purge(1 + keys.length, ks.counterKeys[g] as string, ...keys, ...retired),
        });
      }
    }
    // A few hundred short calls per wave keeps client memory flat on large layouts.
    for (let i = 0; i < commands.length; i += 512) {
      const replies = (await this.adapter.run(commands.slice(i, i + 512), 'purge of retired incidents')) as [
        number,
        number,
      ][];
      for (const [rewritten, dropped] of replies) {
        result.valuesRewritten += rewritten;
        result.cardsReleased += dropped;
      }
    }
    this.options.logger?.info(
      { retiredIncidents: retired.length, ...result },
      'retired incidents purged from card entries',
    );
    return result;
  }

  /** Every incident, by number, with its watched-card count. */
  async listIncidents(): Promise<IncidentWithCount[]> {
    const snapshot = await this.refreshIncidents();
    const counts = await this.countsByNumber();
    return [...snapshot.byNumber.values()]
      .sort((a, b) => a.number - b.number)
      .map((incident) => ({
        ...incident,
        watchedCards: incident.status === 'retired' ? 0 : (counts.get(incident.number) ?? 0),
      }));
  }

  /** One incident with its watched-card count, or null when there is none with that id. */
  async getIncident(incidentId: string): Promise<IncidentWithCount | null> {
    if (!isIncidentId(incidentId)) return null;
    const snapshot = await this.refreshIncidents();
    const incident = snapshot.byId.get(incidentId);
    if (!incident) return null;
    const counts = await this.countsByNumber();
    return {
      ...incident,
      watchedCards: incident.status === 'retired' ? 0 : (counts.get(incident.number) ?? 0),
    };
  }

  /**
   * Watched cards per incident id (retired incidents report 0), for the
   * `leakwatch_watched_cards` gauge. One round trip: one HGETALL per group.
   */
  async watchedCounts(): Promise<Map<string, number>> {
    const snapshot = await this.refreshIncidents();
    const counts = await this.countsByNumber();
    const out = new Map<string, number>();
    for (const incident of snapshot.byNumber.values()) {
      out.set(incident.incidentId, incident.status === 'retired' ? 0 : (counts.get(incident.number) ?? 0));
    }
    return out;
  }

  /** The cached registry as of the last refresh or lookup; no round trip. */
  incidents(): IncidentSnapshot {
    return this.snapshot;
  }

  /** Reloads the incident registry (two round trips); concurrent callers share one reload. */
  refreshIncidents(): Promise<IncidentSnapshot> {
    this.refreshing ??= this.loadRegistry().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async loadRegistry(): Promise<IncidentSnapshot> {
    const ks = this.keySpace();
    // The version is read before the data: a change racing this read leaves an older version
    // in the cache, and the next lookup reloads.
    const [version, ids] = (await this.adapter.run(
      [
        { slot: ks.registrySlot, add: (p) => p.hget(ks.registryMetaKey, 'version') },
        { slot: ks.registrySlot, add: (p) => p.hkeys(ks.registryIdsKey) },
      ],
      'incident registry read',
    )) as [string | null, string[]];
    const hashes = (await this.adapter.run(
      ids.map((id) => ({ slot: ks.registrySlot, add: (p) => p.hgetall(ks.incidentKey(id)) })),
      'incident registry read',
    )) as Record<string, string>[];
    const byId = new Map<string, Incident>();
    const byNumber = new Map<number, Incident>();
    const watchEnds = new Map<number, number | null>();
    for (const hash of hashes) {
      const incident = incidentFromHash(hash);
      if (!incident) continue;
      byId.set(incident.incidentId, incident);
      byNumber.set(incident.number, incident);
      watchEnds.set(incident.number, watchEndMs(incident.watchUntil));
    }
    this.snapshot = { version, byId, byNumber };
    this.watchEnds = watchEnds;
    return this.snapshot;
  }

  private async countsByNumber(): Promise<Map<number, number>> {
    const ks = this.keySpace();
    const replies = (await this.adapter.run(
      ks.counterKeys.map((key, g) => ({ slot: ks.groupSlots[g] as number, add: (p) => p.hgetall(key) })),
      'watched-card counts',
    )) as Record<string, string>[];
    const counts = new Map<number, number>();
    for (const reply of replies) {
      for (const [no, count] of Object.entries(reply))
        counts.set(Number(no), (counts.get(Number(no)) ?? 0) + Number(count));
    }
    return counts;
  }

  /** The incident from the cache, reloading once when it is not there. */
  private async requireIncident(incidentId: string): Promise<Incident> {
    const incident =
      this.snapshot.byId.get(incidentId) ?? (await this.refreshIncidents()).byId.get(incidentId);
    if (!incident)
      throw new LeakwatchError('NOT_FOUND', `no incident ${incidentId}`, { details: { incidentId } });
    return incident;
  }

  // ---------------------------------------------------------------- cards

  /**
   * Watches cards in an incident: one round trip for the whole batch (one Lua call per
   * hash-tag group and `maxCardsPerScript` cards, pipelined per node). Idempotent.
   * Throws VALIDATION_FAILED for a malformed fingerprint or tag (nothing is written then) and
   * for a retired incident, NOT_FOUND for an unknown one.
   */
  async addCards(incidentId: string, cards: readonly WatchedCardInput[]): Promise<AddCardsResult> {
    const ks = this.keySpace();
    const incident = await this.requireIncident(incidentId);
    if (incident.status === 'retired') {
      throw new LeakwatchError('VALIDATION_FAILED', `incident ${incidentId} is retired; it takes no cards`, {
        details: { incidentId },
      });
    }
    const n = cards.length;
    const all = fingerprintsToBuffer(
      cards.map((card) => card.fingerprint),
      'cards',
    );
    const tags = Buffer.alloc(n * PACKED_TAG_BYTES);
    const flags = Buffer.alloc(n, 0x30); // "0": no tag
    cards.forEach((card, i) => {
      if (card.expiryTag === null || card.expiryTag === undefined) return;
      writePackedExpiryTag(card.expiryTag, tags, i * PACKED_TAG_BYTES, `cards[${i}].expiryTag`);
      flags[i] = 0x31;
    });
    const { buckets, order, runs } = this.sortByGroup(all, n);
    const no = String(incident.number);
    const flen = ks.fieldLength;
    const commands: SlotCommand[] = [];
    for (const run of runs) {
      for (let start = run.start; start < run.end; start += this.maxCardsPerScript) {
        const end = Math.min(run.end, start + this.maxCardsPerScript);
        const count = end - start;
        const keys: string[] = new Array<string>(count);
        const fields = Buffer.allocUnsafe(count * flen);
        const chunkTags = Buffer.allocUnsafe(count * PACKED_TAG_BYTES);
        const chunkFlags = Buffer.allocUnsafe(count);
        for (let j = 0; j < count; j++) {
          const position = order[start + j] as number;
          keys[j] = ks.bucketKey(buckets[position] as number);
          all.copy(fields, j * flen, position * 32 + ks.fieldOffset, position * 32 + ks.fieldOffset + flen);
          tags.copy(
            chunkTags,
            j * PACKED_TAG_BYTES,
            position * PACKED_TAG_BYTES,
            (position + 1) * PACKED_TAG_BYTES,
          );
          chunkFlags[j] = flags[position] as number;
        }
        const group = run.group;
        commands.push({
          slot: ks.groupSlots[group] as number,
          add: (p) =>
            p.lw_ls_addCards(
              2 + count,
              ks.counterKeys[group] as string,
              ks.filterKeys[group] as string,
              ...keys,
              no,
              flen,
              ks.filterByteOffset,
              ks.layout.filterBits,
              fields,
              chunkTags,
              chunkFlags,
            ),
        });
      }
    }
    // The registry version rides along: a retirement by another process is noticed within
    // one batch, at no extra round trip.
    commands.push({ slot: ks.registrySlot, add: (p) => p.hget(ks.registryMetaKey, 'version') });
    const replies = await this.adapter.run(commands, 'card import');
    const result: AddCardsResult = { added: 0, expiryTagsAdded: 0, unchanged: 0 };
    for (let i = 0; i < replies.length - 1; i++) {
      const [added, expiries, unchanged] = replies[i] as [number, number, number];
      result.added += added;
      result.expiryTagsAdded += expiries;
      result.unchanged += unchanged;
    }
    if (replies[replies.length - 1] !== this.snapshot.version) {
      const now = (await this.refreshIncidents()).byId.get(incidentId);
      if (!now || now.status === 'retired') {
        // The cards just written are harmless: lookups skip a retired incident and
        // purgeRetired() removes them.
        throw new LeakwatchError(
          'VALIDATION_FAILED',
          `incident ${incidentId} was retired during the import`,
          {
            details: { incidentId, ...result },
          },
        );
      }
    }
    return result;
  }

  /**
   * Looks fingerprints up in one round trip: one Lua call on a single Redis (per slot group on
   * a cluster, pipelined per node, nodes in parallel), plus the registry version in the same
   * round trip so a retirement anywhere is seen at once. Returns only hits; retired incidents
   * and incidents past `watchUntil` are left out, and a card left with none is no hit.
   */
  async lookup(fingerprints: readonly string[]): Promise<Map<string, LeakHit>> {
    const ks = this.keySpace();
    const hits = new Map<string, LeakHit>();
    const n = fingerprints.length;
    if (n === 0) return hits;
    const all = fingerprintsToBuffer(fingerprints);
    const { buckets, order, runs } = this.sortByGroup(all, n);
    // A call covers consecutive runs (groups) of the sorted order: all of them on a single
    // Redis, one group (one slot) on a cluster; at most LOOKUP_CHUNK fingerprints each.
    const calls: { slot: number; start: number; end: number; runs: { group: number; count: number }[] }[] =
      [];
    for (const run of runs) {
      for (let start = run.start; start < run.end; start += LOOKUP_CHUNK) {
        const end = Math.min(run.end, start + LOOKUP_CHUNK);
        const last = calls[calls.length - 1];
        if (!this.adapter.isCluster && last && end - last.start <= LOOKUP_CHUNK) {
          last.end = end;
          last.runs.push({ group: run.group, count: end - start });
        } else {
          const slot = ks.groupSlots[run.group] as number;
          calls.push({ slot, start, end, runs: [{ group: run.group, count: end - start }] });
        }
      }
    }
    const flen = ks.fieldLength;
    const commands: SlotCommand[] = calls.map((call) => ({
      slot: call.slot,
      add: (p) => {
        const count = call.end - call.start;
        const keys: string[] = new Array<string>(call.runs.length + count);
        const counts: number[] = new Array<number>(call.runs.length);
        call.runs.forEach((run, k) => {
          keys[k] = ks.filterKeys[run.group] as string;
          counts[k] = run.count;
        });
        const fields = Buffer.allocUnsafe(count * flen);
        for (let j = 0; j < count; j++) {
          const position = order[call.start + j] as number;
          keys[call.runs.length + j] = ks.bucketKey(buckets[position] as number);
          all.copy(fields, j * flen, position * 32 + ks.fieldOffset, position * 32 + ks.fieldOffset + flen);
        }
        p.lw_ls_lookupBuffer(
          keys.length,
          ...keys,
          flen,
          ks.filterByteOffset,
          ks.layout.filterBits,
          fields,
          ...counts,
        );
      },
    }));
    commands.push({ slot: ks.registrySlot, add: (p) => p.hget(ks.registryMetaKey, 'version') });
    const replies = await this.adapter.run(commands, 'leak lookup');
    const version = replies[replies.length - 1] as string | null;
    if (version !== this.snapshot.version) await this.refreshIncidents();

    const found: { position: number; value: Buffer }[] = [];
    calls.forEach((call, c) => {
      const reply = replies[c] as (number | Buffer)[];
      for (let j = 0; j < reply.length; j += 2) {
        found.push({
          position: order[call.start + (reply[j] as number) - 1] as number,
          value: reply[j + 1] as Buffer,
        });
      }
    });
    if (found.length === 0) return hits;
    // A number missing from the cache belongs to an incident created after the version we
    // read (possible on a cluster, where the registry sits on another node): reload once.
    const needsReload = found.some(({ value }) =>
      (decodeRecords(value) ?? []).some((link) => !this.snapshot.byNumber.has(link.incidentNumber)),
    );
    if (needsReload) await this.refreshIncidents();
    const nowMs = this.now();
    for (const { position, value } of found) {
      const hit = this.toHit(value, nowMs);
      if (hit) hits.set(fingerprints[position] as string, hit);
    }
    return hits;
  }

  /**
   * Buckets of the fingerprints in `all` and their positions sorted by group (counting sort,
   * stable), with the runs of each group in that order.
   */
  private sortByGroup(
    all: Buffer,
    n: number,
  ): { buckets: Int32Array; order: Int32Array; runs: { group: number; start: number; end: number }[] } {
    const ks = this.keySpace();
    const buckets = new Int32Array(n);
    const groups = new Int32Array(n);
    const starts = new Int32Array(ks.groups + 1);
    for (let i = 0; i < n; i++) {
      const bucket = ks.bucketOf(all, i * 32);
      buckets[i] = bucket;
      const group = ks.groupOfBucket(bucket);
      groups[i] = group;
      starts[group + 1] = (starts[group + 1] as number) + 1;
    }
    const runs: { group: number; start: number; end: number }[] = [];
    for (let g = 0; g < ks.groups; g++) {
      const start = starts[g] as number;
      const end = start + (starts[g + 1] as number);
      starts[g + 1] = end;
      if (end > start) runs.push({ group: g, start, end });
    }
    const order = new Int32Array(n);
    const next = starts.slice(0, ks.groups);
    for (let i = 0; i < n; i++) {
      const g = groups[i] as number;
      order[next[g] as number] = i;
      next[g] = (next[g] as number) + 1;
    }
    return { buckets, order, runs };
  }

  private toHit(value: Buffer, nowMs: number): LeakHit | null {
    const links = decodeRecords(value);
    if (!links) return null;
    const byNumber = new Map<number, CardIncident & { expiryTags: string[] }>();
    for (const link of links) {
      let entry = byNumber.get(link.incidentNumber);
      if (!entry) {
        const incident = this.snapshot.byNumber.get(link.incidentNumber);
        if (!incident || incident.status !== 'active') continue;
        const end = this.watchEnds.get(incident.number) ?? null;
        if (end !== null && nowMs >= end) continue;
        entry = { incidentId: incident.incidentId, expiryTags: [], incident };
        byNumber.set(link.incidentNumber, entry);
      }
      if (link.tag) entry.expiryTags.push(unpackExpiryTag(link.tag));
    }
    if (byNumber.size === 0) return null;
    return { incidents: [...byNumber.values()].sort((a, b) => a.incident.number - b.incident.number) };
  }

  /** CARD_REISSUED: takes one card off the watch list in every incident. */
  async removeCard(fingerprint: string): Promise<RemoveCardResult> {
    const [result] = await this.removeCards([fingerprint]);
    return result ?? { removedFrom: [] };
  }

  /** Takes cards off the watch list in every incident, in one round trip; results in input order. */
  async removeCards(fingerprints: readonly string[]): Promise<RemoveCardResult[]> {
    const ks = this.keySpace();
    const results: RemoveCardResult[] = fingerprints.map(() => ({ removedFrom: [] }));
    const byGroup = new Map<number, { keys: string[]; fields: Buffer[]; positions: number[] }>();
    fingerprints.forEach((fingerprint, position) => {
      const bytes = fingerprintBytes(fingerprint, `fingerprints[${position}]`);
      const bucket = ks.bucketOf(bytes);
      const group = ks.groupOfBucket(bucket);
      let entry = byGroup.get(group);
      if (!entry) byGroup.set(group, (entry = { keys: [], fields: [], positions: [] }));
      entry.keys.push(ks.bucketKey(bucket));
      entry.fields.push(ks.fieldOf(bytes));
      entry.positions.push(position);
    });
    const commands: SlotCommand[] = [];
    const positionsOf: number[][] = [];
    for (const [group, { keys, fields, positions }] of byGroup) {
      for (let i = 0; i < keys.length; i += this.maxCardsPerScript) {
        const chunkKeys = keys.slice(i, i + this.maxCardsPerScript);
        const chunkFields = fields.slice(i, i + this.maxCardsPerScript);
        positionsOf.push(positions.slice(i, i + this.maxCardsPerScript));
        commands.push({
          slot: ks.groupSlots[group] as number,
          add: (p) =>
            p.lw_ls_removeCards(
              1 + chunkKeys.length,
              ks.counterKeys[group] as string,
              ...chunkKeys,
              ...chunkFields,
            ),
        });
      }
    }
    const replies = (await this.adapter.run(commands, 'card removal')) as number[][][];
    let snapshot = this.snapshot;
    if (replies.some((r) => r.some(([, ...nos]) => nos.some((no) => !snapshot.byNumber.has(no))))) {
      snapshot = await this.refreshIncidents();
    }
    replies.forEach((reply, c) => {
      for (const [index, ...numbers] of reply) {
        const position = (positionsOf[c] as number[])[(index as number) - 1] as number;
        (results[position] as RemoveCardResult).removedFrom = numbers
          .map((no) => snapshot.byNumber.get(no)?.incidentId)
          .filter((id): id is string => id !== undefined);
      }
    });
    return results;
  }

  // ---------------------------------------------------------------- operations

  /**
   * Reads `hash-max-listpack-entries` / `-value` from every master and says whether they fit
   * this layout. Managed services that forbid CONFIG report null values and no problem.
   */
  async checkServerConfig(): Promise<ServerConfigCheck> {
    const ks = this.keySpace();
    const nodes: ServerConfigCheck['nodes'] = [];
    const problems: string[] = [];
    // Buckets are sized to hold capacity/buckets cards on average; twice that is the margin.
    const neededEntries = Math.ceil((2 * this.capacity) / ks.buckets);
    for (const node of this.adapter.masters()) {
      const name = `${node.options.host ?? '?'}:${node.options.port ?? '?'}`;
      const settings: Record<string, string> = {};
      for (const pattern of ['hash-max-listpack-*', 'maxmemory-policy']) {
        try {
          const reply = (await node.config('GET', pattern)) as string[];
          for (let i = 0; i + 1 < reply.length; i += 2) settings[reply[i] as string] = reply[i + 1] as string;
        } catch {
          // CONFIG is often disabled on managed Redis: nothing to check then.
        }
      }
      const entries = settings['hash-max-listpack-entries']
        ? Number(settings['hash-max-listpack-entries'])
        : null;
      const value = settings['hash-max-listpack-value'] ? Number(settings['hash-max-listpack-value']) : null;
      const policy = settings['maxmemory-policy'] ?? null;
      nodes.push({
        node: name,
        hashMaxListpackEntries: entries,
        hashMaxListpackValue: value,
        maxmemoryPolicy: policy,
      });
      if (value !== null && value < MIN_LISTPACK_VALUE) {
        problems.push(
          `${name}: hash-max-listpack-value ${value} < ${MIN_LISTPACK_VALUE}: card buckets would leave listpack encoding`,
        );
      }
      if (entries !== null && entries < neededEntries) {
        problems.push(
          `${name}: hash-max-listpack-entries ${entries} < ${neededEntries}: at capacity (${this.capacity} cards) buckets would leave listpack encoding`,
        );
      }
      if (policy !== null && policy.startsWith('allkeys-')) {
        problems.push(`${name}: maxmemory-policy ${policy} may evict watched cards; use noeviction`);
      }
    }
    return { ok: problems.length === 0, nodes, problems };
  }

  /**
   * Rebuilds every group's presence filter from the cards stored. Removals and purges leave
   * their bits set (a filter can only gain bits), which raises the share of misses that need
   * an HGET; run this after large removals. Each group is rebuilt by one Lua call that reads
   * all its buckets (about 1/64 of the cards by default), so it blocks Redis for that long.
   */
  async rebuildFilters(): Promise<{ cards: number }> {
    const ks = this.keySpace();
    const perGroup = ks.buckets / ks.groups;
    let cards = 0;
    for (let g = 0; g < ks.groups; g++) {
      const keys = ks.bucketKeyRange(g * perGroup, (g + 1) * perGroup);
      const [seen] = (await this.adapter.run(
        [
          {
            slot: ks.groupSlots[g] as number,
            add: (p) =>
              p.lw_ls_rebuildFilter(
                1 + keys.length,
                ks.filterKeys[g] as string,
                ...keys,
                ks.filterByteOffset,
                ks.layout.filterBits,
              ),
          },
        ],
        'filter rebuild',
      )) as [number];
      cards += seen;
    }
    return { cards };
  }

  /**
   * Walks every bucket (OBJECT ENCODING and HLEN, a few round trips) to tell how many left
   * listpack encoding: any is a sign the store holds more cards than its layout was sized for.
   */
  async auditBuckets(): Promise<BucketAudit> {
    const ks = this.keySpace();
    const audit: BucketAudit = {
      buckets: ks.buckets,
      listpack: 0,
      other: 0,
      empty: 0,
      entries: 0,
      largestBucket: 0,
    };
    for (let first = 0; first < ks.buckets; first += 4096) {
      const commands: SlotCommand[] = [];
      for (let b = first; b < Math.min(ks.buckets, first + 4096); b++) {
        const key = ks.bucketKey(b);
        const slot = ks.groupSlots[ks.groupOfBucket(b)] as number;
        commands.push({ slot, add: (p) => p.hlen(key) }, { slot, add: (p) => p.object('ENCODING', key) });
      }
      const replies = await this.adapter.run(commands, 'bucket audit');
      for (let i = 0; i < replies.length; i += 2) {
        const entries = replies[i] as number;
        const encoding = replies[i + 1] as string | null;
        audit.entries += entries;
        audit.largestBucket = Math.max(audit.largestBucket, entries);
        if (encoding === null) audit.empty += 1;
        else if (encoding === 'listpack' || encoding === 'ziplist') audit.listpack += 1;
        else audit.other += 1;
      }
    }
    return audit;
  }

  /**
   * Deletes every key of this store (registry, incidents, all card buckets). For tests and
   * benchmarks on their own prefix; never call it on a live prefix.
   */
  async drop(): Promise<void> {
    const ks = this.keySpace();
    const ids = (await this.adapter.run(
      [{ slot: ks.registrySlot, add: (p) => p.hkeys(ks.registryIdsKey) }],
      'drop',
    )) as [string[]];
    const commands: SlotCommand[] = [
      {
        slot: ks.registrySlot,
        add: (p) =>
          p.unlink(ks.registryMetaKey, ks.registryIdsKey, ...ids[0].map((id) => ks.incidentKey(id))),
      },
    ];
    const perGroup = ks.buckets / ks.groups;
    for (let g = 0; g < ks.groups; g++) {
      for (let first = g * perGroup; first < (g + 1) * perGroup; first += 1024) {
        const keys = ks.bucketKeyRange(first, Math.min((g + 1) * perGroup, first + 1024));
        commands.push({ slot: ks.groupSlots[g] as number, add: (p) => p.unlink(...keys) });
      }
      commands.push({
        slot: ks.groupSlots[g] as number,
        add: (p) => p.unlink(ks.counterKeys[g] as string, ks.filterKeys[g] as string),
      });
    }
    await this.adapter.run(commands, 'drop');
    this.snapshot = { version: null, byId: new Map(), byNumber: new Map() };
  }
}
