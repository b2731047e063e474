import type { SuspiciousChargeAlert } from '@leakwatch/contracts';
import { keySlot, toRedisError, type PipelineRunner } from '@leakwatch/redis';

/**
 * What the intake and the applier need to know about an alert, by alertId: whose it is (a
 * partner may only judge its own alerts), which card (CARD_REISSUED takes it off the watch list)
 * and what it was about (counts per incident and per reason code). No PAN: the fingerprint only.
 */
export interface IndexedAlert {
  alertId: string;
  partnerId: string;
  fingerprint: string;
  keyId: string;
  /**
   * The card's fingerprints under the other active keys, from the alert's lw-card-fingerprints
   * header (a key rotation): CARD_REISSUED removes the card under each. Absent on entries
   * indexed before it existed.
   */
  otherFingerprints?: readonly string[];
  incidentIds: readonly string[];
  reasonCodes: readonly string[];
  /** Epoch milliseconds. */
  detectedAt: number;
}

/** Reads the index; the intake and the applier depend on this only. */
export interface AlertIndexReader {
  /** @throws LeakwatchError REDIS_UNAVAILABLE (retryable) */
  get(alertId: string): Promise<IndexedAlert | null>;
}

/** Writes the index; the indexer (a consumer of card.alerts.v1) depends on this only. */
export interface AlertIndexWriter {
  /** @throws LeakwatchError REDIS_UNAVAILABLE (retryable) */
  record(alerts: readonly IndexedAlert[]): Promise<void>;
}

export interface RedisAlertIndexOptions {
  runner: PipelineRunner;
  /** LEAKWATCH_REDIS_KEY_PREFIX, default "lw:". */
  keyPrefix?: string;
  /**
   * How long an alert stays judgeable. Past it, a disposition gets 404 unknown_alert. Default
   * 90 days: issuers settle chargebacks within that.
   */
  ttlSeconds?: number;
  /** Clock: an alert expires ttlSeconds after it was detected, not after it was indexed. */
  now?: () => number;
}

export const DEFAULT_ALERT_INDEX_TTL_SECONDS = 90 * 24 * 3600;

/**
 * The subset of an alert the index keeps, with the card's fingerprints under the other active
 * keys (read from the alert record's header, see ALERT_CARD_FINGERPRINTS_HEADER).
 */
export function toIndexedAlert(
  alert: SuspiciousChargeAlert,
  otherFingerprints: readonly string[] = [],
): IndexedAlert {
  const others = otherFingerprints.filter((f) => f !== alert.card.fingerprint);
  return {
    alertId: alert.alertId,
    partnerId: alert.partnerId,
    fingerprint: alert.card.fingerprint,
    keyId: alert.card.keyId,
    ...(others.length > 0 ? { otherFingerprints: [...new Set(others)] } : {}),
    incidentIds: alert.incidents.map((i) => i.incidentId),
    reasonCodes: alert.reasons.map((r) => r.code),
    detectedAt: alert.detectedAt,
  };
}

/**
 * The alert index in Redis: one string key per alert (`<prefix>alert-index:<alertId>`, JSON,
 * with a TTL), so entries expire on their own and spread over a cluster's slots. A repeat of an
 * alert (same alertId) rewrites the same key with the same value.
 */
export class RedisAlertIndex implements AlertIndexReader, AlertIndexWriter {
  private readonly runner: PipelineRunner;
  private readonly prefix: string;
  readonly ttlSeconds: number;
  private readonly now: () => number;

  constructor(options: RedisAlertIndexOptions) {
    this.runner = options.runner;
    this.now = options.now ?? Date.now;
    this.prefix = options.keyPrefix ?? 'lw:';
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_ALERT_INDEX_TTL_SECONDS;
  }

  keyOf(alertId: string): string {
    return `${this.prefix}alert-index:${alertId}`;
  }

  /**
   * Indexes alerts (see toIndexedAlert) until `ttlSeconds` after their detection: a consumer group new to a topic
   * with a long history skips (and never resurrects) alerts already too old to judge.
   */
  async record(alerts: readonly IndexedAlert[]): Promise<void> {
    const now = this.now();
    await this.runner.run(
      alerts.flatMap((alert) => {
        const ttl = this.ttlSeconds - Math.max(0, Math.floor((now - alert.detectedAt) / 1000));
        if (ttl <= 0) return [];
        const key = this.keyOf(alert.alertId);
        const value = JSON.stringify(alert);
        return [{ slot: keySlot(key), add: (p) => p.set(key, value, 'EX', ttl) }];
      }),
      'alert index write',
    );
  }

  async get(alertId: string): Promise<IndexedAlert | null> {
    let value: string | null;
    try {
      value = await this.runner.client.get(this.keyOf(alertId));
    } catch (error) {
      throw toRedisError(error, 'alert index read');
    }
    return value === null ? null : (JSON.parse(value) as IndexedAlert);
  }
}
