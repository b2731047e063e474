import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { formatProblems, parseStructuredText, zodProblems, type FileProblem } from '@leakwatch/config';
import { LeakwatchError } from '@leakwatch/errors';
import { rulesConfigSchema, type RulesConfig } from './config.js';

/** A loaded rule set: what the rules say, where they came from, and their content hash. */
export interface RuleSet {
  /** `rs-` and the first 12 hex digits of the SHA-256 of the canonical JSON of `config`. */
  readonly version: string;
  /** The file path, or `built-in defaults`. */
  readonly source: string;
  /** Parsed, defaults applied, deeply frozen. */
  readonly config: Readonly<RulesConfig>;
}

export const BUILT_IN_SOURCE = 'built-in defaults';

/**
 * JSON with object keys sorted at every level (arrays keep their order). Two files that differ
 * only in formatting, comments, key order or YAML-vs-JSON give the same text, hence the same version.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(inner).sort()) sorted[key] = (inner as Record<string, unknown>)[key];
    return sorted;
  });
}

/** The content hash of a defaults-applied config: `rs-` + 12 hex digits. */
export function ruleSetVersion(config: RulesConfig): string {
  return `rs-${createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 12)}`;
}

function invalid(source: string, problems: readonly FileProblem[]): LeakwatchError {
  return new LeakwatchError('RULES_INVALID', `invalid rules file ${source} (${formatProblems(problems)})`, {
    details: { source, problems },
  });
}

/**
 * Validates plain values (a parsed file) as a rule set and applies defaults.
 * @throws LeakwatchError RULES_INVALID listing every problem with its path.
 */
export function ruleSetFromObject(value: unknown, source: string): RuleSet {
  const result = rulesConfigSchema.safeParse(value);
  if (!result.success) throw invalid(source, zodProblems(result.error.issues));
  const config = deepFreeze(structuredClone(result.data));
  return Object.freeze({ version: ruleSetVersion(config), source, config });
}

/**
 * Parses rules file text (YAML or JSON).
 * @throws LeakwatchError RULES_INVALID listing every syntax or validation problem.
 */
export function parseRuleSet(text: string, source: string): RuleSet {
  const parsed = parseStructuredText(text);
  if ('problems' in parsed) throw invalid(source, parsed.problems);
  return ruleSetFromObject(parsed.value, source);
}

/**
 * Loads the rules file at `path`, or the built-in defaults when `path` is undefined.
 * @throws LeakwatchError FILE_UNREADABLE when the file cannot be read, RULES_INVALID when it is wrong.
 */
export async function loadRuleSet(path?: string): Promise<RuleSet> {
  if (path === undefined) return defaultRuleSet();
  return parseRuleSet(await readRulesFile(path), path);
}

/** @internal shared with the watcher. */
export async function readRulesFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? 'read failed';
    throw new LeakwatchError('FILE_UNREADABLE', `cannot read rules file ${path} (${reason})`, {
      cause,
      details: { source: path },
    });
  }
}

let builtIn: RuleSet | undefined;

/** The built-in rule set (`DEFAULT_RULES_CONFIG`), used when no rules file is configured. */
export function defaultRuleSet(): RuleSet {
  builtIn ??= ruleSetFromObject({}, BUILT_IN_SOURCE);
  return builtIn;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
