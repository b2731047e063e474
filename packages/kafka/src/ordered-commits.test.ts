import { describe, expect, it } from 'vitest';
import { OrderedCommits } from './ordered-commits.js';

/** A commit that resolves when told to, recording the order in which commits land. */
function fakeBroker() {
  const landed: string[] = [];
  const pending: Array<() => void> = [];
  const commit = (topic: string, partition: number, next: string) =>
    new Promise<void>((resolve) =>
      pending.push(() => {
        landed.push(`${topic}/${partition}@${next}`);
        resolve();
      }),
    );
  const flush = async () => {
    for (let i = 0; i < 20; i++) {
      pending.splice(0).forEach((f) => f());
      await Promise.resolve();
    }
  };
  return { landed, pending, commit, flush };
}

describe('OrderedCommits', () => {
  it('commits the offset after the batch, one partition in the order started', async () => {
    const broker = fakeBroker();
    const commits = new OrderedCommits({ commit: broker.commit, onError: () => undefined });
    void commits.add('t', 0, '9');
    void commits.add('t', 0, '19');
    void commits.add('t', 1, '4');
    // the second commit of partition 0 waits for the first: only two are in flight
    await Promise.resolve();
    expect(broker.pending).toHaveLength(2);
    await broker.flush();
    const settled = commits.settled();
    await broker.flush();
    await settled;
    expect(broker.landed.filter((l) => l.startsWith('t/0'))).toEqual(['t/0@10', 't/0@20']);
    expect(broker.landed).toContain('t/1@5');
  });

  it('reports a failed commit and goes on with the next one of the partition', async () => {
    const errors: string[] = [];
    const landed: string[] = [];
    let calls = 0;
    const commits = new OrderedCommits({
      commit: (_t, partition, next) => {
        calls += 1;
        if (calls === 1) return Promise.reject(new Error('coordinator moved'));
        landed.push(`${partition}@${next}`);
        return Promise.resolve();
      },
      onError: (error, partition, next) => errors.push(`${partition}@${next}: ${(error as Error).message}`),
    });
    await expect(commits.add('t', 3, '99')).resolves.toBeUndefined();
    await commits.add('t', 3, '199');
    await commits.settled();
    expect(errors).toEqual(['3@100: coordinator moved']);
    expect(landed).toEqual(['3@200']);
  });

  it('counts offsets past 2^53 exactly', async () => {
    const landed: string[] = [];
    const commits = new OrderedCommits({
      commit: (_t, _p, next) => {
        landed.push(next);
        return Promise.resolve();
      },
      onError: () => undefined,
    });
    await commits.add('t', 0, '9007199254740993');
    expect(landed).toEqual(['9007199254740994']);
  });
});
