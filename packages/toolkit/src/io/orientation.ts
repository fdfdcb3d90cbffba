// Voxel-axis orientation: which world direction each voxel axis points to,
// and exact reorientation (axis permutation + flips, no interpolation) with
// the affine updated so every voxel keeps its world position. Semantics and
// conventions follow nibabel.orientations (io_orientation, ornt_transform,
// inv_ornt_aff, apply_orientation) so results match as_closest_canonical.
import { type Affine, identityAffine, matmul4 } from './affine.js';
import { Volume, type VoxelArray } from './volume.js';

/**
 * One row per voxel axis: [world axis (0=x/LR, 1=y/PA, 2=z/IS), +1 | -1].
 * As in nibabel, ornt[inAxis] = [outAxis, flip].
 */
export type Ornt = [number, 1 | -1][];

const AXIS_LABELS: readonly (readonly [string, string])[] = [['L', 'R'], ['P', 'A'], ['I', 'S']];

// ------------------------------------------------------------------ 3×3 math

/** Eigen-decomposition of a symmetric 3×3 (cyclic Jacobi). V's columns are eigenvectors. */
function symmetricEigen3(S: readonly number[]): { values: number[]; V: number[] } {
  const a = S.slice();
  const V = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = Math.abs(a[1]) + Math.abs(a[2]) + Math.abs(a[5]);
    if (off < 1e-300 || off < 1e-18 * (Math.abs(a[0]) + Math.abs(a[4]) + Math.abs(a[8]))) break;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]] as const) {
      const apq = a[p * 3 + q];
      if (apq === 0) continue;
      const app = a[p * 3 + p], aqq = a[q * 3 + q];
      const theta = (aqq - app) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      // a ← Jᵀ a J for the rotation J in the (p, q) plane.
      for (let k = 0; k < 3; k++) {
        const akp = a[k * 3 + p], akq = a[k * 3 + q];
        a[k * 3 + p] = c * akp - s * akq;
        a[k * 3 + q] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[p * 3 + k], aqk = a[q * 3 + k];
        a[p * 3 + k] = c * apk - s * aqk;
        a[q * 3 + k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = V[k * 3 + p], vkq = V[k * 3 + q];
        V[k * 3 + p] = c * vkp - s * vkq;
        V[k * 3 + q] = s * vkp + c * vkq;
      }
    }
  }
  return { values: [a[0], a[4], a[8]], V };
}

/**
 * Nearest matrix with orthonormal columns to a row-major 3×3 `A` (the
 * orthogonal factor of its polar decomposition, U·Vᵀ from the SVD). Singular
 * directions below `tol` are dropped, as nibabel's io_orientation does.
 */
export function polarOrthonormal3(A: readonly number[], tol?: number): number[] {
  const AtA = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
    let s = 0;
    for (let k = 0; k < 3; k++) s += A[k * 3 + i] * A[k * 3 + j];
    AtA[i * 3 + j] = s;
  }
  const { values, V } = symmetricEigen3(AtA);
  const sv = values.map((v) => Math.sqrt(Math.max(v, 0)));
  const smax = Math.max(...sv);
  const cut = tol ?? smax * 3 * 2.220446049250313e-16;
  const out = new Array<number>(9).fill(0);
  for (let k = 0; k < 3; k++) {
    if (!(sv[k] > cut)) continue;
    const v = [V[k], V[3 + k], V[6 + k]];
    const u = [0, 1, 2].map((r) => (A[r * 3] * v[0] + A[r * 3 + 1] * v[1] + A[r * 3 + 2] * v[2]) / sv[k]);
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) out[r * 3 + c] += u[r] * v[c];
  }
  return out;
}

// ---------------------------------------------------------- orientation codes

