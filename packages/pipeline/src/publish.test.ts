import { LeakwatchError } from '@leakwatch/errors';
import { KafkaJSProtocolError, type TopicMessages } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  chunks,
  emptied,
  fitDeadLetter,
  publishOutcome,
  recordBytes,
  type PublishOptions,
} from './publish.js';
import { emptyOutcome, type BatchOutcome } from './stages/outcome.js';
import { message } from './stages/stages.fakes.js';
import type { SuspiciousChargeAlert } from './types.js';

const topics = { source: 'in', alerts: 'alerts', deadLetters: 'dlq' };

function protocolError(type: string, retriable: boolean): Error {
  return new KafkaJSProtocolError({ message: type, type, code: 1, retriable } as unknown as Error);
}

function alertOn(offset: number): BatchOutcome['alerts'][number] {
  return {
    message: message(offset),
    alert: {
      alertId: `al_${offset}`,
      card: { fingerprint: `fp${offset}` },
    } as unknown as SuspiciousChargeAlert,
    cardFingerprints: [{ keyId: 'k1', fingerprint: `fp${offset}` }],
  };
}

/** A broker that refuses any record larger than `maxRecordBytes`, or whatever `refuse` says. */
function fakeBroker(
  options: { maxRecordBytes?: number; refuse?: (topic: string, value: Buffer) => Error | undefined } = {},
) {
  const requests: TopicMessages[][] = [];
  const written: Array<{ topic: string; value: Buffer; headers: Record<string, string> }> = [];
  const send = (topicMessages: TopicMessages[]) => {
    requests.push(topicMessages);
    for (const { topic, messages } of topicMessages) {
      for (const m of messages) {
        const value = m.value as Buffer;
        const refused =
          options.refuse?.(topic, value) ??
          (recordBytes(m) > (options.maxRecordBytes ?? Infinity)
            ? protocolError('MESSAGE_TOO_LARGE', false)
            : undefined);
        if (refused) return Promise.reject(refused);
      }
    }
    for (const { topic, messages } of topicMessages) {
      for (const m of messages)
        written.push({ topic, value: m.value as Buffer, headers: m.headers as Record<string, string> });
    }
    return Promise.resolve();
  };
  return { send, requests, written };
}

function options(send: PublishOptions['send'], overrides: Partial<PublishOptions> = {}): PublishOptions {
  return {
    topics,
    encodeAlert: (alert) => Buffer.from(alert.alertId),
    send,
    maxRequestBytes: 1_000_000,
    deadLetterMaxBytes: 1_000_000,
    now: () => new Date(0),
    ...overrides,
  };
}

