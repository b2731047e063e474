import { parseArgs } from 'node:util';
import { LeakwatchError } from '@leakwatch/errors';
import {
  portsFromEnv,
  scrapeTargetsFromEnv,
  stackDown,
  stackStatus,
  stackUp,
  type ServiceName,
  type StackOptions,
} from '@leakwatch/local-stack';
import type { CommandHandler } from './command.js';

const HELP = `Usage: leakwatch stack <up|down|status> [options]

Runs real Kafka (KRaft), Apicurio Registry (Confluent-compatible API) and Redis as local
processes, from Maven Central and Debian's redis-server. The first "up" downloads about 150 MB.

Options:
  --redis-cluster   also run a 3-master Redis Cluster (ports 17000-17002)
  --with prometheus also run Debian's Prometheus on 127.0.0.1:19090, scraping the Leakwatch
                    services (monitor 9464, dispatcher 9465, console 9466, hunt 9467; or
                    LEAKWATCH_STACK_SCRAPE_TARGETS="job=host:port,...;job2=...") and loading
                    the alerting rules of deploy/prometheus/rules
  --env             (up) print only export lines, for: eval "$(pnpm -s leakwatch stack up --env)";
                    LEAKWATCH_STACK_STARTED names what this call started
  --only <a,b>      only these services: redis, redis-cluster, kafka, registry, prometheus
  --dir <path>      cache folder (default .cache/stack; or LEAKWATCH_STACK_DIR)
  -h, --help

Ports: LEAKWATCH_STACK_KAFKA_PORT (19092), LEAKWATCH_STACK_KAFKA_CONTROLLER_PORT (19093),
LEAKWATCH_STACK_REGISTRY_PORT (18081), LEAKWATCH_STACK_REDIS_PORT (16379),
LEAKWATCH_STACK_REDIS_CLUSTER_PORT (17000), LEAKWATCH_STACK_PROMETHEUS_PORT (19090).
`;

const SERVICE_NAMES: readonly ServiceName[] = ['redis', 'redis-cluster', 'kafka', 'registry', 'prometheus'];
const OPTIONAL_SERVICES = ['prometheus'] as const;

function parseWith(value: string): (typeof OPTIONAL_SERVICES)[number][] {
  const names = value
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(OPTIONAL_SERVICES as readonly string[]).includes(n));
  if (unknown.length > 0)
    throw new LeakwatchError(
      'USAGE',
      `unknown service(s) for --with: ${unknown.join(', ')} (try prometheus)`,
    );
  return names as (typeof OPTIONAL_SERVICES)[number][];
}

function parseOnly(value: string): ServiceName[] {
  const names = value
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !SERVICE_NAMES.includes(n as ServiceName));
  if (unknown.length > 0)
    throw new LeakwatchError('USAGE', `unknown service(s) for --only: ${unknown.join(', ')}`);
  return names as ServiceName[];
}

export const stackCommand: CommandHandler = {
  async run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        'redis-cluster': { type: 'boolean', default: false },
        env: { type: 'boolean', default: false },
        only: { type: 'string' },
        with: { type: 'string' },
        dir: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const action = positionals[0];
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const options: StackOptions = {
      ports: portsFromEnv(process.env),
      redisCluster: values['redis-cluster'],
      log,
      ...(values.dir ? { dir: values.dir } : {}),
      ...(values.only ? { only: parseOnly(values.only) } : {}),
      ...(values.with ? { with: parseWith(values.with) } : {}),
    };
    const targets = scrapeTargetsFromEnv(process.env.LEAKWATCH_STACK_SCRAPE_TARGETS);
    if (targets) options.prometheus = { targets };
    switch (action) {
      case 'up': {
        const started = Date.now();
        const result = await stackUp(options);
        const lines = Object.entries(result.env).map(([key, value]) => `${key}=${value}`);
        if (values.env) {
          lines.push(`LEAKWATCH_STACK_STARTED=${result.started.join(',')}`);
          process.stdout.write(`${lines.map((l) => `export ${l}`).join('\n')}\n`);
          return 0;
        }
        if (result.alreadyRunning.length > 0) log(`already running: ${result.alreadyRunning.join(', ')}`);
        if (result.started.length > 0)
          log(`started ${result.started.join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        process.stdout.write(`${lines.join('\n')}\n`);
        return 0;
      }
      case 'down': {
        const stopped = await stackDown(options);
        log(stopped.length > 0 ? `stopped ${stopped.join(', ')}` : 'nothing was running');
        return 0;
      }
      case 'status': {
        const statuses = await stackStatus(options);
        const width = Math.max(...statuses.map((s) => s.name.length));
        for (const s of statuses) {
          const pids = s.pids.length > 0 ? ` pid ${s.pids.join(',')}` : '';
          process.stdout.write(`${s.name.padEnd(width)}  ${s.state.padEnd(21)} ${s.endpoint}${pids}\n`);
        }
        return statuses.some((s) => s.state === 'starting-or-unhealthy') ? 1 : 0;
      }
      default:
        throw new LeakwatchError('USAGE', `stack needs up, down or status\n\n${HELP}`);
    }
  },
};
