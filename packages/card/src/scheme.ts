/** Card schemes Leakwatch tells apart by prefix; UNKNOWN for everything else. */
export const CARD_SCHEMES = [
  'VISA',
  'MASTERCARD',
  'AMEX',
  'JCB',
  'DINERS',
  'DISCOVER',
  'UNIONPAY',
  'UNKNOWN',
] as const;

export type CardScheme = (typeof CARD_SCHEMES)[number];

/** The number made of the first `length` digits, or -1 when there are fewer or one is not a digit. */
function prefix(value: string, length: number): number {
  if (value.length < length) return -1;
  let n = 0;
  for (let i = 0; i < length; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * The scheme of a PAN or a BIN (any leading digits; six or more decide every range below).
 *
 * Ranges: Visa 4; Mastercard 51-55 and 2221-2720; Amex 34, 37; JCB 3528-3589; Diners 300-305,
 * 3095, 36, 38-39; Discover 6011, 644-649, 65; UnionPay 62.
 * The 622126-622925 range is UnionPay cards that Discover's network also accepts: they are issued
 * under UnionPay, so they are reported as UNIONPAY (the issuing scheme, which is what a card
 * company reading an alert expects), not DISCOVER.
 */
export function schemeOf(panOrBin: string): CardScheme {
  const p1 = prefix(panOrBin, 1);
  if (p1 === 4) return 'VISA';
  const p2 = prefix(panOrBin, 2);
  if (p2 >= 51 && p2 <= 55) return 'MASTERCARD';
  if (p2 === 34 || p2 === 37) return 'AMEX';
  if (p2 === 36 || p2 === 38 || p2 === 39) return 'DINERS';
  if (p2 === 65) return 'DISCOVER';
  if (p2 === 62) return 'UNIONPAY';
  const p3 = prefix(panOrBin, 3);
  if (p3 >= 300 && p3 <= 305) return 'DINERS';
  if (p3 >= 644 && p3 <= 649) return 'DISCOVER';
  const p4 = prefix(panOrBin, 4);
  if (p4 >= 2221 && p4 <= 2720) return 'MASTERCARD';
  if (p4 >= 3528 && p4 <= 3589) return 'JCB';
  if (p4 === 3095) return 'DINERS';
  if (p4 === 6011) return 'DISCOVER';
  return 'UNKNOWN';
}
