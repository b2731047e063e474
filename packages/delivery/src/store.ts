import { toRedisError, type RedisClient } from '@leakwatch/redis';

/**
 * The durable delivery state of webhooks, in Redis. Every key of a partner carries the hash tag
 * `{partnerId}`, so one partner's keys live on one Redis Cluster node and each Lua script below is
 * atomic there:
 *
 * - `due`      zset  webhook-id -> when the next try is due (ms); a claimed delivery's score is
 *                    pushed to the end of its lease, so a crashed dispatcher's in-flight
 *                    deliveries come due again by themselves
 * - `age`      zset  webhook-id -> when it was enqueued (the oldest pending)
 * - `data`     hash  webhook-id -> `[alertId,detectedAt,enqueuedAt]` newline body (alert JSON, no PAN)
 * - `tries`    hash  webhook-id -> tries made
 * - `done`     zset  webhook-id -> when it was accepted: a repeat enqueue (the same alert consumed
 *                    again after a crash) is dropped, so an accepted delivery is never sent again
 * - `dead`     list  dead letters, oldest first, each {id, alertId, detectedAt, deadAt, reason, tries}
 * - `outcomes` list  the last outcomes, newest first, for `partners status`
 * - `disabled` string set by a 410 until `partners enable`: nothing is claimed meanwhile
 */

/** A delivery as the store keeps it. */
export interface StoredDelivery {
  /** The webhook-id. */
  id: string;
  alertId: string;
  /** Epoch ms the alert was detected (for the delivery latency and `replay --since`). */
  detectedAt: number;
  enqueuedAt: number;
  /** The request body. */
  body: string;
}

/** A claimed delivery: leased to this dispatcher until `leaseUntil`. */
export interface ClaimedDelivery extends StoredDelivery {
  /** Tries made, this one included. */
  tries: number;
}

export interface DeadLetter {
  id: string;
  alertId: string;
  detectedAt: number;
  deadAt: number;
  reason: string;
  tries: number;
}

export interface DeliveryOutcome {
  at: number;
  id: string;
  alertId: string;
  tries: number;
  outcome: 'accepted' | 'failed' | 'refused' | 'gone' | 'dead_lettered' | 'replayed';
  status?: number | null;
  error?: string;
}

/**
 * `leased`: queued and leased to the caller in the same step (its first try is counted): the
 * caller sends it now and settles it as a claimed delivery.
 */
export type EnqueueResult = 'queued' | 'leased' | 'duplicate' | 'overflow';

export interface PartnerStatus {
  partnerId: string;
  queueDepth: number;
  /** Epoch ms the oldest pending delivery was enqueued, or null. */
  oldestPendingAt: number | null;
  /** Epoch ms the next try is due, or null. */
  nextDueAt: number | null;
  deadLetters: number;
  disabled: { at: number; reason: string } | null;
  lastOutcomes: DeliveryOutcome[];
}

export type Settlement =
  | { kind: 'accepted' }
  | { kind: 'retry'; dueAt: number }
  | { kind: 'dead'; reason: string }
  /** 410: disable the endpoint and keep the delivery pending, this try not counted. */
  | { kind: 'disable'; reason: string };

/**
 * A delivery's `data` record: a JSON array [alertId, detectedAt, enqueuedAt], a newline, then the
 * body as is (JSON.stringify escapes any newline, so the first one ends the array). The body is
 * not escaped into a JSON string: it is the bulk of the record, written and read once each.
 */
function encodeRecord(d: Omit<StoredDelivery, 'id'>): string {
  return `${JSON.stringify([d.alertId, d.detectedAt, d.enqueuedAt])}\n${d.body}`;
}

function decodeRecord(record: string): Omit<StoredDelivery, 'id'> {
  // records written before this format: one JSON object
  if (record.startsWith('{')) return JSON.parse(record) as Omit<StoredDelivery, 'id'>;
  const cut = record.indexOf('\n');
  const [alertId, detectedAt, enqueuedAt] = JSON.parse(record.slice(0, cut)) as [string, number, number];
  return { alertId, detectedAt, enqueuedAt, body: record.slice(cut + 1) };
}

const KEYS = ['due', 'age', 'data', 'tries', 'done', 'dead', 'outcomes', 'disabled'] as const;
type KeyName = (typeof KEYS)[number];

