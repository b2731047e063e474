import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RejectReport } from './reject-report.js';
import type { CardReject } from './rows.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-rejects-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const luhn: CardReject = {
  kind: 'reject',
  line: 7,
  reason: 'LUHN',
  message: 'card number fails the Luhn check',
  masked: '411111******1112',
};

describe('RejectReport', () => {
  it('writes line,reason,message,masked with CSV quoting', async () => {
    const path = join(dir, 'rejects.csv');
    const report = await RejectReport.create(path);
    await report.write(luhn);
    await report.write({
      kind: 'reject',
      line: 9,
      reason: 'MALFORMED_ROW',
      message: 'has "pan", twice',
      masked: '',
    });
    expect(report.count).toBe(2);
    const closing = report.close();
    expect(report.close()).toBe(closing);
    await closing;
    expect(await readFile(path, 'utf8')).toBe(
      'line,reason,message,masked\n7,LUHN,card number fails the Luhn check,411111******1112\n9,MALFORMED_ROW,"has ""pan"", twice",\n',
    );
  });

  it('refuses to write anything that shows more than 6 + 4 digits', async () => {
    const report = new RejectReport(new Writable({ write: (_c, _e, cb) => cb() }));
    await expect(report.write({ ...luhn, masked: '4111111111111112' })).rejects.toMatchObject({
      code: 'INTERNAL',
    });
    await expect(report.write({ ...luhn, masked: 'John 411111' })).rejects.toMatchObject({
      code: 'INTERNAL',
    });
    await expect(report.write({ ...luhn, message: 'bad 4111111111111112' })).rejects.toMatchObject({
      code: 'INTERNAL',
    });
    await report.close();
  });

  it('waits for a slow destination and fails with FILE_UNWRITABLE when it cannot be created', async () => {
    let written = 0;
    const slow = new Writable({
      highWaterMark: 64,
      write(chunk: Buffer, _e, cb) {
        written += chunk.length;
        setImmediate(cb);
      },
    });
    const report = new RejectReport(slow);
    for (let i = 0; i < 500; i++) await report.write({ ...luhn, line: i + 2 });
    await report.close();
    expect(written).toBeGreaterThan(500 * 40);
    await expect(RejectReport.create(join(dir, 'no', 'such', 'dir.csv'))).rejects.toMatchObject({
      code: 'FILE_UNWRITABLE',
    });
  });
});
