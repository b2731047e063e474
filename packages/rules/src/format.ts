/** Human wording for reason descriptions: amounts in major units, windows in minutes or hours. */

/**
 * ISO 4217 minor-unit exponents that are not 2. Taken from the standard rather than from Intl,
 * whose CLDR data differs for some currencies (IDR, TWD, HUF) and would misstate an amount.
 */
const EXPONENTS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

/** `150000, JPY` → `150,000 JPY`; `150000, USD` → `1,500.00 USD`. */
export function formatMinorAmount(amountMinor: number, currency: string): string {
  const exponent = EXPONENTS[currency] ?? 2;
  const sign = amountMinor < 0 ? '-' : '';
  const digits = String(Math.abs(Math.trunc(amountMinor))).padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = exponent > 0 ? `.${digits.slice(digits.length - exponent)}` : '';
  return `${sign}${whole}${fraction} ${currency}`;
}

/** 600 → `10 minutes`, 3600 → `1 hour`, 90 → `90 seconds`. */
export function formatDuration(seconds: number): string {
  const units: [number, string][] = [
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units) {
    if (seconds >= size && seconds % size === 0) return plural(seconds / size, name);
  }
  return plural(seconds, 'second');
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

const MCC_NAMES: Readonly<Record<string, string>> = {
  '4829': 'money transfer',
  '5732': 'electronics stores',
  '5816': 'digital goods: games',
  '5944': 'jewelry and watch stores',
  '5967': 'direct marketing: inbound teleservices',
  '6051': 'quasi-cash',
  '6540': 'stored-value card load',
  '7995': 'betting and gambling',
};

/** `6051` → `6051 (quasi-cash)`; unknown codes stay bare. */
export function describeMcc(mcc: string): string {
  const name = MCC_NAMES[mcc];
  return name === undefined ? mcc : `${mcc} (${name})`;
}
