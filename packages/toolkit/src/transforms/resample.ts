// Resampling to a target spacing or shape, with nnU-Net's semantics.
//
// Every resampling here is separable: along each axis the output is a fixed
// linear operator of the input, M (nOut × nIn), built once in float64 and
// applied by libtorch as a matrix product (or an index gather for order 0).
// The operators reproduce scipy.ndimage.zoom(grid_mode=True, mode='nearest'),
// which is what skimage.transform.resize(mode='edge', anti_aliasing=False)
// and therefore nnU-Net call:
//   - output voxel o sits at input coordinate (o + 0.5) · nIn / nOut − 0.5,
//     i.e. voxel *edges* stay aligned and the field of view is unchanged;
//   - order 0: nearest (floor(x + 0.5)), order 1: linear, order 3: cubic
//     B-spline with scipy's exact prefilter (the signal is edge-padded by 12
//     samples, filtered, then evaluated), all clamped at the borders;
//   - order ≥ 1 images are clipped to the input range (skimage clip=True).
// We chose the exact B-spline over F.interpolate('bicubic') because bicubic
// is a different (Keys, a = −0.75) kernel: matching scipy means data
// preprocessed here and by nnU-Net agree to float precision.
//
// "Separate z": when a spacing is anisotropic (max/min > 3), nnU-Net
// resamples each slice in-plane with the full order and the low-resolution
// axis with order_z (0 by default), so thick slices are not smeared.
//
// Labels are never interpolated as numbers: each class is resampled as a
// one-hot mask (order 1 by default) and every voxel takes the class with the
// largest interpolated value (rule 'argmax'), so no intermediate class can
// appear between two others. Rule 'nnunet' reproduces nnU-Net's
// resize_segmentation exactly (classes in ascending order overwrite where
// their value ≥ 0.5; voxels no class reaches stay 0).
//
// Tensors are [C, Z, Y, X]; spacings and shapes passed to the tensor-level
// functions are in that same (z, y, x) order. resampleVolume takes the
// target spacing in the Volume's own (i, j, k) order, like `vol.spacing`.
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import { type Affine, identityAffine, matmul4 } from '../io/affine.js';
import { Volume } from '../io/volume.js';
import { integerView } from './preprocess-views.js';

export type SplineOrder = 0 | 1 | 3;
export type LabelRule = 'argmax' | 'nnunet';

/** nnU-Net's ANISO_THRESHOLD: spacing ratios above this resample the coarse axis separately. */
const SEPARATE_Z_THRESHOLD = 3;

/** Python's round(): halves go to the even neighbour (round(2.5) = 2), as nnU-Net's compute_new_shape uses. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** nnU-Net's compute_new_shape: round(oldShape · oldSpacing / newSpacing) per axis. */
export function computeNewShape(oldShape: readonly number[], oldSpacing: readonly number[], newSpacing: readonly number[]): number[] {
  if (oldShape.length !== oldSpacing.length || oldShape.length !== newSpacing.length) {
    throw new Error(`computeNewShape: shape [${oldShape.join(', ')}], spacing [${oldSpacing.join(', ')}] and new spacing [${newSpacing.join(', ')}] must have the same length`);
  }
  for (const s of [...oldSpacing, ...newSpacing]) if (!(s > 0) || !Number.isFinite(s)) throw new Error(`computeNewShape: spacings must be positive and finite, got [${oldSpacing.join(', ')}] → [${newSpacing.join(', ')}]`);
  return oldShape.map((n, i) => Math.max(1, roundHalfEven((oldSpacing[i] / newSpacing[i]) * n)));
}

function lowresAxes(spacing: readonly number[]): number[] {
  const m = Math.max(...spacing);
  return spacing.map((s, i) => [s, i] as const).filter(([s]) => m / s === 1).map(([, i]) => i);
}

export interface SeparateZOptions {
  /** true/false forces the choice (true still needs one unique coarsest axis); null/undefined decides from the spacings. */
  forceSeparateZ?: boolean | null;
  anisotropyThreshold?: number;
}

