import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  LeakStore,
  type LayoutOptions,
  type LeakStoreLogger,
  type LeakStoreRedis,
  type StoreLayout,
  type WatchedCardInput,
} from '@leakwatch/leak-store';
import type { Cluster, Redis } from 'ioredis';

export interface LeakStoreBenchmarkOptions {
  redis: LeakStoreRedis;
  /** Watched cards to import (one incident). */
  cards: number;
  log: LeakStoreLogger;
  /** Cards per addCards call. Default 5000. */
  importBatchSize?: number;
  /** addCards calls in flight. Default 2 (one encodes while Redis runs the other). */
  importConcurrency?: number;
  /** Fingerprints per lookup call. Default 500. */
  lookupBatchSize?: number;
  /** Lookup calls to time. Default 2000. */
  lookupBatches?: number;
  /** Share of looked-up fingerprints that are watched. Default 0.01. */
  lookupHitRate?: number;
  /** Lookup calls in flight. Default 1 (one consumer's view). */
  lookupConcurrency?: number;
  /** Share of imported cards that carry an expiry tag. Default 0.8. */
  expiryTagRate?: number;
  /** Layout sizing; defaults to the production defaults. */
  layout?: LayoutOptions;
  /** Key prefix; a fresh random one by default, dropped at the end unless `keep`. */
  keyPrefix?: string;
  keep?: boolean;
}

export interface LeakStoreBenchmarkResult {
  cards: number;
  mode: 'single' | 'cluster';
  layout: StoreLayout;
  importSeconds: number;
  importCardsPerSecond: number;
  /**
   * CPU spent per card by Redis (all masters) and by this process. On a busy shared machine
   * the wall-clock rates depend on what else runs; these say what each side costs.
   */
  importRedisCpuMicrosPerCard: number;
  importClientCpuMicrosPerCard: number;
  /** used_memory growth over all masters divided by cards. */
  bytesPerCard: number;
  usedMemoryDelta: number;
  bucketsNotListpack: number;
  largestBucket: number;
  lookups: number;
  lookupSeconds: number;
  lookupsPerSecond: number;
  lookupRedisCpuMicrosPerLookup: number;
  lookupClientCpuMicrosPerLookup: number;
  lookupBatchMsP50: number;
  lookupBatchMsP99: number;
  /** Hits found / hits planted: must be 1. */
  lookupHitRatio: number;
  /** Round trips per lookup call measured by the store (must be 1). */
  roundTripsPerLookup: number;
}

function randomFingerprints(count: number): string[] {
  const bytes = randomBytes(32 * count);
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) out[i] = bytes.subarray(32 * i, 32 * i + 32).toString('base64url');
  return out;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

function masters(redis: LeakStoreRedis): Redis[] {
  return (redis as { isCluster?: boolean }).isCluster ? (redis as Cluster).nodes('master') : [redis as Redis];
}

/** used_memory summed over masters, in bytes. */
async function usedMemory(redis: LeakStoreRedis): Promise<number> {
  let total = 0;
  for (const node of masters(redis)) {
    const info = await node.info('memory');
    total += Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 'NaN');
  }
  return total;
}

/** CPU time (user + system) used by the Redis masters, in microseconds. */
async function redisCpuMicros(redis: LeakStoreRedis): Promise<number> {
  let total = 0;
  for (const node of masters(redis)) {
    const info = await node.info('cpu');
    const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 'NaN');
    const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 'NaN');
    total += (user + sys) * 1e6;
  }
  return total;
}

/** CPU time of this process (the client side), in microseconds. */
function clientCpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

async function inParallel<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, concurrency) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

/**
 * Measures the three figures the store is held to: import speed (cards/s), Redis memory per
 * watched card, and batch lookup speed (fingerprints/s) with a 1% hit rate. Works on its own
 * key prefix and drops it at the end; memory is read with INFO, so run it on a Redis nobody
 * else is writing to.
 */
