export {
  AuthorizationMonitor,
  type MonitorOptions,
  type MonitorState,
  type MonitorTopics,
} from './monitor.js';
export { processBatch, type BatchDependencies, type BatchOutcome, type WatchList } from './process-batch.js';
export { CardHistory, type HistoryCounts, type HistoryEvent, type HistoryWindowsMs } from './card-history.js';
export { resolveCard, type ResolvedCard } from './card-resolver.js';
export { createMonitorMetrics, type MonitorMetrics } from './metrics.js';
export { alertIdFor } from './alert-id.js';
export { deadLetterHeaders, DLQ_HEADERS } from './dead-letter.js';
export type {
  Authorization,
  AuthorizationDecoder,
  DecodeResult,
  InboundMessage,
  SuspiciousChargeAlert,
} from './types.js';
