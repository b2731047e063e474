import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { LeakwatchError } from '@leakwatch/errors';
import { kafkaService } from './kafka.js';
import type { Log } from './maven.js';
import { checkPrerequisites } from './prerequisites.js';
import { identityOf, sameProcess, type RecordedProcess } from './identity.js';
import { portFree, stopProcess, waitUntil } from './process.js';
import { prometheusService, type PrometheusSettings } from './prometheus.js';
import { redisClusterService, redisService } from './redis.js';
import { registryService } from './registry.js';
import type { ServiceContext, ServiceDefinition, ServiceName, StackPorts } from './service.js';
import { DEFAULT_PORTS } from './versions.js';

const SERVICES: readonly ServiceDefinition[] = [
  redisService,
  redisClusterService,
  kafkaService,
  registryService,
  prometheusService,
];

/** Endpoints of a running stack, as tests and services use them. */
export interface StackEndpoints {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  redisUrl: string;
  redisClusterNodes?: string[] | undefined;
}

export interface StackOptions {
  /** Cache folder for downloads, data, logs and state. */
  dir?: string;
  ports?: Partial<StackPorts>;
  /** Also run a 3-master Redis Cluster (tests of the leak store on Cluster need it). */
  redisCluster?: boolean;
  /** Limit to these services (default: all that apply). */
  only?: readonly ServiceName[];
  /** Optional services to add: 'prometheus' (Debian's, scraping Leakwatch, loading the rules). */
  with?: readonly 'prometheus'[];
  /** Targets and rules of the local Prometheus. */
  prometheus?: PrometheusSettings;
  log?: Log;
}

interface ServiceState {
  pids: number[];
  /** Start time (at launch) and full command line (once ready) of each pid, to tell ours from a reused pid. */
  processes?: RecordedProcess[];
  ports: number[];
  startedAt: string;
}

interface StackState {
  ports: StackPorts;
  services: Partial<Record<ServiceName, ServiceState>>;
}

export interface StackUpResult {
  endpoints: StackEndpoints;
  /** LEAKWATCH_* lines for a shell or a .env file. */
  env: Record<string, string>;
  started: ServiceName[];
  alreadyRunning: ServiceName[];
  /** Milliseconds from launch to ready, per service started now. */
  readyMs: Partial<Record<ServiceName, number>>;
}

export interface ServiceStatus {
  name: ServiceName;
  state: 'running' | 'starting-or-unhealthy' | 'stopped';
  pids: number[];
  endpoint: string;
  logFile: string;
}

/** The cache folder: LEAKWATCH_STACK_DIR, else .cache/stack in the repository, else ~/.cache. */
export function defaultStackDir(cwd = process.cwd()): string {
  if (process.env.LEAKWATCH_STACK_DIR) return resolve(process.env.LEAKWATCH_STACK_DIR);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return join(dir, '.cache', 'stack');
    if (dirname(dir) === dir) return join(homedir(), '.cache', 'leakwatch', 'stack');
  }
}

/** Ports from LEAKWATCH_STACK_*_PORT variables, falling back to the defaults. */
export function portsFromEnv(env: NodeJS.ProcessEnv): Partial<StackPorts> {
  const names: Record<keyof StackPorts, string> = {
    kafka: 'LEAKWATCH_STACK_KAFKA_PORT',
    kafkaController: 'LEAKWATCH_STACK_KAFKA_CONTROLLER_PORT',
    registry: 'LEAKWATCH_STACK_REGISTRY_PORT',
    redis: 'LEAKWATCH_STACK_REDIS_PORT',
    redisCluster: 'LEAKWATCH_STACK_REDIS_CLUSTER_PORT',
    prometheus: 'LEAKWATCH_STACK_PROMETHEUS_PORT',
  };
  const ports: Partial<StackPorts> = {};
  const problems: string[] = [];
  for (const [key, variable] of Object.entries(names) as Array<[keyof StackPorts, string]>) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    const port = Number(value);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      problems.push(`${variable}: "${value}" is not a port`);
    else ports[key] = port;
  }
  if (problems.length > 0)
    throw new LeakwatchError('CONFIG_INVALID', `invalid stack ports:\n  - ${problems.join('\n  - ')}`);
  return ports;
}

function resolvePorts(options: StackOptions, state?: StackState): StackPorts {
  return { ...DEFAULT_PORTS, ...state?.ports, ...options.ports };
}

