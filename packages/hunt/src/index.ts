export { restrictToIncident } from './incident-watch-list.js';
export { planPartitions, remaining, type PartitionPlan, type OffsetsAt } from './plan.js';
export { DEFAULT_HUNT_MAX_RATE, Throttle, type ThrottleClock } from './throttle.js';
export { emptySummary, formatSummary, tally, type HuntSummary } from './tally.js';
export {
  huntGroupId,
  runKafkaHunt,
  type HuntProgress,
  type HuntStateStore,
  type KafkaHuntOptions,
  type KafkaHuntResult,
} from './kafka-hunt.js';
export {
  archiveBatches,
  archiveFormatOf,
  runArchiveHunt,
  type ArchiveFormat,
  type EventWindow,
  type ArchiveHuntOptions,
  type RejectedRow,
} from './archive.js';
