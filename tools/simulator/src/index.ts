export { Random, type Seed } from './random.js';
export {
  type CardAuthorization,
  type AuthorizationCard,
  type AuthorizationMerchant,
  type EncodeAvro,
} from './authorization.js';
// The contract's vocabularies, re-exported for callers that build authorizations by hand.
export {
  CHANNELS,
  THREE_DS_RESULTS,
  CVV_RESULTS,
  type Channel,
  type ThreeDsResult,
  type CvvResult,
} from '@leakwatch/contracts';
export {
  SIMULATED_SCHEMES,
  JAPAN_SCHEME_MIX,
  SIMULATED_ISSUER_BINS,
  generateCards,
  iterateCards,
  type SimulatedScheme,
  type SchemeMix,
  type GeneratedCard,
  type GenerateCardsOptions,
} from './cards.js';
export {
  SEED_CASE_MANIFEST,
  writeIncidentFiles,
  type SimulatedIncidentManifest,
  type WriteIncidentFilesOptions,
  type IncidentFiles,
} from './incident-files.js';
export {
  POISON_KINDS,
  POISON_EXPECTED_ERROR,
  AVRO_POISON_KINDS,
  UNKNOWN_SCHEMA_ID,
  type PoisonKind,
  type PoisonErrorCode,
} from './poison.js';
export {
  createTrafficGenerator,
  type TrafficGenerator,
  type TrafficGeneratorOptions,
  type WatchedCard,
  type SimulatedEvent,
  type SimulatedAuthorization,
  type SimulatedPoison,
  type AuthorizationPattern,
} from './traffic.js';
export { encodeAuthorizationJson, jsonStyleFor, messageValue, type JsonStyle } from './encode.js';
export {
  runTraffic,
  type Clock,
  type RunTrafficOptions,
  type TrafficStats,
  type TrafficRunResult,
} from './driver.js';
