import type { LeakHit } from '@leakwatch/leak-store';
import type { WatchList } from '@leakwatch/pipeline';

/**
 * The watch list seen through one incident: a card matches only when that incident lists it,
 * and the alert names only that incident. Redis stays the truth (one lookup per batch, as live).
 */
export function restrictToIncident(watchList: WatchList, incidentId: string): WatchList {
  return {
    async lookup(fingerprints) {
      const hits = await watchList.lookup(fingerprints);
      const only = new Map<string, LeakHit>();
      for (const [fingerprint, hit] of hits) {
        const incidents = hit.incidents.filter((i) => i.incidentId === incidentId);
        if (incidents.length > 0) only.set(fingerprint, { incidents });
      }
      return only;
    },
  };
}
