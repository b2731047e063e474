import { LeakwatchError } from '@leakwatch/errors';
import type { Command, CommandHandler } from './command.js';

/**
 * Commands load their modules on first use: `leakwatch leaks check` should not pay for
 * loading the monitor, the simulator and kafkajs.
 */
function lazy(summary: string, load: () => Promise<CommandHandler>): Command {
  return { summary, run: async (args) => (await load()).run(args) };
}

/** Development tooling (tools/): a devDependency of the CLI, absent from a production install. */
const DEV_PACKAGES = ['@leakwatch/local-stack', '@leakwatch/simulator', '@leakwatch/bench'];

/** True when `error` says a tools/ package could not be loaded (a production install). */
export function isMissingDevPackage(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return DEV_PACKAGES.some((name) => error.message.includes(`'${name}'`) || error.message.includes(name));
}

/**
 * A command that needs development tooling (local stack, simulator, benchmarks). Production
 * images and `pnpm deploy --prod` leave tools/ out; such a command then says so in one line.
 */
function devOnly(summary: string, load: () => Promise<CommandHandler>): Command {
  return lazy(summary, async () => {
    try {
      return await load();
    } catch (error) {
      if (!isMissingDevPackage(error)) throw error;
      throw new LeakwatchError('USAGE', 'this is a development command; run from a clone');
    }
  });
}

export const commands: Record<string, Command> = {
  stack: devOnly(
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
  partners: lazy(
    'partners list|status|replay|enable — partner configuration and webhook delivery state',
    async () => (await import('./partners.js')).partnersCommand,
  ),
  simulate: devOnly(
    'produce realistic authorization traffic (watched cards, poison) to Kafka',
    async () => (await import('./simulate.js')).simulateCommand,
  ),
  demo: devOnly(
    'the one-command demo: stack, a leaked-card incident, the monitor and live traffic',
    async () => (await import('./demo.js')).demoCommand,
  ),
  bench: devOnly(
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
