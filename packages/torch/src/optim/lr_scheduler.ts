// Learning-rate schedules (torch.optim.lr_scheduler). Each step() sets
// group.lr on the optimizer; the chainable update rules are PyTorch 1.13's,
// so step-by-step values match, and state dicts use PyTorch's keys.
import { Optimizer } from './optimizer.js';

/** What every scheduler offers (LRScheduler subclasses, SequentialLR, ChainedScheduler, ReduceLROnPlateau). */
export interface Scheduler {
  readonly optimizer: Optimizer;
  getLastLr(): number[];
  stateDict(): Record<string, unknown>;
  loadStateDict(state: Record<string, unknown> | Map<string, unknown>): void;
}

export interface SchedulerOptions {
  /** Index of the last epoch; -1 starts fresh, anything else resumes (groups need `initialLr`). */
  lastEpoch?: number;
}

/** Plain object view of a state dict given as an object or a Map (from loadPth). */
function asRecord(state: Record<string, unknown> | Map<string, unknown>, who: string): Record<string, unknown> {
  if (state instanceof Map) return Object.fromEntries([...state.entries()].map(([k, v]) => [String(k), v]));
  if (state === null || typeof state !== 'object' || Array.isArray(state)) throw new TypeError(`${who}.loadStateDict(): expected an object or Map`);
  return state;
}

function numberList(v: unknown, who: string, key: string): number[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) throw new TypeError(`${who}.loadStateDict(): '${key}' must be an array of numbers`);
  return [...(v as number[])];
}

function num(v: unknown, who: string, key: string): number {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v !== 'number') throw new TypeError(`${who}.loadStateDict(): '${key}' must be a number, got ${typeof v}`);
  return v;
}

function checkOptimizer(optimizer: unknown, who: string): asserts optimizer is Optimizer {
  if (!(optimizer instanceof Optimizer)) throw new TypeError(`${who}: expected an Optimizer, got ${optimizer === null ? 'null' : typeof optimizer}`);
}

/**
 * Base of the epoch-indexed schedulers (torch.optim.lr_scheduler._LRScheduler).
 * A subclass sets its own fields after super() and then calls
 * `this._initialStep()`, which PyTorch's base constructor does itself.
 */
export abstract class LRScheduler implements Scheduler {
  readonly optimizer: Optimizer;
  baseLrs: number[];
  lastEpoch: number;
  /** @internal number of step() calls, as PyTorch's _step_count */
  _stepCount = 0;
  protected lastLr: number[] = [];

  protected constructor(optimizer: Optimizer, lastEpoch = -1) {
    checkOptimizer(optimizer, new.target.name);
    this.optimizer = optimizer;
    optimizer.paramGroups.forEach((g, i) => {
      if (lastEpoch === -1) {
        if (g.initialLr === undefined) g.initialLr = g.lr;
      } else if (g.initialLr === undefined) {
        throw new RangeError(`${new.target.name}: paramGroups[${i}] has no initialLr, needed to resume at lastEpoch=${lastEpoch}`);
      }
    });
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** @internal the first step done at construction (subclasses call it last in their constructor). */
  _initialStep(): void {
    this._stepCount = 0;
    this.step();
  }

  /** The learning rates the last step() set, one per group. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The chainable rule: new lrs from the current ones (lastEpoch already advanced). */
  protected abstract getLr(): number[];

  /** The closed form used by step(epoch); schedulers without one use getLr(). */
  protected closedFormLr(): number[] {
    return this.getLr();
  }

  /** Advances one epoch (or jumps to `epoch` using the closed form) and sets each group's lr. */
  step(epoch?: number): void {
    this._stepCount += 1;
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch += 1;
      values = this.getLr();
    } else {
      this.lastEpoch = epoch;
      values = this.closedFormLr();
    }
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = values[i];
    });
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** Scheduler-specific entries of the state dict: [PyTorch key, value]. */
  protected hyper(): [string, unknown][] {
    return [];
  }

  /** Restores the scheduler-specific entries. */
  protected loadHyper(_state: Record<string, unknown>): void {}

  protected groupLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): Record<string, unknown> {
    return {
      ...Object.fromEntries(this.hyper()),
      base_lrs: [...this.baseLrs],
      last_epoch: this.lastEpoch,
      _step_count: this._stepCount,
      _last_lr: [...this.lastLr],
    };
  }

  loadStateDict(state: Record<string, unknown> | Map<string, unknown>): void {
    const who = this.constructor.name;
    const s = asRecord(state, who);
    if ('base_lrs' in s) this.baseLrs = numberList(s.base_lrs, who, 'base_lrs');
    if ('last_epoch' in s) this.lastEpoch = num(s.last_epoch, who, 'last_epoch');
    if ('_step_count' in s) this._stepCount = num(s._step_count, who, '_step_count');
    if ('_last_lr' in s) this.lastLr = numberList(s._last_lr, who, '_last_lr');
    this.loadHyper(s);
  }
}

