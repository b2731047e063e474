import { createReadStream, type ReadStream } from 'node:fs';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Keyring } from '@leakwatch/card';
import { LeakwatchError, isLeakwatchError } from '@leakwatch/errors';
import { CsvTokenizer } from './csv-tokenizer.js';
import { LineSplitter, type LineSink } from './line-splitter.js';
import {
  REJECT_REASONS,
  reject,
  toRow,
  type CardsFileRow,
  type RejectReason,
  type RowCells,
} from './rows.js';

export type CardsFormat = 'csv' | 'ndjson';

/** Where a cards file comes from: a path, or a stream of bytes or text. */
export type CardsInput = string | Readable | AsyncIterable<Uint8Array | string>;

export interface ReadCardsOptions {
  /** Fingerprints PAN rows with its current key; pre-hashed rows must name one of its keys. */
  keyring: Keyring;
  /** Overrides detection (extension .csv, .ndjson or .jsonl, else the first character). */
  format?: CardsFormat | undefined;
  /** Name used for detection and messages when the input is a stream. */
  fileName?: string | undefined;
  /** CSV delimiter; detected from the header (`,` `;` or tab) by default. */
  delimiter?: string | undefined;
  /** Bytes read at a time from a path; one batch is made per chunk. Default 256 KiB. */
  chunkBytes?: number | undefined;
}

/** Counts so far; final once iteration has ended. */
export interface CardsReadStats {
  format: CardsFormat | undefined;
  /** Physical lines read, header and blank lines included. */
  lines: number;
  /** Data rows: cards plus rejects (header and blank lines excluded). */
  rows: number;
  cards: number;
  rejected: number;
  byReason: Record<RejectReason, number>;
}

/** Longest line (CSV record) read; a card row is well under 1 KiB. */
const MAX_LINE_CHARS = 65_536;

type Role = keyof RowCells;

const COLUMN_ROLES: Record<string, Role> = {
  pan: 'pan',
  card_number: 'pan',
  expiry: 'expiry',
  exp: 'expiry',
  fingerprint: 'fingerprint',
  key_id: 'keyId',
  bin: 'bin',
  last4: 'last4',
};

function emptyCells(): RowCells {
  return { pan: '', expiry: '', fingerprint: '', keyId: '', bin: '', last4: '' };
}

/**
 * Streams the rows of a cards file (CSV with a header, or NDJSON): each row becomes a card
 * (fingerprinted here, so the clear PAN never leaves the package) or a reject with its line, reason
 * and a masked form. Memory stays flat at any file size. Columns other than the recognised ones
 * (a name, a CVV) are never read into the output. Duplicated rows are yielded as they come:
 * dedup belongs to the store, whose set writes count them exactly.
 *
 * Iterate the reader for rows, or `batches()` for one array per chunk read (for pipelined writes).
 * A file with no card column fails with CARDS_FILE_INVALID before any row is yielded; a file that
 * cannot be read fails with FILE_UNREADABLE. A reader can be iterated once.
 */
export class CardsReader implements AsyncIterable<CardsFileRow> {
  readonly stats: CardsReadStats;
  readonly #input: CardsInput;
  readonly #options: ReadCardsOptions;
  #started = false;

