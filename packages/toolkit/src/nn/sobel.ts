// Sobel edge maps of an image: the fixed edge signal the edge-guided
// networks (edge-unet.ts) feed to their Edge-Guided Module.
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
