// fast-check arbitraries shared by the property tests (not built into dist).
import fc from 'fast-check';

export type Json = Record<string, unknown>;

export const digits = (min: number, max: number) =>
  fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''));

/** A field that may be absent (undefined: the key left out), null, or a value. */
export const maybe = <T>(arb: fc.Arbitrary<T>) =>
  fc.option(fc.option(arb, { nil: null }), { nil: undefined });

/** The record without its undefined fields: those keys are left out, as JSON leaves them out. */
export function withoutUndefined(record: Json): Json {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

/** Codes this runtime knows, minor units of 0, 2 and 3 digits, a recent one (VED) among them. */
export const currency = fc.constantFrom('USD', 'JPY', 'EUR', 'GBP', 'VED', 'KWD', 'CHF');