/**
 * nnU-Net's determine_do_sep_z_and_axis: the axis to resample separately, or
 * null for joint resampling. Anisotropy is checked on the current spacing
 * first, then on the new one; two or three equally coarse axes never give a
 * separate axis.
 */
export function separateZAxis(currentSpacing: readonly number[], newSpacing: readonly number[], options: SeparateZOptions = {}): number | null {
  const threshold = options.anisotropyThreshold ?? SEPARATE_Z_THRESHOLD;
  const aniso = (s: readonly number[]) => Math.max(...s) / Math.min(...s) > threshold;
  let axes: number[] | null;
  if (options.forceSeparateZ === true) axes = lowresAxes(currentSpacing);
  else if (options.forceSeparateZ === false) axes = null;
  else if (aniso(currentSpacing)) axes = lowresAxes(currentSpacing);
  else if (aniso(newSpacing)) axes = lowresAxes(newSpacing);
  else axes = null;
  return axes !== null && axes.length === 1 ? axes[0] : null;
}

// ---------------------------------------------------------------------------
// 1-D operators

/** Samples of edge padding scipy adds before the spline prefilter in mode 'nearest'. */
const SPLINE_PAD = 12;
const CUBIC_POLE = Math.sqrt(3) - 2;

/** scipy's cubic B-spline prefilter with 'reflect' boundary initialisation, in place. */
function cubicPrefilter(c: Float64Array): void {
  const n = c.length;
  const z = CUBIC_POLE;
  const gain = (1 - z) * (1 - 1 / z);
  for (let i = 0; i < n; i++) c[i] *= gain;
  if (n === 1) return;
  // Causal initialisation (half-sample symmetric extension).
  const zn = Math.pow(z, n);
  const c0 = c[0];
  let s = c[0] + zn * c[n - 1];
  let zi = z;
  for (let i = 1; i < n; i++) {
    s += zi * (c[i] + zn * c[n - 1 - i]);
    zi *= z;
  }
  c[0] = s * (z / (1 - zn * zn)) + c0;
  for (let i = 1; i < n; i++) c[i] += z * c[i - 1];
  c[n - 1] *= z / (z - 1);
  for (let i = n - 2; i >= 0; i--) c[i] = z * (c[i + 1] - c[i]);
}

function cubicWeights(t: number, w: Float64Array): void {
  const t2 = t * t, t3 = t2 * t, u = 1 - t;
  w[0] = (u * u * u) / 6;
  w[1] = (3 * t3 - 6 * t2 + 4) / 6;
  w[2] = (-3 * t3 + 3 * t2 + 3 * t + 1) / 6;
  w[3] = t3 / 6;
}

/** Input coordinate of output sample o (grid mode: voxel edges aligned). */
function sourceCoord(o: number, nIn: number, nOut: number): number {
  return (o + 0.5) * (nIn / nOut) - 0.5;
}

const clampIndex = (i: number, n: number) => (i < 0 ? 0 : i >= n ? n - 1 : i);

/** Nearest input index of every output sample (order 0). */
export function nearestIndices(nIn: number, nOut: number): Int32Array {
  const out = new Int32Array(nOut);
  for (let o = 0; o < nOut; o++) out[o] = clampIndex(Math.floor(sourceCoord(o, nIn, nOut) + 0.5), nIn);
  return out;
}

const matrixCache = new Map<string, Float64Array>();
const MATRIX_CACHE_LIMIT = 64;

/**
 * The 1-D resampling operator nOut × nIn (row-major) of scipy.ndimage.zoom
 * with grid_mode=True and mode='nearest', for spline order 0, 1 or 3.
 */
