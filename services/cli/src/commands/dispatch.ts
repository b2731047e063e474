import { runDispatcher } from '@leakwatch/dispatcher-service';
import type { CommandHandler } from './command.js';

const HELP = `Usage: leakwatch dispatch

Reads alerts from card.alerts.v1 (its own consumer group) and delivers each to the partner that
owns its BIN: on the partner's topic (partner.<id>.alerts.v1) and/or by Standard Webhooks, with
durable retries in Redis. Serves the signed disposition intake on LEAKWATCH_INTAKE_PORT (8088)
and /metrics, /healthz, /readyz on LEAKWATCH_HTTP_PORT (9465). Configured by LEAKWATCH_*
environment variables and LEAKWATCH_PARTNERS_FILE (see docs/dispatcher.md). SIGTERM or Ctrl-C:
stops the intake, finishes the batch in hand and the webhook tries in flight, exits 0.
`;

export const dispatchCommand: CommandHandler = {
  async run(args) {
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(HELP);
      return 0;
    }
    const code = await runDispatcher(process.env);
    process.exit(code);
  },
};
