// Pooling (F.max_poolNd, F.avg_poolNd, F.adaptive_{avg,max}_poolNd, F.max_unpoolNd).
import { tidy } from '../scope.js';
import { Tensor, callT, callTs, op } from '../tensor.js';
import { type IntOrList, listWithDefault, ntuple } from './utils.js';

export interface MaxPoolOptions {
  /** Defaults to kernelSize. */
  stride?: IntOrList | null;
  padding?: IntOrList;
  dilation?: IntOrList;
  ceilMode?: boolean;
}

export interface AvgPoolOptions {
  /** Defaults to kernelSize. */
  stride?: IntOrList | null;
  padding?: IntOrList;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  /** 2-D and 3-D only: divide by this instead of the window size. */
  divisorOverride?: number | null;
}

/** Output and argmax indices (flattened per spatial plane), as max_pool with return_indices=True returns. */
export interface PoolWithIndices {
  output: Tensor;
  indices: Tensor;
}

/** Output size: an int for every spatial dimension, or a list whose null entries keep the input size. */
export type AdaptiveSize = number | readonly (number | null)[];

function maxPoolArgs(kernelSize: IntOrList, o: MaxPoolOptions): Record<string, IntOrList | boolean> {
  // stride=None means "same as kernel"; ATen spells that as an empty list.
  return { kernel_size: kernelSize, stride: o.stride ?? [], padding: o.padding ?? 0, dilation: o.dilation ?? 1, ceil_mode: o.ceilMode ?? false };
}

/** 1-D max pooling over (N, C, L) or (C, L) input (F.max_pool1d). */
export function maxPool1d(input: Tensor, kernelSize: IntOrList, options: MaxPoolOptions = {}): Tensor {
  return callT(op('max_pool1d'), [input], maxPoolArgs(kernelSize, options));
}

/** 2-D max pooling over (N, C, H, W) or (C, H, W) input (F.max_pool2d). */
export function maxPool2d(input: Tensor, kernelSize: IntOrList, options: MaxPoolOptions = {}): Tensor {
  return callT(op('max_pool2d'), [input], maxPoolArgs(kernelSize, options));
}

/** 3-D max pooling over (N, C, D, H, W) or (C, D, H, W) input (F.max_pool3d). */
export function maxPool3d(input: Tensor, kernelSize: IntOrList, options: MaxPoolOptions = {}): Tensor {
  return callT(op('max_pool3d'), [input], maxPoolArgs(kernelSize, options));
}

function withIndices(r: Tensor[]): PoolWithIndices {
  return { output: r[0], indices: r[1] };
}

/** F.max_pool1d(..., return_indices=True). */
export function maxPool1dWithIndices(input: Tensor, kernelSize: IntOrList, options: MaxPoolOptions = {}): PoolWithIndices {
  return withIndices(callTs(op('max_pool1d_with_indices'), [input], maxPoolArgs(kernelSize, options)));
}

/** F.max_pool2d(..., return_indices=True). */
export function maxPool2dWithIndices(input: Tensor, kernelSize: IntOrList, options: MaxPoolOptions = {}): PoolWithIndices {
  return withIndices(callTs(op('max_pool2d_with_indices'), [input], maxPoolArgs(kernelSize, options)));
}

/** F.max_pool3d(..., return_indices=True). */
export function maxPool3dWithIndices(input: Tensor, kernelSize: IntOrList, options: MaxPoolOptions = {}): PoolWithIndices {
  return withIndices(callTs(op('max_pool3d_with_indices'), [input], maxPoolArgs(kernelSize, options)));
}

function avgPoolArgs(kernelSize: IntOrList, o: AvgPoolOptions): Record<string, IntOrList | boolean> {
  return { kernel_size: kernelSize, stride: o.stride ?? [], padding: o.padding ?? 0, ceil_mode: o.ceilMode ?? false, count_include_pad: o.countIncludePad ?? true };
}

