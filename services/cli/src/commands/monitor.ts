import { runMonitor } from '@leakwatch/monitor-service';
import type { CommandHandler } from './command.js';

const HELP = `Usage: leakwatch monitor

Reads card authorizations from Kafka, checks each card against the watch list in Redis, and
publishes alerts (card.alerts.v1, partner topics) and dead letters. Configured by LEAKWATCH_*
environment variables (see README "Configuration"); serves /metrics, /healthz and /readyz on
LEAKWATCH_HTTP_PORT. SIGTERM or Ctrl-C: finishes the batch in hand, commits and exits 0.
`;

export const monitorCommand: CommandHandler = {
  async run(args) {
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(HELP);
      return 0;
    }
    const code = await runMonitor(process.env);
    // everything is drained and closed; do not wait on stray sockets of half-started clients
    process.exit(code);
  },
};
