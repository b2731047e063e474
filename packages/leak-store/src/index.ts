export {
  LeakStore,
  type LeakStoreOptions,
  type LeakStoreLogger,
  type WatchedCardInput,
  type AddCardsResult,
  type CardIncident,
  type LeakHit,
  type UpsertIncidentResult,
  type RetireResult,
  type PurgeResult,
  type RemoveCardResult,
  type IncidentSnapshot,
  type ServerConfigCheck,
  type BucketAudit,
} from './leak-store.js';
export {
  checkManifest,
  isWatching,
  type IncidentManifest,
  type Incident,
  type IncidentStatus,
  type IncidentWithCount,
} from './incident.js';
// The contract's incident vocabularies, re-exported for callers that store incidents.
export { COMPROMISE_TYPES, EXPOSED_DATA, type CompromiseType, type ExposedData } from '@leakwatch/contracts';
export {
  deriveLayout,
  KeySpace,
  DEFAULT_CAPACITY,
  DEFAULT_MAX_ENTRIES_PER_BUCKET,
  DEFAULT_GROUP_BITS,
  type StoreLayout,
  type LayoutOptions,
} from './layout.js';
export { decodeRecords, isExpiryTag, isFingerprint, type StoredLink } from './codec.js';
export { type LeakStoreRedis, type RedisCallStats } from './redis-adapter.js';
export {
  runLeakStoreBenchmark,
  type LeakStoreBenchmarkOptions,
  type LeakStoreBenchmarkResult,
} from './bench.js';
