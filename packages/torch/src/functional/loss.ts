// Loss functions (F.cross_entropy, nll_loss, binary_cross_entropy, ...).
// Each calls the ATen loss PyTorch calls, after the same Python-side checks.
import { isFloatingPoint } from '../dtype.js';
import { tidy } from '../scope.js';
import { Tensor, callT, callTs, op } from '../tensor.js';
import { type Reduction, broadcastShape, checkSameShape, reductionEnum, shapeStr, warnOnce } from './utils.js';

export type { Reduction };

export interface ReductionOptions {
  /** 'none': per-element losses; 'mean' (default) or 'sum' over them. */
  reduction?: Reduction;
}

export interface CrossEntropyOptions extends ReductionOptions {
  /** A manual rescaling weight per class, shape (C). */
  weight?: Tensor | null;
  /** Class-index targets equal to this are skipped (and excluded from the mean). */
  ignoreIndex?: number;
  /** Mixes the one-hot target with the uniform distribution by this amount, in [0, 1]. */
  labelSmoothing?: number;
}

export type NllLossOptions = Omit<CrossEntropyOptions, 'labelSmoothing'>;

const sameShape = (a: Tensor, b: Tensor): boolean => {
  const x = a.shape;
  const y = b.shape;
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

// Class-index targets must be int64 (uint8 is accepted by ATen too).
function checkClassTarget(fn: string, input: Tensor, target: Tensor, allowProbabilities: boolean): void {
  const dt = target.dtype;
  if (dt === 'int64' || dt === 'uint8') return;
  const hint = allowProbabilities ? `; for class probabilities, target must be floating point with the input's shape ${shapeStr(input)}` : '';
  throw new TypeError(`${fn}: class-index target must have dtype int64, got ${dt} with shape ${shapeStr(target)}${hint}`);
}

/**
 * Cross entropy between logits (N, C, d1, ..., dk) or (C) and targets
 * (F.cross_entropy). The target is either class indices, int64 of shape
 * (N, d1, ..., dk) or (), or class probabilities of the input's shape.
 */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const fn = 'crossEntropy';
  const reduction = reductionEnum(fn, options.reduction ?? 'mean');
  const smoothing = options.labelSmoothing ?? 0.0;
  if (!(smoothing >= 0 && smoothing <= 1)) throw new RangeError(`${fn}: labelSmoothing must be between 0.0 and 1.0, got ${smoothing}`);
  if (!sameShape(input, target)) checkClassTarget(fn, input, target, true);
  else if (!isFloatingPoint(target.dtype)) {
    throw new TypeError(`${fn}: a target with the input's shape ${shapeStr(input)} holds class probabilities and must be floating point, got ${target.dtype}`);
  }
  return callT(op('cross_entropy_loss'), [input, target, options.weight ?? null, reduction, options.ignoreIndex ?? -100, smoothing]);
}

/** Negative log likelihood of log-probabilities (N, C, d1, ..., dk) at int64 class indices (F.nll_loss). */
export function nllLoss(input: Tensor, target: Tensor, options: NllLossOptions = {}): Tensor {
  const fn = 'nllLoss';
  const reduction = reductionEnum(fn, options.reduction ?? 'mean');
  checkClassTarget(fn, input, target, false);
  return callT(op('nll_loss_nd'), [input, target, options.weight ?? null, reduction, options.ignoreIndex ?? -100]);
}

export interface WeightedLossOptions extends ReductionOptions {
  /** Rescales each element's loss; broadcast to the target's shape. */
  weight?: Tensor | null;
}

export interface BceWithLogitsOptions extends WeightedLossOptions {
  /** Weight of positive examples, broadcast along the class (last) dim. */
  posWeight?: Tensor | null;
}