/** nibabel's io_orientation: the orientation of each voxel axis of an affine. */
export function ioOrientation(affine: Affine): Ornt {
  const RS: number[] = [];
  const zooms = [0, 1, 2].map((c) => Math.hypot(affine[c], affine[4 + c], affine[8 + c]) || 1);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) RS.push(affine[r * 4 + c] / zooms[c]);
  const R = polarOrthonormal3(RS);
  const ornt: Ornt = [];
  for (let inAx = 0; inAx < 3; inAx++) {
    const col = [R[inAx], R[3 + inAx], R[6 + inAx]];
    // np.allclose(col, 0): the axis vanished in the polar factor.
    if (col.every((v) => Math.abs(v) <= 1e-8)) throw new Error('ioOrientation: affine has a degenerate (zero) voxel axis; its orientation is undefined');
    let best = 0;
    for (let r = 1; r < 3; r++) if (Math.abs(col[r]) > Math.abs(col[best])) best = r; // first maximum, like np.argmax
    ornt.push([best, col[best] < 0 ? -1 : 1]);
    for (let c = 0; c < 3; c++) R[best * 3 + c] = 0;
  }
  return ornt;
}

/** "RAS" → [[0,1],[1,1],[2,1]]; accepts any of R/L, A/P, S/I in any order. */
export function axcodesToOrnt(codes: string): Ornt {
  const s = codes.toUpperCase();
  if (s.length !== 3) throw new Error(`orientation: axis codes must be 3 letters like "RAS" or "LPS", got "${codes}"`);
  const ornt: Ornt = [];
  const used = new Set<number>();
  for (const ch of s) {
    const ax = AXIS_LABELS.findIndex((pair) => pair.includes(ch));
    if (ax < 0) throw new Error(`orientation: invalid axis code '${ch}' in "${codes}" (use R/L, A/P, S/I)`);
    if (used.has(ax)) throw new Error(`orientation: axis codes "${codes}" name the same world axis twice`);
    used.add(ax);
    ornt.push([ax, AXIS_LABELS[ax][1] === ch ? 1 : -1]);
  }
  return ornt;
}

export function orntToAxcodes(ornt: Ornt): string {
  return ornt.map(([ax, f]) => AXIS_LABELS[ax][f === 1 ? 1 : 0]).join('');
}

/** nibabel's aff2axcodes (via io_orientation). */
export function orientationCodes(affine: Affine): string {
  return orntToAxcodes(ioOrientation(affine));
}

/** nibabel's ornt_transform: the orientation taking `start` to `end`. */
export function orntTransform(start: Ornt, end: Ornt): Ornt {
  const out: Ornt = [];
  for (let startIn = 0; startIn < start.length; startIn++) {
    const [startOut, startFlip] = start[startIn];
    const endIn = end.findIndex(([endOut]) => endOut === startOut);
    if (endIn < 0) throw new Error('orntTransform: start and end orientations do not use the same world axes');
    out.push([endIn, startFlip === end[endIn][1] ? 1 : -1]);
  }
  return out;
}

/** The transform from axis codes `from` to axis codes `to`, e.g. ("LPS", "RAS") → flip i and j. */
export function orientationTransform(fromCodes: string, toCodes: string): Ornt {
  return orntTransform(axcodesToOrnt(fromCodes), axcodesToOrnt(toCodes));
}

/** The orientation that undoes `ornt`. */
export function invertOrnt(ornt: Ornt): Ornt {
  const inv: Ornt = new Array(ornt.length);
  ornt.forEach(([out, flip], inAx) => { inv[out] = [inAx, flip]; });
  return inv;
}

/**
 * nibabel's inv_ornt_aff: the voxel→voxel affine mapping indices of the
 * reoriented array back to indices of the original (shape = original shape).
 */
export function orntInverseAffine(ornt: Ornt, shape: readonly number[]): Affine {
  const undoFlip = identityAffine();
  for (let i = 0; i < 3; i++) {
    const f = ornt[i][1];
    const center = -(shape[i] - 1) / 2;
    undoFlip[i * 4 + i] = f;
    undoFlip[i * 4 + 3] = f * center - center;
  }
  const undoReorder = new Float64Array(16);
  for (let r = 0; r < 3; r++) undoReorder[r * 4 + ornt[r][0]] = 1;
  undoReorder[15] = 1;
  return matmul4(undoFlip, undoReorder);
}

// ------------------------------------------------------------ applying to data

function isIdentity(ornt: Ornt): boolean {
  return ornt.every(([ax, f], i) => ax === i && f === 1);
}

/**
 * Reorders voxel data (all channels) by `ornt`: input axis i becomes output
 * axis ornt[i][0], reversed when ornt[i][1] is -1. Works on any typed array.
 */
