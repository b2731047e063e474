import {
  ALERT_CARD_FINGERPRINTS_HEADER,
  parseAlertCardFingerprints,
  type AlertDisposition,
  type Disposition,
  type RecordDecoder,
  type SuspiciousChargeAlert,
} from '@leakwatch/contracts';
import type { Logger } from '@leakwatch/logger';
import type { IHeaders } from 'kafkajs';
import {
  toIndexedAlert,
  type AlertIndexReader,
  type AlertIndexWriter,
  type IndexedAlert,
} from './alert-index.js';
import type { ConsumedMessage } from './batch-consumer.js';
import type { DispositionStatsStore } from './disposition-stats.js';

/** Kafka header naming who wrote a disposition: `partner` (the intake) or `console` (analysts). */
export const DISPOSITION_SOURCE_HEADER = 'lw-disposition-source';
/** Kafka header with the partnerId of a disposition the intake wrote. */
export const DISPOSITION_PARTNER_HEADER = 'lw-partner-id';
export const DISPOSITION_SOURCES = ['partner', 'console'] as const;
export type DispositionSource = (typeof DISPOSITION_SOURCES)[number];

/** The source of a disposition message; without the header, the console (the only other writer). */
export function dispositionSource(headers: IHeaders): DispositionSource {
  const raw = headers[DISPOSITION_SOURCE_HEADER];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value?.toString() === 'partner' ? 'partner' : 'console';
}

/** Takes cards off the watch list: LeakStore.removeCards fits. */
export interface WatchListRemover {
  removeCards(fingerprints: readonly string[]): Promise<readonly { removedFrom: readonly string[] }[]>;
}

export interface DispositionApplierDependencies {
  decoder: Pick<RecordDecoder<AlertDisposition>, 'decodeBatch'>;
  alerts: AlertIndexReader;
  watchList: WatchListRemover;
  stats: DispositionStatsStore;
  /** Called for each disposition that changed an alert's verdict (not for repeats). */
  onApplied?: (disposition: Disposition, source: DispositionSource) => void;
  logger: Logger;
}

export interface AppliedBatch {
  /** Verdicts that changed. */
  applied: number;
  /** Repeats of an alert's current verdict. */
  unchanged: number;
  /** Cards taken off the watch list (CARD_REISSUED). */
  cardsRemoved: number;
  /** Tombstones and undecodable messages. */
  skipped: number;
}

/**
 * Acts on a batch of card.alert-dispositions.v1: CARD_REISSUED takes the alert's card off the
 * watch list (in every incident, under every fingerprint the alert index knows for it: during a
 * key rotation a card is watched under several keys), and every verdict moves the counts per incident and per
 * reason code. Idempotent, so a redelivered batch changes nothing: removal is, and the counts
 * move only when an alert's verdict changes.
 * @throws LeakwatchError REDIS_UNAVAILABLE / REGISTRY_UNAVAILABLE (retryable): retry the batch
 */
