import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LeakStore } from '@leakwatch/leak-store';
import {
  describeMachine,
  runDispatcherBenchmark,
  runLeakStoreBenchmark,
  runHuntIsolationBenchmark,
  runMonitorBenchmark,
  runWatchFilterBenchmark,
  runScaleOutBenchmark,
} from '@leakwatch/bench';
import { createRedisClient } from '@leakwatch/redis';
import { writeIncidentFiles } from '@leakwatch/simulator';
import { loadCliEnv } from '../cli-env.js';
import { importCards } from './leaks.js';
import { CliFailure } from './index.js';
import type { CommandHandler } from './command.js';

const HELP = `Usage: leakwatch bench [--only store|import|monitor|dispatcher|filter|scale-out|startup|hunt-isolation] [--cards <n>] [--messages <n>]

Measures Leakwatch against its targets on this machine, against the running stack (LEAKWATCH_*
endpoints, or the local stack's defaults), and writes a Markdown report to reports/.
  store    leak store: import cards/s, Redis bytes per watched card, batched lookups/s (500, 1% hits)
  import   leaks import of a generated cards file (parse, fingerprint, Redis), cards/s
  monitor  monitor authorizations/s vs the raw kafkajs consume ceiling; end-to-end p50/p99 at 5,000/s
  dispatcher  webhook deliveries/s to 5 partners answering in 50 ms; p99 produced -> accepted at 5,000/s
  filter   the monitors' in-process watch filter: build time, bytes/card and false positives at
           --filter-cards; start-up load of that many from Redis; Redis commands for clean lookups
  scale-out   authorizations/s of 1, 2, 3 monitor processes in one group on the same backlog, with
              the CPU of the monitors, Kafka, the registry and Redis (from /proc) meanwhile
  startup     monitor launch -> first batch processed against the running stack (target 3 s)
  hunt-isolation  (only with --only) the monitor's rate on a backlog alone, then beside a retro-hunt
           at each --hunt-rates throttle: the slowdown, and the highest throttle within 20%
Options: --cards (1000000), --messages (1000000), --latency-rate (5000), --latency-seconds (30),
  --deliveries (50000), --dispatch-concurrency (128), --dispatchers (1: dispatcher processes),
  --filter-cards (10000000), --processes (1,2,3), --startups (5),
  --hunt-rates (5000,10000,20000,unlimited)
`;