export function resampleMatrix1d(nIn: number, nOut: number, order: SplineOrder): Float64Array {
  if (!Number.isInteger(nIn) || !Number.isInteger(nOut) || nIn < 1 || nOut < 1) throw new Error(`resampleMatrix1d: sizes must be positive integers, got ${nIn} → ${nOut}`);
  if (order !== 0 && order !== 1 && order !== 3) throw new Error(`resampleMatrix1d: spline order must be 0, 1 or 3, got ${String(order)}`);
  const key = `${nIn}:${nOut}:${order}`;
  const hit = matrixCache.get(key);
  if (hit) return hit;
  const m = new Float64Array(nOut * nIn);
  if (order === 0) {
    const idx = nearestIndices(nIn, nOut);
    for (let o = 0; o < nOut; o++) m[o * nIn + idx[o]] = 1;
  } else if (order === 1) {
    for (let o = 0; o < nOut; o++) {
      const x = sourceCoord(o, nIn, nOut);
      const i0 = Math.floor(x);
      const t = x - i0;
      m[o * nIn + clampIndex(i0, nIn)] += 1 - t;
      m[o * nIn + clampIndex(i0 + 1, nIn)] += t;
    }
  } else {
    // Column j is the response to the unit impulse at j: edge-pad, prefilter, evaluate.
    const len = nIn + 2 * SPLINE_PAD;
    const coef = new Float64Array(len);
    const w = new Float64Array(4);
    const start = new Int32Array(nOut);
    const weights = new Float64Array(nOut * 4);
    for (let o = 0; o < nOut; o++) {
      const xp = sourceCoord(o, nIn, nOut) + SPLINE_PAD;
      const f = Math.floor(xp);
      start[o] = f - 1;
      cubicWeights(xp - f, w);
      weights.set(w, o * 4);
    }
    for (let j = 0; j < nIn; j++) {
      coef.fill(0);
      if (j === 0) coef.fill(1, 0, SPLINE_PAD + 1);
      coef[SPLINE_PAD + j] = 1;
      if (j === nIn - 1) coef.fill(1, SPLINE_PAD + j, len);
      cubicPrefilter(coef);
      for (let o = 0; o < nOut; o++) {
        const s = start[o];
        let v = 0;
        for (let t = 0; t < 4; t++) v += weights[o * 4 + t] * coef[s + t];
        m[o * nIn + j] = v;
      }
    }
  }
  if (matrixCache.size >= MATRIX_CACHE_LIMIT) matrixCache.delete(matrixCache.keys().next().value as string);
  matrixCache.set(key, m);
  return m;
}

// ---------------------------------------------------------------------------
// Applying operators to [C, Z, Y, X] tensors

type ComputeDType = 'float32' | 'float64';

/** Applies a row-major operator (rows × cols, cols = the axis length) along spatial axis `axis` of [C, Z, Y, X]. */
function applyOperator(t: Tensor, axis: number, op: Float64Array, rows: number): Tensor {
  const s = t.shape;
  const cols = s[axis + 1];
  const m = torch.fromTypedArray(op, [rows, cols]).to({ dtype: t.dtype, device: t.device });
  try {
    if (axis === 2) return torch.tidy(() => torch.matmul(t, m.t()));
    if (axis === 1) return torch.matmul(m, t);
    return torch.tidy(() => torch.matmul(m, t.reshape([s[0], cols, s[2] * s[3]])).reshape([s[0], rows, s[2], s[3]]));
  } finally {
    m.dispose();
  }
}

/** Resamples spatial axis `axis` (0 = z, 1 = y, 2 = x) of a [C, Z, Y, X] float tensor to nOut samples. */
function resampleAxis(t: Tensor, axis: number, nOut: number, order: SplineOrder): Tensor {
  const nIn = t.shape[axis + 1];
  if (nIn === nOut) return t.clone();
  if (order === 0) {
    const idx = torch.fromTypedArray(nearestIndices(nIn, nOut), [nOut]).to({ dtype: 'int64', device: t.device });
    const out = t.indexSelect(axis + 1, idx);
    idx.dispose();
    return out;
  }
  return applyOperator(t, axis, resampleMatrix1d(nIn, nOut, order), nOut);
}

