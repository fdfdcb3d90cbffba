// From a validated experiment config to a finished run: data streams and
// background loader, network, loss, method recipe, optimizer and schedule,
// validation on whole volumes, the trainer, and a final test evaluation.
// The CLI's `train`, the server's jobs and the demo all go through here.
//
// data.dims 2d trains on slices (slice-producer.ts); 3d trains nnU-Net-style
// on patches of preprocessed volumes (patch-plan.ts, patch-producer.ts),
// validates with a sliding window on the preprocessed grid, and scores the
// test split after mapping predictions back to each image's own grid.
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '@labelwise/torch';
import { DataLoader } from '../data/loader.js';
import { writeFileAtomic } from '../io/atomic.js';
import { createLoss } from '../losses/registry.js';
import { getMethod, type PhaseSpec } from '../methods/index.js';
import { predictSlices } from '../inference/slicewise.js';
import { findCheckpoint, loadCheckpoint } from '../checkpoint/checkpoint.js';
import { slidingWindowInference } from '../inference/sliding-window.js';
import { writeNifti } from '../io/nifti.js';
import { Volume } from '../io/volume.js';
import type { Loss } from '../losses/common.js';
import { evaluateCase, type CaseResult } from '../metrics/evaluate.js';
import type { ProtocolName } from '../metrics/protocols.js';
import type { MethodSpec } from '../methods/registry.js';
import type { Network } from '../nn/network.js';
import { createNetwork, type NetworkConfig } from '../nn/registry.js';
import { acdcSsl4mis, nnunetDefault3d } from '../transforms/augment-presets.js';
import type { AugmentConfig } from '../transforms/compose.js';
import { type Plans, savePlans } from '../transforms/plan.js';
import { revertPreprocessing } from '../transforms/preprocess.js';
import type { CheckpointMeta } from '../checkpoint/checkpoint.js';
import type { Experiment } from '../config/experiment.js';
import { resolveDataPlan, type DataPlan } from './data-plan.js';
import { type PatchPlan, describePatchPlan, resolvePatchPlan, topologyForPatch } from './patch-plan.js';
import type { PatchProducerOptions } from '../training/patch-producer.js';
import type { SliceProducerOptions } from '../training/slice-producer.js';
import { Trainer, type BatchSource, type TrainResult, type ValidationResult } from '../training/trainer.js';
import { evaluateVolumes, writeTestSummaries, type VolumeCase } from './evaluation.js';

