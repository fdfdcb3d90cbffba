// Normalization layers: BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, GroupNorm,
// LayerNorm, with PyTorch's parameter and buffer names (weight, bias,
// running_mean, running_var, num_batches_tracked).
import { Tensor, callT, op } from '../tensor.js';
import { tensor as makeTensor } from '../ops/creation.js';
import { noGrad } from '../autograd.js';
import * as F from '../functional/index.js';
import { warnOnce } from '../functional/utils.js';
import { pyFloat, pyRepr } from './format.js';
import { ones_, zeros_ } from './init.js';
import { Module, type Parameter, type StateDict } from './module.js';
import { type FactoryOptions, newParameter } from './utils.js';

export interface NormOptions extends FactoryOptions {
  eps?: number;
  /** Running statistics' update factor; null means a cumulative moving average. */
  momentum?: number | null;
  /** Learnable per-channel weight and bias. */
  affine?: boolean;
  /** Keep running_mean / running_var (and num_batches_tracked) buffers. */
  trackRunningStats?: boolean;
}

/** Shared state of batch and instance norm (_NormBase). */
export abstract class NormBase extends Module<[Tensor], Tensor> {
  declare weight: Parameter | null;
  declare bias: Parameter | null;
  readonly numFeatures: number;
  eps: number;
  momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  protected constructor(numFeatures: number, o: NormOptions, defaults: { affine: boolean; trackRunningStats: boolean }) {
    super();
    this.numFeatures = numFeatures;
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum === undefined ? 0.1 : o.momentum;
    this.affine = o.affine ?? defaults.affine;
    this.trackRunningStats = o.trackRunningStats ?? defaults.trackRunningStats;
    this.registerParameter('weight', this.affine ? newParameter([numFeatures], 'empty', o) : null);
    this.registerParameter('bias', this.affine ? newParameter([numFeatures], 'empty', o) : null);
    if (this.trackRunningStats) {
      this.registerBuffer('running_mean', newBuffer([numFeatures], 0, o));
      this.registerBuffer('running_var', newBuffer([numFeatures], 1, o));
      this.registerBuffer('num_batches_tracked', makeTensor(0, { dtype: 'int64', device: o.device }));
    } else {
      this.registerBuffer('running_mean', null);
      this.registerBuffer('running_var', null);
      this.registerBuffer('num_batches_tracked', null);
    }
    this.resetParameters();
  }

  get runningMean(): Tensor | null {
    return this._buffers.get('running_mean') ?? null;
  }

  get runningVar(): Tensor | null {
    return this._buffers.get('running_var') ?? null;
  }

  get numBatchesTracked(): Tensor | null {
    return this._buffers.get('num_batches_tracked') ?? null;
  }

