import { runConsole, runHashPassword } from '@leakwatch/console-service';
import type { CommandHandler } from './command.js';

const HELP = `Usage: leakwatch console
       leakwatch console hash-password < password.txt

Serves the analyst console on LEAKWATCH_CONSOLE_PORT (8080) and /metrics, /healthz, /readyz on
LEAKWATCH_HTTP_PORT (9466). Users come from LEAKWATCH_CONSOLE_USERS_FILE (YAML or JSON:
users: [{ username, role: viewer|analyst, passwordHash }]). The view is rebuilt from
card.alerts.v1 and card.alert-dispositions.v1 at every start. See docs/console.md.

hash-password reads one password on standard input and prints its scrypt hash
(scrypt$N$r$p$salt$hash) for the users file.
`;

export const consoleCommand: CommandHandler = {
  async run(args) {
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(HELP);
      return 0;
    }
    if (args[0] === 'hash-password') return runHashPassword(process.stdin, process.stdout);
    const code = await runConsole(process.env);
    process.exit(code);
  },
};
