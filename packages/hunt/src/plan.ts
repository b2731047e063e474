/** One input partition of a hunt: read offsets [start, end). */
export interface PartitionPlan {
  partition: number;
  start: bigint;
  end: bigint;
}

export interface OffsetsAt {
  /** Per partition, the first offset whose timestamp is at or after `--from` (-1: none). */
  from: ReadonlyMap<number, bigint>;
  /** Per partition, the first offset after `--to` (-1: none), or undefined without `--to`. */
  to?: ReadonlyMap<number, bigint>;
  /** Per partition, the end of the log when the hunt starts (high watermark). */
  high: ReadonlyMap<number, bigint>;
}

/**
 * Where each partition's hunt starts and stops. A timestamp after every message (-1) starts at
 * the end; `--to` never reaches past the end of the log when the hunt started, so a hunt is a
 * bounded job even while live traffic keeps arriving.
 */
export function planPartitions(offsets: OffsetsAt): PartitionPlan[] {
  const plans: PartitionPlan[] = [];
  for (const [partition, high] of [...offsets.high.entries()].sort((a, b) => a[0] - b[0])) {
    const from = offsets.from.get(partition) ?? -1n;
    const start = from < 0n || from > high ? high : from;
    const to = offsets.to?.get(partition);
    const end = to === undefined || to < 0n || to > high ? high : to;
    plans.push({ partition, start, end: end < start ? start : end });
  }
  return plans;
}

/** Messages left to read, given the next offset committed per partition (start when none). */
export function remaining(plans: readonly PartitionPlan[], next: ReadonlyMap<number, bigint>): bigint {
  let left = 0n;
  for (const p of plans) {
    const at = next.get(p.partition) ?? p.start;
    if (at < p.end) left += p.end - (at < p.start ? p.start : at);
  }
  return left;
}
