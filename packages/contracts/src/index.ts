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
export { EPOCH_MILLIS_MIN, EPOCH_MILLIS_MAX, parseIsoDateTime } from './fields.js';
export { isKnownCurrency } from './currency.js';
export { isFingerprint } from './fingerprint.js';
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
export { alertToJson } from './alert-json.js';
export {
  createSchemaRegistry,
  ensureSchemaRegistered,
  valueSubject,
  isSchemaNotFound,
  type ContractRegistry,
  type SchemaRegistrySettings,
} from './registry.js';
export { exampleAuthorization, exampleAlert, exampleDisposition } from './examples.js';
