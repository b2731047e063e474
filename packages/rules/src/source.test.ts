import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LeakwatchError } from '@leakwatch/errors';
import { defaultRuleSet, type RuleSet } from './rule-set.js';
import { openRuleSetSource, staticRuleSetSource, type RuleSetSource, type RulesLogger } from './source.js';

const waitFor = { timeout: 5000, interval: 10 };

describe.each([
  { mode: 'fs.watch', fsWatch: true, pollIntervalMs: 60_000 },
  { mode: 'polling only', fsWatch: false, pollIntervalMs: 25 },
])('openRuleSetSource ($mode)', ({ fsWatch, pollIntervalMs }) => {
  let dir: string;
  let path: string;
  let source: RuleSetSource | undefined;
  let reloads: { next: RuleSet; previous: RuleSet }[];
  let errors: LeakwatchError[];
  let logged: { level: string; object: Record<string, unknown>; message: string }[];

  const logger: RulesLogger = {
    info: (object, message) => logged.push({ level: 'info', object, message }),
    warn: (object, message) => logged.push({ level: 'warn', object, message }),
  };

  async function open(): Promise<RuleSetSource> {
    source = await openRuleSetSource({
      path,
      fsWatch,
      pollIntervalMs,
      debounceMs: 20,
      logger,
      onReload: (next, previous) => reloads.push({ next, previous }),
      onError: (error) => errors.push(error),
    });
    return source;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lw-rules-watch-'));
    path = join(dir, 'rules.yaml');
    await writeFile(path, 'alertMinScore: 10\n');
    reloads = [];
    errors = [];
    logged = [];
  });

  afterEach(async () => {
    await source?.close();
    source = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('reloads when the file changes', async () => {
    const rules = await open();
    const first = rules.current();
    expect(first.config.alertMinScore).toBe(10);
    await writeFile(path, 'alertMinScore: 30\n');
    await vi.waitFor(() => expect(rules.current().config.alertMinScore).toBe(30), waitFor);
    expect(reloads).toHaveLength(1);
    expect(reloads[0]?.previous).toBe(first);
    expect(reloads[0]?.next.version).not.toBe(first.version);
    expect(logged.at(-1)).toMatchObject({ level: 'info', message: 'rules reloaded' });
  });

  it('reloads when an editor replaces the file (new inode)', async () => {
    const rules = await open();
    const temporary = join(dir, '.rules.yaml.tmp');
    await writeFile(temporary, 'alertMinScore: 40\n');
    await rename(temporary, path);
    await vi.waitFor(() => expect(rules.current().config.alertMinScore).toBe(40), waitFor);
  });

  it('keeps the last good rule set when the new file is invalid, then takes the next good one', async () => {
    const rules = await open();
    const good = rules.current();
    await writeFile(path, 'alertMinScore: 300\nrules: { VELOCITY: { pionts: 1 } }\n');
    await vi.waitFor(() => expect(errors).toHaveLength(1), waitFor);
    expect(errors[0]?.code).toBe('RULES_INVALID');
    expect(errors[0]?.message).toContain('2 problems');
    expect(rules.current()).toBe(good);
    expect(logged.at(-1)).toMatchObject({
      level: 'warn',
      object: { code: 'RULES_INVALID', ruleSetVersion: good.version },
    });

    await writeFile(path, 'alertMinScore: 20\n');
    await vi.waitFor(() => expect(rules.current().config.alertMinScore).toBe(20), waitFor);
    expect(reloads.map((r) => r.previous)).toEqual([good]);
    expect(errors).toHaveLength(1);
  });

  it('reports a file that disappears and keeps the rule set', async () => {
    const rules = await open();
    const good = rules.current();
    await rm(path);
    await vi.waitFor(() => expect(errors.map((e) => e.code)).toContain('FILE_UNREADABLE'), waitFor);
    expect(rules.current()).toBe(good);
  });

  it('does not reload for a change of formatting only', async () => {
    const rules = await open();
    const first = rules.current();
    await writeFile(path, '# same rules, new comment\nalertMinScore:   10\n');
    await rules.reload();
    expect(rules.current()).toBe(first);
    expect(reloads).toHaveLength(0);
    expect(errors).toHaveLength(0);
  });

  it('reload() applies a change at once', async () => {
    const rules = await open();
    await writeFile(path, 'alertMinScore: 55\n');
    await rules.reload();
    expect(rules.current().config.alertMinScore).toBe(55);
  });

  it('close() is idempotent and stops reloading', async () => {
    const rules = await open();
    const closing = rules.close();
    expect(rules.close()).toBe(closing);
    await closing;
    await writeFile(path, 'alertMinScore: 70\n');
    await rules.reload();
    expect(rules.current().config.alertMinScore).toBe(10);
    expect(reloads).toHaveLength(0);
  });

  it('refuses to start on an invalid file', async () => {
    await writeFile(path, 'alertMinScore: -1\n');
    await expect(open()).rejects.toMatchObject({ code: 'RULES_INVALID' });
    source = undefined;
  });
});

describe('openRuleSetSource', () => {
  it('holds no ref on the event loop', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lw-rules-ref-'));
    const path = join(dir, 'rules.yaml');
    await writeFile(path, 'alertMinScore: 1\n');
    // Only resources that keep the loop alive are listed; ours (a timer, a watcher) must not be.
    const count = () =>
      process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'FSEventWrap').length;
    const before = count();
    const rules = await openRuleSetSource({ path, pollIntervalMs: 10 });
    expect(count()).toBeLessThanOrEqual(before);
    await rules.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('without a path serves the built-in defaults and never changes', async () => {
    const rules = await openRuleSetSource();
    expect(rules.current()).toBe(defaultRuleSet());
    await rules.reload();
    expect(rules.close()).toBe(rules.close());
    expect(staticRuleSetSource().current()).toBe(defaultRuleSet());
  });
});