/** Per-group multiplicative factor of the epoch: lr = base · f(epoch). */
export type LrLambda = (epoch: number) => number;

function lambdasFor(optimizer: Optimizer, lrLambda: LrLambda | LrLambda[], who: string): LrLambda[] {
  checkOptimizer(optimizer, who);
  if (!Array.isArray(lrLambda)) return optimizer.paramGroups.map(() => lrLambda);
  if (lrLambda.length !== optimizer.paramGroups.length) {
    throw new RangeError(`${who}: expected ${optimizer.paramGroups.length} lrLambdas (one per group), got ${lrLambda.length}`);
  }
  return [...lrLambda];
}

/** lr = initial lr · lrLambda(epoch) (torch.optim.lr_scheduler.LambdaLR). */
export class LambdaLR extends LRScheduler {
  readonly lrLambdas: LrLambda[];

  constructor(optimizer: Optimizer, lrLambda: LrLambda | LrLambda[], options: SchedulerOptions = {}) {
    const lambdas = lambdasFor(optimizer, lrLambda, 'LambdaLR');
    super(optimizer, options.lastEpoch);
    this.lrLambdas = lambdas;
    this._initialStep();
  }

  protected getLr(): number[] {
    return this.baseLrs.map((b, i) => b * this.lrLambdas[i](this.lastEpoch));
  }

  // Functions are not state: saved as nulls, as PyTorch does for lambdas.
  protected override hyper(): [string, unknown][] {
    return [['lr_lambdas', this.lrLambdas.map(() => null)]];
  }
}

/** lr ← lr · lrLambda(epoch) each epoch after the first (MultiplicativeLR). */
export class MultiplicativeLR extends LRScheduler {
  readonly lrLambdas: LrLambda[];

  constructor(optimizer: Optimizer, lrLambda: LrLambda | LrLambda[], options: SchedulerOptions = {}) {
    const lambdas = lambdasFor(optimizer, lrLambda, 'MultiplicativeLR');
    super(optimizer, options.lastEpoch);
    this.lrLambdas = lambdas;
    this._initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch > 0) return this.optimizer.paramGroups.map((g, i) => g.lr * this.lrLambdas[i](this.lastEpoch));
    return this.groupLrs();
  }

  protected override hyper(): [string, unknown][] {
    return [['lr_lambdas', this.lrLambdas.map(() => null)]];
  }
}

/** Multiplies lr by gamma every stepSize epochs (StepLR). */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;

  constructor(optimizer: Optimizer, stepSize: number, options: SchedulerOptions & { gamma?: number } = {}) {
    super(optimizer, options.lastEpoch);
    if (!Number.isInteger(stepSize) || stepSize <= 0) throw new RangeError(`StepLR: stepSize must be a positive integer, got ${stepSize}`);
    this.stepSize = stepSize;
    this.gamma = options.gamma ?? 0.1;
    this._initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }

  protected override hyper(): [string, unknown][] {
    return [['step_size', this.stepSize], ['gamma', this.gamma]];
  }

  protected override loadHyper(s: Record<string, unknown>): void {
    if ('step_size' in s) this.stepSize = num(s.step_size, 'StepLR', 'step_size');
    if ('gamma' in s) this.gamma = num(s.gamma, 'StepLR', 'gamma');
  }
}

/** Multiplies lr by gamma at each milestone epoch (MultiStepLR). */
export class MultiStepLR extends LRScheduler {
  /** milestone epoch → how many times it was listed (PyTorch keeps a Counter). */
  milestones: Map<number, number>;
  gamma: number;

