// From a validated experiment config to a finished run: data streams and
// background loader, network, loss, method recipe, optimizer and schedule,
// validation on whole volumes, the trainer, and a final test evaluation.
// The CLI's `train`, the server's jobs and the demo all go through here.
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '@labelwise/torch';
import { DataLoader } from '../data/loader.js';
import { writeFileAtomic } from '../io/atomic.js';
import { createLoss } from '../losses/registry.js';
import { getMethod, type PhaseSpec } from '../methods/index.js';
import { predictSlices } from '../inference/slicewise.js';
import { findCheckpoint, loadCheckpoint } from './checkpoint.js';
import { createNetwork } from '../nn/registry.js';
import { acdcSsl4mis } from '../transforms/augment-presets.js';
import type { AugmentConfig } from '../transforms/compose.js';
import type { Experiment } from './config.js';
import { resolveDataPlan, type DataPlan } from './data-plan.js';
import type { SliceProducerOptions } from './slice-producer.js';
import { Trainer, type BatchSource, type TrainResult, type ValidationResult } from './trainer.js';
import { evaluateVolumes, type VolumeCase } from './evaluation.js';

export interface RunContext {
  signal?: AbortSignal;
  emit?: (event: unknown) => void;
  resume?: boolean;
}

export interface ExperimentResult extends TrainResult {
  runDir: string;
  /** Test-split evaluation of the best (or last) checkpoint, when the data has a test split. */
  test?: Record<string, unknown>;
}

function optimizerFor(exp: Experiment, params: torch.nn.Parameter[]): torch.optim.Optimizer {
  const o = exp.optimizer;
  switch (o.name) {
    case 'sgd': return new torch.optim.SGD(params, { lr: o.lr, momentum: o.momentum, nesterov: o.nesterov, weightDecay: o.weightDecay });
    case 'adam': return new torch.optim.Adam(params, { lr: o.lr, betas: o.betas as [number, number], weightDecay: o.weightDecay });
    case 'adamw': return new torch.optim.AdamW(params, { lr: o.lr, betas: o.betas as [number, number], weightDecay: o.weightDecay });
  }
}

type SchedulerLike = { step(): void; stateDict(): Record<string, unknown>; loadStateDict(s: Record<string, unknown>): void };

function schedulerFor(exp: Experiment, opt: torch.optim.Optimizer, total: number): SchedulerLike {
  const s = exp.schedule;
  const S = torch.optim.lrScheduler;
  const main = (() => {
    switch (s.name) {
      case 'poly': return new S.PolyLR(opt, total, { exponent: s.power });
      case 'step': return new S.StepLR(opt, s.stepSize, { gamma: s.gamma });
      case 'cosine': return new S.CosineAnnealingLR(opt, total, { etaMin: s.minLr });
      case 'constant': return new S.ConstantLR(opt, { factor: 1, totalIters: 0 });
    }
  })();
  if (!s.warmupIterations) return main;
  const warm = new S.LinearLR(opt, { startFactor: 1e-3, endFactor: 1, totalIters: s.warmupIterations });
  return new S.SequentialLR(opt, [warm, main], [s.warmupIterations]);
}

function augmentationFor(exp: Experiment, plan: DataPlan): AugmentConfig | null {
  const a = exp.data.augmentation;
  if (a === 'none') return null;
  if (a === 'default' || a === 'acdcSsl4mis') return acdcSsl4mis({ size: exp.data.patchSize, image: plan.imageResize === 'bilinear' ? 'linear' : 'nearest' });
  throw new Error(`data.augmentation: '${a}' is not one of default, acdcSsl4mis, none`);
}

/** Dice per class of a label volume against its reference, as validation needs it (fast, no distances). */
function diceScores(pred: torch.Tensor, ref: torch.Tensor, numClasses: number): number[] {
  return torch.tidy(() => {
    const out: number[] = [];
    for (let c = 1; c < numClasses; c++) {
      const p = pred.eq(c);
      const r = ref.eq(c);
      const inter = p.logicalAnd(r).sum().item();
      const denom = p.sum().item() + r.sum().item();
      out.push(denom === 0 ? 1 : (2 * inter) / denom);
    }
    return out;
  });
}