/** Resamples the given axes in an order that keeps intermediates small (shrinking axes first). */
function resampleAxes(t: Tensor, axes: readonly number[], newShape: readonly number[], order: SplineOrder): Tensor {
  const s = t.shape;
  const todo = axes.filter((a) => s[a + 1] !== newShape[a]).sort((a, b) => newShape[a] / s[a + 1] - newShape[b] / s[b + 1]);
  let cur = t;
  for (const a of todo) {
    const next = resampleAxis(cur, a, newShape[a], order);
    if (cur !== t) cur.dispose();
    cur = next;
  }
  return cur === t ? t.clone() : cur;
}

function checkShapes(what: string, t: Tensor, newShape: readonly number[]): void {
  if (t.ndim !== 4) throw new Error(`${what}: expected a tensor [C, Z, Y, X], got shape [${t.shape.join(', ')}]`);
  if (newShape.length !== 3 || newShape.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`${what}: new shape must be 3 positive integers (z, y, x), got [${newShape.join(', ')}]`);
}

function checkOrder(what: string, name: string, v: unknown): SplineOrder {
  if (v !== 0 && v !== 1 && v !== 3) throw new Error(`${what}: ${name} must be 0, 1 or 3, got ${String(v)}`);
  return v;
}

function checkAxis(what: string, axis: number | null | undefined): number | null {
  if (axis === null || axis === undefined) return null;
  if (axis !== 0 && axis !== 1 && axis !== 2) throw new Error(`${what}: separateZAxis must be 0, 1, 2 or null, got ${axis}`);
  return axis;
}

export interface DataResampleOptions {
  /** Spline order in-plane (or in 3-D when not separate); nnU-Net images: 3. */
  order?: SplineOrder;
  /** Order along the separate axis; nnU-Net: 0. */
  orderZ?: SplineOrder;
  /** Axis (0 = z, 1 = y, 2 = x) resampled separately, or null for joint resampling. */
  separateZAxis?: number | null;
  /** Clip order ≥ 1 results to the input's range (per channel; per slice when separate), as skimage does. Default true. */
  clip?: boolean;
  /** Arithmetic precision; the result is float32 unless 'float64'. */
  computeDtype?: ComputeDType;
}

/** Clamps `out` to [amin, amax] of `src` over `dims` (broadcast). */
function clipToRange(out: Tensor, src: Tensor, dims: number[]): Tensor {
  return torch.tidy(() => torch.maximum(torch.minimum(out, src.amax(dims, true)), src.amin(dims, true)));
}

/**
 * Resamples image data [C, Z, Y, X] to newShape (z, y, x): nnU-Net's
 * resample_data_or_seg for is_seg = False. Returns float32 (or float64).
 */
export function resampleData(data: Tensor, newShape: readonly number[], options: DataResampleOptions = {}): Tensor {
  const what = 'resampleData';
  checkShapes(what, data, newShape);
  const order = checkOrder(what, 'order', options.order ?? 3);
  const orderZ = checkOrder(what, 'orderZ', options.orderZ ?? 0);
  const axis = checkAxis(what, options.separateZAxis);
  const clip = options.clip ?? true;
  const dtype = options.computeDtype ?? 'float32';
  return torch.tidy(() => {
    const x = data.to(dtype);
    const s = x.shape;
    if (s.slice(1).every((n, i) => n === newShape[i])) return x.clone();
    if (axis === null) {
      const out = resampleAxes(x, [0, 1, 2], newShape, order);
      return clip && order > 0 ? clipToRange(out, x, [1, 2, 3]) : out;
    }
    const inPlane = [0, 1, 2].filter((a) => a !== axis);
    const mid = [...newShape];
    mid[axis] = s[axis + 1];
    let out = resampleAxes(x, inPlane, mid, order);
    // skimage clips each 2-D slice to that slice's own range.
    if (clip && order > 0) out = clipToRange(out, x, inPlane.map((a) => a + 1));
    return resampleAxes(out, [axis], newShape, orderZ);
  });
}

