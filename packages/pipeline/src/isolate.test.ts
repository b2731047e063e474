import { LeakwatchError } from '@leakwatch/errors';
import { describe, expect, it } from 'vitest';
import { processIsolating } from './isolate.js';
import type { BatchOutcome } from './stages/outcome.js';
import { message } from './stages/stages.fakes.js';
import type { InboundMessage } from './types.js';

/** Counts each message clean, unless its value names a failure. */
function fakeProcess(failures: Record<string, Error>) {
  const calls: string[][] = [];
  const process = (messages: readonly InboundMessage[]): Promise<BatchOutcome> => {
    calls.push(messages.map((m) => m.offset));
    for (const m of messages) {
      const failure = failures[m.value?.toString() ?? ''];
      if (failure !== undefined) return Promise.reject(failure);
    }
    return Promise.resolve({ alerts: [], deadLetters: [], clean: messages.length, watched: 0 });
  };
  return { process, calls };
}

describe('processIsolating', () => {
  it('runs the batch once when nothing fails', async () => {
    const { process, calls } = fakeProcess({});
    const outcome = await processIsolating([message(1), message(2)], process);
    expect(outcome.clean).toBe(2);
    expect(calls).toEqual([['1', '2']]);
  });

  it('on a bug, goes one by one and dead-letters only the message that causes it', async () => {
    const { process, calls } = fakeProcess({ boom: new TypeError('cannot read x of undefined') });
    const isolated: unknown[] = [];
    const outcome = await processIsolating([message(1), message(2, 'boom'), message(3)], process, (e) =>
      isolated.push(e),
    );
    expect(isolated).toHaveLength(1);
    expect(calls).toEqual([['1', '2', '3'], ['1'], ['2'], ['3']]);
    expect(outcome.clean).toBe(2);
    expect(outcome.deadLetters).toEqual([
      {
        message: message(2, 'boom'),
        code: 'INTERNAL',
        reason: 'processing failed: cannot read x of undefined',
      },
    ]);
  });

  it('never isolates a failure that can heal: the whole batch is retried', async () => {
    const down = new LeakwatchError('REDIS_UNAVAILABLE', 'redis down');
    const { process, calls } = fakeProcess({ m2: down });
    await expect(processIsolating([message(1), message(2)], process)).rejects.toBe(down);
    expect(calls).toHaveLength(1);
  });

  it('gives up isolating when a dependency fails on the way', async () => {
    const down = new LeakwatchError('REDIS_UNAVAILABLE', 'redis down');
    let call = 0;
    const process = () => (++call === 1 ? Promise.reject(new TypeError('bug')) : Promise.reject(down));
    await expect(processIsolating([message(1), message(2)], process)).rejects.toBe(down);
  });
});
