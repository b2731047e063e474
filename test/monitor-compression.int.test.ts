import { withLuhnCheckDigit } from '@leakwatch/card';
import type { MonitorHandle } from '@leakwatch/monitor-service';
import { integrationTest as it } from '@leakwatch/testing';
import { describe, expect, vi } from 'vitest';
import {
  authorizationBuilder,
  decodeAlerts,
  freshFingerprintKey,
  getOps,
  importIncident,
  processedCounts,
  readToEnd,
  startInProcessMonitor,
  testManifest,
} from './support/monitor-harness.js';
import { kafkaLibDir, produceWithJava } from './support/java-producer.js';

/*
 * Compressed input (issue 7, defect 3): batches written by Kafka's own Java producer with each
 * codec, one topic per codec, JSON authorizations. Before the codecs were registered kafkajs
 * threw "not implemented" on the first snappy, lz4 or zstd batch and the monitor exited 1.
 */

const WAIT = { timeout: 60_000, interval: 200 } as const;
const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;

describe('monitor: compressed input from a Java producer', () => {
  it('consumes gzip, snappy, lz4 and zstd batches and alerts on them', async ({
    endpoints,
    kafka,
    admin,
    createTopics,
    redis,
    redisPrefix,
    groupId,
    testId,
  }) => {
    const libDir = kafkaLibDir();
    expect(libDir, 'the local stack unpacked Kafka (LEAKWATCH_STACK_DIR or .cache/stack)').toBeDefined();
    const fingerprintKey = freshFingerprintKey();
    const watched = { pan: withLuhnCheckDigit('453201012345678'), expiry: '2028-04' };
    await importIncident({
      redis,
      keyPrefix: redisPrefix,
      keyring: fingerprintKey.keyring,
      manifest: testManifest(`inc-codecs-${testId}`),
      cards: [watched],
    });
    const authorization = authorizationBuilder(Date.UTC(2026, 4, 2), {
      id: 'm-1',
      name: 'Grocer',
      mcc: '5411',
      country: 'JP',
    });
    const clean = { pan: withLuhnCheckDigit('411111000011112'), expiry: null };

    for (const codec of CODECS) {
      // the fixture names topics by test and name: one set per codec
      const [authorizations, alerts, deadLetters, dispositions] = await createTopics(
        ['auth', 'alerts', 'dlq', 'dispositions'].map((name) => ({
          name: `${name}-${codec}`,
          numPartitions: 1,
        })),
      );
      const topics = {
        authorizations: authorizations as string,
        alerts: alerts as string,
        deadLetters: deadLetters as string,
        dispositions: dispositions as string,
      };
      // compressible, many per batch: JSON with repeated shapes
      const records = Array.from({ length: 200 }, (_, i) => ({
        key: `card-${i % 7}`,
        value: JSON.stringify(authorization(`${codec}-${i}-${testId}`, i, i % 10 === 0 ? watched : clean)),
      }));
      await produceWithJava({
        libDir: libDir as string,
        brokers: endpoints.kafkaBrokers.join(','),
        topic: topics.authorizations,
        codec,
        records,
      });
      let handle: MonitorHandle | undefined;
      try {
        handle = await startInProcessMonitor({
          endpoints,
          topics,
          groupId: `${groupId}-${codec}`,
          redisPrefix,
          fingerprintKeys: fingerprintKey.env,
          // the monitor's own output compressed too: read back below through the same codecs
          extra: { LEAKWATCH_KAFKA_COMPRESSION: codec === 'gzip' ? 'gzip' : 'snappy' },
        });
        const port = handle.httpPort;
        await vi.waitFor(async () => {
          const counts = processedCounts((await getOps(port, '/metrics')).body);
          expect(counts.total, codec).toBe(records.length);
        }, WAIT);
        const counts = processedCounts((await getOps(port, '/metrics')).body);
        expect(counts, codec).toEqual({ clean: 180, alerted: 20, deadLettered: 0, total: 200 });
        expect(handle.monitor.state, codec).toBe('running');
        const alerts = await decodeAlerts(
          endpoints.schemaRegistryUrl,
          await readToEnd(kafka, admin, topics.alerts),
        );
        expect(alerts.map((a) => a.alert.eventId).sort(), codec).toEqual(
          records
            .filter((_, i) => i % 10 === 0)
            .map((_, j) => `${codec}-${j * 10}-${testId}`)
            .sort(),
        );
      } finally {
        await handle?.close();
      }
    }
  });
});
