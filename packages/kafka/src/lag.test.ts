import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ConsumerLagTracker, registerConsumerLagMetrics, type PartitionOffsets } from './lag.js';

/** A broker whose offsets and clock the test moves by hand. */
function fakeBroker(partitions: number) {
  let now = 1_000_000;
  const offsets: PartitionOffsets[] = Array.from({ length: partitions }, (_, partition) => ({
    topic: 'in',
    partition,
    committed: 0,
    highWatermark: 0,
    lowWatermark: 0,
  }));
  return {
    offsets,
    advance: (ms: number) => (now += ms),
    now: () => now,
    source: { read: () => Promise.resolve(offsets.map((o) => ({ ...o }))) },
  };
}

describe('consumer lag tracker', () => {
  it('reports 0 s and not stalled while caught up, however long nothing moves', async () => {
    const broker = fakeBroker(1);
    const tracker = new ConsumerLagTracker({ source: broker.source, stallAfterMs: 60_000, now: broker.now });
    await tracker.observe();
    broker.advance(600_000);
    await tracker.observe();
    expect(tracker.snapshot()).toEqual([
      { topic: 'in', partition: 0, messages: 0, seconds: 0, stalled: false },
    ]);
  });

  it('ages the oldest waiting message from the last time the high watermark was at the commit', async () => {
    const broker = fakeBroker(1);
    const p = broker.offsets[0]!;
    const tracker = new ConsumerLagTracker({ source: broker.source, stallAfterMs: 60_000, now: broker.now });
    await tracker.observe(); // t0: hw 0, caught up
    broker.advance(5000);
    p.highWatermark = 10; // messages arrive between t0 and t0+5 s
    await tracker.observe();
    expect(tracker.snapshot()[0]).toMatchObject({ messages: 10, seconds: 5, stalled: false });
    broker.advance(5000);
    p.highWatermark = 20;
    p.committed = 10; // the first ten are done; message 10 arrived after t0+5 s
    await tracker.observe();
    expect(tracker.snapshot()[0]).toMatchObject({ messages: 10, seconds: 5 });
    broker.advance(5000);
    p.committed = 20;
    await tracker.observe();
    expect(tracker.snapshot()[0]).toMatchObject({ messages: 0, seconds: 0 });
  });

  it('keeps the lag small under steady traffic where the consumer is never exactly caught up', async () => {
    const broker = fakeBroker(1);
    const p = broker.offsets[0]!;
    const tracker = new ConsumerLagTracker({ source: broker.source, stallAfterMs: 60_000, now: broker.now });
    for (let i = 0; i < 100; i++) {
      await tracker.observe();
      broker.advance(5000);
      p.committed = p.highWatermark; // everything seen so far is committed...
      p.highWatermark += 500; // ...while 500 more arrive
    }
    await tracker.observe();
    expect(tracker.snapshot()[0]).toMatchObject({ messages: 500, seconds: 5, stalled: false });
  });

  it('flags a stall once the commit has not moved for the stall time while messages wait', async () => {
    const broker = fakeBroker(2);
    const [stuck, fine] = broker.offsets as [PartitionOffsets, PartitionOffsets];
    const tracker = new ConsumerLagTracker({ source: broker.source, stallAfterMs: 60_000, now: broker.now });
    await tracker.observe();
    for (let t = 0; t < 12; t++) {
      broker.advance(5000);
      stuck.highWatermark += 10;
      fine.committed = fine.highWatermark;
      fine.highWatermark += 10;
      await tracker.observe();
    }
    const [s, f] = tracker.snapshot();
    expect(s).toMatchObject({ partition: 0, messages: 120, seconds: 60, stalled: true });
    expect(f).toMatchObject({ partition: 1, messages: 10, stalled: false });
    stuck.committed = 50; // it moves again
    await tracker.observe();
    expect(tracker.snapshot()[0]).toMatchObject({ stalled: false, messages: 70 });
  });

  it('is not stalled when the commit stands still because nothing waits', async () => {
    const broker = fakeBroker(1);
    broker.offsets[0]!.committed = broker.offsets[0]!.highWatermark = 42;
    const tracker = new ConsumerLagTracker({ source: broker.source, stallAfterMs: 1000, now: broker.now });
    await tracker.observe();
    broker.advance(3_600_000);
    await tracker.observe();
    expect(tracker.snapshot()[0]).toMatchObject({ stalled: false, seconds: 0 });
  });

  it('counts from the low watermark for a group that never committed', async () => {
    const broker = fakeBroker(1);
    Object.assign(broker.offsets[0]!, { committed: -1, lowWatermark: 100, highWatermark: 130 });
    const tracker = new ConsumerLagTracker({ source: broker.source, stallAfterMs: 10_000, now: broker.now });
    await tracker.observe();
    broker.advance(10_000);
    await tracker.observe();
    expect(tracker.snapshot()[0]).toMatchObject({ messages: 30, seconds: 10, stalled: true });
  });

  it('exports both gauges per topic and partition', async () => {
    const broker = fakeBroker(1);
    const tracker = new ConsumerLagTracker({ source: broker.source, stallAfterMs: 1000, now: broker.now });
    const registry = new Registry();
    registerConsumerLagMetrics(registry, tracker);
    await tracker.observe();
    broker.offsets[0]!.highWatermark = 5;
    broker.advance(2000);
    await tracker.observe();
    const text = await registry.metrics();
    expect(text).toContain('leakwatch_consumer_lag_seconds{topic="in",partition="0"} 2');
    expect(text).toContain('leakwatch_consumer_stalled{topic="in",partition="0"} 1');
  });
});
