// Convolutions: Conv1d/2d/3d and ConvTranspose1d/2d/3d, with PyTorch's
// weight layout, padding modes and reset_parameters.
import type { Tensor } from '../tensor.js';
import * as F from '../functional/index.js';
import { pyRepr } from './format.js';
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from './init.js';
import { Module, type Parameter } from './module.js';
import { type FactoryOptions, newParameter, tuple } from './utils.js';

export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

export interface ConvLayerOptions extends FactoryOptions {
  stride?: number | readonly number[];
  /** Zero padding per side, or 'same' / 'valid'. */
  padding?: number | readonly number[] | 'same' | 'valid';
  dilation?: number | readonly number[];
  groups?: number;
  bias?: boolean;
  paddingMode?: PaddingMode;
}

export interface ConvTransposeLayerOptions extends FactoryOptions {
  stride?: number | readonly number[];
  padding?: number | readonly number[];
  outputPadding?: number | readonly number[];
  groups?: number;
  bias?: boolean;
  dilation?: number | readonly number[];
  paddingMode?: 'zeros';
}

interface ConvConfig {
  stride?: number | readonly number[];
  padding?: number | readonly number[] | 'same' | 'valid';
  dilation?: number | readonly number[];
  outputPadding?: number | readonly number[];
  groups?: number;
  bias?: boolean;
  paddingMode?: PaddingMode;
}

/** Shared state and initialisation of the convolutions (_ConvNd). */
export abstract class ConvNd extends Module<[Tensor], Tensor> {
  declare weight: Parameter;
  declare bias: Parameter | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[] | 'same' | 'valid';
  readonly dilation: number[];
  readonly transposed: boolean;
  readonly outputPadding: number[];
  readonly groups: number;
  readonly paddingMode: PaddingMode;
  /** F.pad's argument for non-zero padding modes: per dim (last first), before and after. */
  protected readonly reversedPaddingRepeatedTwice: number[];

  protected constructor(nd: number, transposed: boolean, inChannels: number, outChannels: number, kernelSize: number | readonly number[], o: ConvConfig, f: FactoryOptions) {
    super();
    const name = this.constructor.name;
    const groups = o.groups ?? 1;
    if (!Number.isInteger(groups) || groups <= 0) throw new RangeError(`${name}: groups must be a positive integer, got ${groups}`);
    if (inChannels % groups !== 0) throw new RangeError(`${name}: in_channels (${inChannels}) must be divisible by groups (${groups})`);
    if (outChannels % groups !== 0) throw new RangeError(`${name}: out_channels (${outChannels}) must be divisible by groups (${groups})`);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = tuple(name, 'kernelSize', kernelSize, nd);
    this.stride = tuple(name, 'stride', o.stride ?? 1, nd);
    this.dilation = tuple(name, 'dilation', o.dilation ?? 1, nd);
    this.outputPadding = tuple(name, 'outputPadding', o.outputPadding ?? 0, nd);
    this.transposed = transposed;
    this.groups = groups;
    const paddingMode = o.paddingMode ?? 'zeros';
    if (!['zeros', 'reflect', 'replicate', 'circular'].includes(paddingMode)) {
      throw new RangeError(`${name}: paddingMode must be one of 'zeros', 'reflect', 'replicate', 'circular', got '${paddingMode}'`);
    }
    this.paddingMode = paddingMode;
    const padding = o.padding ?? 0;
    if (typeof padding === 'string') {
      if (padding !== 'same' && padding !== 'valid') throw new RangeError(`${name}: invalid padding string '${padding}', should be one of 'same', 'valid'`);
      if (padding === 'same' && this.stride.some((s) => s !== 1)) throw new RangeError(`${name}: padding='same' is not supported for strided convolutions`);
      this.padding = padding;
      this.reversedPaddingRepeatedTwice = new Array<number>(2 * nd).fill(0);
      if (padding === 'same') {
        for (let d = 0; d < nd; d++) {
          const total = this.dilation[d] * (this.kernelSize[d] - 1);
          const left = Math.floor(total / 2);
          const i = nd - 1 - d;
          this.reversedPaddingRepeatedTwice[2 * i] = left;
          this.reversedPaddingRepeatedTwice[2 * i + 1] = total - left;
        }
      }
    } else {
      this.padding = tuple(name, 'padding', padding, nd);
      this.reversedPaddingRepeatedTwice = [...this.padding].reverse().flatMap((p) => [p, p]);
    }
    const wShape = transposed ? [inChannels, outChannels / groups, ...this.kernelSize] : [outChannels, inChannels / groups, ...this.kernelSize];
    this.registerParameter('weight', newParameter(wShape, 'empty', f));
    this.registerParameter('bias', o.bias ?? true ? newParameter([outChannels], 'empty', f) : null);
    this.resetParameters();
  }

