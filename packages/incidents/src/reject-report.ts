import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { LeakwatchError } from '@leakwatch/errors';
import type { CardReject } from './rows.js';

const HEADER = 'line,reason,message,masked\n';

/** A masked form shows digits, `*` and `…` only, and at most 6 + 4 digits. */
const MASKED = /^[0-9*…]*$/;
const MAX_MASKED_DIGITS = 10;

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * Writes rejected rows to a CSV file: `line,reason,message,masked`. Only those four fields are
 * written, and a masked form that could show more than 6 + 4 digits (a bug upstream) is refused
 * rather than written. Writes wait when the file falls behind; `close()` is idempotent.
 */
export class RejectReport {
  readonly #out: Writable;
  readonly #failure: Promise<never>;
  #error: unknown;
  #closing: Promise<void> | undefined;
  #count = 0;

  /** Writes the report to `destination` (a file stream, or any Writable in tests). */
  constructor(destination: Writable) {
    this.#out = destination;
    this.#failure = new Promise<never>((_resolve, rejectPromise) => {
      destination.once('error', (error) => {
        this.#error = error;
        rejectPromise(error);
      });
    });
    this.#failure.catch(() => undefined); // observed through write() and close()
    destination.write(HEADER);
  }

  /** Creates (or truncates) the report file at `path`. */
  static async create(path: string): Promise<RejectReport> {
    const stream = createWriteStream(path, { flags: 'w' });
    try {
      await once(stream, 'open');
    } catch (error) {
      throw new LeakwatchError(
        'FILE_UNWRITABLE',
        `cannot create reject report ${path}: ${ioMessage(error)}`,
        {
          cause: error,
        },
      );
    }
    return new RejectReport(stream);
  }

  /** Rejects written so far. */
  get count(): number {
    return this.#count;
  }

  /** Appends one reject; resolves at once unless the file is behind. */
  async write(row: CardReject): Promise<void> {
    this.#throwIfFailed();
    if (this.#closing !== undefined)
      throw new LeakwatchError('INTERNAL', 'reject report written after close');
    if (!isSafeMasked(row.masked) || /\d{12}/.test(row.message)) {
      throw new LeakwatchError(
        'INTERNAL',
        `reject on line ${row.line} carries more of a card number than allowed`,
      );
    }
    const line = `${row.line},${row.reason},${csvField(row.message)},${csvField(row.masked)}\n`;
    this.#count++;
    if (!this.#out.write(line))
      await Promise.race([once(this.#out, 'drain'), this.#failure]).catch(this.#wrap);
  }

  /** Flushes and closes the file; the same promise on every call. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#throwIfFailed();
      this.#out.end();
      await Promise.race([once(this.#out, 'finish'), this.#failure]).catch(this.#wrap);
    })();
    return this.#closing;
  }

  #throwIfFailed(): void {
    if (this.#error !== undefined) this.#wrap(this.#error);
  }

  readonly #wrap = (error: unknown): never => {
    throw new LeakwatchError('FILE_UNWRITABLE', `cannot write reject report: ${ioMessage(error)}`, {
      cause: error,
    });
  };
}

function isSafeMasked(masked: string): boolean {
  if (!MASKED.test(masked)) return false;
  let digits = 0;
  for (let i = 0; i < masked.length; i++) {
    const c = masked.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  return digits <= MAX_MASKED_DIGITS;
}

function ioMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
