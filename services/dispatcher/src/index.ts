export {
  startDispatcher,
  runDispatcher,
  type DispatcherHandle,
  type StartDispatcherOptions,
} from './main.js';
export { loadEnv, type DispatcherConfig, type DispatcherEnv } from './env.js';
export { createDispatcherMetrics, type DispatcherMetrics } from './metrics.js';
