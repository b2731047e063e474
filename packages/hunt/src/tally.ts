import type { BatchOutcome, InboundMessage } from '@leakwatch/pipeline';

/** What a hunt found, for its progress line and its summary. */
export interface HuntSummary {
  scanned: number;
  onWatchedCards: number;
  alerts: number;
  alertsBySeverity: Record<string, number>;
  alertsByReason: Record<string, number>;
  /** Dead-lettered (Kafka) or written to the reject report (archives). */
  rejected: number;
  /** In the window, but deleted by retention before the hunt read them (Kafka only). */
  expired: number;
  /** alertIds raised, in order (for tests and the summary's sample). */
  alertIds: string[];
}

export function emptySummary(): HuntSummary {
  return {
    scanned: 0,
    onWatchedCards: 0,
    alerts: 0,
    alertsBySeverity: {},
    alertsByReason: {},
    rejected: 0,
    expired: 0,
    alertIds: [],
  };
}

/** Adds a batch's outcome to the summary. */
export function tally(summary: HuntSummary, outcome: BatchOutcome, messages: number): void {
  summary.scanned += messages;
  summary.onWatchedCards += outcome.watched;
  summary.rejected += outcome.deadLetters.length;
  for (const { alert } of outcome.alerts) {
    summary.alerts += 1;
    summary.alertIds.push(alert.alertId);
    summary.alertsBySeverity[alert.severity] = (summary.alertsBySeverity[alert.severity] ?? 0) + 1;
    for (const reason of alert.reasons)
      summary.alertsByReason[reason.code] = (summary.alertsByReason[reason.code] ?? 0) + 1;
  }
}

/**
 * Tallies a batch of one partition read from Kafka, counting only offsets after `through` (the
 * last offset of that partition tallied so far): a batch given back at a rebalance is read again,
 * in whole or in part, and must not be counted twice. Returns the new `through`. Of a batch that
 * is partly a repeat, the watched authorizations that raised no alert cannot be told apart by
 * offset; only its repeated alerts are taken off the watched count.
 */
export function tallyOnce(
  summary: HuntSummary,
  outcome: BatchOutcome,
  messages: readonly Pick<InboundMessage, 'offset'>[],
  through: bigint | undefined,
): bigint | undefined {
  const last = messages.at(-1);
  if (last === undefined) return through;
  const lastOffset = BigInt(last.offset);
  if (through !== undefined && lastOffset <= through) return through;
  const first = messages[0] as Pick<InboundMessage, 'offset'>;
  if (through === undefined || BigInt(first.offset) > through) {
    tally(summary, outcome, messages.length);
    return lastOffset;
  }
  const fresh = (m: Pick<InboundMessage, 'offset'>) => BigInt(m.offset) > through;
  const alerts = outcome.alerts.filter((a) => fresh(a.message));
  tally(
    summary,
    {
      alerts,
      deadLetters: outcome.deadLetters.filter((d) => fresh(d.message)),
      clean: outcome.clean,
      watched: Math.max(0, outcome.watched - (outcome.alerts.length - alerts.length)),
    },
    messages.filter(fresh).length,
  );
  return lastOffset;
}

/** The summary as the lines a person reads at the end of a hunt. */
export function formatSummary(summary: HuntSummary): string[] {
  const counts = (record: Record<string, number>) =>
    Object.entries(record)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  return [
    `scanned ${summary.scanned}, on watched cards ${summary.onWatchedCards}, rejected ${summary.rejected}`,
    `alerts ${summary.alerts} by severity: ${counts(summary.alertsBySeverity)}`,
    `alerts by reason: ${counts(summary.alertsByReason)}`,
    ...(summary.expired > 0
      ? [
          `not read: ${summary.expired} authorizations of the window were deleted by retention first (see the topic's retention.ms)`,
        ]
      : []),
  ];
}
