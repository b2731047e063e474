import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { cardAuthorizationAvro, suspiciousChargeAlertAvro } from './avro-schemas.js';
import { validateCardAuthorization } from './card-authorization.js';
import { checkAvroWork, needsWorkBound } from './avro-work.js';
import { createAuthorizationDecoder } from './decoder.js';
import { confluentFrame } from './encoder.js';
import { exampleAuthorization } from './examples.js';

/** Avro's zig-zag varint of a count (exact up to 2^53). */
function varint(value: number): Buffer {
  let n = value >= 0 ? value * 2 : -value * 2 - 1;
  const out: number[] = [];
  do {
    const low = n % 128;
    n = Math.floor(n / 128);
    out.push(n > 0 ? low | 0x80 : low);
  } while (n > 0);
  return Buffer.from(out);
}

/** The contract's CardAuthorization with one more field, added by a writer: `extra`. */
function writerWith(extra: unknown): avro.Type {
  const schema = JSON.parse(cardAuthorizationAvro.text) as { fields: unknown[] };
  return avro.Type.forSchema(
    { ...schema, fields: [...schema.fields, { name: 'extra', type: extra }] } as avro.Schema,
    {
      wrapUnions: 'auto',
    },
  );
}

const validBody = (() => {
  const result = validateCardAuthorization(exampleAuthorization());
  if (!result.ok) throw new Error(result.message);
  return cardAuthorizationAvro.type.toBuffer(result.value);
})();

/** A registry that knows schema 60 as `writer`, counting lookups. */
function decoderFor(writer: avro.Type, maxItemsPerMessage?: number) {
  const registry = { getSchema: () => Promise.resolve(writer) };
  return createAuthorizationDecoder({
    registry: registry,
    ...(maxItemsPerMessage === undefined ? {} : { maxItemsPerMessage }),
  });
}

describe('needsWorkBound', () => {
  it('flags arrays and maps of zero-width items, anywhere, and nothing else', () => {
    expect(needsWorkBound(cardAuthorizationAvro.type)).toBe(false);
    expect(needsWorkBound(suspiciousChargeAlertAvro.type)).toBe(false);
    expect(needsWorkBound(writerWith({ type: 'array', items: 'null' }))).toBe(true);
    expect(needsWorkBound(writerWith({ type: 'map', values: 'null' }))).toBe(true);
    expect(
      needsWorkBound(writerWith({ type: 'array', items: { type: 'record', name: 'E', fields: [] } })),
    ).toBe(true);
    expect(needsWorkBound(writerWith({ type: 'array', items: { type: 'fixed', name: 'Z', size: 0 } }))).toBe(
      true,
    );
    expect(
      needsWorkBound(writerWith(['null', { type: 'array', items: { type: 'array', items: 'null' } }])),
    ).toBe(true);
    expect(needsWorkBound(writerWith({ type: 'array', items: 'int' }))).toBe(false);
    expect(needsWorkBound(writerWith({ type: 'array', items: ['null', 'int'] }))).toBe(false);
  });
});

describe('checkAvroWork', () => {
  const type = avro.Type.forSchema({ type: 'array', items: 'null' });

  it('counts items without building them, whatever count a block announces', () => {
    expect(checkAvroWork(type, Buffer.concat([varint(3), varint(0)]), 10)).toBeNull();
    expect(checkAvroWork(type, Buffer.concat([varint(11), varint(0)]), 10)).toBe(
      'holds more than 10 array or map items',
    );
    // 2^53 items in 8 bytes: refused at once, no loop
    expect(checkAvroWork(type, Buffer.concat([varint(2 ** 53), varint(0)]), 10_000)).toMatch(
      /more than 10000/,
    );
    // blocks add up; a negative count (with a byte size) counts too
    const blocks = Buffer.concat([varint(6), varint(-6), varint(0), varint(0)]);
    expect(checkAvroWork(type, blocks, 11)).toMatch(/more than 11/);
    expect(checkAvroWork(type, blocks, 12)).toBeNull();
  });

  it('leaves a garbled or truncated body for avsc to name', () => {
    expect(checkAvroWork(type, Buffer.from([0x80]), 10)).toBeNull();
  });
});

describe('decoder: one small message cannot hang it', () => {
  it.each([
    ['an array of null', { type: 'array', items: 'null' }],
    ['a map of null', { type: 'map', values: 'null' }],
    ['an array of empty records', { type: 'array', items: { type: 'record', name: 'Empty', fields: [] } }],
  ])('dead-letters %s announcing 2^53 items as AVRO_TOO_COMPLEX', async (_what, extra) => {
    const decoder = decoderFor(writerWith(extra));
    // the valid record, then the extra field: one block of 2^53 items (a map's would need keys)
    const message = confluentFrame(60, Buffer.concat([validBody, varint(2 ** 53), varint(0)]));
    const result = await decoder.decode(message);
    expect(result).toEqual({
      ok: false,
      code: 'AVRO_TOO_COMPLEX',
      message: 'Avro payload with schema id 60 holds more than 10000 array or map items',
    });
  });

  it('still decodes such a writer when the message is small, and applies the configured limit', async () => {
    const writer = writerWith({ type: 'array', items: 'null' });
    const few = confluentFrame(60, Buffer.concat([validBody, varint(5), varint(0)]));
    expect((await decoderFor(writer).decode(few)).ok).toBe(true);
    const result = await decoderFor(writer, 4).decodeBatch([few]);
    expect(result[0]).toMatchObject({ ok: false, code: 'AVRO_TOO_COMPLEX' });
  });
});
