// Pooling modules: MaxPool1d/2d/3d, AvgPool1d/2d/3d, AdaptiveAvgPool1d/2d/3d,
// AdaptiveMaxPool1d/2d/3d. The stride may follow the kernel size positionally
// (`new MaxPool2d(2, 2)`) or come in the options object.
import type { Tensor } from '../tensor.js';
import * as F from '../functional/index.js';
import { pyRepr } from './format.js';
import { Module } from './module.js';
import { tuple } from './utils.js';

type IntOrList = number | readonly number[];

/** What a pooling module returns: the output, or output and indices with returnIndices. */
export type PoolOutput<R extends boolean> = R extends true ? F.PoolWithIndices : Tensor;

export interface MaxPoolLayerOptions<R extends boolean = false> {
  /** Defaults to kernelSize. */
  stride?: IntOrList | null;
  padding?: IntOrList;
  dilation?: IntOrList;
  /** Also return the argmax indices (for MaxUnpool). */
  returnIndices?: R;
  ceilMode?: boolean;
}

type MaxFn = (input: Tensor, kernelSize: IntOrList, options: F.MaxPoolOptions) => Tensor;
type MaxIdxFn = (input: Tensor, kernelSize: IntOrList, options: F.MaxPoolOptions) => F.PoolWithIndices;

const asList = (v: IntOrList): IntOrList => (typeof v === 'number' ? v : [...v]);

/** Shared max pooling state (_MaxPoolNd); sizes are kept as given, as in PyTorch. */
export abstract class MaxPoolNd<R extends boolean = false> extends Module<[Tensor], PoolOutput<R>> {
  readonly kernelSize: IntOrList;
  readonly stride: IntOrList;
  readonly padding: IntOrList;
  readonly dilation: IntOrList;
  readonly returnIndices: R;
  readonly ceilMode: boolean;
  protected abstract readonly fn: MaxFn;
  protected abstract readonly fnWithIndices: MaxIdxFn;

  protected constructor(kernelSize: IntOrList, strideOrOptions: IntOrList | MaxPoolLayerOptions<R> | undefined) {
    super();
    const o: MaxPoolLayerOptions<R> = typeof strideOrOptions === 'object' && !Array.isArray(strideOrOptions) ? (strideOrOptions as MaxPoolLayerOptions<R>) : { stride: strideOrOptions as IntOrList | undefined };
    this.kernelSize = asList(kernelSize);
    this.stride = asList(o.stride ?? kernelSize);
    this.padding = asList(o.padding ?? 0);
    this.dilation = asList(o.dilation ?? 1);
    this.returnIndices = (o.returnIndices ?? false) as R;
    this.ceilMode = o.ceilMode ?? false;
  }

  forward(input: Tensor): PoolOutput<R> {
    const o = { stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode };
    return (this.returnIndices ? this.fnWithIndices(input, this.kernelSize, o) : this.fn(input, this.kernelSize, o)) as PoolOutput<R>;
  }

  override extraRepr(): string {
    return `kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.stride)}, padding=${pyRepr(this.padding)}, dilation=${pyRepr(this.dilation)}, ceil_mode=${pyRepr(this.ceilMode)}`;
  }
}

/** 1-D max pooling (nn.MaxPool1d). */
export class MaxPool1d<R extends boolean = false> extends MaxPoolNd<R> {
  protected readonly fn: MaxFn = F.maxPool1d;
  protected readonly fnWithIndices: MaxIdxFn = F.maxPool1dWithIndices;
  constructor(kernelSize: IntOrList, strideOrOptions?: IntOrList | MaxPoolLayerOptions<R>) {
    super(kernelSize, strideOrOptions);
  }
}

/** 2-D max pooling (nn.MaxPool2d). */
export class MaxPool2d<R extends boolean = false> extends MaxPoolNd<R> {
  protected readonly fn: MaxFn = F.maxPool2d;
  protected readonly fnWithIndices: MaxIdxFn = F.maxPool2dWithIndices;
  constructor(kernelSize: IntOrList, strideOrOptions?: IntOrList | MaxPoolLayerOptions<R>) {
    super(kernelSize, strideOrOptions);
  }
}

