// Separable Gaussian filtering on batched tensors, shared by the blur
// augmentation and the elastic displacement fields.
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';

/**
 * scipy.ndimage's sampled Gaussian kernel: radius round(truncate·σ) (as
 * `int(truncate * sigma + 0.5)`), weights exp(−x²/2σ²) normalised to sum 1.
 * σ = 0 gives the identity kernel [1].
 */
export function gaussianKernel1d(sigma: number, truncate = 4, radius?: number): Float64Array {
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new RangeError(`gaussianKernel1d: sigma must be a finite number ≥ 0, got ${sigma}`);
  const r = radius ?? Math.floor(truncate * sigma + 0.5);
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

/**
 * The filter along one axis of length n as a dense n×n matrix (row i: the
 * weights of output i over inputs j), borders folded in: 'constant' drops
 * taps outside, 'reflect' maps them back inside. Filtering is then a matrix
 * product, which runs at BLAS speed where libtorch's CPU convolutions with
 * long 1-D kernels (and grouped ones) are slow.
 */
export function filterMatrix(n: number, kernel: Float64Array, mode: FilterMode): Float64Array {
  const r = (kernel.length - 1) / 2;
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < kernel.length; t++) {
      let j = i + t - r;
      if (j < 0 || j >= n) {
        if (mode === 'constant') continue;
        j = reflectIndex(j, n);
      }
      m[i * n + j] += kernel[t];
    }
  }
  return m;
}

export interface GaussianFilterOptions {
  mode?: FilterMode;
  /** Kernel radius in σ (scipy's `truncate`). Default 4. */
  truncate?: number;
}

/**
 * Gaussian-filters x [N, C, ...spatial] (2 or 3 spatial dims) separably with
 * its own σ per (sample, channel) row and axis: `sigmas[n * C + c][axis]` in
 * voxels, 0 meaning no smoothing along that axis. Each axis is one matrix
 * product (see filterMatrix): with one n×n matrix when all rows share σ,
 * else a batched product with one matrix per row.
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
      const n = spatial[a];
      // Transposed matrices (x @ Kᵀ filters the last axis), one per row unless shared.
      const mats = new Float64Array(axisSigmas.length * n * n);
      axisSigmas.forEach((s, i) => {
        const k = filterMatrix(n, gaussianKernel1d(s, truncate), mode);
        for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) mats[i * n * n + c * n + r] = k[r * n + c];
      });
      const kt = torch.fromTypedArray(mats, shared ? [n, n] : [rows, 1, n, n]).to(y.dtype);
      const moved = y.movedim(a + 1, -1);
      // Shared: [rows, ..., n] @ [n, n]; per row: [rows, M, n] @ [rows, n, n].
      const out = shared ? moved.matmul(kt) : moved.reshape([rows, -1, n]).matmul(kt.squeeze(1)).reshape(moved.shape);
      y = out.movedim(-1, a + 1);
    }
    return y.reshape(shape).contiguous();
  });
}
