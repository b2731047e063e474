import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertIdFor, cardAuthorizationAvro, type CardAuthorizationInput } from '@leakwatch/contracts';
import { integrationTest as it } from '@leakwatch/testing';
import avro from 'avsc';
import type { Redis } from 'ioredis';
import type { Kafka, Admin } from 'kafkajs';
import { describe, expect } from 'vitest';
import {
  authorizationBuilder,
  createMonitorTopics,
  decodeAlerts,
  freshFingerprintKey,
  importIncident,
  monitorEnv,
  readToEnd,
  startInProcessMonitor,
  testManifest,
  waitUntilReady,
  type MonitorTopicNames,
} from './support/monitor-harness.js';
import { CLI_MAIN, REPO_ROOT } from './support/monitor-process.js';
import { watchedCardsFor } from './support/traffic.js';

const DAY = 86_400_000;
const EXPOSURE_START = Date.parse('2020-02-24T00:00:00Z');
const merchant = { id: 'm-hunt', name: 'Hunt Shop', mcc: '5999', country: 'JP' };

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

/** Runs `leakwatch hunt` (the built CLI) with exactly `env`; `killAfter` SIGKILLs it once `killAfter(out)` says so. */
function hunt(
  env: Record<string, string>,
  args: string[],
  killAfter?: (out: string) => boolean,
): Promise<Run> {
  return leakwatch(env, ['hunt', ...args], killAfter);
}

/** Runs the built CLI with exactly `env` (see `hunt`). */
function leakwatch(
  env: Record<string, string>,
  args: string[],
  killAfter?: (out: string) => boolean,
): Promise<Run> {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, LEAKWATCH_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    if (killAfter?.(out)) child.kill('SIGKILL');
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  // a run here takes seconds: one that hangs is killed, so the test fails with its output (its
  // plan and progress lines) instead of timing out with none
  const deadline = setTimeout(() => {
    out += `\n[test: killed after ${RUN_DEADLINE_MS} ms]\n`;
    child.kill('SIGKILL');
  }, RUN_DEADLINE_MS);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      resolve({ code, signal, out });
    }),
  );
}

const RUN_DEADLINE_MS = 50_000;

async function alertsOn(kafka: Kafka, admin: Admin, registryUrl: string, topic: string) {
  return (await decodeAlerts(registryUrl, await readToEnd(kafka, admin, topic))).map((a) => a.alert);
}

/**
 * Months of authorizations, produced before the incident is known: watched cards before the
 * exposure window (not the hunt's), inside it (with the leaked expiry and with another), and
 * clean cards. Kafka timestamps are the event times, as upstream producers set them.
 */
async function produceHistory(
  kafka: Kafka,
  topics: MonitorTopicNames,
  testId: string,
  watched: Array<{ pan: string; expiry: string }>,
) {
  const at = authorizationBuilder(EXPOSURE_START, merchant);
  const clean = watchedCardsFor(`${testId}-clean`, 20);
  const events: Array<{ auth: CardAuthorizationInput; expected: boolean }> = [];
  let n = 0;
  const add = (day: number, pan: string, expiry: string | null, expected: boolean) => {
    n += 1;
    const auth = at(
      `${testId}-e${n}`,
      (day * DAY) / 60_000,
      { pan, fingerprint: null, keyId: null, bin: null, last4: null, expiry },
      {
        channel: 'ECOMMERCE',
        threeDs: 'NOT_PERFORMED',
      },
    );
    events.push({ auth, expected });
  };
  for (let i = 0; i < watched.length; i++) {
    const card = watched[i] as { pan: string; expiry: string };
    add(-200 + i, card.pan, card.expiry, false); // months before exposure started
    add(30 * i + 10, card.pan, card.expiry, true); // leaked expiry
    add(30 * i + 400, card.pan, '2031-01', true); // another expiry (reissued with a new date)
  }
  for (let i = 0; i < clean.length; i++) add(15 * i, (clean[i] as { pan: string }).pan, null, false);
  events.sort((a, b) => Number(a.auth.occurredAt) - Number(b.auth.occurredAt));
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: topics.authorizations,
    acks: -1,
    messages: events.map(({ auth }) => ({
      key: auth.eventId,
      value: JSON.stringify(auth),
      timestamp: String(auth.occurredAt),
    })),
  });
  await producer.disconnect();
  return events;
}

