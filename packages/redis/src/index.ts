export { keySlot, CLUSTER_SLOTS } from './key-slot.js';
export { toRedisError } from './redis-error.js';
export { PipelineRunner, type RedisClient, type SlotCommand, type RedisCallStats } from './runner.js';
export { createRedisClient, type RedisClientOptions } from './client.js';
