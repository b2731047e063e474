export { parseManifest, readManifest, type ParseManifestOptions } from './manifest.js';
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
