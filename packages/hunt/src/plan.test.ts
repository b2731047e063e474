import { describe, expect, it } from 'vitest';
import { planPartitions, remaining } from './plan.js';

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