  constructor(optimizer: Optimizer, milestones: number[], options: SchedulerOptions & { gamma?: number } = {}) {
    super(optimizer, options.lastEpoch);
    if (!Array.isArray(milestones) || milestones.some((m) => !Number.isInteger(m))) throw new TypeError('MultiStepLR: milestones must be an array of integers');
    this.milestones = new Map();
    for (const m of milestones) this.milestones.set(m, (this.milestones.get(m) ?? 0) + 1);
    this.gamma = options.gamma ?? 0.1;
    this._initialStep();
  }

  protected getLr(): number[] {
    const count = this.milestones.get(this.lastEpoch);
    if (count === undefined) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * this.gamma ** count);
  }

  protected override closedFormLr(): number[] {
    let passed = 0;
    for (const [m, c] of this.milestones) if (m <= this.lastEpoch) passed += c;
    return this.baseLrs.map((b) => b * this.gamma ** passed);
  }

  protected override hyper(): [string, unknown][] {
    return [['milestones', Object.fromEntries([...this.milestones].sort((a, b) => a[0] - b[0]))], ['gamma', this.gamma]];
  }

  protected override loadHyper(s: Record<string, unknown>): void {
    if ('milestones' in s) {
      const m = s.milestones instanceof Map ? [...s.milestones.entries()] : Object.entries(s.milestones as Record<string, unknown>);
      this.milestones = new Map(m.map(([k, v]) => [Number(k), num(v, 'MultiStepLR', 'milestones')]));
    }
    if ('gamma' in s) this.gamma = num(s.gamma, 'MultiStepLR', 'gamma');
  }
}

/** lr · factor until totalIters, then lr (ConstantLR). */
export class ConstantLR extends LRScheduler {
  factor: number;
  totalIters: number;

  constructor(optimizer: Optimizer, options: SchedulerOptions & { factor?: number; totalIters?: number } = {}) {
    super(optimizer, options.lastEpoch);
    this.factor = options.factor ?? 1 / 3;
    this.totalIters = options.totalIters ?? 5;
    if (!(this.factor >= 0 && this.factor <= 1)) throw new RangeError(`ConstantLR: factor must be in [0, 1], got ${this.factor}`);
    this._initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.groupLrs().map((lr) => lr * this.factor);
    if (this.lastEpoch !== this.totalIters) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * (1 / this.factor));
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * (this.factor + (this.lastEpoch >= this.totalIters ? 1 : 0) * (1 - this.factor)));
  }

  protected override hyper(): [string, unknown][] {
    return [['factor', this.factor], ['total_iters', this.totalIters]];
  }

  protected override loadHyper(s: Record<string, unknown>): void {
    if ('factor' in s) this.factor = num(s.factor, 'ConstantLR', 'factor');
    if ('total_iters' in s) this.totalIters = num(s.total_iters, 'ConstantLR', 'total_iters');
  }
}

/**
 * Changes the lr factor linearly from startFactor to endFactor over
 * totalIters epochs (LinearLR): the usual warm-up.
 */
export class LinearLR extends LRScheduler {
  startFactor: number;
  endFactor: number;
  totalIters: number;

  constructor(optimizer: Optimizer, options: SchedulerOptions & { startFactor?: number; endFactor?: number; totalIters?: number } = {}) {
    super(optimizer, options.lastEpoch);
    this.startFactor = options.startFactor ?? 1 / 3;
    this.endFactor = options.endFactor ?? 1;
    this.totalIters = options.totalIters ?? 5;
    if (!(this.startFactor > 0 && this.startFactor <= 1)) throw new RangeError(`LinearLR: startFactor must be in (0, 1], got ${this.startFactor}`);
    if (!(this.endFactor >= 0 && this.endFactor <= 1)) throw new RangeError(`LinearLR: endFactor must be in [0, 1], got ${this.endFactor}`);
    this._initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.groupLrs().map((lr) => lr * this.startFactor);
    if (this.lastEpoch > this.totalIters) return this.groupLrs();
    const d = this.endFactor - this.startFactor;
    return this.groupLrs().map((lr) => lr * (1 + d / (this.totalIters * this.startFactor + (this.lastEpoch - 1) * d)));
  }

  protected override closedFormLr(): number[] {
    const d = this.endFactor - this.startFactor;
    return this.baseLrs.map((b) => b * (this.startFactor + (d * Math.min(this.totalIters, this.lastEpoch)) / this.totalIters));
  }

  protected override hyper(): [string, unknown][] {
    return [['start_factor', this.startFactor], ['end_factor', this.endFactor], ['total_iters', this.totalIters]];
  }

