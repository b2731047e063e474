import { LeakwatchError } from '@leakwatch/errors';
import { refuseEvictingRedis } from './eviction-check.js';
import { CardIndex, type AddCardsResult, type LeakHit, type WatchedCardInput } from './card-index.js';
import type { IncidentManifest, IncidentWithCount } from './incident.js';
import {
  IncidentRegistry,
  type IncidentSnapshot,
  type UpsertIncidentResult,
  type WatchStats,
} from './incident-registry.js';
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
import {
  StoreMaintenance,
  type BucketAudit,
  type PurgeResult,
  type RemoveCardResult,
  type RetireResult,
  type ServerConfigCheck,
} from './maintenance.js';
import { RedisAdapter, type LeakStoreRedis, type RedisCallStats } from './redis-adapter.js';
import type { LeakStoreLogger, StoreContext } from './store-context.js';
import type { WatchLogChunk, WatchLogRead } from './watch-filter.js';
import * as scripts from './store-scripts.js';

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

type LifecycleState = 'new' | 'starting' | 'started' | 'closed';

/**
 * Watched cards and compromise incidents in Redis, as keyed fingerprints (never a card number).
 * Three parts, each usable on its own once the store has started:
 * - `registry` (incident-registry.ts): incidents, their numbers and status, the cache of them;
 * - `cards` (card-index.ts): the card buckets, counters and filters; imports and lookups;
 * - `maintenance` (maintenance.ts): retirement and purges, card removal, filter rebuilds,
 *   audits and the server configuration check.
 * The methods below delegate to them, so callers that hold a store need not know the parts.
 * Key layout: see layout.ts and the package README.
 *
 * Every operation touches keys of one hash tag per command, so it runs unchanged on a single
 * Redis and on Redis Cluster. Lifecycle: `start()` (reads or creates the layout, loads the
 * incident cache; a failed start can be retried), then use; `close()` is idempotent and leaves
 * the Redis client to its owner.
 */
export class LeakStore {
  readonly registry: IncidentRegistry;
  readonly cards: CardIndex;
  readonly maintenance: StoreMaintenance;
  readonly #adapter: RedisAdapter;
  readonly #prefix: string;
  readonly #options: LeakStoreOptions;
  #keys: KeySpace | null = null;
  /** Capacity the stored layout was sized for. */
  #capacity = DEFAULT_CAPACITY;
  #state: LifecycleState = 'new';
  #startPromise: Promise<void> | null = null;
  #closePromise: Promise<void> | null = null;

