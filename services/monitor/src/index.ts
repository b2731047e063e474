export { loadEnv, type MonitorConfig, type MonitorEnv } from './env.js';
export { startMonitor, runMonitor, type MonitorHandle } from './main.js';
export { watchFilterFromEnv } from './watch-filter.js';
