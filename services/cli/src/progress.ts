/**
 * Progress for long jobs: a live line on a terminal (redrawn at most 10 times a second), a
 * plain line every few seconds otherwise (CI logs), and always a summary at the end.
 */
export class Progress {
  readonly #stream: NodeJS.WriteStream;
  readonly #label: string;
  readonly #tty: boolean;
  readonly #started = Date.now();
  #lastDraw = 0;
  #lastPlain = Date.now();

  constructor(label: string, stream: NodeJS.WriteStream = process.stderr) {
    this.#label = label;
    this.#stream = stream;
    this.#tty = stream.isTTY === true;
  }

  /** `fraction` in 0..1 when the total is known, else undefined. */
  update(text: string, fraction?: number): void {
    const now = Date.now();
    if (this.#tty) {
      if (now - this.#lastDraw < 100) return;
      this.#lastDraw = now;
      const width = 24;
      const bar =
        fraction === undefined
          ? ''
          : `[${'#'.repeat(Math.round(Math.min(1, fraction) * width)).padEnd(width, '.')}] ${(fraction * 100).toFixed(0).padStart(3)}% `;
      this.#stream.write(`\r\x1b[2K${this.#label} ${bar}${text}`);
    } else if (now - this.#lastPlain >= 5000) {
      this.#lastPlain = now;
      const pct = fraction === undefined ? '' : ` ${(fraction * 100).toFixed(0)}%`;
      this.#stream.write(`${this.#label}${pct} ${text}\n`);
    }
  }

  /** Clears the live line; the caller prints the summary. */
  done(): number {
    if (this.#tty) this.#stream.write('\r\x1b[2K');
    return (Date.now() - this.#started) / 1000;
  }
}

export function formatRate(count: number, seconds: number): string {
  return `${Math.round(count / Math.max(seconds, 0.001)).toLocaleString('en-US')}/s`;
}
