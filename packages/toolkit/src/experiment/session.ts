// A Session: everything a method's program works with, built the same way
// for 2D slices and 3D patches — the data plan with typed streams, the model
// and its factory, the loss, optimizers and schedules from the config, the
// validator, the program state — and the verbs a program calls:
//   train(...)                 a phase (or a round of one) on the shared trainer
//   predict(ids) / score(...)  the current model on training items (active learning)
//   revealLabels(ids) / updatePlan(fn)   move items between streams, persisted
//   weights() / loadWeights(w) hand weights out / take aggregated ones in (federation)
//   state                      program.json: rounds, selections, resumable
// The method's program (MethodSpec.run) is a short async function over these.
import path from 'node:path';
import * as torch from '@labelwise/torch';
import type { Experiment } from '../config/experiment.js';
import { copyCheckpoint, findCheckpoint, loadCheckpoint } from '../checkpoint/checkpoint.js';
import { DataLoader } from '../data/loader.js';
import { predictTensor } from '../inference/predict.js';
import { slidingWindowInference } from '../inference/sliding-window.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Loss } from '../losses/common.js';
import { createLoss } from '../losses/registry.js';
import type { MethodContext, MethodSession, MethodSpec, TrainPhase } from '../methods/registry.js';
import type { Network } from '../nn/network.js';
import { type NetworkConfig, createNetwork } from '../nn/registry.js';
import { loadCachedCase } from '../transforms/cache.js';
import { savePlans } from '../transforms/plan.js';
import type { PatchProducerOptions } from '../training/patch-producer.js';
import { type Recipe, type StreamName, streamPrefix } from '../training/recipe.js';
import type { SliceProducerOptions } from '../training/slice-producer.js';
import { loadSliceSource } from '../training/slice-source.js';
import { type BatchSource, Trainer, type TrainerOptimizer, type TrainResult, type ValidationResult } from '../training/trainer.js';
import type { CheckpointMeta } from '../checkpoint/checkpoint.js';
import { type DataPlan, resolveDataPlan } from './data-plan.js';
import { network3dConfig } from './network-3d.js';
import { type PatchPlan, describePatchPlan, resolvePatchPlan } from './patch-plan.js';
import { augmentationFor, diceScores, diceSummary, forwardOnDevice, makeOptimizer, makeScheduler, optimizerConfig, scheduleConfig } from './parts.js';
import { ProgramState } from './program-state.js';

export interface RunContext {
  signal?: AbortSignal;
  emit?: (event: unknown) => void;
  resume?: boolean;
  /** 3D: preprocessed-case cache folder (default <run>/preprocessed); entries are keyed, so runs may share one. */
  preprocessedDir?: string;
  /** 3D: plans (object or plans.json path) to use instead of fingerprinting and planning the dataset. */
  plans?: import('../transforms/plan.js').Plans | string;
}

interface PhaseRun {
  name: string;
  index: number;
  dir: string;
  trainer: Trainer;
  steps: number;
  result?: TrainResult;
}

type Plan = { kind: '2d'; plan: DataPlan } | { kind: '3d'; plan: PatchPlan };

export class Session implements MethodSession {
  readonly state: ProgramState;
  readonly spatialDims: 2 | 3;
  readonly numClasses: number;
  readonly classNames: string[];
  readonly methodParams: Record<string, unknown>;
  /** Phases trained in this process, by name, in order of first use. */
  private readonly phases = new Map<string, PhaseRun>();
  private readonly phaseOrder: string[];
  private streams: { labelled: string[]; unlabelled: string[] };

  private constructor(
    readonly exp: Experiment,
    readonly runDir: string,
    readonly method: MethodSpec,
    readonly model: torch.nn.Module,
    readonly makeNetwork: () => torch.nn.Module,
    readonly loss: Loss,
    private readonly data: Plan,
    private readonly describe: Pick<CheckpointMeta, 'network'> & Partial<Pick<CheckpointMeta, 'labels' | 'preprocessing' | 'spacing'>>,
    private readonly ctx: RunContext,
  ) {
    this.spatialDims = data.kind === '2d' ? 2 : 3;
    this.numClasses = data.plan.numClasses;
    this.classNames = data.plan.classNames;
    const { name: _n, ...params } = exp.method;
    this.methodParams = params;
    this.state = new ProgramState(runDir, ctx.resume ?? false);
    this.phaseOrder = this.state.get<string[]>('phases') ?? [];
    // A resumed run keeps the streams its program left (labels revealed in earlier rounds).
    this.streams = this.state.get<{ labelled: string[]; unlabelled: string[] }>('streams') ?? { labelled: [...data.plan.labelled], unlabelled: [...data.plan.unlabelled] };
  }

