// The shared training loop: data → recipe step → backward → optimizers →
// schedules → hooks, with validation, best/last checkpoints, logs and resume.
// `run({ until })` trains up to a step and can be called again to continue
// (rounds of active learning and federation).
//
// Resume gives the same result as an uninterrupted run because everything a
// step depends on is restored: weights, optimizer and scheduler state, extra
// models (teachers), recipe state, the global RNG (dropout), and the loader's
// position (batches are a pure function of the step).
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as torch from '@labelwise/torch';
import { type CheckpointMeta, findCheckpoint, loadCheckpoint, saveCheckpoint } from '../checkpoint/checkpoint.js';
import { LogWindow, TrainingLog, type Progress, createProgress, readLog } from './log.js';
import { plotTrainingCurves } from '../plot/training-curves.js';
import type { Batch, Recipe, StepContext, StepResult } from './recipe.js';

export interface BatchSource {
  next(): Promise<Batch | null>;
  close(): Promise<void>;
}

export interface ValidationResult {
  /** Named metrics (e.g. dice_1, dice_2, dice_mean). */
  metrics: Record<string, number>;
  /** The number that selects the best checkpoint (higher is better). */
  score: number;
}

export interface TrainerEvent {
  kind: 'step' | 'validation' | 'checkpoint' | 'done' | 'cancelled' | 'resumed';
  step: number;
  totalSteps: number;
  values?: Record<string, number>;
}

export type SchedulerLike = { step(): void; stateDict(): Record<string, unknown>; loadStateDict(s: Record<string, unknown>): void };

/** One optimizer the trainer owns: its schedule (stepped once per iteration) and the parameters it trains. */
export interface TrainerOptimizer {
  optimizer: torch.optim.Optimizer;
  scheduler?: SchedulerLike;
}

export interface TrainerOptions {
  runDir: string;
  model: torch.nn.Module;
  recipe: Recipe;
  /** The optimizer of a one-optimizer recipe (named 'model'). */
  optimizer?: torch.optim.Optimizer;
  /** Stepped once per iteration (PyTorch's scheduler.step()). */
  scheduler?: SchedulerLike;
  /** Named optimizers of a multi-optimizer recipe; the first is the main one (its learning rate is logged). */
  optimizers?: Record<string, TrainerOptimizer>;
  /** Creates the batch source starting at a step (called once, with the resume step). */
  data: (startStep: number) => BatchSource;
  totalSteps: number;
  validate?: (model: torch.nn.Module, step: number) => Promise<ValidationResult>;
  validateEvery?: number;
  checkpointEvery?: number;
  logEvery?: number;
  clipGradNorm?: number;
  /** What checkpoints record about the model (network config, labels, preprocessing, config...). */
  describe?: Pick<CheckpointMeta, 'network'> & Partial<Pick<CheckpointMeta, 'labels' | 'preprocessing' | 'spacing' | 'config' | 'seed'>>;
  /** Show a progress bar (on a TTY) or periodic lines (otherwise). */
  progress?: boolean;
  onEvent?: (e: TrainerEvent) => void;
  /** Cancels after the current step; a 'last' checkpoint is written first. */
  signal?: AbortSignal;
  /** Draw curves.png in the run folder after each validation and at the end (default true). */
  plot?: boolean;
}

export interface TrainResult {
  step: number;
  /** All totalSteps are trained. */
  completed: boolean;
  /** Stopped by the signal before reaching the requested step. */
  cancelled: boolean;
  bestScore: number | null;
  bestStep: number | null;
  lastMetrics: Record<string, number>;
}

export class Trainer {
  private readonly o: TrainerOptions;
  private readonly opts: [string, TrainerOptimizer][];
  private readonly params: Map<string, torch.Tensor[]>;
  private bestScore: number | null = null;
  private bestStep: number | null = null;
  private lastMetrics: Record<string, number> = {};
  /** Values of the steps since the last 'train' log line; checkpointed so a resume logs the same means. */
  private window = new LogWindow();
  /** The next step to train; -1 until the first run() has restored (or not) a checkpoint. */
  private current = -1;

  constructor(options: TrainerOptions) {
    if (!Number.isInteger(options.totalSteps) || options.totalSteps < 1) throw new RangeError(`Trainer: totalSteps must be a positive integer, got ${options.totalSteps}`);
    if (!options.optimizer === !options.optimizers) throw new Error('Trainer: give either optimizer (one) or optimizers (named), not both or neither');
    this.o = options;
    this.opts = options.optimizers ? Object.entries(options.optimizers) : [['model', { optimizer: options.optimizer!, scheduler: options.scheduler }]];
    if (this.opts.length === 0) throw new Error('Trainer: optimizers is empty');
    // Looked up every step (per-optimizer backward, clipping): gathered once.
    this.params = new Map(this.opts.map(([n, t]) => [n, t.optimizer.paramGroups.flatMap((g) => g.params)]));
  }

