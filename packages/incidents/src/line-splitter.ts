const LF = '\n';
const CR = '\r';

export interface LineSink {
  /** A complete line: text[start, end), line break excluded, numbered from 1. */
  line(text: string, start: number, end: number, lineNumber: number): void;
  /** A line longer than the limit: its content is dropped (memory stays flat) and reported. */
  overlong(lineNumber: number): void;
}

/**
 * Cuts a stream of text into numbered lines without holding more than one line (bounded by
 * `maxLineChars`) and one chunk. Line breaks: LF, CRLF, or CR alone (old Mac exports), decided
 * by the first break seen. A last line without a break counts too.
 */
export class LineSplitter {
  readonly #sink: LineSink;
  readonly #maxLineChars: number;
  #carry = '';
  #lineNumber = 0;
  #break: typeof LF | typeof CR | undefined;
  /** Dropping the rest of an overlong line until its break. */
  #skipping = false;

  constructor(sink: LineSink, maxLineChars: number) {
    this.#sink = sink;
    this.#maxLineChars = maxLineChars;
  }

  /** Lines completed so far. */
  get lineNumber(): number {
    return this.#lineNumber;
  }

  write(chunk: string): void {
    let text = this.#carry.length > 0 ? this.#carry + chunk : chunk;
    this.#carry = '';
    if (this.#break === undefined) {
      const brk = detectBreak(text);
      if (brk === 'undecided') {
        this.#keep(text);
        return;
      }
      this.#break = brk;
    }
    const brk = this.#break ?? LF;
    let pos = 0;
    if (this.#skipping) {
      const at = text.indexOf(brk);
      if (at < 0) return;
      this.#skipping = false;
      pos = at + 1;
    }
    for (;;) {
      const at = text.indexOf(brk, pos);
      if (at < 0) break;
      let end = at;
      if (brk === LF && end > pos && text.charCodeAt(end - 1) === 13) end--;
      this.#lineNumber++;
      if (end - pos > this.#maxLineChars) this.#sink.overlong(this.#lineNumber);
      else this.#sink.line(text, pos, end, this.#lineNumber);
      pos = at + 1;
    }
    text = pos === 0 ? text : text.slice(pos);
    this.#keep(text);
  }

  /** Flushes the last line (one without a line break). */
  end(): void {
    if (this.#skipping) {
      this.#skipping = false;
      return;
    }
    const text = this.#carry;
    this.#carry = '';
    if (text.length === 0) return;
    let end = text.length;
    if (text.charCodeAt(end - 1) === 13) end--;
    this.#lineNumber++;
    this.#sink.line(text, 0, end, this.#lineNumber);
  }

  #keep(text: string): void {
    if (text.length > this.#maxLineChars) {
      this.#lineNumber++;
      this.#sink.overlong(this.#lineNumber);
      this.#skipping = true;
      return;
    }
    this.#carry = text;
  }
}

/** LF (also for CRLF), CR alone, or undecided (no break yet, or a CR at the very end). */
function detectBreak(text: string): typeof LF | typeof CR | 'undecided' {
  const lf = text.indexOf(LF);
  const cr = text.indexOf(CR);
  if (cr < 0 || (lf >= 0 && lf < cr)) return lf < 0 ? 'undecided' : LF;
  if (cr === text.length - 1) return 'undecided';
  return text.charCodeAt(cr + 1) === 10 ? LF : CR;
}
