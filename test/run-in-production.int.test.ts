import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  cardAuthorizationAvro,
  createSchemaRegistry,
  ensureSchemaRegistered,
  valueSubject,
} from '@leakwatch/contracts';
import { integrationTest as it } from '@leakwatch/testing';
import { describe, expect, vi } from 'vitest';
import {
  committedCount,
  getOps,
  monitorEnv,
  processedCounts,
  waitUntilReady,
  watchedIncident,
} from './support/monitor-harness.js';
import { produceEvents, simulatedValue, trafficFor } from './support/traffic.js';

/*
 * README "Run in production": SIGTERM to exactly the command the README gives drains, commits,
 * exits 0, releases the HTTP port and leaves no process behind. The development command
 * (`pnpm leakwatch monitor`) must not leave an orphan either: pnpm forwards the signal to its
 * child only when the script execs node.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WAIT = { timeout: 60_000, interval: 200 } as const;

/** The pids below `pid`, from /proc (Linux). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* gone meanwhile */
    }
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const child of children.get(p) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

/** Alive = has a /proc entry that is not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

const COMMANDS: Array<{ name: string; command: string; args: string[] }> = [
  {
    name: 'production: node services/monitor/dist/main.js',
    command: process.execPath,
    args: ['--max-semi-space-size=64', 'services/monitor/dist/main.js'],
  },
  { name: 'development: pnpm leakwatch monitor', command: 'pnpm', args: ['-s', 'leakwatch', 'monitor'] },
];

describe('README "Run in production": SIGTERM to the documented command', () => {
  for (const { name, command, args } of COMMANDS) {
    it(`${name} drains, commits, exits 0, frees its port and leaves no process`, async ({
      endpoints,
      kafka,
      admin,
      createTopics,
      redis,
      redisPrefix,
      groupId,
      testId,
    }) => {
      expect(existsSync(`${ROOT}services/monitor/dist/main.js`), 'build first (pnpm build)').toBe(true);
      const { topics, fingerprintKeys, keyring, watchedCards } = await watchedIncident({
        createTopics,
        redis,
        redisPrefix,
        testId,
      });
      const schemaId = await ensureSchemaRegistered(
        createSchemaRegistry({ url: endpoints.schemaRegistryUrl }),
        cardAuthorizationAvro,
        valueSubject(topics.authorizations),
      );
      const { generator, encodeAvro } = trafficFor({ seed: testId, keyring, watchedCards, schemaId });
      const events = generator.nextBatch(300);
      const env = monitorEnv({
        endpoints,
        topics,
        groupId,
        redisPrefix,
        fingerprintKeys,
        extra: { LEAKWATCH_LOG_LEVEL: 'info' },
      });
      const child = spawn(command, args, {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const lines: string[] = [];
      let port: number | undefined;
      const onData = (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) {
          lines.push(line);
          if (line.includes('serving /metrics')) {
            try {
              port = (JSON.parse(line) as { port?: number }).port;
            } catch {
              /* not JSON */
            }
          }
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      let tree: number[] = [];
      try {
        const httpPort = await vi.waitFor(() => {
          expect(child.exitCode, lines.slice(-20).join('\n')).toBeNull();
          expect(port).toBeTypeOf('number');
          return port as number;
        }, WAIT);
        await waitUntilReady(httpPort, WAIT);
        await producer.connect();
        await produceEvents(producer, topics.authorizations, events, simulatedValue(encodeAvro));
        await vi.waitFor(async () => {
          const metrics = (await getOps(httpPort, '/metrics')).body;
          expect(processedCounts(metrics).total).toBe(events.length);
        }, WAIT);

        tree = [child.pid as number, ...descendants(child.pid as number)];
        expect(tree.length, 'the monitor runs (pnpm has node below it)').toBeGreaterThanOrEqual(1);
        child.kill('SIGTERM');
        const exit = await exited;
        expect(exit, lines.slice(-20).join('\n')).toEqual({ code: 0, signal: null });
        expect(lines.join('\n')).toContain('"msg":"stopped"');
        await vi.waitFor(() => expect(tree.filter(alive), 'processes left behind').toEqual([]), {
          timeout: 5000,
          interval: 100,
        });
        expect(await portFree(httpPort), `port ${httpPort} released`).toBe(true);
        expect(await committedCount(admin, groupId, topics.authorizations)).toBe(events.length);
      } finally {
        await producer.disconnect();
        // a failed run must not leave its orphan running into the next tests
        for (const pid of tree.filter(alive)) process.kill(pid, 'SIGKILL');
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });
  }
});
