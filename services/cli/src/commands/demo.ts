import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createAlertDecoder, createSchemaRegistry, type SuspiciousChargeAlert } from '@leakwatch/contracts';
import { hashPassword, loadEnv as loadConsoleEnv, startConsole } from '@leakwatch/console-service';
import { createKafka } from '@leakwatch/kafka';
import {
  defaultStackDir,
  portFree,
  portsFromEnv,
  prometheusInstalled,
  stackDown,
  stackUp,
} from '@leakwatch/local-stack';
import { createRootLogger, silentLogger } from '@leakwatch/logger';
import { loadEnv, startMonitor } from '@leakwatch/monitor-service';
import { formatMinorAmount } from '@leakwatch/rules';
import { writeIncidentFiles } from '@leakwatch/simulator';
import { loadCliEnv } from '../cli-env.js';
import { readWatchedCards, runSimulation } from '../simulation.js';
import { importCards } from './leaks.js';
import type { CommandHandler } from './command.js';

const HELP = `Usage: leakwatch demo [--rate <n>] [--duration <seconds>] [--keep-stack]

The whole pipeline on this machine, in one command:
  1. starts the local stack (Kafka, schema registry, Redis) unless LEAKWATCH_* endpoints are set;
  2. writes and imports a synthetic incident shaped like the seed case: 30,000 cards skimmed
     from an online shop, exposure 2020-02-24 to 2024-10-15, PAN, expiry, CVV and name exposed;
  3. starts the monitor, simulates authorization traffic (2% on leaked cards, a little poison),
     and prints flagged charges as they happen, with a summary every 5 seconds;
  4. starts the analyst console (http://127.0.0.1:8080/) and prints a sign-in for it.
Ctrl-C stops traffic, drains the monitor, and stops the stack services the demo started
(--keep-stack leaves them running). The monitor's metrics: http://127.0.0.1:9464/metrics
`;

const COLORS: Record<string, string> = {
  LOW: '\x1b[36m',
  MEDIUM: '\x1b[33m',
  HIGH: '\x1b[31m',
  CRITICAL: '\x1b[1;41m',
};

function describeAlert(a: SuspiciousChargeAlert, color: boolean): string {
  const severity = color ? `${COLORS[a.severity] ?? ''}${a.severity.padEnd(8)}\x1b[0m` : a.severity.padEnd(8);
  const t = a.transaction;
  const amount = formatMinorAmount(t.amountMinor, t.currency);
  return (
    `${severity} ${String(a.score).padStart(3)}  ${a.card.scheme.padEnd(10)} ${a.card.bin.slice(0, 6)}…${a.card.last4}  ` +
    `${amount.padStart(14)}  ${(t.merchantName ?? t.merchantId).slice(0, 22).padEnd(22)} ${t.merchantCountry} ${t.mcc} ${t.channel.padEnd(12)} ` +
    `${a.reasons.map((r) => r.code).join(', ')}`
  );
}

/** A demo key kept in the cache folder, so a second run matches the cards the first imported. */
async function demoKey(dir: string): Promise<string> {
  const file = join(dir, 'fingerprint-key');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const key = `demo1:${randomBytes(32).toString('base64')}`;
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return key;
}

