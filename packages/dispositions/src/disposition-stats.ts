import { DISPOSITIONS, type Disposition } from '@leakwatch/contracts';
import { keySlot, toRedisError, type PipelineRunner, type RedisClient } from '@leakwatch/redis';

/** One disposition to count, with what its alert was about. */
export interface CountedDisposition {
  alertId: string;
  disposition: Disposition;
  /** Empty when the alert is no longer in the index: only the totals move. */
  incidentIds: readonly string[];
  reasonCodes: readonly string[];
}

export type DispositionCounts = Record<Disposition, number>;

/** Counts of the current verdict of every judged alert (a changed verdict moves its counts). */
export interface DispositionStats {
  total: DispositionCounts;
  /** incidentId → counts. */
  byIncident: Record<string, DispositionCounts>;
  /** Reason code → counts: `byReason.HIGH_RISK_MCC.CONFIRMED_FRAUD` is how often it was fraud. */
  byReason: Record<string, DispositionCounts>;
}

export interface DispositionStatsStore {
  /**
   * Records each alert's verdict; true where it changed (a repeat of the current verdict is
   * false and moves nothing). Idempotent: a redelivered batch changes nothing.
   * @throws LeakwatchError REDIS_UNAVAILABLE (retryable)
   */
  apply(dispositions: readonly CountedDisposition[]): Promise<boolean[]>;
  read(): Promise<DispositionStats>;
}

/**
 * KEYS[1] the alert's current verdict, KEYS[2] the counts hash. ARGV: new verdict, TTL of the
 * verdict key, then the count dimensions ("incident:<id>", "reason:<code>", "total").
 * Same verdict: nothing. Otherwise the old verdict's counts go down and the new one's up.
 */
const APPLY_LUA = `
local old = redis.call('GET', KEYS[1])
local new = ARGV[1]
if old == new then return 0 end
for i = 3, #ARGV do
  if old then redis.call('HINCRBY', KEYS[2], ARGV[i] .. ':' .. old, -1) end
  redis.call('HINCRBY', KEYS[2], ARGV[i] .. ':' .. new, 1)
end
redis.call('SET', KEYS[1], new, 'EX', tonumber(ARGV[2]))
return 1
`;

type StatsClient = RedisClient & {
  lw_dispositions_apply(numberOfKeys: number, ...args: (string | number)[]): Promise<number>;
};

function zeroCounts(): DispositionCounts {
  return Object.fromEntries(DISPOSITIONS.map((d) => [d, 0])) as DispositionCounts;
}

export interface RedisDispositionStatsOptions {
  runner: PipelineRunner;
  keyPrefix?: string;
  /** How long an alert's current verdict is kept (to move its counts on a change). Default 400 days. */
  verdictTtlSeconds?: number;
}

/**
 * Counts in one Redis hash, `<prefix>{dispositions}:counts`, fields
 * `<dimension>:<DISPOSITION>` (`total`, `incident:<incidentId>`, `reason:<code>`); each alert's
 * current verdict in `<prefix>{dispositions}:verdict:<alertId>`. One hash tag keeps the Lua
 * update atomic on a cluster: dispositions come from people, a few per second at most.
 */
export class RedisDispositionStats implements DispositionStatsStore {
  private readonly runner: PipelineRunner;
  private readonly prefix: string;
  private readonly verdictTtl: number;

  constructor(options: RedisDispositionStatsOptions) {
    this.runner = options.runner;
    this.prefix = options.keyPrefix ?? 'lw:';
    this.verdictTtl = options.verdictTtlSeconds ?? 400 * 86_400;
    this.runner.defineScripts({ lw_dispositions_apply: { lua: APPLY_LUA } });
  }

  countsKey(): string {
    return dispositionCountsKey(this.prefix);
  }

  verdictKey(alertId: string): string {
    return `${this.prefix}{dispositions}:verdict:${alertId}`;
  }

  async apply(dispositions: readonly CountedDisposition[]): Promise<boolean[]> {
    const slot = keySlot(this.countsKey());
    // in order: two verdicts on one alert in a batch must apply one after the other
    const replies = await this.runner.run(
      dispositions.map((d) => ({
        slot,
        add: (p) =>
          (p as unknown as StatsClient).lw_dispositions_apply(
            2,
            this.verdictKey(d.alertId),
            this.countsKey(),
            d.disposition,
            this.verdictTtl,
            'total',
            ...new Set(d.incidentIds.map((id) => `incident:${id}`)),
            ...new Set(d.reasonCodes.map((code) => `reason:${code}`)),
          ),
      })),
      'disposition counts',
    );
    return replies.map((r) => r === 1);
  }

  read(): Promise<DispositionStats> {
    return readDispositionStats(this.runner.client, this.prefix);
  }
}

export function dispositionCountsKey(keyPrefix = 'lw:'): string {
  return `${keyPrefix}{dispositions}:counts`;
}

/**
 * The disposition counts, for the console and tools: per incident and per reason code, how
 * many alerts are currently judged each way.
 * @throws LeakwatchError REDIS_UNAVAILABLE (retryable)
 */
export async function readDispositionStats(redis: RedisClient, keyPrefix = 'lw:'): Promise<DispositionStats> {
  let fields: Record<string, string>;
  try {
    fields = await redis.hgetall(dispositionCountsKey(keyPrefix));
  } catch (error) {
    throw toRedisError(error, 'disposition counts read');
  }
  return parseDispositionCounts(fields);
}

/** Turns the counts hash into {@link DispositionStats}; unknown fields are skipped. */
export function parseDispositionCounts(fields: Readonly<Record<string, string>>): DispositionStats {
  const stats: DispositionStats = { total: zeroCounts(), byIncident: {}, byReason: {} };
  for (const [field, value] of Object.entries(fields)) {
    const cut = field.lastIndexOf(':');
    const disposition = field.slice(cut + 1) as Disposition;
    if (cut < 0 || !DISPOSITIONS.includes(disposition)) continue;
    const dimension = field.slice(0, cut);
    const count = Number(value);
    if (dimension === 'total') stats.total[disposition] = count;
    else if (dimension.startsWith('incident:')) {
      (stats.byIncident[dimension.slice('incident:'.length)] ??= zeroCounts())[disposition] = count;
    } else if (dimension.startsWith('reason:')) {
      (stats.byReason[dimension.slice('reason:'.length)] ??= zeroCounts())[disposition] = count;
    }
  }
  return stats;
}
