import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run, spawnDetached, waitUntil } from './process.js';
import { redisCommand, redisPings } from './redis-probe.js';
import type { ServiceDefinition, StackPorts } from './service.js';

/**
 * Memory settings Leakwatch's leak store is sized for (bucketed hashes kept in listpack
 * encoding). Production Redis should set the same; see docs/operations.md.
 */
export const REDIS_TUNING = [
  '--hash-max-listpack-entries',
  '512',
  '--hash-max-listpack-value',
  '64',
] as const;

function redisArgs(port: number, dir: string, extra: readonly string[] = []): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'yes',
    ...REDIS_TUNING,
    ...extra,
  ];
}

export const redisService: ServiceDefinition = {
  name: 'redis',
  ports: (ports) => [ports.redis],
  needsJava: false,
  logFile: (dir) => join(dir, 'redis', 'redis.log'),
  async install() {},
  async start({ dir, ports }) {
    const home = join(dir, 'redis');
    await mkdir(home, { recursive: true });
    return [
      spawnDetached('redis-server', redisArgs(ports.redis, home), { logFile: join(home, 'redis.log') }),
    ];
  },
  ready: async ({ ports }) => redisPings(ports.redis),
  endpoints: (ports) => ({ LEAKWATCH_REDIS_URL: `redis://127.0.0.1:${ports.redis}` }),
  describe: (ports) => `redis://127.0.0.1:${ports.redis}`,
  startTimeoutMs: 20_000,
};

function clusterPorts(ports: StackPorts): number[] {
  return [ports.redisCluster, ports.redisCluster + 1, ports.redisCluster + 2];
}

async function clusterOk(port: number): Promise<boolean> {
  const info = await redisCommand(port, 'CLUSTER INFO').catch(() => '');
  return info.includes('cluster_state:ok');
}

/** A 3-master Redis Cluster (no replicas), to prove the leak store works on Cluster. */
export const redisClusterService: ServiceDefinition = {
  name: 'redis-cluster',
  // each node also listens on its cluster bus port, 10000 above its own
  ports: (ports) => [...clusterPorts(ports), ...clusterPorts(ports).map((p) => p + 10_000)],
  needsJava: false,
  logFile: (dir) => join(dir, 'redis-cluster', `node-0.log`),
  async install() {},
  async start({ dir, ports, log }) {
    const home = join(dir, 'redis-cluster');
    // a cluster is rebuilt from scratch on every start: it holds nothing worth keeping
    await rm(home, { recursive: true, force: true });
    const pids: number[] = [];
    for (const [index, port] of clusterPorts(ports).entries()) {
      const nodeDir = join(home, `node-${index}`);
      await mkdir(nodeDir, { recursive: true });
      pids.push(
        spawnDetached(
          'redis-server',
          redisArgs(port, nodeDir, [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '5000',
          ]),
          { logFile: join(home, `node-${index}.log`) },
        ),
      );
    }
    for (const [index, port] of clusterPorts(ports).entries()) {
      await waitUntil(() => redisPings(port), {
        what: `redis-cluster node ${port}`,
        timeoutMs: 20_000,
        pid: pids[index],
        logFile: join(home, `node-${index}.log`),
      });
    }
    log('redis-cluster: creating a 3-master cluster');
    await run('redis-cli', [
      '--cluster',
      'create',
      ...clusterPorts(ports).map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    return pids;
  },
  async ready({ ports }) {
    for (const port of clusterPorts(ports)) if (!(await clusterOk(port))) return false;
    return true;
  },
  endpoints: (ports) => ({
    LEAKWATCH_TEST_REDIS_CLUSTER_NODES: clusterPorts(ports)
      .map((p) => `127.0.0.1:${p}`)
      .join(','),
  }),
  describe: (ports) =>
    `3 masters on ${clusterPorts(ports)
      .map((p) => `127.0.0.1:${p}`)
      .join(', ')}`,
  startTimeoutMs: 30_000,
};
