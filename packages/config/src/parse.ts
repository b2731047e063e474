import { LeakwatchError } from '@leakwatch/errors';
import { z } from 'zod';

/** Lists every problem of a failed parse, one per line, each with the variable it concerns. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : '(environment)';
      return `  - ${path}: ${issue.message}`;
    })
    .join('\n');
}

/**
 * Parses the environment once, at start-up. Every problem is listed in one error, so an
 * operator fixes the configuration in one go instead of one restart per mistake.
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
  what = 'configuration',
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new LeakwatchError(
    'CONFIG_INVALID',
    `invalid ${what} (${result.error.issues.length} problem${result.error.issues.length === 1 ? '' : 's'}):\n${formatIssues(result.error.issues)}`,
    {
      details: { problems: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    },
  );
}

/** "true" or "false" only: `z.coerce.boolean()` would read "false" as true. */
export function booleanString(defaultValue: boolean) {
  return z
    .enum(['true', 'false'], { message: 'must be "true" or "false"' })
    .optional()
    .transform((value) => (value === undefined ? defaultValue : value === 'true'));
}

/** A comma-separated list with blanks dropped. */
export function csvList() {
  return z.string().transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.length > 0),
  );
}

export function portNumber(defaultValue: number) {
  return z.coerce
    .number({ message: 'must be a port number' })
    .int('must be a whole number')
    .min(0, 'must be between 0 and 65535')
    .max(65535, 'must be between 0 and 65535')
    .default(defaultValue);
}
