export { createMetricsRegistry } from './metrics.js';
export {
  createOpsServer,
  type OpsServer,
  type OpsServerOptions,
  type ReadinessCheck,
  type ReadinessReport,
} from './server.js';
