import { LeakwatchError } from '@leakwatch/errors';

/**
 * A binary fuse filter (Graf & Lemire, "Binary Fuse Filters: Fast and Smaller Than Xor
 * Filters", 2022), 3-wise, over 64-bit keys given as two uint32 halves. Static: built once
 * from a key set; `has` never answers false for a key of that set, and answers true for any
 * other key with probability 2^-bits (bits = 8, 16 or 32).
 *
 * Space: about 1.125 × bits / 8 bytes per key at a million keys and more (2.25 bytes at 16
 * bits), against 1.44 × log2(1/ε) bits for an ideal Bloom filter at the same ε (2.9 bytes).
 * A query reads three array cells of one small window, with no hashing beyond a few integer
 * multiplications. The keys here are parts of HMAC outputs, already uniform, so they are only
 * remixed with a seed (to retry a failed construction), not hashed.
 *
 * Duplicate keys are allowed and count once.
 */
export class FuseFilter {
  readonly bits: 8 | 16 | 32;
  /** Distinct keys the filter was built from. */
  readonly size: number;
  readonly #cells: Uint8Array | Uint16Array | Uint32Array;
  readonly #segmentLength: number;
  readonly #segmentMask: number;
  readonly #segmentCountLength: number;
  readonly #seed: Seed;
  readonly #mask: number;

  private constructor(
    bits: 8 | 16 | 32,
    size: number,
    cells: Uint8Array | Uint16Array | Uint32Array,
    layout: Layout,
    seed: Seed,
  ) {
    this.bits = bits;
    this.size = size;
    this.#cells = cells;
    this.#segmentLength = layout.segmentLength;
    this.#segmentMask = layout.segmentLength - 1;
    this.#segmentCountLength = layout.segmentCountLength;
    this.#seed = seed;
    this.#mask = bits === 32 ? 0xffffffff : 2 ** bits - 1;
  }

  /** Bytes held by the filter's cells. */
  get byteLength(): number {
    return this.#cells.byteLength;
  }

