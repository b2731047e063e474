export { parseEnv, booleanString, csvList, portNumber, formatIssues } from './parse.js';
export {
  kafkaEnv,
  registryEnv,
  redisEnv,
  fingerprintKeysEnv,
  loggingEnv,
  httpEnv,
  parseFingerprintKeys,
  checkSharedEnv,
  toKafkaSettings,
  toRegistrySettings,
  toRedisSettings,
  type KafkaSettings,
  type RegistrySettings,
  type RedisSettings,
  type FingerprintKeySetting,
} from './shared.js';