export function applyOrntToData<T extends VoxelArray>(data: T, dims: readonly number[], channels: number, ornt: Ornt): { data: T; dims: [number, number, number] } {
  const outDims: [number, number, number] = [0, 0, 0];
  const inStride = [1, dims[0], dims[0] * dims[1]];
  // For each OUTPUT axis: the input stride it walks and where it starts.
  const stepFor = [0, 0, 0];
  let base = 0;
  for (let i = 0; i < 3; i++) {
    const [o, f] = ornt[i];
    outDims[o] = dims[i];
    stepFor[o] = f * inStride[i];
    if (f === -1) base += (dims[i] - 1) * inStride[i];
  }
  const n = dims[0] * dims[1] * dims[2];
  const ctor = data.constructor as new (len: number) => T;
  const out = new ctor(n * channels);
  // Strided gathers go through an unsigned view of the same width, so the
  // loop sees at most three array kinds (fast element access) whatever the
  // voxel type; 8-byte voxels move as two 32-bit lanes (no BigInt boxing).
  const bpe = data.BYTES_PER_ELEMENT;
  const lanes = bpe === 8 ? 2 : 1;
  const View = bpe === 1 ? Uint8Array : bpe === 2 ? Uint16Array : Uint32Array;
  const inU = new View(data.buffer as ArrayBuffer, data.byteOffset, data.length * lanes);
  const outU = new View(out.buffer as ArrayBuffer, out.byteOffset, out.length * lanes);
  const [n0, n1, n2] = outDims;
  const [s0, s1, s2] = stepFor;
  for (let c = 0; c < channels; c++) {
    const cBase = c * n + base;
    let o = c * n;
    for (let k = 0; k < n2; k++) {
      for (let j = 0; j < n1; j++) {
        let src = cBase + k * s2 + j * s1;
        if (s0 === 1) {
          // Contiguous run in the source: one block copy.
          out.set(data.subarray(src, src + n0) as never, o);
          o += n0;
        } else if (s0 === -1) {
          // Reversed run (e.g. LPS → RAS flips i): block copy, then native in-place reverse.
          out.set(data.subarray(src - n0 + 1, src + 1) as never, o);
          out.subarray(o, o + n0).reverse();
          o += n0;
        } else if (lanes === 1) {
          for (let i = 0; i < n0; i++, src += s0) outU[o++] = inU[src];
        } else {
          for (let i = 0; i < n0; i++, src += s0, o++) {
            outU[2 * o] = inU[2 * src];
            outU[2 * o + 1] = inU[2 * src + 1];
          }
        }
      }
    }
  }
  return { data: out, dims: outDims };
}

/** Applies an orientation transform to a volume, keeping world positions. */
export function applyOrientation(vol: Volume, ornt: Ornt): Volume {
  if (isIdentity(ornt)) return vol;
  const { data, dims } = applyOrntToData(vol.data, vol.dims, vol.channels, ornt);
  const affine = matmul4(vol.affine, orntInverseAffine(ornt, vol.dims));
  return new Volume({ data, dims, channels: vol.channels, affine, meta: vol.meta });
}

export interface Reoriented {
  volume: Volume;
  /** Orientation transform applied (nibabel ornt: [outAxis, flip] per input axis). */
  transform: Ornt;
  /** Axis codes before and after. */
  from: string;
  to: string;
}

/**
 * Permutes/flips voxel axes so they point as close as possible to `target`
 * (default "RAS", as nibabel's as_closest_canonical), updating the affine so
 * world coordinates are unchanged. Oblique volumes stay oblique (no resampling).
 */
export function reorient(vol: Volume, target = 'RAS'): Reoriented {
  const start = ioOrientation(vol.affine);
  const end = axcodesToOrnt(target);
  const transform = orntTransform(start, end);
  return { volume: applyOrientation(vol, transform), transform, from: orntToAxcodes(start), to: target.toUpperCase() };
}

/** Undoes a `reorient` result: returns the volume in its original voxel order. */
export function undoReorient(vol: Volume, transform: Ornt): Volume {
  return applyOrientation(vol, invertOrnt(transform));
}

/** Orientation of voxel axes of a volume (nibabel aff2axcodes). */
export function volumeOrientation(vol: Volume): string {
  return orientationCodes(vol.affine);
}
