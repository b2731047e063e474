import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { alertDispositionSchema } from './alert-disposition.js';
import { contractSchemas, type ContractRecordName } from './avro-schemas.js';
import { cardAuthorizationSchema } from './card-authorization.js';
import { exampleAlert, exampleAuthorization, exampleDisposition } from './examples.js';
import { suspiciousChargeAlertSchema } from './suspicious-charge-alert.js';
import { validateWith } from './validation.js';

/**
 * One source of truth: the .avsc files are the contract, the zod schemas must describe the same
 * records. Both are reduced to the same shape (field names in order, nullability, enum symbols,
 * a coarse type) and compared.
 */
type Shape =
  | {
      kind: 'record';
      fields: Array<{ name: string; nullable: boolean; hasNullDefault: boolean; type: Shape }>;
    }
  | { kind: 'enum'; symbols: string[] }
  | { kind: 'array'; items: Shape }
  | { kind: 'string' | 'number' | 'boolean' };

type AvroJson = string | AvroJson[] | { type: AvroJson; [key: string]: unknown };

function avroShape(schema: AvroJson): Shape {
  if (typeof schema === 'string') {
    if (schema === 'string') return { kind: 'string' };
    if (schema === 'long' || schema === 'int' || schema === 'double' || schema === 'float')
      return { kind: 'number' };
    if (schema === 'boolean') return { kind: 'boolean' };
    throw new Error(`unhandled Avro type ${schema}`);
  }
  if (Array.isArray(schema)) throw new Error('unions are handled by the field');
  switch (schema.type) {
    case 'record':
      return {
        kind: 'record',
        fields: (schema.fields as Array<{ name: string; type: AvroJson; default?: unknown }>).map((field) => {
          const branches = Array.isArray(field.type) ? field.type : [field.type];
          const nonNull = branches.filter((b) => b !== 'null');
          if (nonNull.length !== 1) throw new Error(`field ${field.name}: only null|T unions are expected`);
          return {
            name: field.name,
            nullable: nonNull.length < branches.length,
            hasNullDefault: 'default' in field && field.default === null,
            type: avroShape(nonNull[0] as AvroJson),
          };
        }),
      };
    case 'enum':
      return { kind: 'enum', symbols: schema.symbols as string[] };
    case 'array':
      return { kind: 'array', items: avroShape(schema.items as AvroJson) };
    default:
      return avroShape(schema.type); // e.g. { type: 'long', logicalType: 'timestamp-millis' }
  }
}

/** Peels defaults, nullables and pipes; returns the wire-level schema and whether null is allowed. */
function unwrap(schema: z.ZodType): { core: z.ZodType; nullable: boolean; nullDefault: boolean } {
  let current: z.ZodType = schema;
  let nullable = false;
  let nullDefault = false;
  for (;;) {
    if (current instanceof z.ZodDefault) {
      nullDefault ||= current.def.defaultValue === null;
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodNullable) {
      nullable = true;
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodOptional) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      // a transform after a schema (refined card, normalised PAN): the wire form is the input;
      // a transform before a schema (preprocess): the wire form is the output
      current = (current.in instanceof z.ZodTransform ? current.out : current.in) as z.ZodType;
    } else if (current instanceof z.ZodUnion) {
      // an input widening (occurredAt also as ISO text): the first option is the wire form
      current = current.options[0] as z.ZodType;
    } else {
      return { core: current, nullable, nullDefault };
    }
  }
}

function zodShape(schema: z.ZodType): Shape {
  const { core } = unwrap(schema);
  if (core instanceof z.ZodObject) {
    return {
      kind: 'record',
      fields: Object.entries(core.shape as Record<string, z.ZodType>).map(([name, field]) => {
        const { nullable, nullDefault } = unwrap(field);
        return { name, nullable, hasNullDefault: nullDefault, type: zodShape(field) };
      }),
    };
  }
  if (core instanceof z.ZodEnum) return { kind: 'enum', symbols: core.options.map(String) };
  if (core instanceof z.ZodArray) return { kind: 'array', items: zodShape(core.element as z.ZodType) };
  if (core instanceof z.ZodString) return { kind: 'string' };
  if (core instanceof z.ZodNumber) return { kind: 'number' };
  if (core instanceof z.ZodBoolean) return { kind: 'boolean' };
  throw new Error(`unhandled zod type ${core.def.type}`);
}