  /** The step the next run() starts at (after a restore). */
  get step(): number {
    return Math.max(this.current, 0);
  }

  private checkpointParts() {
    const [[, main], ...rest] = this.opts;
    return {
      model: this.o.model, optimizer: main.optimizer, scheduler: main.scheduler, modules: this.o.recipe.modules(),
      optimizers: Object.fromEntries(rest),
    };
  }

  private describeMeta(step: number): Omit<CheckpointMeta, 'format' | 'modules' | 'modelSha256' | 'codeVersion' | 'createdAt' | 'optimizer' | 'scheduler'> {
    return {
      network: {},
      ...this.o.describe,
      step,
      totalSteps: this.o.totalSteps,
      metrics: this.lastMetrics,
      bestMetric: this.bestScore,
      recipe: { ...(this.o.recipe.state?.() ?? {}), bestStep: this.bestStep, logWindow: this.window.state() },
    };
  }

  private save(name: 'last' | 'best', step: number): void {
    saveCheckpoint(this.o.runDir, name, this.checkpointParts(), this.describeMeta(step));
    this.o.onEvent?.({ kind: 'checkpoint', step, totalSteps: this.o.totalSteps, values: { best: name === 'best' ? 1 : 0 } });
  }

  private async plot(logFile: string): Promise<void> {
    if (this.o.plot === false) return;
    await plotTrainingCurves(readLog(logFile), path.join(this.o.runDir, 'curves.png'), { totalSteps: this.o.totalSteps });
  }

  /** Restores the 'last' checkpoint when `resume` and one exists; returns the step to start at. */
  private restore(resume: boolean): number {
    if (!resume) return 0;
    const dir = findCheckpoint(this.o.runDir, 'last');
    if (!dir) return 0;
    const { meta } = loadCheckpoint(dir, this.checkpointParts());
    if (meta.totalSteps !== this.o.totalSteps) {
      throw new Error(`resume from ${dir}: the checkpoint was written for ${meta.totalSteps} steps, this run is configured for ${this.o.totalSteps} (schedules would differ); start a new run folder or set training.iterations=${meta.totalSteps}`);
    }
    this.bestScore = meta.bestMetric;
    const recipeState = { ...(meta.recipe ?? {}) };
    this.bestStep = typeof recipeState.bestStep === 'number' ? recipeState.bestStep : null;
    delete recipeState.bestStep;
    this.window = LogWindow.from(recipeState.logWindow, `${dir}/checkpoint.json recipe.logWindow`);
    delete recipeState.logWindow;
    this.o.recipe.loadState?.(recipeState);
    this.lastMetrics = meta.metrics ?? {};
    return meta.step;
  }

  /** Restores the last checkpoint (when `resume`) once, before the first step; returns the next step. */
  restoreOnce(resume: boolean): number {
    if (this.current < 0) {
      fs.mkdirSync(this.o.runDir, { recursive: true });
      this.current = this.restore(resume);
      if (this.current > 0) this.o.onEvent?.({ kind: 'resumed', step: this.current, totalSteps: this.o.totalSteps });
    }
    return this.current;
  }

  /** Writes the 'last' checkpoint at the current step (e.g. after a program replaced the weights between rounds). */
  saveLast(): void {
    this.save('last', this.step);
  }

  /** Zeroes every gradient, backpropagates the step's loss(es), clips and steps every optimizer. */
  private optimize(r: StepResult): torch.Tensor {
    for (const [, t] of this.opts) t.optimizer.zeroGrad();
    let total: torch.Tensor;
    if (r.losses) {
      const names = Object.keys(r.losses);
      const unknown = names.filter((n) => !this.opts.some(([m]) => m === n));
      if (unknown.length || r.loss) throw new Error(`recipe '${this.o.recipe.name}': step() must return either loss or losses keyed by its optimizers (${this.opts.map(([n]) => n).join(', ')}), got losses for ${names.join(', ')}${r.loss ? ' and a loss' : ''}`);
      // Each loss reaches only its own optimizer's parameters.
      names.forEach((n, i) => torch.autograd.backward([r.losses![n]], [], { retainGraph: i < names.length - 1, inputs: this.paramsOf(n) }));
      total = names.map((n) => r.losses![n]).reduce((a, b) => a.add(b));
    } else {
      if (!r.loss) throw new Error(`recipe '${this.o.recipe.name}': step() returned neither loss nor losses`);
      r.loss.backward();
      total = r.loss;
    }
    for (const [n, t] of this.opts) {
      if (this.o.clipGradNorm !== undefined) torch.optim.clipGradNorm_(this.paramsOf(n), this.o.clipGradNorm);
      t.optimizer.step();
    }
    return total;
  }

  private paramsOf(name: string): torch.Tensor[] {
    return this.params.get(name)!;
  }

