import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeakwatchError } from '@leakwatch/errors';
import { manifestInstants } from '@leakwatch/contracts';
import { parseManifest, readManifest } from './manifest.js';

const valid = {
  incidentId: 'jp-shop-2025-05',
  source: 'example-shop.jp disclosure, 2025-05-20',
  compromiseType: 'WEB_SKIMMING',
  exposureStart: '2020-02-24',
  exposureEnd: '2024-10-15',
  disclosedAt: '2025-05-20T10:00:00+09:00',
  dataExposed: ['PAN', 'EXPIRY', 'CVV', 'NAME'],
  watchUntil: '2027-05-31',
};

function problemsOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(LeakwatchError);
    expect((error as LeakwatchError).code).toBe('MANIFEST_INVALID');
    return (error as LeakwatchError).details?.problems as { path: string; message: string }[];
  }
  throw new Error('expected MANIFEST_INVALID');
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-manifest-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseManifest', () => {
  it('reads a JSON manifest', () => {
    expect(parseManifest(JSON.stringify(valid), { name: 'm.json' })).toEqual(valid);
  });

  it('reads YAML with unquoted dates kept as written', () => {
    const yaml = [
      'incidentId: jp-shop-2025-05',
      'source: example-shop.jp disclosure, 2025-05-20',
      'compromiseType: WEB_SKIMMING',
      'exposureStart: 2020-02-24',
      'exposureEnd: 2024-10-15',
      "disclosedAt: '2025-05-20T10:00:00+09:00'",
      'dataExposed: [CVV, PAN, NAME, EXPIRY, PAN]',
      'watchUntil: 2027-05-31',
    ].join('\n');
    // dataExposed comes back de-duplicated in the canonical order
    expect(parseManifest(yaml, { name: 'm.yaml' })).toEqual(valid);
  });

  it('leaves the exposure window and watchUntil open when unknown', () => {
    const { exposureStart: _s, exposureEnd: _e, watchUntil: _w, ...rest } = valid;
    const parsed = parseManifest(JSON.stringify({ ...rest, exposureEnd: null }));
    expect(parsed).toMatchObject({ exposureStart: null, exposureEnd: null, watchUntil: null });
  });

  it('lists every problem with its field path', () => {
    const problems = problemsOf(() =>
      parseManifest(
        JSON.stringify({
          incidentId: 'shop:2025 {x}',
          source: '   ',
          compromiseType: 'SKIMMING',
          exposureStart: '2024-10-15',
          exposureEnd: '2020-02-24',
          disclosedAt: '2025-02-30',
          dataExposed: ['PAN', 'SSN'],
          watchUntil: 'next year',
          extra: true,
        }),
      ),
    );
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'incidentId',
        'source',
        'compromiseType',
        'disclosedAt',
        'dataExposed.1',
        'watchUntil',
        'exposureEnd',
        '(manifest)',
      ]),
    );
    expect(problems.find((p) => p.path === 'exposureEnd')?.message).toBe('must not be before exposureStart');
    expect(problems.find((p) => p.path === '(manifest)')?.message).toContain('extra');
    expect(problems.find((p) => p.path === 'compromiseType')?.message).toContain('WEB_SKIMMING');
  });

  it('names missing fields and an empty dataExposed', () => {
    const problems = problemsOf(() => parseManifest('{"dataExposed": []}'));
    expect(problems.map((p) => p.path).sort()).toEqual([
      'compromiseType',
      'dataExposed',
      'disclosedAt',
      'incidentId',
      'source',
    ]);
  });

  it('checks date order: exposure, disclosure, watch', () => {
    expect(problemsOf(() => parseManifest(JSON.stringify({ ...valid, exposureEnd: '2020-02-23' })))).toEqual([
      { path: 'exposureEnd', message: 'must not be before exposureStart' },
    ]);
    expect(problemsOf(() => parseManifest(JSON.stringify({ ...valid, disclosedAt: '2019-01-01' })))).toEqual([
      { path: 'disclosedAt', message: 'must not be before exposureStart' },
    ]);
    const watch = problemsOf(() => parseManifest(JSON.stringify({ ...valid, watchUntil: '2024-01-01' })));
    expect(watch.map((p) => p.message)).toEqual([
      'must not be before exposureEnd',
      'must not be before disclosedAt',
    ]);
    // one day is a valid window; a date-time inside the end day is not before it
    expect(() =>
      parseManifest(JSON.stringify({ ...valid, exposureStart: '2024-10-15', exposureEnd: '2024-10-15' })),
    ).not.toThrow();
    expect(() =>
      parseManifest(
        JSON.stringify({ ...valid, exposureStart: '2024-10-15T12:00:00Z', exposureEnd: '2024-10-15' }),
      ),
    ).not.toThrow();
  });

  it('reports syntax errors and non-objects without echoing numbers', () => {
    const json = problemsOf(() => parseManifest('{"incidentId": 4111111111111111,,}', { name: 'm.json' }));
    expect(json[0]?.message).toMatch(/^is not valid JSON/);
    expect(JSON.stringify(json)).not.toContain('4111111111111111');
    const spaced = problemsOf(() =>
      parseManifest('{"incidentId": "x", "source": 4111 1111 1111 1111}', { name: 'm.json' }),
    );
    expect(spaced[0]?.message).toMatch(/^is not valid JSON at (position|line)/);
    expect(JSON.stringify(spaced)).not.toMatch(/4111|1111/);
    // the YAML library names an unresolved alias by its text, and threw past the manifest error
    const alias = problemsOf(() => parseManifest('incidentId: *4111-1111-1111-1111\n', { name: 'm.yaml' }));
    expect(alias).toEqual([
      {
        path: '(manifest)',
        message: 'is not valid YAML: Unresolved alias (the anchor must be set before the alias)',
      },
    ]);
    const yaml = problemsOf(() => parseManifest('incidentId: a\nincidentId: b\n', { name: 'm.yml' }));
    expect(yaml[0]?.message).toBe('is not valid YAML: line 2, column 1: Map keys must be unique');
    expect(problemsOf(() => parseManifest('- a\n- b\n'))[0]?.message).toContain('must be an object');
    expect(problemsOf(() => parseManifest(''))[0]?.message).toContain('must be an object');
  });

  it('refuses incident ids that would break Redis keys', () => {
    for (const id of ['a:b', 'a b', '{tag}', 'a*', '-lead', '', 'x'.repeat(65), 'é']) {
      expect(problemsOf(() => parseManifest(JSON.stringify({ ...valid, incidentId: id })))[0]?.path).toBe(
        'incidentId',
      );
    }
  });
});