/** Binary cross entropy between probabilities and targets of the same shape (F.binary_cross_entropy). */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: WeightedLossOptions = {}): Tensor {
  const fn = 'binaryCrossEntropy';
  const reduction = reductionEnum(fn, options.reduction ?? 'mean');
  checkSameShape(fn, input, target, 'target');
  const weight = options.weight ?? null;
  if (weight === null) return callT(op('binary_cross_entropy'), [input, target, null, reduction]);
  const w = callT(op('expand'), [weight, broadcastShape(fn, target.shape, weight.shape)]);
  const out = callT(op('binary_cross_entropy'), [input, target, w, reduction]);
  w.dispose();
  return out;
}

/** Sigmoid + binary cross entropy in one numerically stable op (F.binary_cross_entropy_with_logits). */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options: BceWithLogitsOptions = {}): Tensor {
  const fn = 'binaryCrossEntropyWithLogits';
  const reduction = reductionEnum(fn, options.reduction ?? 'mean');
  checkSameShape(fn, input, target, 'target');
  return callT(op('binary_cross_entropy_with_logits'), [input, target, options.weight ?? null, options.posWeight ?? null, reduction]);
}

// Pointwise regression losses broadcast input and target, warning when the shapes differ.
function pointwise(fn: string, name: string, input: Tensor, target: Tensor, reduction: Reduction | undefined, extra: number[]): Tensor {
  const r = reductionEnum(fn, reduction ?? 'mean');
  if (sameShape(input, target)) return callT(op(name), [input, target, r, ...extra]);
  warnOnce(
    `${fn}: using a target size ${shapeStr(target)} that is different to the input size ${shapeStr(input)}. ` +
      'This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.',
  );
  return tidy(() => {
    const [a, b] = callTs(op('broadcast_tensors'), [[input, target]]);
    return callT(op(name), [a, b, r, ...extra]);
  });
}

/** Mean squared error (F.mse_loss). */
export function mseLoss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  return pointwise('mseLoss', 'mse_loss', input, target, options.reduction, []);
}

/** Mean absolute error (F.l1_loss). */
export function l1Loss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  return pointwise('l1Loss', 'l1_loss', input, target, options.reduction, []);
}

export interface SmoothL1Options extends ReductionOptions {
  /** Where the loss turns from quadratic to linear. Default 1; 0 gives the L1 loss. */
  beta?: number;
}

/** Smooth L1 loss (F.smooth_l1_loss). */
export function smoothL1Loss(input: Tensor, target: Tensor, options: SmoothL1Options = {}): Tensor {
  const beta = options.beta ?? 1.0;
  if (beta < 0) throw new RangeError(`smoothL1Loss: beta must be non-negative, got ${beta}`);
  if (beta === 0) return pointwise('smoothL1Loss', 'l1_loss', input, target, options.reduction, []);
  return pointwise('smoothL1Loss', 'smooth_l1_loss', input, target, options.reduction, [beta]);
}

export interface HuberOptions extends ReductionOptions {
  /** Where the loss turns from quadratic to linear. Default 1. */
  delta?: number;
}

/** Huber loss (F.huber_loss). */
export function huberLoss(input: Tensor, target: Tensor, options: HuberOptions = {}): Tensor {
  return pointwise('huberLoss', 'huber_loss', input, target, options.reduction, [options.delta ?? 1.0]);
}

export interface KlDivOptions {
  /** 'batchmean' (sum / batch size) is the mathematical KL divergence; 'mean' averages over every element. Default 'mean'. */
  reduction?: Reduction | 'batchmean';
  /** The target is given as log-probabilities. */
  logTarget?: boolean;
}