  protected override loadHyper(s: Record<string, unknown>): void {
    if ('start_factor' in s) this.startFactor = num(s.start_factor, 'LinearLR', 'start_factor');
    if ('end_factor' in s) this.endFactor = num(s.end_factor, 'LinearLR', 'end_factor');
    if ('total_iters' in s) this.totalIters = num(s.total_iters, 'LinearLR', 'total_iters');
  }
}

/** Multiplies lr by gamma every epoch (ExponentialLR). */
export class ExponentialLR extends LRScheduler {
  gamma: number;

  constructor(optimizer: Optimizer, gamma: number, options: SchedulerOptions = {}) {
    super(optimizer, options.lastEpoch);
    this.gamma = gamma;
    this._initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** this.lastEpoch);
  }

  protected override hyper(): [string, unknown][] {
    return [['gamma', this.gamma]];
  }

  protected override loadHyper(s: Record<string, unknown>): void {
    if ('gamma' in s) this.gamma = num(s.gamma, 'ExponentialLR', 'gamma');
  }
}

/** PyTorch's PolynomialLR: lr = base · (1 − min(epoch, totalIters)/totalIters)^power, chainable form. */
export class PolynomialLR extends LRScheduler {
  totalIters: number;
  power: number;

  constructor(optimizer: Optimizer, options: SchedulerOptions & { totalIters?: number; power?: number } = {}) {
    super(optimizer, options.lastEpoch);
    this.totalIters = options.totalIters ?? 5;
    this.power = options.power ?? 1;
    this._initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch > this.totalIters) return this.groupLrs();
    const f = ((1 - this.lastEpoch / this.totalIters) / (1 - (this.lastEpoch - 1) / this.totalIters)) ** this.power;
    return this.groupLrs().map((lr) => lr * f);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * (1 - Math.min(this.totalIters, this.lastEpoch) / this.totalIters) ** this.power);
  }

  protected override hyper(): [string, unknown][] {
    return [['total_iters', this.totalIters], ['power', this.power]];
  }

  protected override loadHyper(s: Record<string, unknown>): void {
    if ('total_iters' in s) this.totalIters = num(s.total_iters, 'PolynomialLR', 'total_iters');
    if ('power' in s) this.power = num(s.power, 'PolynomialLR', 'power');
  }
}

/**
 * The "poly" schedule of nnU-Net and the SSL4MIS/BCP code:
 * lr = base · (1 − epoch/maxEpochs)^exponent, exponent 0.9, stepped once per
 * epoch (nnU-Net) or per iteration (SSL4MIS). Closed form at every step, so
 * it is never affected by other changes to group.lr; 0 from maxEpochs on.
 */
export class PolyLR extends LRScheduler {
  maxEpochs: number;
  exponent: number;

  constructor(optimizer: Optimizer, maxEpochs: number, options: SchedulerOptions & { exponent?: number } = {}) {
    super(optimizer, options.lastEpoch);
    if (!(maxEpochs > 0)) throw new RangeError(`PolyLR: maxEpochs must be > 0, got ${maxEpochs}`);
    this.maxEpochs = maxEpochs;
    this.exponent = options.exponent ?? 0.9;
    this._initialStep();
  }

  protected getLr(): number[] {
    const f = Math.max(0, 1 - this.lastEpoch / this.maxEpochs) ** this.exponent;
    return this.baseLrs.map((b) => b * f);
  }

  protected override hyper(): [string, unknown][] {
    return [['max_epochs', this.maxEpochs], ['exponent', this.exponent]];
  }

  protected override loadHyper(s: Record<string, unknown>): void {
    if ('max_epochs' in s) this.maxEpochs = num(s.max_epochs, 'PolyLR', 'max_epochs');
    if ('exponent' in s) this.exponent = num(s.exponent, 'PolyLR', 'exponent');
  }
}

