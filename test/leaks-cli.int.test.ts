import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { maskPan, withLuhnCheckDigit } from '@leakwatch/card';
import { generateCards, type GeneratedCard } from '@leakwatch/simulator';
import { integrationTest } from '@leakwatch/testing';
import { Cluster, type Redis } from 'ioredis';
import { beforeAll, describe, expect, inject } from 'vitest';

/*
 * `leakwatch leaks import|list|show|retire|check` end to end: the built command runs as a child
 * process from the repository root, exactly as an incident responder runs it, against the real
 * Redis (and Redis Cluster) of the integration stack. Each test has its own key prefix (deleted
 * by the fixture), its own random fingerprint key and its own temporary directory.
 */

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI_MAIN = join(REPO_ROOT, 'services', 'cli', 'dist', 'main.js');
const COMMAND_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------- running the command

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

type Cli = (args: string[], options?: { stdin?: string }) => Promise<CliResult>;

/** The child's environment: the parent's minus every LEAKWATCH_* variable, plus `settings`. */
function cliEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('LEAKWATCH_')) env[name] = value;
  }
  return {
    ...env,
    LEAKWATCH_FINGERPRINT_KEYS: `t1:${randomBytes(32).toString('base64')}`,
    LEAKWATCH_LOG_LEVEL: 'debug',
    ...settings,
  };
}

function runCli(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<CliResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, 'leaks', ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `leakwatch leaks ${args.join(' ')} ran over ${COMMAND_TIMEOUT_MS} ms\n${stdout}\n${stderr}`,
        ),
      );
    }, COMMAND_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
    child.stdin.end(stdin);
  });
}

// ---------------------------------------------------------------- reading Redis back

interface StoredKey {
  name: string;
  /** host:port of the node holding it. */
  node: string;
  type: string;
  /** Key name, then every field and value (hash fields sorted), as stored. */
  parts: Buffer[];
  /** Hash content as field/value pairs (raw bytes), for layout checks. */
  pairs: [Buffer, Buffer][];
  /** Everything, canonical: equal strings mean an identical key. */
  canonical: string;
}

/** Every key under `prefix` on every node given, read type by type as raw bytes. */
async function readStore(nodes: Redis[], prefix: string): Promise<StoredKey[]> {
  const keys: StoredKey[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scanBuffer(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next.toString();
      for (const key of batch) keys.push(await readKey(node, key));
    } while (cursor !== '0');
  }
  return keys.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function readKey(node: Redis, key: Buffer): Promise<StoredKey> {
  const type = await node.type(key);
  const ttl = await node.pttl(key);
  let values: Buffer[];
  let pairs: [Buffer, Buffer][] = [];
  switch (type) {
    case 'string':
      values = [(await node.getBuffer(key)) ?? Buffer.alloc(0)];
      break;
    case 'hash': {
      // HGETALL as raw bytes: bucket fields are binary, a string-keyed object would mangle them
      const flat = (await node.callBuffer('HGETALL', key)) as Buffer[];
      for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i] as Buffer, flat[i + 1] as Buffer]);
      pairs = pairs.sort(([a], [b]) => Buffer.compare(a, b));
      values = pairs.flat();
      break;
    }
    case 'set':
      values = (await node.smembersBuffer(key)).sort((a, b) => Buffer.compare(a, b));
      break;
    case 'zset':
      values = (await node.callBuffer('ZRANGE', key, '0', '-1', 'WITHSCORES')) as Buffer[];
      break;
    case 'list':
      values = await node.lrangeBuffer(key, 0, -1);
      break;
    case 'stream':
      values = flattenBuffers(await node.callBuffer('XRANGE', key, '-', '+'));
      break;
    default:
      throw new Error(`key ${key.toString()} has unexpected type ${type}`);
  }
  const name = key.toString('latin1');
  return {
    name,
    node: `${node.options.host}:${node.options.port}`,
    type,
    parts: [key, ...values],
    pairs,
    canonical: `${name} ${type} ${ttl < 0 ? 'persistent' : 'expiring'} ${values.map((v) => v.toString('hex')).join(',')}`,
  };
}

function flattenBuffers(value: unknown): Buffer[] {
  if (Buffer.isBuffer(value)) return [value];
  if (Array.isArray(value)) return value.flatMap(flattenBuffers);
  return [];
}

function masters(cluster: Cluster): Redis[] {
  return cluster.nodes('master');
}

// ---------------------------------------------------------------- test data

/** Fixed date, so the generated cards (and expiries) are the same on every run. */
const REFERENCE_TIME = Date.UTC(2025, 0, 15);
const cardsOf = (seed: string, count: number, scheme: 'AMEX' | 'DINERS' | undefined) =>
  generateCards({
    count,
    seed,
    schemeMix: scheme ? { [scheme]: 1 } : { VISA: 1, MASTERCARD: 1, JCB: 1 },
    referenceTime: REFERENCE_TIME,
  });
const POOL = cardsOf('leaks-cli-int', 16, undefined);
const AMEX = cardsOf('leaks-cli-amex', 1, 'AMEX')[0] as GeneratedCard;
const DINERS = cardsOf('leaks-cli-diners', 1, 'DINERS')[0] as GeneratedCard;

