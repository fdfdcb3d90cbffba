// Spatial augmentation as ONE resampling.
//
// Every spatial transform (flip, rot90, rotation, scaling, translation, crop,
// resize, elastic deformation) is a *step* that maps voxel positions of its
// output back to voxel positions of its input. A chain of steps is fused into
// one map from the final output grid to the original input, so each tensor is
// interpolated once (not once per step) and a crop followed by a rotation
// still sees real data outside the crop box, as nnU-Net's enlarged patches do.
//
// Conventions (all of them in ARRAY-AXIS order of the spatial dims, i.e. the
// tensor's [.., Z, Y, X] order; a Volume's (i, j, k) is the reverse):
// - voxel coordinates: voxel centres at integers 0..n-1;
// - a step's matrix A maps output offsets to input offsets about the two
//   centres: input = inCenter + A · (output − outCenter);
// - `F.gridSample` is called with alignCorners=false everywhere; the
//   normalised coordinates are derived from the voxel coordinates with that
//   convention, so voxel p of the input is exactly voxel p (not half a voxel
//   off) and a point annotation at p lands where the image content at p lands.
// - flips, rot90 and integer crops/translations that fuse to a signed axis
//   permutation with an integer shift are done by exact index operations
//   (permute / flip / pad), never by interpolation.
import * as torch from '@labelwise/torch';
import { F, type Tensor } from '@labelwise/torch';
import type { SpatialDims } from './augment-params.js';
import { gaussianFilter, gaussianKernel1d, kernelPower } from './augment-filters.js';
import { uniformTensor } from '../random/rng.js';

type Matrix = number[][];

/** An affine step: input = inCenter + matrix · (output − outCenter). */
export interface AffineStep {
  kind: 'affine';
  /** What made it (for messages and debugging). */
  name: string;
  inShape: number[];
  outShape: number[];
  /** d×d, row-major nested arrays. */
  matrix: number[][];
  inCenter: number[];
  outCenter: number[];
}

/**
 * An elastic step: input = output + d(output), d a smooth random field
 * (batchgenerators' definition: uniform noise in [−1, 1] Gaussian-smoothed
 * with σ voxels, zero-padded at the border, times alpha). The field is drawn
 * on a coarse lattice of spacing ≤ `step` voxels, smoothed there with σ/step
 * and interpolated linearly; its amplitude is rescaled so that its variance
 * equals that of the full-resolution field. step = 1 is the full-resolution
 * computation. `seed` names the noise stream (uniformTensor).
 */
export interface ElasticStep {
  kind: 'elastic';
  name: string;
  shape: number[];
  alpha: number;
  sigma: number;
  step: number;
  seed: number;
}

export type SpatialStep = AffineStep | ElasticStep;

// ---- small dense linear algebra on d×d matrices ---------------------------------

const identity = (d: number): Matrix => Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 1 : 0)));
const matmul = (a: Matrix, b: Matrix): Matrix => a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
const matvec = (a: Matrix, v: readonly number[]): number[] => a.map((row) => row.reduce((s, x, k) => s + x * v[k], 0));
const transposeOf = (a: Matrix): Matrix => a[0].map((_, j) => a.map((row) => row[j]));
const center = (shape: readonly number[]): number[] => shape.map((n) => (n - 1) / 2);

/** Inverse by Gauss–Jordan with partial pivoting; throws for a singular matrix. */
function invert(a: Matrix): Matrix {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...identity(n)[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    if (Math.abs(m[p][c]) < 1e-12) throw new RangeError(`spatial: singular transform matrix ${JSON.stringify(a)}`);
    [m[c], m[p]] = [m[p], m[c]];
    const piv = m[c][c];
    for (let j = 0; j < 2 * n; j++) m[c][j] /= piv;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c];
      if (f !== 0) for (let j = 0; j < 2 * n; j++) m[r][j] -= f * m[c][j];
    }
  }
  return m.map((row) => row.slice(n));
}

// ---- step builders (pure functions of recorded parameters) ------------------------

function affine(name: string, inShape: readonly number[], outShape: readonly number[], matrix: Matrix, inCenter = center(inShape), outCenter = center(outShape)): AffineStep {
  return { kind: 'affine', name, inShape: [...inShape], outShape: [...outShape], matrix, inCenter, outCenter };
}

function checkAxes(fn: string, axes: readonly number[], d: number): void {
  for (const a of axes) if (!Number.isInteger(a) || a < 0 || a >= d) throw new RangeError(`${fn}: axis ${a} out of range for ${d} spatial dims`);
}

