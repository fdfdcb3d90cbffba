// PA-Seg's variance-minimisation regulariser (utilities/losses.py:VarianceLoss):
// each class's probability-weighted intensity variance, a piecewise-constant
// (Mumford-Shah-like) prior that pulls regions of similar intensity together.
import * as torch from '@labelwise/torch';
import { type Tensor } from '@labelwise/torch';
import { shapeText } from './common.js';

/** The seed's test for "above the volume's minimum": I − min I > 1e-5. */
const MIN_MARGIN = 1e-5;
/** Floor of the weight sums: only reached when a class has no weight at all (the seed's 0/0 = NaN becomes 0). */
const TINY = 1e-30;

/**
 * PA-Seg's variance loss:
 *
 *   L = (1/B) Σ_b Σ_c Σ_i w_ic (I_i − μ_bc)² / Σ_i w_ic,   μ_bc = Σ_i w_ic I_i / Σ_i w_ic,
 *
 * with w_ic = p_ic for the foreground classes c ≥ 1 and, for the background
 * c = 0, w_i0 = p_i0·[I_i − min_b I > 1e-5] (voxels at the volume's minimum,
 * e.g. the zero padding outside the brain, do not count), min per sample.
 *
 * Departs from the seed in two ways only: it takes probabilities (the seed
 * applies softmax to logits inside; pass softmax(logits, 1)), and a class
 * whose weights all vanish contributes 0 where the seed gives NaN (0/0).
 *
 * @param probs (B, C, *spatial) class probabilities, C ≥ 1, 1-3 spatial dims.
 * @param image (B, 1, *spatial) intensities, same B and spatial shape.
 * @returns a 0-d tensor in probs' dtype.
 */
export function varianceLoss(probs: Tensor, image: Tensor): Tensor {
  const fn = 'varianceLoss';
  if (probs.ndim < 3 || probs.ndim > 5) throw new Error(`${fn}: probs must be [B, C, *spatial] with 1-3 spatial dims, got shape ${shapeText(probs.shape)}`);
  if (!torch.isFloatingPoint(probs.dtype)) throw new Error(`${fn}: probs must be floating point, got ${probs.dtype}`);
  const want = `[${probs.shape[0]}, 1, ${probs.shape.slice(2).join(', ')}]`;
  if (image.ndim !== probs.ndim || image.shape[0] !== probs.shape[0] || image.shape[1] !== 1 || image.shape.slice(2).some((v, i) => v !== probs.shape[2 + i])) {
    throw new Error(`${fn}: image must be [B, 1, *spatial] matching probs ${shapeText(probs.shape)}, i.e. ${want}; got shape ${shapeText(image.shape)}`);
  }
  return torch.tidy(() => {
    const [B, C] = probs.shape;
    const p = probs.reshape([B, C, -1]);
    const img = image.to(probs.dtype).reshape([B, 1, -1]);
    const w = torch.noGrad(() => {
      const min = img.amin(2, true);
      return img.sub(min).gt(MIN_MARGIN).to(probs.dtype);
    });
    const weights = C === 1 ? p.mul(w) : torch.cat([p.narrow(1, 0, 1).mul(w), p.narrow(1, 1, C - 1)], 1);
    const nums = weights.sum(2, true).clampMin(TINY);
    const mean = weights.mul(img).sum(2, true).div(nums);
    const variance = weights.mul(img.sub(mean).square()).sum(2, true).div(nums);
    return variance.sum().div(B);
  });
}
