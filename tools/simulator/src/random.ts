/** A seed: the same seed always gives the same sequence. Numbers and strings are told apart by their text. */
export type Seed = number | string;

/** cyrb128: four well-mixed 32-bit words from a string, to seed the generator's 128-bit state. */
function hashSeed(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

const TWO_POW_32 = 4294967296;

/**
 * A seedable pseudo-random generator (xoshiro128**, 128 bits of state) with the draws the
 * simulator needs. Not for secrets: it exists so that tests, the demo and the benchmark replay the
 * same traffic from the same seed, which `Math.random` cannot do.
 */
export class Random {
  /** The seed as text: forks derive their seeds from it. */
  readonly seed: string;
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spareNormal: number | undefined;

  constructor(seed: Seed) {
    this.seed = String(seed);
    const [a, b, c, d] = hashSeed(this.seed);
    // An all-zero state would stay zero forever; cyrb128 makes that practically impossible, but cheaply rule it out.
    this.#a = a | (a === 0 && b === 0 && c === 0 && d === 0 ? 1 : 0);
    this.#b = b;
    this.#c = c;
    this.#d = d;
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    const b = this.#b;
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9);
    const t = b << 9;
    this.#c ^= this.#a;
    this.#d ^= b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return result >>> 0;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    return this.uint32() / TWO_POW_32;
  }

  /** A uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p` (0 never, 1 always). */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** One element, uniformly. `items` must not be empty. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** `count` uniform decimal digits. */
  digits(count: number): string {
    let out = '';
    for (let i = 0; i < count; i++) out += String.fromCharCode(48 + Math.floor(this.next() * 10));
    return out;
  }

  /** A standard normal draw (Marsaglia polar method; the second value is kept for the next call). */
  normal(): number {
    const spare = this.#spareNormal;
    if (spare !== undefined) {
      this.#spareNormal = undefined;
      return spare;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = this.next() * 2 - 1;
      v = this.next() * 2 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const factor = Math.sqrt((-2 * Math.log(s)) / s);
    this.#spareNormal = v * factor;
    return u * factor;
  }

  /** A log-normal draw with the given median and spread (sigma of the underlying normal). */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /**
   * An independent generator for one purpose, seeded from this one's seed and `label` (not from
   * its current state): adding draws to one purpose does not shift the others.
   */
  fork(label: string): Random {
    return new Random(`${this.seed}/${label}`);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * A fixed distribution over a few values, drawn by one uniform number and a scan of cumulative
 * weights (the tables here have at most a few dozen entries, where a scan beats anything smarter).
 */
export class Weighted<T> {
  readonly values: readonly T[];
  readonly #cumulative: Float64Array;

  /** Weights need not sum to 1; entries weighing 0 (or less) are dropped; at least one must be positive. */
  constructor(entries: readonly (readonly [T, number])[]) {
    const kept = entries.filter(([, weight]) => weight > 0);
    const total = kept.reduce((sum, [, weight]) => sum + weight, 0);
    if (!(total > 0 && Number.isFinite(total))) {
      throw new RangeError('a weighted table needs positive, finite weights');
    }
    this.values = kept.map(([value]) => value);
    this.#cumulative = new Float64Array(kept.length);
    let running = 0;
    kept.forEach(([, weight], i) => {
      running += weight / total;
      this.#cumulative[i] = running;
    });
    // Rounding may leave the sum a hair under 1; a draw just under 1 must still land somewhere.
    this.#cumulative[kept.length - 1] = 1;
  }

  /** Builds a table from an object of weights: `Weighted.of({ JPY: 8, USD: 1 })`. */
  static of<K extends string>(weights: Readonly<Partial<Record<K, number>>>): Weighted<K> {
    return new Weighted(Object.entries(weights) as [K, number][]);
  }

  pick(random: Random): T {
    const u = random.next();
    const cumulative = this.#cumulative;
    let i = 0;
    while (u >= (cumulative[i] as number)) i++;
    return this.values[i] as T;
  }
}
