import { countsTowardCardTesting, historyWindows, type RuleSet } from '@leakwatch/rules';
import type { HistoryCounts, HistoryEvent, HistoryWindowsMs } from '../card-history.js';
import type { WatchedAuthorization } from './look-up-watched.js';

/** Per-card history (VELOCITY, CARD_TESTING): records events and returns each one's counts. */
export interface HistoryRecorder {
  record(events: readonly HistoryEvent[], windows: HistoryWindowsMs): Promise<HistoryCounts[]>;
}

/**
 * Stage 3: records each watched authorization in its card's history, by event time and keyed by
 * the watched fingerprint, and returns the counts each one sees (one round trip). Counting by
 * occurredAt is what lets a retro-hunt get the counts the live monitor would have got.
 */
export function recordHistory(
  watched: readonly WatchedAuthorization[],
  history: HistoryRecorder,
  ruleSet: RuleSet,
): Promise<HistoryCounts[]> {
  if (watched.length === 0) return Promise.resolve([]);
  const windows = historyWindows(ruleSet);
  return history.record(
    watched.map((w) => ({
      fingerprint: w.fingerprint,
      eventId: w.item.auth.eventId,
      occurredAt: w.item.auth.occurredAt,
      small: countsTowardCardTesting(ruleSet, w.item.auth),
    })),
    {
      velocityMs: (windows.velocityWindowSeconds ?? 0) * 1000,
      cardTestingMs: (windows.cardTestingWindowSeconds ?? 0) * 1000,
    },
  );
}
