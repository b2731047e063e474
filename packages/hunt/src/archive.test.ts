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
