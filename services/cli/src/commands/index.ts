import type { Command, CommandHandler } from './command.js';

/** A failure the CLI reports as one plain line (no error code, no stack) and an exit code. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliFailure';
  }
}

/** Development tooling (tools/): a devDependency of the CLI, absent from a production install. */
const DEV_PACKAGES = ['@leakwatch/local-stack', '@leakwatch/simulator', '@leakwatch/bench'];

function moduleNotFound(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** True when `error` says a tools/ package is not installed (a production install). */
export function isMissingDevPackage(error: unknown): boolean {
  return moduleNotFound(error) && DEV_PACKAGES.some((name) => error.message.includes(`package '${name}'`));
}

/** True when `error` says a workspace package has no build output (dist/) yet. */
export function isMissingBuild(error: unknown): boolean {
  return moduleNotFound(error) && /Cannot find module '[^']*[\\/]dist[\\/]/.test(error.message);
}

/** The one line printed for a module that is missing; undefined for any other error. */
export function explainMissingModule(error: unknown): CliFailure | undefined {
  if (isMissingDevPackage(error)) return new CliFailure('this is a development command; run from a clone', 2);
  if (isMissingBuild(error)) return new CliFailure('not built yet (dist/ is missing); run: pnpm build', 1);
  return undefined;
}

/**
 * Commands load their modules on first use: `leakwatch leaks check` should not pay for
 * loading the monitor, the simulator and kafkajs. A command that needs development tooling
 * (local stack, simulator, benchmarks) loads it here too: production images and
 * `pnpm deploy --prod` leave tools/ out, and such a command then says so in one line.
 */
function lazy(summary: string, load: () => Promise<CommandHandler>): Command {
  return {
    summary,
    run: async (args) => {
      let handler: CommandHandler;
      try {
        handler = await load();
      } catch (error) {
        throw explainMissingModule(error) ?? error;
      }
      return handler.run(args);
    },
  };
}

export const commands: Record<string, Command> = {
  stack: lazy(
    'stack up|down|status — real local Kafka, schema registry and Redis',
    async () => (await import('./stack.js')).stackCommand,
  ),
  leaks: lazy(
    'leaks import|list|show|retire|check — compromise incidents and watched cards',
    async () => (await import('./leaks.js')).leaksCommand,
  ),
  monitor: lazy(
    'run the authorization monitor (Kafka in, alerts out)',
    async () => (await import('./monitor.js')).monitorCommand,
  ),
  dispatch: lazy(
    'run the dispatcher (alerts to partner topics and Standard Webhooks, disposition intake)',
    async () => (await import('./dispatch.js')).dispatchCommand,
  ),
  console: lazy(
    'console [hash-password] — the analyst web console (live feed, detail, triage, audit)',
    async () => (await import('./console.js')).consoleCommand,
  ),
  partners: lazy(
    'partners list|status|replay|enable — partner configuration and webhook delivery state',
    async () => (await import('./partners.js')).partnersCommand,
  ),
  hunt: lazy(
    'hunt --incident <id> — find past charges on the cards of a newly disclosed incident',
    async () => (await import('./hunt.js')).huntCommand,
  ),
  simulate: lazy(
    'produce realistic authorization traffic (watched cards, poison) to Kafka',
    async () => (await import('./simulate.js')).simulateCommand,
  ),
  demo: lazy(
    'the one-command demo: stack, a leaked-card incident, the monitor, live traffic, partner delivery',
    async () => (await import('./demo.js')).demoCommand,
  ),
  bench: lazy(
    'benchmarks against the targets (store, import, monitor); writes reports/bench-*.md',
    async () => (await import('./bench.js')).benchCommand,
  ),
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(
    ([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`,
  );
  return `Usage: leakwatch <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "leakwatch <command> --help" for a command's options.\n`;
}