  /**
   * Trains from scratch, or from the last checkpoint when `resume` is true,
   * up to step `until` (default: the end). A later call continues from there.
   */
  async run(options: { resume?: boolean; until?: number } = {}): Promise<TrainResult> {
    const o = this.o;
    const until = options.until ?? o.totalSteps;
    if (!Number.isInteger(until) || until < 1 || until > o.totalSteps) throw new RangeError(`Trainer.run: until must be an integer in [1, ${o.totalSteps}], got ${until}`);
    const start = this.restoreOnce(options.resume ?? false);
    const log = new TrainingLog(path.join(o.runDir, 'log.jsonl'), start);
    const progress: Progress = createProgress(o.progress ?? false, o.totalSteps, start);
    const data = start < until ? o.data(start) : { next: () => Promise.resolve(null), close: () => Promise.resolve() };
    const logEvery = o.logEvery ?? 10;
    const timing = { waitMs: 0, stepMs: 0 };
    let step = start;
    let completed = false;
    let cancelled = false;
    o.model.train();
    try {
      while (step < until) {
        if (o.signal?.aborted) break;
        const tWait = performance.now();
        const batch = await data.next();
        const waitMs = performance.now() - tWait;
        if (!batch) throw new Error(`Trainer: the data source ended at step ${step}, before ${o.totalSteps} steps`);
        const ctx: StepContext = { step, totalSteps: o.totalSteps, lr: this.opts[0][1].optimizer.paramGroups[0].lr as number };
        const t0 = performance.now();
        const values = torch.tidy(() => {
          const r = o.recipe.step(batch, ctx);
          const loss = this.optimize(r);
          const v: Record<string, number> = { loss: loss.item() };
          if (r.losses && this.opts.length > 1) for (const [n, l] of Object.entries(r.losses)) v[`loss_${n}`] = l.item();
          for (const [k, x] of Object.entries(r.logs ?? {})) v[k] = typeof x === 'number' ? x : x.item();
          return v;
        });
        for (const t of Object.values(batch)) t.dispose();
        for (const [, t] of this.opts) t.scheduler?.step();
        o.recipe.afterStep?.(ctx);
        const dt = performance.now() - t0;
        this.window.push(values);
        timing.waitMs += waitMs;
        timing.stepMs += waitMs + dt;
        step++;
        progress.tick(step, values);
        if (step % logEvery === 0 || step === o.totalSteps) {
          const mean = this.window.means();
          // Time per step over the steps this process trained, and the share of it spent waiting for the loader.
          const n = Math.max(1, Math.min(this.window.size, step - start));
          log.write({ step, kind: 'train', lr: ctx.lr, stepMs: timing.stepMs / n, dataWaitMs: timing.waitMs / n, dataWaitFraction: timing.waitMs / Math.max(timing.stepMs, 1e-9), ...mean });
          this.window.clear();
          timing.waitMs = 0;
          timing.stepMs = 0;
          o.onEvent?.({ kind: 'step', step, totalSteps: o.totalSteps, values: mean });
        }
        if (o.validate && o.validateEvery && (step % o.validateEvery === 0 || step === o.totalSteps)) {
          // Grad mode is thread-local state, so it is set around the await
          // rather than through noGrad(), which would restore it too early.
          const wasEnabled = torch.isGradEnabled();
          torch.setGradEnabled(false);
          o.model.eval();
          let res: ValidationResult;
          try {
            res = await o.validate(o.model, step);
          } finally {
            o.model.train();
            torch.setGradEnabled(wasEnabled);
          }
          this.lastMetrics = res.metrics;
          const improved = this.bestScore === null || res.score > this.bestScore;
          if (improved) {
            this.bestScore = res.score;
            this.bestStep = step;
          }
          log.write({ step, kind: 'validation', score: res.score, best: this.bestScore, ...res.metrics });
          progress.note(`val ${res.score.toFixed(4)}${improved ? ' (best)' : ''}`);
          o.onEvent?.({ kind: 'validation', step, totalSteps: o.totalSteps, values: { score: res.score, ...res.metrics } });
          if (improved) this.save('best', step);
          await this.plot(log.file);
        }
        this.current = step;
        if (step % (o.checkpointEvery ?? 500) === 0 || step === until) this.save('last', step);
      }
      completed = step >= o.totalSteps;
      if (step < until) {
        cancelled = true;
        this.save('last', step);
        o.onEvent?.({ kind: 'cancelled', step, totalSteps: o.totalSteps });
      } else if (completed) {
        o.onEvent?.({ kind: 'done', step, totalSteps: o.totalSteps });
      }
    } finally {
      progress.done();
      log.close();
      await data.close();
    }
    await this.plot(log.file);
    return { step, completed, cancelled, bestScore: this.bestScore, bestStep: this.bestStep, lastMetrics: this.lastMetrics };
  }
}
