import { LeakwatchError } from '@leakwatch/errors';
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

/** Round trips counted by the adapter; read them to prove a batch cost one round trip. */
export interface RedisCallStats {
  /** Calls of `run`: each sends its pipelines in parallel, so one call is one round trip of latency. */
  roundTrips: number;
  /** Pipelines sent (one per node touched per round trip). */
  pipelines: number;
  /** Commands sent. */
  commands: number;
}

const TRANSIENT = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|MOVED|ASK|OOM|NOREPLICAS)\b/;

/**
 * Maps a Redis failure to a LeakwatchError: a server that is down, loading, failing over or
 * out of memory can heal (REDIS_UNAVAILABLE, retryable); an error reply to a well-formed
 * command is a bug here (INTERNAL).
 */
export function toStoreError(error: unknown, what: string): LeakwatchError {
  if (error instanceof LeakwatchError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const isReply = error instanceof Error && error.name === 'ReplyError';
  if (isReply && !TRANSIENT.test(message)) {
    return new LeakwatchError('INTERNAL', `Redis refused ${what}: ${message}`, { cause: error });
  }
  return new LeakwatchError('REDIS_UNAVAILABLE', `Redis failed during ${what}: ${message}`, { cause: error });
}

/**
 * Sends commands to a single Redis or a Cluster with the fewest round trips: all commands of a
 * call go out at once, one pipeline per node (ioredis Cluster pipelines must stay on one node),
 * and the pipelines run in parallel. Callers group keys by hash tag so every command's keys
 * share one slot.
 */
export class RedisAdapter {
  readonly client: LeakStoreRedis;
  readonly isCluster: boolean;
  readonly stats: RedisCallStats = { roundTrips: 0, pipelines: 0, commands: 0 };

  constructor(client: LeakStoreRedis) {
    this.client = client;
    this.isCluster = (client as { isCluster?: boolean }).isCluster === true;
  }

  /** Registers the store's Lua scripts on the client (once per client; names are namespaced). */
  defineScripts(): void {
    const client = this.client as LeakStoreRedis & Record<string, unknown>;
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      const command = `lw_ls_${name}`;
      if (typeof client[command] !== 'function') this.client.defineCommand(command, { lua });
    }
  }

  /** Waits until the client is connected (and, for a cluster, knows its slots). */
  async ready(): Promise<void> {
    try {
      await this.client.ping();
    } catch (error) {
      throw toStoreError(error, 'connect');
    }
  }

  /** Master node addresses ("host:port"); one entry for a single Redis. */
  masters(): Redis[] {
    return this.isCluster ? (this.client as Cluster).nodes('master') : [this.client as Redis];
  }

  /**
   * Runs the commands and returns their results in order; throws the first failure as a
   * LeakwatchError. Results are Buffers where the command asked for Buffer replies.
   */
  async run(commands: readonly SlotCommand[], what: string): Promise<unknown[]> {
    if (commands.length === 0) return [];
    const groups = new Map<string, number[]>();
    if (this.isCluster) {
      const slots = (this.client as Cluster).slots;
      commands.forEach((command, index) => {
        // Same master+replicas set = same ioredis "slots allocation group" = one pipeline.
        const node = slots[command.slot]?.join(',') ?? `slot:${command.slot}`;
        const list = groups.get(node);
        if (list) list.push(index);
        else groups.set(node, [index]);
      });
    } else {
      groups.set(
        'single',
        commands.map((_, index) => index),
      );
    }
    this.stats.roundTrips += 1;
    this.stats.pipelines += groups.size;
    this.stats.commands += commands.length;
    const results = new Array<unknown>(commands.length);
    try {
      await Promise.all(
        [...groups.values()].map(async (indexes) => {
          const pipeline = this.client.pipeline() as ScriptPipeline;
          for (const index of indexes) (commands[index] as SlotCommand).add(pipeline);
          const replies = await pipeline.exec();
          if (!replies) throw new Error('pipeline was discarded');
          replies.forEach(([error, value], i) => {
            if (error) throw error;
            results[indexes[i] as number] = value;
          });
        }),
      );
    } catch (error) {
      throw toStoreError(error, what);
    }
    return results;
  }
}