export const benchCommand: CommandHandler = {
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        only: { type: 'string' },
        cards: { type: 'string', default: '1000000' },
        messages: { type: 'string', default: '1000000' },
        deliveries: { type: 'string', default: '50000' },
        'dispatch-concurrency': { type: 'string', default: '128' },
        dispatchers: { type: 'string', default: '1' },
        'latency-rate': { type: 'string', default: '5000' },
        'latency-seconds': { type: 'string', default: '30' },
        'filter-cards': { type: 'string', default: '10000000' },
        processes: { type: 'string', default: '1,2,3' },
        startups: { type: 'string', default: '5' },
        'hunt-rates': { type: 'string', default: '5000,10000,20000,unlimited' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const log = (line: string) => process.stderr.write(`${line}\n`);
    process.env.LEAKWATCH_FINGERPRINT_KEYS ??= `bench:${Buffer.alloc(32, 1).toString('base64')}`;
    const config = loadCliEnv(process.env);
    const redis = createRedisClient(config.redis, {
      connectionName: 'leakwatch-bench',
      maxRetriesPerRequest: 3,
    });
    // hunt-isolation runs only when asked: it is long, and measures contention, not speed
    const want = (part: string) => !values.only || values.only === part;
    const cards = Number(values.cards);
    const redisEnv: Record<string, string> =
      config.redis.mode === 'cluster'
        ? { LEAKWATCH_REDIS_CLUSTER_NODES: config.redis.nodes.join(',') }
        : { LEAKWATCH_REDIS_URL: config.redis.url };
    const deleteKeys = async (prefix: string) => {
      if (config.redis.mode !== 'single') return;
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== '0');
    };
    const sections: string[] = [
      `# Leakwatch benchmark, ${new Date().toISOString()}`,
      '',
      describeMachine(),
      '',
    ];
    try {
      if (want('store')) {
        log(`== leak store: ${cards.toLocaleString('en-US')} cards`);
        const storeLog = { info: (o: unknown, m?: string) => log(`  ${m ?? JSON.stringify(o)}`) } as never;
        const r = await runLeakStoreBenchmark({ redis, cards, log: storeLog });
        // the monitor looks up one batch per input partition in flight: 4 at once is its shape
        const parallel = await runLeakStoreBenchmark({
          redis,
          cards: 100_000,
          log: storeLog,
          lookupConcurrency: 4,
        });
        sections.push(
          '## Leak store (Redis)',
          '',
          '| measure | figure | target |',
          '|---|---|---|',
          `| import (addCards, batches of 5,000) | ${Math.round(r.importCardsPerSecond).toLocaleString('en-US')} cards/s | ≥ 100,000 |`,
          `| Redis memory per watched card (${r.mode}, INFO used_memory delta) | ${r.bytesPerCard.toFixed(1)} bytes | ≤ 120 |`,
          `| batched lookup (500 per call, 1% hits) | ${Math.round(r.lookupsPerSecond).toLocaleString('en-US')} fingerprints/s | ≥ 500,000 |`,
          `| batched lookup, 4 calls in flight | ${Math.round(parallel.lookupsPerSecond).toLocaleString('en-US')} fingerprints/s | ≥ 500,000 |`,
          `| lookup call p50 / p99 (one in flight) | ${r.lookupBatchMsP50} / ${r.lookupBatchMsP99} ms | |`,
          `| round trips per lookup call | ${r.roundTripsPerLookup} | 1 |`,
          `| hits found / planted | ${r.lookupHitRatio} | 1 |`,
          '',
        );
      }
      if (want('import')) {
        const dir = join(tmpdir(), `leakwatch-bench-${process.pid}`);
        await mkdir(dir, { recursive: true });
        log(`== leaks import: writing ${cards.toLocaleString('en-US')} synthetic cards`);
        const files = await writeIncidentFiles({
          dir,
          incidentId: 'bench-import',
          count: cards,
          seed: 3,
          returnCards: false,
        });
        const prefix = `bench-import-${process.pid}:`;
        process.env.LEAKWATCH_REDIS_KEY_PREFIX = prefix;
        const summary = await importCards({
          manifestPath: files.manifestPath,
          cardsPath: files.cardsPath,
          dryRun: false,
          quiet: true,
          log,
        });
        const store = new LeakStore({ redis, keyPrefix: prefix });
        await store.start();
        await store.drop();
        await store.close();
        await rm(dir, { recursive: true, force: true });
        sections.push(
          '## leaks import (CSV → parse, Luhn, fingerprint, expiry tag → Redis)',
          '',
          `| measure | figure | target |`,
          '|---|---|---|',
          `| ${summary.rows.toLocaleString('en-US')} rows, end to end | ${Math.round(summary.rows / summary.seconds).toLocaleString('en-US')} cards/s (${summary.seconds.toFixed(1)} s) | ≥ 100,000 |`,
          '',
        );
      }
      if (want('monitor')) {
        log('== monitor');
        const r = await runMonitorBenchmark({
          kafka: config.kafka,
          registry: config.registry,
          redis,
          redisUrlEnv: redisEnv,
          messages: Number(values.messages),
          partitions: 6,
          watchedCards: 10_000,
          latencyRate: Number(values['latency-rate']),
          latencySeconds: Number(values['latency-seconds']),
          log,
        });
        sections.push(
          '## Monitor (one process, 6 input partitions, 1% of authorizations on watched cards)',
          '',
          '| measure | figure | target |',
          '|---|---|---|',
          `| sustained throughput (${r.messages.toLocaleString('en-US')} pre-produced, to committed offsets) | ${Math.round(r.monitorRate).toLocaleString('en-US')} authorizations/s | ≥ 65,000 |`,
          `| raw kafkajs consume of the same messages (ceiling) | ${Math.round(r.rawConsumeRate).toLocaleString('en-US')} messages/s | |`,
          `| monitor / ceiling | ${(r.monitorShareOfCeiling * 100).toFixed(0)}% | ≥ 30% |`,
          `| monitor CPU per authorization (its process, first to last commit; steadier than the rates on a busy machine) | ${r.monitorCpuMicrosPerAuthorization.toFixed(1)} µs | |`,
          `| retro-hunt (\`leakwatch hunt\`) over the same retained messages | ${Math.round(r.huntRate).toLocaleString('en-US')} authorizations/s | ≥ the monitor's |`,
          `| end-to-end latency at ${r.latencyRate}/s (achieved ${Math.round(r.latencyAchievedRate)}/s), produce → alert on the alerts topic, ${r.latencySamples} alerts after a 3 s warm-up | p50 ${r.latencyP50Ms} ms, p99 ${r.latencyP99Ms} ms, max ${r.latencyMaxMs} ms | p99 ≤ 50 ms |`,
          `| of which produce → alert built by the monitor (fetch, decode, lookup, rules) / alert built → read from the alerts topic (publish, fetch) | p99 ${r.toDetectedP99Ms} ms / p99 ${r.detectedToReceivedP99Ms} ms | |`,
          `| one Kafka hop under the same load, for reference (produce → a plain consumer of the input; the alert's path has two) | p50 ${r.kafkaHopP50Ms} ms, p99 ${r.kafkaHopP99Ms} ms | |`,
          `| the same, first 3 s (warm-up: JIT, connections, caches), ${r.warmUpSamples} alerts | p99 ${r.warmUpP99Ms} ms | |`,
          `| producing the input (for reference) | ${Math.round(r.produceRate).toLocaleString('en-US')}/s | |`,
          '',
        );
      }
      if (want('scale-out') || want('startup')) {
        const scaleOut = want('scale-out');
        log(scaleOut ? '== monitor scale-out and start-up' : '== monitor start-up');
        const r = await runScaleOutBenchmark({
          kafka: config.kafka,
          registry: config.registry,
          redis,
          redisUrlEnv: redisEnv,
          messages: Number(values.messages),
          partitions: 6,
          watchedCards: 10_000,
          processes: scaleOut ? values.processes.split(',').map(Number) : [],
          startups: Number(values.startups),
          log,
        });
        sections.push(...scaleOutSections(r));
      }
      if (want('dispatcher')) {
        log('== dispatcher');
        const r = await runDispatcherBenchmark({
          kafka: config.kafka,
          registry: config.registry,
          redisEnv,
          partners: 5,
          answerMs: 50,
          deliveries: Number(values.deliveries),
          latencyRate: Number(values['latency-rate']),
          latencySeconds: Number(values['latency-seconds']),
          concurrency: Number(values['dispatch-concurrency']),
          dispatchers: Number(values.dispatchers),
          deleteKeys,
          log,
        });
        sections.push(
          `## Dispatcher (${r.dispatchers === 1 ? 'one process' : `${r.dispatchers} processes, one group`}, ${r.partners} webhook partners answering in ${r.answerMs} ms, ${r.concurrency} requests in flight per partner)`,
          '',
          '| measure | figure | target |',
          '|---|---|---|',
          `| sustained webhook deliveries (${r.deliveries.toLocaleString('en-US')} alerts pre-produced, first to last 2xx) | ${Math.round(r.deliveriesPerSecond).toLocaleString('en-US')} deliveries/s | ≥ 5,000 |`,
          `| the same per CPU second of the dispatcher process${r.dispatchers === 1 ? '' : 'es'} (what one free core does; the machine is shared) | ${r.deliveriesPerCpuSecond === null ? 'n/a' : Math.round(r.deliveriesPerCpuSecond).toLocaleString('en-US')} deliveries/CPU-s | |`,
          `| alert produced → partner 2xx at ${r.latencyRate}/s (achieved ${Math.round(r.latencyAchievedRate)}/s), ${r.latencySamples} deliveries after a 3 s warm-up | p50 ${r.latencyP50Ms} ms, p99 ${r.latencyP99Ms} ms, max ${r.latencyMaxMs} ms | p99 ≤ 250 ms |`,
          `| the same, first 3 s (warm-up: JIT, connections, script caches), ${r.warmUpSamples} deliveries | p99 ${r.warmUpP99Ms} ms | |`,
          '',
        );
      }
      if (want('filter')) {
        const filterCards = Number(values['filter-cards']);
        log(`== watch filter: ${filterCards.toLocaleString('en-US')} cards`);
        const r = await runWatchFilterBenchmark({ redis, cards: filterCards, log });
        const n = (x: number) => Math.round(x).toLocaleString('en-US');
        sections.push(
          `## In-process watch filter (${n(r.cards)} watched cards, ${n(r.probes)} random clean probes)`,
          '',
          '| fingerprint bits | build time (wall / CPU) | bytes per card | false-positive rate (measured / 2^-bits) |',
          '|---|---|---|---|',
          ...r.builds.map(
            (b) =>
              `| ${b.bits} | ${b.buildSeconds.toFixed(2)} s / ${b.buildCpuSeconds.toFixed(2)} s | ${b.bytesPerCard.toFixed(3)} | ${b.falsePositiveRate.toExponential(2)} / ${(2 ** -b.bits).toExponential(2)} |`,
          ),
          '',
          '| measure | figure | target |',
          '|---|---|---|',
          `| monitor start-up: read ${n(r.logBytes / 1e6)} MB of watch logs from Redis and build the 16-bit filter (wall / CPU) | ${r.loadSeconds.toFixed(2)} s / ${r.loadCpuSeconds.toFixed(2)} s | ≤ 15 s |`,
          `| memory the loaded filter keeps per watched card (its cells) | ${r.heldBytesPerCard.toFixed(2)} bytes | |`,
          `| resident growth after the load / peak during it (transient: logs read, keys, build arrays) | ${n(r.rssGrowthMb)} MB / ${n(r.peakRssMb)} MB | |`,
          `| Redis commands (INFO commandstats) while ${n(r.cleanLookups)} clean fingerprints were looked up in batches of 500 | ${n(r.redisCommandsDuringCleanLookups)} (filter candidates: ${n(r.cleanCandidates)}; commands this process sent, watch-log polls included: ${n(r.storeCommandsDuringCleanLookups)}) | 0 |`,
          '',
        );
      }
      if (values.only === 'hunt-isolation') {
        log('== retro-hunt beside the live monitor');
        const r = await runHuntIsolationBenchmark({
          kafka: config.kafka,
          registry: config.registry,
          redis,
          redisUrlEnv: redisEnv,
          messages: Number(values.messages),
          partitions: 6,
          watchedCards: 10_000,
          huntRates: parseHuntRates(values['hunt-rates']),
          deleteKeys,
          log,
        });
        const rate = (n: number) => Math.round(n).toLocaleString('en-US');
        const best =
          r.bestWithin20 === undefined
            ? 'none of those tried'
            : r.bestWithin20 === null
              ? 'unthrottled'
              : `--max-rate ${r.bestWithin20}`;
        sections.push(
          `## Retro-hunt beside the live monitor (${r.messages.toLocaleString('en-US')} backlog, 6 partitions, 1% watched)`,
          '',
          '| hunt throttle | monitor alone | monitor beside the hunt | slowdown | hunt meanwhile | load (1 min) |',
          '|---|---|---|---|---|---|',
          ...r.rows.map(
            (row) =>
              `| ${row.huntMaxRate === null ? 'unthrottled' : `--max-rate ${row.huntMaxRate}`} | ${rate(row.monitorAlone)}/s | ${rate(row.monitorBeside)}/s | ${(row.slowdown * 100).toFixed(0)}% | ${rate(row.huntRate)}/s | ${row.load.toFixed(2)} |`,
          ),
          '',
          `Highest throttle with a slowdown ≤ 20% (target): ${best}.`,
          '',
        );
      }
    } finally {
      await redis.quit().catch(() => redis.disconnect());
    }
    const report = sections.join('\n');
    await mkdir('reports', { recursive: true });
    const file = join('reports', `bench-${new Date().toISOString().replaceAll(':', '-').slice(0, 19)}.md`);
    await writeFile(file, `${report}\n`);
    process.stdout.write(`${report}\nreport written to ${file}\n`);
    return 0;
  },
};