/** 3-D max pooling (nn.MaxPool3d). */
export class MaxPool3d<R extends boolean = false> extends MaxPoolNd<R> {
  protected readonly fn: MaxFn = F.maxPool3d;
  protected readonly fnWithIndices: MaxIdxFn = F.maxPool3dWithIndices;
  constructor(kernelSize: IntOrList, strideOrOptions?: IntOrList | MaxPoolLayerOptions<R>) {
    super(kernelSize, strideOrOptions);
  }
}

export interface AvgPoolLayerOptions {
  /** Defaults to kernelSize. */
  stride?: IntOrList | null;
  padding?: IntOrList;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  /** 2-D and 3-D only. */
  divisorOverride?: number | null;
}

function avgOptions(strideOrOptions: IntOrList | AvgPoolLayerOptions | undefined): AvgPoolLayerOptions {
  return typeof strideOrOptions === 'object' && !Array.isArray(strideOrOptions) ? (strideOrOptions as AvgPoolLayerOptions) : { stride: strideOrOptions as IntOrList | undefined };
}

/** 1-D average pooling (nn.AvgPool1d); sizes become 1-tuples, as in PyTorch. */
export class AvgPool1d extends Module {
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[];
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;

  constructor(kernelSize: IntOrList, strideOrOptions?: IntOrList | Omit<AvgPoolLayerOptions, 'divisorOverride'>) {
    super();
    const o = avgOptions(strideOrOptions);
    if (o.divisorOverride != null) throw new TypeError('AvgPool1d: divisorOverride is not supported for 1-D pooling');
    this.kernelSize = tuple('AvgPool1d', 'kernelSize', kernelSize, 1);
    this.stride = tuple('AvgPool1d', 'stride', o.stride ?? kernelSize, 1);
    this.padding = tuple('AvgPool1d', 'padding', o.padding ?? 0, 1);
    this.ceilMode = o.ceilMode ?? false;
    this.countIncludePad = o.countIncludePad ?? true;
  }

  forward(input: Tensor): Tensor {
    return F.avgPool1d(input, this.kernelSize, { stride: this.stride, padding: this.padding, ceilMode: this.ceilMode, countIncludePad: this.countIncludePad });
  }

  override extraRepr(): string {
    return `kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.stride)}, padding=${pyRepr(this.padding)}`;
  }
}

type AvgFn = (input: Tensor, kernelSize: IntOrList, options: F.AvgPoolOptions) => Tensor;

/** Shared 2-D / 3-D average pooling; sizes are kept as given, as in PyTorch. */
abstract class AvgPoolNd extends Module {
  readonly kernelSize: IntOrList;
  readonly stride: IntOrList;
  readonly padding: IntOrList;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;
  protected abstract readonly fn: AvgFn;

  protected constructor(kernelSize: IntOrList, strideOrOptions: IntOrList | AvgPoolLayerOptions | undefined) {
    super();
    const o = avgOptions(strideOrOptions);
    this.kernelSize = asList(kernelSize);
    this.stride = asList(o.stride ?? kernelSize);
    this.padding = asList(o.padding ?? 0);
    this.ceilMode = o.ceilMode ?? false;
    this.countIncludePad = o.countIncludePad ?? true;
    this.divisorOverride = o.divisorOverride ?? null;
  }

  forward(input: Tensor): Tensor {
    return this.fn(input, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
      divisorOverride: this.divisorOverride,
    });
  }

  override extraRepr(): string {
    return `kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.stride)}, padding=${pyRepr(this.padding)}`;
  }
}

/** 2-D average pooling (nn.AvgPool2d). */
export class AvgPool2d extends AvgPoolNd {
  protected readonly fn: AvgFn = F.avgPool2d;
  constructor(kernelSize: IntOrList, strideOrOptions?: IntOrList | AvgPoolLayerOptions) {
    super(kernelSize, strideOrOptions);
  }
}

