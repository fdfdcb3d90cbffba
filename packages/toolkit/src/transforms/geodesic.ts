// Geodesic distance by raster scan, and PA-Seg's seed expansion from seven
// points (Zhai et al., TMI 2023; methods.md §4a).
//
// The raster scan follows GeodisTK's geodesic3d_raster_scan, which PA-Seg
// calls with λ = 0.5 and 4 iterations:
// - distance starts at 0 on seeds and ∞ elsewhere (GeodisTK uses 1e10; after
//   the first forward + backward pass every voxel of a seeded grid is finite,
//   so the two agree);
// - each iteration is a forward pass in memory order, then a backward pass in
//   reverse order; a voxel p takes min(D(p), D(q) + cost(p, q)) over half of
//   its 26 neighbours q, and the backward pass uses the mirrored half;
// - the step cost is  ‖Δx‖_spacing / ((1 − λ) + λ / (|I(p) − I(q)| + 1e-5)).
//
// Where the code and the paper differ: the paper (as DeepIGeoS) describes λ
// as a weighting between the Euclidean distance (λ = 0) and the intensity
// gradient (λ = 1). The code's "speed" blend is harmonic, not a weighted sum:
// at λ = 0.5 a step across flat intensity costs ~2e-5·‖Δx‖ and a step across
// a large jump at most 2·‖Δx‖, so the distance is Euclid-bounded and depends
// on the image's intensity units (PA-Seg feeds the raw FLAIR). We follow the
// code, since PA-Seg's labels come from it.
//
// GeodisTK's half-kernel is not the causal half of a raster scan: the forward
// set is, for every slice offset dk ∈ {−1, 0, 1}, the in-plane offsets
// (dj, di) that precede (0, 0) in row order, plus (−1, 0, 0). So the forward
// pass also reads next-slice voxels not yet updated in that pass (values from
// the previous pass). We use the same set so that results match GeodisTK;
// the union with the backward set is still the full 26-neighbourhood, and
// more iterations converge to the exact shortest path on that graph.
//
// Layout: dims and spacing are fastest-first ([i, j, k], like Volume), so
// GeodisTK's (d, h, w) axes are our (k, j, i) and its memory order is ours.
import type { Vec3 } from '../io/affine.js';

export interface GeodesicOptions {
  /** 0 = Euclidean distance, 1 = intensity only; default 0.5 (PA-Seg). */
  lambda?: number;
  /** Forward + backward pass pairs; default 4 (PA-Seg). */
  iterations?: number;
}

type Arr = ArrayLike<number>;

function checkCommon(fn: string, image: Arr, dims: readonly number[], spacing: readonly number[], seeds: Arr, rank: number, opts: GeodesicOptions): { n: number; lambda: number; iterations: number } {
  if (dims.length !== rank || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(`${fn}: dims must be ${rank} positive integers (fastest axis first), got [${dims.join(', ')}]`);
  }
  if (spacing.length !== rank || spacing.some((s) => !(s > 0) || !Number.isFinite(s))) {
    throw new Error(`${fn}: spacing must be ${rank} positive finite numbers, got [${spacing.join(', ')}]`);
  }
  const n = dims.reduce((a, b) => a * b, 1);
  if (image.length !== n) throw new Error(`${fn}: image has ${image.length} voxels but dims [${dims.join(', ')}] need ${n}`);
  if (seeds.length !== n) throw new Error(`${fn}: seeds has ${seeds.length} voxels but dims [${dims.join(', ')}] need ${n}`);
  const lambda = opts.lambda ?? 0.5;
  const iterations = opts.iterations ?? 4;
  if (!(lambda >= 0 && lambda <= 1)) throw new Error(`${fn}: lambda must be in [0, 1], got ${lambda}`);
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`${fn}: iterations must be an integer ≥ 1, got ${iterations}`);
  return { n, lambda, iterations };
}

