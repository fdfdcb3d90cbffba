// Linear maps, softmax family, one_hot, distances, unfold / fold,
// pixel shuffle and embedding (torch.nn.functional).
import { noGrad } from '../autograd.js';
import type { DType } from '../dtype.js';
import { tidy } from '../scope.js';
import { Tensor, callT, op } from '../tensor.js';
import type { IntOrList } from './utils.js';

/** y = x W^T + b (F.linear). weight is (out_features, in_features). */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return callT(op('linear'), [input, weight, bias ?? null]);
}

/** y = x1^T A x2 + b (F.bilinear). weight is (out, in1, in2). */
export function bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return callT(op('bilinear'), [input1, input2, weight, bias ?? null]);
}

export interface SoftmaxOptions {
  /** Cast the input to this dtype before the operation (e.g. to avoid float16 overflow). */
  dtype?: DType | null;
}

/** Softmax along dim (F.softmax). */
export function softmax(input: Tensor, dim: number, options: SoftmaxOptions = {}): Tensor {
  return callT(op('softmax', 'int'), [input, dim, options.dtype ?? null]);
}

/** Log of softmax along dim, computed stably (F.log_softmax). */
export function logSoftmax(input: Tensor, dim: number, options: SoftmaxOptions = {}): Tensor {
  return callT(op('log_softmax', 'int'), [input, dim, options.dtype ?? null]);
}

/** softmax(-input) along dim (F.softmin). */
export function softmin(input: Tensor, dim: number, options: SoftmaxOptions = {}): Tensor {
  return tidy(() => softmax(callT(op('neg'), [input]), dim, options));
}

/**
 * One-hot encoding of an int64 tensor of class indices (F.one_hot): adds a
 * trailing dim of size numClasses (-1: max(input) + 1); the result is int64.
 */
export function oneHot(tensor: Tensor, numClasses = -1): Tensor {
  return callT(op('one_hot'), [tensor, numClasses]);
}

export interface NormalizeOptions {
  /** The exponent of the norm. Default 2. */
  p?: number;
  dim?: number;
  eps?: number;
}

/** input / max(||input||_p along dim, eps) (F.normalize). */
export function normalize(input: Tensor, options: NormalizeOptions = {}): Tensor {
  const p = options.p ?? 2.0;
  const dim = options.dim ?? 1;
  const eps = options.eps ?? 1e-12;
  return tidy(() => {
    const norm = callT(op('norm', 'ScalarOpt_dim'), [input, { float: p }, [dim], true]);
    const denom = callT(op('expand_as'), [callT(op('clamp_min'), [norm, { float: eps }]), input]);
    return callT(op('div', 'Tensor'), [input, denom]);
  });
}

export interface CosineSimilarityOptions {
  dim?: number;
  eps?: number;
}

/** Cosine of the angle between x1 and x2 along dim (F.cosine_similarity). */
export function cosineSimilarity(x1: Tensor, x2: Tensor, options: CosineSimilarityOptions = {}): Tensor {
  return callT(op('cosine_similarity'), [x1, x2, options.dim ?? 1, options.eps ?? 1e-8]);
}

export interface PairwiseDistanceOptions {
  p?: number;
  eps?: number;
  keepdim?: boolean;
}

/** ||x1 - x2 + eps||_p along the last dim (F.pairwise_distance). */
export function pairwiseDistance(x1: Tensor, x2: Tensor, options: PairwiseDistanceOptions = {}): Tensor {
  return callT(op('pairwise_distance'), [x1, x2, options.p ?? 2, options.eps ?? 1e-6, options.keepdim ?? false]);
}

/** Pairwise p-norm distances between the rows of a 2-D input, upper triangle flattened (F.pdist). */
export function pdist(input: Tensor, p = 2): Tensor {
  return callT(op('pdist'), [input, p]);
}

export interface UnfoldOptions {
  dilation?: IntOrList;
  padding?: IntOrList;
  stride?: IntOrList;
}

/**
 * Extracts sliding blocks (im2col, F.unfold): (N, C, H, W) becomes
 * (N, C * kH * kW, L) with L the number of block positions. 3-D (C, H, W) input is unbatched.
 */
export function unfold(input: Tensor, kernelSize: IntOrList, options: UnfoldOptions = {}): Tensor {
  return callT(op('im2col'), [input, kernelSize, options.dilation ?? 1, options.padding ?? 0, options.stride ?? 1]);
}

/** Sums sliding blocks back into an image (col2im, F.fold); the inverse layout of unfold. */
export function fold(input: Tensor, outputSize: IntOrList, kernelSize: IntOrList, options: UnfoldOptions = {}): Tensor {
  return callT(op('col2im'), [input, outputSize, kernelSize, options.dilation ?? 1, options.padding ?? 0, options.stride ?? 1]);
}

/** (*, C r^2, H, W) to (*, C, H r, W r) (F.pixel_shuffle). */
export function pixelShuffle(input: Tensor, upscaleFactor: number): Tensor {
  return callT(op('pixel_shuffle'), [input, upscaleFactor]);
}

/** (*, C, H r, W r) to (*, C r^2, H, W) (F.pixel_unshuffle). */
export function pixelUnshuffle(input: Tensor, downscaleFactor: number): Tensor {
  return callT(op('pixel_unshuffle'), [input, downscaleFactor]);
}

export interface EmbeddingOptions {
  /** This index's row gets no gradient (and is usually all zeros). */
  paddingIdx?: number | null;
  /** Rows looked up with a larger norm are renormalized in place to this norm. */
  maxNorm?: number | null;
  normType?: number;
  scaleGradByFreq?: boolean;
}

/** Looks up rows of weight (num_embeddings, dim) for integer indices (F.embedding). */
export function embedding(input: Tensor, weight: Tensor, options: EmbeddingOptions = {}): Tensor {
  const n = weight.shape[0];
  let paddingIdx = options.paddingIdx ?? -1;
  if (options.paddingIdx != null) {
    if (paddingIdx >= n || paddingIdx < -n) throw new RangeError(`embedding: paddingIdx must be within num_embeddings (${n}), got ${paddingIdx}`);
    if (paddingIdx < 0) paddingIdx += n;
  }
  if (options.maxNorm != null) {
    const maxNorm = options.maxNorm;
    tidy(() => {
      const idx = callT(op('contiguous'), [input]);
      noGrad(() => op('embedding_renorm_').inplace([weight, idx, maxNorm, options.normType ?? 2.0]));
    });
  }
  return callT(op('embedding'), [weight, input, paddingIdx, options.scaleGradByFreq ?? false, false]);
}
