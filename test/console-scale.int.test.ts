import { createAlertEncoder, createSchemaRegistry, SEVERITIES, valueSubject } from '@leakwatch/contracts';
import { integrationTest as it } from '@leakwatch/testing';
import { chromium } from 'playwright-core';
import { describe, expect } from 'vitest';
import { ANALYST, startTestConsole, testAlert, writeUsersFile } from './support/console-harness.js';

/*
 * The console with 100,000 alerts retained: it rebuilds the view from Kafka and the browser
 * renders the first feed page. Both times are measured and printed (not asserted: a shared CI
 * machine must not make this flaky); the test asserts the state.
 */

const COUNT = 100_000;

describe('console at 100,000 alerts', () => {
  it('rebuilds from Kafka and renders the first page', async ({
    endpoints,
    createTopics,
    redisPrefix,
    kafka,
  }) => {
    const [alerts, dispositions] = await createTopics([
      { name: 'card.alerts', numPartitions: 6 },
      { name: 'card.alert-dispositions', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    ]);
    const topics = { alerts: alerts!, dispositions: dispositions! };
    const registry = createSchemaRegistry({ url: endpoints.schemaRegistryUrl, clientId: 'console-scale' });
    const encoder = await createAlertEncoder({ registry, subject: valueSubject(topics.alerts) });
    const producer = kafka.producer();
    await producer.connect();
    const t0 = Date.now() - COUNT * 1000;
    for (let start = 0; start < COUNT; start += 5000) {
      const messages = [];
      for (let i = start; i < start + 5000; i++) {
        const a = testAlert(t0, i * 1000, { severity: SEVERITIES[i % 4]! });
        messages.push({ key: a.card.fingerprint, value: encoder.encode(a) });
      }
      await producer.send({ topic: topics.alerts, messages });
    }
    await producer.disconnect();

    const usersFile = await writeUsersFile();
    const started = performance.now();
    const handle = await startTestConsole({ endpoints, usersFile, topics, redisPrefix });
    const startMs = performance.now() - started;
    const browser = await chromium.launch({
      executablePath: process.env.LEAKWATCH_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--no-first-run',
      ],
    });
    try {
      expect(handle.view.size).toBe(COUNT);
      const base = `http://localhost:${handle.port}`;
      const page = await browser.newPage();
      await page.goto(`${base}/`);
      await page.fill('input[name="username"]', ANALYST.username);
      await page.fill('input[name="password"]', ANALYST.password);
      await Promise.all([page.waitForURL(`${base}/feed`), page.click('button[type="submit"]')]);
      const renders: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        await page.goto(`${base}/feed?severity=CRITICAL&page=3`);
        await page.waitForSelector('#feed tbody tr');
        renders.push(performance.now() - t);
      }
      const t = performance.now();
      await page.goto(`${base}/feed`);
      await page.waitForSelector('#feed tbody tr');
      const firstPageMs = performance.now() - t;
      expect(await page.locator('#feed tbody tr').count()).toBe(50);
      expect(await page.locator('#total').textContent()).toBe(String(COUNT));
      console.info(
        `console scale: ${COUNT} alerts; started (view rebuilt) in ${startMs.toFixed(0)} ms; first feed page rendered in ${firstPageMs.toFixed(0)} ms; filtered page 4 of CRITICAL in ${renders.map((r) => r.toFixed(0)).join('/')} ms`,
      );
    } finally {
      await browser.close();
      await handle.close();
    }
  });
});
