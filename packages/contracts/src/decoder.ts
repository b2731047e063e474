import { isUtf8 } from 'node:buffer';
import { type ErrorCode, isLeakwatchError, LeakwatchError } from '@leakwatch/errors';
import avro from 'avsc';
import {
  alertDispositionAvro,
  cardAuthorizationAvro,
  suspiciousChargeAlertAvro,
  type ContractSchema,
} from './avro-schemas.js';
import { type AlertDisposition, validateAlertDisposition } from './alert-disposition.js';
import { checkAvroWork, needsWorkBound } from './avro-work.js';
import {
  type CardAuthorization,
  checkCardAuthorization,
  validateCardAuthorization,
} from './card-authorization.js';
import {
  isSchemaNotFound,
  registryStatusOf,
  registryUnavailable,
  type ContractRegistry,
} from './registry.js';
import {
  checkSuspiciousChargeAlert,
  type SuspiciousChargeAlert,
  validateSuspiciousChargeAlert,
} from './suspicious-charge-alert.js';
import { type ValidationResult } from './validation.js';

/** Why a message is poison: dead-letter it and move on. */
export type PoisonCode = Extract<
  ErrorCode,
  | 'BAD_FRAMING'
  | 'UNKNOWN_SCHEMA_ID'
  | 'AVRO_DECODE_FAILED'
  | 'AVRO_TOO_COMPLEX'
  | 'JSON_INVALID'
  | 'VALIDATION_FAILED'
  | 'INVALID_PAN'
  | 'INVALID_EXPIRY'
>;

export type DecodeFormat = 'avro' | 'json';

/**
 * The outcome for one message. A failure's `message` names the rule or the field, never a value:
 * it is safe as the `lw-error-message` dead-letter header.
 */
export type DecodeResult<T = CardAuthorization> =
  { ok: true; value: T; format: DecodeFormat } | { ok: false; code: PoisonCode; message: string };

export interface RecordDecoder<T> {
  /**
   * Decodes and validates one Kafka message value.
   * @throws LeakwatchError REGISTRY_UNAVAILABLE (retryable) when the schema of a Confluent-framed
   *   message cannot be fetched because the registry is unreachable, slow or failing. Pause and
   *   retry: the message is not poison.
   */
  decode(value: Buffer | null): Promise<DecodeResult<T>>;
  /**
   * Decodes a batch: every schema id the batch needs is looked up once (at most
   * `maxConcurrentLookups` at a time; ids the registry just said it does not know are not asked
   * again), then every message decodes without waiting. Results are in input order.
   * @throws LeakwatchError REGISTRY_UNAVAILABLE as {@link decode}, for the whole batch.
   */
  decodeBatch(values: readonly (Buffer | null)[]): Promise<DecodeResult<T>[]>;
}

export interface DecoderOptions {
  /** Where writer schemas come from; it caches schemas by id itself. */
  registry: Pick<ContractRegistry, 'getSchema'>;
  /**
   * Deadline for one schema lookup (the library sets no request timeout of its own). Past it the
   * registry counts as unavailable. Default 10 000 ms.
   */
  lookupTimeoutMs?: number;
  /**
   * Schema lookups in flight at once, per decoder. Junk that starts with 0x00 carries a random
   * "schema id" in every message; without a cap one batch would ask the registry for all of them
   * at the same moment. Default 4.
   */
  maxConcurrentLookups?: number;
  /**
   * How long an id the registry answered "not found" for is answered from memory (a negative
   * cache), so a flood of junk, or the same batch retried, does not ask again. Short, so an id
   * registered a moment later decodes soon after. Default 30 000 ms.
   */
  unknownIdTtlMs?: number;
  /** Unknown ids remembered at most (the oldest are forgotten first). Default 10 000. */
  maxUnknownIds?: number;
  /** Clock for the negative cache (epoch ms). Default Date.now. */
  now?: () => number;
  /**
   * Array and map items one Avro message may announce, counted before decoding when its writer
   * schema has arrays or maps of zero-width items (null, empty records), whose decoding is
   * otherwise not bounded by the message's size. Past it: AVRO_TOO_COMPLEX. Default 10 000.
   */
  maxItemsPerMessage?: number;
}

type Frame =
  { kind: 'avro'; schemaId: number } | { kind: 'json'; start: number } | { kind: 'bad'; message: string };

/** How to read the Avro body written with one schema id, or why it cannot be read. */
type Reader =
  | {
      ok: true;
      /** Reads the Avro body that follows the Confluent header of a whole message value. */
      read: (value: Buffer) => unknown;
      /** Why decoding `body` would cost too much, or null; absent when the schema needs no check. */
      tooMuchWork?: (body: Buffer) => string | null;
    }
  | { ok: false; code: 'UNKNOWN_SCHEMA_ID' | 'AVRO_DECODE_FAILED'; message: string };

