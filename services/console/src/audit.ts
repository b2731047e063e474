import type { DispositionOrigin } from '@leakwatch/alert-view';
import type { AlertDisposition, Disposition } from '@leakwatch/contracts';
import type { RedisClient } from '@leakwatch/redis';

/** One console action on an alert: who, what, when, before and after. */
export interface AuditEntry {
  at: number;
  by: string;
  action: string;
  alertId: string;
  before: string | null;
  after: string | null;
  note: string | null;
  /** The issuer, for a disposition posted through the dispatcher's intake. */
  partnerId?: string;
}

/** Appends the entry unless its id was recorded before (both keys share the alert's hash tag). */
const RECORD_ONCE = `if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then
  redis.call('RPUSH', KEYS[1], ARGV[2])
  return 1
end
return 0`;

/**
 * Audit records in Redis, one list per alert (AOF/replicas make it durable; no card data in it,
 * only ids, usernames and disposition names). Kept apart from Kafka because the record of who
 * did what must survive even when a disposition is later overwritten by compaction.
 */
export class AuditLog {
  constructor(
    private readonly redis: Pick<RedisClient, 'rpush' | 'lrange' | 'eval'>,
    private readonly keyPrefix: string,
  ) {}

  private key(alertId: string): string {
    return `${this.keyPrefix}console:audit:{${alertId}}`;
  }

  async record(entry: AuditEntry): Promise<void> {
    await this.redis.rpush(this.key(entry.alertId), JSON.stringify(entry));
  }

  /**
   * An issuer's disposition read from Kafka, recorded once however many console instances read
   * it and however often the topic is replayed (the partner, `at`, verdict and `by` name it).
   */
  recordPartnerDisposition(
    d: AlertDisposition,
    origin: DispositionOrigin,
    before: Disposition | null,
  ): Promise<void> {
    const entry: AuditEntry = {
      at: d.at,
      by: d.by,
      action: 'partner_disposition',
      alertId: d.alertId,
      before,
      after: d.disposition,
      note: d.note,
      ...(origin.partnerId ? { partnerId: origin.partnerId } : {}),
    };
    return this.recordOnce(JSON.stringify([origin.partnerId, d.at, d.disposition, d.by]), entry);
  }

  private async recordOnce(id: string, entry: AuditEntry): Promise<void> {
    const seen = `${this.keyPrefix}console:audit-seen:{${entry.alertId}}`;
    await this.redis.eval(RECORD_ONCE, 2, this.key(entry.alertId), seen, id, JSON.stringify(entry));
  }

  async entries(alertId: string): Promise<AuditEntry[]> {
    const raw = await this.redis.lrange(this.key(alertId), 0, -1);
    return raw.map((line) => JSON.parse(line) as AuditEntry);
  }
}