/** Mirrors the given axes. */
export function flipStep(shape: readonly number[], axes: readonly number[]): AffineStep {
  const d = shape.length;
  checkAxes('flipStep', axes, d);
  const m = identity(d);
  for (const a of axes) m[a][a] = -1;
  return affine('flip', shape, shape, m);
}

/**
 * Rotates by k·90° in the plane of axes [a, b], from a towards b, exactly as
 * torch.rot90 / numpy.rot90(x, k, axes=(a, b)) do; odd k swaps the two sizes.
 */
export function rot90Step(shape: readonly number[], k: number, axes: readonly [number, number]): AffineStep {
  const d = shape.length;
  checkAxes('rot90Step', axes, d);
  const [a, b] = axes;
  if (a === b) throw new RangeError(`rot90Step: the two axes must differ, got [${a}, ${b}]`);
  if (!Number.isInteger(k)) throw new RangeError(`rot90Step: k must be an integer, got ${k}`);
  const kk = ((k % 4) + 4) % 4;
  // Content map R (R e_a = e_b, R e_b = −e_a); sampling uses R^T per quarter turn.
  let m = identity(d);
  const q = identity(d);
  q[a][a] = 0;
  q[b][b] = 0;
  q[a][b] = 1;
  q[b][a] = -1;
  for (let i = 0; i < kk; i++) m = matmul(m, q);
  const out = [...shape];
  if (kk % 2 === 1) [out[a], out[b]] = [shape[b], shape[a]];
  return affine('rot90', shape, out, m);
}

/** The content rotation matrix: 2D one angle (from axis 0 towards axis 1); 3D R0(θ0)·R1(θ1)·R2(θ2), Ra rotating the plane of the other two axes p < q from p towards q. */
export function rotationMatrix(degrees: readonly number[], d: SpatialDims): number[][] {
  const rot = (p: number, q: number, deg: number): Matrix => {
    const m = identity(d);
    const t = (deg * Math.PI) / 180;
    const c = Math.cos(t);
    const s = Math.sin(t);
    m[p][p] = c;
    m[q][q] = c;
    m[p][q] = -s;
    m[q][p] = s;
    return m;
  };
  if (d === 2) {
    if (degrees.length !== 1) throw new RangeError(`rotationMatrix: 2D rotation takes one angle, got ${degrees.length}`);
    return rot(0, 1, degrees[0]);
  }
  if (degrees.length !== 3) throw new RangeError(`rotationMatrix: 3D rotation takes one angle per axis (3), got ${degrees.length}`);
  return matmul(matmul(rot(1, 2, degrees[0]), rot(0, 2, degrees[1])), rot(0, 1, degrees[2]));
}

/** Rotates the content about the centre by `degrees` (see rotationMatrix). */
export function rotateStep(shape: readonly number[], degrees: readonly number[]): AffineStep {
  const d = shape.length as SpatialDims;
  return affine('rotate', shape, shape, transposeOf(rotationMatrix(degrees, d)));
}

/**
 * Scales sampling coordinates about the centre by `factors` (nnU-Net /
 * batchgenerators convention: input offset = factor × output offset, so a
 * factor < 1 zooms in and content looks larger).
 */
export function scaleStep(shape: readonly number[], factors: readonly number[]): AffineStep {
  const d = shape.length;
  if (factors.length !== d || factors.some((f) => !(f > 0) || !Number.isFinite(f))) {
    throw new RangeError(`scaleStep: expected ${d} finite factors > 0, got [${factors.join(', ')}]`);
  }
  const m = identity(d);
  factors.forEach((f, a) => (m[a][a] = f));
  return affine('scale', shape, shape, m);
}

/** Moves content by `shift` voxels (content at p goes to p + shift). */
export function translateStep(shape: readonly number[], shift: readonly number[]): AffineStep {
  const d = shape.length;
  if (shift.length !== d) throw new RangeError(`translateStep: expected ${d} shifts, got ${shift.length}`);
  const c = center(shape);
  return affine('translate', shape, shape, identity(d), c, c.map((v, a) => v + shift[a]));
}