export interface RunContext {
  signal?: AbortSignal;
  emit?: (event: unknown) => void;
  resume?: boolean;
  /** 3D: preprocessed-case cache folder (default <run>/preprocessed); entries are keyed, so runs may share one. */
  preprocessedDir?: string;
  /** 3D: plans (object or plans.json path) to use instead of fingerprinting and planning the dataset. */
  plans?: Plans | string;
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

/** What the phase loop needs besides the model: where batches come from, validation, checkpoint description. */
interface PhaseSetup {
  exp: Experiment;
  ctx: RunContext;
  runDir: string;
  model: torch.nn.Module;
  makeNetwork: () => torch.nn.Module;
  loss: Loss;
  method: MethodSpec;
  methodParams: Record<string, unknown>;
  numClasses: number;
  spatialDims: 2 | 3;
  producer: { module: string; export: string; options: { seed: number } };
  validate?: () => Promise<ValidationResult>;
  describe: Pick<CheckpointMeta, 'network'> & Partial<Pick<CheckpointMeta, 'labels' | 'preprocessing' | 'spacing'>>;
}

/** Runs the method's phases on the shared trainer; returns the last phase's result and folder. */
async function runPhases(s: PhaseSetup): Promise<{ result: TrainResult; finalDir: string }> {
  const { exp, ctx, runDir, model, method } = s;
  const device = exp.device;
  const toDevice = (t: torch.Tensor) => { if (device === 'cpu') return t; const d = t.to(device); t.dispose(); return d; };
  const phases: PhaseSpec[] = method.phases ? method.phases(s.methodParams, exp.training.iterations) : [{ name: 'train', iterations: exp.training.iterations }];
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
    const recipe = method.build({ model, makeNetwork: s.makeNetwork, loss: s.loss, numClasses: s.numClasses, spatialDims: s.spatialDims, totalSteps: ph.iterations, seed: exp.seed, params: { ...s.methodParams, ...(ph.params ?? {}) }, phase: ph.name });
    const optimizer = optimizerFor(exp, model.parameters());
    const scheduler = schedulerFor(exp, optimizer, ph.iterations);
    const phaseProducer = { ...s.producer.options, seed: exp.seed + 7919 * pi };
    const data = (start: number): BatchSource => {
      const loader = new DataLoader({
        producer: { module: s.producer.module, export: s.producer.export, options: phaseProducer },
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
      runDir: phaseDir, model, recipe, optimizer, scheduler, data, validate: s.validate,
      totalSteps: ph.iterations,
      validateEvery: exp.training.validateEvery, checkpointEvery: exp.training.checkpointEvery, logEvery: exp.training.logEvery,
      clipGradNorm: exp.training.clipGradNorm, progress: exp.training.progress,
      describe: { ...s.describe, config: { ...exp, phase: ph.name }, seed: exp.seed },
      signal: ctx.signal, onEvent: ctx.emit ? (e) => ctx.emit!({ ...e, phase: ph.name }) : undefined,
    });
    result = await trainer.run({ resume: ctx.resume });
    if (!result.completed) break;
  }
  return { result: result!, finalDir };
}

function checkDevice(exp: Experiment): void {
  if (exp.device === 'cuda' && !torch.cuda.isAvailable()) throw new Error("device: 'cuda' was asked for, but this libtorch build sees no CUDA device (build against a CUDA LibTorch with LIBTORCH=..., or use device: cpu)");
}

/** Logits of the trained network on CPU for a CPU batch (deep-supervised outputs: the full-resolution one). */
function predictorFor(model: torch.nn.Module, device: Experiment['device']): (x: torch.Tensor) => torch.Tensor {
  return (x) => {
    const y = model.forward(device === 'cpu' ? x : x.to(device)) as torch.Tensor | torch.Tensor[];
    const out = Array.isArray(y) ? y[0] : y;
    return device === 'cpu' ? out : out.cpu();
  };
}

/** Trains (or resumes) the experiment in `exp.output`; evaluates the test split at the end. */
export async function trainExperiment(exp: Experiment, ctx: RunContext = {}): Promise<ExperimentResult> {
  const runDir = path.resolve(exp.output ?? path.join('runs', exp.name));
  fs.mkdirSync(runDir, { recursive: true });
  writeFileAtomic(path.join(runDir, 'config.json'), JSON.stringify(exp, null, 2) + '\n');
  torch.manualSeed(exp.seed);
  if (exp.data.dims === '3d') return trainPatches3d(exp, ctx, runDir);

  const plan = await resolveDataPlan(exp);
  writeFileAtomic(path.join(runDir, 'data_plan.json'), JSON.stringify({ ...plan, validation: plan.validation.map((v) => v.id), test: plan.test.map((v) => v.id) }, null, 2) + '\n');
  const method = getMethod(exp.method.name);
  const netConfig = { inChannels: plan.inChannels, numClasses: plan.numClasses, ...exp.network, seed: (exp.network.seed as number | undefined) ?? exp.seed } as unknown as { name: string; [k: string]: unknown };
  const makeNetwork = () => createNetwork(netConfig) as unknown as torch.nn.Module;
  const device = exp.device;
  checkDevice(exp);
  const model = makeNetwork().to(device);
  const loss = createLoss(exp.loss as { name: string });
  const { name: _n, ...methodParams } = exp.method;

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
  const predict = predictorFor(model, device);
  const valCases: VolumeCase[] = exp.validation.maxCases ? plan.validation.slice(0, exp.validation.maxCases) : plan.validation;
  const validate = exp.validation.mode === 'none' || valCases.length === 0 ? undefined : async (): Promise<ValidationResult> => {
    const per: number[][] = [];
    for (const c of valCases) {
      const { image, label } = await c.load();
      const r = predictSlices(image, predict, predictOpts);
      per.push(diceScores(r.labels, label, plan.numClasses));
      for (const t of [image, label, r.labels]) t.dispose();
    }
    return diceSummary(per, plan.classNames, plan.numClasses);
  };

  const { result, finalDir } = await runPhases({
    exp, ctx, runDir, model, makeNetwork, loss, method, methodParams, numClasses: plan.numClasses, spatialDims: 2,
    producer: { module: new URL('../training/slice-producer.js', import.meta.url).href, export: 'sliceProducer', options: producer },
    validate,
    describe: { network: netConfig, labels: Object.fromEntries(plan.classNames.map((n, i) => [n, i])), preprocessing: { ...plan.preprocessing, patchSize: exp.data.patchSize, mode: 'slices2d', imageResize: plan.imageResize } },
  });
  const out: ExperimentResult = { ...result, runDir };
  if (result.completed && plan.test.length) {
    out.test = await evaluateVolumes(finalDir, model, plan, predictOpts, predict);
    writeFileAtomic(path.join(runDir, 'test_results.json'), JSON.stringify(out.test, null, 2) + '\n');
  }
  return out;
}

/** Mean Dice per class over validation cases, and their mean (the selection score). */
function diceSummary(per: number[][], classNames: string[], numClasses: number): ValidationResult {
  const metrics: Record<string, number> = {};
  for (let c = 1; c < numClasses; c++) metrics[`dice_${classNames[c] ?? c}`] = per.reduce((a, p) => a + p[c - 1], 0) / per.length;
  const score = Object.values(metrics).reduce((a, b) => a + b, 0) / (numClasses - 1);
  metrics.dice_mean = score;
  return { metrics, score };
}

// ---------------------------------------------------------------- 3D patches

/** The schema's default network is 2D; a 3D run given no network gets nnU-Net's plain U-Net. */
function isDefaultNetwork(n: Record<string, unknown>): boolean {
  return Object.keys(n).length === 1 && n.name === 'unet2d';
}

/**
 * The network config of a 3D run. A plain_unet without kernelSizes/strides
 * (or no network at all) takes the planned topology re-derived for
 * data.patchSize; a shorter featuresPerStage keeps that many stages.
 * Deep supervision stays off unless asked for: the trainer's recipes call
 * forward(), which returns the full-resolution output only.
 */
export function network3dConfig(exp: Experiment, plan: Pick<PatchPlan, 'plans' | 'inChannels' | 'numClasses'>): NetworkConfig {
  const given: Record<string, unknown> = isDefaultNetwork(exp.network) ? { name: 'plain_unet' } : { ...exp.network };
  const base = { inChannels: plan.inChannels, numClasses: plan.numClasses, ...given, seed: (given.seed as number | undefined) ?? exp.seed } as unknown as NetworkConfig;
  if (base.name !== 'plain_unet') return base;
  if (given.kernelSizes !== undefined && given.strides !== undefined) return { dims: 3, deepSupervision: false, ...base };
  if (given.kernelSizes !== undefined || given.strides !== undefined) {
    throw new Error('network: give both kernelSizes and strides for plain_unet, or neither (the planned topology is used)');
  }
  const topo = topologyForPatch(plan.plans, exp.data.patchSize);
  let { kernelSizes, strides } = topo;
  const features = given.featuresPerStage as number[] | undefined;
  if (features !== undefined) {
    if (!Array.isArray(features) || features.length < 2 || features.length > kernelSizes.length) {
      throw new Error(`network.featuresPerStage: expected 2 to ${kernelSizes.length} stages (the planned U-Net for patch [${exp.data.patchSize.join(', ')}] has ${kernelSizes.length}), got ${JSON.stringify(features)}`);
    }
    kernelSizes = kernelSizes.slice(0, features.length);
    strides = strides.slice(0, features.length);
  }
  return { dims: 3, deepSupervision: false, ...base, kernelSizes, strides };
}

function augmentation3d(exp: Experiment): AugmentConfig | null {
  const a = exp.data.augmentation;
  if (a === 'none') return null;
  if (a === 'default' || a === 'nnunet') return nnunetDefault3d({ patchSize: [...exp.data.patchSize], crop: 'center' });
  if (a === 'nnunet-given') return nnunetDefault3d({ patchSize: [...exp.data.patchSize], crop: 'given' });
  throw new Error(`data.augmentation: '${a}' is not one of default, nnunet, nnunet-given, none (3D)`);
}

/** Dice per class of every validation case, predicted with a sliding window on the preprocessed grid. */
async function validatePatches(cases: PatchPlan['validation'], predict: (x: torch.Tensor) => torch.Tensor, patchSize: number[], overlap: number, numClasses: number, ignoreLabel: number | null): Promise<number[][]> {
  const per: number[][] = [];
  for (const c of cases) {
    const { image, label } = await c.load();
    try {
      const r = slidingWindowInference(image, predict, { patchSize, overlap, batchSize: 1 });
      // Voxels with the 'ignore' label leave both masks.
      per.push(ignoreLabel === null ? diceScores(r.labels, label, numClasses) : torch.tidy(() => {
        const keep = label.ne(ignoreLabel).to(label.dtype);
        return diceScores(r.labels.mul(keep.to(r.labels.dtype)), label.mul(keep), numClasses);
      }));
      r.labels.dispose();
    } finally {
      image.dispose();
      label.dispose();
    }
  }
  return per;
}

/**
 * Scores the test split: each preprocessed image is predicted (sliding
 * window, softmax), the probabilities are mapped back to the image's own
 * grid (resampled, uncropped, transposed back: nnU-Net's export), argmaxed,
 * written as NIfTI under test/predictions, and scored against the original
 * label file under every protocol of the plan (distances in mm).
 */
async function evaluatePatchTest(runDir: string, model: torch.nn.Module, plan: PatchPlan, predict: (x: torch.Tensor) => torch.Tensor, patchSize: number[], overlap: number): Promise<Record<string, unknown>> {
  const best = findCheckpoint(runDir, 'best') ?? findCheckpoint(runDir, 'last');
  if (best) loadCheckpoint(best, { model }, { restoreRng: false });
  model.eval();
  const classes = Object.fromEntries(plan.classNames.slice(1).map((n, i) => [n, i + 1]));
  const results = new Map<string, CaseResult[]>(plan.protocols.map((p) => [p, []]));
  const predDir = path.join(runDir, 'test', 'predictions');
  fs.mkdirSync(predDir, { recursive: true });
  const geometry: Record<string, { dims: number[]; affine: number[] }> = {};
  for (const c of plan.test) {
    const { image, props } = c.loadPreprocessed();
    let labels: torch.Tensor;
    try {
      labels = torch.tidy(() => {
        const r = slidingWindowInference(image, predict, { patchSize, overlap, batchSize: 1, returnProbabilities: true });
        const back = revertPreprocessing(r.probabilities!, props, { kind: 'probabilities', backgroundOne: true });
        return back.argmax(0).to(plan.numClasses > 255 ? 'int64' : 'uint8');
      });
    } finally {
      image.dispose();
    }
    const ref = await c.loadReference();
    const pred = Volume.fromTensor(labels, { affine: Float64Array.from(props.originalAffine) }, { derived: 'labels', caseId: c.id });
    labels.dispose();
    if (pred.dims.join() !== ref.dims.join()) throw new Error(`test case ${c.id}: prediction dims [${pred.dims.join(', ')}] differ from its label's [${ref.dims.join(', ')}]`);
    writeNifti(path.join(predDir, `${c.id}.nii.gz`), pred);
    geometry[c.id] = { dims: [...pred.dims], affine: Array.from(pred.affine) };
    // The label was checked to share the image grid when loaded; score on its affine.
    const scored = new Volume({ data: pred.data, dims: ref.dims, channels: 1, affine: ref.affine });
    for (const p of plan.protocols) {
      const res = evaluateCase(scored, ref, { classes, protocol: p as ProtocolName, caseId: c.id, ...(plan.ignoreLabel !== null ? { ignoreLabel: plan.ignoreLabel } : {}) });
      results.get(p)!.push(res);
    }
  }
  return writeTestSummaries(runDir, results, { checkpoint: best ? path.basename(best) : 'final weights', cases: plan.test.length, budget: plan.budget, predictions: predDir, geometry });
}

/** data.dims 3d: nnU-Net-style patch training on the preprocessed cache. */
async function trainPatches3d(exp: Experiment, ctx: RunContext, runDir: string): Promise<ExperimentResult> {
  checkDevice(exp);
  const split = exp.validation.split;
  if (split === 'test') throw new Error("validation.split: 'test' is not allowed — model selection on the test split inflates results");
  if (split !== 'val') throw new Error(`validation.split: '${split}' is not one of val`);
  const method = getMethod(exp.method.name);
  const plan = await resolvePatchPlan(exp, runDir, {
    cacheDir: ctx.preprocessedDir,
    plans: ctx.plans,
    onProgress: ctx.emit ? (done, total, caseId, reused) => ctx.emit!({ kind: 'preprocess', done, total, caseId, reused }) : undefined,
  });
  writeFileAtomic(path.join(runDir, 'data_plan.json'), JSON.stringify(describePatchPlan(plan), null, 2) + '\n');
  // The plans the run used, editable and reusable (RunContext.plans).
  savePlans(path.join(runDir, 'plans.json'), plan.plans);
  const patchSize = [...exp.data.patchSize];
  const netConfig = network3dConfig(exp, plan);
  const makeNetwork = () => createNetwork(netConfig) as unknown as torch.nn.Module;
  const model = makeNetwork().to(exp.device);
  const info = (model as unknown as Network).info;
  if (info && info.spatialDims !== 3) throw new Error(`network.name: '${netConfig.name}' is a ${info.spatialDims}D network; data.dims 3d needs a 3D one (plain_unet, vnet, unet3d, attention_unet3d)`);
  if (info && patchSize.some((p, i) => p % info.inputDivisor[i] !== 0)) {
    throw new Error(`data.patchSize: [${patchSize.join(', ')}] must be divisible by [${info.inputDivisor.join(', ')}] for network '${netConfig.name}'; use [${patchSize.map((p, i) => Math.ceil(p / info.inputDivisor[i]) * info.inputDivisor[i]).join(', ')}]`);
  }
  const loss = createLoss(exp.loss as { name: string });
  const { name: _n, ...methodParams } = exp.method;

  const unlabelledBatch = method.streams.includes('unlabelled') ? exp.data.unlabelledBatchSize || exp.data.batchSize : 0;
  if (unlabelledBatch && plan.unlabelled.length === 0) throw new Error(`method '${method.name}' needs unlabelled data: set data.labelled to fewer cases than the ${plan.labelled.length} available`);
  const producer: PatchProducerOptions = {
    cacheDir: plan.cacheDir,
    streams: [
      { name: 'labelled', prefix: '', caseIds: plan.labelled, batchSize: exp.data.batchSize, withLabels: true, oversampleForeground: exp.data.foregroundOversampling },
      ...(unlabelledBatch ? [{ name: 'unlabelled', prefix: 'u', caseIds: plan.unlabelled, batchSize: unlabelledBatch, withLabels: false, oversampleForeground: 0 }] : []),
    ],
    patchSize,
    augmentation: augmentation3d(exp),
    labelDtype: plan.numClasses > 256 ? 'int16' : 'uint8',
    seed: exp.seed,
  };

  const predict = predictorFor(model, exp.device);
  const overlap = exp.validation.overlap;
  const valCases = exp.validation.maxCases ? plan.validation.slice(0, exp.validation.maxCases) : plan.validation;
  const validate = exp.validation.mode === 'none' || valCases.length === 0 ? undefined
    : async (): Promise<ValidationResult> => diceSummary(await validatePatches(valCases, predict, patchSize, overlap, plan.numClasses, plan.ignoreLabel), plan.classNames, plan.numClasses);

  const { result, finalDir } = await runPhases({
    exp, ctx, runDir, model, makeNetwork, loss, method, methodParams, numClasses: plan.numClasses, spatialDims: 3,
    producer: { module: new URL('../training/patch-producer.js', import.meta.url).href, export: 'patchProducer', options: producer },
    validate,
    describe: {
      network: netConfig,
      labels: Object.fromEntries(plan.classNames.map((n, i) => [n, i])),
      // Everything inference needs to redo the preprocessing (see inference/predict.ts checkpointInference).
      preprocessing: { ...plan.preprocess, patchSize, mode: 'sliding3d', overlap, channelNames: plan.channelNames },
      spacing: plan.preprocess.spacing ?? undefined,
    },
  });
  const out: ExperimentResult = { ...result, runDir };
  if (result.completed && plan.test.length) {
    out.test = await evaluatePatchTest(finalDir, model, plan, predict, patchSize, overlap);
    writeFileAtomic(path.join(runDir, 'test_results.json'), JSON.stringify(out.test, null, 2) + '\n');
  }
  return out;
}

/** Job entry point for startJob(): trains an experiment in a worker thread. */
export async function trainExperimentJob(o: { experiment: Experiment; resume?: boolean }, ctx: { signal: AbortSignal; emit: (e: unknown) => void }): Promise<ExperimentResult> {
  return trainExperiment(o.experiment, { signal: ctx.signal, emit: ctx.emit, resume: o.resume });
}
