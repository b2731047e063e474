import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SIMULATED_ISSUER_BINS } from '@leakwatch/simulator';
import { integrationTest as it } from '@leakwatch/testing';
import { describe, expect } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = `${root}services/cli/dist/main.js`;

describe('leakwatch demo (the README main-job command)', () => {
  it('imports the demo incident, runs the monitor on simulated traffic, prints flagged charges and what each partner received', async ({
    endpoints,
    redisPrefix,
    testId,
  }) => {
    expect(existsSync(cli), `build first (pnpm build): ${cli} is missing`).toBe(true);
    const env = {
      ...process.env,
      LEAKWATCH_KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
      LEAKWATCH_SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
      LEAKWATCH_REDIS_URL: endpoints.redisUrl,
      LEAKWATCH_REDIS_KEY_PREFIX: redisPrefix,
      LEAKWATCH_HTTP_PORT: '0',
      LEAKWATCH_CONSOLE_PORT: '0',
      LEAKWATCH_TOPIC_AUTHORIZATIONS: `demo.auth.${testId}`,
      LEAKWATCH_TOPIC_ALERTS: `demo.alerts.${testId}`,
      LEAKWATCH_TOPIC_DEAD_LETTERS: `demo.dlq.${testId}`,
      LEAKWATCH_TOPIC_DISPOSITIONS: `demo.dispositions.${testId}`,
      LEAKWATCH_MONITOR_GROUP_ID: `demo-${testId}`,
      LEAKWATCH_DISPATCHER_GROUP_ID: `demo-dispatcher-${testId}`,
      LEAKWATCH_INTAKE_PORT: '0',
    };
    const child = spawn(process.execPath, [cli, 'demo', '--duration', '12', '--rate', '200'], {
      cwd: root,
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));

    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/demo-web-skimming-2025: 30,000 rows read/);
    expect(stderr).toMatch(/demo done: [\d,]+ authorizations/);
    expect(stderr).toMatch(/analyst console: http:\/\/127\.0\.0\.1:\d+\/ {2}\(sign in: analyst \/ \S+\)/);
    const alertLines = stdout.split('\n').filter((line) => /^(LOW|MEDIUM|HIGH|CRITICAL)\s+\d+/.test(line));
    // 2% of ~2,400 authorizations are on leaked cards and every one alerts under the default rules
    expect(alertLines.length).toBeGreaterThan(10);
    expect(alertLines.every((line) => line.includes('LEAKED_CARD'))).toBe(true);
    // it ends with a dry-run retro-hunt over the same traffic: every live alert's charge is found
    expect(stdout).toMatch(/hunt demo-web-skimming-2025 \(dry run: nothing published\): complete/);
    const hunted = Number(/alerts (\d+) by severity/.exec(stdout)?.[1] ?? -1);
    expect(hunted).toBeGreaterThanOrEqual(alertLines.length);
    // the dispatcher delivered to both partners, each exactly its own cards: the webhook partner
    // (Visa BINs) through the reference receiver, the topic partner (Mastercard BINs) on its topic
    const deliveries = stdout
      .split('\n')
      .map((line) => /^ {2}-> (webhook|topic) +(\S+) +\S+ +(\d{6})…\d{4} +(\S+)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map(([, channel, partnerId, bin, alertId]) => ({ channel, partnerId, bin, alertId }));
    const webhook = deliveries.filter((d) => d.channel === 'webhook');
    const topic = deliveries.filter((d) => d.channel === 'topic');
    expect(webhook.length, stdout).toBeGreaterThan(0);
    expect(topic.length, stdout).toBeGreaterThan(0);
    const bins = (scheme: 'VISA' | 'MASTERCARD') => SIMULATED_ISSUER_BINS[scheme].map((b) => b.bin);
    for (const d of webhook)
      expect([d.partnerId, bins('VISA')]).toEqual(['demo-webhook-bank', expect.arrayContaining([d.bin])]);
    for (const d of topic)
      expect([d.partnerId, bins('MASTERCARD')]).toEqual(['demo-topic-bank', expect.arrayContaining([d.bin])]);
    // each alert once per partner (the receiver drops a repeated webhook-id)
    expect(new Set(webhook.map((d) => d.alertId)).size).toBe(webhook.length);
    expect(stderr).toMatch(
      new RegExp(
        `demo-webhook-bank received \\d+ by webhook .*demo-topic-bank received \\d+ on demo\\.alerts\\.`,
      ),
    );
    // masked cards only: BIN (6) … last 4, never a full number
    expect(stdout).not.toMatch(/\d{12,19}/);
  }, 180_000);
});
