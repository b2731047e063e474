import { alertCardFingerprintsHeader } from '@leakwatch/contracts';
import { describeError, LeakwatchError } from '@leakwatch/errors';
import type { Message, TopicMessages } from 'kafkajs';
import { DLQ_HEADERS, deadLetterHeaders } from './dead-letter.js';
import { canHeal } from './retry.js';
import type { AlertDecision, BatchOutcome, DeadLetterDecision } from './stages/outcome.js';
import type { SuspiciousChargeAlert } from './types.js';

/** Header of a TOO_LARGE dead letter: the size in bytes of the value it replaced. */
const ORIGINAL_SIZE_HEADER = 'lw-original-size';

/** Kafka's fixed cost of a record batch (v2) and a generous bound on one record's framing. */
const BATCH_OVERHEAD_BYTES = 61;
const RECORD_OVERHEAD_BYTES = 32;

export interface PublishOptions {
  topics: { source: string; alerts: string; deadLetters: string };
  encodeAlert: (alert: SuspiciousChargeAlert) => Buffer;
  /** One produce request (kafkajs sendBatch with acks all); throws as kafkajs does. */
  send: (topicMessages: TopicMessages[]) => Promise<void>;
  /** The most bytes one request may carry: the smallest max.message.bytes of the two topics. */
  maxRequestBytes: number;
  /** max.message.bytes of the dead-letter topic. */
  deadLetterMaxBytes: number;
  now: () => Date;
}

/** Bytes a record takes in a batch, over-estimated (uncompressed, varints at their widest). */
export function recordBytes(message: Message): number {
  let size = RECORD_OVERHEAD_BYTES + byteLength(message.key) + byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    size += 10 + Buffer.byteLength(name) + byteLength(value as string | Buffer | undefined);
  }
  return size;
}

