import { LeakwatchError } from '@leakwatch/errors';
import { describe, expect, it } from 'vitest';
import {
  FORCED_EXIT_CODE,
  isProcessEntry,
  runServiceProcess,
  type DeadlineTimer,
  type ServiceProcessOptions,
  type SignalSource,
  type StartControl,
} from './process-entry.js';

type Signal = 'SIGTERM' | 'SIGINT';

/** Signals sent by hand; counts the listeners left behind. */
function fakeSignals() {
  const listeners = new Map<Signal, Set<() => void>>([
    ['SIGTERM', new Set()],
    ['SIGINT', new Set()],
  ]);
  const source: SignalSource = {
    on: (signal, listener) => listeners.get(signal)?.add(listener),
    off: (signal, listener) => listeners.get(signal)?.delete(listener),
  };
  return {
    source,
    send: (signal: Signal) => {
      for (const listener of [...(listeners.get(signal) ?? [])]) listener();
    },
    listening: () => [...listeners.values()].reduce((n, set) => n + set.size, 0),
  };
}

/** A deadline that fires only when the test says so. */
function fakeTimer() {
  const armed = new Map<number, { run: () => void; ms: number }>();
  let next = 0;
  const timer: DeadlineTimer = {
    set: (run, ms) => (armed.set(++next, { run, ms }), next),
    clear: (handle) => armed.delete(handle as number),
  };
  return {
    timer,
    armedMs: () => [...armed.values()].map((a) => a.ms),
    fire: () => {
      for (const { run } of [...armed.values()]) run();
    },
  };
}

/** Records every log line as `level: message`. */
function fakeLogger() {
  const lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = [];
  const at =
    (level: string) =>
    (fields: unknown, message?: string): void =>
      void lines.push({ level, fields: fields as Record<string, unknown>, message: message ?? '' });
  return {
    logger: {
      info: at('info'),
      error: at('error'),
      fatal: at('fatal'),
    } as ServiceProcessOptions<never>['logger'],
    lines,
    messages: () => lines.map((l) => `${l.level}: ${l.message}`),
  };
}

