import { checkSharedEnv, parseEnv, sharedServiceEnv, toSharedSettings } from '@leakwatch/config';
import { z } from 'zod';

/** What the command-line tools (leaks, simulate, bench) need, validated once with every problem listed. */
const CliEnv = z
  .object({
    ...sharedServiceEnv,
    LEAKWATCH_TOPIC_AUTHORIZATIONS: z.string().default('card.authorizations.v1'),
    LEAKWATCH_TOPIC_ALERTS: z.string().default('card.alerts.v1'),
    LEAKWATCH_TOPIC_DEAD_LETTERS: z.string().default('card.authorizations.dlq.v1'),
  })
  .superRefine(checkSharedEnv);

type CliEnv = z.output<typeof CliEnv>;

export function loadCliEnv(env: Record<string, string | undefined>) {
  const parsed = parseEnv(CliEnv, env, 'configuration');
  return { env: parsed, ...toSharedSettings(parsed) };
}
