import { Counter, type Registry } from 'prom-client';
import { DISPOSITIONS } from '@leakwatch/contracts';
import { DISPOSITION_SOURCES } from './applier.js';
import { INTAKE_ERROR_CODES, type IntakeOutcome } from './intake.js';

export interface DispositionMetrics {
  /** leakwatch_dispositions_total{disposition,source}: verdicts applied (repeats not counted). */
  dispositions: Counter<'disposition' | 'source'>;
  /** leakwatch_disposition_intake_requests_total{outcome}: what the intake answered. */
  intakeRequests: Counter<'outcome'>;
}

/** The dispositions' metrics, on the service's registry; every label value starts at 0. */
export function createDispositionMetrics(registry: Registry): DispositionMetrics {
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
