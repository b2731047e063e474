import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeError } from '@leakwatch/errors';
import type { Logger } from '@leakwatch/logger';

/** What `start` gives back: something that drains and closes. */
export interface Closable {
  close(): Promise<void>;
}

/** Handed to `start`: the stop signal, and a way to stop the process from inside (non-zero). */
export interface StartControl {
  /** Aborts when a stop is requested; start-up retries give up on it. */
  signal: AbortSignal;
  /** A part crashed for good: drain and exit 1 so that the supervisor restarts the process. */
  fatal: (reason: string) => void;
}

type StopSignal = 'SIGTERM' | 'SIGINT';

/** The process's signals (a fake in unit tests). */
export interface SignalSource {
  on(signal: StopSignal, listener: () => void): unknown;
  off(signal: StopSignal, listener: () => void): unknown;
}

/** The deadline's clock (a fake in unit tests). */
export interface DeadlineTimer {
  set(run: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface ServiceProcessOptions<H extends Closable> {
  /** Log name: "<name> started", "<name> failed to start: …". */
  name: string;
  logger: Pick<Logger, 'info' | 'error' | 'fatal'>;
  /** From the first stop request to exit; past it the process exits 1 without waiting. */
  shutdownTimeoutMs: number;
  start(control: StartControl): Promise<H>;
  /** Fields of the "<name> started" line (ports). */
  startedFields?(handle: H): Record<string, unknown>;
  signals?: SignalSource;
  timer?: DeadlineTimer;
}

/** Exit code of a second SIGTERM/SIGINT: what a shell reports for a process the signal killed. */
export const FORCED_EXIT_CODE: Readonly<Record<StopSignal, number>> = { SIGINT: 130, SIGTERM: 143 };

const realTimer: DeadlineTimer = {
  set(run, ms) {
    const handle = setTimeout(run, ms);
    handle.unref();
    return handle;
  },
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * The process entry of every service, written once: start; on the first SIGTERM/SIGINT abort
 * start-up or drain (`close`) and exit 0; on a fatal failure drain and exit 1. Exit codes:
 * - 0: stopped as asked (also when the signal came during start-up);
 * - 1: start-up failed (logged with its reason), a part crashed for good, `close` threw, or the
 *   drain passed `shutdownTimeoutMs` (also while a start-up step hangs);
 * - 130 / 143: a second SIGINT / SIGTERM while draining: exit at once, without waiting.
 * Nothing is lost by exiting early: uncommitted offsets are read again by the next process.
 */
export async function runServiceProcess<H extends Closable>(
  options: ServiceProcessOptions<H>,
): Promise<number> {
  const { name, logger, shutdownTimeoutMs } = options;
  const signals = options.signals ?? process;
  const timer = options.timer ?? realTimer;
  const abort = new AbortController();
  let exit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  let handle: H | undefined;
  let stopCode: number | undefined;
  let deadline: unknown;

  const close = (started: H) =>
    started.close().then(
      () => exit(stopCode ?? 0),
      (error: unknown) => {
        logger.error({ err: error }, 'error during shutdown');
        exit(1);
      },
    );
  const stop = (code: number, reason: string) => {
    if (stopCode !== undefined) return;
    stopCode = code;
    logger.info({ reason }, 'shutdown requested');
    abort.abort();
    deadline = timer.set(() => {
      logger.error({ timeoutMs: shutdownTimeoutMs }, 'shutdown deadline passed; exiting');
      exit(1);
    }, shutdownTimeoutMs);
    // during start-up there is nothing to close yet: start-up sees the abort and we close after it
    if (handle) void close(handle);
  };
  const onSignal = (signal: StopSignal) => {
    if (stopCode === undefined) return stop(0, signal);
    logger.error({ signal }, 'second signal: exiting without waiting for the drain');
    exit(FORCED_EXIT_CODE[signal]);
  };
  const onTerm = () => onSignal('SIGTERM');
  const onInt = () => onSignal('SIGINT');
  signals.on('SIGTERM', onTerm);
  signals.on('SIGINT', onInt);

  options.start({ signal: abort.signal, fatal: (reason) => stop(1, reason) }).then(
    (started) => {
      handle = started;
      if (stopCode !== undefined) {
        // a stop came during start-up: close what started, then exit as asked
        void close(started);
        return;
      }
      logger.info(options.startedFields?.(started) ?? {}, `${name} started`);
    },
    (error: unknown) => {
      logger.fatal({ err: error }, `${name} failed to start: ${describeError(error)}`);
      exit(stopCode ?? 1);
    },
  );
  try {
    return await exited;
  } finally {
    if (deadline !== undefined) timer.clear(deadline);
    signals.off('SIGTERM', onTerm);
    signals.off('SIGINT', onInt);
  }
}

/** True when `moduleUrl` is the script node was started with (`node services/x/dist/main.js`). */
export function isProcessEntry(moduleUrl: string, script: string | undefined = process.argv[1]): boolean {
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/**
 * The production entry point: a supervisor or container runs the service's main.js directly, so
 * SIGTERM reaches this process (no package manager in between). Runs `run` when `moduleUrl` is
 * that script, then exits with its code without waiting on stray sockets of half-started
 * clients. A failure before start (bad configuration) prints one line and exits 1.
 */
export function runIfProcessEntry(moduleUrl: string, name: string, run: () => Promise<number>): void {
  if (!isProcessEntry(moduleUrl)) return;
  run().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`leakwatch ${name}: ${describeError(error)}\n`);
      process.exit(1);
    },
  );
}