/** Names what was raised outside the expected set (eventId, event time, live or retrospective). */
function expectOnlyExpected(
  alerts: ReadonlyArray<{ alertId: string; eventId: string; occurredAt: number; retrospective: boolean }>,
  expected: readonly string[],
): void {
  const unexpected = alerts
    .filter((a) => !expected.includes(a.alertId))
    .map((a) => [a.eventId, new Date(a.occurredAt).toISOString(), a.retrospective ? 'retro' : 'live']);
  expect(unexpected, 'alerts on events outside the hunt').toEqual([]);
}

/**
 * The topics of a hunt test, the authorizations topic keeping what it is given: the history is
 * years old by its timestamps, and the stack's 24 h retention would delete it at the broker's
 * next retention check (every 5 minutes), in the middle of a test now and then.
 */
function keepingHistory(createTopics: Parameters<typeof createMonitorTopics>[0]) {
  return createMonitorTopics((wanted) =>
    createTopics(
      wanted.map((t) =>
        t.name === 'auth'
          ? { ...t, configEntries: [...(t.configEntries ?? []), { name: 'retention.ms', value: '-1' }] }
          : t,
      ),
    ),
  );
}

/**
 * Reads the alerts topic and checks it holds exactly the retrospective alerts of the expected
 * events. Publishing is at least once (a producer retry or a batch read again after a rebalance
 * can repeat an alert), and a repeat carries the same alertId: the set is what must be exact.
 */
async function expectHuntAlerts(
  read: () => ReturnType<typeof alertsOn>,
  events: ReadonlyArray<{ auth: CardAuthorizationInput; expected: boolean }>,
) {
  const expected = events
    .filter((e) => e.expected)
    .map((e) => alertIdFor(e.auth.eventId, { retrospective: true }));
  const alerts = await read();
  expectOnlyExpected(alerts, expected);
  expect(new Set(alerts.map((a) => a.alertId))).toEqual(new Set(expected));
  return { alerts, expected };
}

/** Topics, a key, `cards` watched cards, their history produced, then their incident imported. */
async function historyThenIncident(
  ctx: {
    kafka: Kafka;
    createTopics: Parameters<typeof createMonitorTopics>[0];
    redis: Redis;
    redisPrefix: string;
    testId: string;
  },
  cards: number,
) {
  const topics = await keepingHistory(ctx.createTopics);
  const { env: fingerprintKeys, keyring } = freshFingerprintKey();
  const watched = watchedCardsFor(ctx.testId, cards).map((c) => ({ pan: c.pan, expiry: c.expiry }));
  const events = await produceHistory(ctx.kafka, topics, ctx.testId, watched);
  const incidentId = `hunt-${ctx.testId}`.slice(0, 64);
  await importIncident({
    redis: ctx.redis,
    keyPrefix: ctx.redisPrefix,
    keyring,
    manifest: testManifest(incidentId),
    cards: watched,
  });
  return { topics, fingerprintKeys, watched, events, incidentId };
}

