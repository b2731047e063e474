export { createMetricsRegistry } from './metrics.js';
export {
  createOpsServer,
  type OpsServer,
  type OpsServerOptions,
  type ReadinessCheck,
  type ReadinessReport,
} from './server.js';
export { packageVersion, registerBuildInfo } from './build-info.js';
