import type { CardIncident, LeakHit } from '@leakwatch/leak-store';
import type { ResolvedAuthorization } from './resolve-card.js';

/** The watch list as the pipeline sees it. */
export interface WatchList {
  /** Hits among the fingerprints, in one round trip. */
  lookup(fingerprints: readonly string[]): Promise<Map<string, LeakHit>>;
}

/** An authorization on a watched card, with the fingerprint (and key) the watch list knows it by. */
export interface WatchedAuthorization {
  item: ResolvedAuthorization;
  fingerprint: string;
  keyId: string;
  incidents: readonly CardIncident[];
}

export interface LookupResult {
  /** In input order. */
  watched: WatchedAuthorization[];
  /** Authorizations on cards no active incident lists. */
  clean: number;
}

/**
 * Stage 2: one watch-list lookup for every fingerprint of the batch (a PAN yields one per
 * active key). A card is watched under the first of its fingerprints that an active incident
 * lists. A Redis failure throws (retryable).
 */
export async function lookUpWatched(
  items: readonly ResolvedAuthorization[],
  watchList: WatchList,
  onLookup?: (seconds: number, fingerprints: number) => void,
): Promise<LookupResult> {
  const fingerprints: string[] = [];
  for (const item of items) for (const f of item.card.fingerprints) fingerprints.push(f.fingerprint);
  if (fingerprints.length === 0) return { watched: [], clean: items.length };
  const started = performance.now();
  const hits = await watchList.lookup(fingerprints);
  onLookup?.((performance.now() - started) / 1000, fingerprints.length);

  const result: LookupResult = { watched: [], clean: 0 };
  for (const item of items) {
    let found: WatchedAuthorization | undefined;
    for (const f of item.card.fingerprints) {
      const hit = hits.get(f.fingerprint);
      if (hit && hit.incidents.length > 0) {
        found = { item, fingerprint: f.fingerprint, keyId: f.keyId, incidents: hit.incidents };
        break;
      }
    }
    if (found) result.watched.push(found);
    else result.clean += 1;
  }
  return result;
}
