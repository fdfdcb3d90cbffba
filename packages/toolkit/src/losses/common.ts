// What the losses share: the Loss interface, and the target / mask plumbing
// every segmentation loss needs (label maps with or without a channel axis,
// one-hot encoding, ignored labels, broadcastable voxel masks), each with an
// error that names the loss and the expected shape.
import * as torch from '@labelwise/torch';
import { type Tensor, F, Tensor as TensorClass } from '@labelwise/torch';

/**
 * A loss: network output(s), target(s) and an optional voxel mask/weight map
 * in, a scalar out. Predictions are logits unless the loss says otherwise.
 * Masks are (N, *spatial), (N, 1, *spatial) or the prediction's shape.
 */
export interface Loss {
  readonly name: string;
  forward(prediction: Tensor | readonly Tensor[], target: Tensor | readonly Tensor[], mask?: Tensor | null): Tensor;
}

/** A loss on one prediction tensor; lists of outputs belong to DeepSupervisionLoss. */
export abstract class TensorLoss implements Loss {
  abstract readonly name: string;

  forward(prediction: Tensor | readonly Tensor[], target: Tensor | readonly Tensor[], mask: Tensor | null = null): Tensor {
    if (!(prediction instanceof TensorClass)) {
      throw new Error(`${this.name}: got ${prediction.length} predictions (deep supervision outputs); wrap the loss as {name: 'deep_supervision', loss: {...}}`);
    }
    if (!(target instanceof TensorClass)) throw new Error(`${this.name}: expected one target tensor, got a list of ${target.length}`);
    if (prediction.ndim < 2) throw new Error(`${this.name}: prediction must be (N, C, ...), got shape ${shapeText(prediction.shape)}`);
    return torch.tidy(() => this.compute(prediction, target, mask));
  }

  protected abstract compute(prediction: Tensor, target: Tensor, mask: Tensor | null): Tensor;
}

export const shapeText = (s: readonly number[]): string => `[${s.join(', ')}]`;

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** A target is either class indices or per-channel values (one-hot, probabilities) of the prediction's shape. */
export type Target = { kind: 'labels'; labels: Tensor } | { kind: 'dense'; values: Tensor };

/**
 * Reads a target for prediction (N, C, *spatial): class indices as (N,
 * *spatial) or (N, 1, *spatial) of any dtype (cast to int64, as the
 * reference code's .long()), or a floating tensor of the prediction's shape.
 */
export function readTarget(name: string, prediction: Tensor, target: Tensor): Target {
  const ps = prediction.shape;
  const ts = target.shape;
  const spatial = ps.slice(2);
  if (sameShape(ts, ps) && torch.isFloatingPoint(target.dtype) && ps[1] !== 1) return { kind: 'dense', values: target.to(prediction.dtype) };
  let labels: Tensor;
  if (ts.length === ps.length && ts[0] === ps[0] && ts[1] === 1 && sameShape(ts.slice(2), spatial)) labels = target.squeeze(1);
  else if (ts.length === ps.length - 1 && ts[0] === ps[0] && sameShape(ts.slice(1), spatial)) labels = target;
  else {
    throw new Error(
      `${name}: target shape ${shapeText(ts)} does not fit prediction ${shapeText(ps)}; expected labels ${shapeText([ps[0], ...spatial])} or ` +
        `${shapeText([ps[0], 1, ...spatial])}, or a floating one-hot/probability map ${shapeText(ps)}`,
    );
  }
  return { kind: 'labels', labels: labels.dtype === 'int64' ? labels : labels.to('int64') };
}

/**
 * Fails unless every label is in [0, numClasses) or equals `ignore`. One
 * device sync; out-of-range labels would otherwise be silently all-zero
 * one-hot rows.
 */
export function checkLabels(name: string, labels: Tensor, numClasses: number, ignore: number | null): void {
  torch.tidy(() => {
    let ok = labels.ge(0).logicalAnd(labels.lt(numClasses));
    if (ignore !== null) ok = ok.logicalOr(labels.eq(ignore));
    if (!ok.all().item()) {
      const bad = labels.index([ok.logicalNot()]);
      const lo = bad.min().item();
      const hi = bad.max().item();
      throw new Error(`${name}: labels must be in [0, ${numClasses})${ignore !== null ? ` or ${ignore} (ignored)` : ''}; found values in [${lo}, ${hi}]`);
    }
  });
}

/** (N, *spatial) int64 labels → (N, C, *spatial) one-hot in `dtype` (labels outside [0, C) give all-zero rows). */
export function oneHot(labels: Tensor, numClasses: number, dtype: torch.DType = 'float32'): Tensor {
  return torch.tidy(() => {
    const classes = torch.arange(numClasses, { dtype: 'int64', device: labels.device }).view([1, numClasses, ...labels.shape.slice(1).map(() => 1)]);
    return labels.unsqueeze(1).eq(classes).to(dtype);
  });
}

/**
 * A voxel mask/weight map as (N, 1, *spatial) or (N, C, *spatial) in the
 * prediction's dtype, from (N, *spatial), (N, 1, *spatial) or the
 * prediction's shape.
 */
export function readMask(name: string, prediction: Tensor, mask: Tensor): Tensor {
  const ps = prediction.shape;
  const ms = mask.shape;
  const spatial = ps.slice(2);
  let m: Tensor;
  if (ms.length === ps.length && ms[0] === ps[0] && (ms[1] === 1 || ms[1] === ps[1]) && sameShape(ms.slice(2), spatial)) m = mask;
  else if (ms.length === ps.length - 1 && ms[0] === ps[0] && sameShape(ms.slice(1), spatial)) m = mask.unsqueeze(1);
  else {
    throw new Error(`${name}: mask shape ${shapeText(ms)} does not fit prediction ${shapeText(ps)}; expected ${shapeText([ps[0], ...spatial])}, ${shapeText([ps[0], 1, ...spatial])} or ${shapeText(ps)}`);
  }
  return m.dtype === prediction.dtype ? m : m.to(prediction.dtype);
}

export type Activation = 'softmax' | 'sigmoid' | 'none';

/** Applies the activation that turns logits into probabilities (softmax over channels, or sigmoid per channel). */
export function activate(x: Tensor, activation: Activation): Tensor {
  if (activation === 'softmax') return F.softmax(x, 1);
  if (activation === 'sigmoid') return F.sigmoid(x);
  return x;
}

/** Σ(values·mask) / (Σ mask + eps) with the mask broadcast to values (BCP's masked means use eps 1e-16). */
export function maskedMean(values: Tensor, mask: Tensor, eps = 1e-16): Tensor {
  return torch.tidy(() => values.mul(mask).sum().div(mask.expand(values.shape).sum().add(eps)));
}