  /**
   * Builds the filter of `count` keys: key i is (`high[i]`, `low[i]`). Throws INTERNAL if no
   * seed of many works, which for distinct keys does not happen in practice.
   */
  static build(high: Uint32Array, low: Uint32Array, count = high.length, bits: 8 | 16 | 32 = 16): FuseFilter {
    if (low.length < count || high.length < count) {
      throw new LeakwatchError('INTERNAL', 'fuse filter: fewer key halves than count');
    }
    const layout = layoutFor(count);
    const cellCount = layout.arrayLength;
    const cells =
      bits === 8
        ? new Uint8Array(cellCount)
        : bits === 16
          ? new Uint16Array(cellCount)
          : new Uint32Array(cellCount);
    const mask = bits === 32 ? 0xffffffff : 2 ** bits - 1;
    // per cell: how many keys (×4) and the xor of their slot numbers (0-2), and of their keys
    const counts = new Uint8Array(cellCount);
    const xorA = new Uint32Array(cellCount);
    const xorB = new Uint32Array(cellCount);
    const queue = new Uint32Array(cellCount);
    const stackA = new Uint32Array(count);
    const stackB = new Uint32Array(count);
    const stackSlot = new Uint8Array(count);
    const h = new Int32Array(3);
    let deduplicated = false;
    for (let attempt = 0; attempt < 100; attempt++) {
      const seed = makeSeed(attempt);
      counts.fill(0);
      xorA.fill(0);
      xorB.fill(0);
      let overflow = false;
      // Keys in order of their first cell (a counting sort on the top bits of `a`, which h0
      // grows with), kept in the stack arrays until peeling needs them: the three cells then
      // move forward through a window of three segments instead of jumping about the arrays,
      // which on 10M keys makes this loop several times faster (fewer cache misses).
      const blockBits = Math.min(
        24,
        Math.max(1, Math.ceil(Math.log2(layout.segmentCountLength / layout.segmentLength) + 1)),
      );
      const blockShift = 32 - blockBits;
      const starts = new Uint32Array((1 << blockBits) + 1);
      for (let i = 0; i < count; i++) {
        const block = mixA(high[i] as number, seed) >>> blockShift;
        starts[block + 1] = (starts[block + 1] as number) + 1;
      }
      for (let k = 1; k < starts.length; k++) starts[k] = (starts[k] as number) + (starts[k - 1] as number);
      for (let i = 0; i < count; i++) {
        const a = mixA(high[i] as number, seed);
        const at = starts[a >>> blockShift] as number;
        starts[a >>> blockShift] = at + 1;
        stackA[at] = a;
        stackB[at] = mixB(low[i] as number, a, seed);
      }
      for (let i = 0; i < count; i++) {
        const a = stackA[i] as number;
        const b = stackB[i] as number;
        positions(a, b, mixC(a, b, seed), layout, h);
        for (let s = 0; s < 3; s++) {
          const p = h[s] as number;
          counts[p] = ((counts[p] as number) + 4) ^ s;
          xorA[p] = (xorA[p] as number) ^ a;
          xorB[p] = (xorB[p] as number) ^ b;
        }
        for (let s = 0; s < 3; s++) if ((counts[h[s] as number] as number) < 4) overflow = true;
      }
      if (overflow) continue; // more than 63 keys on a cell: try another seed
      // peel: repeatedly take a cell holding one key, record the key and its slot, remove it
      let queued = 0;
      for (let p = 0; p < cellCount; p++) if ((counts[p] as number) >> 2 === 1) queue[queued++] = p;
      let stacked = 0;
      while (queued > 0) {
        const p = queue[--queued] as number;
        if ((counts[p] as number) >> 2 !== 1) continue;
        const a = xorA[p] as number;
        const b = xorB[p] as number;
        const slot = (counts[p] as number) & 3;
        stackA[stacked] = a;
        stackB[stacked] = b;
        stackSlot[stacked] = slot;
        stacked++;
        positions(a, b, mixC(a, b, seed), layout, h);
        for (let s = 0; s < 3; s++) {
          const q = h[s] as number;
          counts[q] = ((counts[q] as number) - 4) ^ s;
          xorA[q] = (xorA[q] as number) ^ a;
          xorB[q] = (xorB[q] as number) ^ b;
          if (s !== slot && counts[q] >> 2 === 1) queue[queued++] = q;
        }
      }
      if (stacked !== count) {
        // A key given twice never peels. Duplicates are rare (a card removed and added again),
        // so they are only looked for once a construction failed.
        if (!deduplicated) {
          deduplicated = true;
          const unique = distinctKeys(high, low, count);
          if (unique.count < count) return FuseFilter.build(unique.high, unique.low, unique.count, bits);
        }
        continue;
      }
      // assign in reverse peeling order: each key's free cell makes its three cells xor to its fingerprint
      for (let i = stacked - 1; i >= 0; i--) {
        const a = stackA[i] as number;
        const b = stackB[i] as number;
        const slot = stackSlot[i] as number;
        positions(a, b, mixC(a, b, seed), layout, h);
        const p0 = h[slot] as number;
        const p1 = h[(slot + 1) % 3] as number;
        const p2 = h[(slot + 2) % 3] as number;
        cells[p0] = (fingerprintOf(a, b, seed) & mask) ^ (cells[p1] as number) ^ (cells[p2] as number);
      }
      return new FuseFilter(bits, stacked, cells, layout, seed);
    }
    throw new LeakwatchError('INTERNAL', `fuse filter: construction failed for ${count} keys`);
  }

