/**
 * Active ISO 4217 codes that ICU (and so `Intl`) does not list, as of ICU 78: refusing them
 * would dead-letter real authorizations. Funds codes and precious metals are left out on purpose:
 * they are units of account, not currencies a card is charged in.
 */
const ISO_4217_MISSING_FROM_ICU = ['VED'];

const ALPHA_3 = /^[A-Z]{3}$/;

function knownCurrencies(): ReadonlySet<string> | undefined {
  // Intl.supportedValuesOf exists on every Node this repository supports; an ICU-less build
  // would answer nothing, in which case only the shape (three capitals) is checked.
  const listed = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('currency') : [];
  const codes = [...listed, ...ISO_4217_MISSING_FROM_ICU].filter((c) => ALPHA_3.test(c));
  return listed.length > 0 ? new Set(codes) : undefined;
}

const KNOWN = knownCurrencies();

/** True for an ISO 4217 alpha-3 code this runtime knows (any three capitals when it knows none). */
export function isKnownCurrency(code: string): boolean {
  // every known code is three capitals: the set alone answers (no regex run per authorization)
  return KNOWN === undefined ? ALPHA_3.test(code) : KNOWN.has(code);
}
