import { withLuhnCheckDigit } from '@leakwatch/card';
import { createAuthorizationEncoder, createSchemaRegistry, valueSubject } from '@leakwatch/contracts';
import type { MonitorHandle } from '@leakwatch/monitor-service';
import { integrationTest as it } from '@leakwatch/testing';
import { describe, expect, vi } from 'vitest';
import {
  authorizationBuilder,
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
 * Output Kafka refuses for good must not stall a partition (issue 7, defect 4). The alert and
 * dead-letter topics get a small max.message.bytes: every alert is too large for its topic, and
 * one poison message is too large for the dead-letter topic. The monitor dead-letters the
 * refused alert's source (PUBLISH_REFUSED), empties the oversized dead letter (TOO_LARGE, with
 * its headers and original size), and carries on with the messages behind them.
 */

const WAIT = { timeout: 60_000, interval: 200 } as const;
const ALERTS_MAX_BYTES = 300;
const DLQ_MAX_BYTES = 2000;

describe('monitor: output over the broker limits', () => {
  it('dead-letters what can never be written and keeps the partition moving', async ({
    endpoints,
    kafka,
    admin,
    createTopics,
    redis,
    redisPrefix,
    groupId,
    testId,
  }) => {
    const [authorizations, alerts, deadLetters, dispositions] = await createTopics([
      { name: 'auth', numPartitions: 1 },
      {
        name: 'alerts',
        numPartitions: 1,
        configEntries: [{ name: 'max.message.bytes', value: String(ALERTS_MAX_BYTES) }],
      },
      {
        name: 'dlq',
        numPartitions: 1,
        configEntries: [{ name: 'max.message.bytes', value: String(DLQ_MAX_BYTES) }],
      },
      {
        name: 'dispositions',
        numPartitions: 1,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      },
    ]);
    const topics = {
      authorizations: authorizations as string,
      alerts: alerts as string,
      deadLetters: deadLetters as string,
      dispositions: dispositions as string,
    };
    const fingerprintKey = freshFingerprintKey();
    const watched = { pan: withLuhnCheckDigit('453201012345678'), expiry: '2028-04' };
    await importIncident({
      redis,
      keyPrefix: redisPrefix,
      keyring: fingerprintKey.keyring,
      manifest: testManifest(`inc-limits-${testId}`),
      cards: [watched],
    });
    const encoder = await createAuthorizationEncoder({
      registry: createSchemaRegistry({ url: endpoints.schemaRegistryUrl }),
      subject: valueSubject(topics.authorizations),
    });
    const authorization = authorizationBuilder(Date.UTC(2026, 4, 2), {
      id: 'm-1',
      name: 'Grocer',
      mcc: '5411',
      country: 'JP',
    });
    const bigJunk = Buffer.alloc(20_000, 'x');
    const stream = [
      { key: 'junk-big', value: bigJunk },
      { key: 'watched', value: encoder.encode(authorization(`lim-w1-${testId}`, 0, watched)) },
      { key: 'junk-small', value: Buffer.from('not an authorization') },
      {
        key: 'clean',
        value: encoder.encode(
          authorization(`lim-c-${testId}`, 1, { pan: withLuhnCheckDigit('411111000011112'), expiry: null }),
        ),
      },
      { key: 'watched', value: encoder.encode(authorization(`lim-w2-${testId}`, 2, watched)) },
    ];

    const producer = kafka.producer({ allowAutoTopicCreation: false });
    let handle: MonitorHandle | undefined;
    try {
      handle = await startInProcessMonitor({
        endpoints,
        topics,
        groupId,
        redisPrefix,
        fingerprintKeys: fingerprintKey.env,
      });
      const port = handle.httpPort;
      await producer.connect();
      for (const m of stream) await producer.send({ topic: topics.authorizations, acks: -1, messages: [m] });

      // every message is processed and committed: nothing stalls on what Kafka refuses
      let metrics = '';
      await vi.waitFor(async () => {
        metrics = (await getOps(port, '/metrics')).body;
        expect(processedCounts(metrics).total).toBe(stream.length);
      }, WAIT);
      expect(processedCounts(metrics)).toEqual({ clean: 1, alerted: 0, deadLettered: 4, total: 5 });
      expect(metricValue(metrics, 'leakwatch_dead_letters_total', { reason: 'PUBLISH_REFUSED' })).toBe(2);
      expect(metricValue(metrics, 'leakwatch_batch_retries_total')).toBe(0);
      expect(await messageCount(admin, topics.alerts)).toBe(0);

      const dead = await readToEnd(kafka, admin, topics.deadLetters);
      const byOffset = new Map(dead.map((d) => [d.headers['lw-source-offset'], d]));
      expect(dead).toHaveLength(4);
      // the oversized poison: emptied, headers kept, code TOO_LARGE, original size
      expect(byOffset.get('0')?.value?.length ?? 0).toBe(0);
      expect(byOffset.get('0')?.headers).toMatchObject({
        'lw-error-code': 'TOO_LARGE',
        'lw-original-size': String(bigJunk.length),
        'lw-source-topic': topics.authorizations,
        'lw-source-partition': '0',
      });
      // the authorizations whose alerts can never be written: their sources, as they came
      for (const offset of ['1', '4']) {
        expect(byOffset.get(offset)?.headers['lw-error-code'], offset).toBe('PUBLISH_REFUSED');
        expect(byOffset.get(offset)?.value?.equals(stream[Number(offset)]?.value as Buffer), offset).toBe(
          true,
        );
        expect(byOffset.get(offset)?.headers['lw-error-message'], offset).toMatch(
          /MESSAGE_TOO_LARGE|larger than/i,
        );
        expect(byOffset.get(offset)?.headers['lw-error-message']).not.toContain(watched.pan);
      }
      expect(byOffset.get('2')?.headers['lw-error-code']).toBe('BAD_FRAMING');
      expect((await getOps(port, '/readyz')).status).toBe(200);
    } finally {
      await producer.disconnect();
      await handle?.close();
    }
  });
});
