import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { integrationTest as it } from '@leakwatch/testing';
import { describe, expect } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = `${root}services/cli/dist/main.js`;

describe('leakwatch demo (the README main-job command)', () => {
  it('imports the demo incident, runs the monitor on simulated traffic and prints flagged charges', async ({
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
    // masked cards only: BIN (6) … last 4, never a full number
    expect(stdout).not.toMatch(/\d{12,19}/);
  }, 180_000);
});