  /** Zeroes running_mean and num_batches_tracked and sets running_var to 1. */
  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    noGrad(() => {
      zeros_(this.runningMean as Tensor);
      ones_(this.runningVar as Tensor);
      op('zero_').inplace([this.numBatchesTracked as Tensor]);
    });
  }

  resetParameters(): void {
    this.resetRunningStats();
    if (this.affine) {
      ones_(this.weight as Tensor);
      zeros_(this.bias as Tensor);
    }
  }

  /** State dicts without num_batches_tracked (older or converted checkpoints) load it as 0, as PyTorch does. */
  protected override upgradeStateDict(sd: StateDict, prefix: string): void {
    const key = `${prefix}num_batches_tracked`;
    if (this.trackRunningStats && !sd.has(key)) sd.set(key, makeTensor(0, { dtype: 'int64' }));
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${pyRepr(pyFloat(this.eps))}, momentum=${this.momentum === null ? 'None' : pyRepr(pyFloat(this.momentum))}, affine=${pyRepr(this.affine)}, track_running_stats=${pyRepr(this.trackRunningStats)}`;
  }
}

function newBuffer(shape: number[], fill: number, f: FactoryOptions): Tensor {
  return callT(op('full'), [shape, fill], { dtype: f.dtype ?? 'float32', device: f.device ?? null });
}

/** Batch normalization (_BatchNorm); subclasses check the input rank. */
export abstract class BatchNormBase extends NormBase {
  protected constructor(numFeatures: number, options: NormOptions) {
    super(numFeatures, options, { affine: true, trackRunningStats: true });
  }

  protected abstract checkInputDim(input: Tensor): void;

  forward(input: Tensor): Tensor {
    this.checkInputDim(input);
    // As PyTorch: momentum null gives a cumulative moving average, 1/num_batches_tracked.
    let factor = this.momentum ?? 0.0;
    const nbt = this.numBatchesTracked;
    if (this.training && this.trackRunningStats && nbt !== null) {
      noGrad(() => op('add_', 'Scalar').inplace([nbt, 1]));
      factor = this.momentum === null ? 1.0 / nbt.item() : this.momentum;
    }
    const bnTraining = this.training || (this.runningMean === null && this.runningVar === null);
    const useRunning = !this.training || this.trackRunningStats;
    return F.batchNorm(input, useRunning ? this.runningMean : null, useRunning ? this.runningVar : null, {
      weight: this.weight,
      bias: this.bias,
      training: bnTraining,
      momentum: factor,
      eps: this.eps,
    });
  }
}

/** Batch norm over (N, C) or (N, C, L) input (nn.BatchNorm1d). */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, options: NormOptions = {}) {
    super(numFeatures, options);
  }
  protected checkInputDim(input: Tensor): void {
    if (input.ndim !== 2 && input.ndim !== 3) throw new RangeError(`BatchNorm1d: expected 2D or 3D input (got ${input.ndim}D input)`);
  }
}

/** Batch norm over (N, C, H, W) input (nn.BatchNorm2d). */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, options: NormOptions = {}) {
    super(numFeatures, options);
  }
  protected checkInputDim(input: Tensor): void {
    if (input.ndim !== 4) throw new RangeError(`BatchNorm2d: expected 4D input (got ${input.ndim}D input)`);
  }
}

/** Batch norm over (N, C, D, H, W) input (nn.BatchNorm3d). */
export class BatchNorm3d extends BatchNormBase {
  constructor(numFeatures: number, options: NormOptions = {}) {
    super(numFeatures, options);
  }
  protected checkInputDim(input: Tensor): void {
    if (input.ndim !== 5) throw new RangeError(`BatchNorm3d: expected 5D input (got ${input.ndim}D input)`);
  }
}

/**
 * Instance normalization (_InstanceNorm): per sample and channel. PyTorch's
 * defaults: affine=false, trackRunningStats=false. Unbatched input is accepted.
 */
export abstract class InstanceNormBase extends NormBase {
  /** Rank of an unbatched input. */
  protected abstract readonly noBatchDim: number;

  protected constructor(numFeatures: number, options: NormOptions) {
    super(numFeatures, options, { affine: false, trackRunningStats: false });
    // PyTorch passes momentum straight to instance_norm, which has no cumulative mode.
    if (this.momentum === null) throw new TypeError(`${this.constructor.name}: momentum must be a number (instance norm has no cumulative average)`);
  }

  forward(input: Tensor): Tensor {
    const nb = this.noBatchDim;
    if (input.ndim !== nb && input.ndim !== nb + 1) {
      throw new RangeError(`${this.constructor.name}: expected ${nb}D or ${nb + 1}D input (got ${input.ndim}D input)`);
    }
    const featureDim = input.ndim - nb;
    const c = input.shape[featureDim];
    if (c !== this.numFeatures) {
      if (this.affine) {
        throw new RangeError(`${this.constructor.name}: expected input's size at dim=${featureDim} to match num_features (${this.numFeatures}), but got: ${c}.`);
      }
      warnOnce(`${this.constructor.name}: input's size at dim=${featureDim} does not match num_features (${this.numFeatures}); you can silence this warning by not passing in num_features, which is not used because affine=False`);
    }
    if (input.ndim === nb) {
      const batched = callT(op('unsqueeze'), [input, 0]);
      const out = this.applyNorm(batched);
      const res = callT(op('squeeze', 'dim'), [out, 0]);
      batched.dispose();
      out.dispose();
      return res;
    }
    return this.applyNorm(input);
  }

  private applyNorm(input: Tensor): Tensor {
    return F.instanceNorm(input, {
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      weight: this.weight,
      bias: this.bias,
      useInputStats: this.training || !this.trackRunningStats,
      momentum: this.momentum as number,
      eps: this.eps,
    });
  }

  /** As PyTorch: running stats in a state dict for a module that tracks none are dropped (with a warning). */
  protected override upgradeStateDict(sd: StateDict, prefix: string): void {
    super.upgradeStateDict(sd, prefix);
    if (this.trackRunningStats) return;
    const dropped = ['running_mean', 'running_var'].filter((k) => sd.delete(prefix + k));
    if (dropped.length > 0) {
      warnOnce(`Unexpected running stats buffer(s) ${dropped.map((k) => `"${prefix}${k}"`).join(' and ')} for ${this.constructor.name} with track_running_stats=False will be ignored`);
    }
  }
}

