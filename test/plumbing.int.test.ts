import { readFile } from 'node:fs/promises';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { collectMessages, integrationTest as it } from '@leakwatch/testing';
import { describe, expect } from 'vitest';

const schemaPath = new URL('../schemas/CardAuthorization.avsc', import.meta.url);

describe('plumbing: real Kafka, Apicurio (ccompat) and Redis', () => {
  it('registers CardAuthorization, round-trips a Confluent-framed Avro message through Kafka', async ({
    kafka,
    registry,
    topic,
  }) => {
    const schema = await readFile(schemaPath, 'utf8');
    const subject = `${topic}-value`;
    const { id } = await registry.register({ type: SchemaType.AVRO, schema }, { subject });
    // registering the same schema again must answer the same id, not a compatibility error
    const again = await registry.register({ type: SchemaType.AVRO, schema }, { subject });
    expect(again.id).toBe(id);

    const sent = {
      eventId: 'evt-plumbing-1',
      occurredAt: 1_732_000_000_000,
      mti: '0100',
      card: {
        pan: null,
        fingerprint: 'x'.repeat(43),
        keyId: 'k1',
        bin: '41111111',
        last4: '1111',
        expiry: '2027-09',
      },
      amountMinor: 12_800,
      currency: 'JPY',
      merchant: { id: 'm-1', name: 'Shop', mcc: '5732', country: 'JP' },
      channel: 'ECOMMERCE',
      threeDs: 'NOT_PERFORMED',
      cvvResult: 'MATCH',
      responseCode: '00',
      acquirerId: null,
    };
    const value = await registry.encode(id, sent);
    expect(value[0]).toBe(0); // Confluent magic byte
    expect(value.readInt32BE(1)).toBe(id);

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: sent.eventId, value }] });
    await producer.disconnect();

    const [message] = await collectMessages(kafka, { topic, until: (m) => m.length >= 1 });
    expect(message?.key?.toString()).toBe(sent.eventId);
    expect(await registry.decode(message?.value as Buffer)).toEqual(sent);
  });

  it('writes a Redis key and reads it back', async ({ redis, redisPrefix }) => {
    await redis.set(`${redisPrefix}hello`, 'world', 'EX', 60);
    expect(await redis.get(`${redisPrefix}hello`)).toBe('world');
    expect(await redis.ttl(`${redisPrefix}hello`)).toBeGreaterThan(0);
  });
});
