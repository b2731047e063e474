import { isLeakwatchError } from '@leakwatch/errors';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { cardAuthorizationAvro, suspiciousChargeAlertAvro } from './avro-schemas.js';
import { validateCardAuthorization, type CardAuthorization } from './card-authorization.js';
import {
  createAuthorizationDecoder,
  detectFrame,
  type DecodeResult,
  type DecoderOptions,
} from './decoder.js';
import { confluentFrame } from './encoder.js';
import { exampleAuthorization } from './examples.js';
import { type ContractRegistry } from './registry.js';

const PAN = '4111111111111111';

/** An error shaped like the registry library's ResponseError. */
function responseError(status: number, message: string): Error {
  return Object.assign(new Error(`Confluent_Schema_Registry - ${message}`), {
    name: 'ResponseError',
    status,
  });
}

/** Schemas by id in memory; the library's getSchema answers with an avsc Type. */
class FakeRegistry {
  readonly calls: number[] = [];
  readonly schemas = new Map<number, unknown>();
  failure: Error | undefined = undefined;
  hang = false;

  async getSchema(id: number): Promise<unknown> {
    this.calls.push(id);
    if (this.hang) return new Promise(() => {});
    if (this.failure !== undefined) throw this.failure;
    const schema = this.schemas.get(id);
    if (schema === undefined) throw responseError(404, `No content with ID '${id}' was found.`);
    return schema;
  }

  asRegistry(): Pick<ContractRegistry, 'getSchema'> {
    return this as unknown as Pick<ContractRegistry, 'getSchema'>;
  }
}

/** Answers every id "not found", but only when released: shows how many requests are in flight. */
class GatedRegistry {
  readonly calls: number[] = [];
  inFlight = 0;
  maxInFlight = 0;
  #gates: (() => void)[] = [];

