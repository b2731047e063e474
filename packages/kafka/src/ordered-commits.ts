/**
 * Offset commits that run behind the work instead of in its way, in order per partition.
 *
 * A consumer that awaits each commit before its next fetch adds a commit round trip (tens of ms:
 * the broker writes __consumer_offsets with acks=all) to every message's latency. Here a commit
 * is started once the batch's output is acknowledged and the next fetch goes ahead; commits of a
 * partition are chained, so an older offset never lands after a newer one. A failed commit is
 * reported and left: the next commit of the partition covers it, and if none comes (rebalance,
 * crash) the batch is read again, which the consumers are built for (at least once).
 */
export class OrderedCommits {
  readonly #chains = new Map<number, Promise<void>>();
  readonly #commit: (topic: string, partition: number, nextOffset: string) => Promise<void>;
  readonly #onError: (error: unknown, partition: number, nextOffset: string) => void;

  constructor(options: {
    /** Commits `nextOffset` (the next offset to read) for the partition. */
    commit: (topic: string, partition: number, nextOffset: string) => Promise<void>;
    onError: (error: unknown, partition: number, nextOffset: string) => void;
  }) {
    this.#commit = options.commit;
    this.#onError = options.onError;
  }

  /** Commits the offset after `lastOffset` behind those already started for the partition. */
  add(topic: string, partition: number, lastOffset: string): Promise<void> {
    const nextOffset = (BigInt(lastOffset) + 1n).toString();
    const previous = this.#chains.get(partition) ?? Promise.resolve();
    const chained = previous.then(() =>
      this.#commit(topic, partition, nextOffset).then(
        () => undefined,
        (error: unknown) => {
          this.#onError(error, partition, nextOffset);
        },
      ),
    );
    this.#chains.set(partition, chained);
    return chained;
  }

  /** Resolves once every commit started so far has landed or failed (before leaving the group). */
  async settled(): Promise<void> {
    await Promise.all(this.#chains.values());
  }
}