function card(i: number): GeneratedCard {
  const c = POOL[i];
  if (!c || c.pan.length !== 16) throw new Error(`test data: card ${i} should be a 16-digit card`);
  return c;
}

/** A card that is never written to any file: `leaks check` must say it is not watched. */
const NEVER_LISTED = card(15);

const mmyy = (expiry: string) => `${expiry.slice(5, 7)}/${expiry.slice(2, 4)}`;
const mmyyyy = (expiry: string) => `${expiry.slice(5, 7)}/${expiry.slice(0, 4)}`;
const mmyyCompact = (expiry: string) => `${expiry.slice(5, 7)}${expiry.slice(2, 4)}`;
const byFours = (pan: string, separator: string) => pan.replace(/(\d{4})(?=\d)/g, `$1${separator}`);
/** 6 + 4 shown, the rest starred: what the SPEC allows a person to see of a number. */
const sixFour = (digits: string) =>
  `${digits.slice(0, 6)}${'*'.repeat(digits.length - 10)}${digits.slice(-4)}`;
/** The same number with a wrong check digit. */
const wrongLuhn = (pan: string) => `${pan.slice(0, -1)}${(Number(pan.slice(-1)) + 3) % 10}`;

interface ExpectedReject {
  line: number;
  reason: string;
  masked: string;
  message: RegExp | undefined;
}

interface CardsFile {
  path: string;
  /** Data rows: cards and rejects (header and blank lines excluded). */
  rows: number;
  validRows: number;
  /** Distinct valid cards (normalized PANs). */
  distinctCards: string[];
  rejects: ExpectedReject[];
  /**
   * What must never be stored or shown: every card number in the file (valid or not) as digits
   * and as written, the names, the extra column's values, the CVVs in their context.
   */
  secrets: { panDigits: string[]; panTexts: string[]; texts: string[] };
  cards: { spaced: GeneratedCard; dashed: GeneratedCard; plain: GeneratedCard; amex: GeneratedCard };
}

type CsvRecord =
  | { kind: 'skipped'; text: string }
  | { kind: 'card'; text: string; pan: string }
  | { kind: 'reject'; text: string; reason: string; masked: string; message: RegExp | undefined };

const skipped = (text: string): CsvRecord => ({ kind: 'skipped', text });
const valid = (pan: string, text: string): CsvRecord => ({ kind: 'card', pan, text });
const bad = (reason: string, masked: string, text: string, message?: RegExp): CsvRecord => ({
  kind: 'reject',
  reason,
  masked,
  message,
  text,
});

/**
 * A cards CSV as a real haul looks, with every awkward case: UTF-8 BOM, CRLF line ends, blank
 * lines (empty, spaces, delimiters only), quoted fields (a name with a comma, a quoted PAN, a
 * name over two lines, doubled quotes), an unknown extra column (email), PANs with spaces and
 * dashes or padded with spaces, 14- and 15-digit PANs, every expiry form, duplicated rows, and
 * bad rows of every kind. The last line has no line break.
 */