async function readState(dir: string): Promise<StackState | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as StackState;
  } catch {
    return undefined;
  }
}

async function writeState(dir: string, state: StackState): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'state.json');
  await writeFile(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}

/** The processes a state entry names, with what was recorded of each. */
function recordsOf(known: ServiceState): RecordedProcess[] {
  return known.pids.map((pid) => known.processes?.find((p) => p.pid === pid) ?? { pid });
}

/**
 * A process from our state file is still ours: same start time and full command line as
 * recorded, so a pid reused by someone else's process is never signalled.
 */
async function ours(
  record: RecordedProcess,
  service: ServiceDefinition,
  dir: string,
  ports: StackPorts,
): Promise<boolean> {
  return sameProcess(record, {
    program: service.command ?? (service.needsJava ? 'java' : 'redis-server'),
    ports: service.ports(ports),
    dir,
  });
}

async function allOurs(
  known: ServiceState | undefined,
  service: ServiceDefinition,
  dir: string,
  ports: StackPorts,
): Promise<boolean> {
  if (!known || known.pids.length === 0) return false;
  return (await Promise.all(recordsOf(known).map((r) => ours(r, service, dir, ports)))).every(Boolean);
}

/** Start time of each pid, read right after launch. */
async function launchRecords(pids: readonly number[]): Promise<RecordedProcess[]> {
  return Promise.all(pids.map(async (pid) => ({ pid, startTime: (await identityOf(pid))?.startTime })));
}

/** Adds the command line, read once ready (a process may rename itself while starting). */
async function readyRecords(records: readonly RecordedProcess[]): Promise<RecordedProcess[]> {
  return Promise.all(
    records.map(async (record) => {
      const now = await identityOf(record.pid);
      if (!now || (record.startTime !== undefined && now.startTime !== record.startTime)) return record;
      return { pid: record.pid, startTime: now.startTime, cmdline: now.cmdline };
    }),
  );
}

function selected(options: StackOptions): ServiceDefinition[] {
  return SERVICES.filter((s) => {
    if (options.only) return options.only.includes(s.name);
    if (s.name === 'prometheus') return options.with?.includes('prometheus') === true;
    return s.name !== 'redis-cluster' || options.redisCluster === true;
  });
}

function endpointsOf(ports: StackPorts, withCluster: boolean): StackEndpoints {
  return {
    kafkaBrokers: [`127.0.0.1:${ports.kafka}`],
    schemaRegistryUrl: `http://127.0.0.1:${ports.registry}/apis/ccompat/v7`,
    redisUrl: `redis://127.0.0.1:${ports.redis}`,
    redisClusterNodes: withCluster ? [0, 1, 2].map((i) => `127.0.0.1:${ports.redisCluster + i}`) : undefined,
  };
}

/**
 * Starts what is not running yet and waits until each service really answers. Running it
 * twice is harmless: a service already up (and ours) is left as it is.
 */