  constructor(input: CardsInput, options: ReadCardsOptions) {
    this.#input = input;
    this.#options = options;
    this.stats = {
      format: undefined,
      lines: 0,
      rows: 0,
      cards: 0,
      rejected: 0,
      byReason: Object.fromEntries(Object.keys(REJECT_REASONS).map((r) => [r, 0])) as Record<
        RejectReason,
        number
      >,
    };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<CardsFileRow> {
    for await (const batch of this.batches()) yield* batch;
  }

  /** The rows in arrays of one input chunk each (never empty), for batched writes. */
  async *batches(): AsyncGenerator<CardsFileRow[], void, undefined> {
    if (this.#started) throw new LeakwatchError('INTERNAL', 'a cards file can be read only once');
    this.#started = true;
    const name = this.#name();
    let parser: RowParser | undefined;
    let pending = '';
    const decoder = new StringDecoder('utf8');
    let first = true;
    try {
      for await (const chunk of this.#open()) {
        let text: string;
        if (typeof chunk === 'string') text = chunk;
        else {
          if (first) refuseUtf16(chunk, name);
          text = decoder.write(
            Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
          );
        }
        if (first && text.length > 0) {
          first = false;
          if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        }
        if (parser === undefined) {
          pending += text;
          const format = this.#options.format ?? formatFromName(name) ?? formatFromContent(pending, name);
          if (format === undefined) {
            if (pending.length > MAX_LINE_CHARS)
              throw invalid(name, 'starts with more than 64 KiB of blank space');
            continue;
          }
          parser = this.#parser(format, name);
          text = pending;
          pending = '';
        }
        const out: CardsFileRow[] = [];
        parser.write(text, out);
        this.stats.lines = parser.lines;
        if (out.length > 0) yield this.#count(out);
      }
      const tail = decoder.end();
      parser ??= this.#parser(
        this.#options.format ?? formatFromName(name) ?? formatFromContent(pending + tail, name) ?? 'csv',
        name,
      );
      const out: CardsFileRow[] = [];
      if (pending.length + tail.length > 0) parser.write(pending + tail, out);
      parser.end(out);
      if (out.length > 0) yield this.#count(out);
    } catch (error) {
      if (isLeakwatchError(error) || !isIoError(error)) throw error;
      throw new LeakwatchError(
        'FILE_UNREADABLE',
        `cannot read cards file ${name}: ${describeIoError(error)}`,
        {
          cause: error,
        },
      );
    } finally {
      this.stats.lines = parser?.lines ?? this.stats.lines;
    }
  }

  #count(rows: CardsFileRow[]): CardsFileRow[] {
    const stats = this.stats;
    for (const row of rows) {
      if (row.kind === 'card') stats.cards++;
      else {
        stats.rejected++;
        stats.byReason[row.reason]++;
      }
    }
    stats.rows += rows.length;
    return rows;
  }