async function writeCardsFile(dir: string): Promise<CardsFile> {
  const [c0, c1, c2, c3, c4, c7, c14] = [card(0), card(1), card(2), card(3), card(4), card(7), card(14)];
  const luhn = wrongLuhn(card(8).pan);
  const short = card(9).pan.slice(0, 11);
  const long = withLuhnCheckDigit(`${card(10).pan}987`); // 20 digits, Luhn-valid: only the length is wrong
  const lettered = `${card(11).pan.slice(0, 8)}O${card(11).pan.slice(8)}`; // the letter O typed for a zero
  const badExpiry = card(12);
  const malformed = card(13);
  const row = (c: GeneratedCard, pan: string, expiry: string, name: string, email = '') =>
    `${pan},${expiry},${c.cvv},${name},${email}`;

  const records: CsvRecord[] = [
    skipped('pan,expiry,cvv,name,email'), // the header
    valid(c0.pan, row(c0, c0.pan, mmyy(c0.expiry), 'ZEBEDIAH QUUXLEY', 'zebediah.quuxley@example.test')),
    skipped(''),
    valid(c1.pan, row(c1, c1.pan, mmyyyy(c1.expiry), '"VLIETSTRA, MARGOT"', 'margot@example.test')),
    valid(c2.pan, row(c2, byFours(c2.pan, ' '), mmyyCompact(c2.expiry), 'IGNATIUS BRONKHORST')),
    valid(c3.pan, row(c3, byFours(c3.pan, '-'), c3.expiry, 'PERPETUA OYELARAN', 'p.o@example.test')),
    valid(c4.pan, row(c4, `"${byFours(c4.pan, ' ')}"`, '', '"FENWICK ""FEN"" ABERNATHY"')),
    // the first row again, byte for byte
    valid(c0.pan, row(c0, c0.pan, mmyy(c0.expiry), 'ZEBEDIAH QUUXLEY', 'zebediah.quuxley@example.test')),
    skipped('   '),
    valid(AMEX.pan, row(AMEX, AMEX.pan, mmyy(AMEX.expiry), 'CASIMIR WOJTKOWIAK', 'cw@example.test')),
    valid(DINERS.pan, row(DINERS, ` ${DINERS.pan} `, mmyy(DINERS.expiry), 'HORTENSE DELACROIX-MBEKI')),
    // a quoted name over two physical lines: the rows after it keep their file line numbers
    valid(c7.pan, row(c7, c7.pan, mmyy(c7.expiry), '"ORSOLYA\r\nPFEFFERKORN"', 'o@example.test')),
    bad('LUHN', sixFour(luhn), row(c0, luhn, mmyy(c0.expiry), 'TOBIAS GRUNDVIG')),
    bad(
      'INVALID_LENGTH',
      `*******${short.slice(-4)}`,
      row(c0, short, '12/27', 'ANNELIESE KOVACS'),
      /11 digits/,
    ),
    bad('INVALID_LENGTH', sixFour(long), row(c0, long, '12/27', 'BARNABY OKONKWO'), /20 digits/),
    bad('NON_DIGIT', sixFour(lettered.replace(/\D/g, '')), row(c0, lettered, '12/27', 'DESMOND HALVORSEN')),
    bad(
      'EXPIRY_MONTH',
      sixFour(badExpiry.pan),
      row(badExpiry, badExpiry.pan, '13/25', 'ROSALIND ACHTERBERG'),
    ),
    // the first card again, written with dashes: the same card, already present
    valid(c0.pan, row(c0, byFours(c0.pan, '-'), mmyy(c0.expiry), 'ZEBEDIAH QUUXLEY')),
    bad('MISSING_CARD', '', row(c0, '', '12/27', 'LEOPOLDINE FAIRWEATHER', 'lf@example.test')),
    // a character after a closing quote: the row cannot be read, so nothing of it is shown
    bad('MALFORMED_ROW', '', row(malformed, malformed.pan, mmyy(malformed.expiry), '"THADDEUS"QUIMBY')),
    skipped(',,,,'),
    valid(c14.pan, row(c14, c14.pan, mmyy(c14.expiry), 'WILHELMINA ZABROWSKI', 'wz@example.test')),
  ];

  const rejects: ExpectedReject[] = [];
  const pans: string[] = [];
  let line = 1;
  for (const record of records) {
    if (record.kind === 'reject') {
      const { reason, masked, message } = record;
      rejects.push({ line, reason, masked, message });
    }
    if (record.kind === 'card') pans.push(record.pan);
    line += 1 + (record.text.match(/\r\n/g)?.length ?? 0);
  }
  const path = join(dir, 'cards.csv');
  await writeFile(path, `\uFEFF${records.map((r) => r.text).join('\r\n')}`, 'utf8');

  const written = [c0, c1, c2, c3, c4, AMEX, DINERS, c7, badExpiry, malformed, c14];
  const names = [
    ...['ZEBEDIAH', 'QUUXLEY', 'VLIETSTRA', 'MARGOT', 'IGNATIUS', 'BRONKHORST', 'PERPETUA', 'OYELARAN'],
    ...['FENWICK', 'ABERNATHY', 'CASIMIR', 'WOJTKOWIAK', 'HORTENSE', 'DELACROIX', 'ORSOLYA', 'PFEFFERKORN'],
    ...['TOBIAS', 'GRUNDVIG', 'ANNELIESE', 'KOVACS', 'BARNABY', 'OKONKWO', 'DESMOND', 'HALVORSEN'],
    ...['ROSALIND', 'ACHTERBERG', 'LEOPOLDINE', 'FAIRWEATHER', 'THADDEUS', 'QUIMBY', 'WILHELMINA'],
    'ZABROWSKI',
  ];
  return {
    path,
    rows: records.filter((r) => r.kind !== 'skipped').length,
    validRows: pans.length,
    distinctCards: [...new Set(pans)],
    rejects,
    secrets: {
      panDigits: [...written.map((c) => c.pan), luhn, short, long, lettered.replace(/\D/g, '')],
      panTexts: [
        byFours(c2.pan, ' '),
        byFours(c3.pan, '-'),
        byFours(c4.pan, ' '),
        byFours(c0.pan, '-'),
        lettered,
      ],
      texts: [
        ...names,
        '@example.test',
        'zebediah.quuxley',
        // CVVs in the context they had in the file (three digits alone match binary by chance)
        ...written.flatMap((c) => [
          `${mmyy(c.expiry)},${c.cvv}`,
          `${c.cvv},`,
          `cvv=${c.cvv}`,
          `"cvv":"${c.cvv}"`,
        ]),
      ],
    },
    cards: { spaced: c2, dashed: c3, plain: c0, amex: AMEX },
  };
}

interface ManifestFields {
  incidentId: string;
  [field: string]: unknown;
}

async function writeManifest(dir: string, fields: ManifestFields): Promise<string> {
  const path = join(dir, `${fields.incidentId}.manifest.json`);
  await writeFile(
    path,
    JSON.stringify({
      source: 'Online shop payment page skimmed (integration test)',
      compromiseType: 'WEB_SKIMMING',
      exposureStart: '2020-02-24',
      exposureEnd: '2024-10-15',
      disclosedAt: '2025-05-28',
      // out of SPEC order on purpose: the store keeps them in SPEC order
      dataExposed: ['NAME', 'CVV', 'PAN', 'EXPIRY'],
      watchUntil: null,
      ...fields,
    }),
  );
  return path;
}

const incidentIdFor = (testId: string, n = 1) => `INC-${testId.slice(-8)}-${n}`;

// ---------------------------------------------------------------- what the command prints

