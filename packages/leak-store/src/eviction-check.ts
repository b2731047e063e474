import { LeakwatchError } from '@leakwatch/errors';
import { toRedisError } from '@leakwatch/redis';
import type { RedisAdapter } from './redis-adapter.js';
import type { LeakStoreLogger } from './store-context.js';

/**
 * Refuses a Redis that may evict watched cards. Under an `allkeys-*` policy a full Redis drops
 * any key, card buckets included, and an evicted card is silently no longer watched: lookups
 * answer "no leak" and nothing fails. `noeviction` (writes fail, imports stop, loudly) is the
 * policy the store needs; `volatile-*` policies evict only keys with a TTL, which the store never
 * sets, so they are accepted. Managed Redis that forbids CONFIG gets a warning, not a refusal:
 * the operator has to make sure of it there.
 */
export async function refuseEvictingRedis(
  adapter: RedisAdapter,
  logger: LeakStoreLogger | undefined,
): Promise<void> {
  const problems: string[] = [];
  for (const node of adapter.masters()) {
    const name = `${node.options.host ?? '?'}:${node.options.port ?? '?'}`;
    let reply: string[];
    try {
      reply = (await node.config('GET', 'maxmemory-policy')) as string[];
    } catch (error) {
      if (error instanceof Error && error.name === 'ReplyError') {
        logger?.warn(
          { node: name, reply: error.message },
          'cannot read maxmemory-policy (CONFIG is disabled here): make sure it is noeviction, or evicted cards go unwatched silently',
        );
        continue;
      }
      throw toRedisError(error, 'eviction policy check');
    }
    const policy = reply[1];
    if (policy?.startsWith('allkeys-')) problems.push(`${name} has maxmemory-policy ${policy}`);
  }
  if (problems.length > 0) {
    throw new LeakwatchError(
      'CONFIG_INVALID',
      `Redis may evict watched cards: ${problems.join('; ')}. An evicted card is silently no longer watched. ` +
        'Set maxmemory-policy noeviction on every master (see docs/leak-store.md).',
      { details: { problems } },
    );
  }
}
