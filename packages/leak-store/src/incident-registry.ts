import { LeakwatchError } from '@leakwatch/errors';
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
import type { TypedCommand } from './redis-adapter.js';
import type { StoreContext } from './store-context.js';
import * as scripts from './store-scripts.js';

export interface UpsertIncidentResult {
  incident: Incident;
  created: boolean;
  /** False when the stored manifest already had these values. */
  changed: boolean;
}

/** What the watch list holds now, for the gauges that page when it drops to zero. */
export interface WatchStats {
  /** Watched cards per incident id; retired incidents report 0. */
  byIncident: Map<string, number>;
  /** Incidents being watched: active and not past `watchUntil`. */
  incidents: number;
  /**
   * Cards watched in those incidents, summed over them (a card in two incidents counts twice):
   * one number that falls to 0 when Redis was wiped or evicted, where the per-incident series
   * would simply vanish.
   */
  cards: number;
}

/** The cached incident registry; refreshed whenever its version in Redis moves. */
export interface IncidentSnapshot {
  version: string | null;
  byId: ReadonlyMap<string, Incident>;
  byNumber: ReadonlyMap<number, Incident>;
}

const EMPTY: IncidentSnapshot = { version: null, byId: new Map(), byNumber: new Map() };

/**
 * The incidents: manifests, numbers, status, and the cache every process keeps of them.
 * Keys `P{incidents}:meta` (seq, version, layout), `P{incidents}:ids` (id → number) and
 * `P{incidents}:i:<id>` (the manifest, number, status, times). The cache is reloaded whenever
 * the version read alongside a card call moved, so a change anywhere is seen within one call.
 */
export class IncidentRegistry {
  readonly #context: StoreContext;
  #snapshot: IncidentSnapshot = EMPTY;
  #watchEnds = new Map<number, number | null>();
  #refreshing: Promise<IncidentSnapshot> | null = null;

  constructor(context: StoreContext) {
    this.#context = context;
  }

  /** The cached registry as of the last refresh or lookup; no round trip. */
  get snapshot(): IncidentSnapshot {
    return this.#snapshot;
  }

  /** End of watching (epoch ms) of a cached incident, or null when it has none. */
  watchEnd(incidentNumber: number): number | null {
    return this.#watchEnds.get(incidentNumber) ?? null;
  }

  /** Forgets the cache (after the store's keys were dropped). */
  clear(): void {
    this.#snapshot = EMPTY;
    this.#watchEnds = new Map();
  }

  /**
   * Creates an incident, or updates its manifest fields when it exists (number, status and
   * counts are kept). Same manifest twice: `changed: false`, nothing written.
   */
  async upsert(manifest: IncidentManifest): Promise<UpsertIncidentResult> {
    const ks = this.#context.keySpace();
    const clean = checkManifest(manifest);
    const [reply] = await this.#context.adapter.run(
      [
        scripts.upsertIncident(
          ks,
          clean.incidentId,
          new Date(this.#context.now()).toISOString(),
          manifestToHash(clean),
        ),
      ],
      'incident upsert',
    );
    const snapshot = await this.refresh();
    const incident = snapshot.byId.get(clean.incidentId);
    if (!incident || !reply)
      throw new LeakwatchError('INTERNAL', `incident ${clean.incidentId} vanished after upsert`);
    return { incident, created: reply[0] === 1, changed: reply[2] === 1 };
  }

