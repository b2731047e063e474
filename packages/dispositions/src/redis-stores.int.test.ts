import { exampleAlert, type AlertDisposition } from '@leakwatch/contracts';
import { PipelineRunner } from '@leakwatch/redis';
import { integrationTest as it } from '@leakwatch/testing';
import { describe, expect } from 'vitest';
import { RedisAlertIndex, toIndexedAlert } from './alert-index.js';
import { readDispositionStats, RedisDispositionStats } from './disposition-stats.js';
import { RedisIntakeLedger } from './intake-ledger.js';

/* The three Redis stores of dispositions against a real Redis (keys under the test's prefix). */

const NOW = Date.UTC(2026, 11, 2, 7, 0, 0);
const disposition: AlertDisposition = {
  alertId: 'alt-1',
  disposition: 'CONFIRMED_FRAUD',
  by: 'x',
  at: NOW,
  note: null,
};

describe('dispositions: Redis stores', () => {
  it('alert index: expires an alert its TTL after detection, and skips one already too old', async ({
    redis,
    redisPrefix,
  }) => {
    const index = new RedisAlertIndex({
      runner: new PipelineRunner(redis),
      keyPrefix: redisPrefix,
      ttlSeconds: 3600,
      now: () => NOW,
    });
    const fresh = { ...exampleAlert(), alertId: 'alt-fresh', detectedAt: NOW - 600_000 };
    const old = { ...exampleAlert(), alertId: 'alt-old', detectedAt: NOW - 7_200_000 };
    await index.record([toIndexedAlert(fresh), toIndexedAlert(old)]);
    expect(await index.get('alt-fresh')).toMatchObject({
      alertId: 'alt-fresh',
      partnerId: fresh.partnerId,
      fingerprint: fresh.card.fingerprint,
      incidentIds: fresh.incidents.map((i) => i.incidentId),
      reasonCodes: fresh.reasons.map((r) => r.code),
    });
    const ttl = await redis.ttl(index.keyOf('alt-fresh'));
    expect(ttl).toBeGreaterThan(2990);
    expect(ttl).toBeLessThanOrEqual(3000);
    expect(await index.get('alt-old')).toBeNull();
  });

  it('intake ledger: new, then duplicate by webhook-id or content; in progress while pending; released on failure', async ({
    redis,
    redisPrefix,
  }) => {
    const ledger = new RedisIntakeLedger({ redis, keyPrefix: redisPrefix });
    const first = await ledger.claim('sakura', 'msg_1', disposition);
    expect(first.outcome).toBe('new');
    expect((await ledger.claim('sakura', 'msg_2', disposition)).outcome).toBe('in_progress');
    if (first.outcome !== 'new') throw new Error('unreachable');
    await ledger.confirm(first.claim);
    expect(
      (await ledger.claim('sakura', 'msg_1', { ...disposition, disposition: 'FALSE_POSITIVE' })).outcome,
    ).toBe('duplicate');
    expect((await ledger.claim('sakura', 'msg_3', disposition)).outcome).toBe('duplicate');
    // a refused claim leaves nothing behind: the new verdict under msg_4 is still new
    const next = await ledger.claim('sakura', 'msg_4', { ...disposition, disposition: 'CARD_REISSUED' });
    expect(next.outcome).toBe('new');
    if (next.outcome !== 'new') throw new Error('unreachable');
    await ledger.release(next.claim);
    expect(
      (await ledger.claim('sakura', 'msg_4', { ...disposition, disposition: 'CARD_REISSUED' })).outcome,
    ).toBe('new');
  });

  it('disposition stats: counts the current verdict per incident and reason; a repeat moves nothing', async ({
    redis,
    redisPrefix,
  }) => {
    const stats = new RedisDispositionStats({ runner: new PipelineRunner(redis), keyPrefix: redisPrefix });
    const a = { alertId: 'alt-a', incidentIds: ['inc:1', 'inc-2'], reasonCodes: ['LEAKED_CARD', 'VELOCITY'] };
    const b = { alertId: 'alt-b', incidentIds: ['inc:1'], reasonCodes: ['LEAKED_CARD'] };
    expect(
      await stats.apply([
        { ...a, disposition: 'UNDER_REVIEW' },
        { ...b, disposition: 'CONFIRMED_FRAUD' },
        { ...a, disposition: 'CONFIRMED_FRAUD' },
        { ...a, disposition: 'CONFIRMED_FRAUD' },
      ]),
    ).toEqual([true, true, true, false]);
    const read = await readDispositionStats(redis, redisPrefix);
    expect(read.total).toEqual({ CONFIRMED_FRAUD: 2, FALSE_POSITIVE: 0, CARD_REISSUED: 0, UNDER_REVIEW: 0 });
    expect(read.byIncident['inc:1']).toMatchObject({ CONFIRMED_FRAUD: 2, UNDER_REVIEW: 0 });
    expect(read.byReason.VELOCITY).toMatchObject({ CONFIRMED_FRAUD: 1, UNDER_REVIEW: 0 });
    expect(read.byReason.LEAKED_CARD?.CONFIRMED_FRAUD).toBe(2);
  });
});