/** 1-D average pooling (F.avg_pool1d); it has no divisorOverride, as in PyTorch. */
export function avgPool1d(input: Tensor, kernelSize: IntOrList, options: Omit<AvgPoolOptions, 'divisorOverride'> = {}): Tensor {
  if ((options as AvgPoolOptions).divisorOverride != null) {
    throw new TypeError('avgPool1d: divisorOverride is not supported for 1-D pooling (use avgPool2d on an unsqueezed input)');
  }
  return callT(op('avg_pool1d'), [input], avgPoolArgs(kernelSize, options));
}

/** 2-D average pooling (F.avg_pool2d). */
export function avgPool2d(input: Tensor, kernelSize: IntOrList, options: AvgPoolOptions = {}): Tensor {
  return callT(op('avg_pool2d'), [input], { ...avgPoolArgs(kernelSize, options), divisor_override: options.divisorOverride ?? null });
}

/** 3-D average pooling (F.avg_pool3d). */
export function avgPool3d(input: Tensor, kernelSize: IntOrList, options: AvgPoolOptions = {}): Tensor {
  return callT(op('avg_pool3d'), [input], { ...avgPoolArgs(kernelSize, options), divisor_override: options.divisorOverride ?? null });
}

/** F.adaptive_avg_pool1d. */
export function adaptiveAvgPool1d(input: Tensor, outputSize: number | readonly [number]): Tensor {
  return callT(op('adaptive_avg_pool1d'), [input, outputSize]);
}

/** F.adaptive_avg_pool2d; null entries of outputSize keep the input size. */
export function adaptiveAvgPool2d(input: Tensor, outputSize: AdaptiveSize): Tensor {
  return callT(op('adaptive_avg_pool2d'), [input, listWithDefault('adaptiveAvgPool2d', outputSize, input.shape)]);
}

/** F.adaptive_avg_pool3d; null entries of outputSize keep the input size. */
export function adaptiveAvgPool3d(input: Tensor, outputSize: AdaptiveSize): Tensor {
  return callT(op('adaptive_avg_pool3d'), [input, listWithDefault('adaptiveAvgPool3d', outputSize, input.shape)]);
}

/** F.adaptive_max_pool1d(..., return_indices=True). */
export function adaptiveMaxPool1dWithIndices(input: Tensor, outputSize: number | readonly [number]): PoolWithIndices {
  return withIndices(callTs(op('adaptive_max_pool1d'), [input, outputSize]));
}

/** F.adaptive_max_pool2d(..., return_indices=True). */
export function adaptiveMaxPool2dWithIndices(input: Tensor, outputSize: AdaptiveSize): PoolWithIndices {
  return withIndices(callTs(op('adaptive_max_pool2d'), [input, listWithDefault('adaptiveMaxPool2d', outputSize, input.shape)]));
}

/** F.adaptive_max_pool3d(..., return_indices=True). */
export function adaptiveMaxPool3dWithIndices(input: Tensor, outputSize: AdaptiveSize): PoolWithIndices {
  return withIndices(callTs(op('adaptive_max_pool3d'), [input, listWithDefault('adaptiveMaxPool3d', outputSize, input.shape)]));
}

function outputOnly(r: PoolWithIndices): Tensor {
  r.indices.dispose();
  return r.output;
}

/** F.adaptive_max_pool1d. */
export function adaptiveMaxPool1d(input: Tensor, outputSize: number | readonly [number]): Tensor {
  return outputOnly(adaptiveMaxPool1dWithIndices(input, outputSize));
}

/** F.adaptive_max_pool2d. */
export function adaptiveMaxPool2d(input: Tensor, outputSize: AdaptiveSize): Tensor {
  return outputOnly(adaptiveMaxPool2dWithIndices(input, outputSize));
}

/** F.adaptive_max_pool3d. */
export function adaptiveMaxPool3d(input: Tensor, outputSize: AdaptiveSize): Tensor {
  return outputOnly(adaptiveMaxPool3dWithIndices(input, outputSize));
}

