import type { Command, CommandHandler } from './command.js';

/**
 * Commands load their modules on first use: `leakwatch leaks check` should not pay for
 * loading the monitor, the simulator and kafkajs.
 */
function lazy(summary: string, load: () => Promise<CommandHandler>): Command {
  return { summary, run: async (args) => (await load()).run(args) };
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
  simulate: lazy(
    'produce realistic authorization traffic (watched cards, poison) to Kafka',
    async () => (await import('./simulate.js')).simulateCommand,
  ),
  demo: lazy(
    'the one-command demo: stack, a leaked-card incident, the monitor and live traffic',
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
