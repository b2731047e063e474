import { randomBytes } from 'node:crypto';
import { fingerprintBytes } from './codec.js';
import type { IncidentRegistry } from './incident-registry.js';
import type { TypedCommand } from './redis-adapter.js';
import type { StoreContext } from './store-context.js';
import * as scripts from './store-scripts.js';

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

/**
 * Everything that changes the store besides imports: retiring incidents and purging their
 * entries, taking reissued cards off the list, rebuilding filters, and the audits and checks
 * operators run. Each sweep works group by group, in calls that block Redis only briefly.
 */
export class StoreMaintenance {
  readonly #context: StoreContext;
  readonly #registry: IncidentRegistry;

  constructor(context: StoreContext, registry: IncidentRegistry) {
    this.#context = context;
    this.#registry = registry;
  }

  /**
   * Retires an incident: from this call on, lookups skip it (their version check sees the
   * change in the same round trip). With `purge` (default) its card entries are then dropped
   * too; with `purge: false` they stay, harmless, until `purgeRetired()` runs.
   */
  async retireIncident(incidentId: string, options: { purge?: boolean } = {}): Promise<RetireResult> {
    const { alreadyRetired } = await this.#registry.retire(incidentId);
    const purge = options.purge === false ? null : await this.purgeRetired();
    return { alreadyRetired, purge };
  }