export async function stackUp(options: StackOptions = {}): Promise<StackUpResult> {
  const log = options.log ?? (() => undefined);
  const dir = options.dir ?? defaultStackDir();
  const previous = await readState(dir);
  const ports = resolvePorts(options, previous);
  const state: StackState = { ports, services: { ...previous?.services } };
  const services = selected(options);
  const prerequisites = await checkPrerequisites({
    java: services.some((s) => s.needsJava),
    redis: services.some((s) => s.name === 'redis' || s.name === 'redis-cluster'),
    prometheus: services.some((s) => s.name === 'prometheus'),
  });
  const context: ServiceContext = {
    dir,
    ports,
    java: prerequisites.java,
    log,
    prometheus: options.prometheus,
  };

  const alreadyRunning: ServiceName[] = [];
  const toStart: ServiceDefinition[] = [];
  for (const service of services) {
    const known = state.services[service.name];
    if (await allOurs(known, service, dir, ports)) {
      alreadyRunning.push(service.name);
      continue;
    }
    // half alive (one cluster node died, say): stop what is left so its ports come free
    for (const record of known ? recordsOf(known) : [])
      if (await ours(record, service, dir, ports)) await stopProcess(record.pid, 5000);
    delete state.services[service.name];
    toStart.push(service);
  }

  // every taken port is named at once, before anything is started
  const taken: string[] = [];
  for (const service of toStart) {
    for (const port of service.ports(ports)) {
      if (!(await portFree(port))) taken.push(`${port} (${service.name})`);
    }
  }
  if (taken.length > 0) {
    throw new LeakwatchError(
      'PORT_IN_USE',
      `port${taken.length > 1 ? 's' : ''} already in use: ${taken.join(', ')}. ` +
        'Stop what holds it, or choose other ports with LEAKWATCH_STACK_KAFKA_PORT, LEAKWATCH_STACK_KAFKA_CONTROLLER_PORT, ' +
        'LEAKWATCH_STACK_REGISTRY_PORT, LEAKWATCH_STACK_REDIS_PORT, LEAKWATCH_STACK_REDIS_CLUSTER_PORT, ' +
        'LEAKWATCH_STACK_PROMETHEUS_PORT.',
      { details: { ports: taken } },
    );
  }

  for (const service of toStart) await service.install(context);

  const readyMs: Partial<Record<ServiceName, number>> = {};
  const launched: Array<{ service: ServiceDefinition; pids: number[]; at: number }> = [];
  try {
    for (const service of toStart) {
      log(`${service.name}: starting`);
      const at = Date.now();
      const pids = await service.start(context);
      launched.push({ service, pids, at });
      state.services[service.name] = {
        pids,
        processes: await launchRecords(pids),
        ports: service.ports(ports),
        startedAt: new Date().toISOString(),
      };
      await writeState(dir, state);
    }
    await Promise.all(
      launched.map(async ({ service, pids, at }) => {
        await waitUntil(() => service.ready(context), {
          what: service.name,
          timeoutMs: service.startTimeoutMs,
          pid: pids[0],
          logFile: service.logFile(dir),
        });
        readyMs[service.name] = Date.now() - at;
        log(
          `${service.name}: ready in ${((Date.now() - at) / 1000).toFixed(1)} s — ${service.describe(ports)}`,
        );
      }),
    );
  } catch (error) {
    // leave nothing half-started behind
    for (const { service, pids } of launched) {
      for (const pid of pids) await stopProcess(pid, 5000);
      delete state.services[service.name];
    }
    await writeState(dir, state);
    throw error;
  }
  for (const { service } of launched) {
    const entry = state.services[service.name];
    if (entry) entry.processes = await readyRecords(recordsOf(entry));
  }
  await writeState(dir, state);

  const withCluster = state.services['redis-cluster'] !== undefined;
  const env: Record<string, string> = {};
  for (const service of SERVICES) {
    if (state.services[service.name]) Object.assign(env, service.endpoints(ports));
  }
  return {
    endpoints: endpointsOf(ports, withCluster),
    env,
    started: toStart.map((s) => s.name),
    alreadyRunning,
    readyMs,
  };
}

/** Stops what `stackUp` started (never anything else), in reverse order. */
export async function stackDown(options: StackOptions = {}): Promise<ServiceName[]> {
  const log = options.log ?? (() => undefined);
  const dir = options.dir ?? defaultStackDir();
  const state = await readState(dir);
  if (!state) return [];
  const ports = resolvePorts(options, state);
  const stopped: ServiceName[] = [];
  for (const service of [...SERVICES].reverse()) {
    if (options.only && !options.only.includes(service.name)) continue;
    const known = state.services[service.name];
    if (!known) continue;
    for (const record of recordsOf(known)) {
      if (await ours(record, service, dir, ports)) {
        const how = await stopProcess(record.pid);
        log(`${service.name}: ${how} (pid ${record.pid})`);
      } else {
        log(`${service.name}: pid ${record.pid} is no longer ours (gone, or reused); left alone`);
      }
    }
    delete state.services[service.name];
    stopped.push(service.name);
  }
  await writeState(dir, state);
  return stopped;
}

/** What runs where, and whether it answers. */
export async function stackStatus(options: StackOptions = {}): Promise<ServiceStatus[]> {
  const dir = options.dir ?? defaultStackDir();
  const state = await readState(dir);
  const ports = resolvePorts(options, state);
  const context: ServiceContext = { dir, ports, java: 'java', log: () => undefined };
  const result: ServiceStatus[] = [];
  for (const service of SERVICES) {
    const known = state?.services[service.name];
    const alive = await allOurs(known, service, dir, ports);
    const answering = alive && (await service.ready(context));
    result.push({
      name: service.name,
      state: !alive ? 'stopped' : answering ? 'running' : 'starting-or-unhealthy',
      pids: alive ? (known?.pids ?? []) : [],
      endpoint: service.describe(ports),
      logFile: service.logFile(dir),
    });
  }
  return result;
}
