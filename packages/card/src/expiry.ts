import { LeakwatchError } from '@leakwatch/errors';

/** Why an expiry was refused: a closed list with descriptions safe to show. */
export const EXPIRY_REJECT_REASONS = {
  EXPIRY_FORMAT: 'expiry must be MM/YY, MM/YYYY, MMYY or YYYY-MM',
  EXPIRY_MONTH: 'expiry month must be 01 to 12',
  EXPIRY_YEAR: 'expiry year must be 2000 to 2099',
} as const;

export type ExpiryRejectReason = keyof typeof EXPIRY_REJECT_REASONS;

/** `expiry` is "YYYY-MM". */
export type ExpiryResult = { ok: true; expiry: string } | { ok: false; reason: ExpiryRejectReason };

function digitAt(s: string, i: number): number {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : -1;
}

/** The number written by the digits s[from..to), or -1 if any is not a digit. */
function number(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = digitAt(s, i);
    if (d < 0) return -1;
    n = n * 10 + d;
  }
  return n;
}

function result(month: number, year: number): ExpiryResult {
  if (month < 0 || year < 0) return { ok: false, reason: 'EXPIRY_FORMAT' };
  if (month < 1 || month > 12) return { ok: false, reason: 'EXPIRY_MONTH' };
  if (year < 2000 || year > 2099) return { ok: false, reason: 'EXPIRY_YEAR' };
  return { ok: true, expiry: `${year}-${month < 10 ? '0' : ''}${month}` };
}

/**
 * Reads a card expiry in one of the forms card lists use: MM/YY, MM/YYYY, MMYY or YYYY-MM, with
 * surrounding whitespace trimmed. Strict otherwise: the month always has two digits, two-digit
 * years are 20YY. Returns the canonical "YYYY-MM".
 */
export function parseExpiry(input: string): ExpiryResult {
  const s = input.trim();
  switch (s.length) {
    case 4: // MMYY
      return result(number(s, 0, 2), twoDigitYear(number(s, 2, 4)));
    case 5: // MM/YY
      if (s[2] !== '/') break;
      return result(number(s, 0, 2), twoDigitYear(number(s, 3, 5)));
    case 7:
      if (s[2] === '/') return result(number(s, 0, 2), number(s, 3, 7)); // MM/YYYY
      if (s[4] === '-') return result(number(s, 5, 7), number(s, 0, 4)); // YYYY-MM
      break;
  }
  return { ok: false, reason: 'EXPIRY_FORMAT' };
}

function twoDigitYear(yy: number): number {
  return yy < 0 ? -1 : 2000 + yy;
}

/** Like {@link parseExpiry}, for callers that treat a bad expiry as an error (INVALID_EXPIRY). */
export function requireExpiry(input: string): string {
  const parsed = parseExpiry(input);
  if (parsed.ok) return parsed.expiry;
  throw new LeakwatchError('INVALID_EXPIRY', EXPIRY_REJECT_REASONS[parsed.reason], {
    details: { reason: parsed.reason },
  });
}

/** True for a canonical expiry: "YYYY-MM", year 2000-2099, month 01-12. */
export function isExpiry(value: string): boolean {
  if (value.length !== 7 || value[4] !== '-') return false;
  const parsed = result(number(value, 5, 7), number(value, 0, 4));
  return parsed.ok;
}
