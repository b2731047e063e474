import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyring, withLuhnCheckDigit } from '@leakwatch/card';
import {
  alertIdFor,
  createAuthorizationEncoder,
  createDispositionDecoder,
  createDispositionEncoder,
  createSchemaRegistry,
  valueSubject,
  type AlertDisposition,
} from '@leakwatch/contracts';
import {
  readDispositionStats,
  startDispositionServices,
  type DispositionServices,
} from '@leakwatch/dispositions';
import { LeakStore } from '@leakwatch/leak-store';
import { silentLogger } from '@leakwatch/logger';
import type { MonitorHandle } from '@leakwatch/monitor-service';
import { integrationTest as it } from '@leakwatch/testing';
import { Registry } from 'prom-client';
import { describe, expect, vi } from 'vitest';
import {
  authorizationBuilder,
  createMonitorTopics,
  decodeAlerts,
  freshFingerprintKey,
  getOps,
  importIncident,
  messageCount,
  metricValue,
  processedCounts,
  readToEnd,
  startInProcessMonitor,
  testManifest,
} from './support/monitor-harness.js';

/*
 * Dispositions end to end (real Kafka, registry, Redis and HTTP): the monitor raises alerts for
 * two partners' cards, the alert indexer learns whose each alert is, issuers post signed
 * dispositions to the intake, the applier acts on them.
 */