export interface SegResampleOptions {
  /** Order for the one-hot masks in-plane (or in 3-D); nnU-Net: 1. 0 gives plain nearest neighbour. */
  order?: SplineOrder;
  /** Order along the separate axis; nnU-Net: 0. */
  orderZ?: SplineOrder;
  separateZAxis?: number | null;
  /** 'argmax' (default) or 'nnunet' (ascending classes overwrite where ≥ 0.5, as resize_segmentation). */
  rule?: LabelRule;
}

/** Per value of an integer [C, Z, Y, X] tensor: voxel count and bounding box (z, y, x), in one pass. */
function labelBoxes(seg: Tensor): Map<number, { count: number; lo: number[]; hi: number[] }> {
  const [c, nz, ny, nx] = seg.shape;
  const v = integerView(seg);
  const out = new Map<number, { count: number; lo: number[]; hi: number[] }>();
  let p = 0;
  // Neighbouring voxels mostly share a value: look the box up only when the value changes.
  let lastVal = NaN;
  let b: { count: number; lo: number[]; hi: number[] } | undefined;
  for (let ch = 0; ch < c; ch++) {
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++) {
        for (let x = 0; x < nx; x++, p++) {
          const val = v[p];
          if (val !== lastVal) {
            b = out.get(val);
            if (!b) out.set(val, (b = { count: 0, lo: [z, y, x], hi: [z, y, x] }));
            lastVal = val;
          }
          b = b!;
          b.count++;
          if (z < b.lo[0]) b.lo[0] = z; else if (z > b.hi[0]) b.hi[0] = z;
          if (y < b.lo[1]) b.lo[1] = y; else if (y > b.hi[1]) b.hi[1] = y;
          if (x < b.lo[2]) b.lo[2] = x; else if (x > b.hi[2]) b.hi[2] = x;
        }
      }
    }
  }
  return new Map([...out.entries()].sort((a, b) => a[0] - b[0]));
}

/**
 * The rows of a linear (order ≤ 1) operator that can see input range
 * [lo, hi] and the input columns they read: output rows [oa, ob) read only
 * inputs [a, b), and rows outside never touch [lo, hi].
 */
function operatorWindow(nIn: number, nOut: number, order: SplineOrder, lo: number, hi: number): { a: number; b: number; oa: number; ob: number; op: Float64Array } {
  const full = resampleMatrix1d(nIn, nOut, order);
  const a = Math.max(0, lo - 1);
  const b = Math.min(nIn, hi + 2);
  let oa = nOut, ob = 0;
  for (let o = 0; o < nOut; o++) {
    for (let j = lo; j <= hi; j++) {
      if (full[o * nIn + j] !== 0) {
        if (o < oa) oa = o;
        ob = o + 1;
        break;
      }
    }
  }
  if (ob <= oa) return { a, b, oa: 0, ob: 0, op: new Float64Array(0) };
  const op = new Float64Array((ob - oa) * (b - a));
  for (let o = oa; o < ob; o++) for (let j = a; j < b; j++) op[(o - oa) * (b - a) + (j - a)] = full[o * nIn + j];
  return { a, b, oa, ob, op };
}

/**
 * One-hot resampling of the given axes with a linear (order ≤ 1) operator,
 * then the label rule. Linear weights are non-negative and sum to 1, so
 * each class is computed only around its own bounding box, and the most
 * frequent class is never computed: its value is 1 − Σ the others'. Cost
 * therefore scales with the size of the non-background structures.
 */
