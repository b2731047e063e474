import { randomBytes, randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { FuseFilter, LeakStore, WatchFilter } from '@leakwatch/leak-store';
import type { RedisClient } from '@leakwatch/redis';

export interface WatchFilterBenchOptions {
  redis: RedisClient;
  /** Watched cards. Default 10,000,000. */
  cards?: number;
  /** Random clean fingerprints probed for the false-positive rate. Default 10,000,000. */
  probes?: number;
  /** Clean fingerprints looked up through the filter while INFO commandstats is read. Default 1,000,000. */
  cleanLookups?: number;
  log: (line: string) => void;
}

interface FilterBuildFigures {
  bits: 8 | 16 | 32;
  buildSeconds: number;
  /** CPU time of the build: what it costs on a quiet machine, near enough. */
  buildCpuSeconds: number;
  bytesPerCard: number;
  falsePositiveRate: number;
}

export interface WatchFilterBenchResult {
  cards: number;
  probes: number;
  builds: FilterBuildFigures[];
  /** Monitor start-up: read every watch log from Redis and build the 16-bit filter. */
  loadSeconds: number;
  loadCpuSeconds: number;
  /** Watch-log bytes read from Redis at start-up. */
  logBytes: number;
  /** Memory the loaded filter keeps per card (its cells; the added-cards set is empty). */
  heldBytesPerCard: number;
  /** Resident set growth from before to after the load (buffers not yet collected included). */
  rssGrowthMb: number;
  /** Peak resident set growth during the load (max RSS delta): the transient cost. */
  peakRssMb: number;
  cleanLookups: number;
  /** Commands Redis counted (INFO commandstats, all clients, minus our INFO calls) during them. */
  redisCommandsDuringCleanLookups: number;
  /** Of those fingerprints, how many the filter sent to Redis. */
  cleanCandidates: number;
  /**
   * Commands this process's store sent meanwhile (lookups and the watch-log polls): the count
   * that holds on a shared Redis, where INFO commandstats also counts other clients.
   */
  storeCommandsDuringCleanLookups: number;
}

function randomKeys(count: number): { high: Uint32Array; low: Uint32Array } {
  const high = new Uint32Array(count);
  const low = new Uint32Array(count);
  // randomFillSync takes at most 2^31-1 bytes per call; 10M keys are 40 MB per half
  randomFillSync(high);
  randomFillSync(low);
  return { high, low };
}

/** Sum of calls over every command in INFO commandstats. */
async function totalCommands(redis: RedisClient): Promise<number> {
  const nodes = (redis as { isCluster?: boolean }).isCluster
    ? (redis as unknown as { nodes(role: string): RedisClient[] }).nodes('master')
    : [redis];
  let total = 0;
  for (const node of nodes) {
    const text = await (node as { info(section: string): Promise<string> }).info('commandstats');
    for (const match of text.matchAll(/calls=(\d+)/g)) total += Number(match[1]);
  }
  return total;
}

/**
 * The in-process watch filter at scale (issue 11): build time, bytes per card and measured
 * false-positive rate at 8, 16 and 32 bits over `cards` random keys; a monitor's start-up
 * load of that many cards from Redis watch logs (written directly, 8 bytes per card, under a
 * bench prefix dropped afterwards: importing 10M cards would take minutes and ~500 MB of
 * Redis for the buckets, which the filter never reads); and Redis commands counted with INFO
 * commandstats while clean fingerprints are looked up through the filter.
 */
export async function runWatchFilterBenchmark(
  options: WatchFilterBenchOptions,
): Promise<WatchFilterBenchResult> {
  const cards = options.cards ?? 10_000_000;
  const probes = options.probes ?? 10_000_000;
  const cleanLookups = options.cleanLookups ?? 1_000_000;
  const { log, redis } = options;

  const prefix = `bench-filter-${process.pid}:`;
  const store = new LeakStore({ redis, keyPrefix: prefix, layout: { capacity: cards } });
  await store.start();
  try {
    // the watch logs a store of `cards` cards holds, written straight into Redis
    const ks = store.keySpace();
    const perGroup = Math.ceil(cards / ks.groups);
    let logBytes = 0;
    for (let g = 0; g < ks.groups; g++) {
      const count = Math.min(perGroup, cards - g * perGroup);
      const value = randomBytes(8 + Math.max(0, count) * 8);
      logBytes += value.length;
      await redis.set(ks.watchLogKeys[g] as string, value);
    }
    log(`  wrote ${ks.groups} watch logs, ${(logBytes / 1e6).toFixed(0)} MB`);
    global.gc?.();
    const before = process.memoryUsage();
    const peakBefore = process.resourceUsage().maxRSS;
    const filter = new WatchFilter({ source: store, bits: 16 });
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    await filter.syncNow();
    const loadSeconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const loadCpuSeconds = (cpu.user + cpu.system) / 1e6;
    const peakRssMb = (process.resourceUsage().maxRSS - peakBefore) / 1024;
    global.gc?.();
    const after = process.memoryUsage();
    const heldBytesPerCard = filter.stats.filterBytes / cards;
    const rssGrowthMb = (after.rss - before.rss) / 1e6;
    log(`  start-up load: ${loadSeconds.toFixed(2)} s; ${JSON.stringify(filter.stats)}`);

    // clean lookups through the filter, batches of 500 as the monitor's, INFO around them; the
    // filter keeps syncing in the background as in a monitor, and each batch yields to the
    // event loop as the monitor's Kafka fetches do (else its timer could never run)
    filter.start();
    const batch = 500;
    const fingerprints = Array.from({ length: batch }, () => '');
    const commandsBefore = await totalCommands(redis);
    const sentBefore = store.redisStats.commands;
    for (let done = 0; done < cleanLookups; done += batch) {
      for (let i = 0; i < batch; i++) fingerprints[i] = randomBytes(32).toString('base64url');
      await filter.lookup(fingerprints);
      await new Promise((resolve) => setImmediate(resolve));
    }
    // the second INFO counts itself once per node after the first
    const nodes = (redis as { isCluster?: boolean }).isCluster ? 3 : 1;
    const redisCommandsDuringCleanLookups = (await totalCommands(redis)) - commandsBefore - nodes;
    const cleanCandidates = filter.stats.positives + filter.stats.bypassed;
    const storeCommandsDuringCleanLookups = store.redisStats.commands - sentBefore;
    log(
      `  ${cleanLookups} clean lookups: ${redisCommandsDuringCleanLookups} Redis commands, ${cleanCandidates} candidates`,
    );
    await filter.close();
    const builds: FilterBuildFigures[] = [];
    {
      const keys = randomKeys(cards);
      const probeKeys = randomKeys(probes);
      for (const bits of [8, 16, 32] as const) {
        const started = performance.now();
        const cpuBefore = process.cpuUsage();
        const filter = FuseFilter.build(keys.high, keys.low, cards, bits);
        const buildSeconds = (performance.now() - started) / 1000;
        const cpu = process.cpuUsage(cpuBefore);
        let positives = 0;
        for (let i = 0; i < probes; i++)
          if (filter.has(probeKeys.high[i] as number, probeKeys.low[i] as number)) positives++;
        const figures = {
          bits,
          buildSeconds,
          buildCpuSeconds: (cpu.user + cpu.system) / 1e6,
          bytesPerCard: filter.byteLength / cards,
          falsePositiveRate: positives / probes,
        };
        log(`  ${bits}-bit fuse filter of ${cards}: ${JSON.stringify(figures)}`);
        builds.push(figures);
      }
    }

    return {
      cards,
      probes,
      builds,
      loadSeconds,
      logBytes,
      heldBytesPerCard,
      rssGrowthMb,
      loadCpuSeconds,
      peakRssMb,
      cleanLookups,
      redisCommandsDuringCleanLookups,
      cleanCandidates,
      storeCommandsDuringCleanLookups,
    };
  } finally {
    await store.drop();
    await store.close();
  }
}
