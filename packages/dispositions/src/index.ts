export {
  RedisAlertIndex,
  toIndexedAlert,
  DEFAULT_ALERT_INDEX_TTL_SECONDS,
  type IndexedAlert,
  type AlertIndexReader,
  type AlertIndexWriter,
  type RedisAlertIndexOptions,
} from './alert-index.js';
export {
  applyDispositions,
  indexAlerts,
  dispositionSource,
  DISPOSITION_SOURCE_HEADER,
  DISPOSITION_PARTNER_HEADER,
  DISPOSITION_SOURCES,
  type DispositionSource,
  type WatchListRemover,
  type DispositionApplierDependencies,
  type AlertIndexerDependencies,
  type AppliedBatch,
} from './applier.js';
export { BatchConsumer, type BatchConsumerOptions, type ConsumedMessage } from './batch-consumer.js';
export {
  RedisDispositionStats,
  readDispositionStats,
  parseDispositionCounts,
  dispositionCountsKey,
  type DispositionStats,
  type DispositionCounts,
  type DispositionStatsStore,
  type CountedDisposition,
} from './disposition-stats.js';
export {
  createDispositionIntake,
  normalizeDispositionJson,
  maskCardNumbers,
  INTAKE_ERROR_CODES,
  TIMESTAMP_TOLERANCE_SECONDS,
  type DispositionIntake,
  type DispositionIntakeOptions,
  type IntakeRequest,
  type IntakeResponse,
  type IntakeErrorCode,
  type IntakeOutcome,
  type PublishDisposition,
} from './intake.js';
export {
  RedisIntakeLedger,
  contentDigest,
  type IntakeLedger,
  type ClaimResult,
  type IntakeClaim,
} from './intake-ledger.js';
export { createIntakeServer, type IntakeServer, type IntakeServerOptions } from './intake-server.js';
export { createDispositionMetrics, registerReasonVerdicts, type DispositionMetrics } from './metrics.js';
export {
  startDispositionServices,
  type DispositionServices,
  type DispositionServicesOptions,
} from './service.js';
