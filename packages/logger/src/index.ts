import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths censored in every log line. Card numbers and security codes must never be logged;
 * secrets and authorization headers neither. Wildcards cover one level of nesting; code that
 * logs deeper structures logs masked forms (BIN, last 4, fingerprint) in the first place.
 */
export const REDACTED_PATHS: readonly string[] = [
  'pan',
  'cvv',
  'cvc',
  'securityCode',
  'card.pan',
  'card.cvv',
  '*.pan',
  '*.cvv',
  '*.cvc',
  '*.securityCode',
  '*.card.pan',
  'password',
  'secret',
  'secrets',
  'key',
  '*.password',
  '*.secret',
  '*.secrets',
  '*.key',
  'headers.authorization',
  'headers["leakwatch-signature"]',
  '*.headers.authorization',
  'req.headers.authorization',
];

export interface RootLoggerOptions {
  name: string;
  level?: LoggerOptions['level'];
  /** Defaults to stdout; tests pass a stream to read what was logged. */
  destination?: DestinationStream;
  base?: Record<string, unknown>;
}

/** One root logger per process; packages receive it (or a child), never make their own. */
export function createRootLogger(options: RootLoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      base: { service: options.name, pid: process.pid, ...options.base },
      redact: { paths: [...REDACTED_PATHS], censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}

/** A logger that writes nothing, for library callers that do not care. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