  /** Resolves the data plan (2D slices or 3D patches), builds the model and loss, writes data_plan.json. */
  static async open(exp: Experiment, method: MethodSpec, runDir: string, ctx: RunContext = {}): Promise<Session> {
    if (exp.device === 'cuda' && !torch.cuda.isAvailable()) throw new Error("device: 'cuda' was asked for, but this libtorch build sees no CUDA device (build against a CUDA LibTorch with LIBTORCH=..., or use device: cpu)");
    if (exp.data.dims === '3d') {
      const plan = await resolvePatchPlan(exp, runDir, {
        cacheDir: ctx.preprocessedDir, plans: ctx.plans,
        onProgress: ctx.emit ? (done, total, caseId, reused) => ctx.emit!({ kind: 'preprocess', done, total, caseId, reused }) : undefined,
      });
      // The plans the run used, editable and reusable (RunContext.plans).
      savePlans(path.join(runDir, 'plans.json'), plan.plans);
      const netConfig = network3dConfig(exp, plan);
      const makeNetwork = () => createNetwork(netConfig) as unknown as torch.nn.Module;
      const model = makeNetwork().to(exp.device);
      checkNetwork3d(model, netConfig, exp.data.patchSize);
      const patchSize = [...exp.data.patchSize];
      const s = new Session(exp, runDir, method, model, makeNetwork, createLoss(exp.loss as { name: string }), { kind: '3d', plan }, {
        network: netConfig,
        labels: Object.fromEntries(plan.classNames.map((n, i) => [n, i])),
        // Everything inference needs to redo the preprocessing (inference/predict.ts checkpointInference).
        preprocessing: { ...plan.preprocess, patchSize, mode: 'sliding3d', overlap: exp.validation.overlap, channelNames: plan.channelNames },
        spacing: plan.preprocess.spacing ?? undefined,
      }, ctx);
      s.writeDataPlan();
      return s;
    }
    const plan = await resolveDataPlan(exp);
    const netConfig = { inChannels: plan.inChannels, numClasses: plan.numClasses, ...exp.network, seed: (exp.network.seed as number | undefined) ?? exp.seed } as unknown as NetworkConfig;
    const makeNetwork = () => createNetwork(netConfig) as unknown as torch.nn.Module;
    const model = makeNetwork().to(exp.device);
    const s = new Session(exp, runDir, method, model, makeNetwork, createLoss(exp.loss as { name: string }), { kind: '2d', plan }, {
      network: netConfig,
      labels: Object.fromEntries(plan.classNames.map((n, i) => [n, i])),
      preprocessing: { ...plan.preprocessing, patchSize: exp.data.patchSize, mode: 'slices2d', imageResize: plan.imageResize },
    }, ctx);
    s.writeDataPlan();
    return s;
  }

  /** The plan behind the session (2D slices or 3D patches). */
  get plan(): Plan {
    return this.data;
  }

  /** Ids of a stream: slice ids (2D) or case ids (3D). */
  streamIds(name: StreamName): string[] {
    if (name === 'labelled') return [...this.streams.labelled];
    if (name === 'unlabelled') return [...this.streams.unlabelled];
    if (name.startsWith('site:')) {
      const site = name.slice(5);
      const sites = this.data.kind === '2d' ? this.data.plan.sites : undefined;
      if (!sites) throw new Error(`stream '${name}': site streams need a 2D data plan (this run trains on 3D patches)`);
      if (!sites[site]) throw new Error(`stream '${name}': the dataset has no centre '${site}' in its training split (centres: ${Object.keys(sites).join(', ')})`);
      return [...sites[site]];
    }
    const weak = this.data.plan.weak as { points?: string[]; scribbles?: string[] };
    const ids = name === 'points' ? weak.points : name === 'scribbles' ? weak.scribbles : undefined;
    if (ids) return [...ids];
    throw new Error(`stream '${name}': this run has no ${name === 'points' || name === 'scribbles' ? `${name} annotations; set data.weak: {kind: ${name}} (simulated from the masks, or read from a folder of annotation files)` : 'such stream (streams: labelled, unlabelled, points, scribbles, site:<centre>)'}`);
  }

  // ---------------------------------------------------------------- training

