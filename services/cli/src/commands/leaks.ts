import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';
import { parseArgs } from 'node:util';
import { createKeyring, maskPan, maskUnparsedPan, normalizePan } from '@leakwatch/card';
import { LeakwatchError } from '@leakwatch/errors';
import { readCards, readManifest, RejectReport, type CardRecord } from '@leakwatch/incidents';
import { LeakStore, type AddCardsResult, type IncidentWithCount } from '@leakwatch/leak-store';
import { createRedisClient } from '@leakwatch/redis';
import { loadCliEnv } from '../cli-env.js';
import { formatRate, Progress } from '../progress.js';
import type { CommandHandler } from './command.js';

const HELP = `Usage: leakwatch leaks <command>

  import --incident <manifest.json|yaml> <cards.csv|cards.ndjson> [--dry-run] [--reject-report <path>] [--hunt]
          Loads a compromise list. Card numbers are fingerprinted on the way in (under every
          active key) and never stored.
          --hunt: then hunt the retained authorizations for the incident (leakwatch hunt).
          Bad rows go to the reject report (line, reason, masked card); the rest loads.
          Importing the same file again changes nothing.
  list    Incidents with their windows and watched-card counts.
  show <incidentId>
  retire <incidentId> [--purge]
          Stops watching the incident's cards at once (--purge also removes their entries now).
  rebuild-filters
          Rewrites every group's presence filter and watch log from the cards stored: after a
          large --purge or removals, and once after upgrading a store made before watch logs
          (until then the monitors send every lookup to Redis, and say so in their log).
  check   Reads card numbers from standard input, one per line, and prints the incidents of each,
          masked. Never pass card numbers as arguments: they would land in shell history.

Needs LEAKWATCH_REDIS_URL (or LEAKWATCH_REDIS_CLUSTER_NODES) and LEAKWATCH_FINGERPRINT_KEYS.
`;

function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

async function withStore<T>(fn: (store: LeakStore) => Promise<T>): Promise<T> {
  const config = loadCliEnv(process.env);
  const redis = createRedisClient(config.redis, { connectionName: 'leakwatch-cli', maxRetriesPerRequest: 3 });
  redis.on('error', () => undefined);
  const store = new LeakStore({ redis, keyPrefix: config.env.LEAKWATCH_REDIS_KEY_PREFIX });
  try {
    await store.start();
    return await fn(store);
  } finally {
    await store.close().catch(() => undefined);
    await redis.quit().catch(() => redis.disconnect());
  }
}

function describeIncident(i: IncidentWithCount): string {
  const window = `${i.exposureStart ?? '?'} → ${i.exposureEnd ?? '?'}`;
  return `${i.incidentId.padEnd(28)} ${i.status.padEnd(8)} ${String(i.watchedCards).padStart(10)} cards  exposure ${window}  ${i.compromiseType}`;
}

async function importCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      incident: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'reject-report': { type: 'string' },
      hunt: { type: 'boolean', default: false },
    },
  });
  const cardsPath = positionals[0];
  if (!values.incident || !cardsPath) {
    throw new LeakwatchError('USAGE', 'leaks import needs --incident <manifest> and a cards file');
  }
  const summary = await importCards({
    manifestPath: values.incident,
    cardsPath,
    dryRun: values['dry-run'],
    rejectReportPath: values['reject-report'],
  });
  if (!values.hunt) return 0;
  // the cards are watched from now on; the hunt finds what already happened on them
  out(`hunting ${summary.incidentId} in the retained authorizations`);
  const { huntCommand } = await import('./hunt.js');
  return huntCommand.run(['--incident', summary.incidentId, ...(values['dry-run'] ? ['--dry-run'] : [])]);
}

export interface ImportOptions {
  manifestPath: string;
  cardsPath: string;
  dryRun: boolean;
  /** Default: `<cards file>.rejects.csv`. */
  rejectReportPath?: string | undefined;
  /** One summary line instead of the full report (the demo). */
  quiet?: boolean;
  log?: (line: string) => void;
}

export interface ImportSummary {
  incidentId: string;
  rows: number;
  loaded: number;
  alreadyPresent: number;
  rejected: number;
  seconds: number;
}

