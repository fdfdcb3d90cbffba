// Normalization layers as functions (F.batch_norm, instance_norm,
// layer_norm, group_norm, local_response_norm). Running statistics are
// updated in place by ATen in training mode, exactly as in PyTorch.
import { tidy } from '../scope.js';
import { Tensor, callT, op } from '../tensor.js';
import { shapeStr } from './utils.js';

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Use batch statistics (and update the running ones) instead of the running ones. */
  training?: boolean;
  momentum?: number;
  eps?: number;
}

export interface InstanceNormOptions {
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  weight?: Tensor | null;
  bias?: Tensor | null;
  useInputStats?: boolean;
  momentum?: number;
  eps?: number;
}

export interface LayerNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  eps?: number;
}

export type GroupNormOptions = LayerNormOptions;

// cudnn is used where libtorch has it, as torch.backends.cudnn.enabled defaults to True.
const CUDNN = true;

// _verify_batch_size: batch statistics need more than one value per channel.
function verifyBatchSize(fn: string, size: readonly number[]): void {
  let prod = size[0];
  for (let i = 2; i < size.length; i++) prod *= size[i];
  if (prod === 1) throw new RangeError(`${fn}: expected more than 1 value per channel when training, got input size [${size.join(', ')}]`);
}

/**
 * Batch normalization (F.batch_norm). In training mode the batch statistics
 * normalize the input and runningMean / runningVar (when given) are updated
 * in place with `momentum`; otherwise the running statistics are used.
 */
export function batchNorm(input: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, options: BatchNormOptions = {}): Tensor {
  const training = options.training ?? false;
  if (training) verifyBatchSize('batchNorm', input.shape);
  else if (runningMean === null || runningVar === null) {
    throw new TypeError('batchNorm: runningMean and runningVar must be tensors when training is false');
  }
  return callT(op('batch_norm'), [
    input,
    options.weight ?? null,
    options.bias ?? null,
    runningMean,
    runningVar,
    training,
    options.momentum ?? 0.1,
    options.eps ?? 1e-5,
    CUDNN,
  ]);
}

/** Instance normalization per sample and channel (F.instance_norm). */
export function instanceNorm(input: Tensor, options: InstanceNormOptions = {}): Tensor {
  const useInputStats = options.useInputStats ?? true;
  if (useInputStats) {
    const spatial = input.shape.slice(2).reduce((a, b) => a * b, 1);
    if (spatial === 1) throw new RangeError(`instanceNorm: expected more than 1 spatial element when training, got input size ${shapeStr(input)}`);
  }
  return callT(op('instance_norm'), [
    input,
    options.weight ?? null,
    options.bias ?? null,
    options.runningMean ?? null,
    options.runningVar ?? null,
    useInputStats,
    options.momentum ?? 0.1,
    options.eps ?? 1e-5,
    CUDNN,
  ]);
}

/** Layer normalization over the trailing `normalizedShape` dims (F.layer_norm). */
export function layerNorm(input: Tensor, normalizedShape: number | readonly number[], options: LayerNormOptions = {}): Tensor {
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
  return callT(op('layer_norm'), [input, shape, options.weight ?? null, options.bias ?? null, options.eps ?? 1e-5, CUDNN]);
}

/** Group normalization: channels split into numGroups groups (F.group_norm). */
export function groupNorm(input: Tensor, numGroups: number, options: GroupNormOptions = {}): Tensor {
  const s = input.shape;
  if (s.length < 2) throw new RangeError(`groupNorm: expected input with at least 2 dims (N, C, ...), got ${shapeStr(input)}`);
  if (!Number.isInteger(numGroups) || numGroups < 1) throw new RangeError(`groupNorm: numGroups must be a positive integer, got ${numGroups}`);
  verifyBatchSize('groupNorm', [Math.floor((s[0] * s[1]) / numGroups), numGroups, ...s.slice(2)]);
  return callT(op('group_norm'), [input, numGroups, options.weight ?? null, options.bias ?? null, options.eps ?? 1e-5, CUDNN]);
}

export interface LocalResponseNormOptions {
  alpha?: number;
  beta?: number;
  k?: number;
}

/**
 * Local response normalization across channels (F.local_response_norm):
 * x / (k + alpha / size * sum of x^2 over `size` neighbouring channels)^beta.
 */
export function localResponseNorm(input: Tensor, size: number, options: LocalResponseNormOptions = {}): Tensor {
  const alpha = options.alpha ?? 1e-4;
  const beta = options.beta ?? 0.75;
  const k = options.k ?? 1.0;
  const dim = input.ndim;
  if (dim < 3) throw new RangeError(`localResponseNorm: expected 3D or higher dimensionality input (got ${dim} dimensions)`);
  if (input.numel() === 0) return input;
  const before = Math.floor(size / 2);
  const after = Math.floor((size - 1) / 2);
  return tidy(() => {
    const sq = callT(op('unsqueeze'), [callT(op('mul', 'Tensor'), [input, input]), 1]);
    let div: Tensor;
    if (dim === 3) {
      const padded = callT(op('constant_pad_nd'), [sq, [0, 0, before, after], 0]);
      div = callT(op('squeeze', 'dim'), [callT(op('avg_pool2d'), [padded, [size, 1], 1]), 1]);
    } else {
      const s = input.shape;
      const v = callT(op('view'), [sq, [s[0], 1, s[1], s[2], -1]]);
      const padded = callT(op('constant_pad_nd'), [v, [0, 0, 0, 0, before, after], 0]);
      const pooled = callT(op('squeeze', 'dim'), [callT(op('avg_pool3d'), [padded, [size, 1, 1], 1]), 1]);
      div = callT(op('view'), [pooled, s]);
    }
    const scaled = callT(op('add', 'Tensor'), [callT(op('mul', 'Tensor'), [div, alpha]), k]);
    return callT(op('div', 'Tensor'), [input, callT(op('pow', 'Tensor_Scalar'), [scaled, { float: beta }])]);
  });
}