/** Trains (or resumes) the experiment in `exp.output`; evaluates the test split at the end. */
export async function trainExperiment(exp: Experiment, ctx: RunContext = {}): Promise<ExperimentResult> {
  const runDir = path.resolve(exp.output ?? path.join('runs', exp.name));
  fs.mkdirSync(runDir, { recursive: true });
  writeFileAtomic(path.join(runDir, 'config.json'), JSON.stringify(exp, null, 2) + '\n');
  torch.manualSeed(exp.seed);
  if (exp.data.dims !== '2d') throw new Error(`data.dims: '3d' training runs through the patch pipeline, which this build wires for 2D slice data only; use dims: 2d`);

  const plan = await resolveDataPlan(exp);
  writeFileAtomic(path.join(runDir, 'data_plan.json'), JSON.stringify({ ...plan, validation: plan.validation.map((v) => v.id), test: plan.test.map((v) => v.id) }, null, 2) + '\n');
  const method = getMethod(exp.method.name);
  const netConfig = { inChannels: plan.inChannels, numClasses: plan.numClasses, ...exp.network, seed: (exp.network.seed as number | undefined) ?? exp.seed } as unknown as { name: string; [k: string]: unknown };
  const makeNetwork = () => createNetwork(netConfig) as unknown as torch.nn.Module;
  const device = exp.device;
  if (device === 'cuda' && !torch.cuda.isAvailable()) throw new Error("device: 'cuda' was asked for, but this libtorch build sees no CUDA device (build against a CUDA LibTorch with LIBTORCH=..., or use device: cpu)");
  const model = makeNetwork().to(device);
  const toDevice = (t: torch.Tensor) => { if (device === 'cpu') return t; const d = t.to(device); t.dispose(); return d; };
  const loss = createLoss(exp.loss as { name: string });
  const { name: _n, ...methodParams } = exp.method;
  const phases: PhaseSpec[] = method.phases ? method.phases(methodParams, exp.training.iterations) : [{ name: 'train', iterations: exp.training.iterations }];

  const unlabelledBatch = method.streams.includes('unlabelled') ? exp.data.unlabelledBatchSize || exp.data.batchSize : 0;
  if (unlabelledBatch && plan.unlabelled.length === 0) throw new Error(`method '${method.name}' needs unlabelled data: set data.labelled to fewer cases than the ${plan.labelled.length} available`);
  const producer: SliceProducerOptions = {
    source: plan.source,
    streams: [
      { prefix: '', ids: plan.labelled, batchSize: exp.data.batchSize, withLabels: true },
      ...(unlabelledBatch ? [{ prefix: 'u', ids: plan.unlabelled, batchSize: unlabelledBatch, withLabels: false }] : []),
    ],
    patchSize: exp.data.patchSize as [number, number],
    augmentation: augmentationFor(exp, plan),
    seed: exp.seed,
  };

  const predictOpts = { resizeTo: exp.data.patchSize as [number, number], imageResize: plan.imageResize };
  const predict = (x: torch.Tensor) => {
    const y = model.forward(device === 'cpu' ? x : x.to(device)) as torch.Tensor | torch.Tensor[];
    const out = Array.isArray(y) ? y[0] : y;
    return device === 'cpu' ? out : out.cpu();
  };
  const valCases: VolumeCase[] = exp.validation.maxCases ? plan.validation.slice(0, exp.validation.maxCases) : plan.validation;
  const validate = exp.validation.mode === 'none' || valCases.length === 0 ? undefined : async (): Promise<ValidationResult> => {
    const per: number[][] = [];
    for (const c of valCases) {
      const { image, label } = await c.load();
      const r = predictSlices(image, predict, predictOpts);
      per.push(diceScores(r.labels, label, plan.numClasses));
      for (const t of [image, label, r.labels]) t.dispose();
    }
    const metrics: Record<string, number> = {};
    for (let c = 1; c < plan.numClasses; c++) metrics[`dice_${plan.classNames[c] ?? c}`] = per.reduce((a, p) => a + p[c - 1], 0) / per.length;
    const score = Object.values(metrics).reduce((a, b) => a + b, 0) / (plan.numClasses - 1);
    metrics.dice_mean = score;
    return { metrics, score };
  };

  let result: TrainResult | null = null;
  let finalDir = runDir;
  for (let pi = 0; pi < phases.length; pi++) {
    const ph = phases[pi];
    const phaseDir = phases.length === 1 ? runDir : path.join(runDir, `${pi + 1}-${ph.name}`);
    if (pi > 0) {
      // Each phase starts from the previous phase's best weights (BCP: the pre-trained model).
      const prev = findCheckpoint(finalDir, 'best') ?? findCheckpoint(finalDir, 'last');
      if (!prev) throw new Error(`phase '${ph.name}': the previous phase left no checkpoint in ${finalDir}`);
      loadCheckpoint(prev, { model }, { restoreRng: false });
    }
    finalDir = phaseDir;
    const recipe = method.build({ model, makeNetwork, loss, numClasses: plan.numClasses, spatialDims: 2, totalSteps: ph.iterations, seed: exp.seed, params: { ...methodParams, ...(ph.params ?? {}) }, phase: ph.name });
    const optimizer = optimizerFor(exp, model.parameters());
    const scheduler = schedulerFor(exp, optimizer, ph.iterations);
    const phaseProducer = { ...producer, seed: exp.seed + 7919 * pi };
    const data = (start: number): BatchSource => {
      const loader = new DataLoader({
        producer: { module: new URL('./slice-producer.js', import.meta.url).href, export: 'sliceProducer', options: phaseProducer },
        numWorkers: exp.data.workers, prefetch: exp.data.prefetch, startStep: start, numSteps: ph.iterations - start,
      });
      const next = async () => {
        const b = await loader.next();
        if (b) for (const k of Object.keys(b)) b[k] = toDevice(b[k]);
        return b;
      };
      return { next, close: () => loader.close() };
    };
    const trainer = new Trainer({
      runDir: phaseDir, model, recipe, optimizer, scheduler, data, validate,
      totalSteps: ph.iterations,
      validateEvery: exp.training.validateEvery, checkpointEvery: exp.training.checkpointEvery, logEvery: exp.training.logEvery,
      clipGradNorm: exp.training.clipGradNorm, progress: exp.training.progress,
      describe: { network: netConfig, labels: Object.fromEntries(plan.classNames.map((n, i) => [n, i])), preprocessing: { ...plan.preprocessing, patchSize: exp.data.patchSize, mode: 'slices2d', imageResize: plan.imageResize }, config: { ...exp, phase: ph.name }, seed: exp.seed },
      signal: ctx.signal, onEvent: ctx.emit ? (e) => ctx.emit!({ ...e, phase: ph.name }) : undefined,
    });
    result = await trainer.run({ resume: ctx.resume });
    if (!result.completed) break;
  }
  const out: ExperimentResult = { ...result!, runDir };
  if (result!.completed && plan.test.length) {
    out.test = await evaluateVolumes(finalDir, model, plan, predictOpts, predict);
    writeFileAtomic(path.join(runDir, 'test_results.json'), JSON.stringify(out.test, null, 2) + '\n');
  }
  return out;
}

/** Job entry point for startJob(): trains an experiment in a worker thread. */
export async function trainExperimentJob(o: { experiment: Experiment; resume?: boolean }, ctx: { signal: AbortSignal; emit: (e: unknown) => void }): Promise<ExperimentResult> {
  return trainExperiment(o.experiment, { signal: ctx.signal, emit: ctx.emit, resume: o.resume });
}