/** Outcomes kept per partner for `partners status`. */
const OUTCOMES_KEPT = 20;

// KEYS: due age data tries done dead outcomes disabled
// ARGV: now, maxQueue, doneRetentionMs, leaseLimit, leaseMs, then (id, record, dueAt, alertId,
// detectedAt) per delivery. Up to leaseLimit deliveries queued due now are leased at once to the
// caller, as a claim would (try counted, due at the end of the lease), unless the endpoint is
// disabled: the caller sends them from memory, with no claim round trip.
const ENQUEUE = `
local now = tonumber(ARGV[1])
local maxQueue = tonumber(ARGV[2])
local leaseLeft = tonumber(ARGV[4])
local leaseUntil = now + tonumber(ARGV[5])
if leaseLeft > 0 and redis.call('EXISTS', KEYS[8]) == 1 then leaseLeft = 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - tonumber(ARGV[3]))
local depth = redis.call('ZCARD', KEYS[1])
local out = {}
for i = 6, #ARGV, 5 do
  local id = ARGV[i]
  if redis.call('HEXISTS', KEYS[3], id) == 1 or redis.call('ZSCORE', KEYS[5], id) then
    out[#out + 1] = 'duplicate'
  elseif depth >= maxQueue then
    redis.call('HSET', KEYS[3], id, ARGV[i + 1])
    redis.call('RPUSH', KEYS[6], cjson.encode({id = id, alertId = ARGV[i + 3],
      detectedAt = tonumber(ARGV[i + 4]), deadAt = now, reason = 'queue_full', tries = 0}))
    out[#out + 1] = 'overflow'
  else
    redis.call('HSET', KEYS[3], id, ARGV[i + 1])
    redis.call('ZADD', KEYS[2], now, id)
    depth = depth + 1
    if leaseLeft > 0 and tonumber(ARGV[i + 2]) <= now then
      redis.call('ZADD', KEYS[1], leaseUntil, id)
      redis.call('HINCRBY', KEYS[4], id, 1)
      leaseLeft = leaseLeft - 1
      out[#out + 1] = 'leased'
    else
      redis.call('ZADD', KEYS[1], tonumber(ARGV[i + 2]), id)
      out[#out + 1] = 'queued'
    end
  end
end
return out
`;

// ARGV: now, limit, leaseMs. Returns {nextDueAt or '', id1, tries1, record1, ...}; only {''}
// while the endpoint is disabled
const CLAIM = `
local now = tonumber(ARGV[1])
local out = {''}
-- disabled (410): nothing is claimed and no due time is reported, so the loop waits a full poll
if redis.call('EXISTS', KEYS[8]) == 1 then return out end
do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
  for _, id in ipairs(ids) do
    local record = redis.call('HGET', KEYS[3], id)
    if record then
      redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[3]), id)
      out[#out + 1] = id
      out[#out + 1] = redis.call('HINCRBY', KEYS[4], id, 1)
      out[#out + 1] = record
    else
      redis.call('ZREM', KEYS[1], id)
      redis.call('ZREM', KEYS[2], id)
    end
  end
end
local nextDue = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if nextDue[2] then out[1] = nextDue[2] end
return out
`;

// ARGV: outcomesKept, then (id, kind, at, arg (dueAt | dead letter JSON | disabled JSON),
// outcome JSON or '' (older than the outcomes kept: not written)) per settlement. Returns per settlement 1 when applied, 0 when the delivery was no
// longer pending (settled elsewhere).
const SETTLE = `
local out = {}
local recorded = 0
for i = 2, #ARGV, 5 do
  local id = ARGV[i]
  local kind = ARGV[i + 1]
  if not redis.call('ZSCORE', KEYS[1], id) then
    out[#out + 1] = 0
  else
    if kind == 'accepted' then
      redis.call('ZREM', KEYS[1], id)
      redis.call('ZREM', KEYS[2], id)
      redis.call('HDEL', KEYS[3], id)
      redis.call('HDEL', KEYS[4], id)
      redis.call('ZADD', KEYS[5], tonumber(ARGV[i + 2]), id)
    elseif kind == 'retry' then
      redis.call('ZADD', KEYS[1], tonumber(ARGV[i + 3]), id)
    elseif kind == 'dead' then
      redis.call('ZREM', KEYS[1], id)
      redis.call('ZREM', KEYS[2], id)
      redis.call('HDEL', KEYS[4], id)
      redis.call('RPUSH', KEYS[6], ARGV[i + 3])
    elseif kind == 'disable' then
      redis.call('SET', KEYS[8], ARGV[i + 3])
      redis.call('ZADD', KEYS[1], tonumber(ARGV[i + 2]), id)
      redis.call('HINCRBY', KEYS[4], id, -1)
    end
    if ARGV[i + 4] ~= '' then
      redis.call('LPUSH', KEYS[7], ARGV[i + 4])
      recorded = recorded + 1
    end
    out[#out + 1] = 1
  end
end
if recorded > 0 then redis.call('LTRIM', KEYS[7], 0, tonumber(ARGV[1]) - 1) end
return out
`;