  private phaseDir(name: string): { dir: string; index: number } {
    let index = this.phaseOrder.indexOf(name);
    if (index < 0) {
      this.phaseOrder.push(name);
      this.state.set('phases', this.phaseOrder);
      index = this.phaseOrder.length - 1;
    }
    // The default program's one phase trains in the run folder itself.
    const single = this.method.run === undefined && name === 'train';
    return { dir: single ? this.runDir : path.join(this.runDir, `${index + 1}-${name}`), index };
  }

  /** The folder of the phase trained last (whose best checkpoint is the run's model). */
  get finalDir(): string {
    const last = this.phaseOrder[this.phaseOrder.length - 1];
    return last === undefined ? this.runDir : this.phaseDir(last).dir;
  }

  private recipeStreams(recipe: Recipe): StreamName[] {
    if (recipe.streams) return [...recipe.streams];
    return recipe.inputs.includes('uimage') ? ['labelled', 'unlabelled'] : ['labelled'];
  }

  private batchSizeOf(s: StreamName): number {
    return s === 'unlabelled' ? this.exp.data.unlabelledBatchSize || this.exp.data.batchSize : this.exp.data.batchSize;
  }

  /** The loader producer for the streams a recipe reads (a stream nobody reads is never loaded). */
  private producer(streams: StreamName[], seed: number): { module: string; export: string; options: unknown } {
    const exp = this.exp;
    for (const s of streams) {
      if (this.streamIds(s).length === 0) {
        throw new Error(s === 'unlabelled'
          ? `method '${this.method.name}' needs unlabelled data: set data.labelled to fewer cases than the ${this.streams.labelled.length} available`
          : `stream '${s}' is empty`);
      }
    }
    if (this.data.kind === '2d') {
      const plan = this.data.plan;
      const options: SliceProducerOptions = {
        source: plan.source,
        streams: streams.map((s) => ({
          prefix: streamPrefix(s), ids: this.streamIds(s), batchSize: this.batchSizeOf(s), withLabels: s !== 'unlabelled',
          ...(s === 'scribbles' ? { weak: { kind: 'scribbles' as const, seed: plan.weak.seed ?? exp.seed, numClasses: plan.numClasses } } : {}),
        })),
        patchSize: exp.data.patchSize as [number, number],
        augmentation: augmentationFor(exp, plan.imageResize),
        seed,
      };
      return { module: new URL('../training/slice-producer.js', import.meta.url).href, export: 'sliceProducer', options };
    }
    const plan = this.data.plan;
    const options: PatchProducerOptions = {
      cacheDir: plan.cacheDir,
      streams: streams.map((s) => ({
        name: s, prefix: streamPrefix(s), caseIds: this.streamIds(s), batchSize: this.batchSizeOf(s), withLabels: s !== 'unlabelled',
        oversampleForeground: s === 'unlabelled' ? 0 : exp.data.foregroundOversampling,
      })),
      patchSize: [...exp.data.patchSize],
      augmentation: augmentationFor(exp, 'bilinear'),
      labelDtype: plan.numClasses > 256 ? 'int16' : 'uint8',
      seed,
    };
    return { module: new URL('../training/patch-producer.js', import.meta.url).href, export: 'patchProducer', options };
  }

  /** Validation on whole volumes of the validation split (slice-wise in 2D, sliding window in 3D). */
  private validator(): ((model: torch.nn.Module) => Promise<ValidationResult>) | undefined {
    const exp = this.exp;
    const predict = forwardOnDevice(this.model, exp.device);
    const count = Math.min(exp.validation.maxCases ?? Infinity, this.data.plan.validation.length);
    if (exp.validation.mode === 'none' || count === 0) return undefined;
    const n = this.numClasses;
    if (this.data.kind === '2d') {
      const plan = this.data.plan;
      const opts = { mode: 'slices2d' as const, resizeTo: exp.data.patchSize as [number, number], imageResize: plan.imageResize };
      const vcases = plan.validation.slice(0, count);
      return async () => {
        const per: number[][] = [];
        for (const c of vcases) {
          const { image, label } = await c.load();
          const r = predictTensor(image, predict, opts);
          per.push(diceScores(r.labels, label, n));
          for (const t of [image, label, r.labels]) t.dispose();
        }
        return diceSummary(per, this.classNames, n);
      };
    }
    const plan = this.data.plan;
    const pcases = plan.validation.slice(0, count);
    const patchSize = [...exp.data.patchSize];
    return async () => {
      const per: number[][] = [];
      for (const c of pcases) {
        const { image, label } = await c.load();
        try {
          const r = slidingWindowInference(image, predict, { patchSize, overlap: exp.validation.overlap, batchSize: 1 });
          // Voxels with the 'ignore' label leave both masks.
          const ign = plan.ignoreLabel;
          per.push(ign === null ? diceScores(r.labels, label, n) : torch.tidy(() => {
            const keep = label.ne(ign).to(label.dtype);
            return diceScores(r.labels.mul(keep.to(r.labels.dtype)), label.mul(keep), n);
          }));
          r.labels.dispose();
        } finally {
          image.dispose();
          label.dispose();
        }
      }
      return diceSummary(per, this.classNames, n);
    };
  }

