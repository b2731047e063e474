/**
 * The rules' own vocabulary. The vocabularies they share with the contract (severities, actions,
 * channels, 3-D Secure and CVV results) come from `@leakwatch/contracts`, which matches the Avro
 * schemas, so a rule set can never name a symbol an alert cannot carry.
 */

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
