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
}

/**
 * Audit records in Redis, one list per alert (AOF/replicas make it durable; no card data in it,
 * only ids, usernames and disposition names). Kept apart from Kafka because the record of who
 * did what must survive even when a disposition is later overwritten by compaction.
 */
export class AuditLog {
  constructor(
    private readonly redis: Pick<RedisClient, 'rpush' | 'lrange'>,
    private readonly keyPrefix: string,
  ) {}

  private key(alertId: string): string {
    return `${this.keyPrefix}console:audit:{${alertId}}`;
  }

  async record(entry: AuditEntry): Promise<void> {
    await this.redis.rpush(this.key(entry.alertId), JSON.stringify(entry));
  }

  async entries(alertId: string): Promise<AuditEntry[]> {
    const raw = await this.redis.lrange(this.key(alertId), 0, -1);
    return raw.map((line) => JSON.parse(line) as AuditEntry);
  }
}
