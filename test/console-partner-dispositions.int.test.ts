import { randomBytes } from 'node:crypto';
import { createAlertEncoder, createSchemaRegistry, valueSubject } from '@leakwatch/contracts';
import { hmacSigner, webhookHeaders } from '@leakwatch/delivery';
import { startDispositionServices, type DispositionServices } from '@leakwatch/dispositions';
import { LeakStore } from '@leakwatch/leak-store';
import { silentLogger } from '@leakwatch/logger';
import { integrationTest as it } from '@leakwatch/testing';
import { Registry } from 'prom-client';
import { describe, expect, vi } from 'vitest';
import {
  ANALYST,
  createConsoleTopics,
  ConsoleClient,
  startTestConsole,
  testAlert,
  writeUsersFile,
} from './support/console-harness.js';

/*
 * An issuer's disposition posted to the dispatcher's signed intake (real Kafka, registry, Redis
 * and HTTP) shows in the console with who set it (the issuer's user and the partner), and in the
 * alert's audit: recorded once, although two console instances read it and each replays the
 * topic from the beginning.
 */

const WAIT = { timeout: 30_000, interval: 200 } as const;

interface AlertDetail {
  disposition: { disposition: string; by: string; note: string | null } | null;
  dispositionOrigin: { source: string; partnerId: string | null } | null;
  audit: Array<Record<string, unknown>>;
}

describe('console: dispositions issuers post through the dispatcher', () => {
  it('shows the partner as who set it, and audits it once', async ({
    endpoints,
    createTopics,
    kafka,
    redis,
    redisPrefix,
    groupId,
    testId,
  }) => {
    const topics = await createConsoleTopics(createTopics);
    const partnerId = `sakura-${testId.slice(-8)}`;
    const secret = `whsec_${randomBytes(32).toString('base64')}`;

    const registry = createSchemaRegistry({ url: endpoints.schemaRegistryUrl, clientId: 'console-partner' });
    const encoder = await createAlertEncoder({ registry, subject: valueSubject(topics.alerts) });
    const alert = testAlert(Date.now() - 60_000, 0, { partnerId });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.alerts,
      acks: -1,
      messages: [{ key: alert.card.fingerprint, value: encoder.encode(alert) }],
    });
    await producer.disconnect();

    const leakStore = new LeakStore({ redis, keyPrefix: redisPrefix });
    await leakStore.start();
    let services: DispositionServices | undefined;
    const run = { endpoints, usersFile: await writeUsersFile(), topics, redisPrefix };
    const first = await startTestConsole(run);
    let second: Awaited<ReturnType<typeof startTestConsole>> | undefined;
    try {
      services = await startDispositionServices({
        kafka,
        redis,
        registry,
        topics,
        groupIds: { alertIndex: `${groupId}-alert-index`, applier: `${groupId}-applier` },
        keyPrefix: redisPrefix,
        watchList: leakStore,
        inboundSecrets: (id) => (id === partnerId ? [secret] : undefined),
        intake: { port: 0, host: '127.0.0.1' },
        metrics: new Registry(),
        logger: silentLogger(),
      });
      // the intake accepts a verdict once its alert index knows the alert is this partner's
      await vi.waitFor(
        async () => expect(await redis.exists(`${redisPrefix}alert-index:${alert.alertId}`)).toBe(1),
        WAIT,
      );

      // The issuer's own code: Standard Webhooks signature over the JSON body.
      const at = Date.now();
      const body = JSON.stringify({
        alertId: alert.alertId,
        disposition: 'CONFIRMED_FRAUD',
        by: 'fraud-ops@sakura.example',
        at,
        note: 'cardholder denies the charge',
      });
      const posted = await fetch(
        `http://127.0.0.1:${services.intakePort}/v1/partners/${partnerId}/dispositions`,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...webhookHeaders(hmacSigner([secret]), `msg_${testId}`, body, Date.now()),
          },
          body,
          signal: AbortSignal.timeout(10_000),
        },
      );
      expect(posted.status).toBe(202);

      const expected = {
        disposition: {
          disposition: 'CONFIRMED_FRAUD',
          by: 'fraud-ops@sakura.example',
          note: 'cardholder denies the charge',
        },
        dispositionOrigin: { source: 'partner', partnerId },
        audit: [
          {
            at,
            by: 'fraud-ops@sakura.example',
            action: 'partner_disposition',
            alertId: alert.alertId,
            before: null,
            after: 'CONFIRMED_FRAUD',
            note: 'cardholder denies the charge',
            partnerId,
          },
        ],
      };
      const analyst = new ConsoleClient(`http://127.0.0.1:${first.port}`);
      expect((await analyst.signIn(ANALYST)).status).toBe(303);
      await vi.waitFor(async () => {
        const detail = (await (await analyst.request(`/api/alerts/${alert.alertId}`)).json()) as AlertDetail;
        expect(detail).toMatchObject(expected);
      }, WAIT);
      const page = await (await analyst.request(`/alerts/${alert.alertId}`)).text();
      expect(page).toContain(`fraud-ops@sakura.example, partner ${partnerId}`);
      const feed = (await (await analyst.request('/api/feed?state=confirmed')).json()) as {
        items: Array<{ alertId: string; by: string }>;
      };
      expect(feed.items).toEqual([
        expect.objectContaining({
          alertId: alert.alertId,
          by: `fraud-ops@sakura.example, partner ${partnerId}`,
        }),
      ]);

      // A second instance replays the topic: same state, and still one audit entry.
      second = await startTestConsole(run);
      const onSecond = analyst.at(`http://127.0.0.1:${second.port}`);
      const detail = (await (await onSecond.request(`/api/alerts/${alert.alertId}`)).json()) as AlertDetail;
      expect(detail).toMatchObject(expected);
      expect(detail.audit).toHaveLength(1);
    } finally {
      await second?.close();
      await services?.close();
      await first.close();
      await leakStore.close();
    }
  });
});
