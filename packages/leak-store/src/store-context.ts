import type { KeySpace } from './layout.js';
import type { RedisAdapter } from './redis-adapter.js';

/** The few logger methods the store uses; a pino logger fits. */
export interface LeakStoreLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * What the parts of the store (registry, card index, maintenance) share: the Redis runner, the
 * key space once the store has started, and the settings.
 */
export interface StoreContext {
  readonly adapter: RedisAdapter;
  /** The key space; throws INTERNAL before start and after close. */
  keySpace(): KeySpace;
  /** Cards the stored layout was sized for. */
  capacity(): number;
  readonly logger: LeakStoreLogger | undefined;
  readonly now: () => number;
  readonly maxCardsPerScript: number;
  readonly purgeBucketsPerScript: number;
}
