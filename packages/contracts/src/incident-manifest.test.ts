import { describe, expect, it } from 'vitest';
import { isIsoDate, manifestInstants, validateIncidentManifest } from './incident-manifest.js';

const valid = {
  incidentId: 'jp-shop-2025-05',
  source: ' example-shop.jp disclosure ',
  compromiseType: 'WEB_SKIMMING',
  exposureStart: '2020-02-24',
  exposureEnd: '2024-10-15',
  disclosedAt: '2025-05-20T10:00:00+09:00',
  dataExposed: ['NAME', 'PAN', 'EXPIRY', 'PAN'],
  watchUntil: '2027-05-31',
};

describe('validateIncidentManifest', () => {
  it('normalises: trims text, exposed data de-duplicated in SPEC order, open dates to null', () => {
    const result = validateIncidentManifest({ ...valid, watchUntil: undefined, exposureStart: null });
    expect(result).toEqual({
      ok: true,
      manifest: {
        ...valid,
        source: 'example-shop.jp disclosure',
        dataExposed: ['PAN', 'EXPIRY', 'NAME'],
        exposureStart: null,
        watchUntil: null,
      },
    });
  });

  it('lists every problem with its path, date order included, and refuses unknown keys', () => {
    const result = validateIncidentManifest({
      ...valid,
      incidentId: 'shop:2025',
      compromiseType: 'SKIM',
      exposureStart: '2025-01-01',
      exposureEnd: '2024-01-01',
      extra: 1,
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.path).sort()).toEqual(
      ['(manifest)', 'compromiseType', 'exposureEnd', 'incidentId'].sort(),
    );
    expect(validateIncidentManifest([])).toEqual({
      ok: false,
      problems: [{ path: '(manifest)', message: 'must be an object (a mapping of fields)' }],
    });
  });

  it('reads dates alone as whole UTC days and refuses impossible dates', () => {
    const result = validateIncidentManifest(valid);
    if (!result.ok) throw new Error('expected a valid manifest');
    const times = manifestInstants(result.manifest);
    expect(times.exposureEnd).toBe(Date.UTC(2024, 9, 16) - 1);
    expect(times.disclosedAt).toBe(Date.UTC(2025, 4, 20, 1));
    for (const bad of ['2024-02-30', '2024-10-15T24:00Z', '2024-10-15T09:00:00', 15])
      expect(isIsoDate(bad)).toBe(false);
  });
});
