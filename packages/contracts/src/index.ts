export {
  cardAuthorizationAvro,
  suspiciousChargeAlertAvro,
  alertDispositionAvro,
  contractSchemas,
  type ContractSchema,
  type ContractRecordName,
} from './avro-schemas.js';
export {
  cardAuthorizationSchema,
  validateCardAuthorization,
  CHANNELS,
  THREE_DS_RESULTS,
  CVV_RESULTS,
  type CardAuthorization,
  type CardAuthorizationInput,
  type AuthorizationCard,
  type AuthorizationCardRecord,
  type PanCard,
  type FingerprintCard,
  type Merchant,
  type Channel,
  type ThreeDsResult,
  type CvvResult,
} from './card-authorization.js';
export {
  suspiciousChargeAlertSchema,
  validateSuspiciousChargeAlert,
  SEVERITIES,
  RECOMMENDED_ACTIONS,
  type SuspiciousChargeAlert,
  type AlertCard,
  type AlertReason,
  type AlertIncident,
  type AlertTransaction,
  type Severity,
  type RecommendedAction,
} from './suspicious-charge-alert.js';
export { COMPROMISE_TYPES, EXPOSED_DATA, type CompromiseType, type ExposedData } from './compromise.js';
export {
  alertDispositionSchema,
  validateAlertDisposition,
  DISPOSITIONS,
  type AlertDisposition,
  type Disposition,
} from './alert-disposition.js';
export {
  FINGERPRINT_LENGTH,
  FINGERPRINT_PATTERN,
  FINGERPRINT_RULE,
  isFingerprint,
  INCIDENT_ID_RULE,
  isIncidentId,
  KEY_ID_RULE,
  isKeyId,
  BIN_RULE,
  isBin,
  LAST4_RULE,
  isLast4,
} from './rules.js';
export {
  validateIncidentManifest,
  manifestInstants,
  type IncidentManifest,
  type ManifestProblem,
  type ManifestResult,
} from './incident-manifest.js';
export { EPOCH_MILLIS_MIN, EPOCH_MILLIS_MAX, parseIsoDateTime } from './fields.js';
export { isKnownCurrency } from './currency.js';
export {
  safeErrorMap,
  type ValidationResult,
  type ValidationProblem,
  type ValidationCode,
} from './validation.js';
export {
  createAuthorizationDecoder,
  createAlertDecoder,
  createDispositionDecoder,
  detectFrame,
  type RecordDecoder,
  type DecodeResult,
  type DecodeFormat,
  type DecoderOptions,
  type PoisonCode,
} from './decoder.js';
export {
  createAlertEncoder,
  createDispositionEncoder,
  createAuthorizationEncoder,
  registerContractSchemas,
  confluentFrame,
  type RecordEncoder,
  type EncoderOptions,
  type ContractTopics,
  type ContractSchemaIds,
} from './encoder.js';
export { alertToJson, validatedAlertToJson } from './alert-json.js';
export {
  ALERT_CARD_FINGERPRINTS_HEADER,
  alertCardFingerprintsHeader,
  parseAlertCardFingerprints,
  type KeyIdFingerprint,
} from './alert-headers.js';
export {
  createSchemaRegistry,
  ensureSchemaRegistered,
  valueSubject,
  isSchemaNotFound,
  type ContractRegistry,
  type SchemaRegistrySettings,
} from './registry.js';
export { exampleAuthorization, exampleAlert, exampleDisposition } from './examples.js';
export { alertIdFor } from './alert-id.js';
