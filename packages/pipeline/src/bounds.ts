/** One partition's window in a bounded run (the retro-hunt): read offsets [start, end). */
export interface OffsetBounds {
  start: bigint;
  end: bigint;
}

export interface BoundedBatch<M> {
  /** The messages inside the window, in order. */
  inside: M[];
  /** The batch reached the end of the window: read no further on this partition. */
  reachedEnd: boolean;
  /** The batch began before the window: the group's position was behind it; seek to `start`. */
  behindStart: boolean;
}

/**
 * Cuts a fetched batch to its partition's window. The window is the truth, not the group's
 * committed offset: a consumer group placed at the start by other means (kafkajs
 * `admin.setOffsets` joins the group and commits asynchronously) can still begin a partition
 * earlier, and those messages must not be judged.
 */
export function cutToBounds<M extends { offset: string }>(
  messages: readonly M[],
  bounds: OffsetBounds | undefined,
): BoundedBatch<M> {
  if (bounds === undefined) return { inside: messages as M[], reachedEnd: false, behindStart: false };
  const first = messages[0];
  const last = messages[messages.length - 1];
  const behindStart = first !== undefined && BigInt(first.offset) < bounds.start;
  const reachedEnd = last !== undefined && BigInt(last.offset) >= bounds.end - 1n;
  if (!behindStart && !(last !== undefined && BigInt(last.offset) >= bounds.end))
    return { inside: messages as M[], reachedEnd, behindStart };
  const inside = messages.filter((m) => {
    const offset = BigInt(m.offset);
    return offset >= bounds.start && offset < bounds.end;
  });
  return { inside, reachedEnd, behindStart };
}