/** Differences, as readable lines. A zod enum may narrow an Avro string (what Leakwatch writes). */
function compare(avro: Shape, zod: Shape, path: string, out: string[]): string[] {
  if (avro.kind === 'string' && zod.kind === 'enum') return out;
  if (avro.kind !== zod.kind) {
    out.push(`${path}: Avro ${avro.kind}, zod ${zod.kind}`);
    return out;
  }
  if (avro.kind === 'enum' && zod.kind === 'enum') {
    if (JSON.stringify(avro.symbols) !== JSON.stringify(zod.symbols)) {
      out.push(`${path}: Avro symbols ${avro.symbols.join(',')}, zod ${zod.symbols.join(',')}`);
    }
  }
  if (avro.kind === 'array' && zod.kind === 'array') compare(avro.items, zod.items, `${path}[]`, out);
  if (avro.kind === 'record' && zod.kind === 'record') {
    const avroNames = avro.fields.map((f) => f.name);
    const zodNames = zod.fields.map((f) => f.name);
    if (JSON.stringify(avroNames) !== JSON.stringify(zodNames)) {
      out.push(`${path}: Avro fields ${avroNames.join(',')}, zod fields ${zodNames.join(',')}`);
    }
    for (const field of avro.fields) {
      const other = zod.fields.find((f) => f.name === field.name);
      if (!other) continue;
      const at = path === '' ? field.name : `${path}.${field.name}`;
      if (field.nullable !== other.nullable) {
        out.push(
          `${at}: Avro ${field.nullable ? 'nullable' : 'not nullable'}, zod ${other.nullable ? 'nullable' : 'not nullable'}`,
        );
      }
      // JSON may leave a nullable field out because Avro gives it a default of null
      if (field.hasNullDefault !== other.hasNullDefault) {
        out.push(`${at}: default null in Avro ${field.hasNullDefault}, in zod ${other.hasNullDefault}`);
      }
      compare(field.type, other.type, at, out);
    }
  }
  return out;
}

const pairs: Array<[ContractRecordName, z.ZodType]> = [
  ['CardAuthorization', cardAuthorizationSchema],
  ['SuspiciousChargeAlert', suspiciousChargeAlertSchema],
  ['AlertDisposition', alertDispositionSchema],
];

describe('zod schemas agree with the Avro contract', () => {
  it.each(pairs)('%s: field names and order, nullability, enum symbols, types', (name, schema) => {
    const avro = avroShape(contractSchemas[name].json as AvroJson);
    expect(compare(avro, zodShape(schema), '', [])).toEqual([]);
  });

  it('notices a difference (the comparison is not vacuous)', () => {
    const avro = avroShape(contractSchemas.AlertDisposition.json as AvroJson);
    const drifted = alertDispositionSchema.extend({
      note: z.string(),
      disposition: z.enum(['CONFIRMED_FRAUD', 'FALSE_POSITIVE']),
      extra: z.string(),
    });
    expect(compare(avro, zodShape(drifted), '', [])).toEqual([
      expect.stringContaining('zod fields alertId,disposition,by,at,note,extra'),
      'disposition: Avro symbols CONFIRMED_FRAUD,FALSE_POSITIVE,CARD_REISSUED,UNDER_REVIEW, zod CONFIRMED_FRAUD,FALSE_POSITIVE',
      'note: Avro nullable, zod not nullable',
      'note: default null in Avro true, in zod false',
    ]);
  });

  it.each([
    ['CardAuthorization', cardAuthorizationSchema, exampleAuthorization()],
    ['SuspiciousChargeAlert', suspiciousChargeAlertSchema, exampleAlert()],
    ['AlertDisposition', alertDispositionSchema, exampleDisposition()],
  ] as const)('%s: a valid record survives Avro and validates again unchanged', (name, schema, example) => {
    const first = validateWith(schema, example, name);
    if (!first.ok) throw new Error(first.message);
    const { type } = contractSchemas[name];
    const decoded: unknown = type.fromBuffer(type.toBuffer(first.value));
    expect(validateWith(schema, decoded, name)).toEqual({ ok: true, value: first.value });
  });
});