const T0 = Date.UTC(2026, 4, 2, 3, 0, 0);
const WAIT = { timeout: 30_000, interval: 200 } as const;
const authorization = authorizationBuilder(T0, {
  id: 'm-grocer-jp',
  name: 'Grocer Shibuya',
  mcc: '5411',
  country: 'JP',
});

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/** Standard Webhooks v1 written out with node:crypto, as an issuer's own code would. */
function signedPost(
  url: string,
  secret: string,
  body: unknown,
  options: { id?: string; timestamp?: number; unsigned?: boolean } = {},
): Promise<Response> {
  const text = JSON.stringify(body);
  const id = options.id ?? `msg_${randomBytes(12).toString('hex')}`;
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${text}`).digest('base64');
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.unsigned
        ? {}
        : {
            'webhook-id': id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': `v1,${signature}`,
          }),
    },
    body: text,
    signal: AbortSignal.timeout(10_000),
  });
}

describe('dispositions: signed intake, alert index and applier (real Kafka, registry, Redis, HTTP)', () => {
  it('writes a signed disposition once, refuses unsigned, stale and foreign ones, and CARD_REISSUED stops the card alerting', async ({
    endpoints,
    testId,
    kafka,
    admin,
    createTopics,
    redis,
    redisPrefix,
    groupId,
  }) => {
    // one call: a second createTopics right after the first has failed on this broker with
    // "This server does not host this topic-partition" while waiting for leaders
    const [authorizations, alertsTopic, deadLetters, dispositions, sakuraTopic, birchTopic] =
      await createTopics([
        { name: 'auth' },
        { name: 'alerts' },
        { name: 'dlq' },
        {
          name: 'dispositions',
          numPartitions: 1,
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
        { name: 'partner-sakura' },
        { name: 'partner-birch' },
      ]);
    const topics = {
      authorizations: authorizations as string,
      alerts: alertsTopic as string,
      deadLetters: deadLetters as string,
      dispositions: dispositions as string,
    };
    const { env: fingerprintKeys, keyring } = freshFingerprintKey();
    const sakura = `sakura-${testId.slice(-8)}`;
    const birch = `birch-${testId.slice(-8)}`;
    const secrets = { [sakura]: newSecret(), [birch]: newSecret() };

    // two watched cards of Sakura's, one of Birch's
    const S1 = { pan: withLuhnCheckDigit('453912012345678'), expiry: '2028-04' };
    const S2 = { pan: withLuhnCheckDigit('453912098765432'), expiry: '2029-01' };
    const B1 = { pan: withLuhnCheckDigit('453913055555555'), expiry: '2027-11' };
    // incident ids are at most 64 characters (contracts rules.ts): the random tail keeps it unique
    const incidentId = `inc-dispositions-${testId.slice(-8)}`;
    await importIncident({
      redis,
      keyPrefix: redisPrefix,
      keyring,
      manifest: testManifest(incidentId),
      cards: [S1, S2, B1],
    });

    const dir = await mkdtemp(join(tmpdir(), 'leakwatch-dispositions-'));
    const partnersFile = join(dir, 'partners.yaml');
    await writeFile(
      partnersFile,
      [
        'partners:',
        `  - partnerId: ${sakura}`,
        '    name: Sakura Card',
        '    country: JP',
        "    binPrefixes: ['453912']",
        `    delivery: { kafka: { topic: ${sakuraTopic} } }`,
        `  - partnerId: ${birch}`,
        '    name: Birch Bank',
        '    country: JP',
        "    binPrefixes: ['453913']",
        `    delivery: { kafka: { topic: ${birchTopic} } }`,
        '',
      ].join('\n'),
      'utf8',
    );

    let monitor: MonitorHandle | undefined;
    let services: DispositionServices | undefined;
    const leakStore = new LeakStore({ redis, keyPrefix: redisPrefix });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    const metrics = new Registry();
    try {
      monitor = await startInProcessMonitor({
        endpoints,
        topics,
        groupId,
        redisPrefix,
        fingerprintKeys,
        extra: { LEAKWATCH_PARTNERS_FILE: partnersFile },
      });
      await leakStore.start();
      const registry = createSchemaRegistry({ url: endpoints.schemaRegistryUrl });
      services = await startDispositionServices({
        kafka,
        redis,
        registry,
        topics: { alerts: topics.alerts, dispositions: topics.dispositions },
        groupIds: { alertIndex: `${groupId}-alert-index`, applier: `${groupId}-applier` },
        keyPrefix: redisPrefix,
        watchList: leakStore,
        inboundSecrets: (partnerId) => (partnerId in secrets ? [secrets[partnerId] as string] : undefined),
        intake: { port: 0, host: '127.0.0.1' },
        metrics,
        logger: silentLogger(),
      });
      const intakeUrl = (partnerId: string) =>
        `http://127.0.0.1:${services?.intakePort}/v1/partners/${partnerId}/dispositions`;

      const encoder = await createAuthorizationEncoder({
        registry,
        subject: valueSubject(topics.authorizations),
      });
      await producer.connect();
      const send = async (auths: ReturnType<typeof authorization>[]) =>
        producer.send({
          topic: topics.authorizations,
          acks: -1,
          messages: auths.map((a) => ({ key: a.eventId, value: encoder.encode(a) })),
        });
      const processed = async () =>
        processedCounts((await getOps(monitor?.httpPort ?? 0, '/metrics')).body).total;

      // ---- three alerts, indexed ----
      const e = (name: string) => `${name}-${testId}`;
      await send([
        authorization(e('s1-a'), 1, S1),
        authorization(e('s2-a'), 2, S2),
        authorization(e('b1-a'), 3, B1),
      ]);
      await vi.waitFor(async () => expect(await processed()).toBe(3), WAIT);
      const alerts = await decodeAlerts(
        endpoints.schemaRegistryUrl,
        await readToEnd(kafka, admin, topics.alerts),
      );
      const alertOf = (eventId: string) => {
        const found = alerts.find((a) => a.alert.eventId === eventId);
        if (!found) throw new Error(`no alert for ${eventId}`);
        return found.alert;
      };
      const [s1Alert, s2Alert, b1Alert] = [alertOf(e('s1-a')), alertOf(e('s2-a')), alertOf(e('b1-a'))];
      expect([s1Alert.partnerId, s2Alert.partnerId, b1Alert.partnerId]).toEqual([sakura, sakura, birch]);
      await vi.waitFor(async () => {
        for (const a of [s1Alert, s2Alert, b1Alert]) {
          expect(await redis.exists(`${redisPrefix}alert-index:${a.alertId}`)).toBe(1);
        }
      }, WAIT);

      // ---- signed, correct: written once ----
      const fraud: AlertDisposition = {
        alertId: s2Alert.alertId,
        disposition: 'CONFIRMED_FRAUD',
        by: 'fraud-ops@sakura.example',
        at: Date.now(),
        note: 'cardholder denies the charge',
      };
      const first = await signedPost(intakeUrl(sakura), secrets[sakura] as string, fraud, {
        id: 'msg_fraud_1',
      });
      expect(first.status).toBe(202);
      expect(await first.json()).toEqual({ status: 'accepted', alertId: s2Alert.alertId });
      // the same request retried, and the same verdict under a new webhook-id
      const retried = await signedPost(intakeUrl(sakura), secrets[sakura] as string, fraud, {
        id: 'msg_fraud_1',
      });
      expect([retried.status, await retried.json()]).toEqual([
        200,
        { status: 'duplicate', alertId: s2Alert.alertId },
      ]);
      const resent = await signedPost(intakeUrl(sakura), secrets[sakura] as string, fraud);
      expect(resent.status).toBe(200);
      expect(await messageCount(admin, topics.dispositions)).toBe(1);

      // ---- refused, and nothing written ----
      const refusals = [
        [
          'unsigned',
          await signedPost(intakeUrl(sakura), secrets[sakura] as string, fraud, { unsigned: true }),
        ],
        [
          'stale',
          await signedPost(
            intakeUrl(sakura),
            secrets[sakura] as string,
            { ...fraud, disposition: 'FALSE_POSITIVE' },
            {
              timestamp: Math.floor(Date.now() / 1000) - 6 * 60,
            },
          ),
        ],
        [
          "another partner's secret",
          await signedPost(intakeUrl(sakura), secrets[birch] as string, {
            ...fraud,
            disposition: 'FALSE_POSITIVE',
          }),
        ],
        [
          "another partner's alert",
          await signedPost(intakeUrl(sakura), secrets[sakura] as string, {
            ...fraud,
            alertId: b1Alert.alertId,
          }),
        ],
        [
          'malformed',
          await signedPost(intakeUrl(sakura), secrets[sakura] as string, { alertId: s2Alert.alertId }),
        ],
      ] as const;
      const answers = await Promise.all(
        refusals.map(async ([what, response]) => [
          what,
          response.status,
          ((await response.json()) as { error: { code: string } }).error.code,
        ]),
      );
      expect(answers).toEqual([
        ['unsigned', 401, 'missing_signature_headers'],
        ['stale', 401, 'stale_timestamp'],
        ["another partner's secret", 401, 'invalid_signature'],
        ["another partner's alert", 403, 'not_your_alert'],
        ['malformed', 400, 'invalid_disposition'],
      ]);
      expect(await messageCount(admin, topics.dispositions)).toBe(1);

      // the one written: keyed by alertId, marked as the partner's, and counted by the applier
      const [written] = await readToEnd(kafka, admin, topics.dispositions);
      expect(written?.key?.toString()).toBe(s2Alert.alertId);
      const decoded = await createDispositionDecoder({ registry }).decode(written?.value ?? null);
      expect(decoded).toMatchObject({ ok: true, value: fraud });
      await vi.waitFor(async () => {
        const stats = await readDispositionStats(redis, redisPrefix);
        expect(stats.byIncident[incidentId]?.CONFIRMED_FRAUD).toBe(1);
        expect(stats.byReason.LEAKED_CARD?.CONFIRMED_FRAUD).toBe(1);
      }, WAIT);

      // ---- CARD_REISSUED: the card leaves the watch list and stops alerting ----
      const reissued = await signedPost(intakeUrl(sakura), secrets[sakura] as string, {
        alertId: s1Alert.alertId,
        disposition: 'CARD_REISSUED',
        by: 'fraud-ops@sakura.example',
        at: new Date().toISOString(),
      });
      expect(reissued.status).toBe(202);
      await vi.waitFor(async () => {
        const hit = (await leakStore.lookup([s1Alert.card.fingerprint])).get(s1Alert.card.fingerprint);
        expect(hit?.incidents.length ?? 0).toBe(0);
        expect(
          metricValue(await metrics.metrics(), 'leakwatch_dispositions_total', {
            disposition: 'CARD_REISSUED',
            source: 'partner',
          }),
        ).toBe(1);
      }, WAIT);

      await send([authorization(e('s1-b'), 10, S1), authorization(e('s2-b'), 11, S2)]);
      await vi.waitFor(async () => expect(await processed()).toBe(5), WAIT);
      const after = await decodeAlerts(
        endpoints.schemaRegistryUrl,
        await readToEnd(kafka, admin, topics.alerts),
      );
      const eventIds = after.map((a) => a.alert.eventId);
      expect(eventIds).toContain(e('s2-b')); // still watched: still alerts
      expect(eventIds).not.toContain(e('s1-b')); // reissued: no alert
      expect(after.map((a) => a.alert.alertId)).not.toContain(alertIdFor(e('s1-b')));
    } finally {
      await producer.disconnect().catch(() => undefined);
      await services?.close();
      await monitor?.close();
      await leakStore.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('CARD_REISSUED during a key rotation stops the card alerting under every active key', async ({
    endpoints,
    testId,
    kafka,
    admin,
    createTopics,
    redis,
    redisPrefix,
    groupId,
  }) => {
    // k1 is current, k0 the key before the rotation: both active (security.md "Keys and rotation")
    const [k1, k0] = [randomBytes(32), randomBytes(32)];
    const fingerprintKeys = `k1:${k1.toString('base64')},k0:${k0.toString('base64')}`;
    const both = createKeyring([
      { keyId: 'k1', key: k1 },
      { keyId: 'k0', key: k0 },
    ]);
    const R = { pan: withLuhnCheckDigit('453912011112222'), expiry: '2028-04' }; // under both keys
    const O = { pan: withLuhnCheckDigit('453912033334444'), expiry: '2029-01' }; // old key only
    const W = { pan: withLuhnCheckDigit('453912055556666'), expiry: '2027-11' }; // stays watched
    const incidentId = `inc-rotation-${testId.slice(-8)}`;
    // imported before the rotation under k0, then again under k1 (step 2 of the rotation), but O
    // only the first time: its entry is under k0 alone
    for (const [keyId, key, cards] of [
      ['k0', k0, [R, O, W]],
      ['k1', k1, [R, W]],
    ] as const) {
      await importIncident({
        redis,
        keyPrefix: redisPrefix,
        keyring: createKeyring([{ keyId, key }]),
        manifest: testManifest(incidentId),
        cards,
      });
    }

    const topics = await createMonitorTopics(createTopics);
    let monitor: MonitorHandle | undefined;
    let services: DispositionServices | undefined;
    const leakStore = new LeakStore({ redis, keyPrefix: redisPrefix });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    try {
      monitor = await startInProcessMonitor({ endpoints, topics, groupId, redisPrefix, fingerprintKeys });
      await leakStore.start();
      const registry = createSchemaRegistry({ url: endpoints.schemaRegistryUrl });
      services = await startDispositionServices({
        kafka,
        redis,
        registry,
        topics: { alerts: topics.alerts, dispositions: topics.dispositions },
        groupIds: { alertIndex: `${groupId}-alert-index`, applier: `${groupId}-applier` },
        keyPrefix: redisPrefix,
        watchList: leakStore,
        inboundSecrets: () => undefined,
        intake: { port: 0, host: '127.0.0.1' },
        metrics: new Registry(),
        logger: silentLogger(),
      });
      const encoder = await createAuthorizationEncoder({
        registry,
        subject: valueSubject(topics.authorizations),
      });
      await producer.connect();
      const send = (auths: ReturnType<typeof authorization>[]) =>
        producer.send({
          topic: topics.authorizations,
          acks: -1,
          messages: auths.map((a) => ({ key: a.eventId, value: encoder.encode(a) })),
        });
      const processed = async () =>
        processedCounts((await getOps(monitor?.httpPort ?? 0, '/metrics')).body).total;
      const e = (name: string) => `${name}-${testId}`;

      await send([authorization(e('r-a'), 1, R), authorization(e('o-a'), 2, O)]);
      await vi.waitFor(async () => expect(await processed()).toBe(2), WAIT);
      const alerts = await decodeAlerts(
        endpoints.schemaRegistryUrl,
        await readToEnd(kafka, admin, topics.alerts),
      );
      expect(alerts.map((a) => a.alert.eventId).sort()).toEqual([e('o-a'), e('r-a')].sort());
      // the alerts carry the current key's fingerprint; O is watched under k0 only
      for (const { alert } of alerts) expect(alert.card.keyId).toBe('k1');
      await vi.waitFor(async () => {
        for (const { alert } of alerts)
          expect(await redis.exists(`${redisPrefix}alert-index:${alert.alertId}`)).toBe(1);
      }, WAIT);

      // an analyst marks both reissued (the console writes to the topic directly)
      const dispositionEncoder = await createDispositionEncoder({
        registry,
        subject: valueSubject(topics.dispositions),
      });
      await producer.send({
        topic: topics.dispositions,
        acks: -1,
        messages: alerts.map(({ alert }) => ({
          key: alert.alertId,
          value: dispositionEncoder.encode({
            alertId: alert.alertId,
            disposition: 'CARD_REISSUED',
            by: 'analyst',
            at: Date.now(),
            note: null,
          }),
        })),
      });
      const everyFingerprint = [R, O].flatMap((c) => both.fingerprintAll(c.pan).map((f) => f.fingerprint));
      await vi.waitFor(async () => {
        const hits = await leakStore.lookup(everyFingerprint);
        expect(everyFingerprint.map((f) => hits.get(f)?.incidents.length ?? 0)).toEqual([0, 0, 0, 0]);
      }, WAIT);

      await send([
        authorization(e('r-b'), 10, R),
        authorization(e('o-b'), 11, O),
        authorization(e('w-b'), 12, W),
      ]);
      await vi.waitFor(async () => expect(await processed()).toBe(5), WAIT);
      const after = await decodeAlerts(
        endpoints.schemaRegistryUrl,
        await readToEnd(kafka, admin, topics.alerts),
      );
      const eventIds = after.map((a) => a.alert.eventId);
      expect(eventIds).toContain(e('w-b')); // still watched under both keys: still alerts
      expect(eventIds).not.toContain(e('r-b'));
      expect(eventIds).not.toContain(e('o-b'));
    } finally {
      await producer.disconnect().catch(() => undefined);
      await services?.close();
      await monitor?.close();
      await leakStore.close();
    }
  });
});