export const demoCommand: CommandHandler = {
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        rate: { type: 'string', default: '300' },
        duration: { type: 'string' },
        'keep-stack': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const say = (line: string) => process.stderr.write(`${line}\n`);
    const abort = new AbortController();
    const onSignal = () => {
      if (!abort.signal.aborted) say('\nstopping…');
      abort.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    // 1. the stack
    let startedServices: string[] = [];
    if (!process.env.LEAKWATCH_KAFKA_BROKERS) {
      say('== starting the local stack (the first run downloads Kafka and the registry)');
      // with Debian's Prometheus when installed, so the run can be queried without Docker
      const stack = await stackUp({
        ports: portsFromEnv(process.env),
        log: say,
        ...(prometheusInstalled() ? { with: ['prometheus' as const] } : {}),
      });
      if (stack.env.LEAKWATCH_PROMETHEUS_URL)
        say(`== Prometheus (alerts, graphs): ${stack.env.LEAKWATCH_PROMETHEUS_URL}/alerts`);
      startedServices = stack.started;
      Object.assign(process.env, stack.env);
    }
    const dir = join(defaultStackDir(), '..', 'demo');
    await mkdir(dir, { recursive: true });
    process.env.LEAKWATCH_FINGERPRINT_KEYS ??= await demoKey(dir);
    if (!process.env.LEAKWATCH_HTTP_PORT)
      process.env.LEAKWATCH_HTTP_PORT = (await portFree(9464)) ? '9464' : '0';
    const cli = loadCliEnv(process.env);

    // whatever happens from here on (a failed import, Ctrl-C), stop what the demo started
    const started: { monitor?: { close(): Promise<void> }; console?: { close(): Promise<void> } } = {};
    const bySeverity: Record<string, number> = { LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 };
    const demoStarted = Date.now();
    let sent = 0;
    try {
      // 2. the incident
      const incidentId = 'demo-web-skimming-2025';
      const manifestPath = join(dir, `${incidentId}.manifest.json`);
      const cardsPath = join(dir, `${incidentId}.cards.csv`);
      if (!existsSync(cardsPath)) {
        say('== writing a synthetic incident: 30,000 skimmed cards (PAN, expiry, CVV, name)');
        await writeIncidentFiles({ dir, incidentId, count: 30_000, seed: 2025, returnCards: false });
      }
      say(`== importing ${cardsPath}`);
      await importCards({ manifestPath, cardsPath, dryRun: false, quiet: true, log: say });
      const watchedCards = await readWatchedCards(cardsPath);

      // 3. the monitor, traffic and live alerts
      const logFile = join(dir, 'monitor.log');
      const monitorLogger = createRootLogger({
        name: 'monitor',
        level: 'info',
        destination: createWriteStream(logFile, { flags: 'a' }),
      });
      const config = loadEnv(process.env);
      say(`== starting the monitor (logs: ${logFile})`);
      const monitor = await startMonitor(config, { logger: monitorLogger, signal: abort.signal });
      started.monitor = monitor;
      say(
        `   metrics: http://127.0.0.1:${monitor.httpPort}/metrics   readiness: http://127.0.0.1:${monitor.httpPort}/readyz`,
      );

      // the analyst console, with a fresh demo analyst password each run
      {
        const password = randomBytes(12).toString('base64url');
        const usersFile = join(dir, 'console-users.yaml');
        await writeFile(
          usersFile,
          `users:\n  - username: analyst\n    role: analyst\n    passwordHash: "${await hashPassword(password)}"\n`,
          { mode: 0o600 },
        );
        const consoleEnv = loadConsoleEnv({
          ...process.env,
          LEAKWATCH_CONSOLE_USERS_FILE: usersFile,
          LEAKWATCH_CONSOLE_PORT:
            process.env.LEAKWATCH_CONSOLE_PORT ?? ((await portFree(8080)) ? '8080' : '0'),
          LEAKWATCH_HTTP_PORT: (await portFree(9466)) ? '9466' : '0',
          LEAKWATCH_CONSOLE_SECURE_COOKIES: 'false',
        });
        const consoleHandle = await startConsole(consoleEnv, {
          logger: createRootLogger({
            name: 'console',
            level: 'info',
            destination: createWriteStream(join(dir, 'console.log'), { flags: 'a' }),
          }),
        });
        started.console = consoleHandle;
        say(`== analyst console: http://127.0.0.1:${consoleHandle.port}/  (sign in: analyst / ${password})`);
      }

      const kafka = createKafka({ ...cli.kafka, clientId: 'leakwatch-demo' }, silentLogger());
      const decoder = createAlertDecoder({ registry: createSchemaRegistry(cli.registry) });
      const consumer = kafka.consumer({ groupId: `leakwatch-demo-${Date.now()}`, maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topic: config.topics.alerts, fromBeginning: false });
      const color = process.stdout.isTTY === true;
      await consumer.run({
        eachMessage: async ({ message }) => {
          const decoded = await decoder.decode(message.value);
          if (!decoded.ok) return;
          bySeverity[decoded.value.severity] = (bySeverity[decoded.value.severity] ?? 0) + 1;
          process.stdout.write(`${describeAlert(decoded.value, color)}\n`);
        },
      });

      const summary = setInterval(() => {
        say(
          `-- ${sent.toLocaleString('en-US')} authorizations sent; alerts: ${Object.entries(bySeverity)
            .map(([s, n]) => `${s} ${n}`)
            .join(', ')}`,
        );
      }, 5000);
      const rate = Number(values.rate);
      const durationMs = values.duration ? Number(values.duration) * 1000 : undefined;
      say(
        `== simulating ${rate} authorizations/s${durationMs ? ` for ${durationMs / 1000} s` : ' (Ctrl-C to stop)'}\n`,
      );
      try {
        await runSimulation({
          kafka: cli.kafka,
          registry: cli.registry,
          topic: config.topics.authorizations,
          ratePerSecond: rate,
          durationMs,
          generator: {
            seed: Date.now() % 100_000,
            runId: `demo-${Date.now().toString(36)}`,
            watchedCards: watchedCards.map((c) => ({ pan: c.pan, expiry: c.expiry ?? '2030-01' })),
            watchedShare: 0.02,
            expiryMatchShare: 0.7,
            poisonShare: 0.002,
            jsonShare: 0.1,
          },
          onProgress: (s) => {
            sent = s.sent;
          },
          signal: abort.signal,
        });
        // let the last alerts arrive
        if (!abort.signal.aborted) await new Promise((r) => setTimeout(r, 3000));
      } finally {
        clearInterval(summary);
        await consumer.disconnect();
      }
      if (!abort.signal.aborted) {
        // 4. as if the incident had been disclosed only now: a short retro-hunt over the traffic
        // just produced, in dry-run (the live alerts above already cover these charges)
        say(`\n== retro-hunt of ${incidentId} over the traffic above (dry run)`);
        const { huntCommand } = await import('./hunt.js');
        await huntCommand.run([
          '--incident',
          incidentId,
          '--from',
          new Date(demoStarted).toISOString(),
          '--dry-run',
        ]);
      }
    } finally {
      await started.console?.close();
      await started.monitor?.close();
      if (startedServices.length > 0 && !values['keep-stack']) {
        say('== stopping the stack services the demo started (use --keep-stack to keep them)');
        await stackDown({ only: startedServices as never, log: say });
      }
    }
    say(`\ndemo done: ${sent.toLocaleString('en-US')} authorizations; alerts ${JSON.stringify(bySeverity)}`);
    process.exit(0);
  },
};