function summaryNumber(stdout: string, label: string): number {
  const match = new RegExp(`^  ${label}:\\s+([\\d,]+)`, 'm').exec(stdout);
  if (!match) throw new Error(`no "${label}:" line in the import summary:\n${stdout}`);
  return Number((match[1] as string).replace(/,/g, ''));
}

function importSummary(stdout: string) {
  return {
    read: summaryNumber(stdout, 'read'),
    loaded: summaryNumber(stdout, 'loaded'),
    alreadyPresent: summaryNumber(stdout, 'already present'),
    rejected: summaryNumber(stdout, 'rejected'),
  };
}

/** One CSV record of the reject report (no line breaks in fields there). */
function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

async function readRejectReport(path: string) {
  const text = await readFile(path, 'utf8');
  const [header, ...lines] = text.split('\n').filter((l) => l.length > 0);
  expect(header).toBe('line,reason,message,masked');
  return {
    text,
    rows: lines.map((l) => {
      const [line, reason, message, masked, ...rest] = parseCsvLine(l);
      expect(rest, `reject report line "${l}" has exactly four fields`).toEqual([]);
      return { line: Number(line), reason, message: message ?? '', masked: masked ?? '' };
    }),
  };
}

/** Every run of `length` consecutive digits of a number: more than a BIN (8 digits) may never be shown. */
function digitWindows(digits: string, length = 9): string[] {
  const windows: string[] = [];
  for (let i = 0; i + length <= digits.length; i++) windows.push(digits.slice(i, i + length));
  return windows;
}

/**
 * The secrets of a cards file found in `haystacks` (empty when none): whole PANs (also in base64
 * or hex), any 9 consecutive PAN digits, PANs as written, names, email values, CVVs in context.
 */
function leaksIn(file: CardsFile, haystacks: { label: string; bytes: Buffer }[]): string[] {
  const needles: { what: string; bytes: Buffer }[] = [];
  for (const pan of file.secrets.panDigits) {
    needles.push({ what: `PAN ${sixFour(pan)}`, bytes: Buffer.from(pan, 'ascii') });
    needles.push({
      what: `PAN ${sixFour(pan)} in base64`,
      bytes: Buffer.from(Buffer.from(pan).toString('base64')),
    });
    needles.push({
      what: `PAN ${sixFour(pan)} in hex`,
      bytes: Buffer.from(Buffer.from(pan).toString('hex')),
    });
    for (const window of digitWindows(pan))
      needles.push({ what: `9 digits of PAN ${sixFour(pan)}`, bytes: Buffer.from(window) });
  }
  for (const text of file.secrets.panTexts)
    needles.push({ what: `PAN as written "${sixFour(text.replace(/\D/g, ''))}"`, bytes: Buffer.from(text) });
  for (const text of file.secrets.texts) {
    needles.push({ what: `"${text}"`, bytes: Buffer.from(text) });
    needles.push({ what: `"${text}" (lower case)`, bytes: Buffer.from(text.toLowerCase()) });
  }
  const found: string[] = [];
  for (const { label, bytes } of haystacks) {
    for (const needle of needles) if (bytes.includes(needle.bytes)) found.push(`${needle.what} in ${label}`);
  }
  return [...new Set(found)];
}

function storeHaystacks(keys: StoredKey[]): { label: string; bytes: Buffer }[] {
  return keys.flatMap((key) => key.parts.map((bytes) => ({ label: `key ${key.name}`, bytes })));
}

/** Keys of the documented layout (packages/leak-store/README.md), prefix removed. */
const LAYOUT_KEY = /^\{incidents\}:(meta|ids|i:[A-Za-z0-9._-]+)$|^\{[^{}]+\}(b[0-9a-f]+|n|f|w)$/;
const INCIDENT_FIELDS = [
  'compromiseType',
  'createdAt',
  'dataExposed',
  'disclosedAt',
  'exposureEnd',
  'exposureStart',
  'incidentId',
  'number',
  'retiredAt',
  'source',
  'status',
  'updatedAt',
  'watchUntil',
];

/**
 * The store holds nothing beyond its layout: registry hashes with the manifest's fields only,
 * and card buckets whose fields are fingerprint bytes (not a card number, not a whole HMAC) and
 * whose values are a few bytes of incident records. Returns the number of card entries.
 */
function checkLayout(keys: StoredKey[], prefix: string): number {
  const meta = keys.find((k) => k.name === `${prefix}{incidents}:meta`);
  expect(meta, 'the store layout (meta hash) is there').toBeDefined();
  const metaFields = new Map(meta?.pairs.map(([f, v]) => [f.toString(), v.toString()]));
  const fieldBytes = Number(metaFields.get('fieldBytes'));
  expect(fieldBytes).toBeGreaterThanOrEqual(12);
  expect(fieldBytes).toBeLessThan(32);
  let entries = 0;
  for (const key of keys) {
    const rest = key.name.slice(prefix.length);
    expect(
      key.name.startsWith(prefix) && LAYOUT_KEY.test(rest),
      `key ${key.name} is in the store layout`,
    ).toBe(true);
    if (rest.startsWith('{incidents}:i:')) {
      expect(key.pairs.map(([f]) => f.toString()).sort()).toEqual(INCIDENT_FIELDS);
    }
    if (/^\{[^{}]+\}w$/.test(rest)) {
      // the watch log: an 8-byte generation header, then 8 fingerprint bytes per card
      expect(key.type).toBe('string');
      expect(((key.parts[1]?.length ?? 0) - 8) % 8, `watch log ${key.name} length`).toBe(0);
    }
    if (/^\{[^{}]+\}b[0-9a-f]+$/.test(rest)) {
      expect(key.type).toBe('hash');
      for (const [field, value] of key.pairs) {
        expect(field.length, `bucket field in ${key.name}`).toBe(fieldBytes);
        expect(
          value.length,
          `bucket value in ${key.name}: one incident, one expiry at most`,
        ).toBeLessThanOrEqual(10);
        entries++;
      }
    }
  }
  return entries;
}

