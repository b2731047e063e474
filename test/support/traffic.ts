import type { Keyring } from '@leakwatch/card';
import {
  alertIdFor,
  cardAuthorizationAvro,
  confluentFrame,
  type SuspiciousChargeAlert,
} from '@leakwatch/contracts';
import {
  createTrafficGenerator,
  generateCards,
  messageValue,
  type CardAuthorization,
  type SimulatedEvent,
  type TrafficGenerator,
  type WatchedCard,
} from '@leakwatch/simulator';
import type { Producer } from 'kafkajs';
import { expect } from 'vitest';

/** Cards for a leak list, distinct for a seed. */
export function watchedCardsFor(seed: string, count: number): WatchedCard[] {
  return generateCards({ count, seed: `watched-${seed}` }).map((card) => ({
    pan: card.pan,
    expiry: card.expiry,
  }));
}

/**
 * Confluent-framed Avro under `schemaId` without validation: the simulator also spoils valid
 * values into poison (a negative amount, a broken PAN) and needs them framed all the same.
 */
function rawAvroEncoder(schemaId: number): (value: CardAuthorization) => Buffer {
  return (value) => confluentFrame(schemaId, cardAuthorizationAvro.type.toBuffer(value));
}

/** Simulated traffic with a share of watched cards, some sent by fingerprint, some JSON. */
export function trafficFor(options: {
  seed: string;
  keyring: Keyring;
  watchedCards: readonly WatchedCard[];
  schemaId: number;
  watchedShare?: number;
  poisonShare?: number;
  jsonShare?: number;
}): { generator: TrafficGenerator; encodeAvro: (value: CardAuthorization) => Buffer } {
  const encodeAvro = rawAvroEncoder(options.schemaId);
  const generator = createTrafficGenerator({
    seed: options.seed,
    runId: options.seed.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64),
    watchedCards: options.watchedCards,
    watchedShare: options.watchedShare ?? 0.15,
    poisonShare: options.poisonShare ?? 0,
    encodeAvro,
    jsonShare: options.jsonShare ?? 0.3,
    fingerprintShare: 0.1,
    fingerprinter: (pan) => ({
      keyId: options.keyring.currentKeyId,
      fingerprint: options.keyring.fingerprint(pan),
    }),
    populationSize: 5000,
    merchantCount: 200,
  });
  return { generator, encodeAvro };
}

/** Sends events in chunks (one produce request each), acknowledged by all in-sync replicas. */
export async function produceEvents(
  producer: Producer,
  topic: string,
  events: readonly SimulatedEvent[],
  valueOf: (event: SimulatedEvent) => Buffer,
  chunk = 100,
): Promise<void> {
  for (let i = 0; i < events.length; i += chunk) {
    await producer.send({
      topic,
      acks: -1,
      messages: events.slice(i, i + chunk).map((event) => ({ key: event.key, value: valueOf(event) })),
    });
  }
}

/** The encoder the simulator's own `messageValue` uses: Avro through `encodeAvro`, JSON as styled. */
export function simulatedValue(
  encodeAvro: (value: CardAuthorization) => Buffer,
): (event: SimulatedEvent) => Buffer {
  return (event) => messageValue(event, encodeAvro);
}

/** Event ids of authorizations on watched cards: with alertMinScore 0 each one must alert. */
export function watchedEventIds(events: readonly SimulatedEvent[]): string[] {
  return events.flatMap((e) => (e.kind === 'authorization' && e.watched ? [e.eventId] : []));
}

/**
 * At least once with idempotent ids: every expected eventId alerted, nothing else did, and a
 * repeat carries the alertId of the first. Returns how many repeats there were.
 */
export function expectAlertsExactlyFor(
  alerts: readonly SuspiciousChargeAlert[],
  expectedEventIds: readonly string[],
): number {
  const byEvent = new Map<string, SuspiciousChargeAlert[]>();
  for (const alert of alerts) byEvent.set(alert.eventId, [...(byEvent.get(alert.eventId) ?? []), alert]);
  expect([...byEvent.keys()].sort(), 'eventIds that alerted').toEqual([...new Set(expectedEventIds)].sort());
  let repeats = 0;
  for (const [eventId, list] of byEvent) {
    for (const alert of list) expect(alert.alertId, `alertId of ${eventId}`).toBe(alertIdFor(eventId));
    repeats += list.length - 1;
  }
  return repeats;
}