  /** kaiming_uniform_(a=√5) for the weight and U(±1/√fan_in) for the bias, as PyTorch. */
  resetParameters(): void {
    kaimingUniform_(this.weight, Math.sqrt(5));
    if (this.bias !== null) {
      const [fanIn] = calculateFanInAndFanOut(this.weight);
      if (fanIn !== 0) {
        const bound = 1 / Math.sqrt(fanIn);
        uniform_(this.bias, -bound, bound);
      }
    }
  }

  override extraRepr(): string {
    const allEq = (a: number[], v: number): boolean => a.every((x) => x === v);
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.stride)}`;
    if (typeof this.padding === 'string' || !allEq(this.padding, 0)) s += `, padding=${pyRepr(this.padding)}`;
    if (!allEq(this.dilation, 1)) s += `, dilation=${pyRepr(this.dilation)}`;
    if (!allEq(this.outputPadding, 0)) s += `, output_padding=${pyRepr(this.outputPadding)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ', bias=False';
    if (this.paddingMode !== 'zeros') s += `, padding_mode=${this.paddingMode}`;
    return s;
  }
}

type ConvFn = (input: Tensor, weight: Tensor, bias: Tensor | null, options: F.ConvOptions) => Tensor;

abstract class Conv extends ConvNd {
  protected abstract readonly fn: ConvFn;

  protected constructor(nd: number, inChannels: number, outChannels: number, kernelSize: number | readonly number[], options: ConvLayerOptions) {
    super(nd, false, inChannels, outChannels, kernelSize, options, options);
  }

  forward(input: Tensor): Tensor {
    const common = { stride: this.stride, dilation: this.dilation, groups: this.groups };
    if (this.paddingMode !== 'zeros') {
      const padded = F.pad(input, this.reversedPaddingRepeatedTwice, { mode: this.paddingMode });
      const out = this.fn(padded, this.weight, this.bias, { ...common, padding: 0 });
      padded.dispose();
      return out;
    }
    return this.fn(input, this.weight, this.bias, { ...common, padding: this.padding });
  }
}

/** 1-D convolution over (N, C_in, L) (nn.Conv1d); weight (out, in/groups, k). */
export class Conv1d extends Conv {
  protected readonly fn: ConvFn = F.conv1d;
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], options: ConvLayerOptions = {}) {
    super(1, inChannels, outChannels, kernelSize, options);
  }
}

/** 2-D convolution over (N, C_in, H, W) (nn.Conv2d); weight (out, in/groups, kH, kW). */
export class Conv2d extends Conv {
  protected readonly fn: ConvFn = F.conv2d;
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], options: ConvLayerOptions = {}) {
    super(2, inChannels, outChannels, kernelSize, options);
  }
}

/** 3-D convolution over (N, C_in, D, H, W) (nn.Conv3d); weight (out, in/groups, kD, kH, kW). */
export class Conv3d extends Conv {
  protected readonly fn: ConvFn = F.conv3d;
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], options: ConvLayerOptions = {}) {
    super(3, inChannels, outChannels, kernelSize, options);
  }
}

