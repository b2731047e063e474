import type { CardAuthorization, EncodeAvro } from './authorization.js';
import { usageError } from './usage.js';
import type { SimulatedEvent } from './traffic.js';

/** How a JSON upstream writes an authorization; the contract (docs/contract.md) allows both variations. */
export interface JsonStyle {
  /** `occurredAt` as an ISO-8601 string instead of epoch milliseconds. */
  occurredAtIso?: boolean;
  /** Leave null fields out instead of writing `null`. */
  omitNulls?: boolean;
}

/** An authorization as JSON bytes (UTF-8), with the same field names as the Avro schema. */
export function encodeAuthorizationJson(value: CardAuthorization, style: JsonStyle = {}): Buffer {
  const shaped = style.occurredAtIso
    ? { ...value, occurredAt: new Date(value.occurredAt).toISOString() }
    : value;
  const text = style.omitNulls
    ? JSON.stringify(shaped, (_key, field: unknown) => (field === null ? undefined : field))
    : JSON.stringify(shaped);
  return Buffer.from(text, 'utf8');
}

/**
 * The JSON style a simulated event is sent with, fixed by its event id (so a replay sends the same
 * bytes): a quarter each of millis/ISO times with and without nulls.
 */
export function jsonStyleFor(eventId: string): JsonStyle {
  let hash = 0x811c9dc5;
  for (let i = 0; i < eventId.length; i++) hash = Math.imul(hash ^ eventId.charCodeAt(i), 0x01000193);
  return { occurredAtIso: (hash & 1) === 1, omitNulls: (hash & 2) === 2 };
}

/**
 * The Kafka message value of a simulated event: poison as built, Avro through `encodeAvro`, JSON
 * in the event's {@link jsonStyleFor} style. `encodeAvro` is required when an event is Avro.
 */
export function messageValue(event: SimulatedEvent, encodeAvro?: EncodeAvro): Buffer {
  if (event.kind === 'poison') return event.bytes;
  if (event.format === 'json') return encodeAuthorizationJson(event.value, jsonStyleFor(event.eventId));
  if (encodeAvro === undefined) throw usageError('cannot encode an Avro event', ['encodeAvro: is required']);
  return encodeAvro(event.value);
}
