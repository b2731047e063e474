import type { CardIncident, Incident, LeakHit } from '@leakwatch/leak-store';
import { describe, expect, it } from 'vitest';
import { restrictToIncident } from './incident-watch-list.js';

const incident = (incidentId: string): CardIncident => ({
  incidentId,
  expiryTags: [],
  incident: { incidentId } as Incident,
});

describe('restrictToIncident', () => {
  it('keeps only the hunted incident, and drops cards it does not list', async () => {
    const hits = new Map<string, LeakHit>([
      ['fp-both', { incidents: [incident('shop-2025'), incident('other')] }],
      ['fp-other', { incidents: [incident('other')] }],
    ]);
    const asked: string[][] = [];
    const watchList = restrictToIncident(
      {
        lookup: (fps) => {
          asked.push([...fps]);
          return Promise.resolve(hits);
        },
      },
      'shop-2025',
    );
    const found = await watchList.lookup(['fp-both', 'fp-other', 'fp-none']);
    expect(asked).toEqual([['fp-both', 'fp-other', 'fp-none']]);
    expect([...found.keys()]).toEqual(['fp-both']);
    expect(found.get('fp-both')?.incidents.map((i) => i.incidentId)).toEqual(['shop-2025']);
  });
});
