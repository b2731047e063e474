/**
 * What an incident's manifest says about a compromise, and what an alert repeats in
 * `incidents[].compromiseType` and `dataExposed`. The Avro schema carries both as plain strings
 * so the lists can grow without breaking partners; what Leakwatch reads and writes is one of these.
 */

/** How the cards were compromised. */
export const COMPROMISE_TYPES = [
  'WEB_SKIMMING',
  'DATABASE_BREACH',
  'POS_MALWARE',
  'PHISHING',
  'UNKNOWN',
] as const;
export type CompromiseType = (typeof COMPROMISE_TYPES)[number];

/** What the compromise exposed, in the order a manifest's list is normalised to. */
export const EXPOSED_DATA = ['PAN', 'EXPIRY', 'CVV', 'NAME', 'ADDRESS', 'EMAIL', 'PHONE', 'TRACK'] as const;
export type ExposedData = (typeof EXPOSED_DATA)[number];
