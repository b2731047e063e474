import { toRedisError } from './redis-error.js';
import type { ChainableCommander, Cluster, Redis } from 'ioredis';

/** A single Redis or a Redis Cluster client from ioredis. */
export type RedisClient = Redis | Cluster;

/** One command bound for the node that serves `slot` (all its keys share one hash tag). */
export interface SlotCommand {
  slot: number;
  add(pipeline: ChainableCommander): void;
}

/** Round trips counted by the runner: read them to prove a batch cost one round trip. */
export interface RedisCallStats {
  roundTrips: number;
  pipelines: number;
  commands: number;
}

/**
 * Sends commands with the fewest round trips: all commands of a call go out at once, one
 * pipeline per node (ioredis Cluster pipelines must stay on one node), pipelines in parallel.
 */
export class PipelineRunner {
  readonly client: RedisClient;
  readonly isCluster: boolean;
  readonly stats: RedisCallStats = { roundTrips: 0, pipelines: 0, commands: 0 };

  constructor(client: RedisClient) {
    this.client = client;
    this.isCluster = (client as { isCluster?: boolean }).isCluster === true;
  }

  /** Registers Lua scripts as ioredis commands (EVALSHA with EVAL fallback), once per client. */
  defineScripts(scripts: Record<string, { lua: string; numberOfKeys?: number }>): void {
    const client = this.client as RedisClient & Record<string, unknown>;
    for (const [name, script] of Object.entries(scripts)) {
      if (typeof client[name] !== 'function') this.client.defineCommand(name, script);
    }
  }

  async run(commands: readonly SlotCommand[], what: string): Promise<unknown[]> {
    if (commands.length === 0) return [];
    const groups = new Map<string, number[]>();
    if (this.isCluster) {
      const slots = (this.client as Cluster).slots;
      commands.forEach((command, index) => {
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
          const pipeline = this.client.pipeline();
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
      throw toRedisError(error, what);
    }
    return results;
  }
}
