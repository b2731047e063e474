import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maskPan, withLuhnCheckDigit, type Keyring } from '@leakwatch/card';
import {
  alertIdFor,
  createAuthorizationEncoder,
  createSchemaRegistry,
  valueSubject,
  type CardAuthorizationInput,
  type SuspiciousChargeAlert,
} from '@leakwatch/contracts';
import type { MonitorHandle } from '@leakwatch/monitor-service';
import { defaultRuleSet, parseRuleSet } from '@leakwatch/rules';
import { integrationTest as it, type CollectedMessage } from '@leakwatch/testing';
import type { Kafka, Producer } from 'kafkajs';
import { describe, expect, vi } from 'vitest';
import {
  authorizationBuilder,
  captureLines,
  createMonitorTopics,
  decodeAlerts,
  freshFingerprintKey,
  getOps,
  importIncident,
  metricValue,
  processedCounts,
  readToEnd,
  startInProcessMonitor,
  testManifest,
} from './support/monitor-harness.js';

/*
 * Partner routing and rules hot reload through a running monitor (in-process, real Kafka,
 * registry and Redis).
 *
 * Scores follow packages/rules/defaults.yaml unless a rules file says otherwise: LEAKED_CARD 20,
 * EXPIRY_MATCHES_LEAK 5, CVV_EXPOSED_CARD_NOT_PRESENT 10 (ECOMMERCE/MOTO, the incident exposed
 * CVV), NO_3DS_CARD_NOT_PRESENT 15 (ECOMMERCE without 3DS), HIGH_RISK_MCC 15 (5732), CROSS_BORDER
 * 10 (merchant country ≠ the owning partner's `country`, else defaultIssuerCountry JP),
 * HIGH_AMOUNT 15 (JPY ≥ 100000). Bands: LOW ≥ 0, MEDIUM ≥ 40, HIGH ≥ 60, CRITICAL ≥ 80.
 * No card gets 5 authorizations (VELOCITY) and no amount is small (CARD_TESTING).
 */

const KEY_ID = 'k1';
const T0 = Date.UTC(2026, 4, 2, 3, 0, 0);
const WAIT = { timeout: 20_000, interval: 100 } as const;

type Severity = SuspiciousChargeAlert['severity'];

const JP_GROCER = { id: 'm-grocer-jp', name: 'Grocer Shibuya', mcc: '5411', country: 'JP' };
const US_GROCER = { id: 'm-grocer-us', name: 'Grocer Seattle', mcc: '5411', country: 'US' };
const JP_GADGETS = { id: 'm-gadgets-jp', name: 'Gadgets Akihabara', mcc: '5732', country: 'JP' };
const US_GADGETS = { id: 'm-gadgets-us', name: 'Gadgets Online', mcc: '5732', country: 'US' };
const JP_BOOKS = { id: 'm-books-jp', name: 'Books Online', mcc: '5942', country: 'JP' };

/** An everyday authorization: a grocery in Japan, 5,000 JPY, card present, approved. */
const authorization = authorizationBuilder(T0, JP_GROCER);

/** A reader of the monitor's alert topic, kept open so each wait sees new messages. */
async function tailTopic(kafka: Kafka, topic: string) {
  const messages: CollectedMessage[] = [];
  const consumer = kafka.consumer({
    groupId: `tail-${topic}-${Math.random().toString(36).slice(2)}`,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: ({ partition, message }) => {
      messages.push({
        topic,
        partition,
        offset: message.offset,
        key: message.key,
        value: message.value,
        headers: {},
      });
      return Promise.resolve();
    },
  });
  return { messages, stop: () => consumer.disconnect() };
}

async function produce(producer: Producer, topic: string, key: string, value: Buffer): Promise<void> {
  await producer.send({ topic, acks: -1, messages: [{ key, value }] });
}

