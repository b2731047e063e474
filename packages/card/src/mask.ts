import { LeakwatchError } from '@leakwatch/errors';
import { isPanShape } from './pan.js';
import { schemeOf } from './scheme.js';

/** Digits of a card number that stay hidden wherever a card is shown, whatever its length. */
export const MIN_HIDDEN_DIGITS = 6;

/** What may be shown of a card, and the issuer BIN kept for routing. */
export interface MaskedPan {
  /**
   * The BIN as shown next to the last four (alerts, reports, screens): the issuer BIN, shortened
   * so that at least {@link MIN_HIDDEN_DIGITS} digits stay hidden. 6 digits for a 16-digit PAN,
   * 2 for a 12-digit one.
   */
  bin: string;
  /**
   * The issuer BIN (8 digits for 16+ digit PANs, 6 otherwise): for partner routing and scheme
   * detection inside the process, never shown together with the last four.
   */
  issuerBin: string;
  last4: string;
  /** The shown BIN and last 4 digits, the rest as `*`: "411111******1111". */
  masked: string;
}

/**
 * Issuer BIN length for a PAN length. Since the ISO/IEC 7812 move to 8-digit issuer identification
 * numbers, 16-digit and longer PANs carry an 8-digit BIN, and partner routing matches prefixes of
 * up to 8 digits; shorter PANs (Amex 15, Diners 14) keep 6.
 */
export function binLength(panLength: number): 6 | 8 {
  return panLength >= 16 ? 8 : 6;
}

/**
 * How many leading digits may be shown next to the last four of a `panLength`-digit card: the
 * issuer BIN, cut so that at least 6 digits stay hidden (16 digits: 6; 13: 3; 12: 2; 19: 8).
 */
export function shownBinLength(panLength: number): number {
  return Math.max(0, Math.min(binLength(panLength), panLength - 4 - MIN_HIDDEN_DIGITS));
}

/** `digits` with the first `shown` and the last 4 kept, the rest as `*` (fewer than 10: all `*`). */
function maskDigits(digits: string, shown: number): string {
  const n = digits.length;
  if (n < 4 + MIN_HIDDEN_DIGITS) return '*'.repeat(n);
  const head = Math.min(shown, n - 4 - MIN_HIDDEN_DIGITS);
  return digits.slice(0, head) + '*'.repeat(n - head - 4) + digits.slice(n - 4);
}

/**
 * Shown BIN, issuer BIN, last 4 and the masked display form of a normalized PAN. Every place that
 * shows a card (reject report, `leaks check`, alerts, logs) shows these, so at least
 * {@link MIN_HIDDEN_DIGITS} digits stay hidden on every length from 12 to 19.
 */
export function maskPan(pan: string): MaskedPan {
  const parts = panParts(pan);
  return { ...parts, masked: maskDigits(pan, parts.bin.length) };
}

/**
 * {@link maskPan} without the masked display form: what the monitor keeps of each card (built
 * for every authorization, so it builds no string it does not need).
 */
export function panParts(pan: string): Omit<MaskedPan, 'masked'> {
  if (!isPanShape(pan)) throw new LeakwatchError('INVALID_PAN', 'maskPan needs a normalized card number');
  const n = pan.length;
  return {
    bin: pan.slice(0, shownBinLength(n)),
    issuerBin: pan.slice(0, binLength(n)),
    last4: pan.slice(n - 4),
  };
}

/**
 * The BIN to show for a card known only by BIN and last four (a fingerprint event or row), whose
 * length is not sent: taken from the scheme (Amex 15, Diners 14, others 16), then cut as
 * {@link shownBinLength} says. `panLength` overrides when known.
 */
export function maskBin(bin: string, panLength?: number): string {
  const scheme = schemeOf(bin);
  const length = panLength ?? (scheme === 'AMEX' ? 15 : scheme === 'DINERS' ? 14 : 16);
  return bin.slice(0, shownBinLength(length));
}

/**
 * A masked form of input that failed to parse as a card number (wrong Luhn, wrong length,
 * letters): only its digits are considered, at most the first 6 and last 4 are shown, and at
 * least 6 always stay hidden. 16+ digits show 6 + 4, 10-15 digits only the last 4, fewer none.
 */
export function maskUnparsedPan(raw: string): string {
  const digits = raw.replace(/\D/g, '');
  return maskDigits(digits, digits.length >= 16 ? 6 : 0);
}
