// Exact Euclidean distance transform with anisotropic voxel spacing.
//
// Separable lower-envelope algorithm (Felzenszwalb & Huttenlocher 2012, the
// same decomposition as Meijster et al. 2000): one pass along each axis. The
// first pass only has to find the nearest feature on each line (two sweeps);
// every later pass takes the lower envelope of the parabolas
// (q - p)² s² + g(p) left by the previous pass. Squared distances stay in
// Float64, so the result equals scipy.ndimage.distance_transform_edt(...,
// sampling=spacing) up to the last bit of rounding (both are exact EDTs).
//
// Layout convention (the toolkit's Volume order): `dims` lists the sizes with
// the FASTEST-varying axis first, and `spacing` follows the same order. For a
// numpy/scipy array of shape (Z, Y, X) that is dims = [X, Y, Z] and
// spacing = [sx, sy, sz].

export type Dims = readonly number[];

/** Numeric typed arrays a mask may come in (nonzero = set). */
export type MaskLike = ArrayLike<number>;

/** Checks dims/spacing and returns the voxel count. */
export function checkGrid(dims: Dims, spacing: readonly number[] | undefined, what: string): number {
  if (dims.length < 1) throw new Error(`${what}: dims must have at least one axis`);
  let n = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 1) throw new Error(`${what}: dims must be positive integers, got [${dims.join(', ')}]`);
    n *= d;
  }
  if (spacing) {
    if (spacing.length !== dims.length) {
      throw new Error(`${what}: spacing has ${spacing.length} entries but dims has ${dims.length} (give one spacing per axis, fastest axis first)`);
    }
    for (const s of spacing) {
      if (!(s > 0) || !Number.isFinite(s)) throw new Error(`${what}: spacing must be positive finite numbers, got [${spacing.join(', ')}]`);
    }
  }
  return n;
}

/** Reusable per-line scratch buffers for the envelope passes. */
class LineScratch {
  f: Float64Array;
  out: Float64Array;
  v: Int32Array;
  z: Float64Array;
  constructor(n: number) {
    this.f = new Float64Array(n);
    this.out = new Float64Array(n);
    this.v = new Int32Array(n);
    this.z = new Float64Array(n + 1);
  }
}

/**
 * Lower envelope of the parabolas y = ((x - p)·s)² + f[p] over the finite f[p];
 * builds v (apex positions) and z (boundaries) and returns the envelope size
 * (0 when every f is +Infinity).
 */
function buildEnvelope(f: Float64Array, n: number, s2: number, v: Int32Array, z: Float64Array): number {
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q];
    if (fq === Infinity) continue;
    if (k < 0) {
      k = 0; v[0] = q; z[0] = -Infinity; z[1] = Infinity;
      continue;
    }
    // Intersection (in index units) of the parabola at q with the top of the stack;
    // pop while it lies left of that parabola's own left boundary.
    const aq = fq + q * q * s2;
    let sec = 0;
    // z[0] = -Infinity, so the stack never empties.
    for (;;) {
      const p = v[k];
      sec = (aq - (f[p] + p * p * s2)) / (2 * s2 * (q - p));
      if (sec <= z[k]) k--;
      else break;
    }
    k++; v[k] = q; z[k] = sec; z[k + 1] = Infinity;
  }
  return k + 1;
}

/** Evaluates the envelope at every integer position 0..n-1 into out. */
function evalEnvelope(f: Float64Array, n: number, s: number, v: Int32Array, z: Float64Array, out: Float64Array): void {
  let k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    const p = v[k];
    const d = (q - p) * s;
    out[q] = d * d + f[p];
  }
}

/**
 * First pass, along axis 0 (contiguous lines): squared distance to the nearest
 * feature on the same line, +Infinity where the line has none.
 */
function firstPass(feature: Uint8Array, dims: Dims, s0: number, g: Float64Array): void {
  const n0 = dims[0];
  const lines = feature.length / n0;
  for (let l = 0; l < lines; l++) {
    const base = l * n0;
    let last = -1;
    for (let i = 0; i < n0; i++) {
      if (feature[base + i] !== 0) last = i;
      if (last < 0) g[base + i] = Infinity;
      else { const d = (i - last) * s0; g[base + i] = d * d; }
    }
    if (last < 0) continue; // no feature on this line
    last = -1;
    for (let i = n0 - 1; i >= 0; i--) {
      if (feature[base + i] !== 0) last = i;
      if (last >= 0) {
        const d = (last - i) * s0;
        const dd = d * d;
        if (dd < g[base + i]) g[base + i] = dd;
      }
    }
  }
}

/** Envelope pass along `axis` over the whole array, in place. */
function envelopePass(g: Float64Array, dims: Dims, axis: number, s: number, scratch: LineScratch): void {
  const n = dims[axis];
  if (n === 1) return;
  let stride = 1;
  for (let a = 0; a < axis; a++) stride *= dims[a];
  const block = stride * n;
  const outer = g.length / block;
  const { f, out, v, z } = scratch;
  const s2 = s * s;
  for (let o = 0; o < outer; o++) {
    const ob = o * block;
    for (let inner = 0; inner < stride; inner++) {
      const start = ob + inner;
      let any = false;
      for (let t = 0, idx = start; t < n; t++, idx += stride) {
        const x = g[idx];
        f[t] = x;
        if (x !== Infinity) any = true;
      }
      if (!any) continue;
      const m = buildEnvelope(f, n, s2, v, z);
      if (m === 0) continue;
      evalEnvelope(f, n, s, v, z, out);
      for (let t = 0, idx = start; t < n; t++, idx += stride) g[idx] = out[t];
    }
  }
}