  private trainerFor(opts: TrainPhase): PhaseRun {
    const have = this.phases.get(opts.phase);
    if (have) {
      if (have.steps !== opts.steps) throw new Error(`phase '${opts.phase}': trained with steps=${have.steps} earlier in this run, now asked for ${opts.steps}`);
      return have;
    }
    const exp = this.exp;
    const { dir, index } = this.phaseDir(opts.phase);
    // Every phase after the first starts from the best weights of the phase before (BCP: the pre-trained model).
    if ((opts.init ?? 'previous-best') === 'previous-best' && index > 0) {
      const prevDir = this.phaseDir(this.phaseOrder[index - 1]).dir;
      const prev = findCheckpoint(prevDir, 'best') ?? findCheckpoint(prevDir, 'last');
      if (!prev) throw new Error(`phase '${opts.phase}': the previous phase left no checkpoint in ${prevDir}`);
      loadCheckpoint(prev, { model: this.model }, { restoreRng: false });
    }
    const recipe = (opts.recipe ?? ((c: MethodContext) => this.method.build(c)))({
      model: this.model, makeNetwork: this.makeNetwork, loss: this.loss, numClasses: this.numClasses, spatialDims: this.spatialDims,
      totalSteps: opts.steps, seed: exp.seed, params: { ...this.methodParams, ...(opts.params ?? {}) }, phase: opts.phase,
      createNetwork: (config) => createNetwork({ inChannels: this.data.plan.inChannels, numClasses: this.numClasses, seed: exp.seed, ...config } as unknown as NetworkConfig).to(exp.device) as unknown as torch.nn.Module,
      checkpoint: (which, phase = opts.phase) => this.phaseOrder.includes(phase) ? findCheckpoint(this.phaseDir(phase).dir, which) : null,
    });
    const specs = recipe.optimizers?.() ?? { model: { params: this.model.parameters() } };
    const optimizers: Record<string, TrainerOptimizer> = {};
    for (const [name, spec] of Object.entries(specs)) {
      const optimizer = makeOptimizer(optimizerConfig(exp, spec.optimizer, `recipe '${recipe.name}' optimizer '${name}'`), spec.params);
      optimizers[name] = { optimizer, scheduler: makeScheduler(scheduleConfig(exp, spec.schedule, `recipe '${recipe.name}' schedule '${name}'`), optimizer, opts.steps) };
    }
    const streams = this.recipeStreams(recipe);
    const device = exp.device;
    const toDevice = (t: torch.Tensor) => { if (device === 'cpu') return t; const d = t.to(device); t.dispose(); return d; };
    const data = (start: number): BatchSource => {
      // Built per call: a later round reads the streams as the program left them (labels revealed).
      const producer = this.producer(streams, exp.seed + 7919 * index);
      const loader = new DataLoader({
        producer: producer as never, numWorkers: exp.data.workers, prefetch: exp.data.prefetch, startStep: start, numSteps: opts.steps - start,
      });
      return {
        next: async () => {
          const b = await loader.next();
          if (b) for (const k of Object.keys(b)) b[k] = toDevice(b[k]);
          return b;
        },
        close: () => loader.close(),
      };
    };
    const validate = this.validator();
    const trainer = new Trainer({
      runDir: dir, model: this.model, recipe, optimizers, data, validate,
      totalSteps: opts.steps,
      validateEvery: exp.training.validateEvery, checkpointEvery: exp.training.checkpointEvery, logEvery: exp.training.logEvery,
      clipGradNorm: exp.training.clipGradNorm, progress: exp.training.progress,
      describe: { ...this.describe, config: { ...exp, phase: opts.phase }, seed: exp.seed },
      signal: this.ctx.signal, onEvent: this.ctx.emit ? (e) => this.ctx.emit!({ ...e, phase: opts.phase }) : undefined,
    });
    const run: PhaseRun = { name: opts.phase, index, dir, trainer, steps: opts.steps };
    this.phases.set(opts.phase, run);
    return run;
  }

