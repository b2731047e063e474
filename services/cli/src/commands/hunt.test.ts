import { DEFAULT_HUNT_MAX_RATE } from '@leakwatch/hunt';
import { describe, expect, it } from 'vitest';
import { parseMaxRate } from './hunt.js';

describe('hunt --max-rate', () => {
  it('throttles by default, so a hunt beside the live monitor stays out of its way', () => {
    expect(parseMaxRate(undefined)).toBe(DEFAULT_HUNT_MAX_RATE);
    expect(DEFAULT_HUNT_MAX_RATE).toBeGreaterThan(0);
  });

  it('takes a rate, or unlimited for no throttle', () => {
    expect(parseMaxRate('5000')).toBe(5000);
    expect(parseMaxRate('unlimited')).toBeUndefined();
  });

  it('refuses anything else, saying what it got', () => {
    for (const bad of ['0', '-5', 'fast', ''])
      expect(() => parseMaxRate(bad)).toThrow(
        `--max-rate must be a number above 0 or "unlimited", got "${bad}"`,
      );
  });
});