function resampleLabelsLinear(seg: Tensor, axes: number[], newShape: readonly number[], order: SplineOrder, rule: LabelRule): Tensor {
  const boxes = labelBoxes(seg);
  const s = seg.shape;
  let implicit = 0, most = -1;
  for (const [v, b] of boxes) if (b.count > most) { most = b.count; implicit = v; }
  return torch.tidy(() => {
    const outShape = [s[0], ...newShape];
    const device = seg.device;
    const result = torch.full(outShape, rule === 'argmax' ? implicit : 0, { dtype: seg.dtype, device });
    const sum = torch.zeros(outShape, { dtype: 'float32', device });
    const best = rule === 'argmax' ? torch.zeros(outShape, { dtype: 'float32', device }) : null;
    const higherHit = rule === 'nnunet' ? torch.zeros(outShape, { dtype: 'bool', device }) : null;
    for (const [v, box] of boxes) {
      if (v === implicit) continue;
      torch.tidy(() => {
        let block = seg;
        const windows: { axis: number; w: ReturnType<typeof operatorWindow> }[] = [];
        for (let axis = 0; axis < 3; axis++) {
          if (!axes.includes(axis) || s[axis + 1] === newShape[axis]) {
            // Untouched axis: keep the class's own extent.
            block = block.narrow(axis + 1, box.lo[axis], box.hi[axis] - box.lo[axis] + 1);
            windows.push({ axis, w: { a: box.lo[axis], b: box.hi[axis] + 1, oa: box.lo[axis], ob: box.hi[axis] + 1, op: new Float64Array(0) } });
            continue;
          }
          const w = operatorWindow(s[axis + 1], newShape[axis], order, box.lo[axis], box.hi[axis]);
          if (w.ob <= w.oa) return;
          block = block.narrow(axis + 1, w.a, w.b - w.a);
          windows.push({ axis, w });
        }
        let r = block.eq(v).to('float32');
        for (const { axis, w } of windows) if (w.op.length) r = applyOperator(r, axis, w.op, w.ob - w.oa);
        const view = (t: Tensor) => t.narrow(1, windows[0].w.oa, windows[0].w.ob - windows[0].w.oa)
          .narrow(2, windows[1].w.oa, windows[1].w.ob - windows[1].w.oa)
          .narrow(3, windows[2].w.oa, windows[2].w.ob - windows[2].w.oa);
        view(sum).add_(r);
        const res = view(result);
        if (best) {
          // Classes come in ascending order: ties go to the higher label, as nnU-Net's overwrite does.
          const bv = view(best);
          const win = r.ge(bv).logicalAnd(r.gt(0));
          res.maskedFill_(win, v);
          bv.copy_(torch.where(win, r, bv));
        } else {
          const hit = r.ge(0.5);
          res.maskedFill_(hit, v);
          if (v > implicit) view(higherHit!).logicalOr_(hit);
        }
      });
    }
    const impVal = torch.rsub(sum, 1);
    if (best) {
      // The implicit class wins where its value beats the best explicit one (ties: the higher label).
      const lower = result.lt(implicit);
      const wins = torch.where(lower, impVal.ge(best), impVal.gt(best));
      return result.maskedFill_(wins, implicit);
    }
    return result.maskedFill_(impVal.ge(0.5).logicalAnd(higherHit!.logicalNot()), implicit);
  });
}

/** Sorted distinct values of an integer tensor. */
function labelValues(seg: Tensor): number[] {
  return torch.tidy(() => Array.from(torch.unique(seg).to('float64').toTypedArray() as Float64Array));
}

/**
 * One-hot resampling of every class over the whole volume (any order), then
 * the label rule. Used for order 3, where the operator has no compact support.
 */
function resampleLabelsJoint(seg: Tensor, axes: number[], newShape: readonly number[], order: SplineOrder, rule: LabelRule): Tensor {
  if (order <= 1) return resampleLabelsLinear(seg, axes, newShape, order, rule);
  const values = labelValues(seg);
  return torch.tidy(() => {
    const outShape = [seg.shape[0], ...newShape];
    const result = torch.zeros(outShape, { dtype: seg.dtype, device: seg.device });
    const best = rule === 'argmax' ? torch.full(outShape, -Infinity, { dtype: 'float32', device: seg.device }) : null;
    for (const v of values) {
      torch.tidy(() => {
        const r = resampleAxes(seg.eq(v).to('float32'), axes, newShape, order);
        if (best) {
          const win = r.ge(best);
          result.maskedFill_(win, v);
          best.copy_(torch.where(win, r, best));
        } else {
          result.maskedFill_(r.ge(0.5), v);
        }
      });
    }
    return result;
  });
}

