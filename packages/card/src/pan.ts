import { LeakwatchError } from '@leakwatch/errors';

/** Why a card number was refused: a closed list, each with a description safe to show or log. */
export const PAN_REJECT_REASONS = {
  INVALID_LENGTH: 'card number must have 12 to 19 digits',
  NON_DIGIT: 'card number may contain only digits, spaces and dashes',
  LUHN: 'card number fails the Luhn check',
} as const;

export type PanRejectReason = keyof typeof PAN_REJECT_REASONS;

export type PanResult = { ok: true; pan: string } | { ok: false; reason: PanRejectReason };

export const MIN_PAN_LENGTH = 12;
export const MAX_PAN_LENGTH = 19;

const SPACE = 32;
const DASH = 45;
const ZERO = 48;
const NINE = 57;

/**
 * Reads a card number as people write it: spaces and dashes inside are dropped, surrounding
 * whitespace is trimmed, anything else is refused. The result is 12-19 ASCII digits that pass the
 * Luhn check. The refusal carries only a reason, never the input.
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
  if (pan.length < MIN_PAN_LENGTH || pan.length > MAX_PAN_LENGTH)
    return { ok: false, reason: 'INVALID_LENGTH' };
  if (!luhnValid(pan)) return { ok: false, reason: 'LUHN' };
  return { ok: true, pan };
}

/** Like {@link normalizePan}, for callers that treat a bad number as an error (INVALID_PAN). */
export function requirePan(input: string): string {
  const result = normalizePan(input);
  if (result.ok) return result.pan;
  throw new LeakwatchError('INVALID_PAN', PAN_REJECT_REASONS[result.reason], {
    details: { reason: result.reason },
  });
}

/** True when `digits` (ASCII digits only, not checked) passes the Luhn (mod 10) check. */
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

/** Appends the Luhn check digit to `digits`, for building synthetic test and demo card numbers. */
export function withLuhnCheckDigit(digits: string): string {
  if (!/^\d+$/.test(digits)) throw new LeakwatchError('VALIDATION_FAILED', 'expected digits only');
  for (let check = 0; check <= 9; check++) {
    const candidate = digits + String(check);
    if (luhnValid(candidate)) return candidate;
  }
  throw new LeakwatchError('INTERNAL', 'no Luhn check digit found');
}

/** True for 12-19 ASCII digits: the shape a normalized PAN has (Luhn not checked). */
export function isPanShape(value: string): boolean {
  const n = value.length;
  if (n < MIN_PAN_LENGTH || n > MAX_PAN_LENGTH) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < ZERO || c > NINE) return false;
  }
  return true;
}