  async getSchema(id: number): Promise<unknown> {
    this.calls.push(id);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise<void>((resolve) => this.#gates.push(resolve));
    this.inFlight--;
    throw responseError(404, `Schema ${id} not found`);
  }

  /** Lets queued work reach the registry (microtasks and a macrotask turn). */
  async settled(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
  }

  releaseAll(): void {
    for (const release of this.#gates.splice(0)) release();
  }

  asRegistry(): Pick<ContractRegistry, 'getSchema'> {
    return this as unknown as Pick<ContractRegistry, 'getSchema'>;
  }
}

function validAuthorization(): CardAuthorization {
  const result = validateCardAuthorization(exampleAuthorization());
  if (!result.ok) throw new Error(result.message);
  return result.value;
}

function avroMessage(
  schemaId: number,
  record: unknown = validAuthorization(),
  type = cardAuthorizationAvro.type,
) {
  return confluentFrame(schemaId, type.toBuffer(record));
}

function setup(options: Omit<DecoderOptions, 'registry'> = {}) {
  const registry = new FakeRegistry();
  registry.schemas.set(7, cardAuthorizationAvro.type);
  const decoder = createAuthorizationDecoder({ registry: registry.asRegistry(), ...options });
  return { registry, decoder };
}

function poison(result: DecodeResult) {
  if (result.ok) throw new Error('expected poison');
  return result;
}

async function thrown(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('detectFrame', () => {
  it('tells Confluent framing, JSON and garbage apart by the first byte', () => {
    expect(detectFrame(Buffer.from([0, 0, 0, 0, 7, 2]))).toEqual({ kind: 'avro', schemaId: 7 });
    expect(detectFrame(Buffer.from(' \r\n\t{"a":1}'))).toEqual({ kind: 'json', start: 4 });
    expect(detectFrame(Buffer.from('\uFEFF{"a":1}'))).toEqual({ kind: 'json', start: 3 });
    expect(detectFrame(null)).toMatchObject({ kind: 'bad', message: 'message has no value' });
    expect(detectFrame(Buffer.alloc(0))).toMatchObject({ kind: 'bad' });
    const short = detectFrame(Buffer.from([0, 0, 7]));
    if (short.kind !== 'bad') throw new Error(`expected bad framing, got ${short.kind}`);
    expect(short.message).toContain('shorter');
  });
});

describe('createAuthorizationDecoder: framing and JSON', () => {
  it.each([
    ['a wrong magic byte', Buffer.from([1, 0, 0, 0, 7, 2, 3]), 'first byte is 0x01'],
    ['a JSON array', Buffer.from('[{"eventId":"e"}]'), 'first byte is 0x5b'],
    ['plain text', Buffer.from(PAN), 'first byte is 0x34'],
    ['only whitespace', Buffer.from('   '), 'first byte is 0x20'],
    ['a tombstone', null, 'message has no value'],
    ['a 3-byte Confluent frame', Buffer.from([0, 0, 0]), 'shorter than its 5-byte header'],
  ])('calls %s BAD_FRAMING', async (_name, value, message) => {
    const { decoder, registry } = setup();
    const result = poison(await decoder.decode(value));
    expect(result.code).toBe('BAD_FRAMING');
    expect(result.message).toContain(message);
    expect(result.message).not.toContain(PAN);
    expect(registry.calls).toEqual([]);
  });

  it('calls broken JSON JSON_INVALID, with the position and without the text', async () => {
    const { decoder } = setup();
    const result = poison(await decoder.decode(Buffer.from(`  {"card": {"pan": "${PAN}"},`)));
    expect(result.code).toBe('JSON_INVALID');
    expect(result.message).toMatch(/^payload is not valid JSON \(at character \d+\)$/);
    expect(result.message).not.toContain('4111');
  });

  it('calls invalid UTF-8 JSON_INVALID', async () => {
    const { decoder } = setup();
    const result = poison(await decoder.decode(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d])));
    expect(result).toEqual({ ok: false, code: 'JSON_INVALID', message: 'payload is not valid UTF-8' });
  });

  it('decodes and normalises JSON without asking the registry', async () => {
    const { decoder, registry } = setup();
    const result = await decoder.decode(Buffer.from(JSON.stringify(exampleAuthorization())));
    expect(result).toEqual({ ok: true, value: validAuthorization(), format: 'json' });
    expect(registry.calls).toEqual([]);
  });

  it('reports validation failures of JSON with their code', async () => {
    const { decoder } = setup();
    const badPan = { ...exampleAuthorization(), card: { pan: '4111111111111112' } };
    expect(await decoder.decode(Buffer.from(JSON.stringify(badPan)))).toEqual({
      ok: false,
      code: 'INVALID_PAN',
      message: 'invalid CardAuthorization: card.pan: card number fails the Luhn check',
    });
    const negative = { ...exampleAuthorization(), amountMinor: -100 };
    expect(poison(await decoder.decode(Buffer.from(JSON.stringify(negative)))).code).toBe(
      'VALIDATION_FAILED',
    );
  });
});

describe('createAuthorizationDecoder: Avro', () => {
  it('decodes Confluent-framed Avro, asking the registry once per schema id', async () => {
    const { decoder, registry } = setup();
    for (let i = 0; i < 3; i++) {
      expect(await decoder.decode(avroMessage(7))).toEqual({
        ok: true,
        value: validAuthorization(),
        format: 'avro',
      });
    }
    expect(registry.calls).toEqual([7]);
  });

  it('shares one lookup between concurrent decodes', async () => {
    const { decoder, registry } = setup();
    const results = await Promise.all([1, 2, 3, 4].map(() => decoder.decode(avroMessage(7))));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(registry.calls).toEqual([7]);
  });

  it('calls truncated, padded and empty bodies AVRO_DECODE_FAILED', async () => {
    const { decoder } = setup();
    const whole = avroMessage(7);
    expect(poison(await decoder.decode(whole.subarray(0, whole.length - 3)))).toEqual({
      ok: false,
      code: 'AVRO_DECODE_FAILED',
      message: 'Avro payload does not decode with schema id 7: payload is truncated',
    });
    expect(poison(await decoder.decode(Buffer.concat([whole, Buffer.from([1, 2])]))).message).toContain(
      'bytes after the record',
    );
    expect(poison(await decoder.decode(whole.subarray(0, 5))).code).toBe('AVRO_DECODE_FAILED');
  });

  it('never echoes a card number from a garbled body', async () => {
    const { decoder } = setup();
    const whole = avroMessage(7, {
      ...validAuthorization(),
      card: { ...validAuthorization().card, pan: PAN },
    });
    for (let i = 5; i < whole.length; i++) {
      const garbled = Buffer.from(whole);
      garbled[i] = (garbled[i] as number) ^ 0xa5;
      const result = await decoder.decode(garbled);
      if (!result.ok) expect(result.message).not.toMatch(/\d{7,}/);
    }
  });

  it('validates what Avro decoded: a PAN failing Luhn is INVALID_PAN', async () => {
    const { decoder } = setup();
    const record = {
      ...validAuthorization(),
      card: { ...validAuthorization().card, pan: '4111111111111112' },
    };
    expect(poison(await decoder.decode(avroMessage(7, record))).code).toBe('INVALID_PAN');
  });

  it('reads an evolved writer schema through the contract: new fields dropped, new channel read as UNKNOWN', async () => {
    const { decoder, registry } = setup();
    const evolved = JSON.parse(cardAuthorizationAvro.text) as { fields: Array<Record<string, unknown>> };
    const channel = evolved.fields.find((f) => f.name === 'channel') as { type: { symbols: string[] } };
    channel.type.symbols.push('WALLET');
    evolved.fields.push({ name: 'walletProvider', type: ['null', 'string'], default: null });
    const writer = avro.Type.forSchema(evolved as avro.Schema);
    registry.schemas.set(11, writer);
    const result = await decoder.decode(
      avroMessage(11, { ...validAuthorization(), channel: 'WALLET', walletProvider: 'x' }, writer),
    );
    expect(result).toEqual({
      ok: true,
      value: { ...validAuthorization(), channel: 'UNKNOWN' },
      format: 'avro',
    });
  });

  it('reads a writer that copied the schema into another namespace', async () => {
    const { decoder, registry } = setup();
    const schema = JSON.parse(cardAuthorizationAvro.text) as avro.schema.RecordType;
    const copied = avro.Type.forSchema({ ...schema, namespace: 'com.bank' });
    registry.schemas.set(12, copied);
    expect((await decoder.decode(avroMessage(12, validAuthorization(), copied))).ok).toBe(true);
  });

  it('calls a writer schema the contract cannot read AVRO_DECODE_FAILED', async () => {
    const { decoder, registry } = setup();
    registry.schemas.set(13, suspiciousChargeAlertAvro.type);
    registry.schemas.set(14, { fromBuffer: () => ({}), toBuffer: () => Buffer.alloc(0) }); // Protobuf or JSON Schema
    expect(poison(await decoder.decode(Buffer.from([0, 0, 0, 0, 13, 0])))).toEqual({
      ok: false,
      code: 'AVRO_DECODE_FAILED',
      message:
        'schema id 13 (io.leakwatch.v1.SuspiciousChargeAlert) cannot be read as io.leakwatch.v1.CardAuthorization',
    });
    expect(poison(await decoder.decode(Buffer.from([0, 0, 0, 0, 14, 0]))).message).toBe(
      'schema id 14 is not an Avro schema',
    );
  });

  it('calls an id the registry does not know UNKNOWN_SCHEMA_ID, remembers it briefly, finds it once registered', async () => {
    let now = 1_000_000;
    const { decoder, registry } = setup({ unknownIdTtlMs: 30_000, now: () => now });
    expect(poison(await decoder.decode(avroMessage(99)))).toEqual({
      ok: false,
      code: 'UNKNOWN_SCHEMA_ID',
      message: 'schema id 99 is not in the registry',
    });
    registry.schemas.set(99, cardAuthorizationAvro.type);
    // within the TTL the answer comes from memory: no second request
    now += 29_999;
    expect(poison(await decoder.decode(avroMessage(99))).code).toBe('UNKNOWN_SCHEMA_ID');
    expect(registry.calls).toEqual([99]);
    now += 1;
    expect((await decoder.decode(avroMessage(99))).ok).toBe(true);
    expect(registry.calls).toEqual([99, 99]);
  });

  it('remembers a bounded number of unknown ids, forgetting the oldest', async () => {
    const { decoder, registry } = setup({ maxUnknownIds: 2, now: () => 0 });
    for (const id of [101, 102, 103, 101]) await decoder.decode(avroMessage(id));
    // 101 was forgotten when 103 came in, so it was asked again
    expect(registry.calls).toEqual([101, 102, 103, 101]);
    await decoder.decode(avroMessage(103));
    expect(registry.calls).toHaveLength(4);
  });

  it('calls a negative id UNKNOWN_SCHEMA_ID without asking', async () => {
    const { decoder, registry } = setup();
    expect(poison(await decoder.decode(avroMessage(-3))).code).toBe('UNKNOWN_SCHEMA_ID');
    expect(registry.calls).toEqual([]);
  });
});

describe('createAuthorizationDecoder: registry unavailable is not poison', () => {
  it.each([
    ['connection refused', responseError(400, 'Error, status 400: connect ECONNREFUSED 127.0.0.1:1')],
    ['a timeout', responseError(400, 'Error, status 400: Timeout (5000ms)')],
    ['a 503', responseError(503, 'Error, status 503')],
    ['a 500 with a body', responseError(500, 'Internal error')],
    ['refused credentials', responseError(401, 'Unauthorized')],
    ['a 404 that is not the registry (wrong URL path)', responseError(404, 'Error, status 404')],
    ['a Confluent 404 for a wrong URL path', responseError(404, 'HTTP 404 Not Found')],
  ])('throws a retryable REGISTRY_UNAVAILABLE on %s', async (_name, failure) => {
    const { decoder, registry } = setup();
    registry.failure = failure;
    const error = await thrown(decoder.decode(avroMessage(31)));
    expect(isLeakwatchError(error, 'REGISTRY_UNAVAILABLE')).toBe(true);
    expect((error as { retryable: boolean }).retryable).toBe(true);
    expect((error as Error).cause).toBe(failure);
    // healed: the same message decodes
    registry.failure = undefined;
    registry.schemas.set(31, cardAuthorizationAvro.type);
    expect((await decoder.decode(avroMessage(31))).ok).toBe(true);
  });

  it.each([
    ['an HTML page', new SyntaxError('Unexpected token < in JSON at position 0')],
    ['JSON of another shape', new TypeError("Cannot read properties of undefined (reading 'type')")],
    ['a schema the library cannot build', new Error('unknown type: com.bank.Money')],
  ])(
    'treats a 200 answer with garbage (%s) as a registry fault: retryable, never poison',
    async (_what, failure) => {
      const { decoder, registry } = setup();
      registry.failure = failure;
      const error = await thrown(decoder.decodeBatch([avroMessage(21), avroMessage(7)]));
      expect(isLeakwatchError(error, 'REGISTRY_UNAVAILABLE')).toBe(true);
      expect((error as { retryable: boolean }).retryable).toBe(true);
      expect((error as Error).message).toBe(
        'schema registry answered schema id 21 with something that is not a schema',
      );
      // not remembered as unknown: once the registry answers properly, the message decodes
      registry.failure = undefined;
      registry.schemas.set(21, cardAuthorizationAvro.type);
      expect((await decoder.decode(avroMessage(21))).ok).toBe(true);
    },
  );

  it('gives up on a registry that does not answer, within the deadline', async () => {
    const { decoder, registry } = setup({ lookupTimeoutMs: 50 });
    registry.hang = true;
    const error = await thrown(decoder.decode(avroMessage(32)));
    expect(isLeakwatchError(error, 'REGISTRY_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toContain('did not answer within 50 ms');
  });
});

describe('createAuthorizationDecoder: batches', () => {
  it('looks each schema id up once per batch, keeps input order, and caches across batches', async () => {
    const { decoder, registry } = setup();
    registry.schemas.set(8, cardAuthorizationAvro.type);
    const json = Buffer.from(JSON.stringify(exampleAuthorization()));
    const batch = [
      avroMessage(7),
      json,
      avroMessage(8),
      Buffer.from('nope'),
      avroMessage(7),
      avroMessage(404),
      null,
      avroMessage(8),
    ];
    const results = await decoder.decodeBatch(batch);
    expect(results.map((r) => (r.ok ? r.format : r.code))).toEqual([
      'avro',
      'json',
      'avro',
      'BAD_FRAMING',
      'avro',
      'UNKNOWN_SCHEMA_ID',
      'BAD_FRAMING',
      'avro',
    ]);
    expect([...registry.calls].sort()).toEqual([404, 7, 8]);
    await decoder.decodeBatch([avroMessage(7), avroMessage(8)]);
    expect(registry.calls).toHaveLength(3);
  });

  it('keeps at most maxConcurrentLookups lookups in flight for a batch of junk ids, each asked once', async () => {
    const registry = new GatedRegistry();
    const decoder = createAuthorizationDecoder({ registry: registry.asRegistry(), maxConcurrentLookups: 3 });
    // junk that starts with 0x00: every message a different "schema id"
    const junk = Array.from({ length: 50 }, (_, i) => confluentFrame(1_000_000 + i, Buffer.from([i])));
    const decoding = decoder.decodeBatch(junk);
    while (registry.calls.length < 50) {
      await registry.settled();
      expect(registry.inFlight).toBeLessThanOrEqual(3);
      registry.releaseAll();
    }
    const results = await decoding;
    expect(results.every((r) => !r.ok && r.code === 'UNKNOWN_SCHEMA_ID')).toBe(true);
    expect(registry.maxInFlight).toBe(3);
    expect(new Set(registry.calls).size).toBe(50);
    // the same batch again (a retry, a redelivery): answered from memory, no request
    await decoder.decodeBatch(junk);
    expect(registry.calls).toHaveLength(50);
  });

  it('throws for the whole batch when the registry is unavailable', async () => {
    const { decoder, registry } = setup();
    registry.failure = responseError(503, 'Error, status 503');
    const error = await thrown(decoder.decodeBatch([Buffer.from('{}'), avroMessage(41)]));
    expect(isLeakwatchError(error, 'REGISTRY_UNAVAILABLE')).toBe(true);
  });

  it('answers an empty batch with nothing', async () => {
    const { decoder } = setup();
    expect(await decoder.decodeBatch([])).toEqual([]);
  });
});