// ---------------------------------------------------------------- fixtures

interface ClusterTarget {
  cli: Cli;
  prefix: string;
  masters: () => Redis[];
}

interface CliFixtures {
  /** A temporary directory, removed after the test. */
  workDir: string;
  /** The command against the single Redis, under `redisPrefix` (deleted by the `redis` fixture). */
  cli: Cli;
  /** The command against the Redis Cluster, under its own prefix (deleted on every master afterwards). */
  clusterTarget: ClusterTarget;
}

const it = integrationTest.extend<CliFixtures>({
  // eslint-disable-next-line no-empty-pattern -- vitest needs the destructuring to see dependencies
  workDir: async ({}, use) => {
    const dir = await mkdtemp(join(tmpdir(), 'leakwatch-leaks-cli-'));
    await use(dir);
    await rm(dir, { recursive: true, force: true });
  },
  cli: async ({ endpoints, redis, redisPrefix }, use) => {
    void redis; // depended on so that its teardown deletes every key under redisPrefix
    const env = cliEnv({ LEAKWATCH_REDIS_URL: endpoints.redisUrl, LEAKWATCH_REDIS_KEY_PREFIX: redisPrefix });
    await use((args, options) => runCli(args, env, options?.stdin));
  },
  clusterTarget: async ({ endpoints, testId }, use) => {
    const nodes = endpoints.redisClusterNodes;
    if (!nodes || nodes.length === 0) {
      throw new Error('no Redis Cluster: set LEAKWATCH_TEST_REDIS_CLUSTER_NODES (required in CI)');
    }
    const cluster = new Cluster(
      nodes.map((node) => {
        const [host, port] = node.split(':');
        return { host: host as string, port: Number(port) };
      }),
    );
    await cluster.ping(); // connected: the master list is known
    const prefix = `test:${testId}:`;
    const env = cliEnv({
      LEAKWATCH_REDIS_CLUSTER_NODES: nodes.join(','),
      LEAKWATCH_REDIS_KEY_PREFIX: prefix,
    });
    try {
      await use({
        cli: (args, options) => runCli(args, env, options?.stdin),
        prefix,
        masters: () => masters(cluster),
      });
    } finally {
      for (const node of masters(cluster)) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          // one key per command: keys of different slots cannot share an UNLINK on a cluster
          if (keys.length > 0) await Promise.all(keys.map((key) => node.unlink(key)));
        } while (cursor !== '0');
      }
      await cluster.quit();
    }
  },
});

const clusterConfigured = (inject('endpoints').redisClusterNodes?.length ?? 0) > 0;

// ---------------------------------------------------------------- the tests

