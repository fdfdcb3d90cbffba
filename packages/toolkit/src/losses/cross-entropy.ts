// Cross-entropy from logits for segmentation (F.cross_entropy), with class
// weights, an ignored label, label smoothing and BCP-style masking:
// Σ(ce·m) / (Σm + 1e-16) over a voxel weight map.
import * as torch from '@labelwise/torch';
import { type Tensor, F } from '@labelwise/torch';
import { TensorLoss, checkLabels, maskedMean, readMask, readTarget } from './common.js';

export interface CrossEntropyOptions {
  /** Weight per class (PyTorch's `weight`; the unmasked mean divides by Σ w[y]). */
  classWeights?: number[] | null;
  /** Label excluded from the loss and from the mean. */
  ignoreIndex?: number | null;
  labelSmoothing?: number;
  /** Check that labels are in range (one device sync per call). */
  validateLabels?: boolean;
}

export const CROSS_ENTROPY_DEFAULTS: Required<CrossEntropyOptions> = { classWeights: null, ignoreIndex: null, labelSmoothing: 0, validateLabels: true };

/**
 * Cross-entropy of logits (N, C, *spatial) against labels or a probability
 * map. With a mask, the per-voxel losses are averaged over the mask's weight;
 * when every voxel is ignored the loss is 0 (as nnU-Net's), not NaN.
 */
export function crossEntropyLoss(prediction: Tensor, target: Tensor, options: CrossEntropyOptions = {}, mask: Tensor | null = null, name = 'ce'): Tensor {
  const o = { ...CROSS_ENTROPY_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  return torch.tidy(() => {
    const c = prediction.shape[1];
    const t = readTarget(name, prediction, target);
    const weight = o.classWeights === null ? null : torch.tensor(o.classWeights, { dtype: prediction.dtype, device: prediction.device });
    if (weight !== null && o.classWeights !== null && o.classWeights.length !== c) throw new Error(`${name}: classWeights has ${o.classWeights.length} entries for ${c} classes`);
    const common = { weight, labelSmoothing: o.labelSmoothing };
    if (t.kind === 'dense') {
      if (mask === null) return F.crossEntropy(prediction, t.values, common);
      return maskedMean(F.crossEntropy(prediction, t.values, { ...common, reduction: 'none' }), readMask(name, prediction, mask).squeeze(1));
    }
    if (o.validateLabels) checkLabels(name, t.labels, c, o.ignoreIndex);
    const ignoreIndex = o.ignoreIndex ?? -100;
    if (mask === null) {
      if (o.ignoreIndex !== null && !t.labels.ne(o.ignoreIndex).any().item()) return prediction.sum().mul(0);
      return F.crossEntropy(prediction, t.labels, { ...common, ignoreIndex });
    }
    let m = readMask(name, prediction, mask);
    if (m.shape[1] !== 1) throw new Error(`${name}: a cross-entropy mask weights voxels, so it must have 1 channel, got shape [${mask.shape.join(', ')}]`);
    m = m.squeeze(1);
    // Ignored voxels leave the denominator too.
    if (o.ignoreIndex !== null) m = m.mul(t.labels.ne(o.ignoreIndex).to(m.dtype));
    return maskedMean(F.crossEntropy(prediction, t.labels, { ...common, ignoreIndex, reduction: 'none' }), m);
  });
}

export class CrossEntropyLoss extends TensorLoss {
  readonly name = 'ce';
  constructor(readonly options: CrossEntropyOptions = {}) {
    super();
  }

  protected compute(prediction: Tensor, target: Tensor, mask: Tensor | null): Tensor {
    return crossEntropyLoss(prediction, target, this.options, mask, this.name);
  }
}