type ConvTransposeFn = (input: Tensor, weight: Tensor, bias: Tensor | null, options: F.ConvTransposeOptions) => Tensor;

abstract class ConvTranspose extends ConvNd {
  protected abstract readonly fn: ConvTransposeFn;
  private readonly nd: number;

  protected constructor(nd: number, inChannels: number, outChannels: number, kernelSize: number | readonly number[], options: ConvTransposeLayerOptions) {
    if ((options.paddingMode ?? 'zeros') !== 'zeros') {
      throw new RangeError(`ConvTranspose${nd}d: only "zeros" padding mode is supported, got '${options.paddingMode}'`);
    }
    super(nd, true, inChannels, outChannels, kernelSize, options, options);
    this.nd = nd;
  }

  /**
   * The output padding that makes the output `outputSize` (spatial dims, or
   * with the batch and channel dims), as ConvTranspose's forward(input, output_size).
   */
  protected outputPaddingFor(input: Tensor, outputSize: readonly number[] | undefined): number[] {
    if (outputSize === undefined) return this.outputPadding;
    const nd = this.nd;
    const nonSpatial = input.ndim === nd + 2 ? 2 : 1;
    const size = outputSize.length === nonSpatial + nd ? outputSize.slice(nonSpatial) : [...outputSize];
    if (size.length !== nd) {
      throw new RangeError(`ConvTranspose${nd}D: for ${input.ndim}D input, outputSize must have ${nd} or ${nonSpatial + nd} elements (got ${outputSize.length})`);
    }
    const padding = this.padding as number[];
    const minSizes = size.map((_, d) => (input.shape[d + nonSpatial] - 1) * this.stride[d] - 2 * padding[d] + this.dilation[d] * (this.kernelSize[d] - 1) + 1);
    const maxSizes = minSizes.map((m, d) => m + this.stride[d] - 1);
    size.forEach((s, i) => {
      if (s < minSizes[i] || s > maxSizes[i]) {
        throw new RangeError(
          `ConvTranspose${nd}d: requested an output size of [${size.join(', ')}], but valid sizes range from [${minSizes.join(', ')}] to [${maxSizes.join(', ')}] (for an input of [${input.shape.slice(nonSpatial).join(', ')}])`,
        );
      }
    });
    return size.map((s, d) => s - minSizes[d]);
  }

  /** Applies the transposed convolution; outputSize picks the output padding, as in PyTorch. */
  forward(input: Tensor, outputSize?: readonly number[]): Tensor {
    const outputPadding = this.outputPaddingFor(input, outputSize);
    return this.fn(input, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding as number[],
      outputPadding,
      groups: this.groups,
      dilation: this.dilation,
    });
  }
}

/** 1-D transposed convolution (nn.ConvTranspose1d); weight (in, out/groups, k). */
export class ConvTranspose1d extends ConvTranspose {
  protected readonly fn: ConvTransposeFn = F.convTranspose1d;
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], options: ConvTransposeLayerOptions = {}) {
    super(1, inChannels, outChannels, kernelSize, options);
  }
}

/** 2-D transposed convolution (nn.ConvTranspose2d); weight (in, out/groups, kH, kW). */
export class ConvTranspose2d extends ConvTranspose {
  protected readonly fn: ConvTransposeFn = F.convTranspose2d;
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], options: ConvTransposeLayerOptions = {}) {
    super(2, inChannels, outChannels, kernelSize, options);
  }
}

/** 3-D transposed convolution (nn.ConvTranspose3d); weight (in, out/groups, kD, kH, kW). */
export class ConvTranspose3d extends ConvTranspose {
  protected readonly fn: ConvTransposeFn = F.convTranspose3d;
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], options: ConvTransposeLayerOptions = {}) {
    super(3, inChannels, outChannels, kernelSize, options);
  }
}
