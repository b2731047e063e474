import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';
import { createAlertDecoder, createSchemaRegistry, type SuspiciousChargeAlert } from '@leakwatch/contracts';
import { hashPassword, loadEnv as loadConsoleEnv, startConsole } from '@leakwatch/console-service';
import { loadEnv as loadDispatcherEnv, startDispatcher } from '@leakwatch/dispatcher-service';
import { createReceiver } from '@leakwatch/example-webhook-receiver';
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
import { SIMULATED_ISSUER_BINS, writeIncidentFiles } from '@leakwatch/simulator';
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
  4. starts the dispatcher with two partners: demo-webhook-bank (the Visa BINs of the simulated
     cards) by Standard Webhooks to the reference receiver of examples/webhook-receiver, on
     loopback over http (the partners file allows that for this partner only), and
     demo-topic-bank (the Mastercard BINs) on its own topic; prints what each received;
  5. starts the analyst console (http://127.0.0.1:8080/) and prints a sign-in for it.
Ctrl-C stops traffic, drains the monitor and the dispatcher, and stops the stack services the
demo started (--keep-stack leaves them running). Metrics: monitor http://127.0.0.1:9464/metrics,
dispatcher http://127.0.0.1:9465/metrics. The partner topic is partner.demo-topic-bank.alerts.v1,
or <LEAKWATCH_TOPIC_ALERTS>.demo-topic-bank when that variable is set.
`;

/** The demo's two partners: who owns which simulated BINs, and how each takes its alerts. */
const WEBHOOK_PARTNER = 'demo-webhook-bank';
const TOPIC_PARTNER = 'demo-topic-bank';
const WEBHOOK_BINS = SIMULATED_ISSUER_BINS.VISA.map((b) => b.bin);
const TOPIC_BINS = SIMULATED_ISSUER_BINS.MASTERCARD.map((b) => b.bin);

/** One line per alert a partner received: masked card, never a PAN. */
function describeDelivery(
  channel: 'webhook' | 'topic',
  partnerId: string,
  a: Pick<SuspiciousChargeAlert, 'alertId' | 'severity' | 'card'>,
): string {
  return `  -> ${channel.padEnd(7)} ${partnerId.padEnd(17)} ${a.severity.padEnd(8)} ${a.card.bin.slice(0, 6)}…${a.card.last4}  ${a.alertId}`;
}

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
    type Closable = { close(): Promise<void> };
    const started: {
      monitor?: Closable;
      console?: Closable;
      dispatcher?: Closable;
      receiver?: Closable;
      partnerTopic?: { disconnect(): Promise<void> };
    } = {};
    const bySeverity: Record<string, number> = { LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 };
    const received = { webhook: 0, topic: 0 };
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

      // the reference receiver an issuer would copy, on loopback, with a fresh secret each run
      const webhookSecret = `whsec_${randomBytes(32).toString('base64')}`;
      const receiver = createReceiver({
        secrets: [webhookSecret],
        onAlert: (event) => {
          const alert = event.data as unknown as SuspiciousChargeAlert;
          if (alert.detectedAt < demoStarted) return; // an earlier run's alert, retried
          received.webhook += 1;
          process.stdout.write(`${describeDelivery('webhook', WEBHOOK_PARTNER, alert)}\n`);
        },
      });
      await new Promise<void>((resolve, reject) => {
        receiver.once('error', reject);
        receiver.listen(0, '127.0.0.1', () => resolve());
      });
      started.receiver = {
        close: () =>
          new Promise<void>((resolve) => {
            receiver.close(() => resolve());
            receiver.closeAllConnections();
          }),
      };
      const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/leakwatch`;
      const partnerTopic = process.env.LEAKWATCH_TOPIC_ALERTS
        ? `${process.env.LEAKWATCH_TOPIC_ALERTS}.${TOPIC_PARTNER}`
        : `partner.${TOPIC_PARTNER}.alerts.v1`;
      const partnersFile = join(dir, 'partners.yaml');
      await writeFile(
        partnersFile,
        [
          'partners:',
          `  - partnerId: ${WEBHOOK_PARTNER}`,
          '    name: Demo Webhook Bank',
          `    binPrefixes: [${WEBHOOK_BINS.map((b) => `'${b}'`).join(', ')}]`,
          '    delivery:',
          '      webhook:',
          `        url: ${receiverUrl}`,
          `        secrets: ['${webhookSecret}']`,
          '        timeoutMs: 5000',
          '        # the reference receiver runs on this machine, over http: allowed for this partner only',
          '        allowPrivateNetwork: true',
          `  - partnerId: ${TOPIC_PARTNER}`,
          '    name: Demo Topic Bank',
          `    binPrefixes: [${TOPIC_BINS.map((b) => `'${b}'`).join(', ')}]`,
          `    delivery: { kafka: { topic: ${partnerTopic} } }`,
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      // the monitor reads it too: alerts carry the partnerId of their BIN
      process.env.LEAKWATCH_PARTNERS_FILE = partnersFile;

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

      // the dispatcher: webhooks to the reference receiver, the topic partner's own topic
      const dispatcherLog = join(dir, 'dispatcher.log');
      say(`== starting the dispatcher (logs: ${dispatcherLog})`);
      const dispatcher = await startDispatcher(
        loadDispatcherEnv({
          ...process.env,
          LEAKWATCH_HTTP_PORT:
            process.env.LEAKWATCH_HTTP_PORT === '0' ? '0' : (await portFree(9465)) ? '9465' : '0',
          LEAKWATCH_INTAKE_PORT: process.env.LEAKWATCH_INTAKE_PORT ?? ((await portFree(8088)) ? '8088' : '0'),
          // its own group: never takes a real dispatcher's partitions
          LEAKWATCH_DISPATCHER_GROUP_ID:
            process.env.LEAKWATCH_DISPATCHER_GROUP_ID ?? 'leakwatch-demo-dispatcher',
        }),
        {
          logger: createRootLogger({
            name: 'dispatcher',
            level: 'info',
            destination: createWriteStream(dispatcherLog, { flags: 'a' }),
          }),
          signal: abort.signal,
        },
      );
      started.dispatcher = dispatcher;
      say(
        `   ${WEBHOOK_PARTNER}: webhooks to the reference receiver ${receiverUrl}\n` +
          `   ${TOPIC_PARTNER}: topic ${partnerTopic}\n` +
          `   metrics: http://127.0.0.1:${dispatcher.httpPort}/metrics   dispositions intake: http://127.0.0.1:${dispatcher.intakePort}/v1/partners/<id>/dispositions`,
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
      // what the topic partner reads: from the start of its topic, this run's alerts only
      const topicReader = kafka.consumer({
        groupId: `leakwatch-demo-topic-${Date.now()}`,
        maxWaitTimeInMs: 100,
      });
      started.partnerTopic = topicReader;
      await topicReader.connect();
      await topicReader.subscribe({ topic: partnerTopic, fromBeginning: true });
      await topicReader.run({
        eachMessage: async ({ message }) => {
          const decoded = await decoder.decode(message.value);
          if (!decoded.ok || decoded.value.detectedAt < demoStarted) return;
          received.topic += 1;
          process.stdout.write(`${describeDelivery('topic', TOPIC_PARTNER, decoded.value)}\n`);
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
        // let the last alerts arrive, and reach the partners
        if (!abort.signal.aborted) await new Promise((r) => setTimeout(r, 3000));
      } finally {
        clearInterval(summary);
        await consumer.disconnect();
      }
      say(
        `== partners: ${WEBHOOK_PARTNER} received ${received.webhook} by webhook (signatures checked by the reference receiver); ` +
          `${TOPIC_PARTNER} received ${received.topic} on ${partnerTopic}`,
      );
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
      await started.partnerTopic?.disconnect();
      await started.console?.close();
      await started.dispatcher?.close();
      await started.receiver?.close();
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
