import { z } from 'zod';
import { COMPROMISE_TYPES, EXPOSED_DATA } from './compromise.js';
import { INCIDENT_ID_PATTERN, INCIDENT_ID_RULE } from './rules.js';

/**
 * The incident manifest of the contract (docs/contract.md, "Compromise incidents"), defined once: the import
 * reads files with it and the leak store checks what it is given with it.
 */

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)(:([0-5]\d)(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
const DAY_MS = 86_400_000;

function isCalendarDate(year: string, month: string, day: string): boolean {
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** True for an ISO 8601 date (YYYY-MM-DD) or date-time with seconds optional and an offset or Z. */
export function isIsoDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = DATE.exec(value) ?? DATE_TIME.exec(value);
  return match !== null && isCalendarDate(match[1]!, match[2]!, match[3]!);
}

/**
 * The instant an ISO date or date-time stands for. A date alone is a whole UTC day: its first
 * millisecond as a start, its last as an end (so an exposure from 2020-02-24 to 2024-10-15 includes
 * the 15th).
 */
function isoInstant(value: string, edge: 'start' | 'end'): number {
  if (DATE.test(value)) return Date.parse(`${value}T00:00:00Z`) + (edge === 'end' ? DAY_MS - 1 : 0);
  return Date.parse(value);
}

/** "is required" when absent, else `message`: zod's own type errors read poorly in a manifest. */
function required(message: string) {
  return { error: (issue: { input: unknown }) => (issue.input === undefined ? 'is required' : message) };
}

const isoDate = z
  .string(required('must be an ISO date (YYYY-MM-DD) or date-time with offset'))
  .trim()
  .refine(
    isIsoDate,
    'must be an ISO date (YYYY-MM-DD) or date-time with offset, e.g. 2024-10-15 or 2024-10-15T09:00:00+09:00',
  );

const optionalIsoDate = isoDate.nullish().transform((value) => value ?? null);

/** The manifest's shape, unknown keys refused; cross-field checks are in {@link validateIncidentManifest}. */
const incidentManifestSchema = z.strictObject({
  incidentId: z.string(required('must be a string')).regex(INCIDENT_ID_PATTERN, INCIDENT_ID_RULE),
  source: z
    .string(required('must be a string'))
    .trim()
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters'),
  compromiseType: z.enum(COMPROMISE_TYPES, required(`must be one of ${COMPROMISE_TYPES.join(', ')}`)),
  exposureStart: optionalIsoDate,
  exposureEnd: optionalIsoDate,
  disclosedAt: isoDate,
  dataExposed: z
    .array(
      z.enum(EXPOSED_DATA, { message: `must be one of ${EXPOSED_DATA.join(', ')}` }),
      required(`must be a list of ${EXPOSED_DATA.join(', ')}`),
    )
    .min(1, 'must list at least one kind of data')
    .transform((values) => EXPOSED_DATA.filter((kind) => values.includes(kind))),
  watchUntil: optionalIsoDate,
});

/**
 * A compromise incident. `disclosedAt` is required; the exposure window and `watchUntil` may be
 * unknown (null): an open-ended incident is watched until it is retired. Dates are kept as written
 * (trimmed); exposed data is de-duplicated, in the contract's order.
 */
export type IncidentManifest = z.output<typeof incidentManifestSchema>;

export interface ManifestProblem {
  /** Dotted field path, or `(manifest)` for the whole. */
  path: string;
  message: string;
}

export type ManifestResult =
  { ok: true; manifest: IncidentManifest } | { ok: false; problems: ManifestProblem[] };

/**
 * Validates a manifest value (already parsed from JSON or YAML): every problem, with its field
 * path, date order included. Messages name the rule, never the value.
 */
export function validateIncidentManifest(value: unknown): ManifestResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      ok: false,
      problems: [{ path: '(manifest)', message: 'must be an object (a mapping of fields)' }],
    };
  }
  const result = incidentManifestSchema.safeParse(value);
  const problems: ManifestProblem[] = result.success
    ? []
    : result.error.issues.map((issue) => ({
        path: issue.path.length > 0 ? issue.path.join('.') : '(manifest)',
        message: issue.message,
      }));
  problems.push(...dateOrderProblems(value as Record<string, unknown>));
  if (!result.success || problems.length > 0) return { ok: false, problems };
  return { ok: true, manifest: result.data };
}

/** The manifest's dates as epoch milliseconds (dates alone as whole UTC days), for windows and expiry. */
export function manifestInstants(manifest: IncidentManifest): {
  exposureStart: number | null;
  exposureEnd: number | null;
  disclosedAt: number;
  watchUntil: number | null;
} {
  return {
    exposureStart: manifest.exposureStart === null ? null : isoInstant(manifest.exposureStart, 'start'),
    exposureEnd: manifest.exposureEnd === null ? null : isoInstant(manifest.exposureEnd, 'end'),
    disclosedAt: isoInstant(manifest.disclosedAt, 'start'),
    watchUntil: manifest.watchUntil === null ? null : isoInstant(manifest.watchUntil, 'end'),
  };
}

/** Order checks between dates that are each valid, run even when other fields have problems. */
function dateOrderProblems(raw: Record<string, unknown>): ManifestProblem[] {
  const date = (field: string): string | undefined => {
    const value = raw[field];
    return typeof value === 'string' && isIsoDate(value.trim()) ? value.trim() : undefined;
  };
  const start = date('exposureStart');
  const end = date('exposureEnd');
  const disclosed = date('disclosedAt');
  const watch = date('watchUntil');
  const problems: ManifestProblem[] = [];
  const before = (a: string, b: string) => isoInstant(a, 'end') < isoInstant(b, 'start');
  if (start && end && before(end, start))
    problems.push({ path: 'exposureEnd', message: 'must not be before exposureStart' });
  if (start && disclosed && before(disclosed, start)) {
    problems.push({ path: 'disclosedAt', message: 'must not be before exposureStart' });
  }
  if (watch && end && before(watch, end))
    problems.push({ path: 'watchUntil', message: 'must not be before exposureEnd' });
  if (watch && disclosed && before(watch, disclosed)) {
    problems.push({ path: 'watchUntil', message: 'must not be before disclosedAt' });
  }
  return problems;
}
