import { describe, expect, it } from 'vitest';
import { cutToBounds } from './bounds.js';

const batch = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ offset: String(from + i) }));
const offsets = (ms: Array<{ offset: string }>) => ms.map((m) => Number(m.offset));

describe('cutToBounds', () => {
  it('leaves an unbounded batch alone', () => {
    const messages = batch(0, 4);
    expect(cutToBounds(messages, undefined)).toEqual({
      inside: messages,
      reachedEnd: false,
      behindStart: false,
    });
  });

  it('keeps a batch wholly inside the window as it is', () => {
    const cut = cutToBounds(batch(10, 14), { start: 10n, end: 20n });
    expect(offsets(cut.inside)).toEqual([10, 11, 12, 13, 14]);
    expect(cut).toMatchObject({ reachedEnd: false, behindStart: false });
  });

  it('drops what lies before the start and says the group was behind', () => {
    const cut = cutToBounds(batch(0, 12), { start: 10n, end: 20n });
    expect(offsets(cut.inside)).toEqual([10, 11, 12]);
    expect(cut).toMatchObject({ reachedEnd: false, behindStart: true });
  });

  it('a batch wholly before the start judges nothing', () => {
    const cut = cutToBounds(batch(0, 5), { start: 10n, end: 20n });
    expect(cut.inside).toEqual([]);
    expect(cut.behindStart).toBe(true);
  });

  it('drops what lies at or past the end and says the end was reached', () => {
    const cut = cutToBounds(batch(17, 25), { start: 10n, end: 20n });
    expect(offsets(cut.inside)).toEqual([17, 18, 19]);
    expect(cut).toMatchObject({ reachedEnd: true, behindStart: false });
  });

  it('a batch ending on the last offset of the window has reached the end', () => {
    const cut = cutToBounds(batch(15, 19), { start: 10n, end: 20n });
    expect(offsets(cut.inside)).toEqual([15, 16, 17, 18, 19]);
    expect(cut.reachedEnd).toBe(true);
  });

  it('cuts both sides of a batch spanning the whole window', () => {
    const cut = cutToBounds(batch(0, 30), { start: 10n, end: 12n });
    expect(offsets(cut.inside)).toEqual([10, 11]);
    expect(cut).toMatchObject({ reachedEnd: true, behindStart: true });
  });

  it('compares offsets as integers past 2^53', () => {
    const big = 2n ** 60n;
    const messages = [{ offset: String(big - 1n) }, { offset: String(big) }, { offset: String(big + 1n) }];
    const cut = cutToBounds(messages, { start: big, end: big + 1n });
    expect(cut.inside).toEqual([{ offset: String(big) }]);
  });
});