/** Cosine annealing from the initial lr to etaMin over tMax epochs (CosineAnnealingLR), chainable as in PyTorch. */
export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;

  constructor(optimizer: Optimizer, tMax: number, options: SchedulerOptions & { etaMin?: number } = {}) {
    super(optimizer, options.lastEpoch);
    if (!(tMax > 0)) throw new RangeError(`CosineAnnealingLR: tMax must be > 0, got ${tMax}`);
    this.tMax = tMax;
    this.etaMin = options.etaMin ?? 0;
    this._initialStep();
  }

  protected getLr(): number[] {
    const { lastEpoch: e, tMax: T, etaMin } = this;
    if (e === 0) return this.groupLrs();
    if (this._stepCount === 1 && e > 0) return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    if (pyMod(e - 1 - T, 2 * T) === 0) {
      return this.optimizer.paramGroups.map((g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return this.groupLrs().map((lr) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (lr - etaMin) + etaMin);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2);
  }

  protected override hyper(): [string, unknown][] {
    return [['T_max', this.tMax], ['eta_min', this.etaMin]];
  }

  protected override loadHyper(s: Record<string, unknown>): void {
    if ('T_max' in s) this.tMax = num(s.T_max, 'CosineAnnealingLR', 'T_max');
    if ('eta_min' in s) this.etaMin = num(s.eta_min, 'CosineAnnealingLR', 'eta_min');
  }
}

/** Cosine annealing with warm restarts every tI epochs, tI growing by tMult (SGDR). */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  t0: number;
  tI: number;
  tMult: number;
  etaMin: number;
  tCur: number;

  constructor(optimizer: Optimizer, t0: number, options: SchedulerOptions & { tMult?: number; etaMin?: number } = {}) {
    super(optimizer, options.lastEpoch);
    const tMult = options.tMult ?? 1;
    if (!Number.isInteger(t0) || t0 <= 0) throw new RangeError(`CosineAnnealingWarmRestarts: expected a positive integer t0, got ${t0}`);
    if (!Number.isInteger(tMult) || tMult < 1) throw new RangeError(`CosineAnnealingWarmRestarts: expected an integer tMult >= 1, got ${tMult}`);
    this.t0 = t0;
    this.tI = t0;
    this.tMult = tMult;
    this.etaMin = options.etaMin ?? 0;
    this.tCur = this.lastEpoch;
    this._initialStep();
  }

  protected getLr(): number[] {
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * this.tCur) / this.tI))) / 2);
  }

  /** Advances one epoch, or jumps to a (possibly fractional) epoch, e.g. epoch + i/iters per batch. */
  override step(epoch?: number): void {
    let e = epoch;
    if (e === undefined && this.lastEpoch < 0) e = 0;
    if (e === undefined) {
      e = this.lastEpoch + 1;
      this.tCur += 1;
      if (this.tCur >= this.tI) {
        this.tCur -= this.tI;
        this.tI *= this.tMult;
      }
    } else {
      if (e < 0) throw new RangeError(`CosineAnnealingWarmRestarts.step(): expected a non-negative epoch, got ${e}`);
      if (e >= this.t0) {
        if (this.tMult === 1) this.tCur = pyMod(e, this.t0);
        else {
          const n = Math.trunc(Math.log((e / this.t0) * (this.tMult - 1) + 1) / Math.log(this.tMult));
          this.tCur = e - (this.t0 * (this.tMult ** n - 1)) / (this.tMult - 1);
          this.tI = this.t0 * this.tMult ** n;
        }
      } else {
        this.tI = this.t0;
        this.tCur = e;
      }
    }
    // PyTorch's override does not count steps here.
    this.lastEpoch = Math.floor(e);
    const values = this.getLr();
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = values[i];
    });
    this.lastLr = this.groupLrs();
  }

  protected override hyper(): [string, unknown][] {
    return [['T_0', this.t0], ['T_i', this.tI], ['T_mult', this.tMult], ['eta_min', this.etaMin], ['T_cur', this.tCur]];
  }

  protected override loadHyper(s: Record<string, unknown>): void {
    const who = 'CosineAnnealingWarmRestarts';
    if ('T_0' in s) this.t0 = num(s.T_0, who, 'T_0');
    if ('T_i' in s) this.tI = num(s.T_i, who, 'T_i');
    if ('T_mult' in s) this.tMult = num(s.T_mult, who, 'T_mult');
    if ('eta_min' in s) this.etaMin = num(s.eta_min, who, 'eta_min');
    if ('T_cur' in s) this.tCur = num(s.T_cur, who, 'T_cur');
  }
}

/**
 * Runs schedulers one after another, switching at the milestones
 * (SequentialLR), e.g. LinearLR warm-up then CosineAnnealingLR.
 */
export class SequentialLR implements Scheduler {
  readonly optimizer: Optimizer;
  readonly schedulers: LRScheduler[];
  milestones: number[];
  lastEpoch: number;
  private lastLr: number[];

