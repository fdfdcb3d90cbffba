// Where the CLI writes: process.stdout/stderr, unless a caller (the tests, a
// server embedding the CLI) redirects them. Commands never touch
// process.stdout directly, so capturing their output cannot swallow anything
// else written to the real streams (such as the test runner's own reports).
export interface Sink { write(text: string): unknown }

let outSink: Sink = { write: (t) => process.stdout.write(t) };
let errSink: Sink = { write: (t) => process.stderr.write(t) };

export const out = (text: string): void => { outSink.write(text); };
export const err = (text: string): void => { errSink.write(text); };

/** Runs `fn` with CLI output going to the given sinks, then restores them. */
export async function withOutput<T>(sinks: { out: Sink; err: Sink }, fn: () => Promise<T>): Promise<T> {
  const saved = [outSink, errSink] as const;
  outSink = sinks.out;
  errSink = sinks.err;
  try {
    return await fn();
  } finally {
    [outSink, errSink] = saved;
  }
}