  /**
   * Trains a phase up to `until` (default: its end). On a resumed run the
   * phase continues from its last checkpoint; a finished phase returns at
   * once. Throws when the run was cancelled, so a program stops where it is.
   */
  async train(opts: TrainPhase): Promise<TrainResult> {
    if (!Number.isInteger(opts.steps) || opts.steps < 1) throw new Error(`phase '${opts.phase}': steps must be a positive integer, got ${opts.steps}`);
    const run = this.trainerFor(opts);
    const result = await run.trainer.run({ resume: this.ctx.resume, until: opts.until ?? opts.steps });
    run.result = result;
    this.lastResult = result;
    if (result.cancelled) throw new RunCancelled(result);
    return result;
  }

  /** The result of the last train() call. */
  lastResult: TrainResult | null = null;

  // ---------------------------------------------------------------- rounds

  /** Class probabilities [K, ...spatial] of the current model for training items (slice ids in 2D, case ids in 3D). */
  async predict(ids: readonly string[], each: (id: string, probabilities: torch.Tensor) => void | Promise<void>): Promise<void> {
    const exp = this.exp;
    const fwd = forwardOnDevice(this.model, exp.device);
    const wasTraining = this.model.training;
    this.model.eval();
    const wasGrad = torch.isGradEnabled();
    torch.setGradEnabled(false);
    try {
      if (this.data.kind === '2d') {
        const plan = this.data.plan;
        const load = await loadSliceSource(plan.source);
        for (const id of ids) {
          const sl = await load(id);
          const probs = torch.tidy(() => {
            const r = predictTensor(sl.image.unsqueeze(1), fwd, { mode: 'slices2d', resizeTo: exp.data.patchSize as [number, number], imageResize: plan.imageResize, probabilities: true });
            r.labels.dispose();
            return r.probabilities!.squeeze(1);
          });
          sl.image.dispose();
          sl.label?.dispose();
          try { await each(id, probs); } finally { probs.dispose(); }
        }
      } else {
        const plan = this.data.plan;
        for (const id of ids) {
          const c = loadCachedCase(plan.cacheDir, id, { withLabel: false });
          c.label?.dispose();
          const r = slidingWindowInference(c.image, fwd, { patchSize: [...exp.data.patchSize], overlap: exp.validation.overlap, batchSize: 1, returnProbabilities: true });
          c.image.dispose();
          r.labels.dispose();
          try { await each(id, r.probabilities!); } finally { r.probabilities!.dispose(); }
        }
      }
    } finally {
      torch.setGradEnabled(wasGrad);
      if (wasTraining) this.model.train();
    }
  }

