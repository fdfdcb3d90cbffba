// `labelwise train`: one experiment config in, one run folder out. The config
// file is the single source of truth; flags override its keys.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { config, experiment, methods } from '@labelwise/toolkit';
import { type Command, UsageError } from '../command.js';
import * as output from '../output.js';

const help = `usage: labelwise train [-c experiment.yaml] [options]

Trains a network as the experiment config says (YAML or JSON), writing the run
folder: config.json, data_plan.json, log.jsonl, curves.png,
checkpoints/{best,last}/ (model.safetensors with PyTorch state-dict names,
state.safetensors, checkpoint.json) and, at the end, test/<protocol>/summary.json
for the test split. An interrupted run continues with --resume and ends exactly
as an uninterrupted one would.

options:
  -c, --config FILE      experiment config (YAML/JSON); optional with --protocol
  --protocol NAME        published hyperparameters to start from (${config.listProtocols().join(', ') || 'see docs'})
  --method NAME          training method (${methods.listMethods().map((m) => m.name).join(', ')})
  --dataset PATH         data.dataset: dataset root or manifest
  --labelled N           data.labelled: labelled patients/cases (the rest are unlabelled)
  --iterations N         training.iterations
  --seed N               seed
  --output DIR           run folder (default runs/<name>)
  --set KEY=VALUE        override any config key (repeatable), e.g. --set optimizer.lr=0.005
  --resume               continue the run in --output from its last checkpoint
  --no-progress          no progress bar
  -h, --help             this text

Ctrl-C stops after the current step and writes a last checkpoint (exit 130).

config keys (with defaults):
${config.describe(config.experimentSchema).map((l) => `  ${l}`).join('\n')}

examples:
  labelwise train -c experiments/acdc_unet2d.yaml
  labelwise train --protocol bcp-acdc --method bcp --labelled 7 --dataset ../shared/data/acdc
  labelwise train -c exp.yaml --set training.iterations=200 --resume --output runs/exp`;

export const command: Command = {
  summary: 'train a network from an experiment config',
  help,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        protocol: { type: 'string' },
        method: { type: 'string' },
        dataset: { type: 'string' },
        labelled: { type: 'string' },
        iterations: { type: 'string' },
        seed: { type: 'string' },
        output: { type: 'string' },
        set: { type: 'string', multiple: true },
        resume: { type: 'boolean' },
        'no-progress': { type: 'boolean' },
      },
      strict: true,
    });
    const pairs = [...(values.set ?? [])];
    const int = (flag: string, v: string | undefined, key: string) => {
      if (v === undefined) return;
      if (!/^\d+$/.test(v)) throw new UsageError(`--${flag}: expected a non-negative integer, got '${v}'`);
      pairs.push(`${key}=${v}`);
    };
    int('labelled', values.labelled, 'data.labelled');
    int('iterations', values.iterations, 'training.iterations');
    int('seed', values.seed, 'seed');
    if (values.protocol) pairs.push(`protocol=${values.protocol}`);
    if (values.method) pairs.push(`method.name=${values.method}`);
    if (values.dataset) pairs.push(`data.dataset=${JSON.stringify(path.resolve(values.dataset))}`);
    if (values.output) pairs.push(`output=${JSON.stringify(values.output)}`);
    if (values['no-progress']) pairs.push('training.progress=false');
    if (!values.config && !values.protocol) throw new UsageError('give an experiment config (-c FILE) or a --protocol');
    let exp: config.Experiment;
    try {
      exp = values.config ? config.loadExperiment(values.config, pairs) : config.resolveExperiment({}, config.parseOverrides(pairs), 'command line');
      // Network, loss and method parameters too, before any data is read.
      experiment.checkExperiment(exp, values.config ?? 'command line');
    } catch (e) {
      // Everything that can go wrong here is the user's input: unreadable or invalid config.
      throw new UsageError((e as Error).message);
    }
    const controller = new AbortController();
    const onSigint = () => {
      output.err('\nlabelwise train: stopping after this step (Ctrl-C again to abort at once)...\n');
      controller.abort();
      process.once('SIGINT', () => process.exit(130));
    };
    process.once('SIGINT', onSigint);
    try {
      const r = await experiment.trainExperiment(exp, { signal: controller.signal, resume: values.resume });
      const where = path.relative(process.cwd(), r.runDir) || '.';
      if (!r.completed) {
        output.err(`labelwise train: stopped at step ${r.step}; continue with: labelwise train ${argv.join(' ')} --resume --output ${where}\n`);
        return 130;
      }
      output.out(`run folder: ${where}\n`);
      if (r.bestScore !== null) output.out(`best validation ${exp.validation.metric}: ${r.bestScore.toFixed(4)} at step ${r.bestStep}\n`);
      if (r.test) output.out(`test results: ${path.join(where, 'test_results.json')}\n`);
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