  #parser(format: CardsFormat, name: string): RowParser {
    this.stats.format = format;
    const { keyring, delimiter } = this.#options;
    return format === 'csv' ? new CsvRows(keyring, name, delimiter) : new NdjsonRows(keyring, name);
  }

  #name(): string {
    if (typeof this.#input === 'string') return this.#input;
    if (this.#options.fileName !== undefined) return this.#options.fileName;
    const path = (this.#input as Partial<ReadStream>).path;
    return typeof path === 'string' ? path : '(stream)';
  }

  #open(): AsyncIterable<Uint8Array | string> {
    if (typeof this.#input !== 'string') return this.#input;
    return createReadStream(this.#input, { highWaterMark: this.#options.chunkBytes ?? 256 * 1024 });
  }
}

/** Reads a cards file; see {@link CardsReader}. */
export function readCards(input: CardsInput, options: ReadCardsOptions): CardsReader {
  return new CardsReader(input, options);
}

interface RowParser {
  readonly lines: number;
  write(text: string, out: CardsFileRow[]): void;
  end(out: CardsFileRow[]): void;
}

class CsvRows implements RowParser {
  readonly #keyring: Keyring;
  readonly #name: string;
  readonly #tokenizer: CsvTokenizer;
  #columns: Partial<Record<Role, number>> | undefined;
  #out: CardsFileRow[] = [];

  constructor(keyring: Keyring, name: string, delimiter: string | undefined) {
    this.#keyring = keyring;
    this.#name = name;
    this.#tokenizer = new CsvTokenizer((fields, line, problem) => this.#record(fields, line, problem), {
      delimiter,
      maxRecordChars: MAX_LINE_CHARS,
    });
  }

  get lines(): number {
    return this.#tokenizer.lines;
  }

  write(text: string, out: CardsFileRow[]): void {
    this.#out = out;
    this.#tokenizer.write(text);
  }

  end(out: CardsFileRow[]): void {
    this.#out = out;
    this.#tokenizer.end();
    if (this.#columns === undefined) throw invalid(this.#name, 'is empty: expected a header line');
  }

  #record(fields: string[], line: number, problem: string | null): void {
    const columns = this.#columns;
    if (columns === undefined) {
      if (problem !== null) throw invalid(this.#name, `has an unreadable header on line ${line}: ${problem}`);
      this.#columns = headerColumns(fields, this.#name, line);
      return;
    }
    if (problem !== null) {
      this.#out.push(reject(line, 'MALFORMED_ROW', '', problem));
      return;
    }
    if (fields.every(isBlank)) return; // a line of delimiters only
    const cells = emptyCells();
    for (const role in columns) {
      const index = columns[role as Role];
      if (index !== undefined) cells[role as Role] = fields[index] ?? '';
    }
    this.#out.push(toRow(this.#keyring, line, cells));
  }
}

function headerColumns(fields: string[], name: string, line: number): Partial<Record<Role, number>> {
  const columns: Partial<Record<Role, number>> = {};
  const problems: string[] = [];
  fields.forEach((raw, index) => {
    const column = raw.trim().toLowerCase();
    const role = COLUMN_ROLES[column];
    if (role === undefined) return;
    const earlier = columns[role];
    if (earlier !== undefined) {
      // Both names are from the known list (matched above), never free cell content.
      const first = (fields[earlier] ?? '').trim().toLowerCase();
      problems.push(
        `columns "${first}" and "${column}" (${earlier + 1} and ${index + 1}) both give the ${role === 'pan' ? 'card number' : role}`,
      );
    }
    columns[role] = index;
  });
  if (columns.pan === undefined && columns.fingerprint === undefined) {
    problems.push(
      `has no card column: expected pan (or card_number), or fingerprint with key_id; header on line ${line} has ${describeColumns(fields)}`,
    );
    if (looksLikeData(fields)) {
      problems.push(
        `line ${line} looks like card data, not a header: a CSV cards file starts with a header line`,
      );
    }
  }
  if (columns.fingerprint !== undefined && columns.keyId === undefined) {
    problems.push('has a fingerprint column but no key_id column');
  }
  if (problems.length > 0) throw invalid(name, problems.join('; '));
  return columns;
}

/**
 * What a header line holds, for a message: how many columns and which known ones, never a cell's
 * text. A file with no header has card data on its first line (a PAN written with spaces or
 * dashes, a CVV, a name), and nothing can tell such a line from column names with certainty.
 */
function describeColumns(fields: string[]): string {
  const known = fields.map((f) => f.trim().toLowerCase()).filter((f) => COLUMN_ROLES[f] !== undefined);
  const count = `${fields.length} column${fields.length === 1 ? '' : 's'}`;
  return known.length === 0 ? `${count}, none of them known` : `${count}, known: ${known.join(', ')}`;
}

/** True when some cell holds a digit run (spaces and dashes allowed) as long as a card number's shortest. */
function looksLikeData(fields: string[]): boolean {
  return fields.some((f) => (/\d[\d -]*\d/.exec(f)?.[0] ?? '').replace(/\D/g, '').length >= 12);
}

class NdjsonRows implements RowParser, LineSink {
  readonly #keyring: Keyring;
  readonly #name: string;
  readonly #lines: LineSplitter;
  #checkedFirst = false;
  /** Whether the last object read had a pan, card_number or fingerprint field (even empty). */
  #hadCardField = false;
  #out: CardsFileRow[] = [];

  constructor(keyring: Keyring, name: string) {
    this.#keyring = keyring;
    this.#name = name;
    this.#lines = new LineSplitter(this, MAX_LINE_CHARS);
  }

  get lines(): number {
    return this.#lines.lineNumber;
  }

  write(text: string, out: CardsFileRow[]): void {
    this.#out = out;
    this.#lines.write(text);
  }

  end(out: CardsFileRow[]): void {
    this.#out = out;
    this.#lines.end();
    if (!this.#checkedFirst) throw invalid(this.#name, 'is empty: expected one JSON object per line');
  }

  overlong(lineNumber: number): void {
    if (!this.#checkedFirst)
      throw invalid(this.#name, `line ${lineNumber} is longer than ${MAX_LINE_CHARS} characters`);
    this.#out.push(reject(lineNumber, 'MALFORMED_ROW', '', `line longer than ${MAX_LINE_CHARS} characters`));
  }

  line(text: string, start: number, end: number, lineNumber: number): void {
    const source = text.slice(start, end);
    if (source.trim().length === 0) return;
    this.#hadCardField = false;
    const cells = this.#cells(source);
    if (!this.#checkedFirst) {
      this.#checkedFirst = true;
      if (typeof cells === 'string') throw invalid(this.#name, `line ${lineNumber} ${cells}`);
      if (!this.#hadCardField) {
        throw invalid(
          this.#name,
          `has no card field: the first object (line ${lineNumber}) has neither pan (or card_number) nor fingerprint`,
        );
      }
    }
    if (typeof cells === 'string') {
      this.#out.push(reject(lineNumber, 'MALFORMED_ROW', '', `line ${cells}`));
      return;
    }
    this.#out.push(toRow(this.#keyring, lineNumber, cells));
  }

  /** The recognised fields of one line, or why there are none (a message without the line's content). */
  #cells(source: string): RowCells | string {
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch {
      return 'is not valid JSON';
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'is not a JSON object';
    const cells = emptyCells();
    const seen: Partial<Record<Role, string>> = {};
    for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
      const role = COLUMN_ROLES[key.trim().toLowerCase()];
      if (role === undefined) continue;
      // Keys named in messages are known field names (lower-cased), never values.
      if (seen[role] !== undefined) return `has both "${seen[role]}" and "${key.trim().toLowerCase()}"`;
      seen[role] = key.trim().toLowerCase();
      if (raw === null || raw === undefined) continue;
      if (typeof raw === 'string') cells[role] = raw;
      else if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) cells[role] = String(raw);
      else if (typeof raw === 'number')
        return `has "${seen[role]}" as a number too large to be exact: write it as a string`;
      else return `has "${seen[role]}" that is not a string`;
    }
    this.#hadCardField = seen.pan !== undefined || seen.fingerprint !== undefined;
    return cells;
  }
}

function isBlank(value: string): boolean {
  return value.trim().length === 0;
}

function refuseUtf16(chunk: Uint8Array, name: string): void {
  if (
    chunk.length >= 2 &&
    ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))
  ) {
    throw invalid(name, 'is UTF-16; save it as UTF-8');
  }
}

function formatFromName(name: string): CardsFormat | undefined {
  const ext = extname(name).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  return undefined;
}

/** NDJSON when the first non-blank character opens an object, CSV otherwise; undefined until one is seen. */
function formatFromContent(text: string, name: string): CardsFormat | undefined {
  const match = /\S/.exec(text);
  if (match === null) return undefined;
  if (match[0] === '{') return 'ndjson';
  if (match[0] === '[') throw invalid(name, 'is a JSON array: write one JSON object per line (NDJSON)');
  return 'csv';
}

function invalid(name: string, problem: string): LeakwatchError {
  return new LeakwatchError('CARDS_FILE_INVALID', `cards file ${name} ${problem}`);
}

/** A failure of the file or stream itself (errno-style), as opposed to a bug. */
function isIoError(error: unknown): boolean {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}

function describeIoError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return error instanceof Error ? error.message : String(error);
}
