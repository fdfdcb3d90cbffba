// Dropout modules: active in training mode only (train()/eval()).
import type { Tensor } from '../tensor.js';
import * as F from '../functional/index.js';
import { pyFloat, pyRepr } from './format.js';
import { Module } from './module.js';

export interface DropoutLayerOptions {
  p?: number;
  inplace?: boolean;
}

type DropoutFn = (input: Tensor, options: F.DropoutOptions) => Tensor;

/** Shared state of the dropout modules (_DropoutNd). */
export abstract class DropoutNd extends Module {
  readonly p: number;
  readonly inplace: boolean;
  protected abstract readonly fn: DropoutFn;

  constructor(p: number | DropoutLayerOptions = 0.5, inplace = false) {
    super();
    const o = typeof p === 'object' ? p : { p, inplace };
    const prob = o.p ?? 0.5;
    if (!(prob >= 0 && prob <= 1)) throw new RangeError(`${this.constructor.name}: dropout probability has to be between 0 and 1, but got ${prob}`);
    this.p = prob;
    this.inplace = o.inplace ?? false;
  }

  forward(input: Tensor): Tensor {
    return this.fn(input, { p: this.p, training: this.training, inplace: this.inplace });
  }

  override extraRepr(): string {
    return `p=${pyRepr(pyFloat(this.p))}, inplace=${pyRepr(this.inplace)}`;
  }
}

/** Zeroes elements with probability p, scaling the rest by 1/(1−p), in training mode (nn.Dropout). */
export class Dropout extends DropoutNd {
  protected readonly fn: DropoutFn = F.dropout;
}

/** Zeroes whole channels of (N, C, L) input (nn.Dropout1d). */
export class Dropout1d extends DropoutNd {
  protected readonly fn: DropoutFn = F.dropout1d;
}

/** Zeroes whole channels of (N, C, H, W) input (nn.Dropout2d). */
export class Dropout2d extends DropoutNd {
  protected readonly fn: DropoutFn = F.dropout2d;
}

/** Zeroes whole channels of (N, C, D, H, W) input (nn.Dropout3d). */
export class Dropout3d extends DropoutNd {
  protected readonly fn: DropoutFn = F.dropout3d;
}
