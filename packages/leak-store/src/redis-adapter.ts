import { PipelineRunner, toRedisError, type SlotCommand } from '@leakwatch/redis';
import type { Cluster, Redis } from 'ioredis';

/** A single Redis or a Redis Cluster client from ioredis; the store works the same on both. */
export type LeakStoreRedis = Redis | Cluster;

/** A command for the node that serves `slot`, whose reply has type `R`. */
export interface TypedCommand<R> extends SlotCommand {
  /** Never set: carries the reply type only. */
  readonly reply?: R;
}

export type { RedisCallStats } from '@leakwatch/redis';

/**
 * The shared one-round-trip runner (`@leakwatch/redis`) with typed replies, plus the few extras
 * the store needs.
 */
export class RedisAdapter extends PipelineRunner {
  constructor(client: LeakStoreRedis) {
    super(client);
  }

  /** Runs commands of one reply type in one round trip; replies in command order. */
  override run<R = unknown>(commands: readonly TypedCommand<R>[], what: string): Promise<R[]> {
    return super.run(commands, what) as Promise<R[]>;
  }

  /** Waits until the client is connected (and, for a cluster, knows its slots). */
  async ready(): Promise<void> {
    try {
      await this.client.ping();
    } catch (error) {
      throw toRedisError(error, 'connect');
    }
  }

  /** Master nodes; one entry for a single Redis. */
  masters(): Redis[] {
    return this.isCluster ? (this.client as Cluster).nodes('master') : [this.client as Redis];
  }
}