/** The report's scale-out and start-up tables. */
function scaleOutSections(r: Awaited<ReturnType<typeof runScaleOutBenchmark>>): string[] {
  const lines: string[] = [];
  if (r.runs.length > 0) {
    const groups = Object.keys(r.runs[0]?.cpu.cores ?? {});
    lines.push(
      `## Monitor scale-out (${r.messages.toLocaleString('en-US')} authorizations pre-produced, 6 partitions, 1% watched; one group per run)`,
      '',
      `| processes | authorizations/s | per monitor CPU-second | seconds | ${groups.map((g) => `${g} cores`).join(' | ')} | machine cores busy | load (1 min) |`,
      `|---|---|---|---|${groups.map(() => '---|').join('')}---|---|`,
      ...r.runs.map(
        (run) =>
          `| ${run.processes} | ${Math.round(run.rate).toLocaleString('en-US')} | ${Math.round(run.rate / (run.cpu.cores.monitors ?? Number.NaN)).toLocaleString('en-US')} | ${run.seconds.toFixed(1)} | ${groups
            .map((g) => (run.cpu.cores[g] ?? 0).toFixed(2))
            .join(
              ' | ',
            )} | ${run.cpu.machineCores.toFixed(2)} of ${run.cpu.machineCoresTotal.toFixed(1)} | ${run.load1.toFixed(2)} |`,
      ),
      '',
      'Cores: CPU seconds used during the run (from /proc, as pidstat) divided by its length.',
      '',
    );
  }
  if (r.startups.length > 0) {
    const sorted = r.startups.map((s) => s.launchToFirstBatchMs).sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] as number;
    const typical = r.startups.find((s) => s.launchToFirstBatchMs === median) ?? r.startups[0];
    lines.push(
      `## Monitor start-up (launch of \`node services/monitor/dist/main.js\` → first batch processed; running stack, fresh group, 1,000 authorizations waiting; ${r.startups.length} launches)`,
      '',
      '| measure | figure | target |',
      '|---|---|---|',
      `| launch (spawn) → "first batch processed" log line | median ${median} ms, max ${sorted.at(-1)} ms | ≤ 3,000 ms |`,
      `| the process's own figure (node start → first batch) | ${r.startups.map((s) => s.sinceProcessStartMs).join(', ')} ms | |`,
      `| CPU the process used by its first batch (start-up on an idle core costs at least this) | ${r.startups.map((s) => s.cpuSeconds.toFixed(2)).join(', ')} s | |`,
      '',
      'The median launch, milestone by milestone (ms after spawn, from the log lines):',
      '',
      '| milestone | ms |',
      '|---|---|',
      ...[...(typical?.milestones ?? [])]
        .sort((a, b) => a.ms - b.ms)
        .map((m) => `| ${m.msg} | ${Number.isNaN(m.ms) ? 'n/a' : m.ms} |`),
      '',
    );
  }
  return lines;
}

/** --hunt-rates: comma-separated throttles, each a number above 0 or `unlimited`. */
function parseHuntRates(value: string): Array<number | null> {
  return value.split(',').map((part) => {
    const text = part.trim();
    if (text === 'unlimited') return null;
    const rate = Number(text);
    if (!(rate > 0))
      throw new CliFailure(`--hunt-rates: "${text}" is not a number above 0 or "unlimited"`, 2);
    return rate;
  });
}