  constructor(options: LeakStoreOptions) {
    this.#options = options;
    this.#adapter = new RedisAdapter(options.redis);
    this.#prefix = options.keyPrefix ?? 'lw:';
    const maxCardsPerScript = options.maxCardsPerScript ?? 1000;
    const purgeBucketsPerScript = options.purgeBucketsPerScript ?? 32;
    const problems: string[] = [];
    if (!/^[^{}\s]{0,64}$/.test(this.#prefix))
      problems.push('keyPrefix must be at most 64 characters without braces or spaces');
    if (!Number.isInteger(maxCardsPerScript) || maxCardsPerScript < 1)
      problems.push('maxCardsPerScript must be a positive integer');
    if (!Number.isInteger(purgeBucketsPerScript) || purgeBucketsPerScript < 1)
      problems.push('purgeBucketsPerScript must be a positive integer');
    if (problems.length > 0)
      throw new LeakwatchError('CONFIG_INVALID', `leak store options: ${problems.join('; ')}`);
    const context: StoreContext = {
      adapter: this.#adapter,
      keySpace: () => this.keySpace(),
      capacity: () => this.#capacity,
      logger: options.logger,
      now: options.now ?? Date.now,
      maxCardsPerScript,
      purgeBucketsPerScript,
    };
    this.registry = new IncidentRegistry(context);
    this.cards = new CardIndex(context, this.registry);
    this.maintenance = new StoreMaintenance(context, this.registry);
  }

  /**
   * Connects, refuses a Redis whose eviction policy may drop watched cards (CONFIG_INVALID),
   * reads (or on first use stores) the key layout, and loads the incident cache.
   * Concurrent calls share one attempt; once started, resolves at once. A failed attempt is
   * not kept: the next call tries again (Redis down or loading at start-up can heal).
   */
  start(): Promise<void> {
    if (this.#state === 'closed')
      return Promise.reject(new LeakwatchError('INTERNAL', 'leak store is closed'));
    this.#startPromise ??= this.#doStart().catch((error: unknown) => {
      this.#startPromise = null;
      if (this.#state === 'starting') this.#state = 'new';
      throw error;
    });
    return this.#startPromise;
  }

  async #doStart(): Promise<void> {
    this.#state = 'starting';
    await this.#adapter.ready();
    await refuseEvictingRedis(this.#adapter, this.#options.logger);
    scripts.defineStoreScripts(this.#adapter);
    const derived = deriveLayout(this.#options.layout);
    const layoutOptions = this.#options.layout ?? {};
    const [stored = []] = await this.#adapter.run(
      [
        scripts.initLayout(REGISTRY_SLOT, {
          metaKey: registryMetaKey(this.#prefix),
          layoutVersion: derived.layoutVersion,
          bucketBits: derived.bucketBits,
          groupBits: derived.groupBits,
          fieldBytes: derived.fieldBytes,
          filterBits: derived.filterBits,
          capacity: layoutOptions.capacity ?? DEFAULT_CAPACITY,
          maxEntriesPerBucket: layoutOptions.maxEntriesPerBucket ?? DEFAULT_MAX_ENTRIES_PER_BUCKET,
        }),
      ],
      'layout initialisation',
    );
    const layout: StoreLayout = {
      layoutVersion: Number(stored[0]) as 1,
      bucketBits: Number(stored[1]),
      groupBits: Number(stored[2]),
      fieldBytes: Number(stored[3]),
      filterBits: Number(stored[4]),
    };
    this.#capacity = Number(stored[5]) || DEFAULT_CAPACITY;
    checkLayout(layout);
    this.#keys = new KeySpace(this.#prefix, layout);
    if (
      layout.bucketBits !== derived.bucketBits ||
      layout.groupBits !== derived.groupBits ||
      layout.fieldBytes !== derived.fieldBytes ||
      layout.filterBits !== derived.filterBits
    ) {
      this.#options.logger?.info(
        { stored: layout, requested: derived },
        'leak store keeps the layout already stored under this prefix',
      );
    }
    await this.registry.refresh();
    if (this.#state === 'starting') this.#state = 'started';
  }

  /** Idempotent; resolves once in-flight start-up settled. Does not quit the Redis client. */
  close(): Promise<void> {
    this.#closePromise ??= (async () => {
      this.#state = 'closed';
      await this.#startPromise?.catch(() => undefined);
    })();
    return this.#closePromise;
  }

  /** The layout in use (after start). */
  get layout(): StoreLayout {
    return this.keySpace().layout;
  }

  /** Round trips, pipelines and commands sent so far. */
  get redisStats(): Readonly<RedisCallStats> {
    return this.#adapter.stats;
  }

  /** The key space (key names, bucket maths), for audits, the benchmark and tests. */
  keySpace(): KeySpace {
    if (!this.#keys || this.#state === 'closed') {
      throw new LeakwatchError(
        'INTERNAL',
        this.#state === 'closed' ? 'leak store is closed' : 'leak store not started',
      );
    }
    return this.#keys;
  }

  // ---------------------------------------------------------------- incidents (registry)

  /** See IncidentRegistry.upsert. */
  upsertIncident(manifest: IncidentManifest): Promise<UpsertIncidentResult> {
    return this.registry.upsert(manifest);
  }

  /** Every incident, by number, with its watched-card count. */
  listIncidents(): Promise<IncidentWithCount[]> {
    return this.registry.list();
  }

  /** One incident with its watched-card count, or null when there is none with that id. */
  getIncident(incidentId: string): Promise<IncidentWithCount | null> {
    return this.registry.get(incidentId);
  }

  /** Watched cards per incident id (retired incidents report 0), one round trip. */
  watchedCounts(): Promise<Map<string, number>> {
    return this.registry.watchedCounts();
  }

  /** Watched incidents and cards, per incident and in total (the watch-list gauges). */
  watchStats(): Promise<WatchStats> {
    return this.registry.watchStats();
  }

  /** The cached registry as of the last refresh or lookup; no round trip. */
  incidents(): IncidentSnapshot {
    return this.registry.snapshot;
  }

  /** Reloads the incident registry (two round trips); concurrent callers share one reload. */
  refreshIncidents(): Promise<IncidentSnapshot> {
    return this.registry.refresh();
  }

  // ---------------------------------------------------------------- cards (index)

  /** See CardIndex.add. */
  addCards(incidentId: string, cards: readonly WatchedCardInput[]): Promise<AddCardsResult> {
    return this.cards.add(incidentId, cards);
  }

  /** See CardIndex.lookup. */
  lookup(fingerprints: readonly string[]): Promise<Map<string, LeakHit>> {
    return this.cards.lookup(fingerprints);
  }

  /** Groups of the layout, one watch log each (WatchLogSource). */
  watchLogGroups(): number {
    return this.keySpace().groups;
  }

  /** See CardIndex.readWatchLogs (WatchLogSource). */
  readWatchLogs(
    reads: readonly WatchLogRead[],
    maxBytes: number,
  ): Promise<{ complete: boolean; chunks: WatchLogChunk[] }> {
    return this.cards.readWatchLogs(reads, maxBytes);
  }

  // ---------------------------------------------------------------- maintenance

  /** See StoreMaintenance.retireIncident. */
  retireIncident(incidentId: string, options: { purge?: boolean } = {}): Promise<RetireResult> {
    return this.maintenance.retireIncident(incidentId, options);
  }

  /** See StoreMaintenance.purgeRetired. */
  purgeRetired(): Promise<PurgeResult> {
    return this.maintenance.purgeRetired();
  }

  /** CARD_REISSUED: takes one card off the watch list in every incident. */
  async removeCard(fingerprint: string): Promise<RemoveCardResult> {
    const [result] = await this.maintenance.removeCards([fingerprint]);
    return result ?? { removedFrom: [] };
  }

  /** Takes cards off the watch list in every incident, in one round trip; results in input order. */
  removeCards(fingerprints: readonly string[]): Promise<RemoveCardResult[]> {
    return this.maintenance.removeCards(fingerprints);
  }

  /** See StoreMaintenance.checkServerConfig. */
  checkServerConfig(): Promise<ServerConfigCheck> {
    return this.maintenance.checkServerConfig();
  }

  /** See StoreMaintenance.rebuildFilters. */
  rebuildFilters(): Promise<{ cards: number }> {
    return this.maintenance.rebuildFilters();
  }

  /** See StoreMaintenance.auditBuckets. */
  auditBuckets(): Promise<BucketAudit> {
    return this.maintenance.auditBuckets();
  }

  /** See StoreMaintenance.drop: tests and benchmarks on their own prefix only. */
  drop(): Promise<void> {
    return this.maintenance.drop();
  }
}