export async function applyDispositions(
  messages: readonly ConsumedMessage[],
  deps: DispositionApplierDependencies,
): Promise<AppliedBatch> {
  const result: AppliedBatch = { applied: 0, unchanged: 0, cardsRemoved: 0, skipped: 0 };
  const live = messages.filter((m) => m.value !== null);
  result.skipped += messages.length - live.length;
  const decoded = await deps.decoder.decodeBatch(live.map((m) => m.value));
  const items: { disposition: AlertDisposition; source: DispositionSource }[] = [];
  decoded.forEach((d, i) => {
    const message = live[i] as ConsumedMessage;
    if (!d.ok) {
      // a disposition nobody can read cannot be acted on; the topic has no dead-letter topic
      deps.logger.error(
        { partition: message.partition, offset: message.offset, code: d.code, reason: d.message },
        'undecodable disposition skipped',
      );
      result.skipped += 1;
      return;
    }
    items.push({ disposition: d.value, source: dispositionSource(message.headers) });
  });
  if (items.length === 0) return result;

  const indexed = await Promise.all(items.map((item) => deps.alerts.get(item.disposition.alertId)));
  const reissued = new Map<string, readonly string[]>();
  items.forEach((item, i) => {
    const alert = indexed[i];
    if (!alert) {
      deps.logger.warn(
        { alertId: item.disposition.alertId, disposition: item.disposition.disposition },
        'disposition for an alert not in the index: counted in the totals only, no card to act on',
      );
    } else if (item.disposition.disposition === 'CARD_REISSUED') {
      reissued.set(alert.fingerprint, cardFingerprints(alert));
    }
  });
  // removal first: a crash between the two redoes both, and the removal is harmless twice
  if (reissued.size > 0) {
    result.cardsRemoved = await removeReissued([...reissued.values()], deps);
    if (result.cardsRemoved < reissued.size) {
      // a repeat, or a card watched only under a key whose fingerprint the alert could not carry
      // (an upstream that sent a fingerprint, not the card number, during a key rotation)
      deps.logger.warn(
        { cards: reissued.size, removed: result.cardsRemoved },
        'CARD_REISSUED: some cards were on the watch list under none of their known fingerprints',
      );
    }
    deps.logger.info(
      { cards: reissued.size, removed: result.cardsRemoved },
      'CARD_REISSUED: cards taken off the watch list',
    );
  }
  const changed = await deps.stats.apply(
    items.map((item, i) => ({
      alertId: item.disposition.alertId,
      disposition: item.disposition.disposition,
      incidentIds: indexed[i]?.incidentIds ?? [],
      reasonCodes: indexed[i]?.reasonCodes ?? [],
    })),
  );
  changed.forEach((isChange, i) => {
    const item = items[i] as (typeof items)[number];
    if (isChange) {
      result.applied += 1;
      deps.onApplied?.(item.disposition.disposition, item.source);
    } else result.unchanged += 1;
  });
  return result;
}

/** Every fingerprint the card of an indexed alert is known by: its own, and under the other keys. */
function cardFingerprints(alert: IndexedAlert): readonly string[] {
  return [alert.fingerprint, ...(alert.otherFingerprints ?? [])];
}

/**
 * Takes each card off the watch list under every fingerprint it is known by, in one round trip;
 * returns how many cards were on it under at least one of them.
 */
async function removeReissued(
  cards: readonly (readonly string[])[],
  deps: Pick<DispositionApplierDependencies, 'watchList'>,
): Promise<number> {
  const fingerprints = [...new Set(cards.flat())];
  const removed = await deps.watchList.removeCards(fingerprints);
  const hit = new Set(fingerprints.filter((_, i) => (removed[i]?.removedFrom.length ?? 0) > 0));
  return cards.filter((card) => card.some((f) => hit.has(f))).length;
}

export interface AlertIndexerDependencies {
  decoder: Pick<RecordDecoder<SuspiciousChargeAlert>, 'decodeBatch'>;
  index: AlertIndexWriter;
  logger: Logger;
}

/**
 * Records a batch of card.alerts.v1 in the alert index (whose alert, which card and its
 * fingerprints under the other active keys from the record's header, which incidents and
 * reasons). Undecodable alerts are skipped: the monitor dead-letters nothing
 * here, and an alert nobody can read cannot be judged either.
 * @throws LeakwatchError REDIS_UNAVAILABLE / REGISTRY_UNAVAILABLE (retryable): retry the batch
 */
export async function indexAlerts(
  messages: readonly ConsumedMessage[],
  deps: AlertIndexerDependencies,
): Promise<{ indexed: number; skipped: number }> {
  const live = messages.filter((m) => m.value !== null);
  const decoded = await deps.decoder.decodeBatch(live.map((m) => m.value));
  const alerts: IndexedAlert[] = [];
  decoded.forEach((d, i) => {
    const message = live[i] as ConsumedMessage;
    if (d.ok) {
      const others = parseAlertCardFingerprints(message.headers[ALERT_CARD_FINGERPRINTS_HEADER]);
      alerts.push(
        toIndexedAlert(
          d.value,
          others.map((f) => f.fingerprint),
        ),
      );
    } else {
      deps.logger.error(
        { partition: message.partition, offset: message.offset, code: d.code, reason: d.message },
        'undecodable alert not indexed',
      );
    }
  });
  if (alerts.length > 0) await deps.index.record(alerts);
  return { indexed: alerts.length, skipped: messages.length - alerts.length };
}