/** Takes the box [start, start + size) of the input (parts outside are padded). */
export function cropStep(shape: readonly number[], start: readonly number[], size: readonly number[]): AffineStep {
  const d = shape.length;
  if (start.length !== d || size.length !== d || size.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new RangeError(`cropStep: expected ${d} starts and ${d} positive integer sizes, got start [${start.join(', ')}], size [${size.join(', ')}]`);
  }
  return affine('crop', shape, size, identity(d), start.map((s, a) => s + (size[a] - 1) / 2), center(size));
}

/**
 * Resamples the whole input extent to `size`: half-pixel geometry as
 * F.interpolate(alignCorners=false), or corner-aligned as
 * scipy.ndimage.zoom (grid_mode=False) / alignCorners=true.
 */
export function resizeStep(shape: readonly number[], size: readonly number[], alignCorners = false): AffineStep {
  const d = shape.length;
  if (size.length !== d || size.some((s) => !Number.isInteger(s) || s < 1)) throw new RangeError(`resizeStep: expected ${d} positive integer sizes, got [${size.join(', ')}]`);
  const m = identity(d);
  for (let a = 0; a < d; a++) m[a][a] = alignCorners && size[a] > 1 ? (shape[a] - 1) / (size[a] - 1) : shape[a] / size[a];
  return affine('resize', shape, size, m);
}

/** An elastic deformation step (see ElasticStep). */
export function elasticStep(shape: readonly number[], alpha: number, sigma: number, seed: number, step = 1): ElasticStep {
  if (!(sigma > 0) || !Number.isFinite(alpha) || !(step >= 1) || !Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`elasticStep: expected sigma > 0, finite alpha, step ≥ 1 and an integer seed ≥ 0, got sigma ${sigma}, alpha ${alpha}, step ${step}, seed ${seed}`);
  }
  return { kind: 'elastic', name: 'elastic', shape: [...shape], alpha, sigma, step, seed };
}

export const stepOutShape = (s: SpatialStep): number[] => (s.kind === 'affine' ? s.outShape : s.shape);
export const stepInShape = (s: SpatialStep): number[] => (s.kind === 'affine' ? s.inShape : s.shape);

// ---- fusion ------------------------------------------------------------------------------

/** An affine map of voxel positions: x ↦ L·x + t. */
export interface AffineMap {
  L: number[][];
  t: number[];
}

/** A chain fused into: input = pre(post(o) + d(post(o))) with d from `elastic`, or input = map(o). */
export interface FusedChain {
  inShape: number[];
  outShape: number[];
  /** The whole map when there is no elastic step, else pre ∘ post. */
  map: AffineMap;
  elastic: { step: ElasticStep; pre: AffineMap; post: AffineMap } | null;
}

const compose = (outer: AffineMap, inner: AffineMap): AffineMap => ({ L: matmul(outer.L, inner.L), t: matvec(outer.L, inner.t).map((v, i) => v + outer.t[i]) });
const idMap = (d: number): AffineMap => ({ L: identity(d), t: new Array<number>(d).fill(0) });

/** Fuses a chain (forward order, first step applied to the input first) into one map from output to input voxels. */
export function fuseChain(steps: readonly SpatialStep[], inShape: readonly number[]): FusedChain {
  const d = inShape.length;
  let shape = [...inShape];
  for (const s of steps) {
    const si = stepInShape(s);
    if (si.length !== d || si.some((n, a) => n !== shape[a])) {
      throw new RangeError(`fuseChain: step '${s.name}' expects input shape [${si.join(', ')}] but the chain has [${shape.join(', ')}] there`);
    }
    shape = stepOutShape(s);
  }
  let cur = idMap(d);
  let elastic: FusedChain['elastic'] = null;
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i];
    if (s.kind === 'affine') {
      const b = s.inCenter.map((c, a) => c - s.matrix[a].reduce((acc, v, k) => acc + v * s.outCenter[k], 0));
      cur = compose({ L: s.matrix, t: b }, cur);
    } else {
      if (elastic) throw new RangeError('fuseChain: at most one elastic step can be fused into one resampling; put the second one in a later group');
      elastic = { step: s, post: cur, pre: idMap(d) };
      cur = idMap(d);
    }
  }
  if (elastic) {
    elastic.pre = cur;
    cur = compose(cur, elastic.post);
  }
  return { inShape: [...inShape], outShape: shape, map: cur, elastic };
}

const EPS = 1e-9;

