import { describe, expect, it } from 'vitest';
import { classifyStatus } from './sender.js';
import { JITTER, firstDelay, nextStep, parseRetryAfter, withJitter } from './schedule.js';

const SPEC = [0, 5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

describe('nextStep', () => {
  it('walks the schedule, then the dead-letter list', () => {
    expect(nextStep(SPEC, 1, 0.5)).toEqual({ kind: 'retry', delayMs: 5000 });
    expect(nextStep(SPEC, 2, 0.5)).toEqual({ kind: 'retry', delayMs: 300_000 });
    expect(nextStep(SPEC, 7, 0.5)).toEqual({ kind: 'retry', delayMs: 36_000_000 });
    expect(nextStep(SPEC, 8, 0.5)).toEqual({ kind: 'dead' });
    expect(nextStep([0], 1, 0.5)).toEqual({ kind: 'dead' });
  });

  it('adds jitter within ±20%', () => {
    expect(nextStep(SPEC, 1, 0)).toEqual({ kind: 'retry', delayMs: 5000 * (1 - JITTER) });
    const high = nextStep(SPEC, 1, 0.999999);
    expect(high.kind === 'retry' && high.delayMs).toBeLessThanOrEqual(5000 * (1 + JITTER));
    expect(withJitter(0, 0.7)).toBe(0);
    expect(firstDelay(SPEC, 0.9)).toBe(0);
  });

  it('takes a Retry-After instead of the schedule, but not past the last try', () => {
    expect(nextStep(SPEC, 1, 0.5, 120_000)).toEqual({ kind: 'retry', delayMs: 120_000 });
    expect(nextStep(SPEC, 1, 0.5, 0)).toEqual({ kind: 'retry', delayMs: 0 });
    expect(nextStep(SPEC, 8, 0.5, 1000)).toEqual({ kind: 'dead' });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads seconds and HTTP dates, caps at 24 h, ignores garbage', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('999999999', now)).toBe(24 * 3_600_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
  });
});

describe('classifyStatus', () => {
  const now = 0;
  it('2xx accepted, 410 gone, redirects and errors failed; Retry-After only on 429 and 503', () => {
    expect(classifyStatus(200, undefined, now)).toEqual({ kind: 'accepted', status: 200 });
    expect(classifyStatus(204, undefined, now)).toEqual({ kind: 'accepted', status: 204 });
    expect(classifyStatus(410, undefined, now)).toEqual({ kind: 'gone', status: 410 });
    expect(classifyStatus(302, undefined, now)).toMatchObject({
      kind: 'failed',
      error: 'HTTP 302 (redirects are not followed)',
    });
    expect(classifyStatus(429, '7', now)).toMatchObject({ kind: 'failed', retryAfterMs: 7000 });
    expect(classifyStatus(503, '3', now)).toMatchObject({ kind: 'failed', retryAfterMs: 3000 });
    expect(classifyStatus(500, '3', now)).toMatchObject({ kind: 'failed', retryAfterMs: null });
    expect(classifyStatus(400, undefined, now)).toMatchObject({ kind: 'failed', status: 400 });
  });
});