/** Float32 distances: 0 on seeds, ∞ elsewhere; throws when no voxel is a seed. */
function initDistance(fn: string, seeds: Arr, n: number): Float32Array {
  const dist = new Float32Array(n);
  let count = 0;
  for (let p = 0; p < n; p++) {
    if (seeds[p] > 0) { count++; } else { dist[p] = Infinity; }
  }
  if (count === 0) throw new Error(`${fn}: seeds has no voxel > 0; at least one seed is needed`);
  return dist;
}

/** min(best, D(q) + step cost); a neighbour with D(q) ≥ best cannot improve (costs are ≥ 0), so its division is skipped. */
function relax(dist: Float32Array, img: Float32Array, v: number, best: number, q: number, len: number, a: number, lambda: number): number {
  const dq = dist[q];
  if (dq >= best) return best;
  // len / (a + λ/(g + ε)) rewritten as len·(g + ε) / (a·(g + ε) + λ): one division.
  const g = Math.abs(v - img[q]) + 1e-5;
  const c = dq + (len * g) / (a * g + lambda);
  return c < best ? c : best;
}

/**
 * Geodesic distance from the seeds (voxels > 0) on a 3D image, GeodisTK's
 * raster scan over the 26-neighbourhood with spacing-aware steps.
 * `dims` and `spacing` are fastest-first ([i, j, k]); returns Float32 distances.
 */
export function geodesicDistance3d(image: Arr, dims: Vec3 | readonly number[], spacing: Vec3 | readonly number[], seeds: Arr, opts: GeodesicOptions = {}): Float32Array {
  const fn = 'geodesicDistance3d';
  const { n, lambda, iterations } = checkCommon(fn, image, dims, spacing, seeds, 3, opts);
  const [nx, ny, nz] = dims;
  const img = Float32Array.from(image); // GeodisTK reads float32
  const dist = initDistance(fn, seeds, n);
  // Forward half: (dk, dj, di) with (dj, di) before (0, 0) in row order, plus (−1, 0, 0).
  const fwd: number[][] = [];
  for (let dk = -1; dk <= 1; dk++) {
    for (const [dj, di] of [[-1, -1], [-1, 0], [-1, 1], [0, -1]]) fwd.push([di, dj, dk]);
  }
  fwd.push([0, 0, -1]);
  const bwd = fwd.map((o) => o.map((v) => -v));
  const table = (set: number[][]) => {
    const m = set.length;
    const di = new Int32Array(m); const dj = new Int32Array(m); const dk = new Int32Array(m);
    const off = new Int32Array(m); const len = new Float64Array(m);
    set.forEach(([a, b, c], t) => {
      di[t] = a; dj[t] = b; dk[t] = c;
      off[t] = a + nx * (b + ny * c);
      len[t] = Math.sqrt((a * spacing[0]) ** 2 + (b * spacing[1]) ** 2 + (c * spacing[2]) ** 2);
    });
    return { m, di, dj, dk, off, len };
  };
  const F = table(fwd);
  const B = table(bwd);
  const a = 1 - lambda;

  const pass = (T: ReturnType<typeof table>, forward: boolean): void => {
    const { m, di, dj, dk, off, len } = T;
    for (let kk = 0; kk < nz; kk++) {
      const k = forward ? kk : nz - 1 - kk;
      for (let jj = 0; jj < ny; jj++) {
        const j = forward ? jj : ny - 1 - jj;
        const rowInside = k > 0 && k < nz - 1 && j > 0 && j < ny - 1;
        const rowBase = nx * (j + ny * k);
        for (let ii = 0; ii < nx; ii++) {
          const i = forward ? ii : nx - 1 - ii;
          const p = rowBase + i;
          let best = dist[p];
          const v = img[p];
          if (rowInside && i > 0 && i < nx - 1) {
            for (let t = 0; t < m; t++) best = relax(dist, img, v, best, p + off[t], len[t], a, lambda);
          } else {
            for (let t = 0; t < m; t++) {
              const qi = i + di[t]; const qj = j + dj[t]; const qk = k + dk[t];
              if (qi < 0 || qi >= nx || qj < 0 || qj >= ny || qk < 0 || qk >= nz) continue;
              best = relax(dist, img, v, best, p + off[t], len[t], a, lambda);
            }
          }
          dist[p] = best;
        }
      }
    }
  };
  for (let it = 0; it < iterations; it++) {
    pass(F, true);
    pass(B, false);
  }
  return dist;
}