/** 3-D average pooling (nn.AvgPool3d). */
export class AvgPool3d extends AvgPoolNd {
  protected readonly fn: AvgFn = F.avgPool3d;
  constructor(kernelSize: IntOrList, strideOrOptions?: IntOrList | AvgPoolLayerOptions) {
    super(kernelSize, strideOrOptions);
  }
}

/** Output size of adaptive pooling: an int, or one per dim with null keeping the input size. */
export type AdaptiveOutputSize = number | readonly (number | null)[];

type AdaptiveFn = (input: Tensor, outputSize: AdaptiveOutputSize) => Tensor;
type AdaptiveIdxFn = (input: Tensor, outputSize: AdaptiveOutputSize) => F.PoolWithIndices;

abstract class AdaptiveAvgPoolNd extends Module {
  readonly outputSize: AdaptiveOutputSize;
  protected abstract readonly fn: AdaptiveFn;
  constructor(outputSize: AdaptiveOutputSize) {
    super();
    this.outputSize = typeof outputSize === 'number' ? outputSize : [...outputSize];
  }
  forward(input: Tensor): Tensor {
    return this.fn(input, this.outputSize);
  }
  override extraRepr(): string {
    return `output_size=${pyRepr(this.outputSize)}`;
  }
}

/** Adaptive average pooling to a fixed length (nn.AdaptiveAvgPool1d). */
export class AdaptiveAvgPool1d extends AdaptiveAvgPoolNd {
  protected readonly fn = F.adaptiveAvgPool1d as AdaptiveFn;
}

/** Adaptive average pooling to a fixed (H, W) (nn.AdaptiveAvgPool2d). */
export class AdaptiveAvgPool2d extends AdaptiveAvgPoolNd {
  protected readonly fn: AdaptiveFn = F.adaptiveAvgPool2d;
}

/** Adaptive average pooling to a fixed (D, H, W) (nn.AdaptiveAvgPool3d). */
export class AdaptiveAvgPool3d extends AdaptiveAvgPoolNd {
  protected readonly fn: AdaptiveFn = F.adaptiveAvgPool3d;
}

abstract class AdaptiveMaxPoolNd<R extends boolean> extends Module<[Tensor], PoolOutput<R>> {
  readonly outputSize: AdaptiveOutputSize;
  readonly returnIndices: R;
  protected abstract readonly fnWithIndices: AdaptiveIdxFn;
  constructor(outputSize: AdaptiveOutputSize, returnIndices?: R) {
    super();
    this.outputSize = typeof outputSize === 'number' ? outputSize : [...outputSize];
    this.returnIndices = (returnIndices ?? false) as R;
  }
  forward(input: Tensor): PoolOutput<R> {
    const r = this.fnWithIndices(input, this.outputSize);
    if (this.returnIndices) return r as PoolOutput<R>;
    r.indices.dispose();
    return r.output as PoolOutput<R>;
  }
  override extraRepr(): string {
    return `output_size=${pyRepr(this.outputSize)}`;
  }
}

/** Adaptive max pooling to a fixed length (nn.AdaptiveMaxPool1d). */
export class AdaptiveMaxPool1d<R extends boolean = false> extends AdaptiveMaxPoolNd<R> {
  protected readonly fnWithIndices = F.adaptiveMaxPool1dWithIndices as AdaptiveIdxFn;
}

/** Adaptive max pooling to a fixed (H, W) (nn.AdaptiveMaxPool2d). */
export class AdaptiveMaxPool2d<R extends boolean = false> extends AdaptiveMaxPoolNd<R> {
  protected readonly fnWithIndices: AdaptiveIdxFn = F.adaptiveMaxPool2dWithIndices;
}

/** Adaptive max pooling to a fixed (D, H, W) (nn.AdaptiveMaxPool3d). */
export class AdaptiveMaxPool3d<R extends boolean = false> extends AdaptiveMaxPoolNd<R> {
  protected readonly fnWithIndices: AdaptiveIdxFn = F.adaptiveMaxPool3dWithIndices;
}
