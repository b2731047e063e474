import type { RedisSettings } from '@leakwatch/config';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisClient } from './runner.js';

export interface RedisClientOptions {
  connectionName: string;
  /**
   * Commands fail fast while Redis is down (instead of queueing without bound), so a caller
   * sees REDIS_UNAVAILABLE, pauses and retries the whole batch.
   */
  maxRetriesPerRequest?: number;
  /**
   * Commands issued in the same event-loop tick go out as one pipeline (ioredis auto-pipelining):
   * fewer writes and syscalls for a service issuing many small independent commands.
   */
  autoPipelining?: boolean;
}

/** A client for one Redis or a Cluster, from validated settings. Reconnects on its own. */
export function createRedisClient(settings: RedisSettings, options: RedisClientOptions): RedisClient {
  const common: RedisOptions = {
    connectionName: options.connectionName,
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 1,
    enableOfflineQueue: true,
    enableAutoPipelining: options.autoPipelining ?? false,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5000),
    ...(settings.tls ? { tls: {} } : {}),
  };
  if (settings.mode === 'cluster') {
    const clusterOptions: ClusterOptions = {
      // every node (and every node a MOVED reply names) is reached with the same ACL user
      redisOptions: {
        ...common,
        ...(settings.password !== undefined
          ? { password: settings.password, ...(settings.username ? { username: settings.username } : {}) }
          : {}),
      },
      clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5000),
      slotsRefreshTimeout: 2000,
      enableAutoPipelining: options.autoPipelining ?? false,
    };
    return new Cluster(
      settings.nodes.map((node) => {
        const [host, port] = node.split(':');
        return { host: host as string, port: Number(port) };
      }),
      clusterOptions,
    );
  }
  return new Redis(settings.url, common);
}
