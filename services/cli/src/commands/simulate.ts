import { parseArgs } from 'node:util';
import { createKeyring } from '@leakwatch/card';
import { LeakwatchError } from '@leakwatch/errors';
import { writeIncidentFiles } from '@leakwatch/simulator';
import { loadCliEnv } from '../cli-env.js';
import { formatRate, Progress } from '../progress.js';
import { readWatchedCards, runSimulation } from '../simulation.js';
import type { CommandHandler } from './command.js';

const HELP = `Usage: leakwatch simulate [options]

Produces realistic card authorizations to the authorizations topic: schemes, currencies (JPY
included), channels, MCCs and countries mixed; a share on watched cards, some with the leaked
expiry, velocity bursts and card testing; optionally poison.

  --rate <n>                 authorizations per second (default 1000)
  --duration <seconds>       stop after this long (default 30 unless --count)
  --count <n>                stop after this many
  --watched-cards <cards.csv>  synthetic cards file of an imported incident (pan,expiry columns)
  --watched-share <0..1>     share on watched cards (default 0.01)
  --expiry-match-share <0..1> share of watched-card authorizations with the leaked expiry (default 0.7)
  --poison-share <0..1>      share of poison messages (default 0)
  --json-share <0..1>        share sent as JSON instead of Avro (default 0.1)
  --fingerprint-share <0..1> share sent with a fingerprint instead of the PAN (default 0)
  --seed <n>                 reproducible traffic (default 1)
  --run-id <id>              event id prefix (default: time-based, so runs are never redeliveries)
  --write-incident <dir>     instead: write a synthetic incident (manifest + cards CSV) and exit
  --cards <n>                cards in that incident (default 30000)
`;

function share(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new LeakwatchError('USAGE', `--${name} must be between 0 and 1`);
  return n;
}

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new LeakwatchError('USAGE', `--${name} must be a positive number`);
  return n;
}

export const simulateCommand: CommandHandler = {
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        rate: { type: 'string' },
        duration: { type: 'string' },
        count: { type: 'string' },
        'watched-cards': { type: 'string' },
        'watched-share': { type: 'string' },
        'expiry-match-share': { type: 'string' },
        'poison-share': { type: 'string' },
        'json-share': { type: 'string' },
        'fingerprint-share': { type: 'string' },
        seed: { type: 'string' },
        'run-id': { type: 'string' },
        'write-incident': { type: 'string' },
        cards: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const seed = Number(values.seed ?? 1);
    if (values['write-incident']) {
      const count = positive('cards', values.cards) ?? 30_000;
      const files = await writeIncidentFiles({
        dir: values['write-incident'],
        incidentId: `sim-${seed}`,
        count,
        seed,
        returnCards: false,
      });
      process.stdout.write(
        `manifest: ${files.manifestPath}\ncards:    ${files.cardsPath} (${files.validRows} cards)\n`,
      );
      return 0;
    }
    const config = loadCliEnv(process.env);
    const rate = positive('rate', values.rate) ?? 1000;
    const count = positive('count', values.count);
    const durationMs = count === undefined ? (positive('duration', values.duration) ?? 30) * 1000 : undefined;
    const watchedCards = values['watched-cards'] ? await readWatchedCards(values['watched-cards']) : [];
    const fingerprintShare = share('fingerprint-share', values['fingerprint-share'], 0);
    const progress = new Progress('simulate');
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    process.once('SIGTERM', () => abort.abort());
    const result = await runSimulation({
      kafka: config.kafka,
      registry: config.registry,
      topic: config.env.LEAKWATCH_TOPIC_AUTHORIZATIONS,
      ratePerSecond: rate,
      durationMs,
      count,
      keyring: fingerprintShare > 0 ? createKeyring(config.env.LEAKWATCH_FINGERPRINT_KEYS) : undefined,
      generator: {
        seed,
        runId: values['run-id'] ?? `${seed}-${Date.now().toString(36)}`,
        watchedCards: watchedCards.map((c) => ({ pan: c.pan, expiry: c.expiry ?? '2030-01' })),
        watchedShare: watchedCards.length > 0 ? share('watched-share', values['watched-share'], 0.01) : 0,
        expiryMatchShare: share('expiry-match-share', values['expiry-match-share'], 0.7),
        poisonShare: share('poison-share', values['poison-share'], 0),
        jsonShare: share('json-share', values['json-share'], 0.1),
        fingerprintShare,
      },
      onProgress: (s) =>
        progress.update(
          `${s.sent.toLocaleString('en-US')} sent (${s.watched} watched, ${s.poison} poison), ${formatRate(s.sent, s.elapsedMs / 1000)}`,
          count ? s.sent / count : durationMs ? s.elapsedMs / durationMs : undefined,
        ),
      signal: abort.signal,
    });
    progress.done();
    process.stdout.write(
      `sent ${result.sent.toLocaleString('en-US')} to ${config.env.LEAKWATCH_TOPIC_AUTHORIZATIONS} in ${(result.elapsedMs / 1000).toFixed(1)} s ` +
        `(${formatRate(result.sent, result.elapsedMs / 1000)}): ${result.watched} on watched cards, ${result.poison} poison, ` +
        `${result.byFormat.avro} Avro, ${result.byFormat.json} JSON; stopped by ${result.stoppedBy}\n`,
    );
    return 0;
  },
};
