import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { COMPROMISE_TYPES, EXPOSED_DATA } from '@leakwatch/contracts';
import { LeakwatchError } from '@leakwatch/errors';

/**
 * Incident ids become part of Redis keys: letters, digits, `.`, `_` and `-` only (no `:` key
 * separators, no `{}` cluster hash tags, no glob characters), starting with a letter or digit.
 */
export const INCIDENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

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
export function isIsoDate(value: string): boolean {
  const match = DATE.exec(value) ?? DATE_TIME.exec(value);
  return match !== null && isCalendarDate(match[1]!, match[2]!, match[3]!);
}

/**
 * The instant an ISO date or date-time stands for. A date alone is a whole UTC day: its first
 * millisecond as a start, its last as an end (so an exposure from 2020-02-24 to 2024-10-15 includes
 * the 15th).
 */
export function isoInstant(value: string, edge: 'start' | 'end'): number {
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

/** The manifest's shape; cross-field checks (date order) are added by {@link parseManifest}. */
export const incidentManifestSchema = z.strictObject({
  incidentId: z
    .string(required('must be a string'))
    .regex(INCIDENT_ID, 'must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit'),
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
 * unknown (null): an open-ended incident is watched until it is retired. Dates are kept as written.
 */
export type IncidentManifest = z.output<typeof incidentManifestSchema>;

export interface ManifestProblem {
  path: string;
  message: string;
}

export interface ParseManifestOptions {
  /** Default: from the name's extension (.json, .yaml, .yml), else JSON when the text starts with `{`. */
  format?: 'json' | 'yaml' | undefined;
  /** Named in error messages. */
  name?: string | undefined;
}

const MAX_MANIFEST_BYTES = 1024 * 1024;

/**
 * Parses and validates an incident manifest (JSON or YAML). A malformed one fails with
 * MANIFEST_INVALID listing every problem with its field path, date order included.
 */
export function parseManifest(text: string, options: ParseManifestOptions = {}): IncidentManifest {
  const name = options.name ?? 'manifest';
  const format = options.format ?? formatOf(name, text);
  const value = format === 'json' ? parseJson(text, name) : parseYaml(text, name);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw manifestError(name, [{ path: '(manifest)', message: 'must be an object (a mapping of fields)' }]);
  }
  const result = incidentManifestSchema.safeParse(value);
  const problems: ManifestProblem[] = result.success
    ? []
    : result.error.issues.map((issue) => ({
        path: issue.path.length > 0 ? issue.path.join('.') : '(manifest)',
        message: issue.message,
      }));
  problems.push(...dateOrderProblems(value as Record<string, unknown>));
  if (!result.success || problems.length > 0) throw manifestError(name, problems);
  return result.data;
}

/** Reads and validates a manifest file; FILE_UNREADABLE when it cannot be read. */
export async function readManifest(path: string): Promise<IncidentManifest> {
  let text: string;
  try {
    const bytes = await readFile(path);
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw manifestError(path, [
        { path: '(manifest)', message: `is larger than ${MAX_MANIFEST_BYTES} bytes` },
      ]);
    }
    text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    if (error instanceof LeakwatchError) throw error;
    throw new LeakwatchError('FILE_UNREADABLE', `cannot read manifest ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseManifest(text, { name: path });
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

function formatOf(name: string, text: string): 'json' | 'yaml' {
  const ext = extname(name).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  return text.trimStart().startsWith('{') ? 'json' : 'yaml';
}

function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // V8 may quote a piece of the input; keep the position, drop anything that looks like a number.
    const message = (error as Error).message.replace(/\d{6,}/g, '…');
    throw manifestError(name, [{ path: '(manifest)', message: `is not valid JSON: ${message}` }]);
  }
}

function parseYaml(text: string, name: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw manifestError(
      name,
      doc.errors.map((error) => {
        // The first line only, without its position: the rest quotes the document.
        const at = error.linePos?.[0];
        const where = at ? `line ${at.line}, column ${at.col}: ` : '';
        const what = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
        return { path: '(manifest)', message: `is not valid YAML: ${where}${what}` };
      }),
    );
  }
  return doc.toJS() as unknown;
}

function manifestError(name: string, problems: ManifestProblem[]): LeakwatchError {
  const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  const lines = problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n');
  return new LeakwatchError('MANIFEST_INVALID', `invalid incident manifest ${name} (${count}):\n${lines}`, {
    details: { problems },
  });
}
