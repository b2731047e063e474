#!/usr/bin/env node
import { describeError, isLeakwatchError } from '@leakwatch/errors';
import { CliFailure, commands, usage } from './commands/index.js';

/**
 * `leakwatch <command>`: one entry point for operators and incident responders. Each command
 * module wires packages together; logic lives in the packages.
 */
async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`leakwatch: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof CliFailure) {
      process.stderr.write(`leakwatch: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`leakwatch: ${describeError(error)}\n`);
    if (!isLeakwatchError(error) && error instanceof Error && error.stack)
      process.stderr.write(`${error.stack}\n`);
    process.exitCode = isLeakwatchError(error, 'USAGE') ? 2 : 1;
  },
);
