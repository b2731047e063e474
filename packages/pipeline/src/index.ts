export {
  AuthorizationMonitor,
  type MonitorOptions,
  type MonitorState,
  type MonitorTopics,
} from './monitor.js';
export { processBatch, type BatchDependencies, type PipelineStage } from './process-batch.js';
export type { AlertDecision, BatchOutcome, DeadLetterDecision } from './stages/outcome.js';
export {
  decodeAndResolve,
  resolveCard,
  type CardKeys,
  type DecodedBatch,
  type ResolvedAuthorization,
  type ResolvedCard,
} from './stages/resolve-card.js';
export {
  lookUpWatched,
  type LookupResult,
  type WatchList,
  type WatchedAuthorization,
} from './stages/look-up-watched.js';
export { recordHistory, type HistoryRecorder } from './stages/record-history.js';
export { routeCard, type BinRouter, type Route } from './stages/route.js';
export { evaluateWatched, type ExpiryTagger, type Scored } from './stages/evaluate.js';
export { buildAlert, type AlertContext } from './stages/build-alert.js';
export { canHeal, failureCode } from './retry.js';
export { CardHistory, type HistoryCounts, type HistoryEvent, type HistoryWindowsMs } from './card-history.js';
export { createMonitorMetrics, type MonitorMetrics } from './metrics.js';
export { deadLetterHeaders, DLQ_HEADERS, maskDigitRuns } from './dead-letter.js';
export { alertMessage } from './publish.js';
export type {
  Authorization,
  AuthorizationDecoder,
  DecodeResult,
  InboundMessage,
  SuspiciousChargeAlert,
} from './types.js';
