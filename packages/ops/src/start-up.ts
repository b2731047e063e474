import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@leakwatch/logger';
import { canHeal } from '@leakwatch/errors';

export interface RetryOptions {
  initialMs?: number;
  maxMs?: number;
  /** Waits `ms`, or less once `signal` aborts (injected in unit tests). */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const abortableSleep = (ms: number, signal: AbortSignal) =>
  sleep(ms, undefined, { signal }).catch(() => undefined);

/**
 * Retries a start-up step while it fails on a dependency that can heal (Redis loading, a
 * registry or broker still starting), so a service comes up when they do instead of
 * crash-looping. Each try calls `step` afresh: nothing of a failed try is kept. A failure that
 * cannot heal, or an abort (SIGTERM during start-up), ends the retries with the error.
 */
export async function untilAvailable<T>(
  what: string,
  logger: Pick<Logger, 'warn'>,
  signal: AbortSignal,
  step: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const wait = options.wait ?? abortableSleep;
  const maxMs = options.maxMs ?? 5000;
  let delay = options.initialMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!canHeal(error) || signal.aborted) throw error;
      logger.warn({ err: error, attempt, retryInMs: delay }, `${what}: dependency unavailable, retrying`);
      await wait(delay, signal);
      if (signal.aborted) throw error;
      delay = Math.min(delay * 2, maxMs);
    }
  }
}

/**
 * What start-up has opened so far, each with its close. If start-up fails halfway (a failure
 * that cannot heal, or a stop requested during it), `closeAll` closes them, newest first, so a
 * caller that retries start-up, or a test, is not left with a listening port, a Redis client or
 * a file watcher.
 */
export class OpenedResources {
  readonly #opened: Array<{ name: string; close: () => Promise<unknown> }> = [];
  readonly #logger: Pick<Logger, 'warn'>;

  constructor(logger: Pick<Logger, 'warn'>) {
    this.#logger = logger;
  }

  add(name: string, close: () => Promise<unknown>): void {
    this.#opened.push({ name, close });
  }

  get names(): string[] {
    return this.#opened.map((r) => r.name);
  }

  /** Closes everything, newest first; one failing close does not stop the others. */
  async closeAll(): Promise<void> {
    while (this.#opened.length > 0) {
      const resource = this.#opened.pop() as { name: string; close: () => Promise<unknown> };
      try {
        await resource.close();
      } catch (error) {
        this.#logger.warn({ err: error, resource: resource.name }, 'closing after a failed start-up');
      }
    }
  }
}
