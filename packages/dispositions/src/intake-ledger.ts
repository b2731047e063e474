import { createHash } from 'node:crypto';
import type { AlertDisposition } from '@leakwatch/contracts';
import { toRedisError, type RedisClient } from '@leakwatch/redis';

/** What the intake knows of a request it is about to write. */
export type ClaimResult =
  /** Never seen: write it, then `confirm` (or `release` if the write failed). */
  | { outcome: 'new'; claim: IntakeClaim }
  /** The same webhook-id, or the same alertId + disposition + at, was written before. */
  | { outcome: 'duplicate' }
  /** The same request is being written right now by another call: answer "retry". */
  | { outcome: 'in_progress' };

export interface IntakeClaim {
  readonly keys: readonly string[];
}

/**
 * Remembers which dispositions the intake wrote, so a repeat writes nothing: by webhook-id (a
 * retried request) and by content (alertId + disposition + at; the same verdict sent again
 * under a new webhook-id).
 */
export interface IntakeLedger {
  /** @throws LeakwatchError REDIS_UNAVAILABLE (retryable) */
  claim(partnerId: string, webhookId: string, disposition: AlertDisposition): Promise<ClaimResult>;
  /** The write succeeded: repeats from now on are duplicates. */
  confirm(claim: IntakeClaim): Promise<void>;
  /** The write failed: forget the claim so a retry can write. */
  release(claim: IntakeClaim): Promise<void>;
}

export interface RedisIntakeLedgerOptions {
  redis: RedisClient;
  keyPrefix?: string;
  /**
   * How long a webhook-id is remembered. A request older than the timestamp tolerance (5 min)
   * is refused as stale anyway; a day leaves room for clock skew. Default 86,400.
   */
  webhookIdTtlSeconds?: number;
  /** How long a disposition's content is remembered; default as the alert index (90 days). */
  contentTtlSeconds?: number;
  /** A claim that is neither confirmed nor released (the process died) expires after this. */
  pendingTtlSeconds?: number;
}

const PENDING = 'pending';
const DONE = 'done';

/** The content key of a disposition: alertId + disposition + at. */
export function contentDigest(d: Pick<AlertDisposition, 'alertId' | 'disposition' | 'at'>): string {
  return createHash('sha256')
    .update(`${d.alertId}\n${d.disposition}\n${d.at}`)
    .digest('base64url')
    .slice(0, 32);
}

/**
 * The ledger in Redis: two string keys per written disposition, each claimed with SET NX (value
 * "pending", a short TTL) and turned "done" (long TTL) once Kafka acknowledged the write. Keys
 * live in different cluster slots on purpose: each claim is one atomic command.
 */
export class RedisIntakeLedger implements IntakeLedger {
  private readonly redis: RedisClient;
  private readonly prefix: string;
  private readonly webhookIdTtl: number;
  private readonly contentTtl: number;
  private readonly pendingTtl: number;

  constructor(options: RedisIntakeLedgerOptions) {
    this.redis = options.redis;
    this.prefix = options.keyPrefix ?? 'lw:';
    this.webhookIdTtl = options.webhookIdTtlSeconds ?? 86_400;
    this.contentTtl = options.contentTtlSeconds ?? 90 * 86_400;
    this.pendingTtl = options.pendingTtlSeconds ?? 60;
  }

  webhookIdKey(partnerId: string, webhookId: string): string {
    return `${this.prefix}disposition-intake:webhook-id:${partnerId}:${webhookId}`;
  }

  contentKey(disposition: Pick<AlertDisposition, 'alertId' | 'disposition' | 'at'>): string {
    return `${this.prefix}disposition-intake:content:${contentDigest(disposition)}`;
  }

  async claim(partnerId: string, webhookId: string, disposition: AlertDisposition): Promise<ClaimResult> {
    const keys = [this.webhookIdKey(partnerId, webhookId), this.contentKey(disposition)];
    const taken: string[] = [];
    try {
      for (const key of keys) {
        const set = await this.redis.set(key, PENDING, 'EX', this.pendingTtl, 'NX');
        if (set === 'OK') {
          taken.push(key);
          continue;
        }
        const state = await this.redis.get(key);
        // let go of what this call took: the other one owns the request
        if (taken.length > 0) await this.redis.del(...taken);
        if (state === PENDING) return { outcome: 'in_progress' };
        return { outcome: 'duplicate' };
      }
    } catch (error) {
      if (taken.length > 0) await this.redis.del(...taken).catch(() => undefined);
      throw toRedisError(error, 'disposition intake claim');
    }
    return { outcome: 'new', claim: { keys } };
  }

  async confirm(claim: IntakeClaim): Promise<void> {
    const [webhookIdKey, contentKey] = claim.keys as [string, string];
    try {
      await Promise.all([
        this.redis.set(webhookIdKey, DONE, 'EX', this.webhookIdTtl),
        this.redis.set(contentKey, DONE, 'EX', this.contentTtl),
      ]);
    } catch (error) {
      throw toRedisError(error, 'disposition intake confirm');
    }
  }

  async release(claim: IntakeClaim): Promise<void> {
    try {
      await Promise.all(claim.keys.map((key) => this.redis.del(key)));
    } catch (error) {
      throw toRedisError(error, 'disposition intake release');
    }
  }
}
