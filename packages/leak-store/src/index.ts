export { LeakStore, type LeakStoreOptions } from './leak-store.js';
export type { LeakStoreLogger } from './store-context.js';
export type {
  IncidentRegistry,
  UpsertIncidentResult,
  IncidentSnapshot,
  WatchStats,
} from './incident-registry.js';
export { registerWatchListMetrics, type WatchStatsSource, type WatchListMetricsOptions } from './metrics.js';
export type { CardIndex, WatchedCardInput, AddCardsResult, CardIncident, LeakHit } from './card-index.js';
export type {
  StoreMaintenance,
  RetireResult,
  PurgeResult,
  RemoveCardResult,
  ServerConfigCheck,
  BucketAudit,
} from './maintenance.js';
export type { IncidentManifest, Incident, IncidentStatus, IncidentWithCount } from './incident.js';
export type { StoreLayout, LayoutOptions } from './layout.js';
export type { LeakStoreRedis, RedisCallStats } from './redis-adapter.js';
export {
  WatchFilter,
  type WatchFilterOptions,
  type WatchFilterStats,
  type WatchLogSource,
  type WatchLogRead,
  type WatchLogChunk,
} from './watch-filter.js';
export { FuseFilter } from './fuse-filter.js';
export { registerWatchFilterMetrics } from './metrics.js';
