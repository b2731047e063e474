import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every relative link in the README and docs/ must lead to a file of this repository, so the
// documentation works from a fresh clone (nothing points outside it, nothing is left dangling).
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const documents = [
  'README.md',
  ...readdirSync(join(REPO_ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** Link targets of inline Markdown links and images, outside code blocks and code spans. */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] ?? '');
}

function isRelative(target: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#') && !target.startsWith('//');
}

describe('documentation links', () => {
  it('finds the documents', () => {
    expect(documents).toContain('README.md');
    expect(documents).toContain('docs/contract.md');
  });

  it.each(documents)('every relative link in %s resolves to a file in the repository', (document) => {
    const text = readFileSync(join(REPO_ROOT, document), 'utf8');
    const broken: string[] = [];
    for (const target of linkTargets(text).filter(isRelative)) {
      const path = decodeURIComponent(target.split('#')[0] ?? '');
      const file = resolve(dirname(join(REPO_ROOT, document)), path);
      const inside = !relative(REPO_ROOT, file).startsWith('..');
      if (!inside || !existsSync(file)) broken.push(target);
    }
    expect(broken).toEqual([]);
  });

  it('reads link targets the way Markdown does', () => {
    expect(linkTargets('see [a](docs/a.md), ![b](img/b.png "t") and `[c](no.md)`')).toEqual([
      'docs/a.md',
      'img/b.png',
    ]);
    expect(linkTargets('```\n[d](no.md)\n```\n[e](docs/e.md#part)')).toEqual(['docs/e.md#part']);
    expect(isRelative('https://example.com/x')).toBe(false);
    expect(isRelative('#section')).toBe(false);
    expect(isRelative('../shared/SPEC.md')).toBe(true);
  });
});
