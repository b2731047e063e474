import type { BatchOutcome, InboundMessage, SuspiciousChargeAlert } from '@leakwatch/pipeline';
import { describe, expect, it } from 'vitest';
import { emptySummary, formatSummary, tally, tallyOnce } from './tally.js';

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

  it('counts a batch read again after a rebalance once, in whole or in part', () => {
    const summary = emptySummary();
    const at = (offset: number) => ({ offset: String(offset) }) as InboundMessage;
    const raised = (id: string, offset: number) => ({
      ...alert(id, 'HIGH', ['LEAKED_CARD']),
      message: at(offset),
    });
    const batch = (from: number, to: number, alerts: ReturnType<typeof raised>[]) => ({
      messages: Array.from({ length: to - from + 1 }, (_, i) => at(from + i)),
      outcome: {
        alerts,
        deadLetters: [],
        clean: to - from + 1 - alerts.length,
        watched: alerts.length,
      } as BatchOutcome,
    });
    const first = batch(0, 9, [raised('al_3', 3)]);
    let through = tallyOnce(summary, first.outcome, first.messages, undefined);
    // the same batch again: nothing new
    through = tallyOnce(summary, first.outcome, first.messages, through);
    // read again from offset 5 to 14: only 10..14 are new
    const overlap = batch(5, 14, [raised('al_8', 8), raised('al_12', 12)]);
    through = tallyOnce(summary, overlap.outcome, overlap.messages, through);
    expect(through).toBe(14n);
    expect(summary).toMatchObject({ scanned: 15, alerts: 2, onWatchedCards: 2, alertIds: ['al_3', 'al_12'] });
  });
});