describe('publishOutcome', () => {
  it('sends alerts and dead letters in one request in the common case', async () => {
    const broker = fakeBroker();
    const outcome: BatchOutcome = {
      ...emptyOutcome(),
      alerts: [alertOn(1), alertOn(2)],
      deadLetters: [{ message: message(3), code: 'JSON_INVALID', reason: 'bad' }],
    };
    const published = await publishOutcome(0, outcome, options(broker.send));
    expect(broker.requests).toHaveLength(1);
    expect(published).toEqual(outcome);
    expect(broker.written.map((w) => w.topic)).toEqual(['alerts', 'alerts', 'dlq']);
    expect(broker.written[2]?.headers['lw-source-offset']).toBe('3');
  });

  it("puts the card's fingerprints under the other active keys in a header, beside the alert", async () => {
    const broker = fakeBroker();
    const rotating = {
      ...alertOn(1),
      cardFingerprints: [
        { keyId: 'k2', fingerprint: 'fp1' },
        { keyId: 'k1', fingerprint: 'fp1-k1' },
      ],
    };
    await publishOutcome(0, { ...emptyOutcome(), alerts: [rotating, alertOn(2)] }, options(broker.send));
    expect(broker.written.map((w) => w.headers)).toEqual([
      { 'lw-card-fingerprints': 'k1:fp1-k1' },
      undefined, // one key: nothing beside the alert's own fingerprint
    ]);
  });

  it('splits requests so that none exceeds the limit', async () => {
    const broker = fakeBroker();
    const outcome: BatchOutcome = {
      ...emptyOutcome(),
      deadLetters: Array.from({ length: 10 }, (_, i) => ({
        message: message(i, 'x'.repeat(400)),
        code: 'JSON_INVALID' as const,
        reason: 'bad',
      })),
    };
    await publishOutcome(0, outcome, options(broker.send, { maxRequestBytes: 2000 }));
    expect(broker.requests.length).toBeGreaterThan(2);
    for (const request of broker.requests) {
      const bytes = request.flatMap((t) => t.messages).reduce((sum, m) => sum + recordBytes(m), 61);
      expect(bytes).toBeLessThanOrEqual(2000);
    }
    expect(broker.written).toHaveLength(10);
  });

  it('throws a failure that can heal, for the batch to be retried', async () => {
    const leaderMoved = protocolError('NOT_LEADER_FOR_PARTITION', true);
    const outcome = { ...emptyOutcome(), alerts: [alertOn(1)] };
    await expect(
      publishOutcome(
        0,
        outcome,
        options(() => Promise.reject(leaderMoved)),
      ),
    ).rejects.toBe(leaderMoved);
    const down = new LeakwatchError('REGISTRY_UNAVAILABLE', 'down');
    const encodeAlert = () => {
      throw down;
    };
    await expect(publishOutcome(0, outcome, options(fakeBroker().send, { encodeAlert }))).rejects.toBe(down);
  });

  it('dead-letters the source of an alert its encoder refuses, and publishes the rest', async () => {
    const broker = fakeBroker();
    const encodeAlert = (alert: SuspiciousChargeAlert) => {
      if (alert.alertId === 'al_2') throw new LeakwatchError('VALIDATION_FAILED', 'merchantName: too long');
      return Buffer.from(alert.alertId);
    };
    const outcome = { ...emptyOutcome(), alerts: [alertOn(1), alertOn(2), alertOn(3)] };
    const published = await publishOutcome(4, outcome, options(broker.send, { encodeAlert }));
    expect(published.alerts.map((a) => a.alert.alertId)).toEqual(['al_1', 'al_3']);
    expect(published.deadLetters).toEqual([
      {
        message: message(2),
        code: 'PUBLISH_REFUSED',
        reason: 'alert al_2 refused by its encoder: VALIDATION_FAILED: merchantName: too long',
      },
    ]);
    const dlq = broker.written.filter((w) => w.topic === 'dlq');
    expect(
      dlq.map((w) => [w.value.toString(), w.headers['lw-error-code'], w.headers['lw-source-partition']]),
    ).toEqual([['m2', 'PUBLISH_REFUSED', '4']]);
  });

  it('narrows a request Kafka refuses for good down to the record, and dead-letters its source', async () => {
    const broker = fakeBroker({
      refuse: (topic, value) =>
        topic === 'alerts' && value.toString() === 'al_2'
          ? protocolError('INVALID_RECORD', false)
          : undefined,
    });
    const outcome = { ...emptyOutcome(), alerts: [alertOn(1), alertOn(2), alertOn(3)] };
    const published = await publishOutcome(0, outcome, options(broker.send));
    expect(published.alerts.map((a) => a.alert.alertId)).toEqual(['al_1', 'al_3']);
    expect(published.deadLetters.map((d) => [d.message.offset, d.code])).toEqual([['2', 'PUBLISH_REFUSED']]);
    expect(broker.written.map((w) => [w.topic, w.value.toString()])).toEqual([
      ['alerts', 'al_1'],
      ['alerts', 'al_3'],
      ['dlq', 'm2'],
    ]);
  });

  it('empties a dead letter over the dead-letter topic limit, keeping its headers', async () => {
    const broker = fakeBroker();
    const big = message(9, 'y'.repeat(5000));
    const outcome = {
      ...emptyOutcome(),
      deadLetters: [{ message: big, code: 'JSON_INVALID' as const, reason: 'bad' }],
    };
    await publishOutcome(1, outcome, options(broker.send, { deadLetterMaxBytes: 1000 }));
    expect(broker.written).toHaveLength(1);
    const [written] = broker.written;
    expect(written?.value.length).toBe(0);
    expect(written?.headers).toMatchObject({
      'lw-error-code': 'TOO_LARGE',
      'lw-original-size': '5000',
      'lw-source-topic': 'in',
      'lw-source-partition': '1',
      'lw-source-offset': '9',
    });
    expect(written?.headers['lw-error-message']).toMatch(/^JSON_INVALID: bad \(value dropped: /);
  });

  it('empties a dead letter the broker refuses as too large even under the known limit', async () => {
    const broker = fakeBroker({ maxRecordBytes: 2000 });
    const outcome = {
      ...emptyOutcome(),
      deadLetters: [
        { message: message(1, 'z'.repeat(3000)), code: 'BAD_FRAMING' as const, reason: 'junk' },
        { message: message(2), code: 'BAD_FRAMING' as const, reason: 'junk' },
      ],
    };
    await publishOutcome(0, outcome, options(broker.send));
    expect(
      broker.written.map((w) => [w.headers['lw-source-offset'], w.headers['lw-error-code'], w.value.length]),
    ).toEqual([
      ['2', 'BAD_FRAMING', 2],
      ['1', 'TOO_LARGE', 0],
    ]);
  });

  it('stops (to retry) when the dead-letter topic refuses even an empty record', async () => {
    const denied = protocolError('TOPIC_AUTHORIZATION_FAILED', false);
    const broker = fakeBroker({ refuse: (topic) => (topic === 'dlq' ? denied : undefined) });
    const outcome = {
      ...emptyOutcome(),
      deadLetters: [{ message: message(1), code: 'BAD_FRAMING' as const, reason: 'x' }],
    };
    await expect(publishOutcome(0, outcome, options(broker.send))).rejects.toMatchObject({
      code: 'KAFKA_UNAVAILABLE',
      retryable: true,
    });
  });
});

describe('chunks, fitDeadLetter and emptied', () => {
  it('never splits below one record, and keeps the order', () => {
    const records = [100, 5000, 100, 100].map((n, i) => ({
      i,
      message: { key: null, value: Buffer.alloc(n) },
    }));
    expect(chunks(records, 1000).map((c) => c.map((r) => r.i))).toEqual([[0], [1], [2, 3]]);
  });

  it('leaves a small dead letter as it is and drops a large key', () => {
    const small = { key: 'k', value: Buffer.from('v'), headers: { 'lw-error-code': 'X' } };
    expect(fitDeadLetter(small, 1000)).toBe(small);
    const large = emptied({ key: Buffer.alloc(5000), value: Buffer.alloc(10), headers: {} }, 'why');
    expect(large.key).toBeNull();
    expect(large.headers).toMatchObject({ 'lw-error-code': 'TOO_LARGE', 'lw-original-size': '10' });
  });
});