/** A service whose close resolves (or not) when the test says so. */
function fakeService() {
  let finishClose: (error?: Error) => void = () => undefined;
  let closes = 0;
  const handle = {
    close: () => {
      closes++;
      return new Promise<void>((resolve, reject) => {
        finishClose = (error) => (error ? reject(error) : resolve());
      });
    },
  };
  return { handle, finishClose: (error?: Error) => finishClose(error), closes: () => closes };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

function run(
  start: (control: StartControl) => Promise<{ close(): Promise<void> }>,
  fakes = { signals: fakeSignals(), timer: fakeTimer(), log: fakeLogger() },
) {
  const exited = runServiceProcess({
    name: 'monitor',
    logger: fakes.log.logger,
    shutdownTimeoutMs: 25_000,
    start,
    startedFields: () => ({ httpPort: 9464 }),
    signals: fakes.signals.source,
    timer: fakes.timer.timer,
  });
  return { exited, ...fakes };
}

describe('runServiceProcess', () => {
  it('starts, logs it, and on SIGTERM drains (close) and exits 0 with nothing left listening', async () => {
    const service = fakeService();
    const { exited, signals, timer, log } = run(() => Promise.resolve(service.handle));
    await tick();
    expect(log.lines[0]).toMatchObject({
      level: 'info',
      message: 'monitor started',
      fields: { httpPort: 9464 },
    });
    signals.send('SIGTERM');
    expect(service.closes()).toBe(1);
    expect(timer.armedMs()).toEqual([25_000]);
    service.finishClose();
    expect(await exited).toBe(0);
    expect(log.lines[1]).toMatchObject({ message: 'shutdown requested', fields: { reason: 'SIGTERM' } });
    expect(signals.listening()).toBe(0);
    expect(timer.armedMs()).toEqual([]);
  });

  it('a second signal while draining forces the exit at once, with a non-zero code', async () => {
    const service = fakeService();
    const { exited, signals, log } = run(() => Promise.resolve(service.handle));
    await tick();
    signals.send('SIGINT');
    signals.send('SIGINT');
    expect(await exited).toBe(FORCED_EXIT_CODE.SIGINT);
    expect(FORCED_EXIT_CODE.SIGINT).toBe(130);
    expect(service.closes()).toBe(1);
    expect(log.messages()).toContain('error: second signal: exiting without waiting for the drain');
  });

  it('a drain that passes the deadline exits 1 and says so', async () => {
    const service = fakeService();
    const { exited, signals, timer, log } = run(() => Promise.resolve(service.handle));
    await tick();
    signals.send('SIGTERM');
    timer.fire();
    expect(await exited).toBe(1);
    expect(log.lines.at(-1)).toMatchObject({
      level: 'error',
      message: 'shutdown deadline passed; exiting',
      fields: { timeoutMs: 25_000 },
    });
    expect(signals.listening()).toBe(0);
  });

  it('a close that throws exits 1 with the error logged', async () => {
    const service = fakeService();
    const { exited, signals, log } = run(() => Promise.resolve(service.handle));
    await tick();
    signals.send('SIGTERM');
    service.finishClose(new Error('producer flush failed'));
    expect(await exited).toBe(1);
    expect(log.messages()).toContain('error: error during shutdown');
  });

  it('a start-up failure exits 1 with its reason in the log line', async () => {
    const refused = new LeakwatchError('CONFIG_INVALID', 'eviction policy allkeys-lru is refused');
    const { exited, log, signals } = run(() => Promise.reject(refused));
    expect(await exited).toBe(1);
    expect(log.lines).toEqual([
      {
        level: 'fatal',
        fields: { err: refused },
        message: 'monitor failed to start: CONFIG_INVALID: eviction policy allkeys-lru is refused',
      },
    ]);
    expect(signals.listening()).toBe(0);
  });

  it('a signal during start-up aborts it; a start-up that then fails exits 0', async () => {
    let control: StartControl | undefined;
    const { exited, signals } = run(
      (c) =>
        new Promise((_, reject) => {
          control = c;
          c.signal.addEventListener('abort', () => reject(new LeakwatchError('REDIS_UNAVAILABLE', 'down')));
        }),
    );
    signals.send('SIGTERM');
    expect(control?.signal.aborted).toBe(true);
    expect(await exited).toBe(0);
  });

  it('a signal during start-up closes what then starts, and exits 0', async () => {
    const service = fakeService();
    let started: (handle: typeof service.handle) => void = () => undefined;
    const { exited, signals, log } = run(() => new Promise((resolve) => (started = resolve)));
    signals.send('SIGTERM');
    started(service.handle);
    await tick();
    expect(service.closes()).toBe(1);
    service.finishClose();
    expect(await exited).toBe(0);
    expect(log.messages()).not.toContain('info: monitor started');
  });

  it('the deadline holds while a start-up step hangs after a signal', async () => {
    const { exited, signals, timer } = run(() => new Promise(() => undefined));
    signals.send('SIGTERM');
    timer.fire();
    expect(await exited).toBe(1);
  });

  it('a part that crashes for good drains and exits 1', async () => {
    const service = fakeService();
    let control: StartControl | undefined;
    const { exited, log } = run((c) => ((control = c), Promise.resolve(service.handle)));
    await tick();
    control?.fatal('the consumer crashed and will not restart');
    expect(service.closes()).toBe(1);
    service.finishClose();
    expect(await exited).toBe(1);
    expect(log.lines.at(-1)).toMatchObject({
      message: 'shutdown requested',
      fields: { reason: 'the consumer crashed and will not restart' },
    });
  });
});

describe('isProcessEntry', () => {
  it('is true only for the script node was started with', () => {
    expect(isProcessEntry(import.meta.url, new URL(import.meta.url).pathname)).toBe(true);
    expect(isProcessEntry(import.meta.url, '/nonexistent/main.js')).toBe(false);
    expect(isProcessEntry(import.meta.url, undefined)).toBe(false);
  });
});