/** Instance norm over (N, C, L) or (C, L) input (nn.InstanceNorm1d). */
export class InstanceNorm1d extends InstanceNormBase {
  protected readonly noBatchDim = 2;
  constructor(numFeatures: number, options: NormOptions = {}) {
    super(numFeatures, options);
  }
}

/** Instance norm over (N, C, H, W) or (C, H, W) input (nn.InstanceNorm2d). */
export class InstanceNorm2d extends InstanceNormBase {
  protected readonly noBatchDim = 3;
  constructor(numFeatures: number, options: NormOptions = {}) {
    super(numFeatures, options);
  }
}

/** Instance norm over (N, C, D, H, W) or (C, D, H, W) input (nn.InstanceNorm3d). */
export class InstanceNorm3d extends InstanceNormBase {
  protected readonly noBatchDim = 4;
  constructor(numFeatures: number, options: NormOptions = {}) {
    super(numFeatures, options);
  }
}

export interface GroupNormOptions extends FactoryOptions {
  eps?: number;
  affine?: boolean;
}

/** Group normalization: channels split into numGroups groups (nn.GroupNorm). */
export class GroupNorm extends Module {
  declare weight: Parameter | null;
  declare bias: Parameter | null;
  readonly numGroups: number;
  readonly numChannels: number;
  eps: number;
  readonly affine: boolean;

  constructor(numGroups: number, numChannels: number, options: GroupNormOptions = {}) {
    super();
    if (numChannels % numGroups !== 0) throw new RangeError(`GroupNorm: num_channels (${numChannels}) must be divisible by num_groups (${numGroups})`);
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = options.eps ?? 1e-5;
    this.affine = options.affine ?? true;
    this.registerParameter('weight', this.affine ? newParameter([numChannels], 'ones', options) : null);
    this.registerParameter('bias', this.affine ? newParameter([numChannels], 'zeros', options) : null);
  }

  resetParameters(): void {
    if (this.affine) {
      ones_(this.weight as Tensor);
      zeros_(this.bias as Tensor);
    }
  }

  forward(input: Tensor): Tensor {
    return F.groupNorm(input, this.numGroups, { weight: this.weight, bias: this.bias, eps: this.eps });
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${pyRepr(pyFloat(this.eps))}, affine=${pyRepr(this.affine)}`;
  }
}

export interface LayerNormOptions extends FactoryOptions {
  eps?: number;
  /** Learnable weight and bias of normalizedShape (default true). */
  elementwiseAffine?: boolean;
}

/** Layer normalization over the trailing normalizedShape dims (nn.LayerNorm). */
export class LayerNorm extends Module {
  declare weight: Parameter | null;
  declare bias: Parameter | null;
  readonly normalizedShape: number[];
  eps: number;
  readonly elementwiseAffine: boolean;

  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = options.eps ?? 1e-5;
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    this.registerParameter('weight', this.elementwiseAffine ? newParameter(this.normalizedShape, 'ones', options) : null);
    this.registerParameter('bias', this.elementwiseAffine ? newParameter(this.normalizedShape, 'zeros', options) : null);
  }

  resetParameters(): void {
    if (this.elementwiseAffine) {
      ones_(this.weight as Tensor);
      zeros_(this.bias as Tensor);
    }
  }

  forward(input: Tensor): Tensor {
    return F.layerNorm(input, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps });
  }

  override extraRepr(): string {
    return `${pyRepr(this.normalizedShape)}, eps=${pyRepr(pyFloat(this.eps))}, elementwise_affine=${pyRepr(this.elementwiseAffine)}`;
  }
}
