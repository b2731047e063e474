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

/** Offsets of a partition's window that retention deleted before the hunt read them. */
export interface ExpiredRange {
  partition: number;
  /** First deleted offset not yet counted. */
  from: bigint;
  /** Deleted up to here (exclusive): the log start, or the window's end when it is past it. */
  to: bigint;
  /** The whole rest of the window is gone: nothing of this partition is left to read. */
  exhausted: boolean;
}

/**
 * What of each window retention took before it was read: a log whose start (low watermark) has
 * moved past the next offset to read lost the offsets in between. The broker deletes by segment
 * once a segment's newest timestamp is older than `retention.ms`, so authorizations produced
 * with old event times (an upstream replaying history) can go at the next retention check, and
 * a window whose end is below the new log start would otherwise never be reached.
 * `counted` is, per partition, how far losses were already reported (so none is counted twice).
 */
export function expiredByRetention(
  plans: readonly PartitionPlan[],
  next: ReadonlyMap<number, bigint>,
  low: ReadonlyMap<number, bigint>,
  counted: ReadonlyMap<number, bigint> = new Map(),
): ExpiredRange[] {
  const ranges: ExpiredRange[] = [];
  for (const p of plans) {
    const logStart = low.get(p.partition);
    if (logStart === undefined) continue;
    let at = next.get(p.partition) ?? p.start;
    if (at < p.start) at = p.start;
    const seen = counted.get(p.partition);
    if (seen !== undefined && seen > at) at = seen;
    if (at >= p.end || logStart <= at) continue;
    const to = logStart < p.end ? logStart : p.end;
    ranges.push({ partition: p.partition, from: at, to, exhausted: logStart >= p.end });
  }
  return ranges;
}
