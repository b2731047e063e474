import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keySlot } from '@leakwatch/redis';
import { KeySpace, deriveLayout, groupTag } from './layout.js';

describe('deriveLayout', () => {
  it('sizes buckets to half the listpack limit at full capacity', () => {
    // 4M cards, 512 entries: 16384 buckets (about 61 cards each at 1M), 1 MiB filter a group.
    expect(deriveLayout()).toEqual({
      layoutVersion: 1,
      bucketBits: 14,
      groupBits: 6,
      fieldBytes: 16,
      filterBits: 2 ** 20,
    });
    expect(deriveLayout({ capacity: 4_000_000, maxEntriesPerBucket: 128 }).bucketBits).toBe(16);
    expect(deriveLayout({ capacity: 1_000_000 }).bucketBits).toBe(12);
    expect(deriveLayout({ capacity: 10 }).bucketBits).toBe(6); // never fewer buckets than groups
    expect(deriveLayout({ capacity: 1e12 }).bucketBits).toBe(20);
    expect(deriveLayout({ capacity: 20_000 }).filterBits).toBe(2 ** 13); // never below 1 KiB a group
    expect(deriveLayout({ capacity: 1e12 }).filterBits).toBe(2 ** 32); // a Redis string's limit
  });

  it('refuses nonsense with CONFIG_INVALID', () => {
    expect(() => deriveLayout({ capacity: 0 })).toThrow(/capacity/);
    expect(() => deriveLayout({ groupBits: 11 })).toThrow(/groupBits/);
    expect(() => deriveLayout({ maxEntriesPerBucket: 2 })).toThrow(/maxEntriesPerBucket/);
    expect(() => deriveLayout({ fieldBytes: 8 })).toThrow(/fieldBytes/);
  });
});

describe('group tags', () => {
  it('put group g in the g-th equal share of slots, so masters hold equal numbers of groups', () => {
    for (const groups of [1, 4, 64, 256]) {
      for (let g = 0; g < groups; g++) {
        const tag = groupTag(g, groups);
        expect(tag.length).toBeLessThanOrEqual(2);
        const slot = keySlot(tag);
        expect(slot).toBeGreaterThanOrEqual(Math.floor((g * 16384) / groups));
        expect(slot).toBeLessThan(Math.floor(((g + 1) * 16384) / groups));
      }
    }
  });
});

describe('KeySpace', () => {
  const ks = new KeySpace('lw:', deriveLayout());

  it('names bucket, counter and filter keys of a group with its hash tag', () => {
    expect(ks.buckets).toBe(16384);
    expect(ks.counterKeys.length).toBe(64);
    const bytes = Buffer.alloc(32, 0xff);
    const bucket = ks.bucketOf(bytes);
    expect(bucket).toBe(16383);
    expect(ks.groupOfBucket(bucket)).toBe(63);
    const tag = ks.tags[63] as string;
    expect(ks.bucketKey(bucket)).toBe(`lw:{${tag}}bff`);
    expect(ks.bucketKey(0)).toBe(`lw:{${ks.tags[0] as string}}b0`);
    expect(ks.counterKeys[63]).toBe(`lw:{${tag}}n`);
    expect(ks.filterKeys[63]).toBe(`lw:{${tag}}f`);
    expect(keySlot(ks.bucketKey(bucket))).toBe(keySlot(ks.counterKeys[63] as string));
    expect(keySlot(ks.bucketKey(bucket))).toBe(keySlot(ks.filterKeys[63] as string));
    expect(ks.incidentKey('INC-1')).toBe('lw:{incidents}:i:INC-1');
    expect(keySlot(ks.incidentKey('INC-1'))).toBe(keySlot(ks.registryMetaKey));
    // Every bucket key is distinct and none collides with a group's other keys.
    const names = new Set([...ks.bucketKeyRange(0, ks.buckets), ...ks.counterKeys, ...ks.filterKeys]);
    expect(names.size).toBe(ks.buckets + 2 * ks.groups);
  });

  it('stores the fingerprint bytes after the bucket prefix, filter bytes inside the field', () => {
    for (const bucketBits of [6, 8, 12, 14, 16, 20]) {
      const space = new KeySpace('p:', {
        layoutVersion: 1,
        bucketBits,
        groupBits: 6,
        fieldBytes: 16,
        filterBits: 2 ** 13,
      });
      expect(space.filterByteOffset).toBeGreaterThanOrEqual(0);
      expect(space.filterByteOffset + 4).toBeLessThanOrEqual(space.fieldLength);
      const bytes = randomBytes(32);
      const field = space.fieldOf(bytes);
      expect(field).toEqual(bytes.subarray(space.fieldOffset, space.fieldOffset + 16));
      expect(field.readUInt32BE(space.filterByteOffset) % 2 ** 13).toBe(space.filterBitOf(bytes));
    }
  });
});
