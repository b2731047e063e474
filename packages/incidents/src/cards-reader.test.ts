import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring } from '@leakwatch/card';
import { LeakwatchError } from '@leakwatch/errors';
import { readCards, type ReadCardsOptions } from './cards-reader.js';
import { RejectReport } from './reject-report.js';
import type { CardRecord, CardReject, CardsFileRow } from './rows.js';

const k1 = Buffer.alloc(32, 1);
const k0 = Buffer.alloc(40, 2);
const keyring = new Keyring([
  { keyId: 'k1', key: k1 },
  { keyId: 'k0', key: k0 },
]);

/** Fingerprint computed independently of the card package. */
function fp(pan: string, key = k1): string {
  return createHmac('sha256', key).update(pan, 'ascii').digest('base64url');
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-cards-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fixture(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function readAll(input: Parameters<typeof readCards>[0], options: Partial<ReadCardsOptions> = {}) {
  const reader = readCards(input, { keyring, ...options });
  const rows: CardsFileRow[] = [];
  for await (const row of reader) rows.push(row);
  return { rows, stats: reader.stats };
}

const cards = (rows: CardsFileRow[]) => rows.filter((r): r is CardRecord => r.kind === 'card');
const rejects = (rows: CardsFileRow[]) => rows.filter((r): r is CardReject => r.kind === 'reject');

const messyCsv = [
  '\uFEFFCard_Number , EXP ,Name,CVV,Notes',
  '4111111111111111,12/27,"Doe, Jane",123,x',
  '4111 1111 1111 1111,12/2027,Jane,123,dup',
  '',
  '5555-5555-5555-4444,2031-02,"Multi',
  'line name",456,',
  '4111111111111112,01/26,Bad Luhn,111,',
  '41111111113,01/26,Short,111,',
  '41111111111111111112,01/26,Long,111,',
  '4111-1111-1111-111X,01/26,Letters,111,',
  '378282246310005,13/25,Bad month,111,',
  '3530111333300000,0929,,,',
  ',,"Only a name",999,',
  '36227206271667',
  ',,,,',
  '6011111111111117,  07/26  ,,,"a ""quoted"" note"',
].join('\r\n');

describe('readCards: CSV', () => {
  it('loads good rows and rejects bad ones with file line numbers, masked', async () => {
    const { rows, stats } = await readAll(await fixture('messy.csv', messyCsv));
    expect(cards(rows).map((c) => [c.line, c.scheme, c.bin, c.last4])).toEqual([
      // shown BINs: at least 6 digits of the card stay hidden (16 digits: 6, 15: 5, 14: 4)
      [2, 'VISA', '411111', '1111'],
      [3, 'VISA', '411111', '1111'],
      [5, 'MASTERCARD', '555555', '4444'],
      [12, 'JCB', '353011', '0000'],
      [14, 'DINERS', '3622', '1667'],
      [16, 'DISCOVER', '601111', '1117'],
    ]);
    expect(rejects(rows).map((r) => [r.line, r.reason, r.masked])).toEqual([
      [7, 'LUHN', '411111******1112'],
      [8, 'INVALID_LENGTH', '*******1113'],
      [9, 'INVALID_LENGTH', '411111**********1112'],
      [10, 'NON_DIGIT', '***********1111'],
      [11, 'EXPIRY_MONTH', '37828******0005'],
      [13, 'MISSING_CARD', ''],
    ]);
    expect(rejects(rows).find((r) => r.line === 8)?.message).toBe(
      'card number has 11 digits; needs 12 to 19',
    );
    expect(rejects(rows).find((r) => r.line === 9)?.message).toBe(
      'card number has 20 digits; needs 12 to 19',
    );
    expect(stats).toMatchObject({ format: 'csv', lines: 16, rows: 12, cards: 6, rejected: 6 });
    expect(stats.byReason).toMatchObject({
      LUHN: 1,
      INVALID_LENGTH: 2,
      NON_DIGIT: 1,
      EXPIRY_MONTH: 1,
      MISSING_CARD: 1,
    });
  });

  it('fingerprints with the current key and tags the expiry, and under every other active key; duplicates come out twice', async () => {
    const { rows } = await readAll(await fixture('messy2.csv', messyCsv));
    const [first, second, third] = cards(rows);
    expect(first).toEqual({
      kind: 'card',
      line: 2,
      fingerprint: fp('4111111111111111'),
      keyId: 'k1',
      bin: '411111',
      last4: '1111',
      scheme: 'VISA',
      expiryTag: keyring.expiryTag(fp('4111111111111111'), '2027-12', 'k1'),
      source: 'pan',
      otherKeys: [
        {
          keyId: 'k0',
          fingerprint: fp('4111111111111111', k0),
          expiryTag: keyring.expiryTag(fp('4111111111111111', k0), '2027-12', 'k0'),
        },
      ],
    });
    expect(second?.fingerprint).toBe(first?.fingerprint);
    expect(second?.expiryTag).toBe(first?.expiryTag);
    expect(third?.expiryTag).toBe(keyring.expiryTag(fp('5555555555554444'), '2031-02', 'k1'));
    expect(cards(rows).find((c) => c.line === 14)?.expiryTag).toBeNull();
    expect(cards(rows).find((c) => c.line === 16)?.expiryTag).toBe(
      keyring.expiryTag(fp('6011111111111117'), '2026-07', 'k1'),
    );
  });

  it('never lets a clear card number, name, CVV or other column out', async () => {
    const { rows } = await readAll(await fixture('messy3.csv', messyCsv));
    const out = JSON.stringify(rows);
    for (const secret of [
      '4111111111111111',
      '5555555555554444',
      '378282246310005',
      '36227206271667',
      'Jane',
      'Multi',
      'quoted',
      'note',
      '2027-12',
      '12/27',
    ]) {
      expect(out).not.toContain(secret);
    }
    for (const row of rows) {
      expect(Object.keys(row).sort()).toEqual(
        row.kind === 'card'
          ? [
              'bin',
              'expiryTag',
              'fingerprint',
              'keyId',
              'kind',
              'last4',
              'line',
              'otherKeys',
              'scheme',
              'source',
            ]
          : ['kind', 'line', 'masked', 'message', 'reason'],
      );
      if (row.kind === 'reject') expect(row.masked.replace(/\D/g, '').length).toBeLessThanOrEqual(10);
    }
  });

  it('gives the same rows whatever the chunk size, multi-byte characters split included', async () => {
    const text =
      'pan,name,exp\n4111111111111111,"日本 太郎",12/27\n5555555555554444,José,01/30\n4012888888881881,"a\nb",02/31\n';
    const path = await fixture('utf8.csv', text);
    const whole = await readAll(path);
    for (const chunkBytes of [1, 2, 3, 5, 7, 64]) {
      expect((await readAll(path, { chunkBytes })).rows).toEqual(whole.rows);
    }
    expect(cards(whole.rows).map((c) => c.line)).toEqual([2, 3, 4]);
  });

  it('reads semicolon-separated files and other PAN/expiry column names', async () => {
    const { rows } = await readAll(await fixture('semi.csv', 'PAN;Expiry\n4111111111111111;2027-12\n'));
    expect(cards(rows)[0]?.expiryTag).toBe(keyring.expiryTag(fp('4111111111111111'), '2027-12', 'k1'));
  });

  it('reads every expiry form and rejects each kind of bad one', async () => {
    const lines = [
      'pan,exp',
      ...['12/27', '12/2027', '1227', '2027-12', '', '13/25', '00/25', '1/27', '12-27', '12/1999'].map(
        (e) => `4111111111111111,${e}`,
      ),
    ];
    const { rows } = await readAll(await fixture('exp.csv', lines.join('\n')));
    const tag = keyring.expiryTag(fp('4111111111111111'), '2027-12', 'k1');
    expect(rows.map((r) => (r.kind === 'card' ? r.expiryTag : r.reason))).toEqual([
      tag,
      tag,
      tag,
      tag,
      null,
      'EXPIRY_MONTH',
      'EXPIRY_MONTH',
      'EXPIRY_FORMAT',
      'EXPIRY_FORMAT',
      'EXPIRY_YEAR',
    ]);
  });

  it('loads pre-hashed lists and checks fingerprint, key id, bin and last4', async () => {
    const good = fp('4111111111111111');
    const old = fp('5555555555554444', k0);
    const text = [
      'fingerprint,key_id,bin,last4,expiry',
      `${good},k1,41111111,1111,12/27`,
      `${old},k0,555555,4444,`,
      `${good},k9,41111111,1111,`,
      `${good},,41111111,1111,`,
      `${good.slice(1)},k1,41111111,1111,`,
      `${good}=,k1,41111111,1111,`,
      `${good},k1,41111,1111,`,
      `${good},k1,41111111,111,`,
      `${good},k1,,,`,
      `${good},k1,41111111,1111,13/27`,
    ].join('\n');
    const { rows } = await readAll(await fixture('hashed.csv', text));
    expect(rows[0]).toEqual({
      kind: 'card',
      line: 2,
      fingerprint: good,
      keyId: 'k1',
      bin: '411111',
      last4: '1111',
      scheme: 'VISA',
      expiryTag: keyring.expiryTag(good, '2027-12', 'k1'),
      source: 'fingerprint',
      otherKeys: [],
    });
    expect(rows[1]).toMatchObject({
      kind: 'card',
      keyId: 'k0',
      fingerprint: old,
      scheme: 'MASTERCARD',
      expiryTag: null,
    });
    expect(
      rows.slice(2).map((r) => (r.kind === 'card' ? `card:${r.scheme}:${r.bin}` : `${r.reason}:${r.masked}`)),
    ).toEqual([
      'UNKNOWN_KEY_ID:411111…1111',
      'MISSING_KEY_ID:411111…1111',
      'INVALID_FINGERPRINT:411111…1111',
      'INVALID_FINGERPRINT:411111…1111',
      'INVALID_BIN:',
      'INVALID_LAST4:',
      'card:UNKNOWN:null',
      'EXPIRY_MONTH:411111…1111',
    ]);
  });

  it('refuses a file without a card column before yielding any row', async () => {
    const path = await fixture('nocard.csv', 'name,cvv,exp\nJane,123,12/27\n');
    const reader = readCards(path, { keyring });
    let yielded = 0;
    await expect(
      (async () => {
        for await (const _row of reader) yielded++;
      })(),
    ).rejects.toMatchObject({
      code: 'CARDS_FILE_INVALID',
      message: expect.stringContaining('no card column') as unknown,
    });
    expect(yielded).toBe(0);
  });

  it.each([
    ['spaced', '4111 1111 1111 1111,12/27,737,"DOE, JANE"\n5555 5555 5555 4444,01/30,123,ROE RICHARD\n'],
    ['dashed', '4111-1111-1111-1111;12/27;737;Jane Doe\n'],
    ['bare', '4111111111111111,12/27,737,Jane Doe\n'],
  ])('never echoes a cell of a file with no header (%s PAN, CVV, name)', async (_what, content) => {
    const path = await fixture('headerless.csv', content);
    const error = await readAll(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeakwatchError);
    const { code, message, details } = error as LeakwatchError;
    expect(code).toBe('CARDS_FILE_INVALID');
    expect(message).toContain('no card column');
    expect(message).toContain('looks like card data, not a header');
    const shown = `${message} ${JSON.stringify(details ?? {})}`;
    for (const cell of [
      '4111',
      '1111',
      '5555',
      '4444',
      '737',
      '123',
      '12/27',
      '01/30',
      'DOE',
      'Jane',
      'Doe',
      'ROE',
    ]) {
      expect(shown, cell).not.toContain(cell);
    }
  });

  it('names only known columns of a header, never other cells', async () => {
    const path = await fixture('nocard2.csv', 'name,cvv,Expiry,secret 4111\nJane,123,12/27,x\n');
    const error = (await readAll(path).catch((e: unknown) => e)) as LeakwatchError;
    expect(error.message).toContain('4 columns, known: expiry');
    expect(error.message).not.toContain('secret');
    expect(error.message).not.toContain('looks like card data');
  });

  it.each([
    ['fingerprint without key_id', 'fingerprint,bin\n', 'no key_id column'],
    ['pan and card_number', 'pan,card_number\n', 'both give the card number'],
    ['empty file', '', 'is empty'],
    ['blank file', '\n  \n', 'is empty'],
    ['JSON array', '[{"pan":"4111111111111111"}]', 'JSON array'],
  ])('refuses a file with %s', async (_what, content, message) => {
    await expect(readAll(await fixture('bad.txt', content))).rejects.toMatchObject({
      code: 'CARDS_FILE_INVALID',
      message: expect.stringContaining(message) as unknown,
    });
  });

  it('refuses UTF-16 and reads a header-only file as zero rows', async () => {
    const utf16 = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('pan\n4111111111111111\n', 'utf16le'),
    ]);
    await expect(readAll(await fixture('u16.csv', utf16))).rejects.toMatchObject({
      code: 'CARDS_FILE_INVALID',
    });
    const { rows, stats } = await readAll(await fixture('header.csv', 'pan,exp\r\n'));
    expect(rows).toEqual([]);
    expect(stats).toMatchObject({ rows: 0, lines: 1 });
  });

  it('rejects a malformed record and reads on', async () => {
    const text = 'pan,name\n"4111111111111111"x,Jane\n5555555555554444,"never closed\n';
    const { rows } = await readAll(await fixture('malformed.csv', text));
    expect(
      rows.map((r) => [r.line, r.kind === 'reject' ? r.reason : r.kind, r.kind === 'reject' ? r.masked : '']),
    ).toEqual([
      [2, 'MALFORMED_ROW', ''],
      [3, 'MALFORMED_ROW', ''],
    ]);
    expect(JSON.stringify(rows)).not.toContain('4111111111111111');
  });

  it('fails with FILE_UNREADABLE for a missing file or a directory', async () => {
    await expect(readAll(join(dir, 'missing.csv'))).rejects.toMatchObject({
      code: 'FILE_UNREADABLE',
      message: expect.stringContaining('no such file') as unknown,
    });
    await expect(readAll(dir, { format: 'csv' })).rejects.toMatchObject({ code: 'FILE_UNREADABLE' });
  });

  it('can be read once, in batches of one chunk each', async () => {
    const lines = ['pan'];
    for (let i = 0; i < 2000; i++) lines.push('4111111111111111');
    const reader = readCards(await fixture('many.csv', lines.join('\n')), { keyring, chunkBytes: 4096 });
    const sizes: number[] = [];
    for await (const batch of reader.batches()) sizes.push(batch.length);
    expect(sizes.length).toBeGreaterThan(5);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(2000);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4096 / 17 + 1);
    await expect(reader.batches().next()).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});

describe('readCards: NDJSON and detection', () => {
  const ndjson = [
    '\uFEFF{"pan":"4111111111111111","exp":"12/27","name":"Jane","cvv":"123"}',
    '',
    '{"PAN ":4012888888881881,"EXPIRY":"2030-01"}',
    '{"card_number":"4111111111111112"}',
    'not json',
    '[1,2]',
    '{"pan":6200000000000000005}',
    '{"pan":"4111111111111111","card_number":"4111111111111111"}',
    '{"pan":true}',
    '{"card_number":"5555 5555 5555 4444","exp":"13/25"}',
    '{"fingerprint":"' +
      fp('378282246310005') +
      '","key_id":"k1","bin":"378282","last4":"0005","exp":"0929"}',
    '{"pan":null,"name":"Only a name"}',
    '{"card_number":"3530-1113-3330-0000","extra":{"nested":true}}',
  ].join('\r\n');

  it('reads NDJSON with the same rules and line numbers', async () => {
    const { rows, stats } = await readAll(await fixture('cards.ndjson', ndjson));
    expect(rows.map((r) => [r.line, r.kind === 'card' ? r.scheme : r.reason])).toEqual([
      [1, 'VISA'],
      [3, 'VISA'],
      [4, 'LUHN'],
      [5, 'MALFORMED_ROW'],
      [6, 'MALFORMED_ROW'],
      [7, 'MALFORMED_ROW'],
      [8, 'MALFORMED_ROW'],
      [9, 'MALFORMED_ROW'],
      [10, 'EXPIRY_MONTH'],
      [11, 'AMEX'],
      [12, 'MISSING_CARD'],
      [13, 'JCB'],
    ]);
    expect(rows[0]).toMatchObject({
      fingerprint: fp('4111111111111111'),
      expiryTag: keyring.expiryTag(fp('4111111111111111'), '2027-12', 'k1'),
    });
    expect(rows[1]).toMatchObject({ fingerprint: fp('4012888888881881') });
    expect(rows.find((r) => r.line === 7)).toMatchObject({
      message: expect.stringContaining('too large') as unknown,
    });
    expect(rows.find((r) => r.line === 11)).toMatchObject({
      source: 'fingerprint',
      bin: '37828',
      expiryTag: expect.any(String) as unknown,
    });
    expect(stats).toMatchObject({ format: 'ndjson', lines: 13, rows: 12, cards: 4, rejected: 8 });
    const out = JSON.stringify(rows);
    for (const secret of ['4111111111111111', '5555555555554444', 'Jane', '"123"', 'nested'])
      expect(out).not.toContain(secret);
  });

  it('refuses NDJSON whose first object has no card field', async () => {
    await expect(
      readAll(await fixture('nocard.jsonl', '{"name":"x"}\n{"pan":"4111111111111111"}\n')),
    ).rejects.toMatchObject({
      code: 'CARDS_FILE_INVALID',
    });
    await expect(readAll(await fixture('junk.ndjson', 'junk\n'))).rejects.toMatchObject({
      code: 'CARDS_FILE_INVALID',
    });
  });

  it('detects the format from the extension, else from the content', async () => {
    const csvText = 'pan\n4111111111111111\n';
    const jsonText = '\n  {"pan":"4111111111111111"}\n';
    expect((await readAll(await fixture('a.txt', csvText))).stats.format).toBe('csv');
    expect((await readAll(await fixture('b.txt', jsonText))).stats.format).toBe('ndjson');
    expect((await readAll(await fixture('c.jsonl', jsonText))).stats.format).toBe('ndjson');
    const fromStream = await readAll(Readable.from([Buffer.from(jsonText)]));
    expect(fromStream.stats.format).toBe('ndjson');
    expect(cards(fromStream.rows)).toHaveLength(1);
    const strings = await readAll(Readable.from(['p', 'an\n4111111111', '111111\n']), { fileName: 'x.csv' });
    expect(cards(strings.rows).map((c) => c.fingerprint)).toEqual([fp('4111111111111111')]);
  });
});

describe('readCards into a RejectReport', () => {
  it('reports each reject masked, with its line', async () => {
    const reportPath = join(dir, 'rejects.csv');
    const report = await RejectReport.create(reportPath);
    for await (const row of readCards(await fixture('messy4.csv', messyCsv), { keyring })) {
      if (row.kind === 'reject') await report.write(row);
    }
    await report.close();
    const text = await readFile(reportPath, 'utf8');
    expect(text.split('\n')).toEqual([
      'line,reason,message,masked',
      '7,LUHN,card number fails the Luhn check,411111******1112',
      '8,INVALID_LENGTH,card number has 11 digits; needs 12 to 19,*******1113',
      '9,INVALID_LENGTH,card number has 20 digits; needs 12 to 19,411111**********1112',
      '10,NON_DIGIT,"card number may contain only digits, spaces and dashes",***********1111',
      '11,EXPIRY_MONTH,expiry month must be 01 to 12,37828******0005',
      '13,MISSING_CARD,row has neither a card number nor a fingerprint,',
      '',
    ]);
  });
});

describe('readCards: edge cases', () => {
  it('takes an NDJSON first object with an empty pan as a bad row, not a bad file', async () => {
    const { rows } = await readAll(
      await fixture('emptyfirst.ndjson', '{"pan":""}\n{"pan":"4111111111111111"}\n'),
    );
    expect(rows.map((r) => (r.kind === 'card' ? r.line : r.reason))).toEqual(['MISSING_CARD', 2]);
  });

  it('rejects an overlong line and reads on', async () => {
    const text = `pan,name\n4111111111111111,${'x'.repeat(70_000)}\n5555555555554444,ok\n`;
    const { rows } = await readAll(await fixture('long.csv', text));
    expect(rows.map((r) => [r.line, r.kind === 'card' ? r.kind : r.reason])).toEqual([
      [2, 'MALFORMED_ROW'],
      [3, 'card'],
    ]);
  });

  it('turns a failing stream into FILE_UNREADABLE and lets bugs through as they are', async () => {
    const failing = new Readable({
      read() {
        this.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      },
    });
    await expect(readAll(failing, { fileName: 'remote.csv' })).rejects.toMatchObject({
      code: 'FILE_UNREADABLE',
      message: 'cannot read cards file remote.csv: socket hang up',
    });
    const buggy = Readable.from(
      (function* () {
        yield 'pan\n';
        throw new TypeError('bug');
      })(),
    );
    await expect(readAll(buggy)).rejects.toThrow(TypeError);
  });
});
