// Mask surfaces and surface-to-surface distances, MedPy style.
//
// A surface is the one-voxel border of a mask: mask XOR binary_erosion(mask)
// with the face-connected structuring element (scipy's
// generate_binary_structure(ndim, 1)) and border_value 0, i.e. a set voxel is
// on the border when any of its 2·ndim face neighbours is unset or lies
// outside the image. Distances from one border to the other come from an
// exact EDT with the voxel spacing (MedPy's __surface_distances).
//
// Everything is computed inside the bounding box of the two masks: outside it
// both masks are empty, so the erosion sees the same zeros there, and every
// border voxel of either mask lies inside, so the EDT restricted to the box is
// still exact. dims / spacing: fastest axis first (see edt.ts).
import { type Dims, checkGrid, squaredDistancesAt } from './edt.js';

/** Half-open box per axis: lo[a] <= x < hi[a]; empty when `empty`. */
export interface Box {
  lo: number[];
  hi: number[];
  empty: boolean;
}

export function emptyBox(nd: number): Box {
  return { lo: new Array<number>(nd).fill(Infinity), hi: new Array<number>(nd).fill(-Infinity), empty: true };
}

export function unionBox(a: Box, b: Box): Box {
  if (a.empty) return { lo: [...b.lo], hi: [...b.hi], empty: b.empty };
  if (b.empty) return { lo: [...a.lo], hi: [...a.hi], empty: false };
  return { lo: a.lo.map((v, i) => Math.min(v, b.lo[i])), hi: a.hi.map((v, i) => Math.max(v, b.hi[i])), empty: false };
}

export function boxDims(b: Box): number[] {
  return b.lo.map((lo, a) => b.hi[a] - lo);
}

/** Pads 1-3 dims to three sizes (missing axes of size 1). */
function dims3(dims: Dims): [number, number, number] {
  if (dims.length > 3) throw new Error(`surface metrics support 1 to 3 dimensions, got dims [${dims.join(', ')}]`);
  return [dims[0], dims[1] ?? 1, dims[2] ?? 1];
}

/** Bounding box of the nonzero voxels of a mask. */
export function maskBox(mask: ArrayLike<number>, dims: Dims): Box {
  const [n0, n1, n2] = dims3(dims);
  const nd = dims.length;
  const box = emptyBox(nd);
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-1, -1, -1];
  let idx = 0;
  for (let k = 0; k < n2; k++) {
    for (let j = 0; j < n1; j++) {
      let first = -1;
      let last = -1;
      for (let i = 0; i < n0; i++, idx++) {
        if (mask[idx] !== 0) { if (first < 0) first = i; last = i; }
      }
      if (first < 0) continue;
      if (first < lo[0]) lo[0] = first;
      if (last > hi[0]) hi[0] = last;
      if (j < lo[1]) lo[1] = j;
      if (j > hi[1]) hi[1] = j;
      if (k < lo[2]) lo[2] = k;
      if (k > hi[2]) hi[2] = k;
    }
  }
  if (hi[0] < 0) return box;
  for (let a = 0; a < nd; a++) { box.lo[a] = lo[a]; box.hi[a] = hi[a] + 1; }
  box.empty = false;
  return box;
}

/** Copies the box of a 0/1 mask into a new compact mask. */
export function cropMask(mask: ArrayLike<number>, dims: Dims, box: Box): Uint8Array {
  const [n0, n1] = dims3(dims);
  const [c0, c1, c2] = dims3(boxDims(box));
  const [l0, l1, l2] = [box.lo[0], box.lo[1] ?? 0, box.lo[2] ?? 0];
  const out = new Uint8Array(c0 * c1 * c2);
  let o = 0;
  for (let k = 0; k < c2; k++) {
    for (let j = 0; j < c1; j++) {
      const base = l0 + n0 * (l1 + j + n1 * (l2 + k));
      for (let i = 0; i < c0; i++, o++) out[o] = mask[base + i] !== 0 ? 1 : 0;
    }
  }
  return out;
}

