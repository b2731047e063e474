import { describeError } from '@leakwatch/errors';
import type { InboundMessage } from './types.js';
import { emptyOutcome, type BatchOutcome } from './stages/outcome.js';
import { canHeal } from './retry.js';

/**
 * Processes the batch; if it hits a failure that cannot heal and is not poison detection (a bug,
 * an invariant that did not hold), processes the messages one by one so that only the message
 * that causes it is dead-lettered (INTERNAL) and the rest go on. A failure that can heal is
 * thrown as it is: the caller retries the whole batch.
 */
export async function processIsolating(
  messages: readonly InboundMessage[],
  process: (messages: readonly InboundMessage[]) => Promise<BatchOutcome>,
  onIsolate: (error: unknown) => void = () => undefined,
): Promise<BatchOutcome> {
  try {
    return await process(messages);
  } catch (error) {
    if (canHeal(error) || !(error instanceof Error)) throw error;
    onIsolate(error);
    const total = emptyOutcome();
    for (const message of messages) {
      try {
        const one = await process([message]);
        total.alerts.push(...one.alerts);
        total.deadLetters.push(...one.deadLetters);
        total.clean += one.clean;
        total.watched += one.watched;
      } catch (inner) {
        if (canHeal(inner)) throw inner;
        total.deadLetters.push({
          message,
          code: 'INTERNAL',
          reason: `processing failed: ${describeError(inner)}`,
        });
      }
    }
    return total;
  }
}
