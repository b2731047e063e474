import type { LeakHit } from './card-index.js';
import { FuseFilter } from './fuse-filter.js';
import type { LeakStoreLogger } from './store-context.js';

/** Where a watch log is to be read from: its group and the first byte wanted (≥ 8). */
export interface WatchLogRead {
  group: number;
  from: number;
}

/** A piece of a group's watch log, with the log's header and length at the time of the read. */
export interface WatchLogChunk {
  /** The log's generation; empty when the group has no log. */
  header: Buffer;
  length: number;
  bytes: Buffer;
}

/** What the filter reads and asks: a started LeakStore fits. */
export interface WatchLogSource {
  /** Groups of the store's layout (one watch log each). */
  watchLogGroups(): number;
  /**
   * Reads the logs in one round trip. `complete` is false for a store made before watch logs
   * that has not been through `rebuildFilters()` yet: its logs may miss cards.
   */
  readWatchLogs(
    reads: readonly WatchLogRead[],
    maxBytes: number,
  ): Promise<{ complete: boolean; chunks: WatchLogChunk[] }>;
  /** The truth: Redis lookup of fingerprints (see CardIndex.lookup). */
  lookup(fingerprints: readonly string[]): Promise<Map<string, LeakHit>>;
}

export interface WatchFilterOptions {
  source: WatchLogSource;
  /** How often the logs are polled for cards imported since. Default 1000 ms. */
  syncIntervalMs?: number;
  /**
   * The filter answers "not watched" only if its last completed sync started at most this long
   * ago; otherwise every fingerprint goes to Redis (as without a filter). This bounds the time
   * from an import finishing to its cards matching. Default 2000 ms.
   */
  maxStaleMs?: number;
  /** Fingerprint bits per card in the fuse filter: false positives 2^-bits. Default 16. */
  bits?: 8 | 16 | 32;
  /** Cards added since the last build that trigger a rebuild, as a share of the built ones. Default 0.1. */
  rebuildShare?: number;
  /** ... and at least this many. Default 100,000. */
  rebuildMin?: number;
  /** Most bytes one read takes from one log. Default 8 MiB. */
  maxReadBytes?: number;
  now?: () => number;
  logger?: LeakStoreLogger;
}

/** The filter's state, for metrics and reports. */
export interface WatchFilterStats {
  /** Loaded from complete logs and recently synced: lookups are filtered. */
  active: boolean;
  /** Cards in the built filter (distinct). */
  builtCards: number;
  /** Cards added since (exact set). */
  addedCards: number;
  /** Bytes of the built filter's cells. */
  filterBytes: number;
  /** Estimated bytes of the added-cards set. */
  addedBytes: number;
  /** Fingerprints that passed the filter and were looked up in Redis. */
  positives: number;
  /** ...of which Redis confirmed none (filter false positives, and cards no longer watched). */
  unconfirmed: number;
  /** Fingerprints looked up in Redis without the filter (not loaded, or stale). */
  bypassed: number;
  /** Age of the last completed sync (from its start), ms; null before the first. */
  syncAgeMs: number | null;
  /** Duration of the last full load (read + build), ms; null before the first. */
  lastLoadMs: number | null;
}

/** Bytes per watch-log entry: fingerprint bytes 3-10. */
const ENTRY_BYTES = 8;
const HEADER_BYTES = 8;
/** A Set of doubles: a hash-table slot plus a heap number, about. */
const SET_BYTES_PER_ENTRY = 40;

/**
 * The in-process filter of watched fingerprints a monitor keeps, in front of the Redis lookup.
 *
 * - Only the fingerprints the filter may hold go to Redis, and Redis stays the truth: a false
 *   positive costs one lookup, never an alert, and a retired incident or a removed card stops
 *   matching at once because Redis is asked about every candidate.
 * - Built from the store's watch logs (one per group, kept by the import scripts: see
 *   layout.ts) as a binary fuse filter (fuse-filter.ts), plus an exact set of the cards added
 *   since, read by polling the logs from where the last read ended. When that set grows past a
 *   share of the built cards, the filter is rebuilt from the logs.
 * - Until the first load, for a store whose logs are not known complete, and whenever the last
 *   sync is older than `maxStaleMs`, every fingerprint goes to Redis: a card imported is matched
 *   within `maxStaleMs` of the import finishing, whatever happens to the polling.
 */