/**
 * The one-voxel border: set voxels with at least one face neighbour unset or
 * outside the array (scipy: mask ^ binary_erosion(mask,
 * generate_binary_structure(ndim, 1)), border_value 0). Every axis in `dims`
 * counts, including axes of size 1, exactly as scipy does for such arrays.
 */
export function binaryBorder(mask: ArrayLike<number>, dims: Dims): Uint8Array {
  const n = checkGrid(dims, undefined, 'binaryBorder');
  if (mask.length !== n) throw new Error(`binaryBorder: mask has ${mask.length} voxels, dims [${dims.join(', ')}] need ${n}`);
  const [n0, n1, n2] = dims3(dims);
  const nd = dims.length;
  const s1 = n0;
  const s2 = n0 * n1;
  const out = new Uint8Array(n);
  let idx = 0;
  for (let k = 0; k < n2; k++) {
    const kEdge = nd >= 3 && (k === 0 || k === n2 - 1);
    for (let j = 0; j < n1; j++) {
      const jEdge = nd >= 2 && (j === 0 || j === n1 - 1);
      for (let i = 0; i < n0; i++, idx++) {
        if (mask[idx] === 0) continue;
        if (i === 0 || i === n0 - 1 || jEdge || kEdge || mask[idx - 1] === 0 || mask[idx + 1] === 0) { out[idx] = 1; continue; }
        if (nd >= 2 && (mask[idx - s1] === 0 || mask[idx + s1] === 0)) { out[idx] = 1; continue; }
        if (nd >= 3 && (mask[idx - s2] === 0 || mask[idx + s2] === 0)) out[idx] = 1;
      }
    }
  }
  return out;
}

export function countNonzero(a: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) c++;
  return c;
}

/** Directed surface distances in both directions, in spacing units (mm). */
export interface SurfaceDistances {
  /** For each border voxel of the prediction, the distance to the nearest reference border voxel. */
  predToRef: Float64Array;
  /** For each border voxel of the reference, the distance to the nearest prediction border voxel. */
  refToPred: Float64Array;
}

/**
 * Surface distances between two non-empty masks that are already cropped to
 * (at least) their common bounding box.
 */
export function surfaceDistancesInBox(pred: Uint8Array, ref: Uint8Array, dims: Dims, spacing: readonly number[]): SurfaceDistances {
  const bp = binaryBorder(pred, dims);
  const br = binaryBorder(ref, dims);
  const predToRef = squaredDistancesAt(br, bp, dims, spacing);
  const refToPred = squaredDistancesAt(bp, br, dims, spacing);
  for (let i = 0; i < predToRef.length; i++) predToRef[i] = Math.sqrt(predToRef[i]);
  for (let i = 0; i < refToPred.length; i++) refToPred[i] = Math.sqrt(refToPred[i]);
  return { predToRef, refToPred };
}

/**
 * MedPy's __surface_distances in both directions for two binary masks
 * (nonzero = set) on the same grid. Returns null when either mask is empty
 * (MedPy raises there); the caller's empty-mask policy decides what that means.
 */
export function surfaceDistances(pred: ArrayLike<number>, ref: ArrayLike<number>, dims: Dims, spacing?: readonly number[]): SurfaceDistances | null {
  const n = checkGrid(dims, spacing, 'surfaceDistances');
  if (pred.length !== n || ref.length !== n) {
    throw new Error(`surfaceDistances: masks have ${pred.length} and ${ref.length} voxels, dims [${dims.join(', ')}] need ${n}`);
  }
  const bp = maskBox(pred, dims);
  const br = maskBox(ref, dims);
  if (bp.empty || br.empty) return null;
  const box = unionBox(bp, br);
  const cd = boxDims(box);
  return surfaceDistancesInBox(cropMask(pred, dims, box), cropMask(ref, dims, box), cd, spacing ?? dims.map(() => 1));
}