// ARGV: now, alertId or '', sinceMs or '', outcome template fields. Moves matching dead letters
// back to the schedule, due now, with their tries reset. Returns the number moved.
const REPLAY = `
local now = tonumber(ARGV[1])
local alertId = ARGV[2]
local since = tonumber(ARGV[3])
local moved = 0
local entries = redis.call('LRANGE', KEYS[6], 0, -1)
for _, raw in ipairs(entries) do
  local entry = cjson.decode(raw)
  local match = (alertId == '' or entry.alertId == alertId) and (since == nil or entry.detectedAt >= since)
  if match then
    redis.call('LREM', KEYS[6], 1, raw)
    if redis.call('HEXISTS', KEYS[3], entry.id) == 1 then
      redis.call('HSET', KEYS[4], entry.id, 0)
      redis.call('ZADD', KEYS[1], now, entry.id)
      redis.call('ZADD', KEYS[2], now, entry.id)
      moved = moved + 1
    end
  end
end
if moved > 0 then
  redis.call('LPUSH', KEYS[7], cjson.encode({at = now, id = '', alertId = alertId, tries = moved, outcome = 'replayed'}))
  redis.call('LTRIM', KEYS[7], 0, tonumber(ARGV[4]) - 1)
end
return moved
`;

export interface DeliveryStoreOptions {
  redis: RedisClient;
  /** Prefix of every key (LEAKWATCH_REDIS_KEY_PREFIX). */
  keyPrefix: string;
  /**
   * How long an accepted delivery is remembered, so a repeat enqueue of it is dropped (an alert
   * consumed again after a crash before its offset was committed). Default 24 h.
   */
  doneRetentionMs?: number;
}

type Scripts = {
  lwDeliveryEnqueue(...args: (string | number)[]): Promise<string[]>;
  lwDeliveryClaim(...args: (string | number)[]): Promise<(string | number)[]>;
  lwDeliverySettle(...args: (string | number)[]): Promise<number[]>;
  lwDeliveryReplay(...args: (string | number)[]): Promise<number>;
};

/** Durable per-partner webhook schedules in Redis (single node or Cluster). */
export class DeliveryStore {
  readonly #redis: RedisClient & Scripts;
  readonly #prefix: string;
  readonly #doneRetentionMs: number;
  readonly #keyLists = new Map<string, string[]>();

  constructor(options: DeliveryStoreOptions) {
    this.#redis = options.redis as RedisClient & Scripts;
    this.#prefix = options.keyPrefix;
    this.#doneRetentionMs = options.doneRetentionMs ?? 24 * 3_600_000;
    const define = (name: keyof Scripts, lua: string) => {
      if (typeof (this.#redis as unknown as Record<string, unknown>)[name] !== 'function') {
        this.#redis.defineCommand(name, { lua, numberOfKeys: KEYS.length });
      }
    };
    define('lwDeliveryEnqueue', ENQUEUE);
    define('lwDeliveryClaim', CLAIM);
    define('lwDeliverySettle', SETTLE);
    define('lwDeliveryReplay', REPLAY);
  }

  /** The keys of a partner, all in the hash slot of `{partnerId}`. */
  keys(partnerId: string): Record<KeyName, string> {
    const base = `${this.#prefix}dlv:{${partnerId}}:`;
    return Object.fromEntries(KEYS.map((name) => [name, base + name])) as Record<KeyName, string>;
  }

  #keyList(partnerId: string): string[] {
    let list = this.#keyLists.get(partnerId);
    if (!list) {
      const keys = this.keys(partnerId);
      list = KEYS.map((name) => keys[name]);
      this.#keyLists.set(partnerId, list);
    }
    return list;
  }

