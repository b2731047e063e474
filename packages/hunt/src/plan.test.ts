import { describe, expect, it } from 'vitest';
import { expiredByRetention, planPartitions, remaining } from './plan.js';

const m = (entries: Array<[number, bigint]>) => new Map(entries);

describe('planPartitions', () => {
  it('starts at the offsets of --from and stops at the end of the log when the hunt started', () => {
    const plans = planPartitions({
      from: m([
        [0, 5n],
        [1, 0n],
      ]),
      high: m([
        [0, 10n],
        [1, 3n],
      ]),
    });
    expect(plans).toEqual([
      { partition: 0, start: 5n, end: 10n },
      { partition: 1, start: 0n, end: 3n },
    ]);
  });

  it('a --from after every message (-1) starts at the end: nothing to read', () => {
    expect(planPartitions({ from: m([[0, -1n]]), high: m([[0, 7n]]) })).toEqual([
      { partition: 0, start: 7n, end: 7n },
    ]);
  });

  it('stops before the first offset after --to, never past the end when the hunt started', () => {
    const plans = planPartitions({
      from: m([
        [0, 2n],
        [1, 2n],
        [2, 4n],
      ]),
      to: m([
        [0, 6n],
        [1, -1n],
        [2, 1n],
      ]),
      high: m([
        [0, 10n],
        [1, 8n],
        [2, 9n],
      ]),
    });
    expect(plans).toEqual([
      { partition: 0, start: 2n, end: 6n },
      { partition: 1, start: 2n, end: 8n },
      { partition: 2, start: 4n, end: 4n },
    ]);
  });
});

describe('remaining', () => {
  const plans = [
    { partition: 0, start: 10n, end: 20n },
    { partition: 1, start: 0n, end: 5n },
  ];
  it('counts from the start where nothing was committed, from the commit otherwise', () => {
    expect(remaining(plans, new Map())).toBe(15n);
    expect(remaining(plans, m([[0, 15n]]))).toBe(10n);
    expect(
      remaining(
        plans,
        m([
          [0, 20n],
          [1, 5n],
        ]),
      ),
    ).toBe(0n);
  });
});

describe('expiredByRetention', () => {
  const plans = [
    { partition: 0, start: 2n, end: 10n },
    { partition: 1, start: 0n, end: 5n },
    { partition: 2, start: 4n, end: 8n },
  ];

  it('counts what the log start passed before it was read, and a window wholly gone as exhausted', () => {
    const ranges = expiredByRetention(
      plans,
      m([[0, 6n]]), // partition 0 read up to 6; 1 and 2 not at all
      m([
        [0, 8n], // 6 and 7 are gone, 8 and 9 are left
        [1, 9n], // past the window's end: all of 0..4 gone
        [2, 3n], // before the window: nothing lost
      ]),
    );
    expect(ranges).toEqual([
      { partition: 0, from: 6n, to: 8n, exhausted: false },
      { partition: 1, from: 0n, to: 5n, exhausted: true },
    ]);
  });

  it('never counts the same offsets twice, nor a finished window', () => {
    const low = m([
      [0, 8n],
      [1, 3n],
    ]);
    const next = m([[1, 5n]]); // partition 1 is done
    expect(expiredByRetention(plans, next, low, m([[0, 8n]]))).toEqual([]);
    expect(expiredByRetention(plans, next, m([[0, 9n]]), m([[0, 8n]]))).toEqual([
      { partition: 0, from: 8n, to: 9n, exhausted: false },
    ]);
  });

  it('a group behind its window counts from the window start', () => {
    expect(expiredByRetention(plans, m([[2, 0n]]), m([[2, 6n]]))).toEqual([
      { partition: 2, from: 4n, to: 6n, exhausted: false },
    ]);
  });
});
