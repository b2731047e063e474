export { keySlot, CLUSTER_SLOTS } from './key-slot.js';
export {
  PipelineRunner,
  toRedisError,
  type RedisClient,
  type SlotCommand,
  type RedisCallStats,
} from './runner.js';
export { createRedisClient, type RedisClientOptions } from './client.js';
