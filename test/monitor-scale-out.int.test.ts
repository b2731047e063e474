import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cardAuthorizationAvro,
  createSchemaRegistry,
  ensureSchemaRegistered,
  valueSubject,
  type SuspiciousChargeAlert,
} from '@leakwatch/contracts';
import type { MonitorHandle } from '@leakwatch/monitor-service';
import type { SimulatedEvent } from '@leakwatch/simulator';
import { integrationTest as it } from '@leakwatch/testing';
import { beforeAll, describe, expect, vi } from 'vitest';
import {
  committedCount,
  decodeAlerts,
  getOps,
  freshFingerprintKey,
  importIncident,
  processedCounts,
  readToEnd,
  startInProcessMonitor,
  testManifest,
  monitorEnv,
  waitUntilReady,
  type MonitorTopicNames,
} from './support/monitor-harness.js';
import { waitForStableGroup } from './support/consumer-group.js';
import { buildCli, spawnMonitor, type MonitorProcess } from './support/monitor-process.js';
import {
  expectAlertsExactlyFor,
  produceEvents,
  simulatedValue,
  trafficFor,
  watchedCardsFor,
  watchedEventIds,
} from './support/traffic.js';

/*
 * Issue 11, "Scale-out, proven": three monitor processes (`leakwatch monitor`, as operators run
 * it) share one consumer group over a 6-partition input topic; one is SIGKILLed mid-stream and a
 * fourth joins later. The alerts they write, as a set, must equal those of a single monitor that
 * reads the same input in its own group (with its own Redis key prefix, so the two share no card
 * history), content for content; a redelivered authorization may alert again, under the same
 * alertId and with the same content.
 *
 * The two runs use the built-in rules without VELOCITY and CARD_TESTING. Those count the card's
 * authorizations recorded so far, and the simulated upstream keys by event or merchant (as
 * upstreams may), so one card's authorizations sit on several partitions and the count an
 * authorization sees depends on how far the other partitions got: not the same from run to run
 * even for one monitor, so not comparable. Everything else an alert says must be equal.
 *
 * The session timeout is the broker's minimum (6 s) so the dead member's partitions move on
 * quickly; every wait is on a condition, none on a clock.
 */

const WAIT = { timeout: 60_000, interval: 200 } as const;
const PARTITIONS = 6;

/** An alert without what depends on when it was raised (detectedAt), for comparing runs. */
function content(alert: SuspiciousChargeAlert): string {
  const { detectedAt: _detectedAt, ...rest } = alert;
  return JSON.stringify(rest);
}

/** alertId → content; every repeat of an alertId must carry the same content. */
function byAlertId(alerts: readonly SuspiciousChargeAlert[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const alert of alerts) {
    const seen = found.get(alert.alertId);
    if (seen !== undefined) expect(content(alert), `repeat of ${alert.alertId}`).toBe(seen);
    else found.set(alert.alertId, content(alert));
  }
  return found;
}

async function processedBy(p: MonitorProcess): Promise<number> {
  return processedCounts((await getOps(await p.httpPort, '/metrics')).body).total;
}

