/**
 * Card-number checks the contract needs. Kept local and minimal until `@leakwatch/card` can be a
 * dependency: the names, the result shape and the reasons mirror its `normalizePan`, so swapping
 * means deleting this file and changing one import.
 */

/** Why a card number was refused; each description names the rule, never the input. */
export const PAN_REJECT_REASONS = {
  INVALID_LENGTH: 'card number must have 12 to 19 digits',
  NON_DIGIT: 'card number may contain only digits, spaces and dashes',
  LUHN: 'card number fails the Luhn check',
} as const;

export type PanRejectReason = keyof typeof PAN_REJECT_REASONS;

export type PanResult = { ok: true; pan: string } | { ok: false; reason: PanRejectReason };

const ZERO = 48;
const NINE = 57;
const SPACE = 32;
const DASH = 45;

/**
 * Reads a card number as people write it: spaces and dashes inside are dropped, surrounding
 * whitespace trimmed; the result is 12-19 ASCII digits passing the Luhn check.
 */
export function normalizePan(input: string): PanResult {
  const trimmed = input.trim();
  let separators = false;
  for (let i = 0; i < trimmed.length; i++) {
    const c = trimmed.charCodeAt(i);
    if (c >= ZERO && c <= NINE) continue;
    if (c === SPACE || c === DASH) {
      separators = true;
      continue;
    }
    return { ok: false, reason: 'NON_DIGIT' };
  }
  const pan = separators ? trimmed.replace(/[ -]/g, '') : trimmed;
  if (pan.length < 12 || pan.length > 19) return { ok: false, reason: 'INVALID_LENGTH' };
  if (!luhnValid(pan)) return { ok: false, reason: 'LUHN' };
  return { ok: true, pan };
}

/** True when `digits` (ASCII digits, not checked) passes the Luhn (mod 10) check. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - ZERO;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}
