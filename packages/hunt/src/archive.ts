import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { LeakwatchError } from '@leakwatch/errors';
import {
  maskDigitRuns,
  processBatch,
  type AlertDecision,
  type BatchDependencies,
  type InboundMessage,
} from '@leakwatch/pipeline';
import type { RuleSet } from '@leakwatch/rules';
import avro from 'avsc';
import { restrictToIncident } from './incident-watch-list.js';
import { emptySummary, tally, type HuntSummary } from './tally.js';
import { Throttle } from './throttle.js';

/** An archive row the pipeline refused: where it was and why, never its content. */
export interface RejectedRow {
  /** 1-based line (NDJSON) or record number (Avro container). */
  row: number;
  code: string;
  reason: string;
}

export type ArchiveFormat = 'ndjson' | 'avro';

/** Event time bounds (ms, inclusive) of an archive hunt: `--from` and `--to` on `occurredAt`. */
export interface EventWindow {
  from?: number;
  to?: number;
}

function eventTime(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}

/** The event time of an NDJSON row; undefined when it has none (the pipeline then refuses it). */
function occurredAtOf(line: string): number | undefined {
  try {
    return eventTime((JSON.parse(line) as { occurredAt?: unknown } | null)?.occurredAt);
  } catch {
    return undefined;
  }
}

/** A row with a readable event time outside the window is not the hunt's; any other row is checked. */
function outside(window: EventWindow, at: number | undefined): boolean {
  if (at === undefined) return false;
  return (window.from !== undefined && at < window.from) || (window.to !== undefined && at > window.to);
}

/** NDJSON unless the file says Avro object container (its magic "Obj\x01") or ends in .avro. */
export function archiveFormatOf(path: string, head: Buffer): ArchiveFormat {
  if (head.subarray(0, 4).equals(Buffer.from('Obj\x01', 'latin1'))) return 'avro';
  return path.endsWith('.avro') ? 'avro' : 'ndjson';
}

/**
 * Rows of an archive as pipeline messages, `size` at a time: NDJSON lines as they are (the
 * pipeline's JSON path validates them), Avro container records as JSON with the same field
 * names. Blank lines are skipped but still counted, so a row number is the line a person sees.
 */
export async function* archiveBatches(
  path: string,
  format: ArchiveFormat,
  size = 1000,
  window: EventWindow = {},
): AsyncGenerator<InboundMessage[]> {
  let batch: InboundMessage[] = [];
  const push = (row: number, value: Buffer) => {
    batch.push({ offset: String(row), key: null, value, timestamp: '0' });
  };
  if (format === 'ndjson') {
    const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
    let row = 0;
    for await (const line of lines) {
      row += 1;
      if (line.trim() === '') continue;
      if (outside(window, occurredAtOf(line))) continue;
      push(row, Buffer.from(line));
      if (batch.length >= size) yield batch.splice(0);
    }
  } else {
    const decoder = avro.createFileDecoder(path);
    let row = 0;
    for await (const record of decoder as AsyncIterable<Record<string, unknown>>) {
      row += 1;
      if (outside(window, eventTime(record.occurredAt))) continue;
      push(
        row,
        Buffer.from(JSON.stringify(record, (_k, v: unknown) => (v instanceof Date ? v.getTime() : v))),
      );
      if (batch.length >= size) yield batch.splice(0);
    }
  }
  if (batch.length > 0) yield batch;
  batch = [];
}

export interface ArchiveHuntOptions {
  path: string;
  format?: ArchiveFormat;
  incidentId: string;
  /** Event time bounds on `occurredAt` (default: every row). */
  window?: EventWindow;
  dependencies: Omit<BatchDependencies, 'ruleSet' | 'retrospective'>;
  ruleSet: () => RuleSet;
  /**
   * Publishes a batch's alerts (acknowledged by Kafka, each as `alertMessage` makes its record)
   * before the next batch; omitted: a dry run.
   */
  publish?: (alerts: readonly AlertDecision[]) => Promise<void>;
  onReject: (row: RejectedRow) => void;
  onProgress?: (summary: HuntSummary) => void;
  maxRate?: number;
  signal?: AbortSignal;
}

/**
 * Hunts through an exported archive with the live pipeline's stages. Bad rows go to the reject
 * report (their reason masked) instead of the dead-letter topic: they never were Kafka messages.
 */
export async function runArchiveHunt(
  options: ArchiveHuntOptions,
): Promise<HuntSummary & { complete: boolean }> {
  const format = options.format ?? (await sniff(options.path));
  const summary = emptySummary();
  const throttle = options.maxRate ? new Throttle(options.maxRate) : undefined;
  const dependencies = {
    ...options.dependencies,
    watchList: restrictToIncident(options.dependencies.watchList, options.incidentId),
    retrospective: true,
  };
  for await (const messages of archiveBatches(options.path, format, 1000, options.window)) {
    if (options.signal?.aborted) return { ...summary, complete: false };
    await throttle?.take(messages.length);
    const outcome = await processBatch(messages, { ...dependencies, ruleSet: options.ruleSet() });
    if (options.publish && outcome.alerts.length > 0) await options.publish(outcome.alerts);
    for (const d of outcome.deadLetters)
      options.onReject({ row: Number(d.message.offset), code: d.code, reason: maskDigitRuns(d.reason) });
    tally(summary, outcome, messages.length);
    options.onProgress?.(summary);
  }
  return { ...summary, complete: true };
}

async function sniff(path: string): Promise<ArchiveFormat> {
  const { open } = await import('node:fs/promises');
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new LeakwatchError(
      'FILE_UNREADABLE',
      `cannot read archive ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        cause: error,
      },
    );
  }
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    return archiveFormatOf(path, head);
  } finally {
    await handle.close();
  }
}
