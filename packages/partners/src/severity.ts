import { SEVERITIES, type Severity } from '@leakwatch/rules';

const RANK: Readonly<Record<Severity, number>> = Object.fromEntries(
  SEVERITIES.map((severity, index) => [severity, index]),
) as Record<Severity, number>;

/** Negative when `a` is less severe than `b`, 0 when equal, positive when more severe. */
export function compareSeverity(a: Severity, b: Severity): number {
  return RANK[a] - RANK[b];
}

/** True when an alert of `severity` reaches a partner's `minSeverity` (LOW < MEDIUM < HIGH < CRITICAL). */
export function meetsMinSeverity(severity: Severity, minSeverity: Severity): boolean {
  return RANK[severity] >= RANK[minSeverity];
}
