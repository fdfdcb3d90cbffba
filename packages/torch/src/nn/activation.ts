// Activation modules: thin wrappers over the functional activations, with
// PyTorch's hyperparameter defaults and reprs.
import { Tensor, callT, op } from '../tensor.js';
import * as F from '../functional/index.js';
import { warnOnce } from '../functional/utils.js';
import { pyFloat, pyRepr } from './format.js';
import { Module, type Parameter } from './module.js';
import { type FactoryOptions, newParameter } from './utils.js';
import { constant_ } from './init.js';

const inplaceRepr = (inplace: boolean, lead: string): string => (inplace ? `${lead}inplace=True` : '');

/** max(0, x) (nn.ReLU). */
export class ReLU extends Module {
  constructor(readonly inplace = false) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.relu(input, this.inplace);
  }
  override extraRepr(): string {
    return inplaceRepr(this.inplace, '');
  }
}

/** min(max(0, x), 6) (nn.ReLU6). */
export class ReLU6 extends Module {
  constructor(readonly inplace = false) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.relu6(input, this.inplace);
  }
  override extraRepr(): string {
    return inplaceRepr(this.inplace, '');
  }
}

export interface LeakyReLUOptions {
  negativeSlope?: number;
  inplace?: boolean;
}

/** x for x ≥ 0, negativeSlope·x otherwise (nn.LeakyReLU, slope 0.01 by default). */
export class LeakyReLU extends Module {
  readonly negativeSlope: number;
  readonly inplace: boolean;
  constructor(negativeSlope: number | LeakyReLUOptions = 0.01, inplace = false) {
    super();
    const o = typeof negativeSlope === 'object' ? negativeSlope : { negativeSlope, inplace };
    this.negativeSlope = o.negativeSlope ?? 0.01;
    this.inplace = o.inplace ?? false;
  }
  forward(input: Tensor): Tensor {
    return F.leakyRelu(input, this.negativeSlope, this.inplace);
  }
  override extraRepr(): string {
    return `negative_slope=${pyRepr(this.negativeSlope)}${inplaceRepr(this.inplace, ', ')}`;
  }
}

/** Learnable leaky slope, one or one per channel (nn.PReLU, initialised to 0.25). */
export class PReLU extends Module {
  declare weight: Parameter;
  /** num_parameters in PyTorch (numParameters() is the Module method). */
  readonly numParams: number;
  readonly init: number;
  constructor(numParameters = 1, init = 0.25, options: FactoryOptions = {}) {
    super();
    this.numParams = numParameters;
    this.init = init;
    this.registerParameter('weight', newParameter([numParameters], 'empty', options));
    this.resetParameters();
  }
  resetParameters(): void {
    constant_(this.weight, this.init);
  }
  forward(input: Tensor): Tensor {
    return callT(op('prelu'), [input, this.weight]);
  }
  override extraRepr(): string {
    return `num_parameters=${this.numParams}`;
  }
}

/** 1 / (1 + e^(−x)) (nn.Sigmoid). */
export class Sigmoid extends Module {
  forward(input: Tensor): Tensor {
    return F.sigmoid(input);
  }
}

/** tanh(x) (nn.Tanh). */
export class Tanh extends Module {
  forward(input: Tensor): Tensor {
    return F.tanh(input);
  }
}

/** Gaussian error linear unit (nn.GELU); approximate 'tanh' for the tanh formula. */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';
  constructor(approximate: 'none' | 'tanh' | { approximate?: 'none' | 'tanh' } = 'none') {
    super();
    this.approximate = typeof approximate === 'object' ? approximate.approximate ?? 'none' : approximate;
  }
  forward(input: Tensor): Tensor {
    return F.gelu(input, this.approximate);
  }
  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

export interface SoftplusOptions {
  beta?: number;
  threshold?: number;
}

/** log(1 + e^(βx)) / β, linear above threshold (nn.Softplus). */
export class Softplus extends Module {
  readonly beta: number;
  readonly threshold: number;
  constructor(beta: number | SoftplusOptions = 1, threshold = 20) {
    super();
    const o = typeof beta === 'object' ? beta : { beta, threshold };
    this.beta = o.beta ?? 1;
    this.threshold = o.threshold ?? 20;
  }
  forward(input: Tensor): Tensor {
    return F.softplus(input, this.beta, this.threshold);
  }
  override extraRepr(): string {
    return `beta=${pyRepr(this.beta)}, threshold=${pyRepr(this.threshold)}`;
  }
}

export interface ELUOptions {
  alpha?: number;
  inplace?: boolean;
}

/** x for x > 0, α(eˣ − 1) otherwise (nn.ELU). */
export class ELU extends Module {
  readonly alpha: number;
  readonly inplace: boolean;
  constructor(alpha: number | ELUOptions = 1.0, inplace = false) {
    super();
    const o = typeof alpha === 'object' ? alpha : { alpha, inplace };
    this.alpha = o.alpha ?? 1.0;
    this.inplace = o.inplace ?? false;
  }
  forward(input: Tensor): Tensor {
    return F.elu(input, this.alpha, this.inplace);
  }
  override extraRepr(): string {
    return `alpha=${pyRepr(pyFloat(this.alpha))}${inplaceRepr(this.inplace, ', ')}`;
  }
}

/** Scaled ELU (nn.SELU). */
export class SELU extends Module {
  constructor(readonly inplace = false) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.selu(input, this.inplace);
  }
  override extraRepr(): string {
    return inplaceRepr(this.inplace, '');
  }
}

/** x·σ(x) (nn.SiLU, also called swish). */
export class SiLU extends Module {
  constructor(readonly inplace = false) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.silu(input, this.inplace);
  }
  override extraRepr(): string {
    return inplaceRepr(this.inplace, '');
  }
}

/** x·tanh(softplus(x)) (nn.Mish). */
export class Mish extends Module {
  constructor(readonly inplace = false) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.mish(input, this.inplace);
  }
  override extraRepr(): string {
    return inplaceRepr(this.inplace, '');
  }
}

/** PyTorch's implicit softmax dim when none is given (_get_softmax_dim), with its deprecation warning. */
function implicitDim(name: string, ndim: number): number {
  warnOnce(`Implicit dimension choice for ${name} has been deprecated. Change the call to include dim=X as an argument.`);
  return ndim === 0 || ndim === 1 || ndim === 3 ? 0 : 1;
}

/** Softmax along dim (nn.Softmax). */
export class Softmax extends Module {
  constructor(readonly dim: number | null = null) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.softmax(input, this.dim ?? implicitDim('softmax', input.ndim));
  }
  override extraRepr(): string {
    return `dim=${pyRepr(this.dim)}`;
  }
}

/** Log-softmax along dim (nn.LogSoftmax). */
export class LogSoftmax extends Module {
  constructor(readonly dim: number | null = null) {
    super();
  }
  forward(input: Tensor): Tensor {
    return F.logSoftmax(input, this.dim ?? implicitDim('log_softmax', input.ndim));
  }
  override extraRepr(): string {
    return `dim=${pyRepr(this.dim)}`;
  }
}
