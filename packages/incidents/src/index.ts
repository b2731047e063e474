export {
  parseManifest,
  readManifest,
  manifestInstants,
  incidentManifestSchema,
  isIsoDate,
  isoInstant,
  COMPROMISE_TYPES,
  EXPOSED_DATA,
  INCIDENT_ID,
  type IncidentManifest,
  type CompromiseType,
  type ExposedData,
  type ManifestProblem,
  type ParseManifestOptions,
} from './manifest.js';
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
