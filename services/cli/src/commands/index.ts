import { benchCommand } from './bench.js';
import type { Command } from './command.js';
import { demoCommand } from './demo.js';
import { leaksCommand } from './leaks.js';
import { monitorCommand } from './monitor.js';
import { simulateCommand } from './simulate.js';
import { stackCommand } from './stack.js';

export const commands: Record<string, Command> = {
  stack: stackCommand,
  leaks: leaksCommand,
  monitor: monitorCommand,
  simulate: simulateCommand,
  demo: demoCommand,
  bench: benchCommand,
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(
    ([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`,
  );
  return `Usage: leakwatch <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "leakwatch <command> --help" for a command's options.\n`;
}