/** Kullback-Leibler divergence; input holds log-probabilities (F.kl_div). */
export function klDiv(input: Tensor, target: Tensor, options: KlDivOptions = {}): Tensor {
  const fn = 'klDiv';
  const reduction = options.reduction ?? 'mean';
  if (reduction === 'mean') {
    warnOnce(
      "klDiv: reduction 'mean' divides the total loss by both the batch size and the support size. " +
        "'batchmean' divides only by the batch size, and aligns with the KL div math definition.",
    );
  }
  if (reduction !== 'batchmean' && !['none', 'mean', 'sum'].includes(reduction)) {
    throw new RangeError(`${fn}: reduction must be one of 'none', 'mean', 'batchmean', 'sum'; got '${reduction as string}'`);
  }
  const r = reductionEnum(fn, reduction === 'batchmean' ? 'sum' : reduction);
  const logTarget = options.logTarget ?? false;
  if (reduction !== 'batchmean' || input.ndim === 0) return callT(op('kl_div'), [input, target, r], { log_target: logTarget });
  return tidy(() => callT(op('div', 'Tensor'), [callT(op('kl_div'), [input, target, r], { log_target: logTarget }), input.shape[0]]));
}

export interface MarginOptions extends ReductionOptions {
  margin?: number;
}

/** max(0, -target * (x1 - x2) + margin) (F.margin_ranking_loss). */
export function marginRankingLoss(input1: Tensor, input2: Tensor, target: Tensor, options: MarginOptions = {}): Tensor {
  const fn = 'marginRankingLoss';
  const r = reductionEnum(fn, options.reduction ?? 'mean');
  if (input1.ndim !== input2.ndim || input1.ndim !== target.ndim) {
    throw new RangeError(`${fn}: all input tensors should have the same number of dims, got input1 ${shapeStr(input1)}, input2 ${shapeStr(input2)}, target ${shapeStr(target)}`);
  }
  return callT(op('margin_ranking_loss'), [input1, input2, target, options.margin ?? 0, r]);
}

/** F.hinge_embedding_loss (margin defaults to 1). */
export function hingeEmbeddingLoss(input: Tensor, target: Tensor, options: MarginOptions = {}): Tensor {
  return callT(op('hinge_embedding_loss'), [input, target, options.margin ?? 1.0, reductionEnum('hingeEmbeddingLoss', options.reduction ?? 'mean')]);
}

/** F.cosine_embedding_loss (margin defaults to 0). */
export function cosineEmbeddingLoss(input1: Tensor, input2: Tensor, target: Tensor, options: MarginOptions = {}): Tensor {
  return callT(op('cosine_embedding_loss'), [input1, input2, target, options.margin ?? 0, reductionEnum('cosineEmbeddingLoss', options.reduction ?? 'mean')]);
}

/** Logistic loss log(1 + exp(-y x)) for targets in {-1, 1} (F.soft_margin_loss). */
export function softMarginLoss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  return callT(op('soft_margin_loss'), [input, target, reductionEnum('softMarginLoss', options.reduction ?? 'mean')]);
}

export interface PoissonNllOptions extends ReductionOptions {
  /** The input is the log of the rate (default) rather than the rate. */
  logInput?: boolean;
  /** Add the Stirling approximation term. */
  full?: boolean;
  eps?: number;
}

/** Negative log likelihood of a Poisson target (F.poisson_nll_loss). */
export function poissonNllLoss(input: Tensor, target: Tensor, options: PoissonNllOptions = {}): Tensor {
  const r = reductionEnum('poissonNllLoss', options.reduction ?? 'mean');
  return callT(op('poisson_nll_loss'), [input, target, options.logInput ?? true, options.full ?? false, options.eps ?? 1e-8, r]);
}

export interface TripletMarginOptions extends MarginOptions {
  p?: number;
  eps?: number;
  swap?: boolean;
}

/** F.triplet_margin_loss (margin defaults to 1, p to 2). */
export function tripletMarginLoss(anchor: Tensor, positive: Tensor, negative: Tensor, options: TripletMarginOptions = {}): Tensor {
  const r = reductionEnum('tripletMarginLoss', options.reduction ?? 'mean');
  return callT(op('triplet_margin_loss'), [anchor, positive, negative, options.margin ?? 1.0, options.p ?? 2, options.eps ?? 1e-6, options.swap ?? false, r]);
}
