#!/usr/bin/env node
// The `labelwise` command line: nnU-Net's pipeline stages as verbs.
// Exit codes: 0 success, 1 failure while working, 2 usage or input error.
import type { Command } from './command.js';
import { UsageError } from './command.js';
import * as output from './output.js';

const VERBS: Record<string, string> = {
  plan: 'propose target spacing, patch and batch size from a dataset fingerprint',
  train: 'train a network from an experiment config',
  predict: 'segment images with a trained checkpoint',
  segment: 'segment one image from clicks, refining a trained model',
  evaluate: 'score predictions against labels (Dice, HD95, ASSD, ...)',
  convert: 'convert DICOM series and other formats to NIfTI',
  dataset: 'inspect a dataset (fingerprint) or check image/label geometry',
};

function usage(): string {
  const width = Math.max(...Object.keys(VERBS).map((v) => v.length));
  return [
    'usage: labelwise <command> [options]',
    '',
    'commands:',
    ...Object.entries(VERBS).map(([v, s]) => `  ${v.padEnd(width)}  ${s}`),
    '',
    "Run 'labelwise <command> --help' for a command's options.",
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') {
    output.out(usage() + '\n');
    return verb ? 0 : 2;
  }
  if (verb === '--version') {
    output.out('labelwise 0.1.0\n');
    return 0;
  }
  if (!(verb in VERBS)) {
    output.err(`labelwise: unknown command '${verb}' (expected one of: ${Object.keys(VERBS).join(', ')})\n`);
    return 2;
  }
  const cmd = ((await import(`./commands/${verb}.js`)) as { command: Command }).command;
  if (rest.includes('--help') || rest.includes('-h')) {
    output.out(cmd.help.trimEnd() + '\n');
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    const err = e as Error;
    if (err instanceof UsageError || (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      output.err(`labelwise ${verb}: ${err.message}\n`);
      return 2;
    }
    output.err(`labelwise ${verb}: ${err.message ?? String(e)}\n`);
    if (process.env.LABELWISE_DEBUG) output.err(`${err.stack}\n`);
    return 1;
  }
}

// Run when executed directly (not when imported by tests).
if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/labelwise')) {
  // A closed pipe (e.g. `labelwise dataset inspect ... | head`) is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });
  }
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
    output.err(`labelwise: ${String(e)}\n`);
    process.exitCode = 1;
  });
}
