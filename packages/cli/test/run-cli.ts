// Runs `labelwise` in-process with its output captured (for CLI tests). Only
// the CLI's own writes are captured (src/output.ts), never the real stdout the
// test runner reports on.
import { main } from '../src/main.js';
import { withOutput } from '../src/output.js';

export async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await withOutput({ out: { write: (t) => out.push(t) }, err: { write: (t) => err.push(t) } }, () => main(args));
  return { code, out: out.join(''), err: err.join('') };
}