  /**
   * Marks an incident retired: from this call on, lookups skip it. Returns whether it already
   * was; throws NOT_FOUND for an unknown id. Its card entries stay (see StoreMaintenance).
   */
  async retire(incidentId: string): Promise<{ alreadyRetired: boolean }> {
    const ks = this.#context.keySpace();
    if (!isIncidentId(incidentId)) throw new LeakwatchError('NOT_FOUND', 'no such incident');
    const [reply] = await this.#context.adapter.run(
      [scripts.retireIncident(ks, incidentId, new Date(this.#context.now()).toISOString())],
      'incident retirement',
    );
    if (reply === 0 || reply === undefined)
      throw new LeakwatchError('NOT_FOUND', `no incident ${incidentId}`, { details: { incidentId } });
    await this.refresh();
    this.#context.logger?.info({ incidentId, alreadyRetired: reply === 2 }, 'incident retired');
    return { alreadyRetired: reply === 2 };
  }

  /** Every incident, by number, with its watched-card count. */
  async list(): Promise<IncidentWithCount[]> {
    const snapshot = await this.refresh();
    const counts = await this.countsByNumber();
    return [...snapshot.byNumber.values()]
      .sort((a, b) => a.number - b.number)
      .map((incident) => withCount(incident, counts));
  }

  /** One incident with its watched-card count, or null when there is none with that id. */
  async get(incidentId: string): Promise<IncidentWithCount | null> {
    if (!isIncidentId(incidentId)) return null;
    const snapshot = await this.refresh();
    const incident = snapshot.byId.get(incidentId);
    if (!incident) return null;
    return withCount(incident, await this.countsByNumber());
  }

  /**
   * Watched cards per incident id (retired incidents report 0), for the
   * `leakwatch_watched_cards` gauge. One round trip: one HGETALL per group.
   */
  async watchedCounts(): Promise<Map<string, number>> {
    const snapshot = await this.refresh();
    const counts = await this.countsByNumber();
    const out = new Map<string, number>();
    for (const incident of snapshot.byNumber.values())
      out.set(incident.incidentId, withCount(incident, counts).watchedCards);
    return out;
  }

  /** Watched incidents and cards, per incident and in total; two round trips. */
  async watchStats(): Promise<WatchStats> {
    const snapshot = await this.refresh();
    const counts = await this.countsByNumber();
    const nowMs = this.#context.now();
    const stats: WatchStats = { byIncident: new Map(), incidents: 0, cards: 0 };
    for (const incident of snapshot.byNumber.values()) {
      const { watchedCards } = withCount(incident, counts);
      stats.byIncident.set(incident.incidentId, watchedCards);
      const end = this.watchEnd(incident.number);
      if (incident.status !== 'active' || (end !== null && nowMs >= end)) continue;
      stats.incidents += 1;
      stats.cards += watchedCards;
    }
    return stats;
  }

  /** The incident from the cache, reloading once when it is not there; NOT_FOUND otherwise. */
  async require(incidentId: string): Promise<Incident> {
    const incident = this.#snapshot.byId.get(incidentId) ?? (await this.refresh()).byId.get(incidentId);
    if (!incident)
      throw new LeakwatchError('NOT_FOUND', `no incident ${incidentId}`, { details: { incidentId } });
    return incident;
  }

  /** Reloads when `version` (read alongside a card call) is not the cached one. */
  async refreshIfChanged(version: string | null): Promise<IncidentSnapshot> {
    return version === this.#snapshot.version ? this.#snapshot : this.refresh();
  }

  /** Reloads the incident registry (two round trips); concurrent callers share one reload. */
  refresh(): Promise<IncidentSnapshot> {
    this.#refreshing ??= this.#load().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #load(): Promise<IncidentSnapshot> {
    const ks = this.#context.keySpace();
    const { adapter } = this.#context;
    // The version is read before the data: a change racing this read leaves an older version
    // in the cache, and the next lookup reloads.
    const [version, ids] = (await adapter.run<string | null | string[]>(
      [scripts.readRegistryVersion(ks), { slot: ks.registrySlot, add: (p) => p.hkeys(ks.registryIdsKey) }],
      'incident registry read',
    )) as [string | null, string[]];
    const hashes = await adapter.run(
      ids.map((id): TypedCommand<Record<string, string>> => ({
        slot: ks.registrySlot,
        add: (p) => p.hgetall(ks.incidentKey(id)),
      })),
      'incident registry read',
    );
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
    this.#snapshot = { version, byId, byNumber };
    this.#watchEnds = watchEnds;
    return this.#snapshot;
  }

  /** Watched cards per incident number, from every group's counter hash (one round trip). */
  async countsByNumber(): Promise<Map<number, number>> {
    const ks = this.#context.keySpace();
    const replies = await this.#context.adapter.run(
      ks.counterKeys.map((key, g): TypedCommand<Record<string, string>> => ({
        slot: ks.groupSlots[g] as number,
        add: (p) => p.hgetall(key),
      })),
      'watched-card counts',
    );
    const counts = new Map<number, number>();
    for (const reply of replies) {
      for (const [no, count] of Object.entries(reply))
        counts.set(Number(no), (counts.get(Number(no)) ?? 0) + Number(count));
    }
    return counts;
  }
}

function withCount(incident: Incident, counts: ReadonlyMap<number, number>): IncidentWithCount {
  return {
    ...incident,
    watchedCards: incident.status === 'retired' ? 0 : (counts.get(incident.number) ?? 0),
  };
}
