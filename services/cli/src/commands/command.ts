/** What a command module exports: its behaviour. */
export interface CommandHandler {
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: readonly string[]): Promise<number>;
}

/** A command as the entry point lists it: a summary (known without loading the module) and its handler. */
export interface Command extends CommandHandler {
  /** One line for `leakwatch --help`. */
  summary: string;
}
