import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ALERT_CARD_FINGERPRINTS_HEADER,
  alertCardFingerprintsHeader,
  parseAlertCardFingerprints,
} from './alert-headers.js';

/** A well-formed fingerprint: 32 bytes in unpadded base64url. */
const fp = (seed: string) => createHash('sha256').update(seed).digest('base64url');

describe('the lw-card-fingerprints header of card.alerts.v1', () => {
  it('lists the fingerprints beside the alert own, and nothing when there are none', () => {
    const all = [
      { keyId: 'k2', fingerprint: fp('a') },
      { keyId: 'k1', fingerprint: fp('b') },
    ];
    expect(alertCardFingerprintsHeader(fp('a'), all)).toEqual({
      [ALERT_CARD_FINGERPRINTS_HEADER]: `k1:${fp('b')}`,
    });
    expect(alertCardFingerprintsHeader(fp('a'), all.slice(0, 1))).toBeUndefined();
  });

  it('reads back what it wrote, from a Buffer too, and leaves out entries that break the rules', () => {
    const all = [
      { keyId: 'k1', fingerprint: fp('b') },
      { keyId: 'k3', fingerprint: fp('c') },
    ];
    const header = alertCardFingerprintsHeader(fp('a'), all)?.[ALERT_CARD_FINGERPRINTS_HEADER];
    expect(parseAlertCardFingerprints(Buffer.from(header ?? ''))).toEqual(all);
    expect(
      parseAlertCardFingerprints([`k1:${fp('b')}`, 'k2:short,:nokey,nocolon', `K 9:${fp('d')}`]),
    ).toEqual([{ keyId: 'k1', fingerprint: fp('b') }]);
    expect(parseAlertCardFingerprints(undefined)).toEqual([]);
  });
});
