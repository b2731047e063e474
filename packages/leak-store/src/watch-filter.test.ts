import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { LeakHit } from './card-index.js';
import { WatchFilter, filterKeyOf, type WatchLogRead, type WatchLogSource } from './watch-filter.js';

const GROUPS = 4;

function fingerprint(): string {
  return randomBytes(32).toString('base64url');
}

/** The 8 bytes a watch log keeps for a fingerprint: bytes 3-10. */
function logEntry(fp: string): Buffer {
  return Buffer.from(fp, 'base64url').subarray(3, 11);
}

/** Watch logs in memory, in the layout the Lua scripts write, and a lookup that answers from a set. */
class FakeSource implements WatchLogSource {
  readonly logs: Buffer[] = Array.from({ length: GROUPS }, () => Buffer.alloc(0));
  complete = true;
  readonly watched = new Set<string>();
  readonly lookups: string[][] = [];

  watchLogGroups(): number {
    return GROUPS;
  }

  /** Watches a card: appends it to a group's log, creating the log (a new header) if needed. */
  add(fp: string): void {
    const group = (Buffer.from(fp, 'base64url')[0] as number) % GROUPS;
    const log = this.logs[group] as Buffer;
    this.logs[group] = Buffer.concat([log.length === 0 ? randomBytes(8) : log, logEntry(fp)]);
    this.watched.add(fp);
  }

  /** Rewrites a log under a new header (a filter rebuild), with the given cards. */
  rebuild(group: number, fps: string[]): void {
    this.logs[group] = Buffer.concat([randomBytes(8), ...fps.map(logEntry)]);
  }

  async readWatchLogs(reads: readonly WatchLogRead[], maxBytes: number) {
    return {
      complete: this.complete,
      chunks: reads.map(({ group, from }) => {
        const log = this.logs[group] as Buffer;
        return {
          header: log.subarray(0, Math.min(8, log.length)),
          length: log.length,
          bytes: log.subarray(Math.min(from, log.length), Math.min(log.length, from + maxBytes)),
        };
      }),
    };
  }

  async lookup(fingerprints: readonly string[]): Promise<Map<string, LeakHit>> {
    this.lookups.push([...fingerprints]);
    const hits = new Map<string, LeakHit>();
    for (const fp of fingerprints) if (this.watched.has(fp)) hits.set(fp, { incidents: [] });
    return hits;
  }
}

function setUp(options: { maxReadBytes?: number; rebuildMin?: number } = {}) {
  const source = new FakeSource();
  const clock = { now: 1_000_000 };
  const filter = new WatchFilter({ source, now: () => clock.now, maxStaleMs: 2000, ...options });
  return { source, clock, filter };
}

describe('filterKeyOf', () => {
  it('reads fingerprint bytes 3-10 from the base64url text, and refuses a malformed one', () => {
    for (let i = 0; i < 1000; i++) {
      const fp = fingerprint();
      const bytes = Buffer.from(fp, 'base64url');
      expect(filterKeyOf(fp)).toEqual({ high: bytes.readUInt32BE(3), low: bytes.readUInt32BE(7) });
    }
    expect(filterKeyOf('short')).toBeNull();
    expect(filterKeyOf(`AAAA*${'A'.repeat(38)}`)).toBeNull();
  });
});

describe('WatchFilter', () => {
  it('sends every fingerprint to Redis until loaded, then only the candidates, and none for clean ones', async () => {
    const { source, filter } = setUp();
    const watched = Array.from({ length: 500 }, fingerprint);
    watched.forEach((fp) => source.add(fp));
    const clean = Array.from({ length: 2000 }, fingerprint);

    await filter.lookup(clean.slice(0, 10));
    expect(source.lookups).toEqual([clean.slice(0, 10)]);
    expect(filter.stats).toMatchObject({ active: false, bypassed: 10 });

    await filter.syncNow();
    expect(filter.stats).toMatchObject({ active: true, builtCards: 500 });
    source.lookups.length = 0;
    expect((await filter.lookup(clean)).size).toBe(0);
    // 2,000 clean fingerprints at 2^-16 each: almost surely no lookup at all
    expect(source.lookups.flat().length).toBeLessThanOrEqual(1);
    const hits = await filter.lookup([clean[0] as string, watched[7] as string, watched[9] as string]);
    expect([...hits.keys()]).toEqual([watched[7], watched[9]]);
    expect(source.lookups.at(-1)).toContain(watched[7]);
    for (const fp of watched) expect(filter.mayHold(fp)).toBe(true);
  });

  it('takes cards appended after the load at the next sync, reading long logs in pieces', async () => {
    const { source, filter } = setUp({ maxReadBytes: 64 });
    const before = Array.from({ length: 100 }, fingerprint);
    before.forEach((fp) => source.add(fp));
    await filter.syncNow();
    const after = Array.from({ length: 300 }, fingerprint);
    after.forEach((fp) => source.add(fp));
    expect(after.filter((fp) => filter.mayHold(fp)).length).toBeLessThan(3);
    await filter.syncNow();
    for (const fp of [...before, ...after]) expect(filter.mayHold(fp)).toBe(true);
    expect(filter.stats).toMatchObject({ builtCards: 100, addedCards: 300 });
  });

  it('reads a log rewritten under a new header whole', async () => {
    const { source, filter } = setUp();
    const first = Array.from({ length: 50 }, fingerprint);
    first.forEach((fp) => source.add(fp));
    await filter.syncNow();
    const kept = Array.from({ length: 40 }, fingerprint);
    source.rebuild(2, kept);
    await filter.syncNow();
    for (const fp of kept) expect(filter.mayHold(fp)).toBe(true);
  });

  it('sends everything to Redis again once the last sync is older than maxStaleMs', async () => {
    const { source, clock, filter } = setUp();
    source.add(fingerprint());
    await filter.syncNow();
    clock.now += 2000;
    expect(filter.stats.active).toBe(true);
    clock.now += 1;
    const clean = [fingerprint()];
    await filter.lookup(clean);
    expect(source.lookups).toEqual([clean]);
    expect(filter.stats).toMatchObject({ active: false, bypassed: 1 });
    await filter.syncNow();
    expect(filter.stats.active).toBe(true);
  });

  it('stays off while the logs are not marked complete, and loads once they are', async () => {
    const { source, filter } = setUp();
    const fp = fingerprint();
    source.add(fp);
    source.complete = false;
    await filter.syncNow();
    expect(filter.stats.active).toBe(false);
    source.complete = true;
    await filter.syncNow();
    expect(filter.stats).toMatchObject({ active: true, builtCards: 1 });
    await filter.loaded;
  });

  it('rebuilds from the logs once the added cards outgrow their share', async () => {
    const { source, filter } = setUp({ rebuildMin: 10 });
    Array.from({ length: 20 }, fingerprint).forEach((fp) => source.add(fp));
    await filter.syncNow();
    Array.from({ length: 11 }, fingerprint).forEach((fp) => source.add(fp));
    await filter.syncNow();
    expect(filter.stats).toMatchObject({ builtCards: 20, addedCards: 11 });
    await filter.syncNow();
    expect(filter.stats).toMatchObject({ builtCards: 31, addedCards: 0 });
  });

  it('counts the candidates Redis did not confirm', async () => {
    const { source, filter } = setUp();
    const fp = fingerprint();
    source.add(fp);
    await filter.syncNow();
    source.watched.delete(fp); // reissued: still in the log, no longer in Redis
    expect((await filter.lookup([fp])).size).toBe(0);
    expect(filter.stats).toMatchObject({ positives: 1, unconfirmed: 1 });
  });
});