/** Whether a fused chain is a signed axis permutation with an integer shift (exact by indexing). */
export function exactPermutation(f: FusedChain): { perm: number[]; sign: number[]; shift: number[] } | null {
  if (f.elastic) return null;
  const d = f.inShape.length;
  const perm = new Array<number>(d).fill(-1);
  const sign = new Array<number>(d).fill(0);
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < d; b++) {
      const v = f.map.L[a][b];
      if (Math.abs(v) < EPS) continue;
      if (Math.abs(Math.abs(v) - 1) > EPS || perm[a] !== -1) return null;
      perm[a] = b;
      sign[a] = Math.sign(v);
    }
    if (perm[a] === -1) return null;
  }
  if (new Set(perm).size !== d) return null;
  const shift = f.map.t.map((v) => Math.round(v));
  if (f.map.t.some((v, a) => Math.abs(v - shift[a]) > 1e-6)) return null;
  return { perm, sign, shift };
}

const isIdentity = (f: FusedChain): boolean =>
  !f.elastic && f.inShape.every((n, a) => n === f.outShape[a]) && f.map.L.every((row, i) => row.every((v, j) => Math.abs(v - (i === j ? 1 : 0)) < EPS)) && f.map.t.every((v) => Math.abs(v) < 1e-6);

// ---- elastic fields ------------------------------------------------------------------------

/** The coarse lattice of an elastic field: node counts and their spacing in voxels. */
export function elasticLattice(shape: readonly number[], step: number): { nodes: number[]; spacing: number[] } {
  const nodes = shape.map((n) => (n <= 1 ? 1 : Math.ceil((n - 1) / step) + 1));
  const spacing = shape.map((n, a) => (n <= 1 ? 1 : (n - 1) / (nodes[a] - 1)));
  return { nodes, spacing };
}

/** The displacement field of an elastic step on its coarse lattice: [1, d, ...nodes], in voxels. */
export function elasticField(s: ElasticStep): Tensor {
  const d = s.shape.length;
  const { nodes, spacing } = elasticLattice(s.shape, s.step);
  return torch.tidy(() => {
    const noise = uniformTensor(s.seed, [1, d, ...nodes], -1, 1);
    const sig = spacing.map((h) => s.sigma / h);
    const smooth = gaussianFilter(noise, Array.from({ length: d }, () => sig), { mode: 'constant' });
    // Variance of smoothed white noise is Σw²; match the full-resolution field's.
    let gain = 1;
    for (let a = 0; a < d; a++) {
      if (s.shape[a] <= 1) continue;
      gain *= Math.sqrt(kernelPower(gaussianKernel1d(s.sigma)) / kernelPower(gaussianKernel1d(sig[a])));
    }
    return smooth.mul_(s.alpha * gain);
  });
}

/** Evaluates a coarse field (data of elasticField) at voxel position x, multilinearly with border clamping. */
function evalField(data: Float32Array, nodes: readonly number[], spacing: readonly number[], x: readonly number[]): number[] {
  const d = nodes.length;
  const lo: number[] = [];
  const fr: number[] = [];
  for (let a = 0; a < d; a++) {
    const q = Math.min(Math.max(x[a] / spacing[a], 0), nodes[a] - 1);
    const i0 = Math.min(Math.floor(q), Math.max(nodes[a] - 2, 0));
    lo.push(i0);
    fr.push(nodes[a] > 1 ? q - i0 : 0);
  }
  const strides = nodes.map((_, a) => nodes.slice(a + 1).reduce((p, n) => p * n, 1));
  const vol = nodes.reduce((p, n) => p * n, 1);
  const out = new Array<number>(d).fill(0);
  for (let corner = 0; corner < 1 << d; corner++) {
    let w = 1;
    let off = 0;
    for (let a = 0; a < d; a++) {
      const up = (corner >> (d - 1 - a)) & 1;
      if (up && nodes[a] === 1) {
        w = 0;
        break;
      }
      w *= up ? fr[a] : 1 - fr[a];
      off += (lo[a] + up) * strides[a];
    }
    if (w === 0) continue;
    for (let c = 0; c < d; c++) out[c] += w * data[c * vol + off];
  }
  return out;
}

// ---- points ----------------------------------------------------------------------------------

/**
 * Maps point annotations (voxel coordinates of the input, array-axis order)
 * through a chain to voxel coordinates of the output: the analytic inverse of
 * the sampling map, so a point follows the image content. Elastic steps are
 * inverted by fixed-point iteration. Points that leave the output keep their
 * (out-of-range) coordinates.
 */