function byteLength(value: string | Buffer | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

interface Pending {
  topic: string;
  message: Message;
  /** The alert this record carries, or null for a dead letter. */
  alert: AlertDecision | null;
}

/**
 * Publishes a batch's alerts and dead letters, and returns the outcome as published. What cannot
 * heal never stalls the partition:
 *
 * - Requests are split so that none exceeds `maxRequestBytes` (the broker refuses a batch over
 *   max.message.bytes with MESSAGE_TOO_LARGE, for good).
 * - kafkajs' `retriable` decides: a failure that can heal is thrown (the caller pauses and
 *   retries the batch); one that cannot is narrowed down by sending that request's records one
 *   by one.
 * - An alert that its encoder or Kafka refuses for good: its source message is dead-lettered
 *   with PUBLISH_REFUSED (the reason in lw-error-message), and it counts as dead-lettered.
 * - A dead letter over the dead-letter topic's max.message.bytes (or refused as too large) is
 *   replaced by an empty value with the same headers, `lw-error-code: TOO_LARGE` and
 *   `lw-original-size`. The source offset in the headers still points at the original.
 * - A dead letter that Kafka refuses even then (an ACL, a deleted topic) cannot be dropped
 *   silently: it is thrown as KAFKA_UNAVAILABLE, and the partition waits for an operator.
 */
export async function publishOutcome(
  partition: number,
  outcome: BatchOutcome,
  options: PublishOptions,
): Promise<BatchOutcome> {
  const published: BatchOutcome = { ...outcome, alerts: [], deadLetters: [...outcome.deadLetters] };
  const refusedAlerts: DeadLetterDecision[] = [];
  const alerts: Pending[] = [];
  for (const decision of outcome.alerts) {
    try {
      alerts.push({
        topic: options.topics.alerts,
        message: alertMessage(decision, options.encodeAlert),
        alert: decision,
      });
    } catch (error) {
      if (canHeal(error)) throw error;
      refusedAlerts.push(refusal(decision, 'its encoder', error));
    }
  }
  const deadLetter = (d: DeadLetterDecision): Pending => ({
    topic: options.topics.deadLetters,
    message: fitDeadLetter(deadLetterMessage(d, partition, options), options.deadLetterMaxBytes),
    alert: null,
  });

  const refused = await sendAll([...alerts, ...published.deadLetters.map(deadLetter)], options);
  const refusedSet = new Set(refused.map((r) => r.pending));
  for (const { pending, error } of refused) {
    if (pending.alert) refusedAlerts.push(refusal(pending.alert, 'Kafka', error));
  }
  published.alerts = alerts.filter((p) => !refusedSet.has(p)).map((p) => p.alert as AlertDecision);

  // second round: dead letters for refused alerts, and refused dead letters emptied
  const second: Pending[] = refusedAlerts.map(deadLetter);
  for (const { pending, error } of refused) {
    if (pending.alert) continue;
    second.push({ ...pending, message: emptied(pending.message, describeError(error)) });
  }
  published.deadLetters.push(...refusedAlerts);
  const refusedAgain = await sendAll(second, options);
  const stuck: Pending[] = [];
  for (const { pending, error } of refusedAgain) {
    if (pending.message.value !== null && (pending.message.value as Buffer).length > 0) {
      // a PUBLISH_REFUSED dead letter that is itself refused: empty it, once
      stuck.push({ ...pending, message: emptied(pending.message, describeError(error)) });
    } else {
      throw unwritable(error);
    }
  }
  const refusedLast = await sendAll(stuck, options);
  if (refusedLast[0]) throw unwritable(refusedLast[0].error);
  return published;
}

/**
 * The card.alerts.v1 record of an alert: keyed by the card fingerprint, with the card's
 * fingerprints under the other active keys in a header (see ALERT_CARD_FINGERPRINTS_HEADER).
 */
export function alertMessage(
  decision: Pick<AlertDecision, 'alert' | 'cardFingerprints'>,
  encode: (alert: SuspiciousChargeAlert) => Buffer,
): Message {
  const headers = alertCardFingerprintsHeader(decision.alert.card.fingerprint, decision.cardFingerprints);
  return {
    key: decision.alert.card.fingerprint,
    value: encode(decision.alert),
    ...(headers ? { headers } : {}),
  };
}

function refusal(decision: AlertDecision, by: string, error: unknown): DeadLetterDecision {
  return {
    message: decision.message,
    code: 'PUBLISH_REFUSED',
    reason: `alert ${decision.alert.alertId} refused by ${by}: ${describeError(error)}`,
  };
}

function unwritable(error: unknown): LeakwatchError {
  return new LeakwatchError(
    'KAFKA_UNAVAILABLE',
    `the dead-letter topic refuses even an empty dead letter: ${describeError(error)}`,
    { cause: error },
  );
}

function deadLetterMessage(d: DeadLetterDecision, partition: number, options: PublishOptions): Message {
  return {
    key: d.message.key,
    value: d.message.value,
    headers: deadLetterHeaders(
      d.code,
      d.reason,
      { topic: options.topics.source, partition, offset: d.message.offset },
      options.now(),
    ),
  };
}

/** The dead letter as it is, or emptied when it would exceed the topic's limit. */
export function fitDeadLetter(message: Message, maxBytes: number): Message {
  if (recordBytes(message) + BATCH_OVERHEAD_BYTES <= maxBytes) return message;
  return emptied(message, `over the dead-letter topic's max.message.bytes (${maxBytes})`);
}

/**
 * The dead letter with an empty value (and no key when the key is large), its headers kept, the
 * original code folded into the message, `lw-error-code: TOO_LARGE` and the original size.
 */
export function emptied(message: Message, why: string): Message {
  const headers = { ...(message.headers ?? {}) } as Record<string, string>;
  const originalCode = headers[DLQ_HEADERS.code];
  headers[DLQ_HEADERS.message] =
    `${originalCode ?? 'UNKNOWN'}: ${headers[DLQ_HEADERS.message] ?? ''} (value dropped: ${why})`.slice(
      0,
      1000,
    );
  headers[DLQ_HEADERS.code] = 'TOO_LARGE';
  headers[ORIGINAL_SIZE_HEADER] = String(byteLength(message.value));
  const keepKey = byteLength(message.key) <= 1024;
  return { key: keepKey ? (message.key ?? null) : null, value: Buffer.alloc(0), headers };
}

/**
 * Sends the records in requests of at most maxRequestBytes, in order. A request that fails for
 * good is sent again one record per request, to find the records Kafka refuses; those are
 * returned. A failure that can heal is thrown.
 */
async function sendAll(
  records: readonly Pending[],
  options: PublishOptions,
): Promise<Array<{ pending: Pending; error: unknown }>> {
  const refused: Array<{ pending: Pending; error: unknown }> = [];
  for (const chunk of chunks(records, options.maxRequestBytes)) {
    try {
      await options.send(byTopic(chunk));
    } catch (error) {
      if (canHeal(error)) throw error;
      if (chunk.length === 1) {
        refused.push({ pending: chunk[0] as Pending, error });
        continue;
      }
      for (const pending of chunk) {
        try {
          await options.send(byTopic([pending]));
        } catch (oneError) {
          if (canHeal(oneError)) throw oneError;
          refused.push({ pending, error: oneError });
        }
      }
    }
  }
  return refused;
}

/** Consecutive runs of records whose sizes add up to at most maxBytes (a larger record alone). */
export function chunks<T extends { message: Message }>(records: readonly T[], maxBytes: number): T[][] {
  const result: T[][] = [];
  let current: T[] = [];
  let size = BATCH_OVERHEAD_BYTES;
  for (const record of records) {
    const bytes = recordBytes(record.message);
    if (current.length > 0 && size + bytes > maxBytes) {
      result.push(current);
      current = [];
      size = BATCH_OVERHEAD_BYTES;
    }
    current.push(record);
    size += bytes;
  }
  if (current.length > 0) result.push(current);
  return result;
}

function byTopic(records: readonly Pending[]): TopicMessages[] {
  const topics = new Map<string, Message[]>();
  for (const r of records) {
    const list = topics.get(r.topic) ?? [];
    list.push(r.message);
    topics.set(r.topic, list);
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}