/**
 * Resamples an integer label map [C, Z, Y, X] to newShape without class
 * bleeding (see the file comment). Order 0 is nearest neighbour on the
 * values themselves.
 */
export function resampleSeg(seg: Tensor, newShape: readonly number[], options: SegResampleOptions = {}): Tensor {
  const what = 'resampleSeg';
  checkShapes(what, seg, newShape);
  if (torch.isFloatingPoint(seg.dtype)) throw new Error(`${what}: labels must be an integer tensor, got ${seg.dtype}`);
  const order = checkOrder(what, 'order', options.order ?? 1);
  const orderZ = checkOrder(what, 'orderZ', options.orderZ ?? 0);
  const axis = checkAxis(what, options.separateZAxis);
  const rule = options.rule ?? 'argmax';
  if (rule !== 'argmax' && rule !== 'nnunet') throw new Error(`${what}: rule must be 'argmax' or 'nnunet', got '${String(rule)}'`);
  const s = seg.shape;
  if (s.slice(1).every((n, i) => n === newShape[i])) return seg.clone();
  const nearest = (t: Tensor, axes: number[], shape: readonly number[]) => torch.tidy(() => {
    let cur = t;
    for (const a of axes) if (cur.shape[a + 1] !== shape[a]) cur = resampleAxis(cur, a, shape[a], 0);
    return cur === t ? t.clone() : cur;
  });
  if (axis === null) return order === 0 ? nearest(seg, [0, 1, 2], newShape) : resampleLabelsJoint(seg, [0, 1, 2], newShape, order, rule);
  const inPlane = [0, 1, 2].filter((a) => a !== axis);
  const mid = [...newShape];
  mid[axis] = s[axis + 1];
  return torch.tidy(() => {
    const planar = order === 0 ? nearest(seg, inPlane, mid) : resampleLabelsJoint(seg, inPlane, mid, order, rule);
    return orderZ === 0 ? nearest(planar, [axis], newShape) : resampleLabelsJoint(planar, [axis], newShape, orderZ, rule);
  });
}

export interface ResampleToSpacingOptions extends SeparateZOptions {
  isSeg?: boolean;
  /** Default 3 for data, 1 for labels (nnU-Net). */
  order?: SplineOrder;
  orderZ?: SplineOrder;
  rule?: LabelRule;
  clip?: boolean;
  computeDtype?: ComputeDType;
}

function resampleWithSpacings(what: string, t: Tensor, newShape: number[], currentSpacing: readonly number[], newSpacing: readonly number[], options: ResampleToSpacingOptions): Tensor {
  if (currentSpacing.length !== 3 || newSpacing.length !== 3) throw new Error(`${what}: spacings must have 3 entries (z, y, x), got [${currentSpacing.join(', ')}] and [${newSpacing.join(', ')}]`);
  const axis = separateZAxis(currentSpacing, newSpacing, options);
  if (options.isSeg) return resampleSeg(t, newShape, { order: options.order ?? 1, orderZ: options.orderZ ?? 0, separateZAxis: axis, rule: options.rule });
  return resampleData(t, newShape, { order: options.order ?? 3, orderZ: options.orderZ ?? 0, separateZAxis: axis, clip: options.clip, computeDtype: options.computeDtype });
}

/**
 * nnU-Net's resample_data_or_seg_to_spacing on [C, Z, Y, X]: new shape from
 * the spacings, separate-z decided from them (unless forced).
 */
export function resampleToSpacing(t: Tensor, currentSpacing: readonly number[], newSpacing: readonly number[], options: ResampleToSpacingOptions = {}): Tensor {
  if (t.ndim !== 4) throw new Error(`resampleToSpacing: expected a tensor [C, Z, Y, X], got shape [${t.shape.join(', ')}]`);
  const newShape = computeNewShape(t.shape.slice(1), currentSpacing, newSpacing);
  return resampleWithSpacings('resampleToSpacing', t, newShape, currentSpacing, newSpacing, options);
}

