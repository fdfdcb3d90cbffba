// nnU-Net's deep-supervision wrapper: one loss per decoder output, weighted
// 1, 1/2, 1/4, ... with the lowest resolution weighted 0, normalised to sum
// to 1. Targets for the smaller outputs are the full-resolution labels
// down-sampled by nearest neighbour ('nearest-exact', as nnU-Net's data
// pipeline), unless a list of targets is given.
import * as torch from '@labelwise/torch';
import { type Tensor, F, Tensor as TensorClass } from '@labelwise/torch';
import { type Loss, shapeText } from './common.js';

/** nnU-Net's weights for n outputs: 1/2^i, the last 0, normalised (n = 1: [1]). */
export function nnunetDeepSupervisionWeights(n: number): number[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`deep_supervision: need at least one output, got ${n}`);
  if (n === 1) return [1];
  const w = Array.from({ length: n }, (_, i) => (i === n - 1 ? 0 : 1 / 2 ** i));
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / s);
}

/**
 * Nearest-neighbour ('nearest-exact') resize of a label map (N, *spatial) or
 * (N, C, *spatial) — or of a mask — to `size` (spatial dims), keeping its dtype.
 */
export function downsampleLabels(labels: Tensor, size: readonly number[]): Tensor {
  return torch.tidy(() => {
    const channelAxis = labels.ndim === size.length + 1;
    if (!channelAxis && labels.ndim !== size.length + 2) throw new Error(`downsampleLabels: a ${labels.ndim}-D map cannot be resized to ${size.length}-D size ${shapeText(size)}`);
    const x = (channelAxis ? labels.unsqueeze(1) : labels).to('float32');
    const y = F.interpolate(x, { size, mode: 'nearest-exact' });
    const out = channelAxis ? y.squeeze(1) : y;
    return out.to(labels.dtype);
  });
}

export interface DeepSupervisionOptions {
  /** One weight per output, highest resolution first (default nnU-Net's for the number of outputs given). */
  weights?: number[] | null;
}

/** Applies `loss` to every output with a non-zero weight and sums the weighted losses. */
export class DeepSupervisionLoss implements Loss {
  readonly name = 'deep_supervision';

  constructor(
    readonly loss: Loss,
    readonly options: DeepSupervisionOptions = {},
  ) {}

  forward(prediction: Tensor | readonly Tensor[], target: Tensor | readonly Tensor[], mask: Tensor | null = null): Tensor {
    const preds = prediction instanceof TensorClass ? [prediction] : [...prediction];
    const n = preds.length;
    const weights = this.options.weights ?? nnunetDeepSupervisionWeights(n);
    if (weights.length !== n) throw new Error(`${this.name}: ${weights.length} weights for ${n} outputs`);
    const targets = target instanceof TensorClass ? null : [...target];
    if (targets !== null && targets.length !== n) throw new Error(`${this.name}: ${targets.length} targets for ${n} outputs`);
    return torch.tidy(() => {
      let total: Tensor | null = null;
      preds.forEach((p, i) => {
        if (weights[i] === 0) return;
        const size = p.shape.slice(2);
        let t: Tensor;
        if (targets !== null) t = targets[i];
        else {
          const full = target as Tensor;
          const spatial = full.shape.slice(full.ndim - size.length);
          t = spatial.every((s, j) => s === size[j]) ? full : downsampleLabels(full, size);
        }
        let m = mask;
        if (m !== null && m.shape.slice(m.ndim - size.length).some((s, j) => s !== size[j])) m = downsampleLabels(m, size);
        const term = this.loss.forward(p, t, m).mul(weights[i]);
        total = total === null ? term : total.add(term);
      });
      return total ?? preds[0].sum().mul(0);
    });
  }
}
