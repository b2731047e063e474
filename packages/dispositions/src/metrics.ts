import { Counter, Gauge, type Registry } from 'prom-client';
import { DISPOSITIONS } from '@leakwatch/contracts';
import { DISPOSITION_SOURCES } from './applier.js';
import type { DispositionStats } from './disposition-stats.js';
import { INTAKE_ERROR_CODES, type IntakeOutcome } from './intake.js';

export interface DispositionMetrics {
  /** leakwatch_dispositions_total{disposition,source}: verdicts applied (repeats not counted). */
  dispositions: Counter<'disposition' | 'source'>;
  /** leakwatch_disposition_intake_requests_total{outcome}: what the intake answered. */
  intakeRequests: Counter<'outcome'>;
}

/**
 * The dispositions' metrics, on the service's registry; every label value starts at 0. Calling
 * it again on the same registry (a start-up that is retried) returns the metrics already there.
 */
export function createDispositionMetrics(registry: Registry): DispositionMetrics {
  const existing = registry.getSingleMetric('leakwatch_dispositions_total');
  if (existing) {
    return {
      dispositions: existing as Counter<'disposition' | 'source'>,
      intakeRequests: registry.getSingleMetric(
        'leakwatch_disposition_intake_requests_total',
      ) as Counter<'outcome'>,
    };
  }
  const dispositions = new Counter({
    name: 'leakwatch_dispositions_total',
    help: 'Dispositions applied (an alert verdict that changed; repeats are not counted), by disposition and source (partner or console).',
    labelNames: ['disposition', 'source'] as const,
    registers: [registry],
  });
  for (const disposition of DISPOSITIONS) {
    for (const source of DISPOSITION_SOURCES) dispositions.inc({ disposition, source }, 0);
  }
  const intakeRequests = new Counter({
    name: 'leakwatch_disposition_intake_requests_total',
    help: 'Disposition posts by outcome: accepted, duplicate, or the error code answered.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  for (const outcome of ['accepted', 'duplicate', ...INTAKE_ERROR_CODES] as IntakeOutcome[]) {
    intakeRequests.inc({ outcome }, 0);
  }
  return { dispositions, intakeRequests };
}

/**
 * leakwatch_disposition_reason_verdicts{reason,disposition}: how many alerts each reason code
 * fired on are currently judged each way (CONFIRMED_FRAUD vs FALSE_POSITIVE is the reason's
 * precision), read from the shared counts at scrape time. Reason codes are the rules' closed
 * list, so the labels stay bounded; per-incident counts stay in Redis for the console.
 * A scrape never waits on Redis: on an error or after 1 s the last values stay.
 */
export function registerReasonVerdicts(registry: Registry, read: () => Promise<DispositionStats>): void {
  if (registry.getSingleMetric('leakwatch_disposition_reason_verdicts')) return;
  new Gauge({
    name: 'leakwatch_disposition_reason_verdicts',
    help: 'Alerts a reason code fired on, by their current disposition (all instances, from Redis).',
    labelNames: ['reason', 'disposition'] as const,
    registers: [registry],
    async collect() {
      let timer: NodeJS.Timeout | undefined;
      try {
        const stats = await Promise.race([
          read(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('disposition counts timed out')), 1000);
          }),
        ]);
        this.reset();
        for (const [reason, counts] of Object.entries(stats.byReason)) {
          for (const [disposition, count] of Object.entries(counts)) this.set({ reason, disposition }, count);
        }
      } catch {
        /* Redis away: keep the last values; readiness reports it */
      } finally {
        clearTimeout(timer);
      }
    },
  });
}