  /** One number per item from its probabilities (e.g. mean entropy for uncertainty sampling). */
  async score(ids: readonly string[], scorer: (probabilities: torch.Tensor) => number): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    await this.predict(ids, (id, p) => { out[id] = torch.tidy(() => scorer(p)); });
    return out;
  }

  /** Moves items from the unlabelled to the labelled stream (their labels are revealed); persisted at once. Already labelled items are left as they are, so a resumed round may reveal again. */
  revealLabels(ids: readonly string[]): void {
    const unknown = ids.filter((id) => !this.streams.unlabelled.includes(id) && !this.streams.labelled.includes(id));
    if (unknown.length) throw new Error(`revealLabels: not training items of this run: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` (+${unknown.length - 5})` : ''}`);
    const set = new Set(ids);
    this.updatePlan((s) => ({ labelled: [...s.labelled, ...s.unlabelled.filter((id) => set.has(id))], unlabelled: s.unlabelled.filter((id) => !set.has(id)) }));
  }

  /** Replaces the labelled/unlabelled streams (each id must come from the plan's training items); persisted at once. */
  updatePlan(fn: (streams: { labelled: string[]; unlabelled: string[] }) => { labelled: string[]; unlabelled: string[] }): void {
    const next = fn({ labelled: [...this.streams.labelled], unlabelled: [...this.streams.unlabelled] });
    const known = new Set([...this.data.plan.labelled, ...this.data.plan.unlabelled]);
    const bad = [...next.labelled, ...next.unlabelled].filter((id) => !known.has(id));
    if (bad.length) throw new Error(`updatePlan: ${bad.length} id(s) are not training items of this plan, e.g. '${bad[0]}'`);
    this.streams = { labelled: [...next.labelled], unlabelled: [...next.unlabelled] };
    this.state.set('streams', this.streams);
    this.writeDataPlan();
  }

  /** The model's weights (copies; the caller disposes them). */
  weights(): Map<string, torch.Tensor> {
    const out = new Map<string, torch.Tensor>();
    for (const [k, v] of this.model.stateDict()) out.set(k, torch.keep(v.detach().clone()));
    return out;
  }

  /**
   * Loads weights into the model between rounds of `phase` (default: the
   * last phase trained). The phase is restored first on a resumed run and its
   * 'last' checkpoint is rewritten, so a kill after this point resumes with
   * these weights.
   */
  loadWeights(weights: Map<string, torch.Tensor>, opts: { phase?: TrainPhase } = {}): void {
    const run = opts.phase ? this.trainerFor(opts.phase) : this.phases.get(this.phaseOrder[this.phaseOrder.length - 1] ?? '');
    run?.trainer.restoreOnce(this.ctx.resume ?? false);
    this.model.loadStateDict(weights, { strict: true });
    run?.trainer.saveLast();
  }

  // ---------------------------------------------------------------- the run folder

  private writeDataPlan(): void {
    const file = path.join(this.runDir, 'data_plan.json');
    if (this.data.kind === '3d') {
      const d = describePatchPlan({ ...this.data.plan, ...this.streams });
      writeFileAtomic(file, JSON.stringify({ ...d, budget: { ...this.data.plan.budget, labelledCases: this.budgetCases(), unlabelledCases: this.streams.unlabelled.length } }, null, 2) + '\n');
      return;
    }
    const plan = this.data.plan;
    const { source, validation, test, ...rest } = plan;
    writeFileAtomic(file, JSON.stringify({
      ...rest, source, ...this.streams, sites: undefined,
      budget: { ...plan.budget, labelledSlices: this.streams.labelled.length, unlabelledSlices: this.streams.unlabelled.length },
      validation: validation.map((v) => v.id), test: test.map((v) => v.id),
    }, null, 2) + '\n');
  }

  private budgetCases(): number | 'all' {
    return this.data.plan.budget.labelledCases === 'all' && this.streams.unlabelled.length === 0 ? 'all' : this.streams.labelled.length;
  }

  /** The label budget as the test results report it. */
  get budget(): Record<string, unknown> {
    const b = this.data.plan.budget as Record<string, unknown>;
    return this.data.kind === '2d'
      ? { ...b, labelledSlices: this.streams.labelled.length, unlabelledSlices: this.streams.unlabelled.length }
      : { ...b, labelledCases: this.budgetCases(), unlabelledCases: this.streams.unlabelled.length };
  }

  /**
   * Makes <run>/checkpoints/{best,last} the run's final model when the program
   * trained in phase folders, so `labelwise predict -m <run>` and the README's
   * layout hold for every method.
   */
  publishCheckpoints(): void {
    const from = this.finalDir;
    if (path.resolve(from) === path.resolve(this.runDir)) return;
    for (const name of ['best', 'last']) {
      const src = findCheckpoint(from, name);
      if (src) copyCheckpoint(src, this.runDir, name);
    }
  }
}

/** Thrown by session.train when the run's signal stopped it; trainExperiment turns it into an incomplete result. */
export class RunCancelled extends Error {
  constructor(readonly result: TrainResult) {
    super(`run cancelled at step ${result.step}`);
    this.name = 'RunCancelled';
  }
}

function checkNetwork3d(model: torch.nn.Module, netConfig: NetworkConfig, patchSize: readonly number[]): void {
  const info = (model as unknown as Network).info;
  if (info && info.spatialDims !== 3) throw new Error(`network.name: '${netConfig.name}' is a ${info.spatialDims}D network; data.dims 3d needs a 3D one (plain_unet, vnet, unet3d, attention_unet3d)`);
  if (info && patchSize.some((p, i) => p % info.inputDivisor[i] !== 0)) {
    throw new Error(`data.patchSize: [${patchSize.join(', ')}] must be divisible by [${info.inputDivisor.join(', ')}] for network '${netConfig.name}'; use [${patchSize.map((p, i) => Math.ceil(p / info.inputDivisor[i]) * info.inputDivisor[i]).join(', ')}]`);
  }
}