function toFeatureMask(input: MaskLike, n: number, featureWhenZero: boolean): Uint8Array {
  const out = new Uint8Array(n);
  if (featureWhenZero) for (let i = 0; i < n; i++) out[i] = input[i] === 0 ? 1 : 0;
  else for (let i = 0; i < n; i++) out[i] = input[i] !== 0 ? 1 : 0;
  return out;
}

/**
 * Squared Euclidean distance (in spacing units²) from every voxel to the
 * nearest voxel where `feature` is nonzero; +Infinity everywhere when there is
 * no feature at all.
 */
export function squaredDistanceToFeatures(feature: Uint8Array, dims: Dims, spacing?: readonly number[]): Float64Array {
  const n = checkGrid(dims, spacing, 'squaredDistanceToFeatures');
  if (feature.length !== n) throw new Error(`squaredDistanceToFeatures: mask has ${feature.length} voxels, dims [${dims.join(', ')}] need ${n}`);
  const sp = spacing ?? dims.map(() => 1);
  const g = new Float64Array(n);
  firstPass(feature, dims, sp[0], g);
  const scratch = new LineScratch(Math.max(...dims));
  for (let a = 1; a < dims.length; a++) envelopePass(g, dims, a, sp[a], scratch);
  return g;
}

export interface EdtOptions {
  /** Voxel spacing per axis (fastest axis first); default 1 on every axis. */
  sampling?: readonly number[];
  /** Return squared distances (skips the square root). */
  squared?: boolean;
}

/**
 * scipy.ndimage.distance_transform_edt: for every nonzero element of `input`,
 * the distance to the nearest zero element (zero elements get 0). An input
 * without any zero element has no defined distance: every voxel is +Infinity
 * (scipy returns meaningless numbers there).
 */
export function distanceTransformEdt(input: MaskLike, dims: Dims, options: EdtOptions = {}): Float64Array {
  const n = checkGrid(dims, options.sampling, 'distanceTransformEdt');
  if (input.length !== n) throw new Error(`distanceTransformEdt: input has ${input.length} elements, dims [${dims.join(', ')}] need ${n}`);
  const g = squaredDistanceToFeatures(toFeatureMask(input, n, true), dims, options.sampling);
  if (!options.squared) for (let i = 0; i < n; i++) g[i] = Math.sqrt(g[i]);
  return g;
}

/**
 * Squared distances from each voxel set in `queries` to the nearest voxel set
 * in `features`, returned in memory order of the query voxels. Only what the
 * queries need is computed: the last axis's envelope is built just for the
 * lines that hold a query and evaluated only at the queries, which is where a
 * surface-distance metric spends most of a full EDT's time.
 */
export function squaredDistancesAt(features: Uint8Array, queries: Uint8Array, dims: Dims, spacing?: readonly number[]): Float64Array {
  const n = checkGrid(dims, spacing, 'squaredDistancesAt');
  if (features.length !== n || queries.length !== n) {
    throw new Error(`squaredDistancesAt: masks have ${features.length} and ${queries.length} voxels, dims [${dims.join(', ')}] need ${n}`);
  }
  const sp = spacing ?? dims.map(() => 1);
  let nq = 0;
  for (let i = 0; i < n; i++) nq += queries[i] !== 0 ? 1 : 0;
  const result = new Float64Array(nq);
  if (nq === 0) return result;

  const nd = dims.length;
  const g = new Float64Array(n);
  firstPass(features, dims, sp[0], g);
  if (nd === 1) {
    for (let i = 0, r = 0; i < n; i++) if (queries[i] !== 0) result[r++] = g[i];
    return result;
  }
  const scratch = new LineScratch(Math.max(...dims));
  for (let a = 1; a < nd - 1; a++) envelopePass(g, dims, a, sp[a], scratch);

  // Last axis: lines are indexed by their offset c in [0, stride).
  const last = nd - 1;
  const nl = dims[last];
  const stride = n / nl;
  const hasQuery = new Uint8Array(stride);
  for (let t = 0; t < nl; t++) {
    const base = t * stride;
    for (let c = 0; c < stride; c++) if (queries[base + c] !== 0) hasQuery[c] = 1;
  }
  const { f, v, z } = scratch;
  const s = sp[last];
  const s2 = s * s;
  // Output in memory order of the queries (as a boolean-mask gather): row t's
  // queries start at rowOffset[t], and columns are visited in increasing c.
  const rowOffset = new Int32Array(nl + 1);
  for (let t = 0; t < nl; t++) {
    let cnt = 0;
    const base = t * stride;
    for (let c = 0; c < stride; c++) cnt += queries[base + c] !== 0 ? 1 : 0;
    rowOffset[t + 1] = rowOffset[t] + cnt;
  }
  const rowCursor = Int32Array.from(rowOffset.subarray(0, nl));
  for (let c = 0; c < stride; c++) {
    if (hasQuery[c] === 0) continue;
    let any = false;
    for (let t = 0, idx = c; t < nl; t++, idx += stride) {
      const x = g[idx];
      f[t] = x;
      if (x !== Infinity) any = true;
    }
    if (!any) {
      for (let t = 0, idx = c; t < nl; t++, idx += stride) if (queries[idx] !== 0) result[rowCursor[t]++] = Infinity;
      continue;
    }
    buildEnvelope(f, nl, s2, v, z);
    let k = 0;
    for (let t = 0, idx = c; t < nl; t++, idx += stride) {
      if (queries[idx] === 0) continue;
      while (z[k + 1] < t) k++;
      const p = v[k];
      const d = (t - p) * s;
      result[rowCursor[t]++] = d * d + f[p];
    }
  }
  return result;
}
