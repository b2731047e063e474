import { isFingerprint, isKeyId } from './rules.js';

/**
 * Header of a `card.alerts.v1` record, beside (not in) the Avro value: the card's fingerprints
 * under the active keys other than the alert's own, `keyId:fingerprint` comma-separated. The
 * monitor sets it when a card number came in while several keys are active (a key rotation), so
 * that CARD_REISSUED takes the card off the watch list under every key it may be watched by.
 * Internal: the dispatcher never copies it to partner topics or webhooks. Fingerprints only
 * (keyed HMACs), never anything a card number can be recovered from.
 */
export const ALERT_CARD_FINGERPRINTS_HEADER = 'lw-card-fingerprints';

/** A fingerprint with the id of the key that made it. */
export interface KeyIdFingerprint {
  keyId: string;
  fingerprint: string;
}

/**
 * The header for an alert whose card has `fingerprints` (one per active key): undefined when
 * there is none beside the alert's own.
 */
export function alertCardFingerprintsHeader(
  own: string,
  fingerprints: readonly KeyIdFingerprint[],
): Record<string, string> | undefined {
  const others = fingerprints.filter((f) => f.fingerprint !== own);
  if (others.length === 0) return undefined;
  return { [ALERT_CARD_FINGERPRINTS_HEADER]: others.map((f) => `${f.keyId}:${f.fingerprint}`).join(',') };
}

/**
 * Reads the header (a Kafka header value: string, Buffer, or an array of them when repeated).
 * Entries that break the contract's key-id or fingerprint rule are left out: the header only ever
 * widens a removal, so a bad entry costs nothing but itself.
 */
export function parseAlertCardFingerprints(
  value: string | Buffer | readonly (string | Buffer)[] | undefined,
): KeyIdFingerprint[] {
  if (value === undefined) return [];
  const values: readonly (string | Buffer)[] =
    typeof value === 'string' || Buffer.isBuffer(value) ? [value] : value;
  const result: KeyIdFingerprint[] = [];
  for (const v of values) {
    for (const entry of v.toString().split(',')) {
      const colon = entry.indexOf(':');
      const keyId = entry.slice(0, colon);
      const fingerprint = entry.slice(colon + 1);
      if (colon > 0 && isKeyId(keyId) && isFingerprint(fingerprint)) result.push({ keyId, fingerprint });
    }
  }
  return result;
}