  /**
   * Schedules deliveries of one partner, atomically: each is `queued` (due at `dueAt`),
   * `duplicate` (pending, dead-lettered or accepted already: nothing changes) or `overflow` (the
   * partner's queue holds `maxQueue` pending deliveries: it goes straight to the dead-letter
   * list with reason queue_full, to be replayed; never dropped). With `lease`, up to `limit` of
   * those due now are `leased` instead: queued and claimed in one step (see `claim`), while the
   * endpoint is not disabled.
   * @throws LeakwatchError REDIS_UNAVAILABLE (retryable)
   */
  async enqueue(
    partnerId: string,
    deliveries: readonly (StoredDelivery & { dueAt: number })[],
    options: { now: number; maxQueue: number; lease?: { limit: number; leaseMs: number } },
  ): Promise<EnqueueResult[]> {
    if (deliveries.length === 0) return [];
    const args: (string | number)[] = [
      options.now,
      options.maxQueue,
      this.#doneRetentionMs,
      options.lease?.limit ?? 0,
      options.lease?.leaseMs ?? 0,
    ];
    for (const d of deliveries) {
      args.push(d.id, encodeRecord(d), d.dueAt, d.alertId, d.detectedAt);
    }
    try {
      return (await this.#redis.lwDeliveryEnqueue(...this.#keyList(partnerId), ...args)) as EnqueueResult[];
    } catch (error) {
      throw toRedisError(error, `enqueueing deliveries for ${partnerId}`);
    }
  }

  /**
   * Leases up to `limit` due deliveries until `now + leaseMs` and counts a try for each. Nothing
   * while the endpoint is disabled. Also says when the next delivery is due.
   */
  async claim(
    partnerId: string,
    options: { now: number; limit: number; leaseMs: number },
  ): Promise<{ claimed: ClaimedDelivery[]; nextDueAt: number | null }> {
    let reply: (string | number)[];
    try {
      reply = await this.#redis.lwDeliveryClaim(
        ...this.#keyList(partnerId),
        options.now,
        options.limit,
        options.leaseMs,
      );
    } catch (error) {
      throw toRedisError(error, `claiming deliveries for ${partnerId}`);
    }
    const claimed: ClaimedDelivery[] = [];
    for (let i = 1; i + 2 < reply.length; i += 3) {
      claimed.push({
        id: String(reply[i]),
        tries: Number(reply[i + 1]),
        ...decodeRecord(String(reply[i + 2])),
      });
    }
    const next = reply[0];
    return { claimed, nextDueAt: next === '' || next === undefined ? null : Number(next) };
  }

  /**
   * Records what a try came to. Returns false when the delivery was no longer pending (another
   * dispatcher settled it after its lease ran out, or an operator acted): nothing changed.
   */
  async settle(
    partnerId: string,
    delivery: Pick<ClaimedDelivery, 'id' | 'alertId' | 'detectedAt' | 'tries'>,
    settlement: Settlement,
    outcome: Omit<DeliveryOutcome, 'id' | 'alertId' | 'tries'>,
  ): Promise<boolean> {
    const [applied] = await this.settleMany(partnerId, [{ delivery, settlement, outcome }]);
    return applied === true;
  }

