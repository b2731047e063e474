export {
  stackUp,
  stackDown,
  stackStatus,
  defaultStackDir,
  portsFromEnv,
  type StackEndpoints,
  type StackOptions,
  type StackUpResult,
  type ServiceStatus,
} from './stack.js';
export type { ServiceName, StackPorts } from './service.js';
export { VERSIONS, DEFAULT_PORTS } from './versions.js';
export { REDIS_TUNING } from './redis.js';
export { portFree, portAnswers, stopProcess, isAlive } from './process.js';
export {
  DEFAULT_SCRAPE_TARGETS,
  prometheusConfig,
  prometheusInstalled,
  RULES_DIR,
  scrapeTargetsFromEnv,
  type PrometheusSettings,
} from './prometheus.js';
