import { createHmac, randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it as base } from 'vitest';
import { isLeakwatchError } from '@leakwatch/errors';
import { decodeRecords, encodeRecord, packExpiryTag, unpackExpiryTag } from './codec.js';
import type { IncidentManifest } from './incident.js';
import type { WatchedCardInput } from './card-index.js';
import { LeakStore } from './leak-store.js';
import { WatchFilter } from './watch-filter.js';
import type { LeakStoreRedis } from './redis-adapter.js';

// Real Redis only. Endpoints come from the environment (LEAKWATCH_REDIS_URL for a single Redis,
// LEAKWATCH_REDIS_CLUSTER_NODES or LEAKWATCH_TEST_REDIS_CLUSTER_NODES as host:port,... for a
// cluster), else from the integration project's global setup (`endpoints`, provided by
// @leakwatch/testing). The same suite runs against each one that is configured.
const provided = (inject as unknown as (key: string) => unknown)('endpoints') as
  { redisUrl?: string; redisClusterNodes?: string[] } | undefined;
const url = process.env.LEAKWATCH_REDIS_URL ?? provided?.redisUrl;
const clusterNodes =
  process.env.LEAKWATCH_REDIS_CLUSTER_NODES ??
  process.env.LEAKWATCH_TEST_REDIS_CLUSTER_NODES ??
  provided?.redisClusterNodes?.join(',');

interface Target {
  name: 'single' | 'cluster';
  configured: boolean;
  connect(): LeakStoreRedis;
}

const targets: Target[] = [
  {
    name: 'single',
    configured: Boolean(url),
    connect: () => new Redis(url as string, { lazyConnect: false }),
  },
  {
    name: 'cluster',
    configured: Boolean(clusterNodes),
    connect: () =>
      new Cluster(
        (clusterNodes as string).split(',').map((node) => {
          const [host, port] = node.trim().split(':');
          return { host: host as string, port: Number(port) };
        }),
      ),
  },
];

base('a Redis to test against is configured', () => {
  expect(url ?? clusterNodes, 'set LEAKWATCH_REDIS_URL and/or LEAKWATCH_REDIS_CLUSTER_NODES').toBeTruthy();
});

// ---------------------------------------------------------------- made-up card data

const HMAC_KEY = randomBytes(32);

/** A Luhn-valid 16-digit test number; only ever hashed here, the store never sees it. */
function fakePan(i: number): string {
  const body = `49${String(i).padStart(13, '0')}`;
  let sum = 0;
  for (let k = 0; k < body.length; k++) {
    let d = Number(body[body.length - 1 - k]);
    if (k % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return `${body}${(10 - (sum % 10)) % 10}`;
}

const fingerprintOf = (pan: string) =>
  createHmac('sha256', HMAC_KEY).update(pan, 'ascii').digest('base64url');
const expiryTagOf = (fingerprint: string, expiry: string) =>
  createHmac('sha256', HMAC_KEY).update(`${fingerprint}|${expiry}`).digest('base64url').slice(0, 11);
const randomFingerprint = () => randomBytes(32).toString('base64url');

function manifest(incidentId: string, overrides: Partial<IncidentManifest> = {}): IncidentManifest {
  return {
    incidentId,
    source: 'Test merchant disclosure',
    compromiseType: 'WEB_SKIMMING',
    exposureStart: '2020-02-24',
    exposureEnd: '2024-10-15',
    disclosedAt: '2025-05-20',
    dataExposed: ['PAN', 'EXPIRY', 'CVV', 'NAME'],
    watchUntil: null,
    ...overrides,
  };
}

function masters(redis: LeakStoreRedis): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/** Every key under a prefix, on every master. */
async function keysUnder(redis: LeakStoreRedis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for (const node of masters(redis)) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
  }
  return keys;
}

/**
 * Counts the commands each master receives from clients (not from inside Lua) between two
 * markers, with MONITOR: the server's own account of what a call cost.
 */
async function commandsSentDuring(
  redis: LeakStoreRedis,
  action: () => Promise<unknown>,
): Promise<string[][]> {
  const marker = `lw-marker-${randomBytes(6).toString('hex')}`;
  const seen: string[][] = [];
  const sessions = await Promise.all(
    masters(redis).map(async (node) => {
      const monitor = await new Redis({ host: node.options.host, port: node.options.port }).monitor();
      const probe = new Redis({ host: node.options.host, port: node.options.port });
      let inside = false;
      let ended!: () => void;
      const done = new Promise<void>((resolve) => (ended = resolve));
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (args[0]?.toLowerCase() === 'echo' && args[1] === `${marker}:start`) inside = true;
        else if (args[0]?.toLowerCase() === 'echo' && args[1] === `${marker}:end`) ended();
        else if (inside && source !== 'lua') seen.push(args);
      });
      await probe.echo(`${marker}:start`);
      return { monitor, probe, done };
    }),
  );
  try {
    await action();
    for (const session of sessions) await session.probe.echo(`${marker}:end`);
    await Promise.all(sessions.map((session) => session.done));
  } finally {
    for (const session of sessions) {
      session.monitor.disconnect();
      session.probe.disconnect();
    }
  }
  return seen;
}

