import type { BatchOutcome, SuspiciousChargeAlert } from '@leakwatch/pipeline';
import { describe, expect, it } from 'vitest';
import { emptySummary, formatSummary, tally } from './tally.js';

const alert = (alertId: string, severity: string, codes: string[]) =>
  ({
    alert: {
      alertId,
      severity,
      reasons: codes.map((code) => ({ code })),
    } as unknown as SuspiciousChargeAlert,
  }) as BatchOutcome['alerts'][number];

describe('tally', () => {
  it('counts scanned, watched, rejected, and alerts by severity and by reason', () => {
    const summary = emptySummary();
    tally(
      summary,
      {
        alerts: [alert('al_1', 'HIGH', ['LEAKED_CARD', 'VELOCITY']), alert('al_2', 'LOW', ['LEAKED_CARD'])],
        deadLetters: [{} as BatchOutcome['deadLetters'][number]],
        clean: 7,
        watched: 3,
      },
      10,
    );
    expect(summary).toMatchObject({
      scanned: 10,
      onWatchedCards: 3,
      rejected: 1,
      alerts: 2,
      alertsBySeverity: { HIGH: 1, LOW: 1 },
      alertsByReason: { LEAKED_CARD: 2, VELOCITY: 1 },
      alertIds: ['al_1', 'al_2'],
    });
    expect(formatSummary(summary)[2]).toBe('alerts by reason: LEAKED_CARD 2, VELOCITY 1');
  });
});
