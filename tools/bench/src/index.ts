export { describeMachine, percentile } from './machine.js';
export { runMonitorBenchmark, type MonitorBenchOptions, type MonitorBenchResult } from './monitor-bench.js';
export {
  runLeakStoreBenchmark,
  type LeakStoreBenchmarkOptions,
  type LeakStoreBenchmarkResult,
} from './leak-store-bench.js';
export {
  runDispatcherBenchmark,
  type DispatcherBenchOptions,
  type DispatcherBenchResult,
} from './dispatcher-bench.js';
export {
  runWatchFilterBenchmark,
  type WatchFilterBenchOptions,
  type WatchFilterBenchResult,
} from './filter-bench.js';
export {
  runScaleOutBenchmark,
  type ScaleOutBenchOptions,
  type ScaleOutBenchResult,
} from './scale-out-bench.js';
export {
  runHuntIsolationBenchmark,
  type HuntIsolationOptions,
  type HuntIsolationResult,
  type HuntIsolationRow,
} from './hunt-isolation-bench.js';