export function transformPoints(points: readonly (readonly number[])[], steps: readonly SpatialStep[], fields?: Map<ElasticStep, Tensor>): number[][] {
  let pts = points.map((p) => [...p]);
  for (const s of steps) {
    if (s.kind === 'affine') {
      const inv = invert(s.matrix);
      pts = pts.map((p) => matvec(inv, p.map((v, a) => v - s.inCenter[a])).map((v, a) => v + s.outCenter[a]));
    } else {
      const own = fields?.get(s);
      const field = own ?? elasticField(s);
      try {
        const data = field.toTypedArray() as Float32Array;
        const { nodes, spacing } = elasticLattice(s.shape, s.step);
        pts = pts.map((y) => {
          // Solve x + d(x) = y.
          let x = [...y];
          for (let it = 0; it < 200; it++) {
            const dx = evalField(data, nodes, spacing, x);
            const next = y.map((v, a) => v - dx[a]);
            const delta = Math.max(...next.map((v, a) => Math.abs(v - x[a])));
            x = next;
            if (delta < 1e-7) break;
          }
          return x;
        });
      } finally {
        if (!own) field.dispose();
      }
    }
  }
  return pts;
}

// ---- resampling ---------------------------------------------------------------------------------

export type ImageInterpolation = 'linear' | 'nearest' | 'cubic';
export type LabelInterpolation = 'nearest' | 'linear';

export interface ResampleOptions {
  /** Image interpolation: 'linear' (bi/trilinear, default), 'nearest', or 'cubic' (2D only). */
  image?: ImageInterpolation;
  /** Label interpolation: 'nearest' (default) or 'linear' (per-class one-hot, linear, argmax: smoother borders). */
  label?: LabelInterpolation;
  /** Image value outside the input. Default 0. */
  imagePad?: number;
  /**
   * Image border: 'constant' (default: imagePad outside, blended over the
   * last half voxel as scipy's grid-constant / nnU-Net) or 'replicate' (edge
   * values continue, as F.interpolate does at its borders).
   */
  imageBorder?: 'constant' | 'replicate';
  /** Label value outside the input (0, or an ignore label). Default 0. */
  labelPad?: number;
  /** Weight-map value outside the input. Default 0. */
  weightPad?: number;
}

/** A batch in resampling form: image [B, C, ...], label [B, Cl, ...] (integer or float), weight [B, Cw, ...]. */
export interface SpatialBatch {
  image: Tensor;
  label?: Tensor;
  weight?: Tensor;
  /** Per sample, point annotations in voxel coordinates (array-axis order). */
  points?: number[][][];
}

/**
 * Applies one chain of steps per batch element (all chains must start at the
 * batch's spatial shape and end at one common shape) with one interpolation
 * per tensor. Returns new tensors (or the input tensors themselves when every
 * chain is the identity).
 */
