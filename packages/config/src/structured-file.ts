import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';

/** One thing wrong with a file, named by where it is: a field path, or a line and column. */
export interface FileProblem {
  path: string;
  message: string;
}

/**
 * Reads YAML or JSON text (YAML 1.2 reads JSON too) into plain values. Syntax errors and duplicate
 * keys are listed with line and column; an empty document is a problem, not "all defaults", so a
 * file caught half-written never silently replaces a rule set.
 */
export function parseStructuredText(text: string): { value: unknown } | { problems: FileProblem[] } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    return {
      problems: document.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return { path: `line ${line}, column ${col}`, message: error.message };
      }),
    };
  }
  const value: unknown = document.toJS({ maxAliasCount: 100 });
  if (value === null || value === undefined) {
    return { problems: [{ path: '(file)', message: 'is empty' }] };
  }
  return { value };
}

/** `rules.VELOCITY.points`, `partners[2].binPrefixes[0]`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out.length === 0 ? String(part) : `.${String(part)}`;
  }
  return out.length > 0 ? out : '(top level)';
}

/** Zod issues as problems; nested key issues are spelled out instead of "Invalid key in record". */
export function zodProblems(issues: readonly z.core.$ZodIssue[]): FileProblem[] {
  return issues.map((issue) => {
    let message = issue.message;
    if (issue.code === 'invalid_key') message = issue.issues.map((inner) => inner.message).join('; ');
    if (issue.code === 'invalid_type' && message.endsWith('received undefined')) message = 'is required';
    return { path: formatPath(issue.path), message };
  });
}

/** "3 problems:\n  - path: message\n ..." */
export function formatProblems(problems: readonly FileProblem[]): string {
  const head = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  return `${head}:\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`;
}