/** Streams a cards file into the leak store with progress and a summary; bad rows to the reject report. */
export async function importCards(options: ImportOptions): Promise<ImportSummary> {
  const { cardsPath, dryRun } = options;
  const config = loadCliEnv(process.env);
  const keyring = createKeyring(config.env.LEAKWATCH_FINGERPRINT_KEYS);
  const manifest = await readManifest(options.manifestPath);
  const size = (await stat(cardsPath)).size;
  let bytesRead = 0;
  const counting = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytesRead += chunk.length;
      callback(null, chunk);
    },
  });
  const reader = readCards(createReadStream(cardsPath).pipe(counting), { keyring, fileName: cardsPath });
  const rejectPath = options.rejectReportPath ?? `${cardsPath}.rejects.csv`;
  const progress = new Progress(
    dryRun ? `checking ${manifest.incidentId}` : `importing ${manifest.incidentId}`,
  );
  const totals: AddCardsResult = { added: 0, expiryTagsAdded: 0, unchanged: 0 };
  /** Entries written under the other active keys (none unless keys are rotating). */
  let otherKeyEntries = 0;
  let report: RejectReport | undefined;

  const run = async (store: LeakStore | undefined) => {
    const batches = reader.batches();
    // the first batch proves the file has a card column before anything is written
    let next = await batches.next();
    // Created (truncating any earlier report at that path) only now: an import that fails
    // before it starts (no card column, Redis unreachable) leaves the last report as it was.
    const rejects = await RejectReport.create(rejectPath);
    report = rejects;
    if (store) await store.upsertIncident(manifest);
    // up to 4 writes in flight; the first failure stops the import, the others are awaited
    // (never left to reject unobserved)
    const inFlight = new Set<Promise<void>>();
    // boxed, so that even a rejection with `undefined` stops the import
    let failure: { error: unknown } | undefined;
    while (!next.done && failure === undefined) {
      const cards: CardRecord[] = [];
      for (const row of next.value) {
        if (row.kind === 'card') cards.push(row);
        else await rejects.write(row);
      }
      if (store && cards.length > 0) {
        // Under every active key, so an upstream fingerprinting with any of them matches (key
        // rotation). The counts shown are the current key's: one per card, not per key.
        const otherKeys = cards.flatMap((c) =>
          c.otherKeys.map((k) => ({ fingerprint: k.fingerprint, expiryTag: k.expiryTag })),
        );
        const write = Promise.all([
          store.addCards(
            manifest.incidentId,
            cards.map((c) => ({ fingerprint: c.fingerprint, expiryTag: c.expiryTag })),
          ),
          otherKeys.length > 0 ? store.addCards(manifest.incidentId, otherKeys) : null,
        ])
          .then(
            ([r, other]) => {
              totals.added += r.added;
              totals.expiryTagsAdded += r.expiryTagsAdded;
              totals.unchanged += r.unchanged;
              if (other) otherKeyEntries += other.added + other.expiryTagsAdded;
            },
            (error: unknown) => {
              failure ??= { error };
            },
          )
          .finally(() => inFlight.delete(write));
        inFlight.add(write);
        if (inFlight.size >= 4) await Promise.race(inFlight);
      }
      const s = reader.stats;
      progress.update(
        `${s.rows.toLocaleString('en-US')} rows, ${s.rejected.toLocaleString('en-US')} rejected`,
        size > 0 ? bytesRead / size : undefined,
      );
      next = await batches.next();
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure.error;
  };

  try {
    if (dryRun) await run(undefined);
    else await withStore(run);
  } finally {
    await report?.close();
  }
  const seconds = progress.done();
  const s = reader.stats;
  const summary: ImportSummary = {
    incidentId: manifest.incidentId,
    rows: s.rows,
    loaded: totals.added,
    alreadyPresent: totals.unchanged + totals.expiryTagsAdded,
    rejected: s.rejected,
    seconds,
  };
  const n = (x: number) => x.toLocaleString('en-US');
  if (options.quiet) {
    options.log?.(
      `   ${manifest.incidentId}: ${n(s.rows)} rows read, ${n(summary.loaded)} loaded, ${n(summary.alreadyPresent)} already present, ${n(s.rejected)} rejected (${seconds.toFixed(1)} s)`,
    );
    return summary;
  }
  out(`${dryRun ? 'dry run (nothing written): ' : ''}incident ${manifest.incidentId}`);
  out(`  read:            ${n(s.rows)} rows in ${seconds.toFixed(1)} s (${formatRate(s.rows, seconds)})`);
  if (!dryRun) {
    out(`  loaded:          ${n(totals.added)} cards`);
    out(
      `  already present: ${n(summary.alreadyPresent)} cards` +
        (totals.expiryTagsAdded > 0 ? ` (${totals.expiryTagsAdded} gained a leaked expiry)` : ''),
    );
    if (keyring.keyIds.length > 1)
      out(
        `  other keys:      ${keyring.keyIds.slice(1).join(', ')} active too: ${n(otherKeyEntries)} entries written under them`,
      );
  } else {
    out(`  valid cards:     ${n(s.cards)}`);
  }
  out(`  rejected:        ${n(s.rejected)}${s.rejected > 0 ? ` → ${rejectPath}` : ''}`);
  for (const [reason, count] of Object.entries(s.byReason)) if (count > 0) out(`    ${reason}: ${count}`);
  return summary;
}