export function applySpatial(batch: SpatialBatch, chains: readonly (readonly SpatialStep[])[], options: ResampleOptions = {}): SpatialBatch {
  const { image } = batch;
  const B = image.shape[0];
  const d = image.ndim - 2;
  if (d !== 2 && d !== 3) throw new RangeError(`applySpatial: expected image [B, C, ...spatial] with 2 or 3 spatial dims, got [${image.shape.join(', ')}]`);
  if (chains.length !== B) throw new RangeError(`applySpatial: expected one chain per batch element (${B}), got ${chains.length}`);
  const inShape = image.shape.slice(2);
  for (const [key, t] of [['label', batch.label], ['weight', batch.weight]] as const) {
    if (t && (t.ndim !== image.ndim || t.shape[0] !== B || t.shape.slice(2).some((n, a) => n !== inShape[a]))) {
      throw new RangeError(`applySpatial: ${key} must be [${B}, C, ${inShape.join(', ')}] like the image, got [${t.shape.join(', ')}]`);
    }
  }
  if (batch.points && batch.points.length !== B) throw new RangeError(`applySpatial: expected point lists for ${B} samples, got ${batch.points.length}`);
  const fused = chains.map((c) => fuseChain(c, inShape));
  const outShape = fused[0].outShape;
  fused.forEach((f, b) => {
    if (f.outShape.some((n, a) => n !== outShape[a])) {
      throw new RangeError(`applySpatial: sample ${b} ends at shape [${f.outShape.join(', ')}] but sample 0 at [${outShape.join(', ')}]; add a crop or resize to a fixed size`);
    }
  });
  if (options.image === 'cubic' && d !== 2) throw new RangeError("applySpatial: image interpolation 'cubic' is only available for 2D (gridSample has no tricubic mode)");

  const fields = new Map<ElasticStep, Tensor>();
  try {
    const out = torch.tidy(() => {
      if (fused.every(isIdentity)) return { image, label: batch.label, weight: batch.weight };
      for (const f of fused) if (f.elastic) fields.set(f.elastic.step, torch.keep(elasticField(f.elastic.step)));
      const exact = fused.map(exactPermutation);
      const generalIdx = fused.map((_, b) => b).filter((b) => exact[b] === null);
      const parts: { image: Tensor; label?: Tensor; weight?: Tensor }[] = new Array(B);
      // Exact samples: index operations, one sample at a time.
      for (let b = 0; b < B; b++) {
        const e = exact[b];
        if (!e) continue;
        const take = (t: Tensor, pad: number | 'replicate') => exactResample(t.select(0, b), e, outShape, pad).unsqueeze(0);
        parts[b] = {
          image: take(image, options.imageBorder === 'replicate' ? 'replicate' : options.imagePad ?? 0),
          label: batch.label && take(batch.label, options.labelPad ?? 0),
          weight: batch.weight && take(batch.weight, options.weightPad ?? 0),
        };
      }
      if (generalIdx.length > 0) {
        const sub = (t: Tensor) => (generalIdx.length === B ? t : t.indexSelect(0, torch.tensor(generalIdx, { dtype: 'int64' })));
        const grid = samplingGrid(generalIdx.map((b) => fused[b]), fields, inShape, outShape);
        const img = sampleImage(sub(image), grid, options);
        const lab = batch.label && sampleLabel(sub(batch.label), grid, options);
        const wgt = batch.weight && sampleWith(sub(batch.weight), grid, 'bilinear', options.weightPad ?? 0);
        generalIdx.forEach((b, i) => {
          parts[b] = { image: img.narrow(0, i, 1), label: lab?.narrow(0, i, 1), weight: wgt?.narrow(0, i, 1) };
        });
      }
      const cat = (key: 'image' | 'label' | 'weight') => (B === 1 ? parts[0][key]!.contiguous() : torch.cat(parts.map((p) => p[key]!), 0));
      return { image: cat('image'), label: batch.label && cat('label'), weight: batch.weight && cat('weight') };
    });
    const points = batch.points?.map((p, b) => transformPoints(p, chains[b], fields));
    return { ...out, points };
  } finally {
    for (const t of fields.values()) {
      torch.unkeep(t);
      t.dispose();
    }
  }
}

/** output[o] = x[perm/flip(o) + shift] for x [C, ...spatial], padding with `pad` outside. */
function exactResample(x: Tensor, e: { perm: number[]; sign: number[]; shift: number[] }, outShape: readonly number[], pad: number | 'replicate'): Tensor {
  const d = e.perm.length;
  // Output axis b reads input axis order[b].
  const order = new Array<number>(d);
  e.perm.forEach((b, a) => (order[b] = a));
  let y = x.permute([0, ...order.map((a) => a + 1)]);
  const flips = order.map((a, b) => (e.sign[a] < 0 ? b + 1 : -1)).filter((v) => v >= 0);
  if (flips.length > 0) y = y.flip(flips);
  const pads: number[] = [];
  for (let b = d - 1; b >= 0; b--) {
    const a = order[b];
    const n = x.shape[a + 1];
    const off = e.sign[a] > 0 ? e.shift[a] : n - 1 - e.shift[a];
    pads.push(-off, off + outShape[b] - n);
  }
  if (pads.every((p) => p === 0)) return y.contiguous();
  if (pad !== 'replicate') return F.pad(y, pads, { mode: 'constant', value: pad });
  // Replicate: crop the negative parts, then extend the edges by the positive ones.
  for (let b = 0; b < d; b++) {
    const [before, after] = [pads[2 * (d - 1 - b)], pads[2 * (d - 1 - b) + 1]];
    const n = y.shape[b + 1];
    const lo = Math.min(Math.max(0, -before), n - 1);
    const hi = Math.max(Math.min(n, n + after), lo + 1);
    y = y.narrow(b + 1, lo, hi - lo);
  }
  const grow = pads.map((p) => Math.max(0, p));
  return grow.every((p) => p === 0) ? y.contiguous() : F.pad(y, grow, { mode: 'replicate' });
}

