// Linear, Identity, Flatten, Unflatten.
import { Tensor, callT, op } from '../tensor.js';
import * as F from '../functional/index.js';
import { pyRepr } from './format.js';
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from './init.js';
import { Module, type Parameter } from './module.js';
import { type FactoryOptions, newParameter } from './utils.js';

/** Returns its input (nn.Identity); stands in where a layer is optional. */
export class Identity extends Module {
  forward(input: Tensor): Tensor {
    return input;
  }
}

export interface LinearOptions extends FactoryOptions {
  bias?: boolean;
}

/**
 * y = x Wᵀ + b (nn.Linear). weight is (outFeatures, inFeatures), initialised
 * like PyTorch: kaiming_uniform_(a=√5), bias U(±1/√inFeatures).
 */
export class Linear extends Module {
  declare weight: Parameter;
  declare bias: Parameter | null;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.registerParameter('weight', newParameter([outFeatures, inFeatures], 'empty', options));
    this.registerParameter('bias', options.bias ?? true ? newParameter([outFeatures], 'empty', options) : null);
    this.resetParameters();
  }

  resetParameters(): void {
    kaimingUniform_(this.weight, Math.sqrt(5));
    if (this.bias !== null) {
      const [fanIn] = calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(this.bias, -bound, bound);
    }
  }

  forward(input: Tensor): Tensor {
    return F.linear(input, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyRepr(this.bias !== null)}`;
  }
}

/** Flattens dims startDim..endDim into one (nn.Flatten; defaults keep the batch dim). */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }

  forward(input: Tensor): Tensor {
    return callT(op('flatten', 'using_ints'), [input, this.startDim, this.endDim]);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

/** Expands one dim into `unflattenedSize` (nn.Unflatten). */
export class Unflatten extends Module {
  readonly unflattenedSize: readonly number[];

  constructor(readonly dim: number, unflattenedSize: readonly number[]) {
    super();
    this.unflattenedSize = [...unflattenedSize];
  }

  forward(input: Tensor): Tensor {
    return callT(op('unflatten', 'int'), [input, this.dim, this.unflattenedSize]);
  }

  override extraRepr(): string {
    return `dim=${this.dim}, unflattened_size=${pyRepr(this.unflattenedSize)}`;
  }
}