  /** True when the key may be in the set; false means it surely is not. */
  has(high: number, low: number): boolean {
    const seed = this.#seed;
    const a = mixA(high, seed);
    const b = mixB(low, a, seed);
    const h0 = Math.min(
      Math.floor(a * this.#segmentCountLength * TWO_POW_MINUS_32),
      this.#segmentCountLength - 1,
    );
    const h1 = (h0 + this.#segmentLength) ^ (b & this.#segmentMask);
    const h2 = (h0 + 2 * this.#segmentLength) ^ (mixC(a, b, seed) & this.#segmentMask);
    const cells = this.#cells;
    return (
      ((cells[h0] as number) ^ (cells[h1] as number) ^ (cells[h2] as number)) >>> 0 ===
      (fingerprintOf(a, b, seed) & this.#mask) >>> 0
    );
  }
}

interface Layout {
  segmentLength: number;
  segmentCountLength: number;
  arrayLength: number;
}

interface Seed {
  s0: number;
  s1: number;
  s2: number;
  s3: number;
}

const TWO_POW_MINUS_32 = 2 ** -32;

/** The distinct keys among the first `count`, in ascending order. */
function distinctKeys(
  high: Uint32Array,
  low: Uint32Array,
  count: number,
): { high: Uint32Array; low: Uint32Array; count: number } {
  const keys = new BigUint64Array(count);
  for (let i = 0; i < count; i++) keys[i] = (BigInt(high[i] as number) << 32n) | BigInt(low[i] as number);
  keys.sort();
  const outHigh = new Uint32Array(count);
  const outLow = new Uint32Array(count);
  let n = 0;
  for (let i = 0; i < count; i++) {
    const key = keys[i] as bigint;
    if (i > 0 && key === keys[i - 1]) continue;
    outHigh[n] = Number(key >> 32n);
    outLow[n] = Number(key & 0xffffffffn);
    n++;
  }
  return { high: outHigh, low: outLow, count: n };
}
const MAX_SEGMENT_LENGTH = 2 ** 18;

/** Sizes from the reference implementation (binaryfusefilter.h), 3-wise. */
function layoutFor(size: number): Layout {
  const segmentLength =
    size === 0 ? 4 : Math.min(MAX_SEGMENT_LENGTH, 2 ** Math.floor(Math.log(size) / Math.log(3.33) + 2.25));
  const sizeFactor = size <= 1 ? 0 : Math.max(1.125, 0.875 + (0.25 * Math.log(1_000_000)) / Math.log(size));
  const capacity = size <= 1 ? 0 : Math.round(size * sizeFactor);
  const initSegmentCount = Math.floor((capacity + segmentLength - 1) / segmentLength) - 2;
  let arrayLength = (initSegmentCount + 2) * segmentLength;
  let segmentCount = Math.floor((arrayLength + segmentLength - 1) / segmentLength);
  segmentCount = segmentCount <= 2 ? 1 : segmentCount - 2;
  arrayLength = (segmentCount + 2) * segmentLength;
  return { segmentLength, segmentCountLength: segmentCount * segmentLength, arrayLength };
}

function makeSeed(attempt: number): Seed {
  const base = Math.imul(attempt + 1, 0x9e3779b1);
  return {
    s0: fmix(base ^ 0x243f6a88),
    s1: fmix(base ^ 0x85a308d3),
    s2: fmix(base ^ 0x13198a2e),
    s3: fmix(base ^ 0x03707344),
  };
}

/** MurmurHash3's 32-bit finaliser: a bijection of uint32 with full avalanche. */
function fmix(x: number): number {
  let h = x ^ (x >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// (high, low) → (a, b) is a bijection, so distinct keys stay distinct under every seed.
function mixA(high: number, seed: Seed): number {
  return fmix(high ^ seed.s0);
}

function mixB(low: number, a: number, seed: Seed): number {
  return fmix(low ^ seed.s1 ^ Math.imul(a, 0x9e3779b1));
}

function mixC(a: number, b: number, seed: Seed): number {
  return fmix(a ^ Math.imul(b, 0x85ebca77) ^ seed.s2);
}

function fingerprintOf(a: number, b: number, seed: Seed): number {
  return fmix(b ^ Math.imul(a, 0xc2b2ae3d) ^ seed.s3);
}

/** The three cells of a key: one in each of three consecutive segments. */
function positions(a: number, b: number, c: number, layout: Layout, out: Int32Array): void {
  const mask = layout.segmentLength - 1;
  const h0 = Math.min(
    Math.floor(a * layout.segmentCountLength * TWO_POW_MINUS_32),
    layout.segmentCountLength - 1,
  );
  out[0] = h0;
  out[1] = (h0 + layout.segmentLength) ^ (b & mask);
  out[2] = (h0 + 2 * layout.segmentLength) ^ (c & mask);
}
