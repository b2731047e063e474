export { parseEnv, booleanString, csvList, portNumber, formatIssues } from './parse.js';
export {
  kafkaEnv,
  registryEnv,
  redisEnv,
  fingerprintKeysEnv,
  loggingEnv,
  httpEnv,
  sharedServiceEnv,
  parseFingerprintKeys,
  checkSharedEnv,
  toKafkaSettings,
  toRegistrySettings,
  toRedisSettings,
  toSharedSettings,
  type KafkaSettings,
  type RegistrySettings,
  type RedisSettings,
  type SharedSettings,
  type FingerprintKeySetting,
} from './shared.js';
export { parseStructuredText, zodProblems, formatProblems, type FileProblem } from './structured-file.js';
