import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { integrationTest as it } from '@leakwatch/testing';
import { describe, expect } from 'vitest';
import { cardAuthorizationAvro } from './avro-schemas.js';
import { validateCardAuthorization } from './card-authorization.js';
import { createAuthorizationDecoder } from './decoder.js';
import { confluentFrame, registerContractSchemas } from './encoder.js';
import { exampleAuthorization } from './examples.js';
import { createSchemaRegistry, type ContractRegistry } from './registry.js';

/** The real registry client, counting lookups and how many are in flight at once. */
function counting(registry: Pick<ContractRegistry, 'getSchema'>) {
  const stats = { lookups: 0, inFlight: 0, maxInFlight: 0 };
  const counted: Pick<ContractRegistry, 'getSchema'> = {
    getSchema: async (id) => {
      stats.lookups++;
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      try {
        return await registry.getSchema(id);
      } finally {
        stats.inFlight--;
      }
    },
  };
  return { stats, counted };
}

describe('decoder against the real schema registry: poison that floods lookups', () => {
  it('dead-letters a batch of 0x00 junk with many distinct ids, with bounded lookups, and decodes the good message', async ({
    endpoints,
    registry: fixtureRegistry,
    testId,
  }) => {
    const ids = await registerContractSchemas(fixtureRegistry, {
      authorizations: `card.authorizations.${testId}`,
      alerts: `card.alerts.${testId}`,
      dispositions: `card.alert-dispositions.${testId}`,
      partnerTopics: [],
    });
    const { stats, counted } = counting(createSchemaRegistry({ url: endpoints.schemaRegistryUrl }));
    const decoder = createAuthorizationDecoder({ registry: counted, maxConcurrentLookups: 4 });

    const valid = validateCardAuthorization(exampleAuthorization());
    if (!valid.ok) throw new Error(valid.message);
    const good = confluentFrame(ids.authorizations, cardAuthorizationAvro.type.toBuffer(valid.value));
    // binary junk starting with 0x00: bytes 1-4 read as a "schema id", a different one each time
    const junk = Array.from({ length: 300 }, (_, i) =>
      Buffer.concat([
        Buffer.from([0]),
        Buffer.from([0x5a, 0x10 + (i >> 8), i & 0xff, 0x33]),
        Buffer.from('junk'),
      ]),
    );
    const batch = [...junk.slice(0, 150), good, ...junk.slice(150)];

    const results = await decoder.decodeBatch(batch);
    expect(results[150]).toMatchObject({ ok: true, format: 'avro' });
    const poisoned = results.filter((r) => !r.ok);
    expect(poisoned).toHaveLength(300);
    expect(poisoned.every((r) => !r.ok && r.code === 'UNKNOWN_SCHEMA_ID')).toBe(true);
    // each distinct id asked once, never more than 4 at a time
    expect(stats.lookups).toBe(301);
    expect(stats.maxInFlight).toBeLessThanOrEqual(4);

    // the batch again (a retry after a pause, a redelivery): the 404s are remembered
    const again = await decoder.decodeBatch(batch);
    expect(again.filter((r) => !r.ok)).toHaveLength(300);
    expect(stats.lookups).toBe(301);
  });
});

/** Avro's zig-zag varint of a count (exact up to 2^53). */
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

describe('decoder against the real schema registry: one small message cannot hang it', () => {
  it('dead-letters a message whose registered writer has an array of null announcing 2^53 items', async ({
    endpoints,
    registry: fixtureRegistry,
    testId,
  }) => {
    // a writer that added a field the contract does not have: an array of null
    const schema = JSON.parse(cardAuthorizationAvro.text) as { fields: unknown[] };
    const writer = {
      ...schema,
      fields: [...schema.fields, { name: 'padding', type: { type: 'array', items: 'null' }, default: [] }],
    };
    const { id } = await fixtureRegistry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(writer) },
      { subject: `card.authorizations.${testId}-value` },
    );
    const decoder = createAuthorizationDecoder({
      registry: createSchemaRegistry({ url: endpoints.schemaRegistryUrl }),
    });
    const valid = validateCardAuthorization(exampleAuthorization());
    if (!valid.ok) throw new Error(valid.message);
    const record = cardAuthorizationAvro.type.toBuffer(valid.value);
    const crafted = confluentFrame(id, Buffer.concat([record, varint(2 ** 53), varint(0)]));
    const fine = confluentFrame(id, Buffer.concat([record, varint(3), varint(0)]));

    const results = await decoder.decodeBatch([crafted, fine]);
    expect(results[0]).toEqual({
      ok: false,
      code: 'AVRO_TOO_COMPLEX',
      message: `Avro payload with schema id ${id} holds more than 10000 array or map items`,
    });
    expect(results[1]).toMatchObject({ ok: true, format: 'avro' });
  });
});
