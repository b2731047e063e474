export { createMetricsRegistry } from './metrics.js';
export {
  createOpsServer,
  type OpsServer,
  type OpsServerOptions,
  type ReadinessCheck,
  type ReadinessReport,
} from './server.js';
export { packageVersion, registerBuildInfo } from './build-info.js';
export {
  FORCED_EXIT_CODE,
  runIfProcessEntry,
  runServiceProcess,
  type Closable,
  type DeadlineTimer,
  type ServiceProcessOptions,
  type SignalSource,
  type StartControl,
} from './process-entry.js';
export { OpenedResources, untilAvailable, type RetryOptions } from './start-up.js';
