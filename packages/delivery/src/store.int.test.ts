import { Cluster } from 'ioredis';
import { describe, expect } from 'vitest';
import { integrationTest as it } from '@leakwatch/testing';
import { DeliveryStore, type StoredDelivery } from './store.js';

function delivery(n: number, detectedAt = 1000 + n): StoredDelivery & { dueAt: number } {
  return {
    id: `msg_${n}`,
    alertId: `alt-${n}`,
    detectedAt,
    enqueuedAt: 5000,
    body: `{"n":${n}}`,
    dueAt: 5000,
  };
}

const LEASE = 10_000;

describe('DeliveryStore (real Redis)', () => {
  it('enqueues once, claims with a lease, and forgets nothing an accept did not settle', async ({
    redis,
    redisPrefix,
  }) => {
    const store = new DeliveryStore({ redis, keyPrefix: redisPrefix });
    const p = 'acme';
    expect(await store.enqueue(p, [delivery(1), delivery(2)], { now: 5000, maxQueue: 10 })).toEqual([
      'queued',
      'queued',
    ]);
    // the same alert consumed again (crash before commit): nothing changes
    expect(await store.enqueue(p, [delivery(1)], { now: 5001, maxQueue: 10 })).toEqual(['duplicate']);

    const first = await store.claim(p, { now: 5000, limit: 1, leaseMs: LEASE });
    expect(first.claimed).toEqual(
      [{ ...delivery(1), dueAt: undefined, tries: 1 }].map(({ dueAt: _, ...d }) => d),
    );
    expect(first.nextDueAt).toBe(5000); // msg_2 is still due
    const second = await store.claim(p, { now: 5000, limit: 10, leaseMs: LEASE });
    expect(second.claimed.map((d) => d.id)).toEqual(['msg_2']);
    expect(second.nextDueAt).toBe(5000 + LEASE);
    // both leased: nothing more to claim before the lease ends
    expect((await store.claim(p, { now: 6000, limit: 10, leaseMs: LEASE })).claimed).toEqual([]);
    // a dispatcher that died mid-try: the lease runs out and the delivery comes due again
    const again = await store.claim(p, { now: 5000 + LEASE, limit: 10, leaseMs: LEASE });
    expect(again.claimed.map((d) => [d.id, d.tries])).toEqual([
      ['msg_1', 2],
      ['msg_2', 2],
    ]);

    // accepted: gone from the schedule, and a repeat enqueue is dropped
    expect(
      await store.settle(
        p,
        again.claimed[0]!,
        { kind: 'accepted' },
        { at: 20_000, outcome: 'accepted', status: 200 },
      ),
    ).toBe(true);
    expect(await store.enqueue(p, [delivery(1)], { now: 20_001, maxQueue: 10 })).toEqual(['duplicate']);
    // settling twice changes nothing
    expect(
      await store.settle(p, again.claimed[0]!, { kind: 'accepted' }, { at: 20_000, outcome: 'accepted' }),
    ).toBe(false);

    // failed: due again at the given time
    await store.settle(
      p,
      again.claimed[1]!,
      { kind: 'retry', dueAt: 30_000 },
      { at: 20_000, outcome: 'failed', status: 500 },
    );
    expect((await store.claim(p, { now: 29_999, limit: 10, leaseMs: LEASE })).claimed).toEqual([]);
    const retried = await store.claim(p, { now: 30_000, limit: 10, leaseMs: LEASE });
    expect(retried.claimed.map((d) => [d.id, d.tries])).toEqual([['msg_2', 3]]);

    const status = await store.status(p);
    expect(status).toMatchObject({ queueDepth: 1, oldestPendingAt: 5000, deadLetters: 0, disabled: null });
    expect(status.lastOutcomes.map((o) => o.outcome)).toEqual(['failed', 'accepted']);
  });

  it('dead-letters after the last try, replays by alert or since a time, with tries reset', async ({
    redis,
    redisPrefix,
  }) => {
    const store = new DeliveryStore({ redis, keyPrefix: redisPrefix });
    const p = 'down';
    await store.enqueue(p, [delivery(1, 100), delivery(2, 200), delivery(3, 300)], {
      now: 5000,
      maxQueue: 10,
    });
    const { claimed } = await store.claim(p, { now: 5000, limit: 10, leaseMs: LEASE });
    for (const d of claimed) {
      await store.settle(p, d, { kind: 'dead', reason: 'HTTP 500' }, { at: 6000, outcome: 'dead_lettered' });
    }
    expect(await store.status(p)).toMatchObject({ queueDepth: 0, deadLetters: 3, oldestPendingAt: null });
    expect((await store.deadLetters(p)).map((d) => [d.id, d.reason, d.tries])).toEqual([
      ['msg_1', 'HTTP 500', 1],
      ['msg_2', 'HTTP 500', 1],
      ['msg_3', 'HTTP 500', 1],
    ]);
    // dead letters are not pending: enqueueing the same alert again is a duplicate
    expect(await store.enqueue(p, [delivery(1, 100)], { now: 7000, maxQueue: 10 })).toEqual(['duplicate']);

    expect(await store.replay(p, { now: 8000, alertId: 'alt-2' })).toBe(1);
    expect(await store.replay(p, { now: 8000, sinceMs: 300 })).toBe(1);
    const replayed = await store.claim(p, { now: 8000, limit: 10, leaseMs: LEASE });
    expect(replayed.claimed.map((d) => [d.id, d.tries]).sort()).toEqual([
      ['msg_2', 1],
      ['msg_3', 1],
    ]);
    expect(await store.replay(p, { now: 9000 })).toBe(1);
    expect(await store.deadLetters(p)).toEqual([]);
  });

  it('overflows to the dead-letter list at the queue bound, never dropping', async ({
    redis,
    redisPrefix,
  }) => {
    const store = new DeliveryStore({ redis, keyPrefix: redisPrefix });
    expect(
      await store.enqueue(
        'full',
        [1, 2, 3].map((n) => delivery(n)),
        { now: 5000, maxQueue: 2 },
      ),
    ).toEqual(['queued', 'queued', 'overflow']);
    expect(await store.deadLetters('full')).toEqual([
      { id: 'msg_3', alertId: 'alt-3', detectedAt: 1003, deadAt: 5000, reason: 'queue_full', tries: 0 },
    ]);
    expect(await store.replay('full', { now: 6000 })).toBe(1);
    expect((await store.status('full')).queueDepth).toBe(3);
  });

  it('settles a batch in one call, each as settle would; one settled already is left alone', async ({
    redis,
    redisPrefix,
  }) => {
    const store = new DeliveryStore({ redis, keyPrefix: redisPrefix });
    const p = 'batch';
    await store.enqueue(
      p,
      [1, 2, 3, 4].map((n) => delivery(n)),
      { now: 5000, maxQueue: 10 },
    );
    const { claimed } = await store.claim(p, { now: 5000, limit: 10, leaseMs: LEASE });
    const [d1, d2, d3, d4] = claimed as [
      (typeof claimed)[0],
      (typeof claimed)[0],
      (typeof claimed)[0],
      (typeof claimed)[0],
    ];
    await store.settle(p, d4, { kind: 'accepted' }, { at: 6000, outcome: 'accepted' });
    expect(
      await store.settleMany(p, [
        { delivery: d1, settlement: { kind: 'accepted' }, outcome: { at: 6000, outcome: 'accepted' } },
        {
          delivery: d2,
          settlement: { kind: 'retry', dueAt: 9000 },
          outcome: { at: 6000, outcome: 'failed' },
        },
        {
          delivery: d3,
          settlement: { kind: 'dead', reason: 'HTTP 500' },
          outcome: { at: 6000, outcome: 'dead_lettered' },
        },
        { delivery: d4, settlement: { kind: 'accepted' }, outcome: { at: 6001, outcome: 'accepted' } },
      ]),
    ).toEqual([true, true, true, false]);
    expect(await store.enqueue(p, [delivery(1)], { now: 7000, maxQueue: 10 })).toEqual(['duplicate']);
    expect((await store.claim(p, { now: 9000, limit: 10, leaseMs: LEASE })).claimed.map((d) => d.id)).toEqual(
      ['msg_2'],
    );
    expect((await store.deadLetters(p)).map((d) => d.id)).toEqual(['msg_3']);
    const status = await store.status(p);
    expect(status.lastOutcomes.map((o) => [o.id, o.outcome])).toEqual([
      ['msg_3', 'dead_lettered'],
      ['msg_2', 'failed'],
      ['msg_1', 'accepted'],
      ['msg_4', 'accepted'],
    ]);
  });

  it('keeps only the newest outcomes of a large batch', async ({ redis, redisPrefix }) => {
    const store = new DeliveryStore({ redis, keyPrefix: redisPrefix });
    const all = Array.from({ length: 30 }, (_, n) => delivery(n));
    await store.enqueue('many', all, { now: 5000, maxQueue: 100 });
    const { claimed } = await store.claim('many', { now: 5000, limit: 100, leaseMs: LEASE });
    const applied = await store.settleMany(
      'many',
      claimed.map((d) => ({
        delivery: d,
        settlement: { kind: 'accepted' },
        outcome: { at: 6000, outcome: 'accepted' },
      })),
    );
    expect(applied.every(Boolean)).toBe(true);
    const status = await store.status('many');
    expect(status.queueDepth).toBe(0);
    expect(status.lastOutcomes.map((o) => o.id)).toEqual(
      claimed
        .slice(-20)
        .reverse()
        .map((d) => d.id),
    );
  });

  it('reads a delivery recorded in the earlier format (one JSON object)', async ({ redis, redisPrefix }) => {
    const store = new DeliveryStore({ redis, keyPrefix: redisPrefix });
    const keys = store.keys('old');
    const { dueAt: _, id, ...record } = delivery(7);
    await redis.hset(keys.data, id, JSON.stringify(record));
    await redis.zadd(keys.due, 5000, id);
    await redis.zadd(keys.age, 5000, id);
    expect((await store.claim('old', { now: 5000, limit: 10, leaseMs: LEASE })).claimed).toEqual([
      { id, ...record, tries: 1 },
    ]);
  });

  it('an enqueue leases up to its limit of what is due now; the rest waits for a claim', async ({
    redis,
    redisPrefix,
  }) => {
    const store = new DeliveryStore({ redis, keyPrefix: redisPrefix });
    const p = 'lease';
    const later = { ...delivery(4), dueAt: 6000 };
    expect(
      await store.enqueue(p, [delivery(1), delivery(2), delivery(3), later], {
        now: 5000,
        maxQueue: 10,
        lease: { limit: 2, leaseMs: LEASE },
      }),
    ).toEqual(['leased', 'leased', 'queued', 'queued']);
    // a leased delivery is claimed already: not again until its lease runs out
    const now = await store.claim(p, { now: 6000, limit: 10, leaseMs: LEASE });
    expect(now.claimed.map((d) => [d.id, d.tries])).toEqual([
      ['msg_3', 1],
      ['msg_4', 1],
    ]);
    // a leased delivery settles as a claimed one
    expect(
      await store.settle(
        p,
        { ...delivery(1), tries: 1 },
        { kind: 'accepted' },
        { at: 5050, outcome: 'accepted' },
      ),
    ).toBe(true);
    // the lease of msg_2 ran out (its dispatcher died): it comes due again, its first try counted
    const expired = await store.claim(p, { now: 5000 + LEASE + 1, limit: 10, leaseMs: LEASE });
    expect(expired.claimed.map((d) => [d.id, d.tries, d.body])).toEqual([['msg_2', 2, '{"n":2}']]);
    // and a repeat of a leased alert is a duplicate, as any other
    expect(
      await store.enqueue(p, [delivery(2)], { now: 7000, maxQueue: 10, lease: { limit: 5, leaseMs: LEASE } }),
    ).toEqual(['duplicate']);
  });

  it('a disabled endpoint is leased nothing at enqueue', async ({ redis, redisPrefix }) => {
    const store = new DeliveryStore({ redis, keyPrefix: redisPrefix });
    await store.enqueue('off', [delivery(1)], { now: 5000, maxQueue: 10 });
    const [d] = (await store.claim('off', { now: 5000, limit: 10, leaseMs: LEASE })).claimed;
    await store.settle('off', d!, { kind: 'disable', reason: 'HTTP 410' }, { at: 6000, outcome: 'gone' });
    expect(
      await store.enqueue('off', [delivery(2)], {
        now: 7000,
        maxQueue: 10,
        lease: { limit: 5, leaseMs: LEASE },
      }),
    ).toEqual(['queued']);
  });

  it('a 410 disables the endpoint: nothing is claimed until enabled, the try not counted', async ({
    redis,
    redisPrefix,
  }) => {
    const store = new DeliveryStore({ redis, keyPrefix: redisPrefix });
    await store.enqueue('gone', [delivery(1)], { now: 5000, maxQueue: 10 });
    const [d] = (await store.claim('gone', { now: 5000, limit: 10, leaseMs: LEASE })).claimed;
    await store.settle(
      'gone',
      d!,
      { kind: 'disable', reason: 'HTTP 410' },
      { at: 6000, outcome: 'gone', status: 410 },
    );
    expect((await store.status('gone')).disabled).toEqual({ at: 6000, reason: 'HTTP 410' });
    // nothing claimed, and no due time reported: the partner's loop must not spin on Redis
    expect(await store.claim('gone', { now: 99_000, limit: 10, leaseMs: LEASE })).toEqual({
      claimed: [],
      nextDueAt: null,
    });
    expect(await store.enable('gone')).toBe(true);
    expect(await store.enable('gone')).toBe(false);
    const after = await store.claim('gone', { now: 99_000, limit: 10, leaseMs: LEASE });
    expect(after.claimed.map((c) => [c.id, c.tries])).toEqual([['msg_1', 1]]);
  });

  it('works on Redis Cluster: one partner, one slot', async ({ endpoints, redisPrefix, skip }) => {
    const nodes = endpoints.redisClusterNodes?.join(',');
    if (!nodes) skip();
    const cluster = new Cluster(
      (nodes as string).split(',').map((n) => ({ host: n.split(':')[0], port: Number(n.split(':')[1]) })),
    );
    try {
      const store = new DeliveryStore({ redis: cluster, keyPrefix: redisPrefix });
      for (const p of ['a', 'b', 'c', 'sakura-card']) {
        expect(await store.enqueue(p, [delivery(1), delivery(2)], { now: 5000, maxQueue: 10 })).toEqual([
          'queued',
          'queued',
        ]);
        const { claimed } = await store.claim(p, { now: 5000, limit: 10, leaseMs: LEASE });
        await store.settle(p, claimed[0]!, { kind: 'accepted' }, { at: 6000, outcome: 'accepted' });
        await store.settle(
          p,
          claimed[1]!,
          { kind: 'dead', reason: 'x' },
          { at: 6000, outcome: 'dead_lettered' },
        );
        expect(await store.replay(p, { now: 7000 })).toBe(1);
        expect(await store.status(p)).toMatchObject({ queueDepth: 1, deadLetters: 0 });
        await store.drop(p);
      }
    } finally {
      cluster.disconnect();
    }
  });
});