export interface MaxUnpoolOptions {
  /** Defaults to kernelSize. */
  stride?: IntOrList | null;
  padding?: IntOrList;
  /** The wanted output size (spatial dims, or the full shape); resolves the ambiguity of strided pooling. */
  outputSize?: readonly number[] | null;
}

// torch.nn.functional._unpool_output_size
function unpoolOutputSize(fn: string, input: Tensor, kernel: number[], stride: number[], padding: number[], outputSize: readonly number[] | null | undefined): number[] {
  const shape = input.shape;
  const nd = kernel.length;
  const defaults = kernel.map((k, d) => (shape[shape.length - nd + d] - 1) * stride[d] + k - 2 * padding[d]);
  if (outputSize == null) return defaults;
  let size = [...outputSize];
  if (size.length === nd + 2) size = size.slice(2);
  if (size.length !== nd) {
    throw new RangeError(`${fn}: outputSize must have ${nd} or ${nd + 2} elements; got [${outputSize.join(', ')}]`);
  }
  size.forEach((s, d) => {
    const min = defaults[d] - stride[d];
    const max = defaults[d] + stride[d];
    if (!(s > min && s < max)) {
      throw new RangeError(`${fn}: invalid outputSize [${outputSize.join(', ')}] (dim ${d} must be between ${min} and ${max})`);
    }
  });
  return size;
}

/** Partial inverse of maxPool2d: scatters values to the argmax positions (F.max_unpool2d). */
export function maxUnpool2d(input: Tensor, indices: Tensor, kernelSize: IntOrList, options: MaxUnpoolOptions = {}): Tensor {
  const kernel = ntuple('maxUnpool2d', 'kernelSize', kernelSize, 2);
  const stride = ntuple('maxUnpool2d', 'stride', options.stride ?? kernel, 2);
  const padding = ntuple('maxUnpool2d', 'padding', options.padding ?? 0, 2);
  const size = unpoolOutputSize('maxUnpool2d', input, kernel, stride, padding, options.outputSize);
  return callT(op('max_unpool2d'), [input, indices, size]);
}

/** Partial inverse of maxPool3d (F.max_unpool3d). */
export function maxUnpool3d(input: Tensor, indices: Tensor, kernelSize: IntOrList, options: MaxUnpoolOptions = {}): Tensor {
  const kernel = ntuple('maxUnpool3d', 'kernelSize', kernelSize, 3);
  const stride = ntuple('maxUnpool3d', 'stride', options.stride ?? kernel, 3);
  const padding = ntuple('maxUnpool3d', 'padding', options.padding ?? 0, 3);
  const size = unpoolOutputSize('maxUnpool3d', input, kernel, stride, padding, options.outputSize);
  return callT(op('max_unpool3d'), [input, indices, size, stride, padding]);
}

/** Partial inverse of maxPool1d (F.max_unpool1d), computed as a 2-D unpool over a trailing unit dim like PyTorch. */
export function maxUnpool1d(input: Tensor, indices: Tensor, kernelSize: IntOrList, options: MaxUnpoolOptions = {}): Tensor {
  const kernel = ntuple('maxUnpool1d', 'kernelSize', kernelSize, 1);
  const stride = ntuple('maxUnpool1d', 'stride', options.stride ?? kernel, 1);
  const padding = ntuple('maxUnpool1d', 'padding', options.padding ?? 0, 1);
  const size = unpoolOutputSize('maxUnpool1d', input, kernel, stride, padding, options.outputSize);
  return tidy(() => {
    const x = callT(op('unsqueeze'), [input, -1]);
    const i = callT(op('unsqueeze'), [indices, -1]);
    return callT(op('squeeze', 'dim'), [callT(op('max_unpool2d'), [x, i, [...size, 1]]), -1]);
  });
}