describe('monitor scale-out: processes in one consumer group', () => {
  beforeAll(async () => {
    const built = await buildCli();
    // another change in progress may not type-check yet; tsc still writes the JavaScript
    if (!built.ok)
      process.stderr.write(`[monitor-scale-out] tsc -b services/cli reported errors:\n${built.output}\n`);
  });

  it('3 processes, one SIGKILLed mid-stream, a 4th joining later: the same alerts as one monitor', async ({
    endpoints,
    kafka,
    admin,
    createTopics,
    redis,
    redisPrefix,
    groupId,
    testId,
  }) => {
    // one creation for all (two createTopics in a row can fail on fresh metadata): the group's
    // topics, and the outputs of the single reference monitor, which reads the same input in its
    // own group with its own key prefix
    const compacted = [{ name: 'cleanup.policy', value: 'compact' }];
    const names = await createTopics([
      { name: 'auth', numPartitions: PARTITIONS },
      ...['', 'ref-'].flatMap((p) => [
        { name: `${p}alerts`, numPartitions: PARTITIONS },
        { name: `${p}dlq`, numPartitions: PARTITIONS },
        { name: `${p}dispositions`, numPartitions: 1, configEntries: compacted },
      ]),
    ]);
    const [authorizations, alerts, deadLetters, dispositions, refAlerts, refDlq, refDispositions] = names as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const topics: MonitorTopicNames = { authorizations, alerts, deadLetters, dispositions };
    const refTopics: MonitorTopicNames = {
      authorizations,
      alerts: refAlerts,
      deadLetters: refDlq,
      dispositions: refDispositions,
    };
    const refPrefix = `${redisPrefix}ref:`;
    const { env: fingerprintKeys, keyring } = freshFingerprintKey();
    const watchedCards = watchedCardsFor(testId, 12);
    for (const keyPrefix of [redisPrefix, refPrefix])
      await importIncident({
        redis,
        keyPrefix,
        keyring,
        manifest: testManifest(`inc-${testId}`),
        cards: watchedCards,
      });
    const schemaId = await ensureSchemaRegistered(
      createSchemaRegistry({ url: endpoints.schemaRegistryUrl }),
      cardAuthorizationAvro,
      valueSubject(topics.authorizations),
    );
    const { generator, encodeAvro } = trafficFor({ seed: testId, keyring, watchedCards, schemaId });
    const valueOf = simulatedValue(encodeAvro);
    const rulesFile = join(await mkdtemp(join(tmpdir(), 'leakwatch-rules-')), 'rules.yaml');
    await writeFile(
      rulesFile,
      'rules:\n  VELOCITY:\n    enabled: false\n  CARD_TESTING:\n    enabled: false\n',
      'utf8',
    );
    const env = monitorEnv({
      endpoints,
      topics,
      groupId,
      redisPrefix,
      fingerprintKeys,
      extra: {
        LEAKWATCH_LOG_LEVEL: 'info',
        LEAKWATCH_MONITOR_SESSION_TIMEOUT_MS: '6000',
        LEAKWATCH_RULES_FILE: rulesFile,
      },
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    const processes: MonitorProcess[] = [];
    const sent: SimulatedEvent[] = [];
    const send = async (count: number) => {
      const events = generator.nextBatch(count);
      await produceEvents(producer, topics.authorizations, events, valueOf);
      sent.push(...events);
    };
    const startingReference = startInProcessMonitor({
      endpoints,
      topics: refTopics,
      groupId: `${groupId}-ref`,
      redisPrefix: refPrefix,
      fingerprintKeys,
      extra: { LEAKWATCH_RULES_FILE: rulesFile },
    });
    let reference: MonitorHandle | undefined;
    try {
      for (let i = 0; i < 3; i++) processes.push(spawnMonitor(env));
      for (const p of processes) await waitUntilReady(await p.httpPort, WAIT);
      await waitForStableGroup(admin, groupId, topics.authorizations, 3, PARTITIONS);
      reference = await startingReference;
      const referencePort = reference.httpPort;
      await producer.connect();

      // mid-stream: kill a member that is working, while the stream goes on
      await send(1000);
      const victim = await vi.waitFor(async () => {
        const counts = await Promise.all(processes.map(processedBy));
        const busiest = counts.indexOf(Math.max(...counts));
        expect(counts[busiest]).toBeGreaterThan(0);
        return processes[busiest] as MonitorProcess;
      }, WAIT);
      victim.child.kill('SIGKILL');
      await send(1000);
      expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' });
      const committedAtKill = await committedCount(admin, groupId, topics.authorizations);

      // a fourth joins; once the group settles with it (the dead member's session expired),
      // the rest of the stream is spread over the three live members
      const fourth = spawnMonitor(env);
      processes.push(fourth);
      await waitUntilReady(await fourth.httpPort, WAIT);
      await waitForStableGroup(admin, groupId, topics.authorizations, 3, PARTITIONS);
      await send(1000);

      await vi.waitFor(async () => {
        expect(await committedCount(admin, groupId, topics.authorizations)).toBe(sent.length);
        expect(processedCounts((await getOps(referencePort, '/metrics')).body).total).toBe(sent.length);
      }, WAIT);
      expect(await processedBy(fourth), 'the fourth took a share').toBeGreaterThan(0);

      const [group, single] = await Promise.all(
        [topics.alerts, refTopics.alerts].map(async (topic) =>
          (await decodeAlerts(endpoints.schemaRegistryUrl, await readToEnd(kafka, admin, topic))).map(
            (a) => a.alert,
          ),
        ),
      );
      // the reference is right on its own: one alert per authorization on a watched card
      const expected = watchedEventIds(sent);
      expect(expected.length).toBeGreaterThan(200);
      expect(expectAlertsExactlyFor(single as SuspiciousChargeAlert[], expected)).toBe(0);
      // and the group's alerts are the same set, content for content, repeats under one alertId
      const groupById = byAlertId(group as SuspiciousChargeAlert[]);
      const singleById = byAlertId(single as SuspiciousChargeAlert[]);
      expect([...groupById.keys()].sort()).toEqual([...singleById.keys()].sort());
      for (const [alertId, text] of singleById)
        if (groupById.get(alertId) !== text)
          expect(JSON.parse(groupById.get(alertId) ?? '{}'), alertId).toEqual(JSON.parse(text));

      const survivors = processes.filter((p) => p !== victim);
      for (const p of survivors) p.child.kill('SIGTERM');
      for (const p of survivors) expect(await p.exited).toEqual({ code: 0, signal: null });
      const output = processes.flatMap((p) => p.lines).join('\n');
      for (const card of watchedCards)
        expect(output.includes(card.pan), 'a card number in the output').toBe(false);
      process.stderr.write(
        `[monitor-scale-out] ${sent.length} sent, ${committedAtKill} committed at the SIGKILL; ` +
          `${group?.length} alerts from the group for ${singleById.size} alertIds ` +
          `(${(group?.length ?? 0) - groupById.size} repeats)\n`,
      );
    } catch (error) {
      // what each process said last, to read a failure from CI
      for (const [i, p] of processes.entries())
        process.stderr.write(`[monitor-scale-out] process ${i}:\n${p.lines.slice(-15).join('\n')}\n`);
      throw error;
    } finally {
      await producer.disconnect();
      for (const p of processes)
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await Promise.all(processes.map((p) => p.exited));
      reference ??= await startingReference.catch(() => undefined);
      await reference?.close();
    }
  });
});
