import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { validateIncidentManifest, type IncidentManifest, type ManifestProblem } from '@leakwatch/contracts';
import { LeakwatchError } from '@leakwatch/errors';

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
  const result = validateIncidentManifest(value);
  if (!result.ok) throw manifestError(name, result.problems);
  return result.manifest;
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
    // V8 quotes a piece of the input (which may hold a card number, spaced or not): keep only
    // where the error is, never the text.
    const message = (error as Error).message;
    const at = /line (\d+) column (\d+)/.exec(message) ?? /position (\d+)/.exec(message);
    const where =
      at === null ? '' : at.length === 3 ? ` at line ${at[1]}, column ${at[2]}` : ` at position ${at[1]}`;
    throw manifestError(name, [{ path: '(manifest)', message: `is not valid JSON${where}` }]);
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
  try {
    return doc.toJS() as unknown;
  } catch (error) {
    // e.g. "Unresolved alias (…): <the alias name>": keep the rule, never the document's text
    const what = ((error as Error).message.split('\n')[0] ?? '').replace(/:.*$/, '');
    throw manifestError(name, [{ path: '(manifest)', message: `is not valid YAML: ${what}` }]);
  }
}

function manifestError(name: string, problems: ManifestProblem[]): LeakwatchError {
  const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  const lines = problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n');
  return new LeakwatchError('MANIFEST_INVALID', `invalid incident manifest ${name} (${count}):\n${lines}`, {
    details: { problems },
  });
}