  /**
   * Drops every retired incident's records from the card entries, bucket by bucket (each call
   * blocks Redis only for a few buckets). Safe to run again, or concurrently with imports.
   */
  async purgeRetired(): Promise<PurgeResult> {
    const ks = this.#context.keySpace();
    const snapshot = await this.#registry.refresh();
    const retired = [...snapshot.byNumber.values()]
      .filter((i) => i.status === 'retired')
      .map((i) => String(i.number));
    const result: PurgeResult = { valuesRewritten: 0, cardsReleased: 0 };
    if (retired.length === 0) return result;
    const perGroup = ks.buckets / ks.groups;
    const step = this.#context.purgeBucketsPerScript;
    const commands: TypedCommand<scripts.PurgeReply>[] = [];
    for (let g = 0; g < ks.groups; g++) {
      for (let first = g * perGroup; first < (g + 1) * perGroup; first += step) {
        const last = Math.min((g + 1) * perGroup, first + step);
        commands.push(scripts.purge(ks, g, ks.bucketKeyRange(first, last), retired));
      }
    }
    // A few hundred short calls per wave keeps client memory flat on large layouts.
    for (let i = 0; i < commands.length; i += 512) {
      const replies = await this.#context.adapter.run(
        commands.slice(i, i + 512),
        'purge of retired incidents',
      );
      for (const [rewritten, dropped] of replies) {
        result.valuesRewritten += rewritten;
        result.cardsReleased += dropped;
      }
    }
    this.#context.logger?.info(
      { retiredIncidents: retired.length, ...result },
      'retired incidents purged from card entries',
    );
    return result;
  }

  /** Takes cards off the watch list in every incident, in one round trip; results in input order. */
  async removeCards(fingerprints: readonly string[]): Promise<RemoveCardResult[]> {
    const ks = this.#context.keySpace();
    const max = this.#context.maxCardsPerScript;
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
    const commands: TypedCommand<scripts.RemoveCardsReply>[] = [];
    const positionsOf: number[][] = [];
    for (const [group, { keys, fields, positions }] of byGroup) {
      for (let i = 0; i < keys.length; i += max) {
        positionsOf.push(positions.slice(i, i + max));
        commands.push(scripts.removeCards(ks, group, keys.slice(i, i + max), fields.slice(i, i + max)));
      }
    }
    const replies = await this.#context.adapter.run(commands, 'card removal');
    let snapshot = this.#registry.snapshot;
    if (replies.some((r) => r.some(([, ...nos]) => nos.some((no) => !snapshot.byNumber.has(no))))) {
      snapshot = await this.#registry.refresh();
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

  /**
   * Reads `hash-max-listpack-entries` / `-value` from every master and says whether they fit
   * this layout. Managed services that forbid CONFIG report null values and no problem.
   */
  async checkServerConfig(): Promise<ServerConfigCheck> {
    const ks = this.#context.keySpace();
    const capacity = this.#context.capacity();
    const nodes: ServerConfigCheck['nodes'] = [];
    const problems: string[] = [];
    // Buckets are sized to hold capacity/buckets cards on average; twice that is the margin.
    const neededEntries = Math.ceil((2 * capacity) / ks.buckets);
    for (const node of this.#context.adapter.masters()) {
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
          `${name}: hash-max-listpack-entries ${entries} < ${neededEntries}: at capacity (${capacity} cards) buckets would leave listpack encoding`,
        );
      }
      if (policy !== null && policy.startsWith('allkeys-')) {
        problems.push(`${name}: maxmemory-policy ${policy} may evict watched cards; use noeviction`);
      }
    }
    return { ok: problems.length === 0, nodes, problems };
  }

  /**
   * Rebuilds every group's presence filter and watch log from the cards stored. Removals and
   * purges leave their bits set and their log entries in place (both only grow), which raises
   * the share of misses that need an HGET and the monitors' filter sizes; run this after large
   * removals. Each group is rebuilt by one Lua call that reads all its buckets (about 1/64 of
   * the cards by default), so it blocks Redis for that long. Once every group is done the store
   * is marked as having complete watch logs, which a store made before them needs before the
   * monitors' in-process filters are used (see watch-filter.ts).
   */
  async rebuildFilters(): Promise<{ cards: number }> {
    const ks = this.#context.keySpace();
    let cards = 0;
    for (let g = 0; g < ks.groups; g++) {
      const [seen] = await this.#context.adapter.run(
        [scripts.rebuildFilter(ks, g, randomBytes(8))],
        'filter rebuild',
      );
      cards += seen ?? 0;
    }
    await this.#context.adapter.run(
      [{ slot: ks.registrySlot, add: (p) => p.hset(ks.registryMetaKey, 'watchLogs', '1') }],
      'filter rebuild',
    );
    return { cards };
  }

  /**
   * Walks every bucket (OBJECT ENCODING and HLEN, a few round trips) to tell how many left
   * listpack encoding: any is a sign the store holds more cards than its layout was sized for.
   */
  async auditBuckets(): Promise<BucketAudit> {
    const ks = this.#context.keySpace();
    const audit: BucketAudit = {
      buckets: ks.buckets,
      listpack: 0,
      other: 0,
      empty: 0,
      entries: 0,
      largestBucket: 0,
    };
    for (let first = 0; first < ks.buckets; first += 4096) {
      const commands: TypedCommand<number | string | null>[] = [];
      for (let b = first; b < Math.min(ks.buckets, first + 4096); b++) {
        const key = ks.bucketKey(b);
        const slot = ks.groupSlots[ks.groupOfBucket(b)] as number;
        commands.push({ slot, add: (p) => p.hlen(key) }, { slot, add: (p) => p.object('ENCODING', key) });
      }
      const replies = await this.#context.adapter.run(commands, 'bucket audit');
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
    const ks = this.#context.keySpace();
    const { adapter } = this.#context;
    const [ids = []] = await adapter.run<string[]>(
      [{ slot: ks.registrySlot, add: (p) => p.hkeys(ks.registryIdsKey) }],
      'drop',
    );
    const commands: TypedCommand<unknown>[] = [
      {
        slot: ks.registrySlot,
        add: (p) => p.unlink(ks.registryMetaKey, ks.registryIdsKey, ...ids.map((id) => ks.incidentKey(id))),
      },
    ];
    const perGroup = ks.buckets / ks.groups;
    for (let g = 0; g < ks.groups; g++) {
      const slot = ks.groupSlots[g] as number;
      for (let first = g * perGroup; first < (g + 1) * perGroup; first += 1024) {
        const keys = ks.bucketKeyRange(first, Math.min((g + 1) * perGroup, first + 1024));
        commands.push({ slot, add: (p) => p.unlink(...keys) });
      }
      commands.push({
        slot,
        add: (p) =>
          p.unlink(ks.counterKeys[g] as string, ks.filterKeys[g] as string, ks.watchLogKeys[g] as string),
      });
    }
    await adapter.run(commands, 'drop');
    this.#registry.clear();
  }
}
