import type { MonitorHandle } from '@leakwatch/monitor-service';
import { integrationTest as it } from '@leakwatch/testing';
import { describe, expect, vi } from 'vitest';
import {
  authorizationBuilder,
  captureLines,
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
 * One fingerprint check everywhere (issue 7, defect 7). A fingerprint whose last character has
 * its two low bits set is 43 base64url characters but not the encoding of 32 bytes. The store
 * always refused it; the contract used to accept it, so one such event failed the whole batch's
 * lookup and the monitor fell back to one message at a time. Now the decoder refuses it: it is
 * dead-lettered as VALIDATION_FAILED and the rest of the batch takes one lookup.
 */

const WAIT = { timeout: 60_000, interval: 200 } as const;
const T0 = Date.UTC(2026, 4, 2, 3, 0, 0);
const authorization = authorizationBuilder(T0, {
  id: 'm-grocer-jp',
  name: 'Grocer Shibuya',
  mcc: '5411',
  country: 'JP',
});

/** The same characters with low bits set in the last one: decodes to the same 32 bytes. */
function nonCanonical(fingerprint: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(fingerprint.at(-1) as string);
  return `${fingerprint.slice(0, 42)}${alphabet[last + 1] as string}`;
}

describe('monitor: a fingerprint the contract refuses', () => {
  it('is dead-lettered as VALIDATION_FAILED at decoding; the rest of its batch alerts with one lookup', async ({
    endpoints,
    kafka,
    admin,
    createTopics,
    redis,
    redisPrefix,
    groupId,
    testId,
  }) => {
    const { topics, fingerprintKeys, keyring, watchedCards } = await watchedIncident({
      createTopics,
      redis,
      redisPrefix,
      testId,
      cardCount: 40,
    });
    const cards = watchedCards.map((card) => ({
      pan: null,
      fingerprint: keyring.fingerprint(card.pan),
      keyId: keyring.currentKeyId,
      bin: card.pan.slice(0, 6),
      last4: card.pan.slice(-4),
      expiry: null,
    }));
    const bad = {
      ...(cards[0] as (typeof cards)[number]),
      fingerprint: nonCanonical(cards[0]?.fingerprint ?? ''),
    };
    expect(Buffer.from(bad.fingerprint, 'base64url')).toEqual(
      Buffer.from(cards[0]?.fingerprint ?? '', 'base64url'),
    );
    const events = cards.map((card, i) => authorization(`evt-${testId}-${i}`, i, card));
    // the bad one in the middle of the batch; one key, so one partition and one batch
    events.splice(20, 0, authorization(`evt-${testId}-bad`, 20, bad));

    const log = captureLines();
    let handle: MonitorHandle | undefined;
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    try {
      handle = await startInProcessMonitor(
        { endpoints, topics, groupId, redisPrefix, fingerprintKeys },
        { level: 'debug', destination: log.stream },
      );
      const port = handle.httpPort;
      await waitUntilReady(port, WAIT);
      await producer.connect();
      await producer.send({
        topic: topics.authorizations,
        acks: -1,
        messages: events.map((event) => ({
          key: 'one-partition',
          value: Buffer.from(JSON.stringify(event)),
        })),
      });
      const metrics = async () => (await getOps(port, '/metrics')).body;
      await vi.waitFor(async () => expect(processedCounts(await metrics()).total).toBe(events.length), WAIT);

      const text = await metrics();
      expect(processedCounts(text)).toMatchObject({ alerted: 40, deadLettered: 1 });
      expect(metricValue(text, 'leakwatch_dead_letters_total', { reason: 'VALIDATION_FAILED' })).toBe(1);
      expect(metricValue(text, 'leakwatch_dead_letters_total', { reason: 'INTERNAL' })).toBe(0);
      // batched: one lookup per batch, not one per message
      const lookups = metricValue(text, 'leakwatch_leak_lookup_duration_seconds_count');
      expect(lookups).toBeGreaterThan(0);
      expect(lookups).toBeLessThan(5);
      expect(log.lines.filter((line) => line.includes('isolating the message'))).toEqual([]);

      const dlq = await readToEnd(kafka, admin, topics.deadLetters);
      expect(dlq).toHaveLength(1);
      expect(dlq[0]?.headers['lw-error-code']).toBe('VALIDATION_FAILED');
      expect(dlq[0]?.headers['lw-error-message']).toContain('card.fingerprint');
      expect((JSON.parse((dlq[0]?.value as Buffer).toString()) as { eventId: string }).eventId).toBe(
        `evt-${testId}-bad`,
      );
      const alerts = await decodeAlerts(
        endpoints.schemaRegistryUrl,
        await readToEnd(kafka, admin, topics.alerts),
      );
      expect(alerts.map((a) => a.alert.eventId).sort()).toEqual(
        cards.map((_, i) => `evt-${testId}-${i}`).sort(),
      );
    } finally {
      await producer.disconnect();
      await handle?.close();
    }
  });
});