const CONFLUENT_HEADER_BYTES = 5;
const OPEN_BRACE = 0x7b;

/**
 * Reads one record of `type` from the body after the Confluent header, in place (no sub-buffer
 * per message), with fromBuffer's checks: a short body or bytes after the record fail.
 */
function readBody(
  type: avro.Type,
  resolver?: ReturnType<avro.Type['createResolver']>,
): (value: Buffer) => unknown {
  return (value) => {
    const decoded: { value: unknown; offset: number } = type.decode(value, CONFLUENT_HEADER_BYTES, resolver);
    const { value: record, offset } = decoded;
    if (offset < 0) throw new Error('truncated buffer');
    if (offset < value.length) throw new Error('trailing data');
    return record;
  };
}

function isJsonWhitespace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/**
 * Tells the formats apart by the first byte: 0 is Confluent framing (magic byte, 4-byte schema
 * id, Avro body); `{` after optional whitespace (and a UTF-8 byte order mark) is JSON.
 */
export function detectFrame(value: Buffer | null): Frame {
  if (value === null || value.length === 0) return { kind: 'bad', message: 'message has no value' };
  if (value[0] === 0) {
    if (value.length < CONFLUENT_HEADER_BYTES) {
      return { kind: 'bad', message: 'Confluent frame is shorter than its 5-byte header' };
    }
    return { kind: 'avro', schemaId: value.readInt32BE(1) };
  }
  let i = value.length >= 3 && value[0] === 0xef && value[1] === 0xbb && value[2] === 0xbf ? 3 : 0;
  while (isJsonWhitespace(value[i])) i++;
  if (value[i] === OPEN_BRACE) return { kind: 'json', start: i };
  // one byte says what was sent instead (0x01: another framing, '[': a JSON array) and no more
  const first = (value[0] ?? 0).toString(16).padStart(2, '0');
  return {
    kind: 'bad',
    message: `neither Confluent-framed Avro (magic byte 0) nor a JSON object; first byte is 0x${first}`,
  };
}

/** Names an avsc read failure without repeating any of the bytes read. */
function describeAvroFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  if (message === 'truncated buffer') return 'payload is truncated';
  if (message === 'trailing data') return 'payload has bytes after the record';
  if (/precision loss/.test(message)) return 'a long does not fit in 53 bits';
  if (/invalid .*index/.test(message)) return 'payload is garbled (invalid union or enum index)';
  return 'payload is garbled';
}

function jsonErrorPosition(error: unknown, offset: number): string {
  const match = error instanceof Error ? /at position (\d+)/.exec(error.message) : null;
  return match ? ` (at character ${Number(match[1]) + offset})` : '';
}

function isAvscType(schema: unknown): schema is avro.Type {
  return (
    typeof schema === 'object' &&
    schema !== null &&
    typeof (schema as { schema?: unknown }).schema === 'function' &&
    typeof (schema as { createResolver?: unknown }).createResolver === 'function'
  );
}

function withDeadline<T>(promise: Promise<T>, ms: number, doing: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new LeakwatchError(
            'REGISTRY_UNAVAILABLE',
            `schema registry did not answer within ${ms} ms while ${doing}`,
          ),
        ),
      ms,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Runs at most `limit` tasks at once, the rest in arrival order. */
function createLimiter(limit: number): <R>(task: () => Promise<R>) => Promise<R> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/** Ids the registry does not know, each until an expiry; bounded, oldest forgotten first. */
function createUnknownIds(ttlMs: number, max: number, now: () => number) {
  const until = new Map<number, number>();
  return {
    has(schemaId: number): boolean {
      const expiry = until.get(schemaId);
      if (expiry === undefined) return false;
      if (now() < expiry) return true;
      until.delete(schemaId);
      return false;
    },
    add(schemaId: number): void {
      until.delete(schemaId);
      until.set(schemaId, now() + ttlMs);
      while (until.size > max) until.delete(until.keys().next().value as number);
    },
  };
}

interface Contract<T> {
  schema: ContractSchema;
  validate: (input: unknown) => ValidationResult<T>;
  /**
   * A plain check of a valid record (undefined: invalid, `validate` words why); optional.
   * `reuse`: the input is a record the Avro reader just built, which the check may return as it is.
   */
  check?: (input: unknown, reuse: boolean) => T | undefined;
}

