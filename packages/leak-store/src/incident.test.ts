import { describe, expect, it } from 'vitest';
import { isLeakwatchError } from '@leakwatch/errors';
import {
  type IncidentManifest,
  checkManifest,
  incidentFromHash,
  isWatching,
  manifestToHash,
  watchEndMs,
} from './incident.js';

const manifest: IncidentManifest = {
  incidentId: 'INC-2025-0001',
  source: 'Merchant disclosure, May 2025',
  compromiseType: 'WEB_SKIMMING',
  exposureStart: '2020-02-24',
  exposureEnd: '2024-10-15',
  disclosedAt: '2025-05-20T09:00:00+09:00',
  dataExposed: ['NAME', 'PAN', 'EXPIRY', 'CVV', 'PAN'],
  watchUntil: '2026-05-31',
};

describe('checkManifest', () => {
  it('normalizes exposed data to SPEC order without duplicates', () => {
    expect(checkManifest(manifest).dataExposed).toEqual(['PAN', 'EXPIRY', 'CVV', 'NAME']);
  });

  it('lists every problem in one MANIFEST_INVALID', () => {
    try {
      checkManifest({
        ...manifest,
        incidentId: 'bad id{x}',
        compromiseType: 'SKIM' as never,
        exposureStart: '2025-01-01',
        exposureEnd: '2024-01-01',
        dataExposed: ['PAN', 'SSN' as never],
        watchUntil: 'soon',
      });
      expect.unreachable();
    } catch (error) {
      expect(isLeakwatchError(error, 'MANIFEST_INVALID')).toBe(true);
      const message = (error as Error).message;
      for (const word of [
        'incidentId',
        'compromiseType',
        'exposureEnd must not be before exposureStart',
        'dataExposed',
        'watchUntil',
      ]) {
        expect(message).toContain(word);
      }
    }
  });
});

describe('incident hashes', () => {
  it('round-trip through the stored hash', () => {
    const hash = Object.fromEntries([
      ...manifestToHash(checkManifest(manifest)),
      ['number', '7'],
      ['status', 'active'],
      ['createdAt', '2025-06-01T00:00:00.000Z'],
      ['updatedAt', '2025-06-01T00:00:00.000Z'],
      ['retiredAt', ''],
    ]);
    expect(incidentFromHash(hash)).toEqual({
      ...checkManifest(manifest),
      number: 7,
      status: 'active',
      createdAt: '2025-06-01T00:00:00.000Z',
      updatedAt: '2025-06-01T00:00:00.000Z',
      retiredAt: null,
    });
    expect(incidentFromHash({ ...hash, watchUntil: '' })?.watchUntil).toBeNull();
    expect(incidentFromHash({})).toBeNull();
  });
});

describe('isWatching', () => {
  const incident = {
    ...checkManifest(manifest),
    number: 1,
    status: 'active' as const,
    createdAt: '',
    updatedAt: '',
    retiredAt: null,
  };

  it('covers the whole last day of a date-only watchUntil', () => {
    expect(isWatching(incident, Date.parse('2026-05-31T23:59:59Z'))).toBe(true);
    expect(isWatching(incident, Date.parse('2026-06-01T00:00:00Z'))).toBe(false);
    expect(watchEndMs(null)).toBeNull();
    expect(isWatching({ ...incident, watchUntil: null }, Date.parse('2099-01-01'))).toBe(true);
  });

  it('never watches a retired incident', () => {
    expect(isWatching({ ...incident, status: 'retired' }, Date.parse('2025-06-01'))).toBe(false);
  });
});
