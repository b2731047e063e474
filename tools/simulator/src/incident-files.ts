import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { INCIDENT_ID_RULE, isIncidentId, type CompromiseType, type ExposedData } from '@leakwatch/contracts';
import { LeakwatchError } from '@leakwatch/errors';
import { type GeneratedCard, type SchemeMix, iterateCards } from './cards.js';
import { Random, type Seed } from './random.js';
import { referenceTimeMs, usageError } from './usage.js';

/** An incident manifest as the contract (docs/contract.md) names its fields (the importer validates it; this only writes one). */
export interface SimulatedIncidentManifest {
  incidentId: string;
  source: string;
  compromiseType: CompromiseType;
  exposureStart: string | null;
  exposureEnd: string | null;
  disclosedAt: string;
  dataExposed: ExposedData[];
  watchUntil: string | null;
}

/**
 * The seed case: a Japanese web shop whose payment page was skimmed from 2020-02-24 to
 * 2024-10-15 (card number, expiry, security code, name), disclosed in May 2025; the cards are
 * watched for a few years after.
 */
export const SEED_CASE_MANIFEST: Readonly<Omit<SimulatedIncidentManifest, 'incidentId'>> = Object.freeze<
  Omit<SimulatedIncidentManifest, 'incidentId'>
>({
  source: 'Simulated: online shop payment page skimmed (modelled on a May 2025 disclosure in Japan)',
  compromiseType: 'WEB_SKIMMING',
  exposureStart: '2020-02-24',
  exposureEnd: '2024-10-15',
  disclosedAt: '2025-05-28',
  dataExposed: ['PAN', 'EXPIRY', 'CVV', 'NAME'],
  watchUntil: '2028-05-31',
});

export interface WriteIncidentFilesOptions {
  /** Created when missing. */
  dir: string;
  /** Names the files too: `<incidentId>.manifest.json`, `<incidentId>.cards.csv`. */
  incidentId: string;
  /** Valid cards in the list. */
  count: number;
  seed: Seed;
  schemeMix?: SchemeMix | undefined;
  /** Expiries fall in the 60 months after this month. Default now. */
  referenceTime?: number | Date | undefined;
  /** Fields to change from {@link SEED_CASE_MANIFEST}. */
  manifest?: Partial<Omit<SimulatedIncidentManifest, 'incidentId'>> | undefined;
  /**
   * Chance of a bad row (wrong Luhn, wrong length, letters, impossible expiry) before each valid
   * one, for the importer's reject report. Default 0. Bad rows never change the valid cards.
   */
  invalidRowShare?: number | undefined;
  /** Return the generated cards (to use as watched cards). Default true; turn off for lists too large to hold. */
  returnCards?: boolean | undefined;
}

export interface IncidentFiles {
  manifestPath: string;
  cardsPath: string;
  manifest: SimulatedIncidentManifest;
  /** The valid cards, in file order; empty when `returnCards` is false. Same as `generateCards` with the same seed. */
  cards: GeneratedCard[];
  /** Valid card rows written. */
  validRows: number;
  /** Bad rows written (the importer must reject exactly these). */
  invalidRows: number;
}

const CHUNK_CHARS = 64 * 1024;
/** Formatting variety of a hand-made list: most PANs bare, some grouped with spaces or dashes. */
const SPACED_PAN_SHARE = 0.12;
const DASHED_PAN_SHARE = 0.08;
const FOUR_DIGIT_YEAR_SHARE = 0.4;
const SURNAME_FIRST_SHARE = 0.05;

/**
 * Writes a simulated compromise incident: a manifest (JSON) shaped like the seed case and a cards
 * CSV with the columns a skimmer's haul has (`pan,expiry,cvv,name`, the last two to be ignored by
 * the importer), formatted as people write them: PANs bare or grouped by spaces or dashes,
 * expiries MM/YY or MM/YYYY, a few names "SURNAME, GIVEN" in quotes. The CSV is streamed, so a
 * million rows never sit in one string. Fails with USAGE on bad options, FILE_UNWRITABLE on I/O.
 */
