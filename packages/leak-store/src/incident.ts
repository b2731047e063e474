import { COMPROMISE_TYPES, EXPOSED_DATA, type CompromiseType, type ExposedData } from '@leakwatch/contracts';
import { LeakwatchError } from '@leakwatch/errors';

/** The manifest fields of a compromise incident (SPEC "Compromise incidents"). Dates are ISO-8601 strings. */
export interface IncidentManifest {
  incidentId: string;
  source: string;
  compromiseType: CompromiseType;
  /** null when the exposure window is not known (SPEC leaves room for open incidents). */
  exposureStart: string | null;
  exposureEnd: string | null;
  disclosedAt: string;
  dataExposed: readonly ExposedData[];
  /** Last day (or instant) the incident's cards are watched; null = until retired. */
  watchUntil: string | null;
}

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

const INCIDENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const DAY_MS = 86_400_000;

export function isIncidentId(value: string): boolean {
  return typeof value === 'string' && INCIDENT_ID_PATTERN.test(value);
}

function isIsoDate(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    (DATE_ONLY.test(value) || DATE_TIME.test(value)) &&
    !Number.isNaN(Date.parse(value))
  );
}

/** Start of a date's first instant, in ms. */
function startMs(value: string): number {
  return Date.parse(value);
}

/**
 * When watching ends, exclusive, in ms: a date-only `watchUntil` covers that whole day (UTC),
 * a date-time ends at that instant. null = never.
 */
export function watchEndMs(watchUntil: string | null): number | null {
  if (watchUntil === null) return null;
  return DATE_ONLY.test(watchUntil) ? Date.parse(watchUntil) + DAY_MS : Date.parse(watchUntil);
}

/** Checks a manifest and returns a normalized copy (exposed data de-duplicated, in SPEC order). */
export function checkManifest(manifest: IncidentManifest): IncidentManifest {
  const problems: string[] = [];
  const m = manifest as Partial<Record<keyof IncidentManifest, unknown>>;
  if (!isIncidentId(m.incidentId as string)) {
    problems.push(
      'incidentId must be 1-128 characters of A-Z a-z 0-9 . _ : - starting with a letter or digit',
    );
  }
  if (typeof m.source !== 'string' || m.source.trim().length === 0 || m.source.length > 1000) {
    problems.push('source must be a non-empty string of at most 1000 characters');
  }
  if (!COMPROMISE_TYPES.includes(m.compromiseType as CompromiseType)) {
    problems.push(`compromiseType must be one of ${COMPROMISE_TYPES.join(', ')}`);
  }
  if (!isIsoDate(m.disclosedAt)) problems.push('disclosedAt must be an ISO-8601 date or date-time');
  for (const field of ['exposureStart', 'exposureEnd'] as const) {
    if (m[field] !== null && !isIsoDate(m[field])) {
      problems.push(`${field} must be an ISO-8601 date or date-time, or null`);
    }
  }
  if (m.watchUntil !== null && !isIsoDate(m.watchUntil)) {
    problems.push('watchUntil must be an ISO-8601 date or date-time, or null');
  }
  if (
    isIsoDate(m.exposureStart) &&
    isIsoDate(m.exposureEnd) &&
    startMs(m.exposureStart) > startMs(m.exposureEnd)
  ) {
    problems.push('exposureStart is after exposureEnd');
  }
  const exposed = Array.isArray(m.dataExposed) ? (m.dataExposed as unknown[]) : null;
  if (!exposed || exposed.some((d) => !EXPOSED_DATA.includes(d as ExposedData))) {
    problems.push(`dataExposed must be a list of ${EXPOSED_DATA.join(', ')}`);
  }
  if (problems.length > 0) {
    throw new LeakwatchError('MANIFEST_INVALID', `incident manifest is invalid: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  return {
    incidentId: manifest.incidentId,
    source: manifest.source,
    compromiseType: manifest.compromiseType,
    exposureStart: manifest.exposureStart,
    exposureEnd: manifest.exposureEnd,
    disclosedAt: manifest.disclosedAt,
    dataExposed: EXPOSED_DATA.filter((d) => manifest.dataExposed.includes(d)),
    watchUntil: manifest.watchUntil,
  };
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
