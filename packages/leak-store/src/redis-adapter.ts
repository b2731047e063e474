import {
  PipelineRunner,
  toRedisError,
  type RedisClient,
  type SlotCommand as SharedSlotCommand,
} from '@leakwatch/redis';
import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import { SCRIPTS, type ScriptName } from './scripts.js';

/** A single Redis or a Redis Cluster client from ioredis; the store works the same on both. */
export type LeakStoreRedis = Redis | Cluster;

/** One command bound for the node that serves `slot`. */
export interface SlotCommand {
  slot: number;
  add(pipeline: ScriptPipeline): void;
}

/** A pipeline with the store's scripts on it (ioredis adds them by defineCommand). */
export type ScriptPipeline = ChainableCommander & {
  [K in ScriptName as `lw_ls_${K}Buffer`]: (
    numKeys: number,
    ...args: (string | Buffer | number)[]
  ) => ChainableCommander;
} & {
  [K in ScriptName as `lw_ls_${K}`]: (
    numKeys: number,
    ...args: (string | Buffer | number)[]
  ) => ChainableCommander;
};

export type { RedisCallStats } from '@leakwatch/redis';

/**
 * The shared one-round-trip runner (`@leakwatch/redis`) with the store's scripts registered
 * under namespaced names, plus the few extras the store needs.
 */
export class RedisAdapter extends PipelineRunner {
  constructor(client: LeakStoreRedis) {
    super(client as RedisClient);
  }

  /** Registers the store's Lua scripts on the client (once per client; names are namespaced). */
  defineStoreScripts(): void {
    this.defineScripts(
      Object.fromEntries(Object.entries(SCRIPTS).map(([name, lua]) => [`lw_ls_${name}`, { lua }])),
    );
  }

  /** As the shared runner, with the store's scripts typed on the pipeline. */
  override run(commands: readonly SlotCommand[], what: string): Promise<unknown[]> {
    return super.run(commands as readonly SharedSlotCommand[], what);
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
