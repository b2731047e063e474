import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisClient } from './index.js';

/*
 * Redis Cluster nodes behind ACLs (issue 7, defect 15): a one-node cluster of our own (all 16384
 * slots on one redis-server, the default user off), so the shared stack is left alone.
 */
const PORT = 27461; // "runtime" helper's own port range
const USER = 'leakwatch';
const PASSWORD = 'cluster-pass-27461';

let dir: string;
let server: ChildProcess | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-cluster-auth-'));
  await writeFile(join(dir, 'users.acl'), `user default off\nuser ${USER} on >${PASSWORD} ~* &* +@all\n`);
  server = spawn(
    'redis-server',
    [
      '--port',
      String(PORT),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--cluster-announce-ip',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
      '--aclfile',
      join(dir, 'users.acl'),
      '--dir',
      dir,
    ],
    { stdio: 'ignore' },
  );
  // a fresh client per attempt until redis-server listens
  const admin = await vi.waitFor(
    async () => {
      const client = new Redis({
        host: '127.0.0.1',
        port: PORT,
        username: USER,
        password: PASSWORD,
        lazyConnect: true,
        retryStrategy: () => null,
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        return client;
      } catch (error) {
        client.disconnect();
        throw error;
      }
    },
    { timeout: 10_000, interval: 100 },
  );
  await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
  await vi.waitFor(async () => expect(await admin.call('CLUSTER', 'INFO')).toContain('cluster_state:ok'), {
    timeout: 10_000,
    interval: 100,
  });
  admin.disconnect();
});

afterAll(async () => {
  server?.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

const nodes = [`127.0.0.1:${PORT}`];

describe('Redis Cluster with a user and password', () => {
  it('connects with LEAKWATCH_REDIS_CLUSTER_USERNAME / _PASSWORD settings', async () => {
    const client = createRedisClient(
      { mode: 'cluster', nodes, tls: false, keyPrefix: 't:', username: USER, password: PASSWORD },
      { connectionName: 'cluster-auth-test' },
    );
    try {
      await client.set('t:{a}', '1');
      expect(await client.get('t:{a}')).toBe('1');
    } finally {
      client.disconnect();
    }
  });

  it('the node refuses a client without them (what the settings are for)', async () => {
    const client = new Redis({
      host: '127.0.0.1',
      port: PORT,
      lazyConnect: true,
      enableReadyCheck: false,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await expect(client.get('t:{a}')).rejects.toThrow(/NOAUTH/);
    } finally {
      client.disconnect();
    }
  });
});
