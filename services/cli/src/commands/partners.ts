import { parseArgs } from 'node:util';
import { DeliveryStore, type PartnerStatus } from '@leakwatch/delivery';
import { loadEnv } from '@leakwatch/dispatcher-service';
import { LeakwatchError } from '@leakwatch/errors';
import { loadPartners, type PartnerRouter } from '@leakwatch/partners';
import { createRedisClient } from '@leakwatch/redis';
import type { CommandHandler } from './command.js';

const HELP = `Usage: leakwatch partners list
       leakwatch partners status [<partnerId>]
       leakwatch partners replay <partnerId> [--alert <alertId>] [--since <time>]
       leakwatch partners enable <partnerId>

  list     the partners file (LEAKWATCH_PARTNERS_FILE) as the dispatcher reads it, secrets redacted
  status   per webhook partner: queue depth, oldest pending, dead letters, disabled, last outcomes
  replay   sends dead letters again (all, one alert's, or alerts detected since a time, ISO-8601);
           the running dispatcher picks them up within a second, with the same webhook-id
  enable   re-enables an endpoint disabled by a 410 answer
`;

function usageError(message: string): LeakwatchError {
  return new LeakwatchError('USAGE', `${message}\n\n${HELP}`);
}

function age(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

function printStatus(status: PartnerStatus, now: number): void {
  const lines = [
    `${status.partnerId}${status.disabled ? `  DISABLED since ${new Date(status.disabled.at).toISOString()} (${status.disabled.reason}); "leakwatch partners enable ${status.partnerId}"` : ''}`,
    `  pending       ${status.queueDepth}`,
    `  oldest        ${status.oldestPendingAt === null ? '-' : `${age(now - status.oldestPendingAt)} ago`}`,
    `  next try      ${status.nextDueAt === null ? '-' : status.nextDueAt <= now ? 'now' : `in ${age(status.nextDueAt - now)}`}`,
    `  dead letters  ${status.deadLetters}`,
    '  last outcomes',
    ...(status.lastOutcomes.length === 0
      ? ['    -']
      : status.lastOutcomes.map(
          (o) =>
            `    ${new Date(o.at).toISOString()}  ${o.outcome.padEnd(13)} ${o.outcome === 'replayed' ? `${o.tries} dead letter(s)` : `${o.alertId} try ${o.tries}`}${o.status ? ` HTTP ${o.status}` : ''}${o.error && o.outcome !== 'accepted' ? `  ${o.error}` : ''}`,
        )),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function withStore<T>(
  env: ReturnType<typeof loadEnv>,
  run: (store: DeliveryStore) => Promise<T>,
): Promise<T> {
  const redis = createRedisClient(env.redis, {
    connectionName: 'leakwatch-partners',
    maxRetriesPerRequest: 3,
  });
  try {
    return await run(new DeliveryStore({ redis, keyPrefix: env.env.LEAKWATCH_REDIS_KEY_PREFIX }));
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

function webhookPartner(partners: PartnerRouter, partnerId: string | undefined): string {
  if (partnerId === undefined) throw usageError('a partnerId is needed');
  const partner = partners.partner(partnerId);
  if (!partner) throw new LeakwatchError('NOT_FOUND', `no partner "${partnerId}" in the partners file`);
  if (!partner.delivery.webhook) {
    throw new LeakwatchError(
      'USAGE',
      `partner "${partnerId}" takes no webhooks (Kafka only): nothing to replay`,
    );
  }
  return partnerId;
}

export const partnersCommand: CommandHandler = {
  async run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        alert: { type: 'string' },
        since: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    const [action, partnerId] = positionals;
    if (values.help || action === undefined) {
      process.stdout.write(HELP);
      return values.help ? 0 : 2;
    }
    const env = loadEnv(process.env);
    const partners = await loadPartners(env.env.LEAKWATCH_PARTNERS_FILE, { env: process.env });
    const now = Date.now();
    switch (action) {
      case 'list':
        // toJSON of each webhook and inbound block prints secrets as [REDACTED]
        process.stdout.write(`${JSON.stringify({ partners: partners.partners }, null, 2)}\n`);
        return 0;
      case 'status': {
        const ids =
          partnerId === undefined
            ? partners.partners.filter((p) => p.delivery.webhook).map((p) => p.partnerId)
            : [webhookPartner(partners, partnerId)];
        if (ids.length === 0) {
          process.stdout.write('no partner takes webhooks\n');
          return 0;
        }
        await withStore(env, async (store) => {
          for (const id of ids) printStatus(await store.status(id), now);
        });
        return 0;
      }
      case 'replay': {
        const id = webhookPartner(partners, partnerId);
        let sinceMs: number | undefined;
        if (values.since !== undefined) {
          sinceMs = Date.parse(values.since);
          if (Number.isNaN(sinceMs)) throw usageError(`--since ${values.since} is not a time (ISO-8601)`);
        }
        const moved = await withStore(env, (store) =>
          store.replay(id, {
            now,
            ...(values.alert !== undefined ? { alertId: values.alert } : {}),
            ...(sinceMs !== undefined ? { sinceMs } : {}),
          }),
        );
        process.stdout.write(`${moved} dead letter(s) of ${id} scheduled again\n`);
        return 0;
      }
      case 'enable': {
        const id = webhookPartner(partners, partnerId);
        const was = await withStore(env, (store) => store.enable(id));
        process.stdout.write(was ? `${id}: endpoint enabled again\n` : `${id}: endpoint was not disabled\n`);
        return 0;
      }
      default:
        throw usageError(`unknown action "${action}"`);
    }
  },
};