describe('leakwatch leaks (the built command, real Redis)', () => {
  beforeAll(() => {
    if (!existsSync(CLI_MAIN)) {
      throw new Error(
        `${CLI_MAIN} is missing: build the command first with \`pnpm exec tsc -b services/cli\` (CI builds before the tests)`,
      );
    }
  });

  it('imports a messy cards file: right counts, every bad row reported by line and reason, masked', async ({
    cli,
    workDir,
    redis,
    redisPrefix,
    testId,
  }) => {
    const file = await writeCardsFile(workDir);
    const incidentId = incidentIdFor(testId);
    const manifest = await writeManifest(workDir, { incidentId });

    const result = await cli(['import', '--incident', manifest, file.path]);

    expect(result.stderr).not.toMatch(/leakwatch:/);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`incident ${incidentId}`);
    expect(importSummary(result.stdout)).toEqual({
      read: file.rows,
      loaded: file.distinctCards.length,
      alreadyPresent: file.validRows - file.distinctCards.length,
      rejected: file.rejects.length,
    });
    expect(file).toMatchObject({ rows: 18, validRows: 11, rejects: { length: 7 } });
    expect(file.distinctCards).toHaveLength(9);
    const defaultReport = `${file.path}.rejects.csv`;
    expect(result.stdout).toContain(`rejected:        7 → ${defaultReport}`);
    for (const [reason, count] of [
      ['LUHN', 1],
      ['INVALID_LENGTH', 2],
      ['NON_DIGIT', 1],
      ['EXPIRY_MONTH', 1],
      ['MISSING_CARD', 1],
      ['MALFORMED_ROW', 1],
    ] as const) {
      expect(result.stdout).toMatch(new RegExp(`^    ${reason}: ${count}$`, 'm'));
    }

    const report = await readRejectReport(defaultReport);
    expect(report.rows.map(({ line, reason, masked }) => ({ line, reason, masked }))).toEqual(
      file.rejects.map(({ line, reason, masked }) => ({ line, reason, masked })),
    );
    expect(report.rows.map((r) => r.line)).toEqual([14, 15, 16, 17, 18, 20, 21]);
    for (const [i, row] of report.rows.entries()) {
      expect(row.message.length, `a reason a person can read on line ${row.line}`).toBeGreaterThan(0);
      const message = file.rejects[i]?.message;
      if (message) expect(row.message).toMatch(message);
      // masked: digits, '*' and '…' only; at most 6 + 4 digits; never 7 digits in a row
      expect(row.masked).toMatch(/^[0-9*…]*$/);
      expect(row.masked.replace(/\D/g, '').length).toBeLessThanOrEqual(10);
      expect(row.masked).not.toMatch(/\d{7}/);
    }
    expect(leaksIn(file, [{ label: 'the reject report', bytes: Buffer.from(report.text) }])).toEqual([]);

    // the cards really are in the store, once each
    const entries = checkLayout(await readStore([redis], redisPrefix), redisPrefix);
    expect(entries).toBe(file.distinctCards.length);
  });

  it('importing the same file again loads nothing and leaves Redis byte for byte unchanged', async ({
    cli,
    workDir,
    redis,
    redisPrefix,
    testId,
  }) => {
    const file = await writeCardsFile(workDir);
    const manifest = await writeManifest(workDir, { incidentId: incidentIdFor(testId) });
    const first = await cli(['import', '--incident', manifest, file.path]);
    expect(first.code, first.stderr).toBe(0);
    const before = await readStore([redis], redisPrefix);
    const firstReport = await readFile(`${file.path}.rejects.csv`, 'utf8');

    const again = await cli(['import', '--incident', manifest, file.path]);

    expect(again.code, again.stderr).toBe(0);
    const summary = importSummary(again.stdout);
    expect(summary).toEqual({
      read: file.rows,
      loaded: 0,
      // every valid row: the first run's loaded cards plus the file's own duplicates
      alreadyPresent: importSummary(first.stdout).loaded + importSummary(first.stdout).alreadyPresent,
      rejected: file.rejects.length,
    });
    expect(summary.alreadyPresent).toBe(file.validRows);
    expect(again.stdout).not.toContain('gained a leaked expiry');
    const after = await readStore([redis], redisPrefix);
    expect(after.length).toBeGreaterThan(3);
    expect(after.map((k) => k.canonical)).toEqual(before.map((k) => k.canonical));
    expect(await readFile(`${file.path}.rejects.csv`, 'utf8')).toBe(firstReport);
  });

  it('never rests in clear: no PAN, name or CVV in any Redis key or value, output or report', async ({
    cli,
    workDir,
    redis,
    redisPrefix,
    testId,
  }) => {
    const file = await writeCardsFile(workDir);
    const manifest = await writeManifest(workDir, { incidentId: incidentIdFor(testId) });
    const reportPath = join(workDir, 'custom-rejects.csv');

    const result = await cli(['import', '--incident', manifest, file.path, '--reject-report', reportPath]);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`→ ${reportPath}`);
    expect(existsSync(`${file.path}.rejects.csv`), 'no report at the default path when one is named').toBe(
      false,
    );
    const keys = await readStore([redis], redisPrefix);
    expect(checkLayout(keys, redisPrefix)).toBe(file.distinctCards.length);
    // the scan does find what it looks for: the manifest's own text is stored in clear
    expect(
      leaksIn(
        { ...file, secrets: { panDigits: [], panTexts: [], texts: ['Online shop payment page'] } },
        storeHaystacks(keys),
      ),
    ).not.toEqual([]);

    expect(leaksIn(file, storeHaystacks(keys))).toEqual([]);
    expect(
      leaksIn(file, [
        { label: 'stdout', bytes: Buffer.from(result.stdout) },
        { label: 'stderr', bytes: Buffer.from(result.stderr) },
        { label: 'the reject report', bytes: await readFile(reportPath) },
      ]),
    ).toEqual([]);
  });

  it('refuses a cards file without a card column before anything is loaded', async ({
    cli,
    workDir,
    redis,
    redisPrefix,
    testId,
  }) => {
    const incidentId = incidentIdFor(testId);
    const manifest = await writeManifest(workDir, { incidentId });
    const c = card(0);
    const path = join(workDir, 'no-card-column.csv');
    await writeFile(path, `number,expiry,cvv,name\n${c.pan},${mmyy(c.expiry)},${c.cvv},ZEBEDIAH QUUXLEY\n`);
    // the report of an earlier run: a failed import must not wipe it
    const earlierReport =
      'line,reason,message,masked\n7,LUHN,card number fails the Luhn check,411111******1112\n';
    await writeFile(`${path}.rejects.csv`, earlierReport);

    const result = await cli(['import', '--incident', manifest, path]);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/CARDS_FILE_INVALID/);
    expect(result.stderr).toMatch(/no card column/);
    expect(result.stderr).toMatch(/pan \(or card_number\)/);
    // what the header holds, never its cells: a file with no header has card data there
    expect(result.stderr).toContain('header on line 1 has 4 columns, known: expiry');
    expect(result.stderr).not.toContain('ZEBEDIAH');
    expect(result.stdout).not.toMatch(/loaded:/);
    expect(`${result.stdout}${result.stderr}`).not.toContain(c.pan);
    expect(await readFile(`${path}.rejects.csv`, 'utf8')).toBe(earlierReport);

    // Nothing loaded: no incident registered (no number handed out, no incident hash) and no
    // card key. The only key allowed is the store's layout, which any command writes on first use.
    const keys = await readStore([redis], redisPrefix);
    expect(keys.map((k) => k.name.slice(redisPrefix.length))).toEqual(
      keys.length === 0 ? [] : ['{incidents}:meta'],
    );
    const meta = keys[0]?.pairs.map(([f]) => f.toString()) ?? [];
    expect(meta).not.toContain('seq');
    expect(meta).not.toContain('version');

    const list = await cli(['list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.trim()).toBe('no incidents');
  });

  it('refuses a malformed manifest, listing every problem, and touches nothing', async ({
    cli,
    workDir,
    redis,
    redisPrefix,
    testId,
  }) => {
    const file = await writeCardsFile(workDir);
    const manifest = join(workDir, 'bad.manifest.yaml');
    await writeFile(
      manifest,
      [
        `incidentId: ${incidentIdFor(testId)}`,
        'source: Skimmed shop',
        'compromiseType: CARD_SKIMMING',
        'exposureStart: 2024-10-15',
        'exposureEnd: 2020-02-24',
        'dataExposed: [PAN, EXPIRY, SSN]',
        'watchUntil: null',
        '',
      ].join('\n'),
    );

    const result = await cli(['import', '--incident', manifest, file.path]);

    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/MANIFEST_INVALID/);
    expect(result.stderr).toContain(manifest);
    expect(result.stderr).toContain('(4 problems)');
    expect(result.stderr).toMatch(/- compromiseType: must be one of WEB_SKIMMING, DATABASE_BREACH/);
    expect(result.stderr).toMatch(/- exposureEnd: must not be before exposureStart/);
    expect(result.stderr).toMatch(/- disclosedAt: is required/);
    expect(result.stderr).toMatch(/- dataExposed\.2: must be one of PAN, EXPIRY, CVV/);
    expect(result.stdout).toBe('');
    expect(await readStore([redis], redisPrefix)).toEqual([]);
    expect(existsSync(`${file.path}.rejects.csv`), 'no reject report for an import that never started').toBe(
      false,
    );
  });

  it('list, show, check (from stdin, masked) and retire', async ({
    cli,
    workDir,
    redis,
    redisPrefix,
    testId,
  }) => {
    const file = await writeCardsFile(workDir);
    const first = incidentIdFor(testId, 1);
    const second = incidentIdFor(testId, 2);
    const firstManifest = await writeManifest(workDir, { incidentId: first });
    const secondManifest = await writeManifest(workDir, {
      incidentId: second,
      compromiseType: 'DATABASE_BREACH',
      exposureStart: null,
      exposureEnd: null,
      dataExposed: ['PAN'],
      watchUntil: '2099-12-31',
    });
    // the second incident lists one card of the first (the Amex) and one of its own
    const { amex, spaced, plain } = file.cards;
    const own = card(5);
    const secondCards = join(workDir, 'second.csv');
    await writeFile(secondCards, `card_number,exp\n${amex.pan},${mmyy(amex.expiry)}\n${own.pan},\n`);
    expect((await cli(['import', '--incident', firstManifest, file.path])).code).toBe(0);
    const imported = await cli(['import', '--incident', secondManifest, secondCards]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(importSummary(imported.stdout)).toMatchObject({ loaded: 2, alreadyPresent: 0, rejected: 0 });

    const list = await cli(['list']);
    expect(list.code, list.stderr).toBe(0);
    const listed = list.stdout.trim().split('\n');
    expect(listed).toHaveLength(2);
    expect(listed[0]).toMatch(
      new RegExp(`^${first}\\s+active\\s+9 cards\\s+exposure 2020-02-24 → 2024-10-15\\s+WEB_SKIMMING$`),
    );
    expect(listed[1]).toMatch(
      new RegExp(`^${second}\\s+active\\s+2 cards\\s+exposure \\? → \\?\\s+DATABASE_BREACH$`),
    );

    const show = await cli(['show', first]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(new RegExp(`^incident:\\s+${first} \\(active\\)$`, 'm'));
    expect(show.stdout).toMatch(/^compromise:\s+WEB_SKIMMING$/m);
    expect(show.stdout).toMatch(/^exposure:\s+2020-02-24 → 2024-10-15$/m);
    expect(show.stdout).toMatch(/^disclosed:\s+2025-05-28$/m);
    expect(show.stdout).toMatch(/^data exposed:\s+PAN, EXPIRY, CVV, NAME$/m);
    expect(show.stdout).toMatch(/^watch until:\s+until retired$/m);
    expect(show.stdout).toMatch(/^watched cards:\s+9$/m);

    const invalid = wrongLuhn(plain.pan);
    const stdin = [byFours(spaced.pan, '-'), '', amex.pan, NEVER_LISTED.pan, invalid, ''].join('\n');
    const check = await cli(['check'], { stdin });
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout.trim().split('\n')).toEqual([
      `${sixFour(spaced.pan)}  WATCHED in ${first}`,
      // 15 digits: BIN cut to 5 so that 6 stay hidden
      `${maskPan(amex.pan).masked}  WATCHED in ${first}, ${second}`,
      `${sixFour(NEVER_LISTED.pan)}  not watched`,
      `${sixFour(invalid)}  invalid: LUHN`,
    ]);
    expect(check.stderr).toContain('checked 4, watched 2');
    expect(maskPan(amex.pan).masked).toMatch(/^\d{5}\*{6}\d{4}$/);

    // retiring stops the watch at once; the entries stay (harmless) until purged
    const retire = await cli(['retire', first]);
    expect(retire.code, retire.stderr).toBe(0);
    expect(retire.stdout.trim()).toBe(`${first} retired: its cards are no longer watched`);

    const after = await cli(['check'], { stdin });
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout.trim().split('\n')).toEqual([
      `${sixFour(spaced.pan)}  not watched`,
      `${maskPan(amex.pan).masked}  WATCHED in ${second}`,
      `${sixFour(NEVER_LISTED.pan)}  not watched`,
      `${sixFour(invalid)}  invalid: LUHN`,
    ]);
    const listAfter = await cli(['list']);
    expect(listAfter.stdout).toMatch(new RegExp(`^${first}\\s+retired\\s+0 cards`, 'm'));
    expect(listAfter.stdout).toMatch(new RegExp(`^${second}\\s+active\\s+2 cards`, 'm'));
    // --purge then drops the entries: eight cards were in the first incident only, the Amex
    // keeps its record of the second
    const purge = await cli(['retire', first, '--purge']);
    expect(purge.code, purge.stderr).toBe(0);
    expect(purge.stdout).toContain(`${first} was already retired`);
    expect(purge.stdout).toContain('purged: {"valuesRewritten":1,"cardsReleased":8}');
    expect(checkLayout(await readStore([redis], redisPrefix), redisPrefix)).toBe(2);

    const outputs = [list, show, check, retire, after, listAfter, purge].flatMap((r, i) => [
      { label: `stdout of command ${i}`, bytes: Buffer.from(r.stdout) },
      { label: `stderr of command ${i}`, bytes: Buffer.from(r.stderr) },
    ]);
    expect(
      leaksIn(
        {
          ...file,
          secrets: {
            ...file.secrets,
            panDigits: [...file.secrets.panDigits, NEVER_LISTED.pan, invalid, own.pan],
          },
        },
        outputs,
      ),
    ).toEqual([]);
  });

  it('--dry-run checks the file and writes nothing to Redis', async ({
    cli,
    workDir,
    redis,
    redisPrefix,
    testId,
  }) => {
    const file = await writeCardsFile(workDir);
    const incidentId = incidentIdFor(testId);
    const manifest = await writeManifest(workDir, { incidentId });
    const reportPath = join(workDir, 'dry-run-rejects.csv');

    const result = await cli([
      'import',
      '--dry-run',
      '--incident',
      manifest,
      file.path,
      '--reject-report',
      reportPath,
    ]);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`dry run (nothing written): incident ${incidentId}`);
    expect(summaryNumber(result.stdout, 'read')).toBe(file.rows);
    expect(summaryNumber(result.stdout, 'valid cards')).toBe(file.validRows);
    expect(summaryNumber(result.stdout, 'rejected')).toBe(file.rejects.length);
    expect(result.stdout).not.toMatch(/loaded:/);
    const report = await readRejectReport(reportPath);
    expect(report.rows.map((r) => [r.line, r.reason])).toEqual(file.rejects.map((r) => [r.line, r.reason]));
    expect(await readStore([redis], redisPrefix)).toEqual([]);
  });

  it.skipIf(!clusterConfigured && process.env.CI !== 'true')(
    'imports into a Redis Cluster with nothing in clear on any master',
    async ({ clusterTarget, workDir, testId }) => {
      const { cli, prefix } = clusterTarget;
      const file = await writeCardsFile(workDir);
      const incidentId = incidentIdFor(testId);
      const manifest = await writeManifest(workDir, { incidentId });

      const result = await cli(['import', '--incident', manifest, file.path]);

      expect(result.code, result.stderr).toBe(0);
      expect(importSummary(result.stdout)).toEqual({
        read: file.rows,
        loaded: file.distinctCards.length,
        alreadyPresent: file.validRows - file.distinctCards.length,
        rejected: file.rejects.length,
      });
      const keys = await readStore(clusterTarget.masters(), prefix);
      expect(checkLayout(keys, prefix)).toBe(file.distinctCards.length);
      expect(new Set(keys.map((k) => k.node)).size, 'keys spread over more than one master').toBeGreaterThan(
        1,
      );
      expect(leaksIn(file, storeHaystacks(keys))).toEqual([]);
      expect(
        leaksIn(file, [
          { label: 'stdout', bytes: Buffer.from(result.stdout) },
          { label: 'stderr', bytes: Buffer.from(result.stderr) },
        ]),
      ).toEqual([]);

      const check = await cli(['check'], { stdin: `${file.cards.dashed.pan}\n${NEVER_LISTED.pan}\n` });
      expect(check.code, check.stderr).toBe(0);
      expect(check.stdout.trim().split('\n')).toEqual([
        `${sixFour(file.cards.dashed.pan)}  WATCHED in ${incidentId}`,
        `${sixFour(NEVER_LISTED.pan)}  not watched`,
      ]);
    },
  );
});
