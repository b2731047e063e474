import { LeakwatchError } from '@leakwatch/errors';
import { isPanShape } from './pan.js';

/** What may be stored and shown of a card: BIN, last four, and a masked display form. */
export interface MaskedPan {
  /** First 8 digits for PANs of 16 digits or more, first 6 otherwise. */
  bin: string;
  last4: string;
  /** First 6 and last 4 digits, the rest as `*`: "411111******1111". */
  masked: string;
}

/**
 * BIN length for a PAN length. Since the ISO/IEC 7812 move to 8-digit issuer identification
 * numbers, 16-digit and longer PANs carry an 8-digit BIN, and partner routing matches prefixes of
 * up to 8 digits; shorter PANs (Amex 15, Diners 14) keep 6, since 8 + 4 would leave too little
 * hidden.
 */
export function binLength(panLength: number): 6 | 8 {
  return panLength >= 16 ? 8 : 6;
}

/**
 * BIN, last 4 and the masked display form of a normalized PAN. The display form always shows
 * the first 6 and last 4 digits only (the classic PCI DSS display limit), even where the stored BIN
 * has 8: it is what lands in reports and screens, where less is better.
 */
export function maskPan(pan: string): MaskedPan {
  if (!isPanShape(pan)) throw new LeakwatchError('INVALID_PAN', 'maskPan needs a normalized card number');
  const n = pan.length;
  return {
    bin: pan.slice(0, binLength(n)),
    last4: pan.slice(n - 4),
    masked: pan.slice(0, 6) + '*'.repeat(n - 10) + pan.slice(n - 4),
  };
}

/**
 * A masked form of input that failed to parse as a card number (wrong Luhn, wrong length,
 * letters): only its digits are considered, at most the first 6 and last 4 are shown, and at
 * least 6 always stay hidden. 16+ digits show 6 + 4, 10-15 digits only the last 4, fewer none.
 */
export function maskUnparsedPan(raw: string): string {
  const digits = raw.replace(/\D/g, '');
  const n = digits.length;
  if (n >= 16) return digits.slice(0, 6) + '*'.repeat(n - 10) + digits.slice(n - 4);
  if (n >= 10) return '*'.repeat(n - 4) + digits.slice(n - 4);
  return '*'.repeat(n);
}
