import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { contractSchemas } from './avro-schemas.js';

const schemasDir = new URL('../../../schemas/', import.meta.url);

describe('embedded Avro schemas', () => {
  it.each(Object.values(contractSchemas))('$fileName is embedded byte for byte', async (schema) => {
    const onDisk = await readFile(new URL(schema.fileName, schemasDir), 'utf8');
    expect(
      schema.text === onDisk,
      `schemas/${schema.fileName} changed: run \`pnpm --filter @leakwatch/contracts generate\``,
    ).toBe(true);
  });

  it('parses each schema with avsc under its full name', () => {
    expect(Object.values(contractSchemas).map((s) => s.type.name)).toEqual([
      'io.leakwatch.v1.CardAuthorization',
      'io.leakwatch.v1.SuspiciousChargeAlert',
      'io.leakwatch.v1.AlertDisposition',
    ]);
    for (const schema of Object.values(contractSchemas)) {
      expect(schema.fullName).toBe(schema.type.name);
      expect(schema.json).toEqual(JSON.parse(schema.text));
    }
  });

  it('reads timestamp-millis as plain numbers', () => {
    const { type } = contractSchemas.AlertDisposition;
    const value = { alertId: 'a', disposition: 'FALSE_POSITIVE', by: 'x', at: 1_746_063_000_000, note: null };
    expect(type.fromBuffer(type.toBuffer(value))).toEqual(value);
  });
});
