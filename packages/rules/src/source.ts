import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { LeakwatchError, describeError } from '@leakwatch/errors';
import { defaultRuleSet, parseRuleSet, readRulesFile, type RuleSet } from './rule-set.js';

/** The few logger methods the watcher uses; a pino `Logger` fits. */
export interface RulesLogger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
}

/** Where the monitor gets the rule set to apply to the next batch. */
export interface RuleSetSource {
  /** The rule set in force: the last one that loaded cleanly. */
  current(): RuleSet;
  /** Re-reads the file now (e.g. on SIGHUP); resolves once done. A no-op for a static source. */
  reload(): Promise<void>;
  /** Stops watching. Idempotent: every call returns the same promise. */
  close(): Promise<void>;
}

export interface RuleSetSourceOptions {
  /** The rules file; undefined means the built-in defaults, never reloaded. */
  path?: string | undefined;
  /** Called after a changed file loaded cleanly and replaced the rule set. */
  onReload?: (next: RuleSet, previous: RuleSet) => void;
  /** Called when a changed file cannot be read or is invalid; the previous rule set stays. */
  onError?: (error: LeakwatchError) => void;
  logger?: RulesLogger;
  /** Quiet time after the last change before reading the file (editors write in bursts). Default 200 ms. */
  debounceMs?: number;
  /**
   * How often the file is stat'ed in case no watch event arrives: network file systems,
   * Kubernetes ConfigMap symlink swaps, editors that replace the file. Default 5000 ms.
   */
  pollIntervalMs?: number;
  /** Use fs.watch besides polling (default true); false relies on polling alone. */
  fsWatch?: boolean;
}

/** A source that never changes: the built-in defaults, or a rule set built in a test. */
export function staticRuleSetSource(ruleSet: RuleSet = defaultRuleSet()): RuleSetSource {
  const closed = Promise.resolve();
  return { current: () => ruleSet, reload: () => Promise.resolve(), close: () => closed };
}

/**
 * Loads the rules file and keeps it current: a clean change replaces the rule set, a broken one
 * is reported and the last good set stays in force. Timers and the watcher are unref'd, so the
 * source never keeps a process alive.
 *
 * @throws LeakwatchError RULES_INVALID or FILE_UNREADABLE when the first load fails: a service
 * must not start on rules it cannot read.
 */
export async function openRuleSetSource(options: RuleSetSourceOptions = {}): Promise<RuleSetSource> {
  if (options.path === undefined) return staticRuleSetSource();
  const path = options.path;
  const text = await readRulesFile(path);
  const source = new FileRuleSetSource(path, parseRuleSet(text, path), text, options);
  await source.start();
  return source;
}

type StatSignature = string;

class FileRuleSetSource implements RuleSetSource {
  readonly #path: string;
  readonly #options: RuleSetSourceOptions;
  #current: RuleSet;
  /** The text last examined, good or bad, so the same bad text is reported once. */
  #lastText: string;
  #lastSignature: StatSignature | undefined;
  #watcher: FSWatcher | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #debounceTimer: NodeJS.Timeout | undefined;
  /** Checks run one after another, never overlapping. */
  #queue: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;

  constructor(path: string, initial: RuleSet, text: string, options: RuleSetSourceOptions) {
    this.#path = path;
    this.#current = initial;
    this.#lastText = text;
    this.#options = options;
  }

  async start(): Promise<void> {
    this.#lastSignature = await this.#signature();
    if (this.#options.fsWatch ?? true) this.#startWatcher();
    this.#pollTimer = setInterval(() => void this.#poll(), this.#options.pollIntervalMs ?? 5000);
    this.#pollTimer.unref();
    this.#options.logger?.info(
      { source: this.#path, ruleSetVersion: this.#current.version },
      'rules loaded; watching for changes',
    );
  }

  current(): RuleSet {
    return this.#current;
  }

  reload(): Promise<void> {
    return this.#enqueueCheck();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#pollTimer);
      clearTimeout(this.#debounceTimer);
      this.#watcher?.close();
      this.#watcher = undefined;
      // A check already running finishes but changes nothing (it sees #closing).
      await this.#queue;
    })();
    return this.#closing;
  }

  #startWatcher(): void {
    // Watch the directory, not the file: editors and ConfigMaps replace the file (new inode),
    // which silences a watch on the file itself. Any event in the directory schedules a check;
    // the check compares content, so unrelated events cost one small read.
    try {
      const file = basename(this.#path);
      this.#watcher = watch(dirname(this.#path), { persistent: false }, (_event, filename) => {
        if (filename === null || filename === file || filename.startsWith('..')) this.#schedule();
      });
      this.#watcher.on('error', (error) => {
        this.#options.logger?.warn(
          { source: this.#path, error: describeError(error) },
          'rules file watch failed; falling back to polling',
        );
        this.#watcher?.close();
        this.#watcher = undefined;
      });
      this.#watcher.unref();
    } catch (error) {
      this.#options.logger?.warn(
        { source: this.#path, error: describeError(error) },
        'cannot watch rules file; polling only',
      );
    }
  }

  async #signature(): Promise<StatSignature> {
    try {
      const info = await stat(this.#path);
      return `${info.ino}:${info.size}:${info.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }

  async #poll(): Promise<void> {
    const signature = await this.#signature();
    if (signature !== this.#lastSignature) {
      this.#lastSignature = signature;
      this.#schedule();
    }
  }

  #schedule(): void {
    if (this.#closing !== undefined) return;
    clearTimeout(this.#debounceTimer);
    this.#debounceTimer = setTimeout(() => void this.#enqueueCheck(), this.#options.debounceMs ?? 200);
    this.#debounceTimer.unref();
  }

  #enqueueCheck(): Promise<void> {
    this.#queue = this.#queue.then(() => this.#check());
    return this.#queue;
  }

  /** Never rejects: every failure is reported and the current rule set stays. */
  async #check(): Promise<void> {
    if (this.#closing !== undefined) return;
    let text: string;
    try {
      text = await readRulesFile(this.#path);
    } catch (error) {
      if (this.#closing === undefined) this.#report(error);
      return;
    }
    if (this.#closing !== undefined || text === this.#lastText) return;
    this.#lastText = text;
    let next: RuleSet;
    try {
      next = parseRuleSet(text, this.#path);
    } catch (error) {
      this.#report(error);
      return;
    }
    const previous = this.#current;
    if (next.version === previous.version) return; // formatting or comments only
    this.#current = next;
    this.#options.logger?.info(
      { source: this.#path, ruleSetVersion: next.version, previousRuleSetVersion: previous.version },
      'rules reloaded',
    );
    this.#safely(() => this.#options.onReload?.(next, previous));
  }

  #report(error: unknown): void {
    const wrapped =
      error instanceof LeakwatchError
        ? error
        : new LeakwatchError('INTERNAL', `rules reload failed: ${describeError(error)}`, { cause: error });
    this.#options.logger?.warn(
      {
        source: this.#path,
        code: wrapped.code,
        error: wrapped.message,
        ruleSetVersion: this.#current.version,
      },
      'rules file not applied; keeping the current rule set',
    );
    this.#safely(() => this.#options.onError?.(wrapped));
  }

  /** A throwing callback must not stop the watcher. */
  #safely(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.#options.logger?.warn({ source: this.#path, error: describeError(error) }, 'rules callback threw');
    }
  }
}