export class WatchFilter {
  readonly #source: WatchLogSource;
  readonly #syncIntervalMs: number;
  readonly #maxStaleMs: number;
  readonly #bits: 8 | 16 | 32;
  readonly #rebuildShare: number;
  readonly #rebuildMin: number;
  readonly #maxReadBytes: number;
  readonly #now: () => number;
  readonly #logger: LeakStoreLogger | undefined;
  #built: FuseFilter | null = null;
  #added = new Set<number>();
  /** Per group: the log generation read and the next byte to read. */
  #logs: { header: Buffer | null; offset: number }[] = [];
  #lastSyncStartedAt: number | null = null;
  #lastLoadMs: number | null = null;
  #needsLoad = true;
  #incompleteWarned = false;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #closed = false;
  #positives = 0;
  #unconfirmed = 0;
  #bypassed = 0;
  #firstLoad: { promise: Promise<void>; resolve: () => void };

  constructor(options: WatchFilterOptions) {
    this.#source = options.source;
    this.#syncIntervalMs = options.syncIntervalMs ?? 1000;
    this.#maxStaleMs = options.maxStaleMs ?? 2000;
    this.#bits = options.bits ?? 16;
    this.#rebuildShare = options.rebuildShare ?? 0.1;
    this.#rebuildMin = options.rebuildMin ?? 100_000;
    this.#maxReadBytes = options.maxReadBytes ?? 8 * 1024 * 1024;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger;
    let resolve: () => void = () => undefined;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    this.#firstLoad = { promise, resolve };
  }