describe('readManifest', () => {
  it('reads files, with a BOM, by extension or content', async () => {
    const jsonPath = join(dir, 'incident.json');
    await writeFile(jsonPath, '\uFEFF' + JSON.stringify(valid));
    expect(await readManifest(jsonPath)).toEqual(valid);
    const noExt = join(dir, 'incident');
    await writeFile(noExt, JSON.stringify(valid, null, 2));
    expect(await readManifest(noExt)).toEqual(valid);
  });

  it('fails with FILE_UNREADABLE for a missing file and names the file in problems', async () => {
    await expect(readManifest(join(dir, 'missing.yaml'))).rejects.toMatchObject({ code: 'FILE_UNREADABLE' });
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'incidentId: x\n');
    await expect(readManifest(bad)).rejects.toThrow(/bad\.yaml \(4 problems\)/);
  });
});

describe('manifestInstants', () => {
  it('reads dates alone as whole UTC days', () => {
    const times = manifestInstants(parseManifest(JSON.stringify(valid)));
    expect(times.exposureStart).toBe(Date.parse('2020-02-24T00:00:00Z'));
    expect(times.exposureEnd).toBe(Date.parse('2024-10-16T00:00:00Z') - 1);
    expect(times.disclosedAt).toBe(Date.parse('2025-05-20T01:00:00Z'));
    expect(times.watchUntil).toBe(Date.parse('2027-06-01T00:00:00Z') - 1);
  });
});

describe('parseManifest messages', () => {
  it('says "is required" for a missing field and names the type otherwise', () => {
    const problems = problemsOf(() =>
      parseManifest(
        'incidentId: 2025001\ncompromiseType: WEB_SKIMMING\ndisclosedAt: 2025-05-20\ndataExposed: PAN\n',
      ),
    );
    expect(problems).toEqual([
      { path: 'incidentId', message: 'must be a string' },
      { path: 'source', message: 'is required' },
      {
        path: 'dataExposed',
        message: 'must be a list of PAN, EXPIRY, CVV, NAME, ADDRESS, EMAIL, PHONE, TRACK',
      },
    ]);
  });
});
