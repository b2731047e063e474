import {
  isIncidentId,
  validateIncidentManifest,
  type CompromiseType,
  type ExposedData,
  type IncidentManifest,
} from '@leakwatch/contracts';
import { LeakwatchError } from '@leakwatch/errors';

/** The manifest fields of a compromise incident: the contract's manifest (@leakwatch/contracts). */
export type { IncidentManifest };

export type IncidentStatus = 'active' | 'retired';

/** An incident as stored: the manifest plus what the store adds. */
export interface Incident extends IncidentManifest {
  /** Small integer given at creation, never reused; card entries refer to it. */
  number: number;
  status: IncidentStatus;
  createdAt: string;
  updatedAt: string;
  retiredAt: string | null;
}

export interface IncidentWithCount extends Incident {
  /** Cards currently watched in this incident (0 once retired). */
  watchedCards: number;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

export { isIncidentId };

/**
 * When watching ends, exclusive, in ms: a date-only `watchUntil` covers that whole day (UTC),
 * a date-time ends at that instant. null = never.
 */
export function watchEndMs(watchUntil: string | null): number | null {
  if (watchUntil === null) return null;
  return DATE_ONLY.test(watchUntil) ? Date.parse(watchUntil) + DAY_MS : Date.parse(watchUntil);
}

/**
 * Checks a manifest by the contract's rule and returns a normalized copy (exposed data
 * de-duplicated, in the contract's order); MANIFEST_INVALID lists every problem.
 */
export function checkManifest(manifest: IncidentManifest): IncidentManifest {
  const {
    incidentId,
    source,
    compromiseType,
    exposureStart,
    exposureEnd,
    disclosedAt,
    dataExposed,
    watchUntil,
  } = manifest;
  const result = validateIncidentManifest({
    incidentId,
    source,
    compromiseType,
    exposureStart,
    exposureEnd,
    disclosedAt,
    dataExposed,
    watchUntil,
  });
  if (!result.ok) {
    const problems = result.problems.map((p) => `${p.path} ${p.message}`);
    throw new LeakwatchError('MANIFEST_INVALID', `incident manifest is invalid: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  return result.manifest;
}

/** Manifest fields as hash fields (watchUntil null = empty string, dataExposed comma-joined). */
export function manifestToHash(manifest: IncidentManifest): [string, string][] {
  return [
    ['incidentId', manifest.incidentId],
    ['source', manifest.source],
    ['compromiseType', manifest.compromiseType],
    ['exposureStart', manifest.exposureStart ?? ''],
    ['exposureEnd', manifest.exposureEnd ?? ''],
    ['disclosedAt', manifest.disclosedAt],
    ['dataExposed', manifest.dataExposed.join(',')],
    ['watchUntil', manifest.watchUntil ?? ''],
  ];
}

export function incidentFromHash(hash: Record<string, string>): Incident | null {
  const number = Number(hash.number);
  if (!hash.incidentId || !Number.isInteger(number) || number < 1) return null;
  return {
    incidentId: hash.incidentId,
    source: hash.source ?? '',
    compromiseType: (hash.compromiseType ?? 'UNKNOWN') as CompromiseType,
    exposureStart: hash.exposureStart ? hash.exposureStart : null,
    exposureEnd: hash.exposureEnd ? hash.exposureEnd : null,
    disclosedAt: hash.disclosedAt ?? '',
    dataExposed: hash.dataExposed ? (hash.dataExposed.split(',') as ExposedData[]) : [],
    watchUntil: hash.watchUntil ? hash.watchUntil : null,
    number,
    status: hash.status === 'retired' ? 'retired' : 'active',
    createdAt: hash.createdAt ?? '',
    updatedAt: hash.updatedAt ?? hash.createdAt ?? '',
    retiredAt: hash.retiredAt ? hash.retiredAt : null,
  };
}

/** True while an incident's cards raise alerts: not retired and not past `watchUntil`. */
export function isWatching(incident: Incident, nowMs: number): boolean {
  if (incident.status !== 'active') return false;
  const end = watchEndMs(incident.watchUntil);
  return end === null || nowMs < end;
}