async function checkCommand(): Promise<number> {
  if (process.stdin.isTTY)
    process.stderr.write('reading card numbers from standard input, one per line (Ctrl-D to end)\n');
  const config = loadCliEnv(process.env);
  const keyring = createKeyring(config.env.LEAKWATCH_FINGERPRINT_KEYS);
  return withStore(async (store) => {
    let checked = 0;
    let watched = 0;
    const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of lines) {
      const raw = line.trim();
      if (!raw) continue;
      checked += 1;
      const pan = normalizePan(raw);
      if (!pan.ok) {
        out(`${maskUnparsedPan(raw)}  invalid: ${pan.reason}`);
        continue;
      }
      const fingerprints = keyring.fingerprintAll(pan.pan).map((f) => f.fingerprint);
      const hits = await store.lookup(fingerprints);
      const incidents = [...hits.values()].flatMap((h) => h.incidents.map((i) => i.incidentId));
      if (incidents.length > 0) watched += 1;
      out(
        `${maskPan(pan.pan).masked}  ${incidents.length > 0 ? `WATCHED in ${[...new Set(incidents)].join(', ')}` : 'not watched'}`,
      );
    }
    process.stderr.write(`checked ${checked}, watched ${watched}\n`);
    return 0;
  });
}

export const leaksCommand: CommandHandler = {
  async run(argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'import':
        return importCommand(rest);
      case 'list':
        return withStore(async (store) => {
          const incidents = await store.listIncidents();
          if (incidents.length === 0) out('no incidents');
          for (const i of incidents) out(describeIncident(i));
          return 0;
        });
      case 'show': {
        const id = rest[0];
        if (!id) throw new LeakwatchError('USAGE', 'leaks show needs an incidentId');
        return withStore(async (store) => {
          const i = await store.getIncident(id);
          if (!i) throw new LeakwatchError('NOT_FOUND', `no incident "${id}"`);
          out(`incident:        ${i.incidentId} (${i.status})`);
          out(`source:          ${i.source}`);
          out(`compromise:      ${i.compromiseType}`);
          out(`exposure:        ${i.exposureStart ?? '?'} → ${i.exposureEnd ?? '?'}`);
          out(`disclosed:       ${i.disclosedAt}`);
          out(`data exposed:    ${i.dataExposed.join(', ')}`);
          out(`watch until:     ${i.watchUntil ?? 'until retired'}`);
          out(`watched cards:   ${i.watchedCards.toLocaleString('en-US')}`);
          out(`created:         ${i.createdAt}${i.retiredAt ? `, retired ${i.retiredAt}` : ''}`);
          return 0;
        });
      }
      case 'retire': {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: { purge: { type: 'boolean', default: false } },
        });
        const id = positionals[0];
        if (!id) throw new LeakwatchError('USAGE', 'leaks retire needs an incidentId');
        return withStore(async (store) => {
          const result = await store.retireIncident(id, { purge: values.purge });
          out(
            result.alreadyRetired
              ? `${id} was already retired`
              : `${id} retired: its cards are no longer watched`,
          );
          if (result.purge) out(`purged: ${JSON.stringify(result.purge)}`);
          return 0;
        });
      }
      case 'rebuild-filters':
        return withStore(async (store) => {
          const started = performance.now();
          const { cards } = await store.rebuildFilters();
          const seconds = ((performance.now() - started) / 1000).toFixed(1);
          out(`filters and watch logs rebuilt: ${cards.toLocaleString('en-US')} cards in ${seconds} s`);
          return 0;
        });
      case 'check':
        return checkCommand();
      case undefined:
      case '--help':
      case '-h':
        process.stdout.write(HELP);
        return sub === undefined ? 2 : 0;
      default:
        throw new LeakwatchError('USAGE', `unknown leaks command "${sub}"\n\n${HELP}`);
    }
  },
};
