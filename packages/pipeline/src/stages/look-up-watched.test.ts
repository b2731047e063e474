import { describe, expect, it } from 'vitest';
import { lookUpWatched } from './look-up-watched.js';
import type { ResolvedAuthorization } from './resolve-card.js';
import {
  authorization,
  cardIncident,
  fakeWatchList,
  message,
  OTHER_PAN,
  PAN,
  twoKeyKeyring,
  resolvedCard,
} from './stages.fakes.js';

const keyring = twoKeyKeyring();

function resolved(offset: number, pan: string): ResolvedAuthorization {
  const auth = authorization({ eventId: `e${offset}` });
  const card = resolvedCard({ ...auth.card, pan }, keyring);
  return { message: message(offset), auth, card };
}

describe('lookUpWatched', () => {
  it('looks every fingerprint of the batch up in one call and finds a card listed under an older key', async () => {
    const [k2, k1] = keyring.fingerprintAll(PAN);
    const { watchList, lookups } = fakeWatchList(
      new Map([[k1?.fingerprint as string, { incidents: [cardIncident('inc-1')] }]]),
    );
    const result = await lookUpWatched([resolved(1, PAN), resolved(2, OTHER_PAN)], watchList);
    expect(lookups).toHaveLength(1);
    expect(lookups[0]).toHaveLength(4);
    expect(lookups[0]).toContain(k2?.fingerprint);
    expect(result.clean).toBe(1);
    expect(result.watched).toHaveLength(1);
    expect(result.watched[0]).toMatchObject({ fingerprint: k1?.fingerprint, keyId: 'k1' });
    expect(result.watched[0]?.item.auth.eventId).toBe('e1');
    expect(result.watched[0]?.incidents.map((i) => i.incidentId)).toEqual(['inc-1']);
  });

  it('prefers the current key, and treats a hit without an active incident as clean', async () => {
    const [k2, k1] = keyring.fingerprintAll(PAN);
    const other = keyring.fingerprint(OTHER_PAN);
    const { watchList } = fakeWatchList(
      new Map([
        [k2?.fingerprint as string, { incidents: [cardIncident('new')] }],
        [k1?.fingerprint as string, { incidents: [cardIncident('old')] }],
        [other, { incidents: [] }],
      ]),
    );
    const result = await lookUpWatched([resolved(1, PAN), resolved(2, OTHER_PAN)], watchList);
    expect(result.watched.map((w) => [w.keyId, w.incidents[0]?.incidentId])).toEqual([['k2', 'new']]);
    expect(result.clean).toBe(1);
  });

  it('makes no lookup for an empty batch and lets a Redis failure through', async () => {
    const { watchList, lookups, fail } = fakeWatchList();
    expect(await lookUpWatched([], watchList)).toEqual({ watched: [], clean: 0 });
    expect(lookups).toHaveLength(0);
    fail(new Error('redis down'));
    await expect(lookUpWatched([resolved(1, PAN)], watchList)).rejects.toThrow('redis down');
  });

  it('reports how many fingerprints one lookup took', async () => {
    const seen: number[] = [];
    await lookUpWatched([resolved(1, PAN)], fakeWatchList().watchList, (_seconds, n) => seen.push(n));
    expect(seen).toEqual([2]);
  });
});
