import { type ErrorCode } from '@leakwatch/errors';
import { type z } from 'zod';

/** The codes a failed validation carries: poison, never retried. */
export type ValidationCode = Extract<ErrorCode, 'VALIDATION_FAILED' | 'INVALID_PAN' | 'INVALID_EXPIRY'>;

/** One problem: the field's path and the rule it broke. Never the value. */
export interface ValidationProblem {
  path: string;
  message: string;
}

export type ValidationResult<T> =
  | { ok: true; value: T }
  | { ok: false; code: ValidationCode; message: string; problems: ValidationProblem[] };

/** At most this many problems are spelled out in `message` (all are in `problems`). */
const MESSAGE_PROBLEMS = 8;

/**
 * The error map every parse in this package runs with. Rules that matter carry their own message
 * on the schema (which takes precedence); this covers the rest (types, missing fields). It builds
 * each message from the rule alone and never looks at `issue.input`: a card number sent in the
 * wrong field must not come back in a dead-letter header.
 */
export const safeErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      if (issue.input === null) return 'must not be null';
      return `must be ${issue.expected === 'array' || issue.expected === 'object' ? 'an' : 'a'} ${issue.expected}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}${sizeUnit(issue.origin)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}${sizeUnit(issue.origin)}`;
    case 'invalid_format':
      return `must be a valid ${issue.format}`;
    case 'invalid_value':
      if (issue.input === undefined) return 'is required';
      if (issue.input === null) return 'must not be null';
      // the allowed values come from the schema, not from the input
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_union':
      return 'does not match any allowed form';
    case 'unrecognized_keys':
      // the keys themselves are input and could be anything, a card number included
      return 'has unexpected fields';
    default:
      return 'is invalid';
  }
};

function sizeUnit(origin: string): string {
  if (origin === 'string') return ' characters';
  if (origin === 'array' || origin === 'set') return ' items';
  return '';
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(record)' : out;
}

/** Joins problems into one line that names each field and rule, e.g. `currency: must be ...`. */
function describeProblems(what: string, problems: readonly ValidationProblem[]): string {
  const shown = problems.slice(0, MESSAGE_PROBLEMS).map((p) => `${p.path}: ${p.message}`);
  const more = problems.length - shown.length;
  return `invalid ${what}: ${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}

/**
 * Runs `schema` with the safe error map and turns its outcome into a {@link ValidationResult}.
 * `classify` picks the code from the problems (VALIDATION_FAILED when absent). `knownInvalid`:
 * a plain check already refused the input, so only the worded parse is run (should the schema
 * accept it after all, its value is returned: zod stays the judge).
 */
export function validateWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
  classify?: (problems: readonly ValidationProblem[]) => ValidationCode,
  options: { knownInvalid?: boolean } = {},
): ValidationResult<z.output<S>> {
  if (options.knownInvalid !== true) {
    // Parse options (such as an error map) take zod off its fast path, more than doubling the
    // cost of a valid record: the map is only used to explain a failure, on a second parse.
    const fast = schema.safeParse(input);
    if (fast.success) return { ok: true, value: fast.data };
  }
  const result = schema.safeParse(input, { error: safeErrorMap });
  if (result.success) return { ok: true, value: result.data };
  const problems = result.error.issues.map((issue) => ({
    path: formatPath(issue.path),
    message: issue.message,
  }));
  return {
    ok: false,
    code: classify?.(problems) ?? 'VALIDATION_FAILED',
    message: describeProblems(what, problems),
    problems,
  };
}
