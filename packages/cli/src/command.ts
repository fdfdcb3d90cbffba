// What every `labelwise` verb module exports. Verbs live in ./commands/<verb>.ts
// and are loaded on demand, so `labelwise --help` stays fast and a broken verb
// cannot break the others.
export interface Command {
  /** One line for `labelwise --help`. */
  summary: string;
  /** Full `labelwise <verb> --help` text: usage, every option, examples. */
  help: string;
  /** Runs the verb; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** A user mistake (bad flag, missing file): printed without a stack, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