// Normalised (alignCorners=false) coordinates: u = (2x + 1)/n − 1, x = (n u + n − 1)/2.
function thetaFor(map: AffineMap, inShape: readonly number[], outShape: readonly number[], targetNorm: (a: number) => [number, number]): number[][] {
  const d = inShape.length;
  // x_out = D u + e
  const D = outShape.map((n) => n / 2);
  const e = outShape.map((n) => (n - 1) / 2);
  const arr: number[][] = [];
  for (let a = 0; a < d; a++) {
    const [s, o] = targetNorm(a); // target u_a = s · x_a + o
    const row: number[] = [];
    let c = map.t[a];
    for (let b = 0; b < d; b++) {
      row.push(s * map.L[a][b] * D[b]);
      c += map.L[a][b] * e[b];
    }
    row.push(s * c + o);
    arr.push(row);
  }
  // gridSample wants (x, y[, z]) = reversed array axes, for rows and columns.
  return arr.map((_, r) => {
    const src = arr[d - 1 - r];
    return [...src.slice(0, d).reverse(), src[d]];
  });
}

/**
 * Components of the normalised grid of affine maps `theta` (rows: x, y[, z];
 * columns: x, y[, z], 1 — F.affineGrid's layout, alignCorners=false) over
 * outShape: one [...outShape] tensor per row. Built by broadcasting 1-D
 * coordinate vectors: F.affineGrid is a batched matrix product with an inner
 * size of 3, which the CPU BLAS handles slowly (tens of ms for 256²).
 */
function affineComponents(theta: readonly (readonly number[])[], outShape: readonly number[]): Tensor[] {
  const d = outShape.length;
  const lin = outShape.map((n, a) => torch.arange(0, n, { dtype: 'float32' }).mul_(2 / n).add_(1 / n - 1).reshape(outShape.map((m, b) => (b === a ? m : 1))));
  return theta.map((row) => {
    // Sum the small (leading-axis) terms first; the last array axis (x, column 0) makes it full size once.
    let small: Tensor = torch.full(outShape.map(() => 1), row[d], { dtype: 'float32' });
    for (let c = d - 1; c >= 1; c--) small = small.add(lin[d - 1 - c].mul(row[c]));
    return small.add(lin[d - 1].mul(row[0]));
  });
}

/** Σ_a w[a] · parts[a] + c, without BLAS (see affineComponents). */
function weightedSum(parts: readonly Tensor[], w: readonly number[], c: number): Tensor {
  let acc = parts[0].mul(w[0]).add_(c);
  for (let a = 1; a < parts.length; a++) if (w[a] !== 0) acc = acc.add_(parts[a], w[a]);
  return acc;
}

// The grid is built per sample: an elastic chain whose field lives on the
// output grid (nothing after the elastic step) takes the fast route below;
// others get the affine grid plus the field sampled where the chain needs it.
function samplingGrid(fused: readonly FusedChain[], fields: Map<ElasticStep, Tensor>, inShape: readonly number[], outShape: readonly number[]): Tensor {
  const d = inShape.length;
  const inNorm = (a: number): [number, number] => [2 / inShape[a], 1 / inShape[a] - 1];
  const grids = fused.map((f) => {
    if (!f.elastic) return torch.stack(affineComponents(thetaFor(f.map, inShape, outShape, inNorm), outShape), -1);
    const { step, pre, post } = f.elastic;
    const field = fields.get(step)!;
    // (Nin · pre.L) rows reordered to gridSample's (x, y[, z]): u_xyz[r] = Σ_a W[r][a] · v_a + c[r].
    const W = Array.from({ length: d }, (_, r) => pre.L[d - 1 - r].map((v) => (2 / inShape[d - 1 - r]) * v));
    const c = Array.from({ length: d }, (_, r) => (2 / inShape[d - 1 - r]) * pre.t[d - 1 - r] + 1 / inShape[d - 1 - r] - 1);
    const postIsId = isIdentityMap(post) && step.shape.every((n, a) => n === outShape[a]);
    if (postIsId) {
      // The grid is affine(x + d(x)) and d is multilinear on the field's
      // lattice, so the grid at the lattice nodes, interpolated multilinearly,
      // is exactly the full grid (interpolation reproduces affine maps): one
      // small computation and one interpolation instead of full-size passes.
      const { nodes, spacing } = elasticLattice(step.shape, step.step);
      const v = nodes.map((n, a) => {
        const pos = torch.arange(0, n, { dtype: 'float32' }).mul_(spacing[a]).reshape(nodes.map((m, b) => (b === a ? m : 1)));
        return field.select(1, a).squeeze(0).add(pos); // voxel positions x + d(x) in the step's space
      });
      const coarse = torch.stack(W.map((w, r) => weightedSum(v, w, c[r])), 0).unsqueeze(0); // [1, d(xyz), ...nodes]
      const full = F.interpolate(coarse, { size: [...outShape], mode: d === 2 ? 'bilinear' : 'trilinear', alignCorners: true });
      return full.squeeze(0).movedim(0, -1);
    }
    // General: the field sampled at post(o) (alignCorners=true on its lattice: u = 2x/(n−1) − 1).
    const fieldNorm = (a: number): [number, number] => (step.shape[a] > 1 ? [2 / (step.shape[a] - 1), -1] : [0, -1]);
    const g = torch.stack(affineComponents(thetaFor(post, step.shape, outShape, fieldNorm), outShape), -1).unsqueeze(0);
    const disp = F.gridSample(field, g, { mode: 'bilinear', paddingMode: 'border', alignCorners: true }).squeeze(0); // [d, ...out]
    const dispParts = Array.from({ length: d }, (_, a) => disp.select(0, a));
    const base = affineComponents(thetaFor(f.map, inShape, outShape, inNorm), outShape);
    return torch.stack(base.map((b, r) => weightedSum(dispParts, W[r], 0).add_(b)), -1);
  });
  return grids.length === 1 ? grids[0].unsqueeze(0) : torch.stack(grids, 0);
}

