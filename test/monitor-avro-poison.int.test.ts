import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { cardAuthorizationAvro, confluentFrame, validateCardAuthorization } from '@leakwatch/contracts';
import type { MonitorHandle } from '@leakwatch/monitor-service';
import { integrationTest as it } from '@leakwatch/testing';
import { describe, expect, vi } from 'vitest';
import {
  authorizationBuilder,
  decodeAlerts,
  getOps,
  metricValue,
  processedCounts,
  readToEnd,
  startInProcessMonitor,
  waitUntilReady,
  watchedIncident,
} from './support/monitor-harness.js';

/*
 * Avro poison through a running monitor (issue 7, defects 8 and 9). Binary junk that starts with
 * 0x00 names a different "schema id" in every message: each is dead-lettered as
 * UNKNOWN_SCHEMA_ID after a capped, remembered lookup. A message whose writer schema has an
 * array of null announcing 2^53 items used to hang the monitor; it is dead-lettered as
 * AVRO_TOO_COMPLEX. The good events around them alert.
 */

const WAIT = { timeout: 90_000, interval: 250 } as const;
const T0 = Date.UTC(2026, 4, 2, 3, 0, 0);
const authorization = authorizationBuilder(T0, {
  id: 'm-grocer-jp',
  name: 'Grocer Shibuya',
  mcc: '5411',
  country: 'JP',
});

/** Avro's zig-zag varint of a non-negative count (exact up to 2^53). */
function varint(value: number): Buffer {
  let n = value * 2;
  const out: number[] = [];
  do {
    const low = n % 128;
    n = Math.floor(n / 128);
    out.push(n > 0 ? low | 0x80 : low);
  } while (n > 0);
  return Buffer.from(out);
}

describe('monitor: Avro poison', () => {
  it('dead-letters junk ids and a zero-width array bomb, alerts on the good events, and never hangs', async ({
    endpoints,
    kafka,
    admin,
    registry,
    createTopics,
    redis,
    redisPrefix,
    groupId,
    testId,
  }) => {
    const { topics, fingerprintKeys, watchedCards } = await watchedIncident({
      createTopics,
      redis,
      redisPrefix,
      testId,
      cardCount: 5,
    });
    const good = watchedCards.map((card, i) =>
      Buffer.from(
        JSON.stringify(
          authorization(`evt-${testId}-${i}`, i, {
            pan: card.pan,
            fingerprint: null,
            keyId: null,
            bin: null,
            last4: null,
            expiry: null,
          }),
        ),
      ),
    );
    const junk = Array.from({ length: 200 }, (_, i) =>
      Buffer.concat([Buffer.from([0, 0x5b, 0x20 + (i >> 8), i & 0xff, 0x44]), Buffer.from('junk')]),
    );
    // a writer that added an array-of-null field, and a message announcing 2^53 of them
    const schema = JSON.parse(cardAuthorizationAvro.text) as { fields: unknown[] };
    const writer = {
      ...schema,
      fields: [...schema.fields, { name: 'padding', type: { type: 'array', items: 'null' }, default: [] }],
    };
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(writer) },
      { subject: `${topics.authorizations}-value` },
    );
    const valid = validateCardAuthorization(
      authorization(`evt-${testId}-bomb`, 9, {
        pan: watchedCards[0]?.pan ?? '',
        fingerprint: null,
        keyId: null,
        bin: null,
        last4: null,
        expiry: null,
      }),
    );
    if (!valid.ok) throw new Error(valid.message);
    const bomb = confluentFrame(
      id,
      Buffer.concat([cardAuthorizationAvro.type.toBuffer(valid.value), varint(2 ** 53), varint(0)]),
    );
    const values = [...good.slice(0, 2), ...junk.slice(0, 100), bomb, ...junk.slice(100), ...good.slice(2)];

    let handle: MonitorHandle | undefined;
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    try {
      handle = await startInProcessMonitor({ endpoints, topics, groupId, redisPrefix, fingerprintKeys });
      const port = handle.httpPort;
      await waitUntilReady(port, WAIT);
      await producer.connect();
      await producer.send({
        topic: topics.authorizations,
        acks: -1,
        messages: values.map((value) => ({ key: 'one-partition', value })),
      });
      const metrics = async () => (await getOps(port, '/metrics')).body;
      await vi.waitFor(async () => expect(processedCounts(await metrics()).total).toBe(values.length), WAIT);

      const text = await metrics();
      expect(processedCounts(text)).toMatchObject({ alerted: 5, deadLettered: 201 });
      expect(metricValue(text, 'leakwatch_dead_letters_total', { reason: 'UNKNOWN_SCHEMA_ID' })).toBe(200);
      expect(metricValue(text, 'leakwatch_dead_letters_total', { reason: 'AVRO_TOO_COMPLEX' })).toBe(1);
      const dlq = await readToEnd(kafka, admin, topics.deadLetters);
      expect(dlq.filter((m) => m.headers['lw-error-code'] === 'AVRO_TOO_COMPLEX')).toHaveLength(1);
      const alerts = await decodeAlerts(
        endpoints.schemaRegistryUrl,
        await readToEnd(kafka, admin, topics.alerts),
      );
      expect(alerts.map((a) => a.alert.eventId).sort()).toEqual(
        watchedCards.map((_, i) => `evt-${testId}-${i}`).sort(),
      );
    } finally {
      await producer.disconnect();
      await handle?.close();
    }
  });
});
