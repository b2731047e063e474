import { describe, expect, it } from 'vitest';
import { Random, Weighted } from './random.js';

describe('Random', () => {
  it('replays the same sequence from the same seed, numbers and strings alike', () => {
    const a = new Random(42);
    const b = new Random(42);
    const c = new Random('42');
    const seqA = Array.from({ length: 100 }, () => a.uint32());
    expect(Array.from({ length: 100 }, () => b.uint32())).toEqual(seqA);
    expect(Array.from({ length: 100 }, () => c.uint32())).toEqual(seqA);
    expect(Array.from({ length: 100 }, () => new Random(43).uint32())).not.toEqual(seqA);
  });

  it('draws uniformly within bounds', () => {
    const random = new Random('uniform');
    const buckets = new Array<number>(10).fill(0);
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = random.next();
      if (!(x >= 0 && x < 1)) outside++;
      else buckets[Math.floor(x * 10)]!++;
    }
    expect(outside).toBe(0);
    for (const n of buckets) expect(Math.abs(n - 10_000)).toBeLessThan(500);
    const ints = new Set(Array.from({ length: 2000 }, () => random.int(3, 7)));
    expect([...ints].sort()).toEqual([3, 4, 5, 6, 7]);
    expect(random.digits(30)).toMatch(/^\d{30}$/);
  });

  it('draws normals with mean 0 and spread 1', () => {
    const random = new Random(7);
    const xs = Array.from({ length: 50_000 }, () => random.normal());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
  });

  it('forks independent streams that depend on the seed and label only', () => {
    const parent = new Random(1);
    parent.uint32();
    const fork = parent.fork('x');
    expect(fork.uint32()).toBe(new Random(1).fork('x').uint32());
    expect(new Random(1).fork('y').uint32()).not.toBe(new Random(1).fork('x').uint32());
  });
});

describe('Weighted', () => {
  it('draws by weight and never draws zero weights', () => {
    const table = Weighted.of({ a: 3, b: 1, never: 0 });
    const random = new Random('weights');
    const counts: Record<string, number> = { a: 0, b: 0, never: 0 };
    for (let i = 0; i < 40_000; i++) counts[table.pick(random)]!++;
    expect(counts['never']).toBe(0);
    expect(counts['a']! / 40_000).toBeCloseTo(0.75, 1);
  });

  it('refuses a table with no positive weight', () => {
    expect(() => Weighted.of({ a: 0 })).toThrow(RangeError);
    expect(() => new Weighted([])).toThrow(RangeError);
  });
});