/**
 * 2D version (GeodisTK's geodesic2d_raster_scan: 8-neighbourhood, forward
 * half (−1, −1), (−1, 0), (−1, 1), (0, −1) in (row, column)). GeodisTK has
 * no spacing in 2D; ours defaults to [1, 1], which matches it.
 */
export function geodesicDistance2d(image: Arr, dims: readonly number[], seeds: Arr, opts: GeodesicOptions & { spacing?: readonly number[] } = {}): Float32Array {
  const fn = 'geodesicDistance2d';
  const spacing = opts.spacing ?? [1, 1];
  const { n, lambda, iterations } = checkCommon(fn, image, dims, spacing, seeds, 2, opts);
  const [nx, ny] = dims;
  const img = Float32Array.from(image);
  const dist = initDistance(fn, seeds, n);
  const fwd = [[-1, -1], [0, -1], [1, -1], [-1, 0]]; // (di, dj)
  const a = 1 - lambda;
  const eps = 1e-5;
  const lens = fwd.map(([di, dj]) => Math.hypot(di * spacing[0], dj * spacing[1]));
  for (let it = 0; it < iterations; it++) {
    for (const s of [1, -1]) {
      for (let jj = 0; jj < ny; jj++) {
        const j = s > 0 ? jj : ny - 1 - jj;
        for (let ii = 0; ii < nx; ii++) {
          const i = s > 0 ? ii : nx - 1 - ii;
          const p = i + nx * j;
          let best = dist[p];
          const v = img[p];
          for (let t = 0; t < 4; t++) {
            const qi = i + s * fwd[t][0]; const qj = j + s * fwd[t][1];
            if (qi < 0 || qi >= nx || qj < 0 || qj >= ny) continue;
            const q = qi + nx * qj;
            const g = Math.abs(v - img[q]) + eps;
            const c = dist[q] + (lens[t] * g) / (a * g + lambda);
            if (c < best) best = c;
          }
          dist[p] = best;
        }
      }
    }
  }
  return dist;
}

// ------------------------------------------------------------ seed expansion

/** A clicked point: class 0 = background, ≥ 1 = foreground; `lesion` groups a tumour's seven points. */
export interface SeedPoint {
  class: number;
  ijk: Vec3 | readonly number[];
  lesion: number;
}

export interface ExpandSeedsOptions extends GeodesicOptions {
  /** Foreground where D < threshold·max(D) inside the box; default 0.2 (PA-Seg's README; its code default is 0.1). */
  threshold?: number;
  /** BraTS rule: voxels at the image's minimum (air) are background; default false (PA-Seg's VS script has no such rule). */
  airIsBackground?: boolean;
}

/** Labels of `expandSeeds`. */
export const SEED_BACKGROUND = 0;
export const SEED_FOREGROUND = 1;
export const SEED_UNLABELLED = 2;

/**
 * PA-Seg's expansion of seven points into a partial label map (methods.md §4a):
 * per lesion, the geodesic distance from its foreground point(s) inside the
 * bounding box of all its points (inclusive), foreground (1) where
 * D < threshold·max D, unlabelled (2) elsewhere in the box, background (0)
 * outside it; with `airIsBackground`, voxels equal to the image minimum become
 * 0. Several lesions merge as PA-Seg's two-tumour case: 1 if any lesion says
 * 1, 0 if all say 0, else 2. Strict `<` as in the code: a box holding only the
 * seed (max D = 0) labels nothing foreground.
 */
