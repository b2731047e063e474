import { keySlot, type PipelineRunner } from '@leakwatch/redis';
import type { ChainableCommander } from 'ioredis';

/**
 * Per-card history for VELOCITY and CARD_TESTING, in Redis so every monitor instance (and any
 * upstream keying) sees the same counts. Kept for watched cards only, with a TTL.
 *
 * Each card has one sorted set of recent authorizations and one of small-amount ones, members
 * by eventId, scored by occurredAt. ZADD NX makes a redelivered authorization count once, and
 * counting by occurredAt (events in [t - window, t]) makes a replay of the same event give the
 * same count it gave the first time, whatever arrived in between.
 */
const RECORD_LUA = `
local eventId, at = ARGV[1], tonumber(ARGV[2])
local velocityMs, testingMs, small, ttl, cap = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5] == '1', tonumber(ARGV[6]), tonumber(ARGV[7])
local v, t = 0, 0
if velocityMs > 0 then
  redis.call('ZADD', KEYS[1], 'NX', at, eventId)
  v = redis.call('ZCOUNT', KEYS[1], at - velocityMs, at)
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (at - velocityMs - ttl * 1000))
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -cap - 1)
  redis.call('EXPIRE', KEYS[1], ttl)
end
if testingMs > 0 then
  if small then redis.call('ZADD', KEYS[2], 'NX', at, eventId) end
  t = redis.call('ZCOUNT', KEYS[2], at - testingMs, at)
  if small then
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (at - testingMs - ttl * 1000))
    redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -cap - 1)
    redis.call('EXPIRE', KEYS[2], ttl)
  end
end
return {v, t}
`;

export interface HistoryEvent {
  fingerprint: string;
  eventId: string;
  occurredAt: number;
  /** Counts toward CARD_TESTING (a small amount on a card-not-present channel). */
  small: boolean;
}

export interface HistoryWindowsMs {
  /** 0 turns the count off. */
  velocityMs: number;
  cardTestingMs: number;
}

export interface HistoryCounts {
  authorizationsInVelocityWindow: number;
  smallAmountsInCardTestingWindow: number;
}

type HistoryPipeline = ChainableCommander & {
  lw_card_history: (numKeys: number, ...args: Array<string | number>) => ChainableCommander;
};

export class CardHistory {
  readonly #runner: PipelineRunner;
  readonly #prefix: string;
  /** Entries kept per card and list: bounds memory under a flood on one card. */
  readonly #cap: number;

  constructor(runner: PipelineRunner, options: { keyPrefix: string; maxEntriesPerCard?: number }) {
    this.#runner = runner;
    this.#prefix = options.keyPrefix;
    this.#cap = options.maxEntriesPerCard ?? 1000;
    runner.defineScripts({ lw_card_history: { lua: RECORD_LUA } });
  }

  /** Records the events (in order) and returns each one's counts: one round trip per call. */
  async record(events: readonly HistoryEvent[], windows: HistoryWindowsMs): Promise<HistoryCounts[]> {
    if (events.length === 0) return [];
    if (windows.velocityMs <= 0 && windows.cardTestingMs <= 0) {
      return events.map(() => ({ authorizationsInVelocityWindow: 0, smallAmountsInCardTestingWindow: 0 }));
    }
    // kept a while past the longest window so a late, out-of-order event still counts right
    const ttlSeconds = Math.ceil(Math.max(windows.velocityMs, windows.cardTestingMs) / 1000) + 3600;
    const commands = events.map((event) => {
      const tag = `${this.#prefix}h:{${event.fingerprint}}`;
      return {
        slot: keySlot(tag),
        add: (pipeline: ChainableCommander) => {
          (pipeline as HistoryPipeline).lw_card_history(
            2,
            `${tag}:v`,
            `${tag}:t`,
            event.eventId,
            event.occurredAt,
            windows.velocityMs,
            windows.cardTestingMs,
            event.small ? '1' : '0',
            ttlSeconds,
            this.#cap,
          );
        },
      };
    });
    const replies = (await this.#runner.run(commands, 'card history')) as Array<[number, number]>;
    return replies.map(([velocity, testing]) => ({
      authorizationsInVelocityWindow: Number(velocity),
      smallAmountsInCardTestingWindow: Number(testing),
    }));
  }
}