/**
 * nnU-Net's resample_data_or_seg_to_shape: the inverse path of inference
 * export (network-spacing probabilities → original shape). `currentSpacing`
 * and `newSpacing` only decide separate-z. Probabilities: order 1, orderZ 0
 * (nnU-Net's defaults for export), labels: isSeg.
 */
export function resampleToShape(t: Tensor, newShape: readonly number[], currentSpacing: readonly number[], newSpacing: readonly number[], options: ResampleToSpacingOptions = {}): Tensor {
  checkShapes('resampleToShape', t, newShape);
  return resampleWithSpacings('resampleToShape', t, [...newShape], currentSpacing, newSpacing, { ...options, order: options.order ?? 1 });
}

/**
 * The affine of a volume resampled from oldShape to newShape (both z, y, x)
 * with edge-aligned grids: new voxel v sits at old voxel
 * (v + 0.5) · nOld / nNew − 0.5 on every axis, so the field of view is kept.
 */
export function resampledAffine(affine: Affine, oldShapeZYX: readonly number[], newShapeZYX: readonly number[]): Affine {
  const t = identityAffine();
  // Volume axes i, j, k are tensor axes x, y, z.
  for (let a = 0; a < 3; a++) {
    const scale = oldShapeZYX[2 - a] / newShapeZYX[2 - a];
    t[a * 4 + a] = scale;
    t[a * 4 + 3] = (scale - 1) / 2;
  }
  return matmul4(affine, t);
}

export interface ResampleVolumeOptions extends SeparateZOptions {
  /** 'image' (default): spline order 3, float32. 'label': one-hot per class, integer output. */
  kind?: 'image' | 'label';
  order?: SplineOrder;
  orderZ?: SplineOrder;
  rule?: LabelRule;
  clip?: boolean;
}

/**
 * Resamples a Volume to `targetSpacing` given in its own (i, j, k) order.
 * The field of view is kept: the new shape is round(n · s / target), and
 * the new affine's voxel size is the exact nOld · s / nNew (within rounding
 * of the target), with the origin moved so voxel edges stay in place.
 */
export function resampleVolume(vol: Volume, targetSpacing: readonly number[], options: ResampleVolumeOptions = {}): Volume {
  if (targetSpacing.length !== 3) throw new Error(`resampleVolume: target spacing must have 3 entries (i, j, k), got [${targetSpacing.join(', ')}]`);
  const sp = vol.spacing;
  const cur = [sp[2], sp[1], sp[0]];
  const tgt = [targetSpacing[2], targetSpacing[1], targetSpacing[0]];
  const oldShape = [vol.dims[2], vol.dims[1], vol.dims[0]];
  const newShape = computeNewShape(oldShape, cur, tgt);
  const isSeg = options.kind === 'label';
  const out = torch.tidy(() => {
    const t = vol.toTensor();
    const src = isSeg ? (torch.isFloatingPoint(t.dtype) ? labelTensor(t, vol) : t) : t;
    const r = resampleWithSpacings('resampleVolume', src, newShape, cur, tgt, { ...options, isSeg });
    return isSeg ? r : r.to('float32');
  });
  try {
    const affine = resampledAffine(vol.affine, oldShape, newShape);
    return Volume.fromTensor(out, { affine, meta: vol.meta });
  } finally {
    out.dispose();
  }
}

/** Float label data as int32, rejecting non-integer values. */
function labelTensor(t: Tensor, vol: Volume): Tensor {
  const bad = torch.tidy(() => t.sub(t.round()).abs().gt(0).any().item());
  if (bad) throw new Error(`resampleVolume: label volume ${String(vol.meta.source ?? vol.meta.path ?? '(in-memory volume)')} has non-integer values; labels must be integers`);
  return t.round().to('int32');
}