export function expandSeeds(image: { data: Arr; dims: Vec3 | readonly number[] }, points: readonly SeedPoint[], spacing: Vec3 | readonly number[], opts: ExpandSeedsOptions = {}): Uint8Array {
  const fn = 'expandSeeds';
  const dims = image.dims;
  if (dims.length !== 3) throw new Error(`${fn}: image.dims must have 3 entries, got [${dims.join(', ')}]`);
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  if (image.data.length !== n) throw new Error(`${fn}: image.data has ${image.data.length} voxels but dims [${dims.join(', ')}] need ${n} (one channel)`);
  const threshold = opts.threshold ?? 0.2;
  if (!(threshold > 0 && threshold <= 1)) throw new Error(`${fn}: threshold must be in (0, 1], got ${threshold}`);
  if (points.length === 0) throw new Error(`${fn}: points is empty; PA-Seg needs one foreground and six background points per lesion`);
  const lesions = new Map<number, SeedPoint[]>();
  for (const [idx, pt] of points.entries()) {
    const c = pt.ijk;
    if (c.length !== 3 || c.some((v, a) => !Number.isInteger(v) || v < 0 || v >= dims[a])) {
      throw new Error(`${fn}: points[${idx}].ijk = [${c.join(', ')}] is not an integer voxel inside dims [${dims.join(', ')}]`);
    }
    const list = lesions.get(pt.lesion) ?? [];
    list.push(pt);
    lesions.set(pt.lesion, list);
  }
  const per: Uint8Array[] = [];
  for (const [lesion, pts] of [...lesions.entries()].sort((x, y) => x[0] - y[0])) {
    if (!pts.some((p) => p.class > 0)) throw new Error(`${fn}: lesion ${lesion} has no foreground point (class ≥ 1)`);
    const lo = [0, 1, 2].map((a) => Math.min(...pts.map((p) => p.ijk[a])));
    const hi = [0, 1, 2].map((a) => Math.max(...pts.map((p) => p.ijk[a])));
    const bd = [0, 1, 2].map((a) => hi[a] - lo[a] + 1);
    const m = bd[0] * bd[1] * bd[2];
    const crop = new Float32Array(m);
    const seeds = new Uint8Array(m);
    for (let k = 0; k < bd[2]; k++) {
      for (let j = 0; j < bd[1]; j++) {
        const src = lo[0] + nx * (lo[1] + j + ny * (lo[2] + k));
        const dst = bd[0] * (j + bd[1] * k);
        for (let i = 0; i < bd[0]; i++) crop[dst + i] = image.data[src + i];
      }
    }
    for (const p of pts) {
      if (p.class > 0) seeds[(p.ijk[0] - lo[0]) + bd[0] * ((p.ijk[1] - lo[1]) + bd[1] * (p.ijk[2] - lo[2]))] = 1;
    }
    const d = geodesicDistance3d(crop, bd, spacing, seeds, opts);
    let max = 0;
    for (let q = 0; q < m; q++) if (d[q] > max) max = d[q];
    const cut = max * threshold;
    const lab = new Uint8Array(n); // 0 outside the box
    for (let k = 0; k < bd[2]; k++) {
      for (let j = 0; j < bd[1]; j++) {
        const dst = lo[0] + nx * (lo[1] + j + ny * (lo[2] + k));
        const src = bd[0] * (j + bd[1] * k);
        for (let i = 0; i < bd[0]; i++) lab[dst + i] = d[src + i] < cut ? SEED_FOREGROUND : SEED_UNLABELLED;
      }
    }
    per.push(lab);
  }
  let out = per[0];
  if (per.length > 1) {
    out = new Uint8Array(n);
    for (let p = 0; p < n; p++) {
      let any1 = false; let all0 = true;
      for (const l of per) { if (l[p] === SEED_FOREGROUND) any1 = true; if (l[p] !== SEED_BACKGROUND) all0 = false; }
      out[p] = any1 ? SEED_FOREGROUND : all0 ? SEED_BACKGROUND : SEED_UNLABELLED;
    }
  }
  if (opts.airIsBackground) {
    // PA-Seg applies the air rule to each lesion before merging; merging
    // keeps 0 only where all lesions say 0, so applying it once after is the same.
    let min = Infinity;
    for (let p = 0; p < n; p++) if (image.data[p] < min) min = image.data[p];
    for (let p = 0; p < n; p++) if (image.data[p] === min) out[p] = SEED_BACKGROUND;
  }
  return out;
}