export async function writeIncidentFiles(options: WriteIncidentFilesOptions): Promise<IncidentFiles> {
  const problems: string[] = [];
  if (typeof options.dir !== 'string' || options.dir.length === 0) problems.push('dir: is required');
  if (!isIncidentId(options.incidentId)) problems.push(`incidentId: ${INCIDENT_ID_RULE}`);
  if (!Number.isSafeInteger(options.count) || options.count < 0)
    problems.push('count: must be a whole number ≥ 0');
  const invalidRowShare = options.invalidRowShare ?? 0;
  if (!(invalidRowShare >= 0 && invalidRowShare < 1))
    problems.push('invalidRowShare: must be from 0 to below 1');
  const referenceMs = referenceTimeMs(options.referenceTime, 'referenceTime', problems);
  if (problems.length > 0) throw usageError('invalid incident file options', problems);

  const manifest: SimulatedIncidentManifest = {
    incidentId: options.incidentId,
    ...SEED_CASE_MANIFEST,
    dataExposed: [...SEED_CASE_MANIFEST.dataExposed],
    ...options.manifest,
  };
  const manifestPath = join(options.dir, `${options.incidentId}.manifest.json`);
  const cardsPath = join(options.dir, `${options.incidentId}.cards.csv`);
  const keep = options.returnCards ?? true;
  const cards: GeneratedCard[] = [];
  const counts = { validRows: 0, invalidRows: 0 };
  // Separate streams: formatting and bad rows never shift which cards are generated.
  const format = new Random(options.seed).fork('incident-format');
  const bad = new Random(options.seed).fork('incident-bad-rows');
  const cardIterator = iterateCards({
    count: options.count,
    seed: options.seed,
    schemeMix: options.schemeMix,
    referenceTime: referenceMs,
  });

  function* chunks(): Generator<string> {
    let chunk = 'pan,expiry,cvv,name\n';
    for (const card of cardIterator) {
      if (invalidRowShare > 0 && bad.chance(invalidRowShare)) {
        chunk += badRow(bad, card);
        counts.invalidRows++;
      }
      chunk += csvRow(format, card);
      counts.validRows++;
      if (keep) cards.push(card);
      if (chunk.length >= CHUNK_CHARS) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk.length > 0) yield chunk;
  }

  try {
    await mkdir(options.dir, { recursive: true });
    await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
    await pipeline(Readable.from(chunks(), { objectMode: false }), createWriteStream(cardsPath));
  } catch (error) {
    if (error instanceof LeakwatchError) throw error;
    throw new LeakwatchError(
      'FILE_UNWRITABLE',
      `cannot write incident files in ${options.dir}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return { manifestPath, cardsPath, manifest, cards, ...counts };
}

/** PAN digit groups as printed on cards: Amex 4-6-5, Diners 4-6-4, others by fours. */
function groupPan(pan: string, separator: string): string {
  const groups =
    pan.length === 15
      ? [4, 6, 5]
      : pan.length === 14
        ? [4, 6, 4]
        : [4, 4, 4, 4, 4].slice(0, Math.ceil(pan.length / 4));
  const parts: string[] = [];
  let at = 0;
  for (const size of groups) {
    if (at >= pan.length) break;
    parts.push(pan.slice(at, at + size));
    at += size;
  }
  return parts.join(separator);
}

function formatPan(random: Random, pan: string): string {
  const u = random.next();
  if (u < SPACED_PAN_SHARE) return groupPan(pan, ' ');
  if (u < SPACED_PAN_SHARE + DASHED_PAN_SHARE) return groupPan(pan, '-');
  return pan;
}

function formatExpiry(random: Random, expiry: string): string {
  const month = expiry.slice(5, 7);
  return random.chance(FOUR_DIGIT_YEAR_SHARE)
    ? `${month}/${expiry.slice(0, 4)}`
    : `${month}/${expiry.slice(2, 4)}`;
}

function formatName(random: Random, name: string): string {
  if (!random.chance(SURNAME_FIRST_SHARE)) return name;
  const space = name.indexOf(' ');
  return `"${name.slice(space + 1)}, ${name.slice(0, space)}"`;
}

function csvRow(random: Random, card: GeneratedCard): string {
  return `${formatPan(random, card.pan)},${formatExpiry(random, card.expiry)},${card.cvv},${formatName(random, card.name)}\n`;
}

/** A row the importer must refuse, made from a real card so the rest of it looks right. */
function badRow(random: Random, card: GeneratedCard): string {
  const { pan } = card;
  let badPan = pan;
  let expiry = formatExpiry(random, card.expiry);
  switch (random.int(0, 3)) {
    case 0: {
      const last = pan.charCodeAt(pan.length - 1) - 48;
      badPan = pan.slice(0, -1) + String((last + random.int(1, 9)) % 10);
      break;
    }
    case 1:
      badPan = pan.slice(0, 11);
      break;
    case 2:
      badPan = `${pan.slice(0, 6)}XXXXXX${pan.slice(-4)}`;
      break;
    default:
      expiry = random.pick(['13/27', '00/2026', '2026/13', '1/2', 'soon']);
  }
  return `${badPan},${expiry},${card.cvv},${card.name}\n`;
}
