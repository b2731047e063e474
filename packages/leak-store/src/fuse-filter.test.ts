import { randomFillSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FuseFilter } from './fuse-filter.js';

function randomKeys(count: number): { high: Uint32Array; low: Uint32Array } {
  const high = new Uint32Array(count);
  const low = new Uint32Array(count);
  randomFillSync(high);
  randomFillSync(low);
  return { high, low };
}

/** Share of `probes` random keys (almost surely not in the set) that the filter accepts. */
function falsePositiveRate(filter: FuseFilter, probes: number): number {
  const { high, low } = randomKeys(probes);
  let positives = 0;
  for (let i = 0; i < probes; i++) if (filter.has(high[i] as number, low[i] as number)) positives++;
  return positives / probes;
}

describe('FuseFilter', () => {
  it.each([0, 1, 2, 3, 10, 100, 1000])('holds every one of %i keys', (count) => {
    const { high, low } = randomKeys(count);
    const filter = FuseFilter.build(high, low);
    expect(filter.size).toBe(count);
    for (let i = 0; i < count; i++) expect(filter.has(high[i] as number, low[i] as number)).toBe(true);
  });

  it.each([8, 16, 32] as const)(
    'has no false negative over 200,000 keys and about 2^-%i false positives',
    (bits) => {
      const { high, low } = randomKeys(200_000);
      const filter = FuseFilter.build(high, low, high.length, bits);
      let missing = 0;
      for (let i = 0; i < high.length; i++) if (!filter.has(high[i] as number, low[i] as number)) missing++;
      expect(missing).toBe(0);
      const probes = 1_000_000;
      const rate = falsePositiveRate(filter, probes);
      const expected = 2 ** -bits;
      // False positives over random probes are Poisson: for 8 bits about 3,906 ± 62, for 16 bits
      // 15 ± 4, for 32 bits 0. The bound is the mean plus six deviations (a random set passes all
      // but about one run in 10^9); 1.5 times the mean failed a CI run with 28 for 16 bits.
      const mean = expected * probes;
      if (bits === 8) expect(rate).toBeGreaterThan(expected * 0.8);
      expect(rate).toBeLessThan(bits === 32 ? 3e-6 : (mean + 6 * Math.sqrt(mean)) / probes);
      // about 1.125 × bits/8 bytes per key at this size (the factor grows for small sets)
      expect(filter.byteLength / high.length).toBeLessThan((bits / 8) * 1.3);
    },
  );

  it('counts a key given twice once and still holds it', () => {
    const { high, low } = randomKeys(5000);
    const doubledHigh = new Uint32Array([...high, ...high.subarray(0, 2000)]);
    const doubledLow = new Uint32Array([...low, ...low.subarray(0, 2000)]);
    const filter = FuseFilter.build(doubledHigh, doubledLow);
    expect(filter.size).toBe(5000);
    for (let i = 0; i < high.length; i++) expect(filter.has(high[i] as number, low[i] as number)).toBe(true);
  });

  it('builds from the first `count` keys of longer arrays', () => {
    const { high, low } = randomKeys(1000);
    const filter = FuseFilter.build(high, low, 600);
    expect(filter.size).toBe(600);
    for (let i = 0; i < 600; i++) expect(filter.has(high[i] as number, low[i] as number)).toBe(true);
  });
});
