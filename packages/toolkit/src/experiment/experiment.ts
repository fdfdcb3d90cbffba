// From a validated experiment config to a finished run: the config is
// checked whole (network, loss and method parameters included) before any
// data is read, a Session assembles the parts, the method's program runs over
// it (phases, rounds), the final model is published in <run>/checkpoints and
// the test split is scored through the same code as `labelwise predict`.
// The CLI's `train`, the server's jobs and the demo all go through here.
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '@labelwise/torch';
import type { Experiment } from '../config/experiment.js';
import { writeFileAtomic } from '../io/atomic.js';
import { getMethod } from '../methods/index.js';
import type { TrainResult } from '../training/trainer.js';
import { checkExperiment } from './check.js';
import { evaluateTest } from './evaluation.js';
import { defaultProgram } from './program.js';
import { type RunContext, RunCancelled, Session } from './session.js';

export type { RunContext } from './session.js';

export interface ExperimentResult extends TrainResult {
  runDir: string;
  /** Test-split evaluation of the final model, when the data has a test split. */
  test?: Record<string, unknown>;
}

/** Trains (or resumes) the experiment in `exp.output`; evaluates the test split at the end. */
export async function trainExperiment(exp: Experiment, ctx: RunContext = {}): Promise<ExperimentResult> {
  checkExperiment(exp);
  const method = getMethod(exp.method.name);
  const runDir = path.resolve(exp.output ?? path.join('runs', exp.name));
  fs.mkdirSync(runDir, { recursive: true });
  writeFileAtomic(path.join(runDir, 'config.json'), JSON.stringify(exp, null, 2) + '\n');
  torch.manualSeed(exp.seed);
  const session = await Session.open(exp, method, runDir, ctx);
  try {
    await (method.run ?? defaultProgram)(session);
  } catch (e) {
    if (e instanceof RunCancelled) return { ...e.result, runDir };
    throw e;
  }
  const last = session.lastResult;
  if (!last) throw new Error(`method '${method.name}': its program trained nothing`);
  session.publishCheckpoints();
  const out: ExperimentResult = { ...last, runDir };
  const plan = session.plan;
  if (plan.plan.test.length) {
    const ignoreLabel = plan.kind === '3d' ? plan.plan.ignoreLabel : null;
    out.test = await evaluateTest(runDir, { test: plan.plan.test, classNames: session.classNames, protocols: plan.plan.protocols, ignoreLabel, device: exp.device }, { budget: session.budget });
    writeFileAtomic(path.join(runDir, 'test_results.json'), JSON.stringify(out.test, null, 2) + '\n');
  }
  return out;
}

/** Job entry point for startJob(): trains an experiment in a worker thread. */
export async function trainExperimentJob(o: { experiment: Experiment; resume?: boolean }, ctx: { signal: AbortSignal; emit: (e: unknown) => void }): Promise<ExperimentResult> {
  return trainExperiment(o.experiment, { signal: ctx.signal, emit: ctx.emit, resume: o.resume });
}
