// Extension (b) of Hsu & Hua, the signal side: edge maps and the boundary
// loss of the Edge-Guided Module (the network side is edge-unet.ts).
//   imageGradientMagnitude — Sobel gradient magnitude of the input image
//                            (2D or 3D), per sample scaled to [0, 1]: the
//                            fixed edge signal fed to the module;
//   labelBoundaries        — 1 where a voxel's 3×3(×3) neighbourhood holds
//                            another label: the boundary head's target;
//   boundaryLoss           — class-balanced BCE (HED, Xie & Tu 2015) of the
//                            boundary logits, each voxel also weighted by its
//                            copy-paste region's weight, so pseudo-labelled
//                            boundaries count half, as BCP weights their
//                            segmentation loss.
import * as torch from '@labelwise/torch';
import { type Tensor, F } from '@labelwise/torch';

function spatialDimsOf(x: Tensor, what: string): 2 | 3 {
  if (x.ndim === 4) return 2;
  if (x.ndim === 5) return 3;
  throw new Error(`${what}: expected [B, C, Y, X] or [B, C, Z, Y, X], got [${x.shape.join(', ')}]`);
}

/** Sobel kernels [dims, 1, 3, ...]: derivative [−1, 0, 1] along one axis, smoothing [1, 2, 1] along the others. */
function sobelKernels(dims: 2 | 3, device: torch.Device): Tensor {
  const d = [-1, 0, 1];
  const s = [1, 2, 1];
  const n = 3 ** dims;
  const data = new Float32Array(dims * n);
  for (let axis = 0; axis < dims; axis++) {
    for (let i = 0; i < n; i++) {
      let v = 1;
      let rest = i;
      for (let a = dims - 1; a >= 0; a--) {
        const k = rest % 3;
        rest = Math.floor(rest / 3);
        v *= a === axis ? d[k] : s[k];
      }
      data[axis * n + i] = v;
    }
  }
  return torch.fromTypedArray(data, [dims, 1, ...Array<number>(dims).fill(3)]).to(device);
}

/** Sobel gradient magnitude of the channel-mean image, [B, 1, ...spatial], scaled per sample to [0, 1]; no gradient. */
export function imageGradientMagnitude(x: Tensor): Tensor {
  const dims = spatialDimsOf(x, 'imageGradientMagnitude');
  return torch.noGrad(() => torch.tidy(() => {
    const img = (torch.isFloatingPoint(x.dtype) ? x : x.float()).mean(1, true).detach();
    // Replicate padding: the image border is not an edge.
    const padded = F.pad(img, Array<number>(2 * dims).fill(1), { mode: 'replicate' });
    const w = sobelKernels(dims, x.device).to(img.dtype);
    const g = dims === 2 ? F.conv2d(padded, w) : F.conv3d(padded, w);
    const mag = g.square().sum(1, true).sqrt();
    const axes = Array.from({ length: dims + 1 }, (_, i) => i + 1);
    return mag.div(mag.amax(axes, true).add(1e-6));
  }));
}

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
