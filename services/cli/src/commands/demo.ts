import { portsFromEnv, stackUp } from '@leakwatch/local-stack';
import type { Command } from './command.js';

/**
 * The one-command demo. It brings the local stack up and prints its endpoints; the monitor,
 * the demo incident and simulated traffic plug in here as they land.
 */
export const demoCommand: Command = {
  summary: 'brings the stack up and runs the end-to-end demo',
  async run() {
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const result = await stackUp({ ports: portsFromEnv(process.env), log });
    log('\nThe stack is up. Use these endpoints (or `pnpm leakwatch stack status`):');
    process.stdout.write(
      `${Object.entries(result.env)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')}\n`,
    );
    log('\nStop it with: pnpm leakwatch stack down');
    return 0;
  },
};
