// Extension (b) of Hsu & Hua, the signal side: edge maps and the boundary
// loss of the Edge-Guided Module (the network side is edge-unet.ts).
//   imageGradientMagnitude — (nn/sobel.ts, re-exported) the edge signal;
//   labelBoundaries        — 1 where a voxel's 3×3(×3) neighbourhood holds
//                            another label: the boundary head's target;
//   boundaryLoss           — class-balanced BCE (HED, Xie & Tu 2015) of the
//                            boundary logits, each voxel also weighted by its
//                            copy-paste region's weight, so pseudo-labelled
//                            boundaries count half, as BCP weights their
//                            segmentation loss.
import * as torch from '@labelwise/torch';
import { type Tensor, F } from '@labelwise/torch';
export { imageGradientMagnitude } from '../../nn/sobel.js';

/** 1 where the 3^d neighbourhood of a voxel holds a different label: [B, ...spatial] float of labels [B, ...spatial]. */
export function labelBoundaries(labels: Tensor): Tensor {
  const dims = labels.ndim - 1;
  if (dims !== 2 && dims !== 3) throw new Error(`labelBoundaries: expected labels [B, Y, X] or [B, Z, Y, X], got [${labels.shape.join(', ')}]`);
  return torch.noGrad(() => torch.tidy(() => {
    const l = labels.float().unsqueeze(1);
    const pool = (t: Tensor): Tensor => (dims === 2 ? F.maxPool2d(t, 3, { stride: 1, padding: 1 }) : F.maxPool3d(t, 3, { stride: 1, padding: 1 }));
    // max ≠ min over the neighbourhood ⇔ another label is adjacent (padding never wins a max).
    return pool(l).ne(pool(l.neg()).neg()).squeeze(1).float();
  }));
}

/**
 * Class-balanced BCE of boundary logits [B, 1, ...spatial] against a
 * boundary map [B, ...spatial], each voxel weighted by `voxelWeights`
 * ([B, ...spatial]; null: 1): positives get weight |neg|/|all|, negatives
 * |pos|/|all| (counted over the weighted voxels); the weighted mean.
 */
export function boundaryLoss(logits: Tensor, boundaries: Tensor, voxelWeights: Tensor | null = null): Tensor {
  if (logits.ndim !== boundaries.ndim + 1 || logits.shape[1] !== 1 || logits.shape.slice(2).some((n, i) => n !== boundaries.shape[i + 1]) || logits.shape[0] !== boundaries.shape[0]) {
    throw new Error(`boundaryLoss: logits [${logits.shape.join(', ')}] must be [B, 1, ...spatial] of boundaries [${boundaries.shape.join(', ')}]`);
  }
  return torch.tidy(() => {
    const y = boundaries.to(logits.dtype);
    const r = voxelWeights === null ? torch.onesLike(y) : voxelWeights.to(logits.dtype);
    const pos = y.mul(r).sum();
    const all = r.sum().clampMin(1e-6);
    const beta = pos.div(all).detach(); // fraction of boundary voxels
    const w = y.mul(beta.neg().add(1)).add(y.neg().add(1).mul(beta)).mul(r);
    const bce = F.binaryCrossEntropyWithLogits(logits.squeeze(1), y, { reduction: 'none' });
    return bce.mul(w).sum().div(w.sum().clampMin(1e-6));
  });
}