const isIdentityMap = (m: AffineMap): boolean => m.L.every((row, i) => row.every((v, j) => Math.abs(v - (i === j ? 1 : 0)) < EPS)) && m.t.every((v) => Math.abs(v) < 1e-9);

function sampleWith(x: Tensor, grid: Tensor, mode: 'bilinear' | 'nearest' | 'bicubic', pad: number): Tensor {
  const g = grid.dtype === x.dtype ? grid : grid.to(x.dtype);
  if (pad === 0) return F.gridSample(x, g, { mode, paddingMode: 'zeros', alignCorners: false });
  // Zero padding of (x − pad), then + pad: `pad` outside, blended at the border.
  return F.gridSample(x.sub(pad), g, { mode, paddingMode: 'zeros', alignCorners: false }).add_(pad);
}

function sampleImage(x: Tensor, grid: Tensor, o: ResampleOptions): Tensor {
  const xf = torch.isFloatingPoint(x.dtype) ? x : x.to('float32');
  const mode = o.image === 'nearest' ? 'nearest' : o.image === 'cubic' ? 'bicubic' : 'bilinear';
  if (o.imageBorder === 'replicate') return F.gridSample(xf, grid.dtype === xf.dtype ? grid : grid.to(xf.dtype), { mode, paddingMode: 'border', alignCorners: false });
  return sampleWith(xf, grid, mode, o.imagePad ?? 0);
}

function sampleLabel(label: Tensor, grid: Tensor, o: ResampleOptions): Tensor {
  const pad = o.labelPad ?? 0;
  const isFloat = torch.isFloatingPoint(label.dtype);
  if ((o.label ?? 'nearest') === 'nearest') {
    const lf = isFloat ? label : label.to('float32');
    const s = sampleWith(lf, grid, 'nearest', pad);
    return isFloat ? s : s.round_().to(label.dtype);
  }
  // One-hot linear: per class, interpolate its indicator; outside the input
  // an extra "pad" channel wins. argmax picks the class, mapped back to values.
  const values = label.unique();
  const vals = Array.from(values.toTypedArray() as ArrayLike<number | bigint>, Number);
  const C = label.shape[1];
  const chans: Tensor[] = [];
  for (let c = 0; c < C; c++) {
    const lc = label.narrow(1, c, 1);
    const ind = vals.map((v) => lc.eq(v).to('float32'));
    const probs = F.gridSample(torch.cat(ind, 1), grid, { mode: 'bilinear', paddingMode: 'zeros', alignCorners: false });
    const inside = probs.sum(1, true);
    const all = torch.cat([probs, torch.rsub(inside, 1)], 1);
    const lut = torch.tensor([...vals, pad], { dtype: 'float64' });
    chans.push(lut.index([all.argmax(1, true)]));
  }
  const res = torch.cat(chans, 1);
  return res.to(label.dtype);
}
