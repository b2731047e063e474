import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CsvTokenizer, type CsvTokenizerOptions } from './csv-tokenizer.js';

interface Rec {
  fields: string[];
  line: number;
  problem: string | null;
}

function tokenize(chunks: string[], options?: CsvTokenizerOptions): Rec[] {
  const records: Rec[] = [];
  const tokenizer = new CsvTokenizer(
    (fields, line, problem) => records.push({ fields, line, problem }),
    options,
  );
  for (const chunk of chunks) tokenizer.write(chunk);
  tokenizer.end();
  return records;
}

/** Splits text into chunks of random sizes, to cross every boundary. */
function randomChunks(text: string, random: () => number): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < text.length;) {
    const size = 1 + Math.floor(random() * 40);
    chunks.push(text.slice(i, i + size));
    i += size;
  }
  return chunks;
}

function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x80000000;
  };
}

describe('CsvTokenizer', () => {
  it('reads the same records as csv-parse on generated files, in any chunking', () => {
    const alphabet = ['a', 'b', '1', ' ', ',', '"', '\n', 'é', '4111'];
    for (let seed = 1; seed <= 300; seed++) {
      const random = seeded(seed);
      const rows: string[] = [];
      const rowCount = 1 + Math.floor(random() * 8);
      for (let r = 0; r < rowCount; r++) {
        const fields: string[] = [];
        const fieldCount = 1 + Math.floor(random() * 4);
        for (let f = 0; f < fieldCount; f++) {
          let value = '';
          const length = Math.floor(random() * 6);
          for (let c = 0; c < length; c++) value += alphabet[Math.floor(random() * alphabet.length)];
          // Quote whatever needs it, and sometimes what does not.
          const needs = /[",\n]/.test(value) || value.startsWith(' ');
          fields.push(needs || random() < 0.2 ? `"${value.replace(/"/g, '""')}"` : value);
        }
        rows.push(fields.join(','));
      }
      const eol = random() < 0.5 ? '\n' : '\r\n';
      const text = rows.map((row) => row.replace(/\n/g, eol)).join(eol) + (random() < 0.5 ? eol : '');
      const expected = parse(text, { relax_column_count: true, skip_empty_lines: false });
      const actual = tokenize(randomChunks(text, random), { delimiter: ',' });
      // csv-parse keeps a line break inside quotes as written; ours reads any break as \n.
      // A line holding only "" is one empty field here and no record there; readers skip both.
      const normalize = (records: string[][]) =>
        records
          .map((fields) => fields.map((f) => f.replace(/\r\n/g, '\n')))
          .filter((fields) => !(fields.length === 1 && /^[ \t]*$/.test(fields[0] ?? '')));
      expect(normalize(actual.map((r) => r.fields)), `seed ${seed}: ${JSON.stringify(text)}`).toEqual(
        normalize(expected),
      );
      expect(actual.every((r) => r.problem === null)).toBe(true);
    }
  });

  it('numbers records by the line they start on, across quoted line breaks', () => {
    const text = 'pan,name\n4111,"Jane\nDoe"\n\n5555,"x"\r\n"6011\n",y\n';
    expect(tokenize([text])).toEqual([
      { fields: ['pan', 'name'], line: 1, problem: null },
      { fields: ['4111', 'Jane\nDoe'], line: 2, problem: null },
      { fields: ['5555', 'x'], line: 5, problem: null },
      { fields: ['6011\n', 'y'], line: 6, problem: null },
    ]);
  });

  it('splits CRLF, LF and CR-only files alike, chunked anywhere', () => {
    const lf = 'a,b\n1,2\n3,4\n';
    for (const text of [lf, lf.replace(/\n/g, '\r\n'), lf.replace(/\n/g, '\r')]) {
      for (let cut = 0; cut <= text.length; cut++) {
        const records = tokenize([text.slice(0, cut), text.slice(cut)]);
        expect(records.map((r) => [r.line, ...r.fields])).toEqual([
          [1, 'a', 'b'],
          [2, '1', '2'],
          [3, '3', '4'],
        ]);
      }
    }
  });

  it('detects ; and tab delimiters from the first line', () => {
    expect(tokenize(['pan;exp\n4111;12/27\n']).map((r) => r.fields)).toEqual([
      ['pan', 'exp'],
      ['4111', '12/27'],
    ]);
    expect(tokenize(['pan\texp\n"4111"\t12/27\n']).map((r) => r.fields)[1]).toEqual(['4111', '12/27']);
    expect(tokenize(['pan\n4111\n']).map((r) => r.fields)).toEqual([['pan'], ['4111']]);
  });

  it('keeps a quote inside an unquoted field, allows spaces around a quoted one', () => {
    expect(tokenize(['a,b"c,d\n']).map((r) => r.fields)).toEqual([['a', 'b"c', 'd']]);
    expect(tokenize(['a,  "b,c"  ,d\n'])).toEqual([{ fields: ['a', 'b,c', 'd'], line: 1, problem: null }]);
  });

  it('marks malformed records: text after a closing quote, a quote left open', () => {
    expect(tokenize(['"ab"cd,e\nok,1\n'])).toEqual([
      { fields: ['abcd', 'e'], line: 1, problem: 'unexpected character after a closing quote' },
      { fields: ['ok', '1'], line: 2, problem: null },
    ]);
    const open = tokenize(['h\nok\n"never closed,\nmore\n']);
    expect(open[1]).toEqual({ fields: ['ok'], line: 2, problem: null });
    expect(open[2]).toMatchObject({
      line: 3,
      problem: 'a quoted field is not closed before the end of the file',
    });
  });

  it('stays within its memory bound on an open quote or an endless line, then reads on', () => {
    const long = 'x'.repeat(200);
    const records = tokenize(['h\n"open\n', `${long}\n`, `${long}\n`, 'ok\n'], { maxRecordChars: 300 });
    expect(records[1]).toMatchObject({
      line: 2,
      problem: expect.stringContaining('longer than 300') as unknown,
    });
    expect(records.at(-1)).toEqual({ fields: ['ok'], line: 5, problem: null });

    const endless = tokenize(['h\n', 'y'.repeat(250), 'y'.repeat(250), 'y\nnext\n'], { maxRecordChars: 300 });
    expect(endless.map((r) => [r.line, r.problem === null ? r.fields[0] : 'overlong'])).toEqual([
      [1, 'h'],
      [2, 'overlong'],
      [3, 'next'],
    ]);
  });
});
