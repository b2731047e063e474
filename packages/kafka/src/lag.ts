import type { Admin } from 'kafkajs';
import { Gauge, type Registry } from 'prom-client';

/** One partition as the broker sees it: the group's committed offset and the high watermark. */
export interface PartitionOffsets {
  topic: string;
  partition: number;
  /** Next offset the group will read; -1 when the group never committed on this partition. */
  committed: number;
  /** Offset the next produced message will get. */
  highWatermark: number;
  /** First offset still on the broker (used when nothing was committed yet). */
  lowWatermark: number;
}

/** Where the tracker reads offsets from: the Kafka admin API in production, a fake in tests. */
export interface OffsetSource {
  read(): Promise<PartitionOffsets[]>;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** high watermark − committed offset. */
  messages: number;
  /** Upper bound on the age of the oldest unconsumed message; 0 when caught up. */
  seconds: number;
  /** The committed offset has not moved for `stallAfterMs` while messages wait. */
  stalled: boolean;
}

interface PartitionState {
  committed: number;
  committedSince: number;
  /** High-watermark observations (time, offset), oldest first, pruned as commits pass them. */
  marks: { at: number; highWatermark: number }[];
  lag?: PartitionLag;
}

/**
 * Time lag and stall detection for one consumer group, from the broker's offsets alone, so they
 * keep telling the truth when the consumer is stuck and no batch arrives to report anything.
 *
 * Each `observe()` records when the high watermark was seen where. The oldest unconsumed
 * message is the one at the committed offset C; it was produced after the last observation at
 * which the high watermark was still ≤ C (everything produced before that instant had a lower
 * offset). So `seconds = now − (time of that observation)`: an upper bound on its age, tight to
 * one poll interval, and 0 when nothing waits. Until a first such observation exists (the
 * tracker started behind) the age counts from the tracker's first observation of the partition.
 *
 * `stalled` is true when messages wait and the committed offset has stayed the same for at
 * least `stallAfterMs`.
 */
export class ConsumerLagTracker {
  readonly #states = new Map<string, PartitionState>();
  readonly #stallAfterMs: number;
  readonly #now: () => number;
  readonly #source: OffsetSource;

  constructor(options: { source: OffsetSource; stallAfterMs: number; now?: () => number }) {
    this.#source = options.source;
    this.#stallAfterMs = options.stallAfterMs;
    this.#now = options.now ?? Date.now;
  }

  /** Reads the offsets once and updates every partition's lag. */
  async observe(): Promise<void> {
    const offsets = await this.#source.read();
    const now = this.#now();
    const seen = new Set<string>();
    for (const o of offsets) {
      const key = `${o.topic}\u0000${o.partition}`;
      seen.add(key);
      const committed = o.committed >= 0 ? o.committed : o.lowWatermark;
      let state = this.#states.get(key);
      if (!state) {
        state = { committed, committedSince: now, marks: [{ at: now, highWatermark: committed }] };
        this.#states.set(key, state);
      }
      if (committed !== state.committed) {
        state.committed = committed;
        state.committedSince = now;
      }
      const last = state.marks[state.marks.length - 1]!;
      if (last.highWatermark === o.highWatermark) last.at = now;
      else state.marks.push({ at: now, highWatermark: o.highWatermark });
      // a stuck consumer under traffic: keep the history bounded (coarser, still an upper bound)
      if (state.marks.length > 500) state.marks.splice(1, 1);
      // keep the latest mark at or below the committed offset, and every mark after it
      let keepFrom = 0;
      for (let i = 0; i < state.marks.length; i++)
        if (state.marks[i]!.highWatermark <= committed) keepFrom = i;
      state.marks.splice(0, keepFrom);

      const messages = Math.max(0, o.highWatermark - committed);
      const producedAfter = state.marks[0]!.at;
      state.lag = {
        topic: o.topic,
        partition: o.partition,
        messages,
        seconds: messages > 0 ? Math.max(0, now - producedAfter) / 1000 : 0,
        stalled: messages > 0 && now - state.committedSince >= this.#stallAfterMs,
      };
    }
    // partitions that disappeared (topic deleted) are forgotten
    for (const key of [...this.#states.keys()]) if (!seen.has(key)) this.#states.delete(key);
  }

  /** The lag of every partition as of the last observation. */
  snapshot(): PartitionLag[] {
    return [...this.#states.values()].flatMap((s) => (s.lag ? [s.lag] : []));
  }
}

/** Offsets of a consumer group on some topics, from the Kafka admin API. */
export function adminOffsetSource(admin: Admin, groupId: string, topics: string[]): OffsetSource {
  return {
    async read() {
      const [committedByTopic, ...watermarks] = await Promise.all([
        admin.fetchOffsets({ groupId, topics }),
        ...topics.map((topic) => admin.fetchTopicOffsets(topic)),
      ]);
      const out: PartitionOffsets[] = [];
      topics.forEach((topic, i) => {
        const committed = new Map(
          (committedByTopic.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [
            p.partition,
            Number(p.offset),
          ]),
        );
        for (const w of watermarks[i] ?? []) {
          out.push({
            topic,
            partition: w.partition,
            committed: committed.get(w.partition) ?? -1,
            highWatermark: Number(w.high),
            lowWatermark: Number(w.low),
          });
        }
      });
      return out;
    },
  };
}

/**
 * leakwatch_consumer_lag_seconds and leakwatch_consumer_stalled, per topic and partition, read
 * from the tracker's last observation at scrape time.
 */
export function registerConsumerLagMetrics(registry: Registry, tracker: ConsumerLagTracker): void {
  const registers = [registry];
  new Gauge({
    name: 'leakwatch_consumer_lag_seconds',
    help: "Upper bound on the age of the oldest message the consumer group has not committed, per input partition (0 when caught up); from the broker's offsets.",
    labelNames: ['topic', 'partition'] as const,
    registers,
    collect() {
      this.reset();
      for (const l of tracker.snapshot())
        this.set({ topic: l.topic, partition: String(l.partition) }, l.seconds);
    },
  });
  new Gauge({
    name: 'leakwatch_consumer_stalled',
    help: 'The committed offset has not moved for the stall time while messages wait (1), else 0, per input partition.',
    labelNames: ['topic', 'partition'] as const,
    registers,
    collect() {
      this.reset();
      for (const l of tracker.snapshot())
        this.set({ topic: l.topic, partition: String(l.partition) }, l.stalled ? 1 : 0);
    },
  });
}
