import {
  createAlertEncoder,
  createDispositionDecoder,
  createSchemaRegistry,
  valueSubject,
  type SuspiciousChargeAlert,
} from '@leakwatch/contracts';
import { collectMessages, integrationTest as it } from '@leakwatch/testing';
import { describe, expect, vi } from 'vitest';
import {
  ANALYST,
  createConsoleTopics,
  ConsoleClient,
  startTestConsole,
  testAlert,
  VIEWER,
  writeUsersFile,
} from './support/console-harness.js';

/*
 * The console's API against real Kafka, registry and Redis: the view is built from the alerts
 * topic, filters and paging are server-side, dispositions land on the compacted topic with the
 * analyst's name, viewers and requests without the CSRF token are refused, and a restarted
 * console rebuilds the same state (disposition and audit) from Kafka and Redis.
 */

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const WAIT = { timeout: 30_000, interval: 200 } as const;

describe('console API', () => {
  it('filters, pages, triages with roles and CSRF, and rebuilds after a restart', async ({
    endpoints,
    createTopics,
    redisPrefix,
    kafka,
  }) => {
    const topics = await createConsoleTopics(createTopics);
    const registry = createSchemaRegistry({ url: endpoints.schemaRegistryUrl, clientId: 'console-test' });
    const encoder = await createAlertEncoder({ registry, subject: valueSubject(topics.alerts) });
    const produced: SuspiciousChargeAlert[] = [];
    for (let i = 0; i < 30; i++) {
      produced.push(
        testAlert(T0, i * 1000, {
          severity: i % 3 === 0 ? 'CRITICAL' : 'LOW',
          partnerId: i % 2 === 0 ? 'bank-a' : 'bank-b',
        }),
      );
    }
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.alerts,
      messages: produced.map((a) => ({ key: a.card.fingerprint, value: encoder.encode(a) })),
    });
    await producer.disconnect();

    const usersFile = await writeUsersFile();
    const run = { endpoints, usersFile, topics, redisPrefix };
    let handle = await startTestConsole(run);
    try {
      const base = `http://127.0.0.1:${handle.port}`;
      const anonymous = new ConsoleClient(base);
      expect((await anonymous.request('/api/alerts')).status).toBe(401);
      const signInPage = await anonymous.request('/');
      expect(signInPage.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(signInPage.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(signInPage.headers.get('x-content-type-options')).toBe('nosniff');

      const analyst = new ConsoleClient(base);
      expect((await analyst.signIn({ ...ANALYST, password: 'wrong' })).status).toBe(401);
      expect((await analyst.signIn(ANALYST)).status).toBe(303);

      const all = (await (await analyst.request('/api/alerts?pageSize=10')).json()) as {
        total: number;
        items: SuspiciousChargeAlert[];
        counts: Record<string, number>;
      };
      expect(all.total).toBe(30);
      expect(all.counts).toMatchObject({ CRITICAL: 10, LOW: 20 });
      expect(all.items[0]!.alertId).toBe(produced[29]!.alertId);
      const page2 = (await (await analyst.request('/api/alerts?pageSize=10&page=2')).json()) as typeof all;
      expect(page2.items.at(-1)!.alertId).toBe(produced[0]!.alertId);
      const critical = (await (
        await analyst.request('/api/alerts?severity=CRITICAL&partner=bank-a')
      ).json()) as typeof all;
      expect(critical.total).toBe(5);
      const windowed = (await (
        await analyst.request(`/api/alerts?from=${T0 + 5000}&to=${T0 + 10_000}`)
      ).json()) as typeof all;
      expect(windowed.total).toBe(5);

      const target = produced[3]!;
      const path = `/api/alerts/${target.alertId}/disposition`;
      const body = { disposition: 'CONFIRMED_FRAUD', note: 'customer confirmed' };
      expect((await analyst.postJson(path, body, false)).status).toBe(403);
      const viewer = new ConsoleClient(base);
      expect((await viewer.signIn(VIEWER)).status).toBe(303);
      expect((await viewer.postJson(path, body)).status).toBe(403);
      expect((await analyst.postJson(path, body)).status).toBe(200);

      const written = await collectMessages(kafka, {
        topic: topics.dispositions,
        until: (m) => m.length >= 1,
      });
      const decoded = await createDispositionDecoder({ registry }).decode(written[0]!.value);
      expect(decoded.ok && decoded.value).toMatchObject({
        alertId: target.alertId,
        disposition: 'CONFIRMED_FRAUD',
        by: ANALYST.username,
        note: 'customer confirmed',
      });
      expect(written[0]!.key?.toString()).toBe(target.alertId);

      const confirmed = (await (await analyst.request('/api/alerts?state=confirmed')).json()) as typeof all;
      expect(confirmed.items.map((a) => a.alertId)).toEqual([target.alertId]);
      const csv = await (await viewer.request('/api/alerts.csv?severity=CRITICAL')).text();
      expect(csv.trim().split('\r\n')).toHaveLength(11);
      expect(csv).toContain('41111111******1111');

      // Bulk: every open LOW alert of the incident closed as FALSE_POSITIVE, viewer refused.
      expect((await viewer.postJson('/api/incidents/inc-2025-001/close-low', {})).status).toBe(403);
      const closed = await analyst.postJson('/api/incidents/inc-2025-001/close-low', {});
      expect(await closed.json()).toMatchObject({ updated: 20 });
      const falsePositives = (await (
        await analyst.request('/api/alerts?state=false_positive')
      ).json()) as typeof all;
      expect(falsePositives.total).toBe(20);
      expect(falsePositives.counts).toMatchObject({ LOW: 20, CRITICAL: 0 });

      // Rate limit: 5 sign-ins a minute per username and address.
      const guesser = new ConsoleClient(base);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++)
        statuses.push((await guesser.signIn({ username: 'vic', password: 'x' })).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);

      await handle.close();
      handle = await startTestConsole(run);
      // Sessions are in Redis: the analyst's cookie from before the restart still works.
      const again = analyst.at(`http://127.0.0.1:${handle.port}`);
      expect((await again.request('/api/alerts?pageSize=1')).status).toBe(200);
      await vi.waitFor(async () => {
        const detail = (await (await again.request(`/api/alerts/${target.alertId}`)).json()) as {
          disposition: { disposition: string; by: string } | null;
          audit: Array<{ by: string; before: string | null; after: string }>;
        };
        expect(detail.disposition).toMatchObject({ disposition: 'CONFIRMED_FRAUD', by: 'ana' });
        expect(detail.audit).toEqual([
          expect.objectContaining({
            by: 'ana',
            before: null,
            after: 'CONFIRMED_FRAUD',
            note: 'customer confirmed',
          }),
        ]);
      }, WAIT);
      expect(handle.view.size).toBe(30);
      // A second instance at the same time shows the same state, to the same session.
      const second = await startTestConsole(run);
      try {
        expect(second.view.size).toBe(30);
        expect(second.view.get(target.alertId)?.disposition).toEqual(
          handle.view.get(target.alertId)?.disposition,
        );
        const onSecond = analyst.at(`http://127.0.0.1:${second.port}`);
        const other = produced[4]!.alertId;
        const write = await onSecond.postJson(`/api/alerts/${other}/disposition`, {
          disposition: 'UNDER_REVIEW',
          note: null,
        });
        expect(write.status).toBe(200);
        await vi.waitFor(
          () => expect(handle.view.get(other)?.disposition?.disposition).toBe('UNDER_REVIEW'),
          WAIT,
        );
        // Signing out on one instance ends the session on both, even for a kept copy of the cookie.
        const kept = analyst.at(`http://127.0.0.1:${handle.port}`);
        const signOut = await onSecond.request('/signout', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ _csrf: onSecond.csrf }).toString(),
        });
        expect(signOut.status).toBe(303);
        expect((await kept.request('/api/alerts')).status).toBe(401);
        expect((await kept.request('/feed')).status).toBe(303);
      } finally {
        await second.close();
      }
    } finally {
      await handle.close();
    }
  });
});