  /**
   * Records what several tries of one partner came to, in one atomic script (one round trip).
   * Each is applied as `settle` would, in order; returns for each whether it was applied.
   */
  async settleMany(
    partnerId: string,
    items: readonly {
      delivery: Pick<ClaimedDelivery, 'id' | 'alertId' | 'detectedAt' | 'tries'>;
      settlement: Settlement;
      outcome: Omit<DeliveryOutcome, 'id' | 'alertId' | 'tries'>;
    }[],
  ): Promise<boolean[]> {
    if (items.length === 0) return [];
    const args: (string | number)[] = [OUTCOMES_KEPT];
    // only the newest OUTCOMES_KEPT outcomes survive the trim: the older ones are not sent
    const firstKept = items.length - OUTCOMES_KEPT;
    for (const [i, { delivery, settlement, outcome }] of items.entries()) {
      let arg = '';
      if (settlement.kind === 'retry') arg = String(settlement.dueAt);
      else if (settlement.kind === 'dead') {
        const dead: DeadLetter = {
          id: delivery.id,
          alertId: delivery.alertId,
          detectedAt: delivery.detectedAt,
          deadAt: outcome.at,
          reason: settlement.reason,
          tries: delivery.tries,
        };
        arg = JSON.stringify(dead);
      } else if (settlement.kind === 'disable') {
        arg = JSON.stringify({ at: outcome.at, reason: settlement.reason });
      }
      const record: DeliveryOutcome = {
        ...outcome,
        id: delivery.id,
        alertId: delivery.alertId,
        tries: delivery.tries,
      };
      args.push(delivery.id, settlement.kind, outcome.at, arg, i >= firstKept ? JSON.stringify(record) : '');
    }
    try {
      const applied = await this.#redis.lwDeliverySettle(...this.#keyList(partnerId), ...args);
      return applied.map((a) => a === 1);
    } catch (error) {
      throw toRedisError(error, `recording delivery outcomes for ${partnerId}`);
    }
  }

  /**
   * Moves dead letters back to the schedule, due now, tries reset: all of them, one alert's, or
   * those of alerts detected since a time. Returns how many.
   */
  async replay(
    partnerId: string,
    options: { now: number; alertId?: string; sinceMs?: number },
  ): Promise<number> {
    try {
      return await this.#redis.lwDeliveryReplay(
        ...this.#keyList(partnerId),
        options.now,
        options.alertId ?? '',
        options.sinceMs === undefined ? '' : String(options.sinceMs),
        OUTCOMES_KEPT,
      );
    } catch (error) {
      throw toRedisError(error, `replaying dead letters of ${partnerId}`);
    }
  }

  /** Clears a 410: deliveries flow again. Returns whether the endpoint was disabled. */
  async enable(partnerId: string): Promise<boolean> {
    try {
      return (await this.#redis.del(this.keys(partnerId).disabled)) === 1;
    } catch (error) {
      throw toRedisError(error, `enabling ${partnerId}`);
    }
  }

  /** The dead letters of a partner, oldest first (at most `limit`). */
  async deadLetters(partnerId: string, limit = 1000): Promise<DeadLetter[]> {
    try {
      const raw = await this.#redis.lrange(this.keys(partnerId).dead, 0, limit - 1);
      return raw.map((entry) => JSON.parse(entry) as DeadLetter);
    } catch (error) {
      throw toRedisError(error, `reading dead letters of ${partnerId}`);
    }
  }

  /** Queue depth, oldest pending, dead letters, disabled state and the last outcomes. */
  async status(partnerId: string): Promise<PartnerStatus> {
    const keys = this.keys(partnerId);
    try {
      const pipeline = this.#redis.pipeline();
      pipeline.zcard(keys.due);
      pipeline.zrange(keys.age, 0, 0, 'WITHSCORES');
      pipeline.zrange(keys.due, 0, 0, 'WITHSCORES');
      pipeline.llen(keys.dead);
      pipeline.get(keys.disabled);
      pipeline.lrange(keys.outcomes, 0, OUTCOMES_KEPT - 1);
      const replies = (await pipeline.exec()) ?? [];
      const value = (i: number): unknown => {
        const [error, result] = replies[i] ?? [new Error('no reply'), null];
        if (error) throw error;
        return result;
      };
      const oldest = value(1) as string[];
      const next = value(2) as string[];
      const disabled = value(4) as string | null;
      return {
        partnerId,
        queueDepth: Number(value(0)),
        oldestPendingAt: oldest[1] === undefined ? null : Number(oldest[1]),
        nextDueAt: next[1] === undefined ? null : Number(next[1]),
        deadLetters: Number(value(3)),
        disabled: disabled === null ? null : (JSON.parse(disabled) as { at: number; reason: string }),
        lastOutcomes: (value(5) as string[]).map((o) => JSON.parse(o) as DeliveryOutcome),
      };
    } catch (error) {
      throw toRedisError(error, `reading the status of ${partnerId}`);
    }
  }

  /** Removes every key of a partner (tests and tools). */
  async drop(partnerId: string): Promise<void> {
    await this.#redis.del(...this.#keyList(partnerId));
  }
}
