import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKeyring } from '@leakwatch/card';
import type { MonitorHandle } from '@leakwatch/monitor-service';
import { generateCards } from '@leakwatch/simulator';
import { integrationTest as it } from '@leakwatch/testing';
import { describe, expect, vi } from 'vitest';
import {
  authorizationBuilder,
  createMonitorTopics,
  decodeAlerts,
  getOps,
  processedCounts,
  readToEnd,
  startInProcessMonitor,
  testManifest,
  waitUntilReady,
} from './support/monitor-harness.js';

/*
 * Key rotation (issue 7, defect 14): with keys k1 (current) and k2 both active, `leaks import`
 * stores every card under both, so an upstream that still (or already) fingerprints with k2
 * matches, expiry included. The built command imports; a monitor with the same keys judges.
 */

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI_MAIN = join(REPO_ROOT, 'services', 'cli', 'dist', 'main.js');
const WAIT = { timeout: 60_000, interval: 200 } as const;
const T0 = Date.UTC(2026, 4, 2, 3, 0, 0);
const authorization = authorizationBuilder(T0, {
  id: 'm-grocer-jp',
  name: 'Grocer Shibuya',
  mcc: '5411',
  country: 'JP',
});

function runLeaks(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith('LEAKWATCH_')) childEnv[name] = value;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, 'leaks', ...args], {
      cwd: REPO_ROOT,
      env: { ...childEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('leaks import during a key rotation', () => {
  it('imports under every active key: a fingerprint under k2 matches, expiry included', async ({
    endpoints,
    kafka,
    admin,
    createTopics,
    redisPrefix,
    groupId,
    testId,
  }) => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    const fingerprintKeys = `k1:${k1.toString('base64')},k2:${k2.toString('base64')}`;
    const keyring = createKeyring([
      { keyId: 'k1', key: k1 },
      { keyId: 'k2', key: k2 },
    ]);
    const [a, b, c, clean] = generateCards({ count: 4, seed: `rotation-${testId}` }).map((card) => card.pan);
    const dir = await mkdtemp(join(tmpdir(), 'leakwatch-rotation-'));
    let handle: MonitorHandle | undefined;
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    try {
      const incidentId = `inc-${testId}`.slice(0, 64);
      await writeFile(join(dir, 'manifest.json'), JSON.stringify(testManifest(incidentId)));
      await writeFile(join(dir, 'cards.csv'), `pan,expiry\n${a},12/28\n${b},01/29\n${c},02/30\n`);
      const imported = await runLeaks(
        ['import', '--incident', join(dir, 'manifest.json'), join(dir, 'cards.csv')],
        {
          LEAKWATCH_REDIS_URL: endpoints.redisUrl,
          LEAKWATCH_REDIS_KEY_PREFIX: redisPrefix,
          LEAKWATCH_FINGERPRINT_KEYS: fingerprintKeys,
        },
      );
      expect(imported.code, imported.out).toBe(0);
      expect(imported.out).toMatch(/loaded:\s+3 cards/);
      expect(imported.out).toContain('k2 active too: 3 entries written under them');

      const topics = await createMonitorTopics(createTopics);
      handle = await startInProcessMonitor({ endpoints, topics, groupId, redisPrefix, fingerprintKeys });
      const port = handle.httpPort;
      await waitUntilReady(port, WAIT);
      const byKey = (pan: string, keyId: 'k1' | 'k2', expiry: string) => ({
        pan: null,
        fingerprint: keyring.fingerprintAll(pan).find((f) => f.keyId === keyId)?.fingerprint ?? '',
        keyId,
        bin: pan.slice(0, 6),
        last4: pan.slice(-4),
        expiry,
      });
      const events = [
        authorization(`evt-${testId}-a-k2`, 0, byKey(a as string, 'k2', '2028-12')), // leaked expiry
        authorization(`evt-${testId}-b-k1`, 1, byKey(b as string, 'k1', '2029-01')),
        authorization(`evt-${testId}-c-k2`, 2, byKey(c as string, 'k2', '2031-05')), // other expiry
        authorization(`evt-${testId}-clean-k2`, 3, byKey(clean as string, 'k2', '2030-01')),
        authorization(`evt-${testId}-a-pan`, 4, {
          pan: a,
          fingerprint: null,
          keyId: null,
          bin: null,
          last4: null,
          expiry: '2028-12',
        }),
      ];
      await producer.connect();
      await producer.send({
        topic: topics.authorizations,
        acks: -1,
        messages: events.map((event) => ({ key: 'one', value: Buffer.from(JSON.stringify(event)) })),
      });
      await vi.waitFor(
        async () => expect(processedCounts((await getOps(port, '/metrics')).body).total).toBe(events.length),
        WAIT,
      );
      const alerts = await decodeAlerts(
        endpoints.schemaRegistryUrl,
        await readToEnd(kafka, admin, topics.alerts),
      );
      const byEvent = new Map(alerts.map(({ alert }) => [alert.eventId, alert]));
      expect([...byEvent.keys()].sort()).toEqual(
        [`evt-${testId}-a-k2`, `evt-${testId}-b-k1`, `evt-${testId}-c-k2`, `evt-${testId}-a-pan`].sort(),
      );
      expect(byEvent.get(`evt-${testId}-a-k2`)?.card.expiryMatchesLeak).toBe(true);
      expect(byEvent.get(`evt-${testId}-a-k2`)?.card.keyId).toBe('k2');
      expect(byEvent.get(`evt-${testId}-c-k2`)?.card.expiryMatchesLeak).toBe(false);
      // a PAN is looked up under both keys: still one incident on its alert, not two
      expect(byEvent.get(`evt-${testId}-a-pan`)?.incidents.map((i) => i.incidentId)).toEqual([incidentId]);
      expect(byEvent.get(`evt-${testId}-a-pan`)?.card.expiryMatchesLeak).toBe(true);
    } finally {
      await producer.disconnect();
      await handle?.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