describe('leakwatch hunt (the built CLI, real Kafka, registry and Redis)', () => {
  it('raises exactly the expected retrospective alerts, the same ones on a rerun and from archives', async ({
    kafka,
    admin,
    createTopics,
    endpoints,
    redis,
    redisPrefix,
    testId,
  }) => {
    // one createTopics call: a second one right after the first can race the broker's metadata
    let extra: string[] = [];
    const topics = await keepingHistory(async (wanted) => {
      const names = await createTopics([...wanted, { name: 'archive-alerts' }, { name: 'avro-alerts' }]);
      extra = names.slice(wanted.length);
      return names.slice(0, wanted.length);
    });
    const [archiveAlerts, avroAlerts] = extra;
    const { env: fingerprintKeys, keyring } = freshFingerprintKey();
    const watched = watchedCardsFor(testId, 5).map((c) => ({ pan: c.pan, expiry: c.expiry }));
    const events = await produceHistory(kafka, topics, testId, watched);
    // disclosed after the charges happened: imported only now
    const incidentId = `hunt-${testId}`.slice(0, 64);
    await importIncident({
      redis,
      keyPrefix: redisPrefix,
      keyring,
      manifest: testManifest(incidentId),
      cards: watched,
    });
    const env = monitorEnv({ endpoints, topics, groupId: `unused-${testId}`, redisPrefix, fingerprintKeys });

    const first = await hunt(env, ['--incident', incidentId]);
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain('complete');
    const readAlerts = () => alertsOn(kafka, admin, endpoints.schemaRegistryUrl, topics.alerts);
    const { alerts, expected } = await expectHuntAlerts(readAlerts, events);
    for (const alert of alerts) {
      expect(alert.retrospective).toBe(true);
      expect(alert.alertId).not.toBe(alertIdFor(alert.eventId));
      expect(alert.incidents.map((i) => i.incidentId)).toEqual([incidentId]);
      const source = events.find((e) => e.auth.eventId === alert.eventId)?.auth;
      const leakedExpiry = watched.some(
        (w) => w.pan === source?.card.pan && w.expiry === source?.card.expiry,
      );
      expect(alert.card.expiryMatchesLeak).toBe(leakedExpiry);
      expect(alert.reasons.some((r) => r.code === 'EXPIRY_MATCHES_LEAK')).toBe(leakedExpiry);
      expect(alert.reasons.map((r) => r.code)).toContain('LEAKED_CARD');
    }

    // a rerun raises the same alertIds (and a dry run publishes nothing)
    const again = await hunt(env, ['--incident', incidentId]);
    expect(again.code, again.out).toBe(0);
    const after = await readAlerts();
    expect(new Set(after.map((a) => a.alertId))).toEqual(new Set(expected));
    const dry = await hunt(env, ['--incident', incidentId, '--dry-run']);
    expect(dry.code, dry.out).toBe(0);
    expect(dry.out).toContain(`alerts ${expected.length} by severity`);
    expect((await readAlerts()).length).toBe(after.length);

    // the same events exported from a warehouse: NDJSON (plus bad rows) and an Avro container
    const dir = mkdtempSync(join(tmpdir(), 'hunt-archive-'));
    // 21 digits: no card number is that long
    const badPan = `${(watched[0] as { pan: string }).pan}12345`;
    const ndjson = join(dir, 'auths.ndjson');
    writeFileSync(
      ndjson,
      [
        ...events.map((e) => JSON.stringify(e.auth)),
        JSON.stringify({
          ...events.find((e) => e.expected)?.auth,
          eventId: `${testId}-bad`,
          card: { pan: badPan },
        }),
        `{"eventId": "truncated", "card": {"pan": "${badPan.replace(/(\d{4})/g, '$1 ')}"`,
      ].join('\n'),
    );
    const fromNdjson = await hunt({ ...env, LEAKWATCH_TOPIC_ALERTS: archiveAlerts as string }, [
      '--incident',
      incidentId,
      '--input',
      ndjson,
    ]);
    expect(fromNdjson.code, fromNdjson.out).toBe(0);
    const ndjsonIds = (
      await alertsOn(kafka, admin, endpoints.schemaRegistryUrl, archiveAlerts as string)
    ).map((a) => a.alertId);
    expect(new Set(ndjsonIds)).toEqual(new Set(expected));
    const rejects = readFileSync(`${ndjson}.rejects.ndjson`, 'utf8');
    expect(rejects.trim().split('\n'), rejects).toHaveLength(2);
    expect(rejects).not.toContain(badPan.slice(6, 12));
    expect(fromNdjson.out).not.toContain(badPan.slice(6, 12));

    const avroPath = join(dir, 'auths.avro');
    await new Promise<void>((resolve, reject) => {
      const encoder = avro.createFileEncoder(avroPath, cardAuthorizationAvro.type);
      encoder.on('error', reject).on('finish', resolve);
      for (const e of events) encoder.write(cardAuthorizationAvro.type.clone(e.auth, { wrapUnions: true }));
      encoder.end();
    });
    const fromAvro = await hunt({ ...env, LEAKWATCH_TOPIC_ALERTS: avroAlerts as string }, [
      '--incident',
      incidentId,
      '--input',
      avroPath,
    ]);
    expect(fromAvro.code, fromAvro.out).toBe(0);
    const avroIds = (await alertsOn(kafka, admin, endpoints.schemaRegistryUrl, avroAlerts as string)).map(
      (a) => a.alertId,
    );
    expect(new Set(avroIds)).toEqual(new Set(expected));
  });

  it('leaks import --hunt hunts at once; poison among the retained events is dead-lettered as live', async ({
    kafka,
    admin,
    createTopics,
    endpoints,
    redisPrefix,
    testId,
  }) => {
    const topics = await keepingHistory(createTopics);
    const { env: fingerprintKeys } = freshFingerprintKey();
    const watched = watchedCardsFor(testId, 3).map((c) => ({ pan: c.pan, expiry: c.expiry }));
    const events = await produceHistory(kafka, topics, testId, watched);
    // two poison messages inside the exposure window: not JSON, and an impossible amount
    const poison = events.find((e) => e.expected)?.auth as CardAuthorizationInput;
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.authorizations,
      acks: -1,
      messages: [
        { key: 'p1', value: '{"eventId": "truncated', timestamp: String(poison.occurredAt) },
        {
          key: 'p2',
          value: JSON.stringify({ ...poison, eventId: `${testId}-p2`, amountMinor: -5 }),
          timestamp: String(poison.occurredAt),
        },
      ],
    });
    await producer.disconnect();
    const dir = mkdtempSync(join(tmpdir(), 'hunt-import-'));
    const incidentId = `import-${testId}`.slice(0, 64);
    const manifest = join(dir, 'manifest.json');
    writeFileSync(manifest, JSON.stringify(testManifest(incidentId)));
    const cards = join(dir, 'cards.csv');
    writeFileSync(cards, ['pan,expiry', ...watched.map((w) => `${w.pan},${w.expiry}`)].join('\n'));
    const env = monitorEnv({ endpoints, topics, groupId: `unused-${testId}`, redisPrefix, fingerprintKeys });

    const run = await leakwatch(env, ['leaks', 'import', '--incident', manifest, cards, '--hunt']);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain(`hunting ${incidentId}`);
    expect(run.out).toContain('complete');
    await expectHuntAlerts(() => alertsOn(kafka, admin, endpoints.schemaRegistryUrl, topics.alerts), events);
    const dlq = await readToEnd(kafka, admin, topics.deadLetters);
    expect(dlq.map((m) => m.headers['lw-error-code']).sort()).toEqual(['JSON_INVALID', 'VALIDATION_FAILED']);
  });

  it('resumes after SIGKILL and ends with the same set of alerts', async ({
    kafka,
    admin,
    createTopics,
    endpoints,
    redis,
    redisPrefix,
    testId,
  }) => {
    const { topics, fingerprintKeys, events, incidentId } = await historyThenIncident(
      { kafka, createTopics, redis, redisPrefix, testId },
      40,
    );
    const env = {
      ...monitorEnv({ endpoints, topics, groupId: `unused-${testId}`, redisPrefix, fingerprintKeys }),
      // the killed member leaves the group after this long (the broker's minimum)
      LEAKWATCH_MONITOR_SESSION_TIMEOUT_MS: '6000',
    };

    // slowed down so that it is killed halfway, after its first commits
    const killed = await hunt(
      env,
      ['--incident', incidentId, '--max-rate', '20'],
      (out) => /"msg":"alert raised"/.test(out) && out.split('alert raised').length > 6,
    );
    expect(killed.signal, killed.out.slice(-3000)).toBe('SIGKILL');
    // The group's position is a hint, the plan is the truth: put the group back at the start of
    // the log (before the exposure window, where the 40 pre-exposure events are) as a lost or
    // late offset commit would, and the resumed hunt must still judge only its window.
    const groupId = `leakwatch-hunt-${incidentId}`;
    for (let i = 0; ; i++) {
      const [group] = (await admin.describeGroups([groupId])).groups;
      if (group?.state === 'Empty') break;
      if (i > 60) throw new Error(`hunt group still ${group?.state} after 30 s`);
      await new Promise((r) => setTimeout(r, 500));
    }
    await admin.resetOffsets({ groupId, topic: topics.authorizations, earliest: true });
    const resumed = await hunt(env, ['--incident', incidentId]);
    expect(resumed.code, resumed.out).toBe(0);
    expect(resumed.out).toContain('resumed hunt');
    await expectHuntAlerts(() => alertsOn(kafka, admin, endpoints.schemaRegistryUrl, topics.alerts), events);
    expect(resumed.out).toContain('read from before the planned start');
  });
  it('a window that retention deletes while the hunt runs: the hunt ends and counts what it lost', async ({
    kafka,
    admin,
    createTopics,
    redis,
    endpoints,
    redisPrefix,
    testId,
  }) => {
    const { topics, fingerprintKeys, events, incidentId } = await historyThenIncident(
      { kafka, createTopics, redis, redisPrefix, testId },
      8,
    );
    const env = monitorEnv({ endpoints, topics, groupId: `unused-${testId}`, redisPrefix, fingerprintKeys });
    const inWindow = events.filter((e) => Number(e.auth.occurredAt) >= EXPOSURE_START).length;
    let deleted: Promise<unknown> | undefined;
    // as the broker's retention does to segments whose newest timestamp is too old: the log
    // start moves past the whole window once the hunt has planned it (before it reads, mostly)
    const run = await hunt(env, ['--incident', incidentId, '--max-rate', '5'], (out) => {
      if (deleted === undefined && out.includes('"msg":"hunt planned"'))
        deleted = admin.fetchTopicOffsets(topics.authorizations).then((offsets) =>
          admin.deleteTopicRecords({
            topic: topics.authorizations,
            partitions: offsets.map((p) => ({ partition: p.partition, offset: p.high })),
          }),
        );
      return false;
    });
    await deleted;
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain('complete');
    const scanned = Number(/scanned (\d+),/.exec(run.out)?.[1]);
    const lost = Number(/not read: (\d+) authorizations/.exec(run.out)?.[1]);
    expect(lost, run.out).toBeGreaterThan(0);
    // a batch fetched before the deletion is still judged, and may be counted lost as well
    expect(scanned + lost).toBeGreaterThanOrEqual(inWindow);
  });

  it('runs beside the live monitor: both raise their own alerts, each set correct', async ({
    kafka,
    admin,
    createTopics,
    endpoints,
    redis,
    redisPrefix,
    testId,
  }) => {
    const {
      topics,
      fingerprintKeys,
      watched,
      events: old,
      incidentId,
    } = await historyThenIncident({ kafka, createTopics, redis, redisPrefix, testId }, 8);
    const groupId = `live-${testId}`;
    const env = monitorEnv({ endpoints, topics, groupId, redisPrefix, fingerprintKeys });
    const live = await startInProcessMonitor({ endpoints, topics, groupId, redisPrefix, fingerprintKeys });
    try {
      await waitUntilReady(live.httpPort, { timeout: 60_000, interval: 200 });
      // new traffic arrives while the hunt runs
      const running = hunt(env, ['--incident', incidentId]);
      const at = authorizationBuilder(Date.now(), merchant);
      const fresh = watched.map((w, i) =>
        at(`${testId}-live${i}`, 0, {
          pan: w.pan,
          fingerprint: null,
          keyId: null,
          bin: null,
          last4: null,
          expiry: w.expiry,
        }),
      );
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: topics.authorizations,
        acks: -1,
        messages: fresh.map((auth) => ({ key: auth.eventId, value: JSON.stringify(auth) })),
      });
      await producer.disconnect();
      const done = await running;
      expect(done.code, done.out).toBe(0);

      // live: every charge on a watched card, old and new, under its live alertId
      const everyWatched = [
        ...old.filter((e) => watched.some((w) => w.pan === e.auth.card.pan)).map((e) => e.auth),
        ...fresh,
      ];
      const liveIds = new Set(everyWatched.map((a) => alertIdFor(a.eventId)));
      let alerts: Awaited<ReturnType<typeof alertsOn>> = [];
      const deadline = Date.now() + 60_000;
      do {
        alerts = await alertsOn(kafka, admin, endpoints.schemaRegistryUrl, topics.alerts);
      } while (alerts.filter((a) => !a.retrospective).length < liveIds.size && Date.now() < deadline);
      expect(new Set(alerts.filter((a) => !a.retrospective).map((a) => a.alertId))).toEqual(liveIds);
      // hunt: every in-window old charge; anything else it raised is one of the new charges
      const huntIds = new Set(alerts.filter((a) => a.retrospective).map((a) => a.alertId));
      for (const e of old.filter((e) => e.expected))
        expect(huntIds).toContain(alertIdFor(e.auth.eventId, { retrospective: true }));
      const allowed = new Set([
        ...old.filter((e) => e.expected).map((e) => alertIdFor(e.auth.eventId, { retrospective: true })),
        ...fresh.map((a) => alertIdFor(a.eventId, { retrospective: true })),
      ]);
      for (const id of huntIds) expect(allowed).toContain(id);
    } finally {
      await live.close();
    }
  });
});
