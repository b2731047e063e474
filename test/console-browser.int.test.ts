import { mkdir } from 'node:fs/promises';
import { createAuthorizationEncoder, createSchemaRegistry, valueSubject } from '@leakwatch/contracts';
import type { MonitorHandle } from '@leakwatch/monitor-service';
import { integrationTest as it } from '@leakwatch/testing';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describe, expect, vi } from 'vitest';
import {
  ANALYST,
  ConsoleClient,
  startTestConsole,
  VIEWER,
  writeUsersFile,
} from './support/console-harness.js';
import { authorizationBuilder, startInProcessMonitor, watchedIncident } from './support/monitor-harness.js';

/*
 * The console in a real headless Chromium (Debian's /usr/bin/chromium through playwright-core),
 * fed by a real monitor: sign in, an authorization on a watched card shows up live, triage with a
 * note survives a reload with its audit entry, bulk reissue, keyboard-only triage, a viewer is
 * refused, and nothing the browser received contains a PAN the test produced.
 */

const WAIT = { timeout: 30_000, interval: 200 } as const;
const CHROMIUM = process.env.LEAKWATCH_CHROMIUM ?? '/usr/bin/chromium';
const IMAGES = new URL('../docs/images/', import.meta.url);

describe('console in a browser', () => {
  it('shows live alerts, triages, audits, refuses viewers and never shows a PAN', async ({
    endpoints,
    createTopics,
    redis,
    redisPrefix,
    testId,
    groupId,
    kafka,
  }) => {
    const { topics, fingerprintKeys, watchedCards } = await watchedIncident({
      createTopics,
      redis,
      redisPrefix,
      testId,
      cardCount: 4,
    });
    const pans = watchedCards.map((c) => c.pan);
    const usersFile = await writeUsersFile();
    let monitor: MonitorHandle | undefined;
    let browser: Browser | undefined;
    const consoleHandle = await startTestConsole({
      endpoints,
      usersFile,
      topics: { alerts: topics.alerts, dispositions: topics.dispositions },
      redisPrefix,
    });
    const base = `http://localhost:${consoleHandle.port}`;
    const received: Array<{ url: string; body: string }> = [];
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    const sseAbort = new AbortController();
    try {
      monitor = await startInProcessMonitor({ endpoints, topics, groupId, redisPrefix, fingerprintKeys });
      const registry = createSchemaRegistry({ url: endpoints.schemaRegistryUrl });
      const encoder = await createAuthorizationEncoder({
        registry,
        subject: valueSubject(topics.authorizations),
      });
      await producer.connect();
      const t0 = Date.now() - 60_000;
      const authorization = authorizationBuilder(t0, {
        id: 'm-gadgets-us',
        name: 'Gadgets Online',
        mcc: '5732',
        country: 'US',
      });
      const card = watchedCards[0]!;
      const produce = async (eventId: string, minute: number) => {
        const auth = authorization(
          eventId,
          minute,
          { pan: card.pan, expiry: card.expiry },
          {
            channel: 'ECOMMERCE',
            threeDs: 'NOT_PERFORMED',
            cvvResult: 'MATCH',
            amountMinor: 129_900,
            currency: 'USD',
          },
        );
        await producer.send({
          topic: topics.authorizations,
          messages: [{ key: `card-${eventId}`, value: encoder.encode(auth) }],
        });
      };

      // The SSE stream as a browser receives it, kept to search for PANs.
      const sseClient = new ConsoleClient(base);
      await sseClient.signIn(VIEWER);
      const sse = await sseClient.request('/api/stream', { signal: sseAbort.signal });
      const sseText: string[] = [];
      void (async () => {
        const decoder = new TextDecoder();
        try {
          for await (const chunk of sse.body as unknown as AsyncIterable<Uint8Array>)
            sseText.push(decoder.decode(chunk));
        } catch {
          // aborted at the end
        }
      })();

      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
      const capture = (page: Page) => {
        page.on('response', (response) => {
          if ((response.headers()['content-type'] ?? '').startsWith('text/event-stream')) return;
          response.text().then(
            (body) => received.push({ url: response.url(), body }),
            () => undefined,
          );
        });
        page.on('dialog', (dialog) => void dialog.accept());
      };
      const signIn = async (page: Page, user: { username: string; password: string }) => {
        await page.goto(`${base}/`);
        await page.fill('input[name="username"]', user.username);
        await page.fill('input[name="password"]', user.password);
        await Promise.all([page.waitForURL(`${base}/feed`), page.click('button[type="submit"]')]);
      };

      // 1. Sign in as an analyst.
      const analystContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await analystContext.newPage();
      capture(page);
      await signIn(page, ANALYST);
      const firstPaint = performance.now();
      await page.reload();
      await page.waitForSelector('#feed');
      const feedRenderMs = performance.now() - firstPaint;

      // 2. An authorization on a watched card: its alert appears live, no reload.
      const producedAt = performance.now();
      await produce(`e2e-1-${testId}`, 0);
      const row = page.locator('#feed tbody tr[data-alert-id]').first();
      await row.waitFor({ timeout: 30_000 });
      const liveMs = performance.now() - producedAt;
      const alertId = (await row.getAttribute('data-alert-id'))!;
      expect(alertId).toBeTruthy();
      await page.screenshot({ path: new URL('console-feed.png', IMAGES).pathname, fullPage: true });

      // 3. Open it, check the reasons, mark CONFIRMED_FRAUD with a note.
      await Promise.all([page.waitForURL(`${base}/alerts/${alertId}`), row.locator('a').click()]);
      expect(await page.locator('#incident-list').textContent()).toContain('source: integration test');
      const reasons = await page.locator('#reasons tbody tr').allTextContents();
      const apiDetail = consoleHandle.view.get(alertId)!;
      expect(reasons.length).toBe(apiDetail.alert.reasons.length);
      for (const reason of apiDetail.alert.reasons) expect(reasons.join('\n')).toContain(reason.code);
      await page.fill('#note', 'cardholder denies the charge');
      await Promise.all([
        page.waitForEvent('load'),
        page.click('button[data-disposition="CONFIRMED_FRAUD"]'),
      ]);

      // 4. Reload: the disposition and the audit entry are kept.
      await page.reload();
      await expect.poll(() => page.locator('#state').textContent(), WAIT).toBe('Confirmed fraud');
      expect(await page.locator('#disposition-note').textContent()).toBe('cardholder denies the charge');
      const audit = await page.locator('#audit tbody').textContent();
      expect(audit).toContain('ana');
      expect(audit).toContain('CONFIRMED_FRAUD');
      await page.screenshot({ path: new URL('console-detail.png', IMAGES).pathname, fullPage: true });

      // 5. Bulk: a second alert on the card, then every open alert of the card CARD_REISSUED.
      await produce(`e2e-2-${testId}`, 5);
      await vi.waitFor(
        () => expect(consoleHandle.view.cardTimeline(apiDetail.alert.card.fingerprint)).toHaveLength(2),
        WAIT,
      );
      const second = consoleHandle.view
        .cardTimeline(apiDetail.alert.card.fingerprint)
        .find((v) => v.alert.alertId !== alertId)!.alert.alertId;
      await page.reload();
      await Promise.all([page.waitForEvent('load'), page.click('button[data-reissue]')]);
      await vi.waitFor(
        () => expect(consoleHandle.view.get(second)?.disposition?.disposition).toBe('CARD_REISSUED'),
        WAIT,
      );
      expect(consoleHandle.view.get(alertId)?.disposition?.disposition).toBe('CONFIRMED_FRAUD');

      // 7. Keyboard only: reach an alert from the feed and triage it.
      await page.goto(`${base}/feed`);
      await page.keyboard.press('j');
      await Promise.all([page.waitForURL(/\/alerts\//), page.keyboard.press('Enter')]);
      // j: the next (older) alert in the queue, k: back
      const firstInQueue = page.url();
      await Promise.all([page.waitForURL((u) => u.href !== firstInQueue), page.keyboard.press('j')]);
      await Promise.all([page.waitForURL(firstInQueue), page.keyboard.press('k')]);
      const keyboardAlert = decodeURIComponent(page.url().split('/alerts/')[1]!);
      await Promise.all([page.waitForEvent('load'), page.keyboard.press('u')]);
      await vi.waitFor(
        () => expect(consoleHandle.view.get(keyboardAlert)?.disposition?.disposition).toBe('UNDER_REVIEW'),
        WAIT,
      );
      await page.goto(`${base}/incidents`);
      // the watch list's own figures: the incident's source and its 4 watched cards
      const incidentRow = page.locator(`#incidents tbody tr:has(a[href="/feed?incident=inc-${testId}"])`);
      const cells = await incidentRow.locator('td').allTextContents();
      expect(cells.slice(1, 4)).toEqual(['integration test', '4', '1']);
      await page.screenshot({ path: new URL('console-incidents.png', IMAGES).pathname, fullPage: true });

      // 6. A viewer: no triage buttons, and the API refuses.
      const viewerContext = await browser.newContext();
      const viewerPage = await viewerContext.newPage();
      capture(viewerPage);
      await signIn(viewerPage, VIEWER);
      await viewerPage.goto(`${base}/alerts/${alertId}`);
      expect(await viewerPage.locator('button[data-disposition]').count()).toBe(0);
      // Runs in the page (a string: this file is not compiled with the DOM library).
      const refused = await viewerPage.evaluate<number>(`(async () => {
        const csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
        const res = await fetch('/api/alerts/${encodeURIComponent(alertId)}/disposition', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
          body: JSON.stringify({ disposition: 'FALSE_POSITIVE', note: null }),
        });
        return res.status;
      })()`);
      expect(refused).toBe(403);
      expect(consoleHandle.view.get(alertId)?.disposition?.disposition).toBe('CONFIRMED_FRAUD');

      // Nothing the browser got (pages, API bodies, SSE) holds a produced PAN.
      received.push({ url: 'page:analyst', body: await page.content() });
      received.push({ url: 'page:viewer', body: await viewerPage.content() });
      received.push({ url: 'sse', body: sseText.join('') });
      expect(sseText.join('')).toContain(alertId);
      expect(received.length).toBeGreaterThan(10);
      for (const { url, body } of received) {
        for (const pan of pans) expect(body.includes(pan), `${url} contains a PAN`).toBe(false);
      }
      console.info(
        `console e2e: first feed page rendered in ${feedRenderMs.toFixed(0)} ms; alert visible ${liveMs.toFixed(0)} ms after the authorization was produced; ${received.length} bodies checked for PANs`,
      );
    } finally {
      sseAbort.abort();
      await browser?.close();
      await producer.disconnect();
      await monitor?.close();
      await consoleHandle.close();
    }
  });
});

await mkdir(IMAGES, { recursive: true });
