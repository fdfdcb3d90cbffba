// Separable Gaussian filtering on batched tensors, shared by the blur
// augmentation and the elastic displacement fields.
import * as torch from '@labelwise/torch';
import { F, type Tensor } from '@labelwise/torch';

/**
 * scipy.ndimage's sampled Gaussian kernel: radius round(truncate·σ) (as
 * `int(truncate * sigma + 0.5)`), weights exp(−x²/2σ²) normalised to sum 1.
 * σ = 0 gives the identity kernel [1].
 */
export function gaussianKernel1d(sigma: number, truncate = 4): Float64Array {
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new RangeError(`gaussianKernel1d: sigma must be a finite number ≥ 0, got ${sigma}`);
  const r = Math.floor(truncate * sigma + 0.5);
  const k = new Float64Array(2 * r + 1);
  if (sigma === 0) {
    k[r] = 1;
    return k;
  }
  let sum = 0;
  for (let i = -r; i <= r; i++) {
    const v = Math.exp((-0.5 * i * i) / (sigma * sigma));
    k[i + r] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** Σw² of the kernel: the variance of unit white noise after smoothing with it. */
export function kernelPower(k: Float64Array): number {
  let s = 0;
  for (const v of k) s += v * v;
  return s;
}

/** Border handling, named as in scipy.ndimage: 'constant' pads with 0, 'reflect' is half-sample symmetric (d c b a | a b c d). */
export type FilterMode = 'constant' | 'reflect';

// scipy 'reflect' index for any integer position (period 2n).
function reflectIndex(i: number, n: number): number {
  const p = 2 * n;
  const m = ((i % p) + p) % p;
  return m < n ? m : p - 1 - m;
}

/** Pads `r` elements on both sides of dim `dim`: zeros ('constant') or scipy's 'reflect'. */
function padAxis(x: Tensor, dim: number, r: number, mode: FilterMode): Tensor {
  if (mode === 'constant') {
    const fromEnd = x.ndim - 1 - dim;
    const pads = new Array<number>(2 * (fromEnd + 1)).fill(0);
    pads[2 * fromEnd] = r;
    pads[2 * fromEnd + 1] = r;
    return F.pad(x, pads);
  }
  const n = x.shape[dim];
  const idx = new Int32Array(n + 2 * r);
  for (let i = 0; i < idx.length; i++) idx[i] = reflectIndex(i - r, n);
  return x.indexSelect(dim, torch.fromTypedArray(idx, [idx.length]));
}

export interface GaussianFilterOptions {
  mode?: FilterMode;
  /** Kernel radius in σ (scipy's `truncate`). Default 4. */
  truncate?: number;
}

/**
 * Gaussian-filters x [N, C, ...spatial] (2 or 3 spatial dims) separably with
 * its own σ per (sample, channel) row and axis: `sigmas[n * C + c][axis]` in
 * voxels, 0 meaning no smoothing along that axis. Each axis is a sum of
 * shifted slices of the padded tensor, one multiply-add per kernel tap
 * (per-row weights when rows differ): on CPU this beats libtorch's
 * convolutions with long 1-D kernels (and grouped ones) by a wide margin.
 */
export function gaussianFilter(x: Tensor, sigmas: readonly (readonly number[])[], options: GaussianFilterOptions = {}): Tensor {
  const mode = options.mode ?? 'constant';
  const truncate = options.truncate ?? 4;
  const shape = x.shape;
  const dims = shape.length - 2;
  if (dims !== 2 && dims !== 3) throw new RangeError(`gaussianFilter: expected [N, C, ...spatial] with 2 or 3 spatial dims, got shape [${shape.join(', ')}]`);
  const rows = shape[0] * shape[1];
  if (sigmas.length !== rows || sigmas.some((s) => s.length !== dims)) {
    throw new RangeError(`gaussianFilter: expected ${rows} rows of ${dims} sigmas (one per sample and channel), got ${sigmas.length}`);
  }
  const spatial = shape.slice(2);
  const shared = sigmas.every((s) => s.every((v, a) => v === sigmas[0][a]));
  return torch.tidy(() => {
    let y = x.reshape([rows, ...spatial]);
    for (let a = 0; a < dims; a++) {
      const axisSigmas = shared ? [sigmas[0][a]] : sigmas.map((s) => s[a]);
      if (axisSigmas.every((v) => v === 0)) continue;
      const kernels = axisSigmas.map((s) => gaussianKernel1d(s, truncate));
      const r = Math.max(...kernels.map((k) => (k.length - 1) / 2));
      const n = spatial[a];
      const xp = padAxis(y, a + 1, r, mode);
      const colShape = [rows, ...spatial.map(() => 1)];
      let acc: Tensor | null = null;
      for (let t = -r; t <= r; t++) {
        const w = kernels.map((k) => k[t + (k.length - 1) / 2] ?? 0);
        if (w.every((v) => v === 0)) continue;
        const slice = xp.narrow(a + 1, t + r, n);
        if (shared) acc = acc ? acc.add_(slice, w[0]) : slice.mul(w[0]);
        else {
          const col = torch.tensor(w, { dtype: y.dtype as 'float32' }).reshape(colShape);
          acc = acc ? acc.addcmul_(slice, col) : slice.mul(col);
        }
      }
      y = acc!;
    }
    return y.reshape(shape);
  });
}