  /** Starts syncing in the background (first a full load). Lookups go to Redis until it is done. */
  start(): void {
    if (this.#timer || this.#closed) return;
    this.#schedule(0);
  }

  /** Resolves once the first full load is done (never, for a store whose logs are incomplete). */
  get loaded(): Promise<void> {
    return this.#firstLoad.promise;
  }

  /** Stops syncing; waits for a sync in flight. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => undefined);
  }

  /**
   * The watch-list lookup: the filter's candidates only, in one Redis call; no call at all when
   * none of the fingerprints may be watched.
   */
  async lookup(fingerprints: readonly string[]): Promise<Map<string, LeakHit>> {
    if (!this.#active()) {
      this.#bypassed += fingerprints.length;
      return this.#source.lookup(fingerprints);
    }
    const candidates: string[] = [];
    for (const fingerprint of fingerprints) if (this.mayHold(fingerprint)) candidates.push(fingerprint);
    if (candidates.length === 0) return new Map();
    this.#positives += candidates.length;
    const hits = await this.#source.lookup(candidates);
    this.#unconfirmed += candidates.length - hits.size;
    return hits;
  }

  /** False only when the fingerprint is surely not in the loaded logs. */
  mayHold(fingerprint: string): boolean {
    if (!readKey(fingerprint)) return true; // malformed: let Redis answer (and refuse it)
    const high = keyHigh;
    const low = keyLow;
    return (this.#built !== null && this.#built.has(high, low)) || this.#added.has(setKey(high, low));
  }

  get stats(): WatchFilterStats {
    return {
      active: this.#active(),
      builtCards: this.#built?.size ?? 0,
      addedCards: this.#added.size,
      filterBytes: this.#built?.byteLength ?? 0,
      addedBytes: this.#added.size * SET_BYTES_PER_ENTRY,
      positives: this.#positives,
      unconfirmed: this.#unconfirmed,
      bypassed: this.#bypassed,
      syncAgeMs: this.#lastSyncStartedAt === null ? null : this.#now() - this.#lastSyncStartedAt,
      lastLoadMs: this.#lastLoadMs,
    };
  }

  /** One sync now (tests and benchmarks; the timer does the same). */
  async syncNow(): Promise<void> {
    while (this.#running) await this.#running.catch(() => undefined);
    this.#running = this.#sync().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  #active(): boolean {
    return (
      this.#built !== null &&
      this.#lastSyncStartedAt !== null &&
      this.#now() - this.#lastSyncStartedAt <= this.#maxStaleMs
    );
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.syncNow()
        .catch((error: unknown) => this.#logger?.warn({ err: error }, 'watch filter sync failed; retrying'))
        .finally(() => this.#schedule(this.#syncIntervalMs));
    }, delayMs);
    this.#timer.unref();
  }

  async #sync(): Promise<void> {
    const startedAt = this.#now();
    if (!this.#needsLoad) return this.#poll(startedAt);
    await this.#load(startedAt);
    // a load of millions takes seconds: catch up at once on what was imported meanwhile, or
    // the filter would start out stale
    if (!this.#needsLoad) await this.#poll(this.#now());
  }

  /** Reads every log whole and builds the filter from them. */
  async #load(startedAt: number): Promise<void> {
    const groups = this.#source.watchLogGroups();
    const logs = Array.from({ length: groups }, () => ({
      header: null as Buffer | null,
      offset: HEADER_BYTES,
      parts: [] as Buffer[],
    }));
    let reads: WatchLogRead[] = logs.map((_, group) => ({ group, from: HEADER_BYTES }));
    while (reads.length > 0) {
      const { complete, chunks } = await this.#source.readWatchLogs(reads, this.#maxReadBytes);
      if (!complete) {
        this.#incomplete();
        return;
      }
      const next: WatchLogRead[] = [];
      chunks.forEach((chunk, i) => {
        const group = (reads[i] as WatchLogRead).group;
        const log = logs[group] as (typeof logs)[number];
        if (chunk.header.length === 0) {
          log.header = null;
          log.offset = HEADER_BYTES;
          log.parts = [];
          return;
        }
        if (log.header !== null && !log.header.equals(chunk.header)) {
          // rebuilt while we read it: start that log again
          log.header = Buffer.from(chunk.header);
          log.offset = HEADER_BYTES;
          log.parts = [];
          next.push({ group, from: HEADER_BYTES });
          return;
        }
        log.header ??= Buffer.from(chunk.header);
        log.parts.push(chunk.bytes);
        log.offset += chunk.bytes.length;
        if (log.offset < chunk.length) next.push({ group, from: log.offset });
      });
      reads = next;
    }
    let total = 0;
    for (const log of logs) for (const part of log.parts) total += Math.floor(part.length / ENTRY_BYTES);
    const high = new Uint32Array(total);
    const low = new Uint32Array(total);
    let n = 0;
    for (const log of logs) {
      for (const part of log.parts) {
        for (let at = 0; at + ENTRY_BYTES <= part.length; at += ENTRY_BYTES, n++) {
          high[n] = part.readUInt32BE(at);
          low[n] = part.readUInt32BE(at + 4);
        }
      }
      log.parts = [];
    }
    const built = FuseFilter.build(high, low, total, this.#bits);
    const first = this.#built === null;
    this.#built = built;
    this.#added = new Set();
    this.#logs = logs.map(({ header, offset }) => ({ header, offset }));
    this.#lastSyncStartedAt = startedAt;
    this.#lastLoadMs = this.#now() - startedAt;
    this.#needsLoad = false;
    this.#logger?.info(
      { cards: built.size, filterBytes: built.byteLength, loadMs: this.#lastLoadMs, bits: this.#bits },
      first ? 'watch filter loaded' : 'watch filter rebuilt',
    );
    if (first) this.#firstLoad.resolve();
  }

  /** Reads what was appended to every log since the last read into the added set. */
  async #poll(startedAt: number): Promise<void> {
    let reads: WatchLogRead[] = this.#logs.map((log, group) => ({ group, from: log.offset }));
    while (reads.length > 0) {
      const { complete, chunks } = await this.#source.readWatchLogs(reads, this.#maxReadBytes);
      if (!complete) {
        this.#incomplete();
        return;
      }
      const next: WatchLogRead[] = [];
      chunks.forEach((chunk, i) => {
        const group = (reads[i] as WatchLogRead).group;
        const log = this.#logs[group] as { header: Buffer | null; offset: number };
        if (chunk.header.length === 0) {
          // the log is gone (store dropped): what the filter holds of it can only cost lookups
          log.header = null;
          log.offset = HEADER_BYTES;
          return;
        }
        if (log.header === null || !log.header.equals(chunk.header)) {
          // a new generation (rebuilt, or created): take it whole into the added set
          log.header = Buffer.from(chunk.header);
          log.offset = HEADER_BYTES;
          next.push({ group, from: HEADER_BYTES });
          return;
        }
        for (let at = 0; at + ENTRY_BYTES <= chunk.bytes.length; at += ENTRY_BYTES) {
          this.#added.add(setKey(chunk.bytes.readUInt32BE(at), chunk.bytes.readUInt32BE(at + 4)));
        }
        log.offset += chunk.bytes.length;
        if (log.offset < chunk.length) next.push({ group, from: log.offset });
      });
      reads = next;
    }
    this.#lastSyncStartedAt = startedAt;
    const builtCards = this.#built?.size ?? 0;
    if (this.#added.size > Math.max(this.#rebuildMin, builtCards * this.#rebuildShare))
      this.#needsLoad = true;
  }

  #incomplete(): void {
    // Not known complete: stay (or go back) to asking Redis for everything, and load afresh
    // once a filter rebuild has marked the logs complete.
    this.#built = null;
    this.#added = new Set();
    this.#needsLoad = true;
    if (!this.#incompleteWarned) {
      this.#incompleteWarned = true;
      this.#logger?.warn(
        {},
        'watch logs of this store are not marked complete (made before watch logs): every lookup goes to Redis until `leakwatch leaks rebuild-filters` has rewritten the logs',
      );
    }
  }
}

// ------------------------------------------------------------------ fingerprint → filter key

/** base64url character code → its 6 bits, or -1. */
const BASE64URL = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  .split('')
  .forEach((c, i) => (BASE64URL[c.charCodeAt(0)] = i));

let keyHigh = 0;
let keyLow = 0;

/**
 * Reads fingerprint bytes 3-10 (what watch logs keep) from a 43-character base64url
 * fingerprint into keyHigh/keyLow, without allocating: byte 3 starts at character 4, and
 * characters 4-14 carry bits 24-89, of which the first 64 are the key. False for a malformed fingerprint.
 */
function readKey(fingerprint: string): boolean {
  if (fingerprint.length !== 43) return false;
  let high = 0;
  let low = 0;
  for (let i = 4; i <= 14; i++) {
    const code = fingerprint.charCodeAt(i);
    const v = code < 128 ? (BASE64URL[code] as number) : -1;
    if (v < 0) return false;
    if (i < 14) {
      // 6 more bits; at most 60 are held, so nothing falls off the top
      high = ((high << 6) | (low >>> 26)) >>> 0;
      low = ((low << 6) | v) >>> 0;
    } else {
      // the last character gives its first 4 bits: 64 in all
      high = ((high << 4) | (low >>> 28)) >>> 0;
      low = ((low << 4) | (v >>> 2)) >>> 0;
    }
  }
  keyHigh = high;
  keyLow = low;
  return true;
}

/** A 53-bit number from the key (21 high bits and the low 32): exact enough for a set. */
function setKey(high: number, low: number): number {
  return (high & 0x1fffff) * 4294967296 + low;
}

/** Fingerprint bytes 3-10 as the filter reads them (tests). */
export function filterKeyOf(fingerprint: string): { high: number; low: number } | null {
  return readKey(fingerprint) ? { high: keyHigh, low: keyLow } : null;
}