// ---------------------------------------------------------------- the suite

for (const target of targets) {
  describe.skipIf(!target.configured && process.env.CI !== 'true')(
    `LeakStore on ${target.name} Redis`,
    () => {
      let redis: LeakStoreRedis;

      beforeAll(async () => {
        redis = target.connect();
        await redis.ping();
      });
      afterAll(async () => {
        await redis?.quit();
      });

      /** A started store on a fresh key prefix, dropped after the test. */
      const it = base.extend<{ store: LeakStore; prefix: string }>({
        // eslint-disable-next-line no-empty-pattern
        prefix: async ({}, use) => use(`lwtest:${randomBytes(5).toString('hex')}:`),
        store: async ({ prefix }, use) => {
          const store = new LeakStore({ redis, keyPrefix: prefix, layout: { capacity: 20_000 } });
          await store.start();
          await use(store);
          await store.drop();
          await store.close();
          expect(await keysUnder(redis, prefix)).toEqual([]);
        },
      });

      it('imports idempotently and counts watched cards', async ({ store }) => {
        const first = await store.upsertIncident(manifest('INC-A'));
        expect(first).toMatchObject({
          created: true,
          changed: true,
          incident: { number: 1, status: 'active' },
        });
        const cards: WatchedCardInput[] = Array.from({ length: 3000 }, (_, i) => {
          const fingerprint = fingerprintOf(fakePan(i));
          return { fingerprint, expiryTag: i % 3 === 0 ? null : expiryTagOf(fingerprint, '2027-05') };
        });
        expect(await store.addCards('INC-A', cards)).toEqual({
          added: 3000,
          expiryTagsAdded: 0,
          unchanged: 0,
        });
        expect(await store.addCards('INC-A', cards)).toEqual({
          added: 0,
          expiryTagsAdded: 0,
          unchanged: 3000,
        });
        // Same card twice in one batch counts once.
        const repeat = [cards[0] as WatchedCardInput, cards[0] as WatchedCardInput];
        expect(await store.addCards('INC-A', repeat)).toEqual({ added: 0, expiryTagsAdded: 0, unchanged: 2 });
        expect((await store.getIncident('INC-A'))?.watchedCards).toBe(3000);
        expect(await store.watchedCounts()).toEqual(new Map([['INC-A', 3000]]));
        const again = await store.upsertIncident(manifest('INC-A'));
        expect(again).toMatchObject({ created: false, changed: false, incident: { number: 1 } });
        const renamed = await store.upsertIncident(manifest('INC-A', { source: 'Corrected disclosure' }));
        expect(renamed).toMatchObject({
          created: false,
          changed: true,
          incident: { number: 1, source: 'Corrected disclosure' },
        });
        expect((await store.listIncidents()).map((i) => [i.incidentId, i.watchedCards])).toEqual([
          ['INC-A', 3000],
        ]);
      });

      it('keeps a card in several incidents, with every leaked expiry', async ({ store, prefix }) => {
        await store.upsertIncident(manifest('INC-1'));
        await store.upsertIncident(
          manifest('INC-2', { compromiseType: 'DATABASE_BREACH', dataExposed: ['PAN'] }),
        );
        const fp = fingerprintOf(fakePan(42));
        const [t1, t2, t3] = ['2026-01', '2027-05', '2029-11'].map((e) => expiryTagOf(fp, e)) as [
          string,
          string,
          string,
        ];
        expect(await store.addCards('INC-1', [{ fingerprint: fp, expiryTag: t1 }])).toMatchObject({
          added: 1,
        });
        expect(await store.addCards('INC-2', [{ fingerprint: fp, expiryTag: null }])).toMatchObject({
          added: 1,
        });
        // A tag for a card already listed without one replaces the tagless record.
        expect(await store.addCards('INC-2', [{ fingerprint: fp, expiryTag: t2 }])).toEqual({
          added: 0,
          expiryTagsAdded: 1,
          unchanged: 0,
        });
        // A second expiry of the same card in one incident is kept beside the first.
        expect(await store.addCards('INC-1', [{ fingerprint: fp, expiryTag: t3 }])).toEqual({
          added: 0,
          expiryTagsAdded: 1,
          unchanged: 0,
        });
        // No expiry adds nothing to a card that has one.
        expect(await store.addCards('INC-1', [{ fingerprint: fp, expiryTag: null }])).toEqual({
          added: 0,
          expiryTagsAdded: 0,
          unchanged: 1,
        });

        const hits = await store.lookup([fp, randomFingerprint()]);
        expect([...hits.keys()]).toEqual([fp]);
        const hit = hits.get(fp);
        expect(hit?.incidents.map((i) => [i.incidentId, i.expiryTags])).toEqual([
          ['INC-1', [t1, t3]],
          ['INC-2', [t2]],
        ]);
        expect(hit?.incidents[1]?.incident).toMatchObject({
          compromiseType: 'DATABASE_BREACH',
          dataExposed: ['PAN'],
          exposureStart: '2020-02-24',
        });
        expect(store.incidents().byId.get('INC-2')?.compromiseType).toBe('DATABASE_BREACH');

        // The stored bytes are exactly the documented records.
        const ks = store.keySpace();
        const bytes = Buffer.from(fp, 'base64url');
        const value = await redis.hgetBuffer(ks.bucketKey(ks.bucketOf(bytes)), ks.fieldOf(bytes));
        expect(value).toEqual(
          Buffer.concat([
            encodeRecord(1, packExpiryTag(t1)),
            encodeRecord(2, packExpiryTag(t2)),
            encodeRecord(1, packExpiryTag(t3)),
          ]),
        );
        expect(prefix).toMatch(/^lwtest:/);
        expect(await store.watchedCounts()).toEqual(
          new Map([
            ['INC-1', 1],
            ['INC-2', 1],
          ]),
        );
      });

      it('retires an incident: lookups skip it at once, even from another process, then entries are purged', async ({
        store,
        prefix,
      }) => {
        await store.upsertIncident(manifest('INC-OLD'));
        await store.upsertIncident(manifest('INC-NEW'));
        const onlyOld = Array.from({ length: 200 }, (_, i) => fingerprintOf(fakePan(1000 + i)));
        const both = Array.from({ length: 50 }, (_, i) => fingerprintOf(fakePan(2000 + i)));
        await store.addCards(
          'INC-OLD',
          [...onlyOld, ...both].map((fingerprint) => ({ fingerprint, expiryTag: null })),
        );
        await store.addCards(
          'INC-NEW',
          both.map((fingerprint) => ({ fingerprint, expiryTag: expiryTagOf(fingerprint, '2028-02') })),
        );
        expect((await store.lookup([...onlyOld, ...both])).size).toBe(250);

        // Another instance (its own cache) retires; this one must see it on its next lookup.
        const other = new LeakStore({ redis, keyPrefix: prefix });
        await other.start();
        const retired = await other.retireIncident('INC-OLD', { purge: false });
        expect(retired).toEqual({ alreadyRetired: false, purge: null });
        const hits = await store.lookup([...onlyOld, ...both]);
        expect(hits.size).toBe(50);
        expect(
          [...hits.values()].every(
            (h) => h.incidents.length === 1 && h.incidents[0]?.incidentId === 'INC-NEW',
          ),
        ).toBe(true);
        expect(await store.watchedCounts()).toEqual(
          new Map([
            ['INC-OLD', 0],
            ['INC-NEW', 50],
          ]),
        );

        await expect(
          store.addCards('INC-OLD', [{ fingerprint: randomFingerprint(), expiryTag: null }]),
        ).rejects.toSatisfy((e) => isLeakwatchError(e, 'VALIDATION_FAILED'));
        await expect(store.retireIncident('INC-NOPE')).rejects.toSatisfy((e) =>
          isLeakwatchError(e, 'NOT_FOUND'),
        );

        const ks = store.keySpace();
        const entries = async () => {
          let n = 0;
          for (const key of await keysUnder(redis, prefix)) {
            if (/\}b[0-9a-f]+$/.test(key)) n += await redis.hlen(key);
          }
          return n;
        };
        expect(await entries()).toBe(250);
        expect(await store.purgeRetired()).toEqual({ valuesRewritten: 50, cardsReleased: 200 });
        expect(await entries()).toBe(50);
        expect(await store.purgeRetired()).toEqual({ valuesRewritten: 0, cardsReleased: 0 });
        expect((await store.retireIncident('INC-OLD')).alreadyRetired).toBe(true);
        const bytes = Buffer.from(both[0] as string, 'base64url');
        const value = await redis.hgetBuffer(ks.bucketKey(ks.bucketOf(bytes)), ks.fieldOf(bytes));
        expect(decodeRecords(value as Buffer)?.map((l) => l.incidentNumber)).toEqual([2]);
        expect((await store.getIncident('INC-OLD'))?.status).toBe('retired');
        await other.close();
      });

      it('takes a reissued card off the watch list in every incident', async ({ store }) => {
        await store.upsertIncident(manifest('INC-1'));
        await store.upsertIncident(manifest('INC-2'));
        const fp = fingerprintOf(fakePan(7));
        const stays = fingerprintOf(fakePan(8));
        await store.addCards(
          'INC-1',
          [fp, stays].map((fingerprint) => ({ fingerprint, expiryTag: null })),
        );
        await store.addCards('INC-2', [{ fingerprint: fp, expiryTag: expiryTagOf(fp, '2030-01') }]);
        expect(await store.removeCard(fp)).toEqual({ removedFrom: ['INC-1', 'INC-2'] });
        expect(await store.removeCard(fp)).toEqual({ removedFrom: [] });
        const hits = await store.lookup([fp, stays]);
        expect([...hits.keys()]).toEqual([stays]);
        expect(await store.watchedCounts()).toEqual(
          new Map([
            ['INC-1', 1],
            ['INC-2', 0],
          ]),
        );
        // Importing the list again watches it again: a reissue is undone only by a new import.
        expect(await store.addCards('INC-2', [{ fingerprint: fp, expiryTag: null }])).toMatchObject({
          added: 1,
        });
      });

      it('stops watching an incident after its watchUntil', async ({ prefix }) => {
        let now = Date.parse('2026-05-31T12:00:00Z');
        const store = new LeakStore({ redis, keyPrefix: prefix, now: () => now });
        await store.start();
        await store.upsertIncident(manifest('INC-T', { watchUntil: '2026-05-31' }));
        const fp = randomFingerprint();
        await store.addCards('INC-T', [{ fingerprint: fp, expiryTag: null }]);
        expect((await store.lookup([fp])).size).toBe(1);
        now = Date.parse('2026-06-01T00:00:00Z');
        expect((await store.lookup([fp])).size).toBe(0);
        await store.drop();
        await store.close();
      });

      it('looks up a batch of 500 in one round trip', async ({ store }) => {
        await store.upsertIncident(manifest('INC-L'));
        const watched = Array.from({ length: 2000 }, (_, i) => fingerprintOf(fakePan(5000 + i)));
        await store.addCards(
          'INC-L',
          watched.map((fingerprint) => ({ fingerprint, expiryTag: null })),
        );
        const batch = [...watched.slice(0, 5), ...Array.from({ length: 495 }, randomFingerprint)];
        await store.lookup(batch); // scripts reach every connection first (EVAL once, EVALSHA after)

        const before = { ...store.redisStats };
        let hits = 0;
        const commands = await commandsSentDuring(redis, async () => {
          hits = (await store.lookup(batch)).size;
        });
        expect(hits).toBe(5);
        expect(store.redisStats.roundTrips - before.roundTrips).toBe(1);
        expect(store.redisStats.pipelines - before.pipelines).toBeLessThanOrEqual(masters(redis).length);
        const names = commands.map((args) => (args[0] as string).toLowerCase());
        // Only script calls and the one registry version read: never a command per fingerprint.
        expect(names.filter((n) => n === 'hget')).toHaveLength(1);
        expect(names.every((n) => n === 'evalsha' || n === 'hget')).toBe(true);
        const ks = store.keySpace();
        const groups = new Set(
          batch.map((fp) => ks.groupOfBucket(ks.bucketOf(Buffer.from(fp, 'base64url')))),
        );
        expect(names.filter((n) => n === 'evalsha')).toHaveLength(target.name === 'single' ? 1 : groups.size);
      });

      it('stores only the documented formats: no card number, every byte accounted for', async ({
        store,
        prefix,
      }) => {
        await store.upsertIncident(manifest('INC-X'));
        await store.upsertIncident(manifest('INC-Y', { watchUntil: '2030-12-31' }));
        const pans = Array.from({ length: 1500 }, (_, i) => fakePan(90_000 + i));
        const fingerprints = new Set<string>();
        const tags = new Set<string>();
        const cards = pans.map((pan, i) => {
          const fingerprint = fingerprintOf(pan);
          fingerprints.add(fingerprint);
          const expiryTag =
            i % 4 === 0 ? null : expiryTagOf(fingerprint, `20${27 + (i % 3)}-0${1 + (i % 9)}`);
          if (expiryTag) tags.add(expiryTag);
          return { fingerprint, expiryTag };
        });
        await store.addCards('INC-X', cards);
        await store.addCards('INC-Y', cards.slice(0, 300));

        const ks = store.keySpace();
        const registry = new RegExp(`^${prefix}\\{incidents\\}:(meta|ids|i:INC-[XY])$`);
        const bucket = new RegExp(`^${prefix}\\{([0-9A-Za-z]{1,3})\\}b([0-9a-f]+)$`);
        const counter = new RegExp(`^${prefix}\\{([0-9A-Za-z]{1,3})\\}n$`);
        const filter = new RegExp(`^${prefix}\\{([0-9A-Za-z]{1,3})\\}f$`);
        const watchLog = new RegExp(`^${prefix}\\{([0-9A-Za-z]{1,3})\\}w$`);
        // Each watch log: an 8-byte header, then fingerprint bytes 3-10 of each card, once.
        const logged: string[] = [];
        // Where each imported card must be: bucket key → hex of its field.
        const expected = new Map<string, string>();
        for (const fp of fingerprints) {
          const bytes = Buffer.from(fp, 'base64url');
          expected.set(`${ks.bucketKey(ks.bucketOf(bytes))} ${ks.fieldOf(bytes).toString('hex')}`, fp);
        }
        let filterBitsSet = 0;
        const filters = new Map<string, Buffer>();
        const seenFingerprints = new Set<string>();
        let counted = 0;
        const haystacks: Buffer[] = [];
        for (const key of await keysUnder(redis, prefix)) {
          haystacks.push(Buffer.from(key));
          const b = bucket.exec(key);
          if (b) {
            const group = ks.tags.indexOf(b[1] as string);
            expect(group).toBeGreaterThanOrEqual(0);
            expect(ks.bucketKey(group * ks.bucketsPerGroup + parseInt(b[2] as string, 16))).toBe(key);
            expect(await redis.object('ENCODING', key)).toBe('listpack');
            const raw = (await redis.callBuffer('HGETALL', key)) as Buffer[];
            for (let i = 0; i < raw.length; i += 2) {
              const field = raw[i] as Buffer;
              const value = raw[i + 1] as Buffer;
              haystacks.push(field, value);
              expect(field.length).toBe(ks.fieldLength);
              const fp = expected.get(`${key} ${field.toString('hex')}`);
              expect(fp).toBeDefined();
              seenFingerprints.add(fp as string);
              const links = decodeRecords(value);
              expect(links).not.toBeNull();
              for (const link of links ?? []) {
                expect([1, 2]).toContain(link.incidentNumber);
                if (link.tag) expect(tags.has(unpackExpiryTag(link.tag))).toBe(true);
              }
            }
            continue;
          }
          if (filter.test(key)) {
            // A presence filter: a bit string of at most filterBits bits, nothing else.
            const bits = (await redis.getBuffer(key)) as Buffer;
            expect(bits.length).toBeLessThanOrEqual(ks.layout.filterBits / 8);
            for (const byte of bits) for (let b = byte; b; b &= b - 1) filterBitsSet += 1;
            filters.set(key, bits);
            continue;
          }
          if (watchLog.test(key)) {
            const log = (await redis.getBuffer(key)) as Buffer;
            expect((log.length - 8) % 8).toBe(0);
            for (let at = 8; at < log.length; at += 8) logged.push(log.subarray(at, at + 8).toString('hex'));
            continue;
          }
          if (counter.test(key)) {
            const counts = await redis.hgetall(key);
            for (const [no, n] of Object.entries(counts)) {
              expect(['1', '2']).toContain(no);
              expect(Number(n)).toBeGreaterThan(0);
              counted += Number(n);
            }
            continue;
          }
          expect(key).toMatch(registry);
          const hash = await redis.hgetall(key);
          haystacks.push(Buffer.from(JSON.stringify(hash)));
          if (key.endsWith(':meta'))
            expect(Object.keys(hash).sort()).toEqual([
              'bucketBits',
              'capacity',
              'fieldBytes',
              'filterBits',
              'groupBits',
              'layoutVersion',
              'maxEntriesPerBucket',
              'seq',
              'version',
              'watchLogs',
            ]);
          else if (key.endsWith(':ids')) expect(hash).toEqual({ 'INC-X': '1', 'INC-Y': '2' });
          else {
            expect(Object.keys(hash).sort()).toEqual([
              'compromiseType',
              'createdAt',
              'dataExposed',
              'disclosedAt',
              'exposureEnd',
              'exposureStart',
              'incidentId',
              'number',
              'retiredAt',
              'source',
              'status',
              'updatedAt',
              'watchUntil',
            ]);
          }
        }
        expect(seenFingerprints).toEqual(fingerprints);
        expect(logged.sort()).toEqual(
          [...fingerprints].map((fp) => Buffer.from(fp, 'base64url').subarray(3, 11).toString('hex')).sort(),
        );
        expect(filterBitsSet).toBeGreaterThan(0);
        expect(filterBitsSet).toBeLessThanOrEqual(fingerprints.size + ks.groups); // + sentinels
        for (const bits of filters.values()) expect((bits[0] ?? 0) & 0x80).toBe(0x80);
        // No false negative: every watched card has its filter bit set.
        for (const fp of fingerprints) {
          const bytes = Buffer.from(fp, 'base64url');
          const bits = filters.get(ks.filterKeys[ks.groupOfBucket(ks.bucketOf(bytes))] as string);
          const offset = bytes.readUInt32BE(4) % ks.layout.filterBits;
          expect(bits && ((bits[offset >> 3] ?? 0) >> (7 - (offset & 7))) & 1).toBe(1);
        }
        expect(counted).toBe(1800);
        // Neither a card number nor its last 12 digits appear anywhere in keys, fields or values.
        const everything = Buffer.concat(haystacks);
        const found = pans.filter((pan) => everything.includes(pan) || everything.includes(pan.slice(-12)));
        expect(found).toEqual([]);
      });

      it('finds every card without its filter, and rebuilds filters after removals', async ({ store }) => {
        await store.upsertIncident(manifest('INC-F'));
        const fps = Array.from({ length: 300 }, randomFingerprint);
        await store.addCards(
          'INC-F',
          fps.map((fingerprint) => ({ fingerprint, expiryTag: null })),
        );
        const ks = store.keySpace();
        const bitsSet = async () => {
          let n = 0;
          for (const key of ks.filterKeys) {
            for (const byte of (await redis.getBuffer(key)) ?? []) for (let b = byte; b; b &= b - 1) n += 1;
          }
          return n;
        };
        const before = await bitsSet();
        expect(before).toBeGreaterThan(250);
        // Filters lost (they never should be: noeviction) cost speed, never a hit.
        for (const key of ks.filterKeys) await redis.del(key);
        expect((await store.lookup(fps)).size).toBe(300);
        await store.removeCards(fps.slice(0, 200));
        expect((await store.lookup(fps)).size).toBe(100);
        expect(await store.rebuildFilters()).toEqual({ cards: 100 });
        expect(await bitsSet()).toBeLessThanOrEqual(100 + ks.groups);
        expect((await store.lookup(fps)).size).toBe(100);
        // New cards after a rebuild still land in the filter.
        const late = randomFingerprint();
        await store.addCards('INC-F', [{ fingerprint: late, expiryTag: null }]);
        expect([...(await store.lookup([late, ...fps.slice(0, 200)])).keys()]).toEqual([late]);
      });

      it('feeds an in-process watch filter: clean lookups cost no command, imports and rebuilds reach it', async ({
        store,
        prefix,
      }) => {
        await store.upsertIncident(manifest('INC-W'));
        const fps = Array.from({ length: 2000 }, randomFingerprint);
        await store.addCards(
          'INC-W',
          fps.map((fingerprint) => ({ fingerprint, expiryTag: null })),
        );
        const filter = new WatchFilter({ source: store, maxReadBytes: 1024 });
        await filter.syncNow();
        expect(filter.stats).toMatchObject({ active: true, builtCards: 2000, addedCards: 0 });
        for (const fp of fps) expect(filter.mayHold(fp)).toBe(true);

        const clean = Array.from({ length: 5000 }, randomFingerprint);
        const before = store.redisStats.commands;
        expect((await filter.lookup(clean)).size).toBe(0);
        // 5,000 clean fingerprints at 2^-16: almost surely no candidate, so no command at all
        expect(store.redisStats.commands - before).toBeLessThanOrEqual(2);
        expect([...(await filter.lookup([...clean.slice(0, 9), fps[5] as string])).keys()]).toEqual([fps[5]]);

        // a card imported after the load is matched after the next sync
        const late = randomFingerprint();
        await store.addCards('INC-W', [{ fingerprint: late, expiryTag: null }]);
        await filter.syncNow();
        expect(filter.stats.addedCards).toBe(1);
        expect((await filter.lookup([late])).has(late)).toBe(true);

        // removals linger in the logs until a rebuild, which writes new generations that the
        // filter reads whole
        await store.removeCards(fps.slice(0, 1500));
        // counted from here: a random clean probe above may have been a false positive (1.5e-5)
        const unconfirmedBefore = filter.stats.unconfirmed;
        expect((await filter.lookup(fps.slice(0, 1500))).size).toBe(0); // Redis is the truth
        expect(filter.stats.unconfirmed - unconfirmedBefore).toBe(1500);
        expect(await store.rebuildFilters()).toEqual({ cards: 501 });
        await filter.syncNow();
        for (const fp of [late, ...fps.slice(1500)]) expect(filter.mayHold(fp)).toBe(true);
        const fresh = new WatchFilter({ source: store });
        await fresh.syncNow();
        expect(fresh.stats.builtCards).toBe(501);

        // a store made before watch logs (no mark) is not filtered until a rebuild marks it
        await redis.hdel(`${prefix}{incidents}:meta`, 'watchLogs');
        const unmarked = new WatchFilter({ source: store });
        await unmarked.syncNow();
        expect(unmarked.stats.active).toBe(false);
        await store.rebuildFilters();
        await unmarked.syncNow();
        expect(unmarked.stats).toMatchObject({ active: true, builtCards: 501 });
        await Promise.all([filter.close(), fresh.close(), unmarked.close()]);
      });

      it('keeps the layout stored under a prefix whatever a later client asks for', async ({
        store,
        prefix,
      }) => {
        const other = new LeakStore({
          redis,
          keyPrefix: prefix,
          layout: { capacity: 50_000_000, groupBits: 8 },
        });
        await other.start();
        expect(other.layout).toEqual(store.layout);
        await other.close();
      });

      it('refuses malformed input before writing anything', async ({ store, prefix }) => {
        await store.upsertIncident(manifest('INC-V'));
        const good = { fingerprint: randomFingerprint(), expiryTag: null };
        for (const bad of [
          { fingerprint: fakePan(1), expiryTag: null },
          { fingerprint: randomFingerprint(), expiryTag: '12/27' },
        ]) {
          await expect(store.addCards('INC-V', [good, bad])).rejects.toSatisfy((e) =>
            isLeakwatchError(e, 'VALIDATION_FAILED'),
          );
        }
        await expect(store.addCards('INC-NONE', [good])).rejects.toSatisfy((e) =>
          isLeakwatchError(e, 'NOT_FOUND'),
        );
        await expect(store.lookup(['not-a-fingerprint'])).rejects.toSatisfy((e) =>
          isLeakwatchError(e, 'VALIDATION_FAILED'),
        );
        await expect(
          store.upsertIncident({ ...manifest('INC-W'), compromiseType: 'NOPE' as never }),
        ).rejects.toSatisfy((e) => isLeakwatchError(e, 'MANIFEST_INVALID'));
        expect((await keysUnder(redis, prefix)).filter((key) => !key.includes('{incidents}'))).toEqual([]);
        expect((await store.checkServerConfig()).ok).toBe(true);
      });
    },
  );
}

describe('LeakStore without Redis', () => {
  base('reports an unreachable Redis as retryable REDIS_UNAVAILABLE', async () => {
    const redis = new Redis({
      host: '127.0.0.1',
      port: 1,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    const store = new LeakStore({ redis });
    const error = await store.start().catch((e: unknown) => e);
    expect(isLeakwatchError(error, 'REDIS_UNAVAILABLE')).toBe(true);
    expect((error as { retryable: boolean }).retryable).toBe(true);
    redis.disconnect();
  });
});
