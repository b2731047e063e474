import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { archiveBatches, archiveFormatOf } from './archive.js';

describe('archives', () => {
  it('knows an Avro container by its magic, else by its name, else NDJSON', () => {
    expect(archiveFormatOf('x.bin', Buffer.from('Obj\x01', 'latin1'))).toBe('avro');
    expect(archiveFormatOf('x.avro', Buffer.from('{"e'))).toBe('avro');
    expect(archiveFormatOf('x.ndjson', Buffer.from('{"e'))).toBe('ndjson');
  });

  it('gives NDJSON rows in batches, numbered by the line a person sees, skipping blank lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hunt-archive-'));
    const path = join(dir, 'a.ndjson');
    writeFileSync(path, '{"a":1}\n\n{"a":2}\n{"a":3}\n');
    const batches = [];
    for await (const batch of archiveBatches(path, 'ndjson', 2))
      batches.push(batch.map((m) => [m.offset, m.value?.toString()]));
    expect(batches).toEqual([
      [
        ['1', '{"a":1}'],
        ['3', '{"a":2}'],
      ],
      [['4', '{"a":3}']],
    ]);
  });
});

describe('archive event window', () => {
  it('leaves out rows whose occurredAt is outside --from/--to, keeps rows without a readable one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hunt-window-'));
    const path = join(dir, 'w.ndjson');
    writeFileSync(
      path,
      [
        '{"occurredAt":1000}',
        '{"occurredAt":"1970-01-01T00:00:02Z"}',
        '{"occurredAt":5000}',
        'not json',
        '{"occurredAt":9000}',
      ].join('\n'),
    );
    const rows: string[] = [];
    for await (const batch of archiveBatches(path, 'ndjson', 10, { from: 2000, to: 5000 }))
      rows.push(...batch.map((m) => m.offset));
    expect(rows).toEqual(['2', '3', '4']);
  });
});
