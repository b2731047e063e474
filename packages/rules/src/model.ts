/**
 * The closed vocabularies the rules speak, as the SPEC and the Avro schemas name them. They are
 * defined here (not imported from a schema package) so the rules stay a pure, dependency-light
 * function of their input.
 */

/** Alert severities, lowest first. Order matters: comparisons use the index. */
export const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What the issuer should do about an alert, mildest first. */
export const RECOMMENDED_ACTIONS = [
  'MONITOR',
  'STEP_UP_AUTH',
  'CONTACT_CARDHOLDER',
  'DECLINE_AND_REISSUE',
] as const;
export type RecommendedAction = (typeof RECOMMENDED_ACTIONS)[number];

export const CHANNELS = [
  'ECOMMERCE',
  'CARD_PRESENT',
  'CONTACTLESS',
  'MOTO',
  'RECURRING',
  'ATM',
  'UNKNOWN',
] as const;
export type Channel = (typeof CHANNELS)[number];

export const THREE_DS_RESULTS = ['AUTHENTICATED', 'ATTEMPTED', 'FAILED', 'NOT_PERFORMED'] as const;
export type ThreeDsResult = (typeof THREE_DS_RESULTS)[number];

export const CVV_RESULTS = ['MATCH', 'NO_MATCH', 'NOT_PROVIDED', 'NOT_CHECKED'] as const;
export type CvvResult = (typeof CVV_RESULTS)[number];

/** Every reason code the built-in rules can give, in the order reasons are listed on an alert. */
export const REASON_CODES = [
  'LEAKED_CARD',
  'EXPIRY_MATCHES_LEAK',
  'CVV_EXPOSED_CARD_NOT_PRESENT',
  'NO_3DS_CARD_NOT_PRESENT',
  'HIGH_RISK_MCC',
  'CROSS_BORDER',
  'HIGH_AMOUNT',
  'VELOCITY',
  'CARD_TESTING',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];
