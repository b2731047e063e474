export {
  parseManifest,
  readManifest,
  manifestInstants,
  incidentManifestSchema,
  isIsoDate,
  isoInstant,
  INCIDENT_ID,
  type IncidentManifest,
  type ManifestProblem,
  type ParseManifestOptions,
} from './manifest.js';
// The contract's incident vocabularies, re-exported for callers that check manifests.
export { COMPROMISE_TYPES, EXPOSED_DATA, type CompromiseType, type ExposedData } from '@leakwatch/contracts';
export {
  readCards,
  CardsReader,
  type CardsInput,
  type CardsFormat,
  type ReadCardsOptions,
  type CardsReadStats,
} from './cards-reader.js';
export {
  REJECT_REASONS,
  type RejectReason,
  type CardRecord,
  type CardReject,
  type CardsFileRow,
} from './rows.js';
export { RejectReport } from './reject-report.js';
