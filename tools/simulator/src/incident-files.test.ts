import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizePan, parseExpiry } from '@leakwatch/card';
import { isLeakwatchError } from '@leakwatch/errors';
import { generateCards } from './cards.js';
import { SEED_CASE_MANIFEST, writeIncidentFiles } from './incident-files.js';

const referenceTime = Date.UTC(2025, 4, 28);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'leakwatch-simulator-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Splits one CSV line with RFC 4180 quotes (enough for these files). */
function fields(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

describe('writeIncidentFiles', () => {
  it('writes a manifest shaped like the seed case and a cards CSV that reads back to the cards', async () => {
    const files = await writeIncidentFiles({
      dir,
      incidentId: 'shop-2025',
      count: 3_000,
      seed: 9,
      referenceTime,
    });
    expect(files.manifestPath).toBe(join(dir, 'shop-2025.manifest.json'));
    expect(files.cardsPath).toBe(join(dir, 'shop-2025.cards.csv'));

    const manifest = JSON.parse(await readFile(files.manifestPath, 'utf8')) as Record<string, unknown>;
    expect(manifest).toEqual({
      incidentId: 'shop-2025',
      source: SEED_CASE_MANIFEST.source,
      compromiseType: 'WEB_SKIMMING',
      exposureStart: '2020-02-24',
      exposureEnd: '2024-10-15',
      disclosedAt: '2025-05-28',
      dataExposed: ['PAN', 'EXPIRY', 'CVV', 'NAME'],
      watchUntil: '2028-05-31',
    });
    expect(files.manifest).toEqual(manifest);

    const lines = (await readFile(files.cardsPath, 'utf8')).split('\n');
    expect(lines[0]).toBe('pan,expiry,cvv,name');
    expect(lines.at(-1)).toBe('');
    const rows = lines.slice(1, -1).map(fields);
    expect(rows).toHaveLength(3_000);
    expect(files.validRows).toBe(3_000);
    expect(files.invalidRows).toBe(0);
    expect(files.cards).toEqual(generateCards({ count: 3_000, seed: 9, referenceTime }));

    const mismatches = rows.filter(([pan, expiry, cvv, name], i) => {
      const card = files.cards[i]!;
      const parsedPan = normalizePan(pan!);
      const parsedExpiry = parseExpiry(expiry!);
      const plainName = name!.includes(',') ? name!.split(', ').reverse().join(' ') : name;
      return (
        !parsedPan.ok ||
        parsedPan.pan !== card.pan ||
        !parsedExpiry.ok ||
        parsedExpiry.expiry !== card.expiry ||
        cvv !== card.cvv ||
        plainName !== card.name
      );
    });
    expect(mismatches).toEqual([]);

    const pans = rows.map(([pan]) => pan!);
    expect(pans.some((p) => p.includes(' '))).toBe(true);
    expect(pans.some((p) => p.includes('-'))).toBe(true);
    expect(pans.some((p) => /^\d+$/.test(p))).toBe(true);
    const expiries = rows.map(([, expiry]) => expiry!);
    expect(expiries.some((e) => /^\d{2}\/\d{2}$/.test(e))).toBe(true);
    expect(expiries.some((e) => /^\d{2}\/\d{4}$/.test(e))).toBe(true);
    expect(lines.some((l) => /,"[A-Z'-]+, [A-Z'-]+"$/.test(l))).toBe(true);
    const amex = rows.find(([pan]) => pan!.startsWith('37') && pan!.includes(' '));
    expect(amex?.[0]).toMatch(/^\d{4} \d{6} \d{5}$/);
  });

  it('adds bad rows for the reject report without changing the valid cards', async () => {
    const files = await writeIncidentFiles({
      dir,
      incidentId: 'with-rejects',
      count: 2_000,
      seed: 9,
      referenceTime,
      invalidRowShare: 0.05,
      manifest: { compromiseType: 'DATABASE_BREACH', dataExposed: ['PAN', 'EXPIRY'], watchUntil: null },
      returnCards: false,
    });
    expect(files.cards).toEqual([]);
    expect(files.manifest).toMatchObject({ compromiseType: 'DATABASE_BREACH', watchUntil: null });
    const rows = (await readFile(files.cardsPath, 'utf8')).split('\n').slice(1, -1).map(fields);
    expect(rows).toHaveLength(files.validRows + files.invalidRows);
    expect(files.invalidRows).toBeGreaterThan(60);
    expect(files.invalidRows).toBeLessThan(150);
    const bad = rows.filter(([pan, expiry]) => !normalizePan(pan!).ok || !parseExpiry(expiry!).ok);
    expect(bad).toHaveLength(files.invalidRows);
    const good = rows.filter((row) => !bad.includes(row)).map(([pan]) => normalizePan(pan!));
    expect(good.map((p) => (p.ok ? p.pan : ''))).toEqual(
      generateCards({ count: 2_000, seed: 9, referenceTime }).map((c) => c.pan),
    );
  });

  it('streams large lists', async () => {
    const files = await writeIncidentFiles({
      dir,
      incidentId: 'large',
      count: 100_000,
      seed: 'large',
      referenceTime,
      returnCards: false,
    });
    const { size } = await stat(files.cardsPath);
    expect(size).toBeGreaterThan(100_000 * 30);
    expect(files.validRows).toBe(100_000);
  });

  it('refuses bad options with USAGE and unwritable places with FILE_UNWRITABLE', async () => {
    await expect(writeIncidentFiles({ dir, incidentId: 'bad:id', count: -1, seed: 1 })).rejects.toSatisfy(
      (error) =>
        isLeakwatchError(error, 'USAGE') && /incidentId/.test(error.message) && /count/.test(error.message),
    );
    const blocked = join(dir, 'shop-2025.manifest.json', 'sub'); // a path under a file
    await expect(writeIncidentFiles({ dir: blocked, incidentId: 'x', count: 1, seed: 1 })).rejects.toSatisfy(
      (error) => isLeakwatchError(error, 'FILE_UNWRITABLE'),
    );
  });
});