/**
 * Reads messages of one contract record. The Avro body is read with the writer schema of its id,
 * resolved into the contract's schema (the reader): a writer that added fields or enum symbols
 * still reads (new Channel symbols as UNKNOWN, the enum's default); namespaces are not compared.
 */
function createDecoder<T>(contract: Contract<T>, options: DecoderOptions): RecordDecoder<T> {
  const { registry } = options;
  const lookupTimeoutMs = options.lookupTimeoutMs ?? 10_000;
  const limit = createLimiter(Math.max(1, options.maxConcurrentLookups ?? 4));
  const unknownIds = createUnknownIds(
    options.unknownIdTtlMs ?? 30_000,
    options.maxUnknownIds ?? 10_000,
    options.now ?? Date.now,
  );
  const maxItemsPerMessage = options.maxItemsPerMessage ?? 10_000;
  const readerType = contract.schema.type;
  /** Readers by schema id. A schema id never changes meaning, so entries are never evicted. */
  const readers = new Map<number, Reader>();
  const pending = new Map<number, Promise<Reader>>();

  function readerFromWriter(schemaId: number, writer: unknown): Reader {
    if (!isAvscType(writer)) {
      return {
        ok: false,
        code: 'AVRO_DECODE_FAILED',
        message: `schema id ${schemaId} is not an Avro schema`,
      };
    }
    let writerType: avro.Type;
    try {
      // rebuilt with this package's avsc and options, whatever options the registry client has
      writerType = avro.Type.forSchema(writer.schema({ exportAttrs: true }), { wrapUnions: 'auto' });
    } catch {
      return { ok: false, code: 'AVRO_DECODE_FAILED', message: `schema id ${schemaId} cannot be parsed` };
    }
    const bound = needsWorkBound(writerType)
      ? { tooMuchWork: (body: Buffer) => checkAvroWork(writerType, body, maxItemsPerMessage) }
      : {};
    if (writerType.equals(readerType)) return { ok: true, read: readBody(readerType), ...bound };
    try {
      const resolver = readerType.createResolver(writerType, { ignoreNamespaces: true });
      return { ok: true, read: readBody(readerType, resolver), ...bound };
    } catch {
      return {
        ok: false,
        code: 'AVRO_DECODE_FAILED',
        message: `schema id ${schemaId} (${writerType.name ?? 'unnamed'}) cannot be read as ${contract.schema.fullName}`,
      };
    }
  }

  function unknown(schemaId: number): Reader {
    return { ok: false, code: 'UNKNOWN_SCHEMA_ID', message: `schema id ${schemaId} is not in the registry` };
  }

  async function lookup(schemaId: number): Promise<Reader> {
    let writer: unknown;
    try {
      writer = await limit(() =>
        // the deadline starts when the request does, not while it waits for a slot
        withDeadline(registry.getSchema(schemaId), lookupTimeoutMs, `looking up schema id ${schemaId}`),
      );
    } catch (error) {
      if (isLeakwatchError(error)) throw error;
      if (isSchemaNotFound(error, schemaId)) {
        unknownIds.add(schemaId);
        return unknown(schemaId);
      }
      if (registryStatusOf(error) !== undefined)
        throw registryUnavailable(error, `looking up schema id ${schemaId}`);
      // No HTTP status: the registry answered 200, but not with a schema the library could
      // build (an HTML page from a proxy, a truncated body, JSON of another shape). That is the
      // registry (or what stands in front of it) failing, and it heals: pause and retry, never
      // dead-letter good traffic over it. The answer itself is not quoted.
      throw new LeakwatchError(
        'REGISTRY_UNAVAILABLE',
        `schema registry answered schema id ${schemaId} with something that is not a schema`,
        { cause: error },
      );
    }
    const reader = readerFromWriter(schemaId, writer);
    readers.set(schemaId, reader);
    return reader;
  }

  /** Unknown ids are remembered for a short while only: an id registered later must then decode. */
  function readerFor(schemaId: number): Reader | Promise<Reader> {
    const known = readers.get(schemaId);
    if (known) return known;
    if (unknownIds.has(schemaId)) return unknown(schemaId);
    if (schemaId < 0) {
      return {
        ok: false,
        code: 'UNKNOWN_SCHEMA_ID',
        message: `schema id ${schemaId} cannot exist (negative)`,
      };
    }
    let request = pending.get(schemaId);
    if (!request) {
      request = lookup(schemaId).finally(() => pending.delete(schemaId));
      pending.set(schemaId, request);
    }
    return request;
  }

  function validated(raw: unknown, format: DecodeFormat): DecodeResult<T> {
    const checked = contract.check?.(raw, format === 'avro');
    if (checked !== undefined) return { ok: true, value: checked, format };
    const result = contract.validate(raw);
    return result.ok
      ? { ok: true, value: result.value, format }
      : { ok: false, code: result.code, message: result.message };
  }

  function decodeJson(value: Buffer, start: number): DecodeResult<T> {
    if (!isUtf8(value)) return { ok: false, code: 'JSON_INVALID', message: 'payload is not valid UTF-8' };
    let parsed: unknown;
    try {
      parsed = JSON.parse(value.toString('utf8', start));
    } catch (error) {
      // V8's own message quotes the input: only the position is kept
      return {
        ok: false,
        code: 'JSON_INVALID',
        message: `payload is not valid JSON${jsonErrorPosition(error, start)}`,
      };
    }
    return validated(parsed, 'json');
  }

  function decodeAvro(value: Buffer, schemaId: number, reader: Reader): DecodeResult<T> {
    if (!reader.ok) return { ok: false, code: reader.code, message: reader.message };
    const tooMuch = reader.tooMuchWork?.(value.subarray(CONFLUENT_HEADER_BYTES)) ?? null;
    if (tooMuch !== null) {
      return {
        ok: false,
        code: 'AVRO_TOO_COMPLEX',
        message: `Avro payload with schema id ${schemaId} ${tooMuch}`,
      };
    }
    let raw: unknown;
    try {
      raw = reader.read(value);
    } catch (error) {
      return {
        ok: false,
        code: 'AVRO_DECODE_FAILED',
        message: `Avro payload does not decode with schema id ${schemaId}: ${describeAvroFailure(error)}`,
      };
    }
    return validated(raw, 'avro');
  }

  function decodeFramed(value: Buffer | null, frame: Frame, reader: Reader | undefined): DecodeResult<T> {
    switch (frame.kind) {
      case 'bad':
        return { ok: false, code: 'BAD_FRAMING', message: frame.message };
      case 'json':
        return decodeJson(value as Buffer, frame.start);
      case 'avro':
        if (!reader) throw new LeakwatchError('INTERNAL', `no reader for schema id ${frame.schemaId}`);
        return decodeAvro(value as Buffer, frame.schemaId, reader);
    }
  }

  return {
    async decode(value) {
      const frame = detectFrame(value);
      const reader = frame.kind === 'avro' ? await readerFor(frame.schemaId) : undefined;
      return decodeFramed(value, frame, reader);
    },

    async decodeBatch(values) {
      const frames = values.map(detectFrame);
      const batchReaders = new Map<number, Reader>();
      const lookups = new Map<number, Promise<Reader>>();
      for (const frame of frames) {
        if (frame.kind !== 'avro') continue;
        const { schemaId } = frame;
        if (batchReaders.has(schemaId) || lookups.has(schemaId)) continue;
        const reader = readerFor(schemaId);
        if (reader instanceof Promise) lookups.set(schemaId, reader);
        else batchReaders.set(schemaId, reader);
      }
      if (lookups.size > 0) {
        const looked = await Promise.all(
          [...lookups].map(async ([schemaId, reader]) => [schemaId, await reader] as const),
        );
        for (const [schemaId, reader] of looked) batchReaders.set(schemaId, reader);
      }
      return frames.map((frame, i) =>
        decodeFramed(
          values[i] ?? null,
          frame,
          frame.kind === 'avro' ? batchReaders.get(frame.schemaId) : undefined,
        ),
      );
    },
  };
}

/**
 * The decoder of `card.authorizations.v1`: Confluent-framed Avro (any writer schema the contract's
 * CardAuthorization can read) or a plain JSON object with the same field names, validated and
 * normalised.
 */
export function createAuthorizationDecoder(options: DecoderOptions): RecordDecoder<CardAuthorization> {
  return createDecoder(
    { schema: cardAuthorizationAvro, validate: validateCardAuthorization, check: checkCardAuthorization },
    options,
  );
}

/** The decoder of `card.alerts.v1` and the partner topics (for the dispatcher and tools). */
export function createAlertDecoder(options: DecoderOptions): RecordDecoder<SuspiciousChargeAlert> {
  return createDecoder(
    {
      schema: suspiciousChargeAlertAvro,
      validate: validateSuspiciousChargeAlert,
      check: checkSuspiciousChargeAlert,
    },
    options,
  );
}

/** The decoder of `card.alert-dispositions.v1`. A tombstone (null value) is BAD_FRAMING: check for it first. */
export function createDispositionDecoder(options: DecoderOptions): RecordDecoder<AlertDisposition> {
  return createDecoder({ schema: alertDispositionAvro, validate: validateAlertDisposition }, options);
}