/** Writes `text` to `path` the way config management does: a temporary file, then a rename. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temporary, text, 'utf8');
  await rename(temporary, path);
}

describe('monitor: partner routing and rules hot reload (in-process, real Kafka, registry and Redis)', () => {
  it('routes by longest BIN prefix, stamps partnerId on every alert, writes card.alerts only (never partner topics), and checks CROSS_BORDER against the partner country', async ({
    endpoints,
    testId,
    kafka,
    admin,
    createTopics,
    redis,
    redisPrefix,
    groupId,
  }) => {
    const topics = await createMonitorTopics(createTopics);
    const fingerprintKey = freshFingerprintKey(KEY_ID);
    const keyring: Keyring = fingerprintKey.keyring;

    // Nested prefixes: Asahi owns 453201 (6) and 45320179 (8); Birch owns 4532017 (7) in between.
    // 453201 0… → Asahi (6), 4532017 1… → Birch (7 beats 6), 4532017 9… → Asahi (8 beats 7),
    // 453202… shares five digits with Asahi and belongs to nobody.
    const partnerA = `asahi-${testId}`.slice(0, 40).replace(/-+$/, '');
    const partnerB = `birch-${testId}`.slice(0, 40).replace(/-+$/, '');
    const topicA = `routing-asahi.${testId}`;
    const topicB = `routing-birch.${testId}`;
    const A6 = { pan: withLuhnCheckDigit('453201012345678'), expiry: '2028-04' };
    const A8 = { pan: withLuhnCheckDigit('453201791234567'), expiry: '2027-09' };
    const B7 = { pan: withLuhnCheckDigit('453201712345678'), expiry: '2029-06' };
    const U = { pan: withLuhnCheckDigit('453202987654321'), expiry: '2028-12' };
    const cleanA = withLuhnCheckDigit('453201055555555');
    const cleanB = withLuhnCheckDigit('453201766666666');
    const owner = new Map([
      [A6.pan, partnerA],
      [A8.pan, partnerA],
      [B7.pan, partnerB],
      [U.pan, 'unrouted'],
    ]);

    const dir = await mkdtemp(join(tmpdir(), 'leakwatch-routing-'));
    const partnersFile = join(dir, 'partners.yaml');
    await writeFile(
      partnersFile,
      [
        'partners:',
        `  - partnerId: ${partnerA}`,
        '    name: Asahi Card',
        '    country: JP',
        "    binPrefixes: ['453201', '45320179']",
        '    minSeverity: LOW',
        '    delivery:',
        `      kafka: { topic: ${topicA} }`,
        `  - partnerId: ${partnerB}`,
        '    name: Birch Bank (US)',
        '    country: US',
        "    binPrefixes: ['4532017']",
        '    minSeverity: HIGH',
        '    delivery:',
        `      kafka: { topic: ${topicB} }`,
        // the monitor does not deliver webhooks, but it loads (and checks) the whole file: a
        // secret read from the environment must not stop it from starting
        '      webhook:',
        '        url: http://127.0.0.1:9/leakwatch',
        '        secrets: [{ env: LEAKWATCH_WEBHOOK_SECRET_BIRCH }]',
        '        allowPrivateNetwork: true',
        '',
      ].join('\n'),
      'utf8',
    );

    const manifest = testManifest(`inc-routing-${testId}`);
    await importIncident({ redis, keyPrefix: redisPrefix, keyring, manifest, cards: [A6, A8, B7, U] });

    let handle: MonitorHandle | undefined;
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    const started = performance.now();
    try {
      handle = await startInProcessMonitor(
        {
          endpoints,
          topics,
          groupId,
          redisPrefix,
          fingerprintKeys: fingerprintKey.env,
          extra: {
            LEAKWATCH_PARTNERS_FILE: partnersFile,
            // the main topics exist already; even when asked to create topics, the monitor
            // leaves partner topics to the dispatcher
            LEAKWATCH_CREATE_TOPICS: 'true',
            LEAKWATCH_TOPIC_PARTITIONS: '3',
          },
        },
        { secretEnv: { LEAKWATCH_WEBHOOK_SECRET_BIRCH: `whsec_${Buffer.alloc(32, 5).toString('base64')}` } },
      );
      const port = handle.httpPort;
      const startedMs = performance.now() - started;

      // ---- the partner topics are the dispatcher's: the monitor neither creates nor writes them ----
      const existing = new Set(await admin.listTopics());
      expect(existing.has(topicA), topicA).toBe(false);
      expect(existing.has(topicB), topicB).toBe(false);
      const registry = createSchemaRegistry({ url: endpoints.schemaRegistryUrl });
      const encoder = await createAuthorizationEncoder({
        registry,
        subject: valueSubject(topics.authorizations),
      });

      // ---- the stream ----
      interface Expected {
        eventId: string;
        pan: string;
        partnerId: string;
        reasons: Array<[string, number]>;
        severity: Severity;
        /** The issuer country CROSS_BORDER names, when it fires ("JP (assumed…)" for the default). */
        crossBorderIssuer?: string;
      }
      const expected: Expected[] = [];
      const stream: Array<{ key: string; value: Buffer }> = [];
      const watched = (e: Expected, auth: CardAuthorizationInput) => {
        expected.push(e);
        stream.push({ key: `card-${e.pan.slice(-6)}`, value: encoder.encode(auth) });
      };
      const pan = (card: { pan: string; expiry: string | null }, expiry: string | null = card.expiry) => ({
        pan: card.pan,
        expiry,
      });
      const online = { channel: 'ECOMMERCE', threeDs: 'NOT_PERFORMED', cvvResult: 'MATCH' } as const;

      // Asahi (JP, minSeverity LOW).
      watched(
        {
          eventId: `rt-a6-shop-${testId}`,
          pan: A6.pan,
          partnerId: partnerA,
          reasons: [
            ['LEAKED_CARD', 20],
            ['EXPIRY_MATCHES_LEAK', 5],
          ],
          severity: 'LOW',
        },
        authorization(`rt-a6-shop-${testId}`, 0, pan(A6)),
      );
      watched(
        {
          eventId: `rt-a6-abroad-${testId}`,
          pan: A6.pan,
          partnerId: partnerA,
          reasons: [
            ['LEAKED_CARD', 20],
            ['EXPIRY_MATCHES_LEAK', 5],
            ['CROSS_BORDER', 10],
          ],
          severity: 'LOW',
          crossBorderIssuer: 'JP',
        },
        authorization(`rt-a6-abroad-${testId}`, 20, pan(A6), { merchant: US_GROCER }),
      );
      watched(
        {
          eventId: `rt-a8-online-${testId}`,
          pan: A8.pan,
          partnerId: partnerA,
          reasons: [
            ['LEAKED_CARD', 20],
            ['CVV_EXPOSED_CARD_NOT_PRESENT', 10],
            ['NO_3DS_CARD_NOT_PRESENT', 15],
            ['HIGH_RISK_MCC', 15],
          ],
          severity: 'HIGH',
        },
        authorization(`rt-a8-online-${testId}`, 1, pan(A8, null), { ...online, merchant: JP_GADGETS }),
      );
      // Birch (US, minSeverity HIGH, applied by the dispatcher). A US shop is
      // domestic for Birch (the JP default would have called it cross-border), a JP shop is not.
      watched(
        {
          eventId: `rt-b7-shop-us-${testId}`,
          pan: B7.pan,
          partnerId: partnerB,
          reasons: [
            ['LEAKED_CARD', 20],
            ['EXPIRY_MATCHES_LEAK', 5],
          ],
          severity: 'LOW',
        },
        authorization(`rt-b7-shop-us-${testId}`, 0, pan(B7), { merchant: US_GROCER }),
      );
      watched(
        {
          eventId: `rt-b7-online-jp-${testId}`,
          pan: B7.pan,
          partnerId: partnerB,
          reasons: [
            ['LEAKED_CARD', 20],
            ['CVV_EXPOSED_CARD_NOT_PRESENT', 10],
            ['NO_3DS_CARD_NOT_PRESENT', 15],
            ['CROSS_BORDER', 10],
          ],
          severity: 'MEDIUM',
          crossBorderIssuer: 'US',
        },
        authorization(`rt-b7-online-jp-${testId}`, 20, pan(B7, null), { ...online, merchant: JP_BOOKS }),
      );
      watched(
        {
          eventId: `rt-b7-online-us-${testId}`,
          pan: B7.pan,
          partnerId: partnerB,
          reasons: [
            ['LEAKED_CARD', 20],
            ['CVV_EXPOSED_CARD_NOT_PRESENT', 10],
            ['NO_3DS_CARD_NOT_PRESENT', 15],
            ['HIGH_RISK_MCC', 15],
          ],
          severity: 'HIGH',
        },
        authorization(`rt-b7-online-us-${testId}`, 40, pan(B7, null), { ...online, merchant: US_GADGETS }),
      );
      // Birch's card sent by fingerprint (8-digit BIN from upstream): routed the same way.
      watched(
        {
          eventId: `rt-b7-fp-fraud-${testId}`,
          pan: B7.pan,
          partnerId: partnerB,
          reasons: [
            ['LEAKED_CARD', 20],
            ['CVV_EXPOSED_CARD_NOT_PRESENT', 10],
            ['NO_3DS_CARD_NOT_PRESENT', 15],
            ['HIGH_RISK_MCC', 15],
            ['CROSS_BORDER', 10],
            ['HIGH_AMOUNT', 15],
          ],
          severity: 'CRITICAL',
          crossBorderIssuer: 'US',
        },
        authorization(
          `rt-b7-fp-fraud-${testId}`,
          60,
          {
            pan: null,
            fingerprint: keyring.fingerprint(B7.pan),
            keyId: KEY_ID,
            bin: B7.pan.slice(0, 8),
            last4: B7.pan.slice(-4),
            expiry: null,
          },
          { ...online, threeDs: 'FAILED', amountMinor: 150_000, merchant: JP_GADGETS },
        ),
      );
      // Nobody's BIN: "unrouted", CROSS_BORDER from the rules' default JP.
      watched(
        {
          eventId: `rt-u-shop-${testId}`,
          pan: U.pan,
          partnerId: 'unrouted',
          reasons: [
            ['LEAKED_CARD', 20],
            ['EXPIRY_MATCHES_LEAK', 5],
          ],
          severity: 'LOW',
        },
        authorization(`rt-u-shop-${testId}`, 0, pan(U)),
      );
      watched(
        {
          eventId: `rt-u-online-us-${testId}`,
          pan: U.pan,
          partnerId: 'unrouted',
          reasons: [
            ['LEAKED_CARD', 20],
            ['CVV_EXPOSED_CARD_NOT_PRESENT', 10],
            ['NO_3DS_CARD_NOT_PRESENT', 15],
            ['HIGH_RISK_MCC', 15],
            ['CROSS_BORDER', 10],
          ],
          severity: 'HIGH',
          crossBorderIssuer: 'JP (assumed: rules default)',
        },
        authorization(`rt-u-online-us-${testId}`, 20, pan(U, null), { ...online, merchant: US_GADGETS }),
      );
      // Clean cards in both partners' ranges, fraud-shaped: no alert anywhere.
      for (const [label, number] of [
        ['a', cleanA],
        ['b', cleanB],
      ] as const) {
        stream.push({
          key: `clean-${label}`,
          value: encoder.encode(
            authorization(`rt-clean-${label}-${testId}`, 5, pan({ pan: number, expiry: '2030-01' }), {
              ...online,
              amountMinor: 150_000,
              merchant: US_GADGETS,
            }),
          ),
        });
      }
      const severityOf = (score: number): Severity =>
        score >= 80 ? 'CRITICAL' : score >= 60 ? 'HIGH' : score >= 40 ? 'MEDIUM' : 'LOW';
      for (const e of expected) {
        expect(severityOf(e.reasons.reduce((s, [, p]) => s + p, 0)), `${e.eventId}: hand-computed band`).toBe(
          e.severity,
        );
        expect(owner.get(e.pan), e.eventId).toBe(e.partnerId);
      }

      await producer.connect();
      const produceStarted = performance.now();
      for (const m of stream) await produce(producer, topics.authorizations, m.key, m.value);

      let metrics = '';
      await vi.waitFor(async () => {
        metrics = (await getOps(port, '/metrics')).body;
        expect(processedCounts(metrics).total).toBe(stream.length);
      }, WAIT);
      const processedMs = performance.now() - produceStarted;

      // ---- card.alerts: every alert, each with the partnerId of the longest matching prefix ----
      const main = await decodeAlerts(
        endpoints.schemaRegistryUrl,
        await readToEnd(kafka, admin, topics.alerts),
      );
      expect(main.map((a) => a.alert.eventId).sort()).toEqual(expected.map((e) => e.eventId).sort());
      for (const want of expected) {
        const got = main.find((a) => a.alert.eventId === want.eventId);
        if (!got) throw new Error(`no alert for ${want.eventId}`);
        const { alert, key } = got;
        const fingerprint = keyring.fingerprint(want.pan);
        expect(key, `${want.eventId}: keyed by fingerprint`).toBe(fingerprint);
        expect(
          {
            alertId: alert.alertId,
            partnerId: alert.partnerId,
            fingerprint: alert.card.fingerprint,
            bin: alert.card.bin,
            last4: alert.card.last4,
            reasons: alert.reasons.map((r) => [r.code, r.points]),
            score: alert.score,
            severity: alert.severity,
          },
          want.eventId,
        ).toEqual({
          alertId: alertIdFor(want.eventId),
          partnerId: want.partnerId,
          fingerprint,
          // the BIN shown leaves 6 digits hidden; routing still matched the 8-digit prefix
          bin: maskPan(want.pan).bin,
          last4: want.pan.slice(-4),
          reasons: want.reasons,
          score: want.reasons.reduce((s, [, p]) => s + p, 0),
          severity: want.severity,
        });
        const crossBorder = alert.reasons.find((r) => r.code === 'CROSS_BORDER');
        if (want.crossBorderIssuer !== undefined) {
          expect(crossBorder?.description, want.eventId).toBe(
            `merchant country ${alert.transaction.merchantCountry} differs from issuer country ${want.crossBorderIssuer}`,
          );
        }
        expect(alert.ruleSetVersion).toBe(defaultRuleSet().version);
      }

      // Birch's alerts below its minSeverity (HIGH) are on card.alerts with its partnerId too:
      // the dispatcher, not the monitor, applies minSeverity.
      const birchBelowHigh = main.filter(
        (a) =>
          a.alert.partnerId === partnerB && (a.alert.severity === 'LOW' || a.alert.severity === 'MEDIUM'),
      );
      expect(birchBelowHigh.map((a) => a.alert.severity).sort()).toEqual(['LOW', 'MEDIUM']);

      // ---- still no partner topic: nothing was auto-created by a stray produce ----
      const after = new Set(await admin.listTopics());
      expect(after.has(topicA) || after.has(topicB)).toBe(false);

      // ---- metrics: alerts by partner and severity; nothing for the clean cards ----
      expect(processedCounts(metrics)).toEqual({
        clean: 2,
        alerted: expected.length,
        deadLettered: 0,
        total: stream.length,
      });
      for (const partner of [partnerA, partnerB, 'unrouted']) {
        for (const severity of ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const) {
          expect(
            metricValue(metrics, 'leakwatch_alerts_total', { partner, severity }),
            `${partner} ${severity}`,
          ).toBe(expected.filter((e) => e.partnerId === partner && e.severity === severity).length);
        }
      }
      console.info(
        `[routing] monitor start ${startedMs.toFixed(0)} ms; ${stream.length} events processed in ${processedMs.toFixed(0)} ms`,
      );
    } finally {
      await producer.disconnect();
      await handle?.close();
      await admin.deleteTopics({ topics: [topicA, topicB] }).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('hot-reloads an atomically replaced rules file under a running monitor, and keeps the last good rules when the file turns invalid', async ({
    endpoints,
    testId,
    kafka,
    createTopics,
    redis,
    redisPrefix,
    groupId,
  }) => {
    const topics = await createMonitorTopics(createTopics);
    const fingerprintKey = freshFingerprintKey(KEY_ID);
    const { keyring } = fingerprintKey;
    const card = { pan: withLuhnCheckDigit('356912345678901'), expiry: '2028-02' };
    await importIncident({
      redis,
      keyPrefix: redisPrefix,
      keyring,
      manifest: testManifest(`inc-reload-${testId}`),
      cards: [card],
    });

    const defaults = await readFile(new URL('../packages/rules/defaults.yaml', import.meta.url), 'utf8');
    const leakedCardPoints = /( {2}LEAKED_CARD:\n {4}enabled: true\n {4}points: )20\n/;
    expect(defaults).toMatch(leakedCardPoints);
    const withLeakedCard = (points: string) => defaults.replace(leakedCardPoints, `$1${points}\n`);

    const dir = await mkdtemp(join(tmpdir(), 'leakwatch-rules-'));
    const rulesFile = join(dir, 'rules.yaml');
    const v1 = parseRuleSet(withLeakedCard('30'), rulesFile).version;
    const v2 = parseRuleSet(withLeakedCard('45'), rulesFile).version;
    const v3 = parseRuleSet(withLeakedCard('60'), rulesFile).version;
    expect(new Set([defaultRuleSet().version, v1, v2, v3]).size).toBe(4);
    const invalidText = withLeakedCard('fifty');
    expect(() => parseRuleSet(invalidText, rulesFile)).toThrow(/LEAKED_CARD/);
    await writeFile(rulesFile, withLeakedCard('30'), 'utf8');

    const log = captureLines();
    let handle: MonitorHandle | undefined;
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    let tail: Awaited<ReturnType<typeof tailTopic>> | undefined;
    const timings: string[] = [];
    try {
      handle = await startInProcessMonitor(
        {
          endpoints,
          topics,
          groupId,
          redisPrefix,
          fingerprintKeys: fingerprintKey.env,
          extra: { LEAKWATCH_RULES_FILE: rulesFile },
        },
        { level: 'info', destination: log.stream },
      );
      const port = handle.httpPort;
      const versionInForce = async () => {
        const text = (await getOps(port, '/metrics')).body;
        return text
          .split('\n')
          .filter((line) => line.startsWith('leakwatch_rule_set_info{'))
          .map((line) => [/version="([^"]+)"/.exec(line)?.[1], metricValue(text, 'leakwatch_rule_set_info')]);
      };
      expect(await versionInForce()).toEqual([[v1, 1]]);

      const encoder = await createAuthorizationEncoder({
        registry: createSchemaRegistry({ url: endpoints.schemaRegistryUrl }),
        subject: valueSubject(topics.authorizations),
      });
      tail = await tailTopic(kafka, topics.alerts);
      await producer.connect();

      // A watched card in a shop with the leaked expiry: LEAKED_CARD (per the file) + 5.
      let sent = 0;
      const chargeAndRead = async (label: string): Promise<SuspiciousChargeAlert> => {
        const eventId = `reload-${label}-${testId}`;
        const minute = 20 * sent++;
        await produce(
          producer,
          topics.authorizations,
          'card',
          encoder.encode(authorization(eventId, minute, { pan: card.pan, expiry: card.expiry })),
        );
        const messages = tail?.messages ?? [];
        let found: SuspiciousChargeAlert | undefined;
        await vi.waitFor(async () => {
          const decoded = await decodeAlerts(endpoints.schemaRegistryUrl, messages);
          found = decoded.find((a) => a.alert.eventId === eventId)?.alert;
          expect(found, `alert for ${eventId}`).toBeDefined();
        }, WAIT);
        return found as SuspiciousChargeAlert;
      };
      const scoring = (alert: SuspiciousChargeAlert) => ({
        ruleSetVersion: alert.ruleSetVersion,
        score: alert.score,
        severity: alert.severity,
        reasons: alert.reasons.map((r) => [r.code, r.points]),
      });
      const expectedFor = (version: string, points: number) => ({
        ruleSetVersion: version,
        score: points + 5,
        severity: points + 5 >= 60 ? 'HIGH' : points + 5 >= 40 ? 'MEDIUM' : 'LOW',
        reasons: [
          ['LEAKED_CARD', points],
          ['EXPIRY_MATCHES_LEAK', 5],
        ],
      });

      // ---- the file as started ----
      expect(scoring(await chargeAndRead('first'))).toEqual(expectedFor(v1, 30));

      // ---- replaced atomically: the new version is in force without a restart ----
      let since = performance.now();
      await writeAtomically(rulesFile, withLeakedCard('45'));
      await vi.waitFor(async () => expect(await versionInForce()).toEqual([[v2, 1]]), WAIT);
      timings.push(`reload seen in ${(performance.now() - since).toFixed(0)} ms`);
      expect(scoring(await chargeAndRead('second'))).toEqual(expectedFor(v2, 45));

      // ---- an invalid file: reported, and the last good rules stay in force ----
      since = performance.now();
      await writeAtomically(rulesFile, invalidText);
      await vi.waitFor(() => {
        expect(
          log.lines.some(
            (line) =>
              line.includes('rules file not applied; keeping the current rule set') &&
              line.includes('RULES_INVALID'),
          ),
        ).toBe(true);
      }, WAIT);
      timings.push(`invalid file rejected in ${(performance.now() - since).toFixed(0)} ms`);
      expect(await versionInForce()).toEqual([[v2, 1]]);
      expect(scoring(await chargeAndRead('third'))).toEqual(expectedFor(v2, 45));
      expect(await versionInForce()).toEqual([[v2, 1]]);
      expect(handle.monitor.readiness().ok).toBe(true);

      // ---- a good file again: reloading did not stop at the bad one ----
      since = performance.now();
      await writeAtomically(rulesFile, withLeakedCard('60'));
      await vi.waitFor(async () => expect(await versionInForce()).toEqual([[v3, 1]]), WAIT);
      timings.push(`recovery seen in ${(performance.now() - since).toFixed(0)} ms`);
      expect(scoring(await chargeAndRead('fourth'))).toEqual(expectedFor(v3, 60));

      const reloads = log.lines
        .filter((line) => line.includes('"msg":"rules reloaded"') && line.includes('"previous"'))
        .map((line) => JSON.parse(line) as { ruleSetVersion: string; previous: string })
        .map((l) => [l.previous, l.ruleSetVersion]);
      expect(reloads).toEqual([
        [v1, v2],
        [v2, v3],
      ]);
      const counts = processedCounts((await getOps(port, '/metrics')).body);
      expect(counts).toEqual({ clean: 0, alerted: 4, deadLettered: 0, total: 4 });
      console.info(`[rules reload] ${timings.join('; ')}`);
    } finally {
      await tail?.stop();
      await producer.disconnect();
      await handle?.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