  constructor(optimizer: Optimizer, schedulers: LRScheduler[], milestones: number[], options: SchedulerOptions = {}) {
    checkOptimizer(optimizer, 'SequentialLR');
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) throw new RangeError(`SequentialLR: schedulers[${i}] belongs to a different optimizer than the one given`);
    });
    if (schedulers.length === 0) throw new RangeError('SequentialLR: needs at least one scheduler');
    if (milestones.length !== schedulers.length - 1) {
      throw new RangeError(`SequentialLR: expected ${schedulers.length - 1} milestones for ${schedulers.length} schedulers, got ${milestones.length}`);
    }
    this.optimizer = optimizer;
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    this.lastEpoch = (options.lastEpoch ?? -1) + 1;
    // Undo the initial steps the schedulers took when constructed, then
    // start the first one again.
    for (const g of optimizer.paramGroups) g.lr = g.initialLr as number;
    for (const s of this.schedulers) s.lastEpoch -= 1;
    this.schedulers[0]._initialStep();
    this.lastLr = this.schedulers[0].getLastLr();
  }

  step(): void {
    this.lastEpoch += 1;
    const idx = bisectRight(this.milestones, this.lastEpoch);
    const s = this.schedulers[idx];
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) s.step(0);
    else s.step();
    this.lastLr = s.getLastLr();
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): Record<string, unknown> {
    return { _milestones: [...this.milestones], last_epoch: this.lastEpoch, _last_lr: [...this.lastLr], _schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  loadStateDict(state: Record<string, unknown> | Map<string, unknown>): void {
    const s = asRecord(state, 'SequentialLR');
    if ('_milestones' in s) this.milestones = numberList(s._milestones, 'SequentialLR', '_milestones');
    if ('last_epoch' in s) this.lastEpoch = num(s.last_epoch, 'SequentialLR', 'last_epoch');
    if ('_last_lr' in s) this.lastLr = numberList(s._last_lr, 'SequentialLR', '_last_lr');
    const subs = s._schedulers;
    if (subs !== undefined) {
      if (!Array.isArray(subs) || subs.length !== this.schedulers.length) throw new RangeError(`SequentialLR.loadStateDict(): '_schedulers' must hold ${this.schedulers.length} state dicts`);
      subs.forEach((sub, i) => this.schedulers[i].loadStateDict(sub as Record<string, unknown>));
    }
  }
}

/** Steps several chainable schedulers together (ChainedScheduler); their factors compose. */
export class ChainedScheduler implements Scheduler {
  readonly optimizer: Optimizer;
  readonly schedulers: LRScheduler[];
  private lastLr: number[];

  constructor(schedulers: LRScheduler[]) {
    if (schedulers.length === 0) throw new RangeError('ChainedScheduler: needs at least one scheduler');
    schedulers.forEach((s, i) => {
      if (s.optimizer !== schedulers[0].optimizer) throw new RangeError(`ChainedScheduler: schedulers[${i}] belongs to a different optimizer than schedulers[0]`);
    });
    this.schedulers = [...schedulers];
    this.optimizer = schedulers[0].optimizer;
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  step(): void {
    for (const s of this.schedulers) s.step();
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): Record<string, unknown> {
    return { _last_lr: [...this.lastLr], _schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  loadStateDict(state: Record<string, unknown> | Map<string, unknown>): void {
    const s = asRecord(state, 'ChainedScheduler');
    if ('_last_lr' in s) this.lastLr = numberList(s._last_lr, 'ChainedScheduler', '_last_lr');
    const subs = s._schedulers;
    if (subs !== undefined) {
      if (!Array.isArray(subs) || subs.length !== this.schedulers.length) throw new RangeError(`ChainedScheduler.loadStateDict(): '_schedulers' must hold ${this.schedulers.length} state dicts`);
      subs.forEach((sub, i) => this.schedulers[i].loadStateDict(sub as Record<string, unknown>));
    }
  }
}

export interface ReduceLROnPlateauOptions {
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  cooldown?: number;
  minLr?: number | number[];
  eps?: number;
}

/** Divides lr by 1/factor when a metric stops improving for `patience` epochs (ReduceLROnPlateau). */
export class ReduceLROnPlateau implements Scheduler {
  readonly optimizer: Optimizer;
  factor: number;
  minLrs: number[];
  patience: number;
  cooldown: number;
  cooldownCounter = 0;
  mode: 'min' | 'max';
  threshold: number;
  thresholdMode: 'rel' | 'abs';
  best: number;
  numBadEpochs = 0;
  eps: number;
  lastEpoch = 0;
  private lastLr: number[];

  constructor(optimizer: Optimizer, options: ReduceLROnPlateauOptions = {}) {
    checkOptimizer(optimizer, 'ReduceLROnPlateau');
    this.optimizer = optimizer;
    this.factor = options.factor ?? 0.1;
    if (!(this.factor < 1)) throw new RangeError(`ReduceLROnPlateau: factor must be < 1, got ${this.factor}`);
    const minLr = options.minLr ?? 0;
    if (Array.isArray(minLr)) {
      if (minLr.length !== optimizer.paramGroups.length) throw new RangeError(`ReduceLROnPlateau: expected ${optimizer.paramGroups.length} minLr values, got ${minLr.length}`);
      this.minLrs = [...minLr];
    } else this.minLrs = optimizer.paramGroups.map(() => minLr);
    this.patience = options.patience ?? 10;
    this.cooldown = options.cooldown ?? 0;
    this.mode = options.mode ?? 'min';
    this.threshold = options.threshold ?? 1e-4;
    this.thresholdMode = options.thresholdMode ?? 'rel';
    if (this.mode !== 'min' && this.mode !== 'max') throw new RangeError(`ReduceLROnPlateau: mode must be 'min' or 'max', got '${String(this.mode)}'`);
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs') throw new RangeError(`ReduceLROnPlateau: thresholdMode must be 'rel' or 'abs', got '${String(this.thresholdMode)}'`);
    this.eps = options.eps ?? 1e-8;
    this.best = this.modeWorse;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  private get modeWorse(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - this.threshold) : a < best - this.threshold;
    return this.thresholdMode === 'rel' ? a > best * (this.threshold + 1) : a > best + this.threshold;
  }

  /** Records this epoch's metric (a number, or a one-element tensor). */
  step(metric: number | { item(): number }): void {
    const current = typeof metric === 'number' ? metric : metric.item();
    this.lastEpoch += 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else this.numBadEpochs += 1;
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const newLr = Math.max(g.lr * this.factor, this.minLrs[i]);
        if (g.lr - newLr > this.eps) g.lr = newLr;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): Record<string, unknown> {
    return {
      factor: this.factor,
      min_lrs: [...this.minLrs],
      patience: this.patience,
      cooldown: this.cooldown,
      cooldown_counter: this.cooldownCounter,
      mode: this.mode,
      threshold: this.threshold,
      threshold_mode: this.thresholdMode,
      best: this.best,
      num_bad_epochs: this.numBadEpochs,
      mode_worse: this.modeWorse,
      eps: this.eps,
      last_epoch: this.lastEpoch,
      _last_lr: [...this.lastLr],
    };
  }

  loadStateDict(state: Record<string, unknown> | Map<string, unknown>): void {
    const who = 'ReduceLROnPlateau';
    const s = asRecord(state, who);
    const numbers: [string, 'factor' | 'patience' | 'cooldown' | 'cooldownCounter' | 'threshold' | 'best' | 'numBadEpochs' | 'eps' | 'lastEpoch'][] = [
      ['factor', 'factor'], ['patience', 'patience'], ['cooldown', 'cooldown'], ['cooldown_counter', 'cooldownCounter'], ['threshold', 'threshold'],
      ['best', 'best'], ['num_bad_epochs', 'numBadEpochs'], ['eps', 'eps'], ['last_epoch', 'lastEpoch'],
    ];
    for (const [k, prop] of numbers) if (k in s) this[prop] = num(s[k], who, k);
    if ('min_lrs' in s) this.minLrs = numberList(s.min_lrs, who, 'min_lrs');
    if ('_last_lr' in s) this.lastLr = numberList(s._last_lr, who, '_last_lr');
    if (s.mode === 'min' || s.mode === 'max') this.mode = s.mode;
    if (s.threshold_mode === 'rel' || s.threshold_mode === 'abs') this.thresholdMode = s.threshold_mode;
  }
}

/** Python's modulo (sign of the divisor). */
function pyMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** bisect.bisect_right: index after the last element <= x in a sorted array. */
function bisectRight(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < a[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
