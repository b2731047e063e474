import { randomBytes } from 'node:crypto';
import { LeakwatchError } from '@leakwatch/errors';
import {
  PACKED_TAG_BYTES,
  decodeRecords,
  fingerprintsToBuffer,
  unpackExpiryTag,
  writePackedExpiryTag,
} from './codec.js';
import type { Incident } from './incident.js';
import type { IncidentRegistry } from './incident-registry.js';
import type { StoreContext } from './store-context.js';
import type { WatchLogChunk, WatchLogRead } from './watch-filter.js';
import * as scripts from './store-scripts.js';

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

const LOOKUP_CHUNK = 1000;

interface GroupRun {
  group: number;
  start: number;
  end: number;
}

/**
 * The card index: buckets `P{<tag>}b<hex>` (fingerprint field → the card's incident records),
 * one counter hash `P{<tag>}n` and one presence filter `P{<tag>}f` per group. Imports and lookups
 * of a whole batch cost one round trip.
 */
export class CardIndex {
  readonly #context: StoreContext;
  readonly #registry: IncidentRegistry;

  constructor(context: StoreContext, registry: IncidentRegistry) {
    this.#context = context;
    this.#registry = registry;
  }

  /**
   * Watches cards in an incident: one round trip for the whole batch (one Lua call per
   * hash-tag group and `maxCardsPerScript` cards, pipelined per node). Idempotent.
   * Throws VALIDATION_FAILED for a malformed fingerprint or tag (nothing is written then) and
   * for a retired incident, NOT_FOUND for an unknown one.
   */
  async add(incidentId: string, cards: readonly WatchedCardInput[]): Promise<AddCardsResult> {
    const ks = this.#context.keySpace();
    const incident = await this.#registry.require(incidentId);
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
    const { buckets, order, runs } = this.#sortByGroup(all, n);
    const flen = ks.fieldLength;
    const max = this.#context.maxCardsPerScript;
    const commands: ReturnType<typeof scripts.addCards>[] = [];
    // used only by a call that creates its group's watch log: a new generation of that log
    const watchLogHeader = randomBytes(8);
    for (const run of runs) {
      for (let start = run.start; start < run.end; start += max) {
        const count = Math.min(run.end, start + max) - start;
        const bucketKeys: string[] = new Array<string>(count);
        const fields = Buffer.allocUnsafe(count * flen);
        const chunkTags = Buffer.allocUnsafe(count * PACKED_TAG_BYTES);
        const chunkFlags = Buffer.allocUnsafe(count);
        for (let j = 0; j < count; j++) {
          const position = order[start + j] as number;
          bucketKeys[j] = ks.bucketKey(buckets[position] as number);
          all.copy(fields, j * flen, position * 32 + ks.fieldOffset, position * 32 + ks.fieldOffset + flen);
          tags.copy(
            chunkTags,
            j * PACKED_TAG_BYTES,
            position * PACKED_TAG_BYTES,
            (position + 1) * PACKED_TAG_BYTES,
          );
          chunkFlags[j] = flags[position] as number;
        }
        commands.push(
          scripts.addCards(ks, {
            group: run.group,
            bucketKeys,
            incidentNumber: incident.number,
            watchLogHeader,
            fields,
            tags: chunkTags,
            flags: chunkFlags,
          }),
        );
      }
    }
    const { replies, version } = await scripts.runWithRegistryVersion(
      this.#context.adapter,
      ks,
      commands,
      'card import',
    );
    const result: AddCardsResult = { added: 0, expiryTagsAdded: 0, unchanged: 0 };
    for (const [added, expiries, unchanged] of replies) {
      result.added += added;
      result.expiryTagsAdded += expiries;
      result.unchanged += unchanged;
    }
    if (version !== this.#registry.snapshot.version) {
      const now = (await this.#registry.refresh()).byId.get(incidentId);
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
    const ks = this.#context.keySpace();
    const hits = new Map<string, LeakHit>();
    const n = fingerprints.length;
    if (n === 0) return hits;
    const all = fingerprintsToBuffer(fingerprints);
    const { buckets, order, runs } = this.#sortByGroup(all, n);
    // A call covers consecutive runs (groups) of the sorted order: all of them on a single
    // Redis, one group (one slot) on a cluster; at most LOOKUP_CHUNK fingerprints each.
    const calls: { slot: number; start: number; end: number; groups: { group: number; count: number }[] }[] =
      [];
    for (const run of runs) {
      for (let start = run.start; start < run.end; start += LOOKUP_CHUNK) {
        const end = Math.min(run.end, start + LOOKUP_CHUNK);
        const last = calls[calls.length - 1];
        if (!this.#context.adapter.isCluster && last && end - last.start <= LOOKUP_CHUNK) {
          last.end = end;
          last.groups.push({ group: run.group, count: end - start });
        } else {
          const slot = ks.groupSlots[run.group] as number;
          calls.push({ slot, start, end, groups: [{ group: run.group, count: end - start }] });
        }
      }
    }
    const flen = ks.fieldLength;
    const commands = calls.map((call) => {
      const count = call.end - call.start;
      const bucketKeys: string[] = new Array<string>(count);
      const fields = Buffer.allocUnsafe(count * flen);
      for (let j = 0; j < count; j++) {
        const position = order[call.start + j] as number;
        bucketKeys[j] = ks.bucketKey(buckets[position] as number);
        all.copy(fields, j * flen, position * 32 + ks.fieldOffset, position * 32 + ks.fieldOffset + flen);
      }
      return scripts.lookup(ks, { slot: call.slot, groups: call.groups, bucketKeys, fields });
    });
    const { replies, version } = await scripts.runWithRegistryVersion(
      this.#context.adapter,
      ks,
      commands,
      'leak lookup',
    );
    await this.#registry.refreshIfChanged(version);

    const found: { position: number; value: Buffer }[] = [];
    calls.forEach((call, c) => {
      const reply = replies[c] as scripts.LookupReply;
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
      (decodeRecords(value) ?? []).some((link) => !this.#registry.snapshot.byNumber.has(link.incidentNumber)),
    );
    if (needsReload) await this.#registry.refresh();
    const nowMs = this.#context.now();
    for (const { position, value } of found) {
      const hit = this.#toHit(value, nowMs);
      if (hit) hits.set(fingerprints[position] as string, hit);
    }
    return hits;
  }

  /**
   * Reads pieces of the groups' watch logs in one round trip, with the mark that says the
   * store's logs are complete (see WatchFilter).
   */
  async readWatchLogs(
    reads: readonly WatchLogRead[],
    maxBytes: number,
  ): Promise<{ complete: boolean; chunks: WatchLogChunk[] }> {
    const ks = this.#context.keySpace();
    const replies = await this.#context.adapter.run<scripts.ReadWatchLogReply | string | null>(
      [
        ...reads.map((r) => scripts.readWatchLog(ks, r.group, r.from, maxBytes)),
        { slot: ks.registrySlot, add: (p) => p.hget(ks.registryMetaKey, 'watchLogs') },
      ],
      'watch log read',
    );
    const chunks = (replies.slice(0, -1) as scripts.ReadWatchLogReply[]).map(([header, length, bytes]) => ({
      header,
      length,
      bytes,
    }));
    return { complete: replies[replies.length - 1] === '1', chunks };
  }

  /**
   * Buckets of the fingerprints in `all` and their positions sorted by group (counting sort,
   * stable), with the runs of each group in that order.
   */
  #sortByGroup(all: Buffer, n: number): { buckets: Int32Array; order: Int32Array; runs: GroupRun[] } {
    const ks = this.#context.keySpace();
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
    const runs: GroupRun[] = [];
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

  #toHit(value: Buffer, nowMs: number): LeakHit | null {
    const links = decodeRecords(value);
    if (!links) return null;
    const snapshot = this.#registry.snapshot;
    const byNumber = new Map<number, CardIncident & { expiryTags: string[] }>();
    for (const link of links) {
      let entry = byNumber.get(link.incidentNumber);
      if (!entry) {
        const incident = snapshot.byNumber.get(link.incidentNumber);
        if (!incident || incident.status !== 'active') continue;
        const end = this.#registry.watchEnd(incident.number);
        if (end !== null && nowMs >= end) continue;
        entry = { incidentId: incident.incidentId, expiryTags: [], incident };
        byNumber.set(link.incidentNumber, entry);
      }
      if (link.tag) entry.expiryTags.push(unpackExpiryTag(link.tag));
    }
    if (byNumber.size === 0) return null;
    return { incidents: [...byNumber.values()].sort((a, b) => a.incident.number - b.incident.number) };
  }
}
