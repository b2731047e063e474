import { setTimeout as sleep } from 'node:timers/promises';
import { LeakStore } from '@leakwatch/leak-store';
import type { MonitorHandle } from '@leakwatch/monitor-service';
import { integrationTest as it } from '@leakwatch/testing';
import type { Producer } from 'kafkajs';
import { describe, expect, vi } from 'vitest';
import {
  authorizationBuilder,
  committedCount,
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
  waitUntilReady,
} from './support/monitor-harness.js';
import { watchedCardsFor } from './support/traffic.js';

/*
 * Issue 11, "clean path with no Redis round trip": the monitor keeps an in-process filter of the
 * watched fingerprints and asks Redis only about its candidates. Proven here on the real stack:
 * clean traffic sends no lookup to Redis (the benchmark counts it with INFO commandstats on a
 * quiet machine); a card imported while the monitor
 * runs is matched once the filter's staleness bound has passed; a retired incident and a
 * reissued card stop matching at once, because Redis is still asked about every candidate.
 */

const WAIT = { timeout: 60_000, interval: 100 } as const;
/** The bound under test: an import is matched this long after it finished (default 2000). */
const MAX_STALE_MS = 2000;
const T0 = Date.UTC(2026, 4, 3, 4, 0, 0);
const authorization = authorizationBuilder(T0, {
  id: 'm-books-jp',
  name: 'Books Umeda',
  mcc: '5942',
  country: 'JP',
});

describe('monitor: in-process watch filter', () => {
  it('sends no command for clean traffic, matches a card imported while it runs, and stops at once for a retired incident or a reissued card', async ({
    endpoints,
    kafka,
    admin,
    createTopics,
    redis,
    redisPrefix,
    groupId,
    testId,
  }) => {
    const topics = await createMonitorTopics(createTopics);
    const { env: fingerprintKeys, keyring } = freshFingerprintKey();
    const [a, b, c] = watchedCardsFor(testId, 3) as [
      { pan: string; expiry: string },
      { pan: string; expiry: string },
      { pan: string; expiry: string },
    ];
    await importIncident({
      redis,
      keyPrefix: redisPrefix,
      keyring,
      manifest: testManifest(`inc-${testId}-1`),
      cards: [a, c],
    });
    const card = (spec: { pan: string; expiry: string }) => ({ pan: spec.pan, expiry: spec.expiry });
    const clean = watchedCardsFor(`${testId}-clean`, 300);

    let handle: MonitorHandle | undefined;
    const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
    const store = new LeakStore({ redis, keyPrefix: redisPrefix });
    await store.start();
    try {
      handle = await startInProcessMonitor({
        endpoints,
        topics,
        groupId,
        redisPrefix,
        fingerprintKeys,
        extra: { LEAKWATCH_WATCH_FILTER_MAX_STALE_MS: String(MAX_STALE_MS) },
      });
      const port = handle.httpPort;
      const filter = handle.watchFilter;
      expect(filter).not.toBeNull();
      await waitUntilReady(port, WAIT);
      await filter?.loaded;
      await producer.connect();
      const metrics = async () => processedCounts((await getOps(port, '/metrics')).body);
      const send = async (events: ReturnType<typeof authorization>[], key?: string) => {
        await producer.send({
          topic: topics.authorizations,
          acks: -1,
          messages: events.map((event) => ({
            key: key ?? event.eventId,
            value: Buffer.from(JSON.stringify(event)),
          })),
        });
      };

      // ---- clean traffic: answered in memory. The filter is the pipeline's only way to the
      // watch list and counts every fingerprint it sends to Redis (positives when filtering,
      // bypassed when not loaded or stale); clean cards write no history. So 0 + 0 means not
      // one Redis command for these 300 authorizations. (A MONITOR of the shared Redis would
      // also see other tests, and parsing its flood stalls this process.) ----
      await send(clean.map((spec, i) => authorization(`clean-${testId}-${i}`, i, card(spec))));
      // offsets from Kafka, not /metrics: a scrape reads the watch-list gauges from Redis
      await vi.waitFor(
        async () => expect(await committedCount(admin, groupId, topics.authorizations)).toBe(clean.length),
        WAIT,
      );
      expect(filter?.stats).toMatchObject({ active: true, builtCards: 2, positives: 0, bypassed: 0 });
      expect((await metrics()).clean).toBe(clean.length);

      // ---- a card imported while the monitor runs ----
      await importIncident({
        redis,
        keyPrefix: redisPrefix,
        keyring,
        manifest: testManifest(`inc-${testId}-2`),
        cards: [b],
      });
      // The contract under test, not a guess: an authorization arriving MAX_STALE_MS after the
      // import finished is matched (the filter either synced since, or asks Redis).
      await sleep(MAX_STALE_MS);
      await send([authorization(`b-imported-${testId}`, 400, card(b))]);
      await vi.waitFor(async () => expect((await metrics()).alerted).toBe(1), WAIT);
      await vi.waitFor(() => expect(filter?.stats.addedCards).toBe(1), WAIT);

      // ---- retired: B stops matching at once. A sentinel on A, behind it in the same
      // partition, proves B's authorization was processed when the sentinel alert is seen ----
      await store.retireIncident(`inc-${testId}-2`);
      await send(
        [
          authorization(`b-after-retire-${testId}`, 401, card(b)),
          authorization(`a-sentinel-${testId}`, 402, card(a)),
        ],
        'one-partition',
      );
      await vi.waitFor(async () => expect((await metrics()).alerted).toBe(2), WAIT);

      // ---- reissued: A stops matching at once; C is the sentinel ----
      await store.removeCard(keyring.fingerprint(a.pan));
      await send(
        [
          authorization(`a-after-reissue-${testId}`, 403, card(a)),
          authorization(`c-sentinel-${testId}`, 404, card(c)),
        ],
        'one-partition',
      );
      await vi.waitFor(async () => expect((await metrics()).alerted).toBe(3), WAIT);

      const alerts = await decodeAlerts(
        endpoints.schemaRegistryUrl,
        await readToEnd(kafka, admin, topics.alerts),
      );
      expect(alerts.map((x) => x.alert.eventId).sort()).toEqual(
        [`a-sentinel-${testId}`, `b-imported-${testId}`, `c-sentinel-${testId}`].sort(),
      );
      expect((await metrics()).total).toBe(clean.length + 5);
      // B after retirement and A after reissue passed the filter and Redis said no
      expect(filter?.stats.unconfirmed).toBeGreaterThanOrEqual(2);
      const text = (await getOps(port, '/metrics')).body;
      expect(metricValue(text, 'leakwatch_watch_filter_active')).toBe(1);
      expect(metricValue(text, 'leakwatch_watch_filter_cards')).toBe(3);
      expect(metricValue(text, 'leakwatch_watch_filter_false_positives_total')).toBeGreaterThanOrEqual(2);
    } finally {
      await producer.disconnect();
      await handle?.close();
      await store.close();
    }
  });
});