export async function runLeakStoreBenchmark(
  options: LeakStoreBenchmarkOptions,
): Promise<LeakStoreBenchmarkResult> {
  const { redis, cards, log } = options;
  const importBatchSize = options.importBatchSize ?? 5000;
  const lookupBatchSize = options.lookupBatchSize ?? 500;
  const lookupBatches = options.lookupBatches ?? 2000;
  const hitRate = options.lookupHitRate ?? 0.01;
  const tagRate = options.expiryTagRate ?? 0.8;
  const keyPrefix = options.keyPrefix ?? `lb${randomBytes(2).toString('hex')}:`;
  const store = new LeakStore({ redis, keyPrefix, layout: options.layout ?? {}, logger: log });
  await store.start();
  const mode = (redis as { isCluster?: boolean }).isCluster ? 'cluster' : 'single';
  try {
    log.info({ cards, mode, layout: store.layout, keyPrefix }, 'leak-store benchmark: generating cards');
    const fingerprints = randomFingerprints(cards);
    const tagBytes = randomBytes(9 * cards);
    const batches: WatchedCardInput[][] = [];
    for (let i = 0; i < cards; i += importBatchSize) {
      const batch: WatchedCardInput[] = [];
      for (let j = i; j < Math.min(cards, i + importBatchSize); j++) {
        const tag =
          (j * 7919) % 1000 < tagRate * 1000
            ? tagBytes
                .subarray(9 * j, 9 * j + 9)
                .toString('base64url')
                .slice(0, 11)
            : null;
        batch.push({ fingerprint: fingerprints[j] as string, expiryTag: tag });
      }
      batches.push(batch);
    }
    await store.upsertIncident({
      incidentId: 'bench-incident',
      source: 'leak-store benchmark',
      compromiseType: 'WEB_SKIMMING',
      exposureStart: '2020-02-24',
      exposureEnd: '2024-10-15',
      disclosedAt: '2025-05-01',
      dataExposed: ['PAN', 'EXPIRY', 'CVV', 'NAME'],
      watchUntil: null,
    });
    const memoryBefore = await usedMemory(redis);

    log.info({ batches: batches.length, importBatchSize }, 'leak-store benchmark: importing');
    let added = 0;
    const importCpu = { redis: await redisCpuMicros(redis), client: clientCpuMicros() };
    const importStart = performance.now();
    await inParallel(batches, options.importConcurrency ?? 2, async (batch) => {
      const { added: newCards } = await store.addCards('bench-incident', batch);
      added += newCards;
    });
    const importSeconds = (performance.now() - importStart) / 1000;
    const importRedisCpu = (await redisCpuMicros(redis)) - importCpu.redis;
    const importClientCpu = clientCpuMicros() - importCpu.client;
    const memoryAfter = await usedMemory(redis);
    const audit = await store.auditBuckets();
    log.info({ added, importSeconds, audit }, 'leak-store benchmark: imported');

    const hitsPerBatch = Math.max(1, Math.round(lookupBatchSize * hitRate));
    const lookupSets: string[][] = [];
    const misses = randomFingerprints(lookupBatches * (lookupBatchSize - hitsPerBatch));
    for (let b = 0; b < lookupBatches; b++) {
      const set = misses.slice(
        b * (lookupBatchSize - hitsPerBatch),
        (b + 1) * (lookupBatchSize - hitsPerBatch),
      );
      for (let h = 0; h < hitsPerBatch; h++) {
        set.splice((h * 97) % set.length, 0, fingerprints[((b * hitsPerBatch + h) * 7919) % cards] as string);
      }
      lookupSets.push(set);
    }
    await store.lookup(lookupSets[0] as string[]); // warm: scripts loaded on every connection
    log.info({ lookupBatches, lookupBatchSize, hitsPerBatch }, 'leak-store benchmark: looking up');
    const latencies: number[] = [];
    let hits = 0;
    const roundTripsBefore = store.redisStats.roundTrips;
    const lookupCpu = { redis: await redisCpuMicros(redis), client: clientCpuMicros() };
    const lookupStart = performance.now();
    await inParallel(lookupSets, options.lookupConcurrency ?? 1, async (set) => {
      const t0 = performance.now();
      const found = await store.lookup(set);
      hits += found.size;
      latencies.push(performance.now() - t0);
    });
    const lookupSeconds = (performance.now() - lookupStart) / 1000;
    const lookupClientCpu = clientCpuMicros() - lookupCpu.client;
    const lookupRedisCpu = (await redisCpuMicros(redis)) - lookupCpu.redis;
    const roundTrips = store.redisStats.roundTrips - roundTripsBefore;
    latencies.sort((a, b) => a - b);
    const lookups = lookupBatches * lookupBatchSize;
    const result: LeakStoreBenchmarkResult = {
      cards,
      mode,
      layout: store.layout,
      importSeconds,
      importCardsPerSecond: Math.round(cards / importSeconds),
      importRedisCpuMicrosPerCard: round3(importRedisCpu / cards),
      importClientCpuMicrosPerCard: round3(importClientCpu / cards),
      bytesPerCard: Math.round(((memoryAfter - memoryBefore) / cards) * 10) / 10,
      usedMemoryDelta: memoryAfter - memoryBefore,
      bucketsNotListpack: audit.other,
      largestBucket: audit.largestBucket,
      lookups,
      lookupSeconds,
      lookupsPerSecond: Math.round(lookups / lookupSeconds),
      lookupRedisCpuMicrosPerLookup: round3(lookupRedisCpu / lookups),
      lookupClientCpuMicrosPerLookup: round3(lookupClientCpu / lookups),
      lookupBatchMsP50: Math.round(percentile(latencies, 50) * 1000) / 1000,
      lookupBatchMsP99: Math.round(percentile(latencies, 99) * 1000) / 1000,
      lookupHitRatio: hits / (lookupBatches * hitsPerBatch),
      roundTripsPerLookup: roundTrips / lookupBatches,
    };
    log.info({ ...result }, 'leak-store benchmark: done');
    return result;
  } finally {
    if (!options.keep) await store.drop();
    await store.close();
  }
}
