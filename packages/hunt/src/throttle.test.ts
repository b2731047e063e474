import { describe, expect, it } from 'vitest';
import { Throttle, type ThrottleClock } from './throttle.js';

function fakeClock(): ThrottleClock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: (ms) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

describe('Throttle', () => {
  it('lets a second of burst through, then waits in proportion to what was taken', async () => {
    const clock = fakeClock();
    const throttle = new Throttle(1000, clock);
    await throttle.take(1000);
    expect(clock.slept).toEqual([]);
    await throttle.take(500);
    expect(clock.slept).toEqual([500]);
    await throttle.take(2000);
    expect(clock.slept).toEqual([500, 2000]);
  });

  it('sleeps a long wait in steps of a second, heart-beating between them', async () => {
    const clock = fakeClock();
    const throttle = new Throttle(1000, clock);
    let beats = 0;
    await throttle.take(3500, () => {
      beats += 1;
      return Promise.resolve();
    });
    expect(clock.slept).toEqual([1000, 1000, 500]);
    expect(beats).toBe(2);
  });

  it('refuses a rate of zero', () => {
    expect(() => new Throttle(0)).toThrow(RangeError);
  });
});
