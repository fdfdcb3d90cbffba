// Weak annotations simulated from full masks, deterministic for a seed, to
// train and benchmark weakly supervised methods where no real clicks or
// scribbles exist.
//
// Seven points (PA-Seg, Zhai et al. TMI 2023): per lesion, one foreground
// point near its centre and six background points just outside its extent
// along ±i, ±j, ±k. PA-Seg's points were clicked by hand; we simulate them:
// - lesions are the 26-connected components of the foreground, largest
//   first; at most `maxLesions` (2: PA-Seg's BraTS maps code a second tumour
//   with {3, 4} and no more), and a further lesion only if it has at least
//   `minLesionFraction` of the largest one's voxels (a clicker ignores specks);
// - foreground point: the lesion voxel nearest the lesion's centroid (always
//   inside, even for a non-convex lesion), then moved to a random lesion voxel
//   within `centreJitterVoxels` (Chebyshev) of it;
// - background point on side (axis a, direction ±): start at the lesion's
//   extreme voxel on that side (the one nearest the centroid across the
//   axis, like an extreme-point click), step `marginVoxels` ∈ [lo, hi] beyond
//   the extent along a, and jitter the two other coordinates by up to
//   `jitterVoxels`. If that voxel is foreground (another lesion), it steps
//   further out until background. A side where the lesion touches the image
//   border has no room and is reported in `skipped` instead.
//
// Scribbles (per 2D slice along k, as scribbles are drawn): for each class
// and each slice holding it, the class region is eroded `erosionIterations`
// times (4-neighbour; the last non-empty erosion is kept, so thin structures
// survive), thinned to its medial line (Zhang–Suen), and optionally cut to a
// contiguous `keepFraction` of each skeleton piece; only a random
// `sliceFraction` of the slices (at least one) is annotated. Background is
// scribbled the same way inside a band of `backgroundBand` voxels around the
// foreground, which gives a loop around the organs like a hand-drawn
// background scribble instead of the image's edges. This follows the
// skeleton-of-eroded-mask simulation used for scribble benchmarks (e.g.
// Valvano et al., TMI 2021, for datasets without drawn scribbles); it is a
// simulation protocol, not a copy of theirs. Every scribbled voxel lies inside
// its class, and every class present in the volume gets at least one voxel.
import type { Vec3 } from '../io/affine.js';
import { Volume } from '../io/volume.js';
import type { LesionPoint, ScribbleAnnotation } from '../data/annotations.js';
import type { Rng } from '../random/rng.js';
import { connectedComponents } from './components.js';

// ------------------------------------------------------------ seven points

export interface SevenPointOptions {
  /** Which label values are foreground; default value > 0 (BraTS whole tumour). */
  foreground?: (value: number) => boolean;
  /** Lesions annotated, largest first; default 2. */
  maxLesions?: number;
  /** A further lesion needs this fraction of the largest lesion's voxels; default 0.1. */
  minLesionFraction?: number;
  /** Distance beyond the lesion's extent, voxels, inclusive range; default [1, 3]. */
  marginVoxels?: readonly [number, number];
  /** Largest shift of the two other coordinates of a background point, voxels; default 2. */
  jitterVoxels?: number;
  /** Largest shift of the foreground point from the centre-most voxel (Chebyshev, voxels); default 1. */
  centreJitterVoxels?: number;
}

export interface SimulatedLesion {
  lesion: number;
  voxels: number;
  bboxMin: Vec3;
  bboxMax: Vec3;
  /** Mean voxel index. */
  centroid: Vec3;
}

export interface SevenPointResult {
  points: LesionPoint[];
  lesions: SimulatedLesion[];
  /** Background points that could not be placed (no room between the lesion and the image border). */
  skipped: { lesion: number; axis: number; direction: 1 | -1 }[];
  /** For each background point (index into `points`): the side of its lesion it marks. */
  sides: { point: number; lesion: number; axis: number; direction: 1 | -1 }[];
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/** PA-Seg's seven points per lesion, simulated from a full label volume. */
export function simulateSevenPoints(label: Volume, rng: Rng, opts: SevenPointOptions = {}): SevenPointResult {
  const isFg = opts.foreground ?? ((v: number) => v > 0);
  const maxLesions = opts.maxLesions ?? 2;
  const minFraction = opts.minLesionFraction ?? 0.1;
  const [mlo, mhi] = opts.marginVoxels ?? [1, 3];
  const jitter = opts.jitterVoxels ?? 2;
  const cjitter = opts.centreJitterVoxels ?? 1;
  if (!(Number.isInteger(mlo) && Number.isInteger(mhi) && mlo >= 1 && mhi >= mlo)) throw new RangeError(`simulateSevenPoints: marginVoxels must be integers 1 ≤ lo ≤ hi, got [${mlo}, ${mhi}]`);
  if (!(Number.isInteger(jitter) && jitter >= 0 && Number.isInteger(cjitter) && cjitter >= 0)) throw new RangeError('simulateSevenPoints: jitterVoxels and centreJitterVoxels must be integers ≥ 0');
  const dims = label.dims;
  const [ni, nj, nk] = dims;
  const n = label.numVoxels;
  const mask = new Uint8Array(n);
  for (let idx = 0; idx < n; idx++) mask[idx] = isFg(Number(label.data[idx])) ? 1 : 0;
  // Volume data is i fastest: C order over [k, j, i]; component ids 1..n in first-voxel order.
  const cc = connectedComponents(mask, [nk, nj, ni], 'full');
  const labels = cc.labels;
  const sizes = cc.sizes.slice(1);
  if (sizes.length === 0) throw new Error('simulateSevenPoints: the label volume has no foreground voxel');
  const order = sizes.map((s, i) => i).sort((a, b) => sizes[b] - sizes[a] || a - b);
  const kept = order.slice(0, maxLesions).filter((c, r) => r === 0 || sizes[c] >= minFraction * sizes[order[0]]);
  const slot = new Map(kept.map((c, r) => [c + 1, r]));
  const voxels: Int32Array[] = kept.map((c) => new Int32Array(sizes[c]));
  const fill = kept.map(() => 0);
  for (let idx = 0; idx < n; idx++) {
    const r = labels[idx] ? slot.get(labels[idx]) : undefined;
    if (r !== undefined) voxels[r][fill[r]++] = idx;
  }
  const coord = (idx: number): Vec3 => [idx % ni, Math.floor(idx / ni) % nj, Math.floor(idx / (ni * nj))];
  const inImage = (v: readonly number[]): boolean => v.every((x, a) => x >= 0 && x < dims[a]);
  const flat = (v: readonly number[]): number => v[0] + ni * (v[1] + nj * v[2]);

  const points: LesionPoint[] = [];
  const lesions: SimulatedLesion[] = [];
  const skipped: SevenPointResult['skipped'] = [];
  const sides: SevenPointResult['sides'] = [];
  kept.forEach((c, lesion) => {
    const r = rng.fork('seven-points', lesion);
    const vox = voxels[lesion];
    const lo: Vec3 = [Infinity, Infinity, Infinity];
    const hi: Vec3 = [-Infinity, -Infinity, -Infinity];
    const sum = [0, 0, 0];
    for (const idx of vox) {
      const p = coord(idx);
      for (let a = 0; a < 3; a++) { lo[a] = Math.min(lo[a], p[a]); hi[a] = Math.max(hi[a], p[a]); sum[a] += p[a]; }
    }
    const centroid = sum.map((s) => s / vox.length) as Vec3;
    lesions.push({ lesion, voxels: vox.length, bboxMin: lo, bboxMax: hi, centroid });
    const d2 = (p: readonly number[], skip = -1): number => p.reduce((s, x, a) => (a === skip ? s : s + (x - centroid[a]) ** 2), 0);

    // Foreground: centre-most voxel, then a random lesion voxel close to it.
    let centre = coord(vox[0]);
    for (const idx of vox) { const p = coord(idx); if (d2(p) < d2(centre)) centre = p; }
    const near: Vec3[] = [];
    for (const idx of vox) { const p = coord(idx); if (p.every((x, a) => Math.abs(x - centre[a]) <= cjitter)) near.push(p); }
    const fg = r.choice(near);
    points.push({ class: 1, ijk: fg, xyz: label.voxelToWorld(fg), lesion });

    for (let axis = 0; axis < 3; axis++) {
      for (const direction of [-1, 1] as const) {
        const extreme = direction > 0 ? hi[axis] : lo[axis];
        let anchor: Vec3 | undefined;
        for (const idx of vox) {
          const p = coord(idx);
          if (p[axis] === extreme && (!anchor || d2(p, axis) < d2(anchor, axis))) anchor = p;
        }
        const margin = r.int(mlo, mhi + 1);
        const pos = [...anchor!] as Vec3;
        for (let a = 0; a < 3; a++) if (a !== axis) pos[a] = clamp(pos[a] + r.int(-jitter, jitter + 1), 0, dims[a] - 1);
        // Clamp to the border while that is still beyond the extent; else no room.
        pos[axis] = clamp(extreme + direction * margin, 0, dims[axis] - 1);
        while (inImage(pos) && (pos[axis] - extreme) * direction >= 1 && mask[flat(pos)]) pos[axis] += direction;
        if (!inImage(pos) || (pos[axis] - extreme) * direction < 1 || mask[flat(pos)]) { skipped.push({ lesion, axis, direction }); continue; }
        sides.push({ point: points.length, lesion, axis, direction });
        points.push({ class: 0, ijk: pos, xyz: label.voxelToWorld(pos), lesion });
      }
    }
  });
  return { points, lesions, skipped, sides };
}

// ------------------------------------------------------------ scribbles

export interface ScribbleSimOptions {
  /** Classes to scribble; default every value present (background 0 included). */
  classes?: readonly number[];
  /** Value of unscribbled voxels; default (largest label) + 1 (ACDC: 4). */
  unlabelled?: number;
  /** 4-neighbour erosions before thinning; default 2. */
  erosionIterations?: number;
  /** Fraction of each skeleton piece kept, as one contiguous run; default 1. */
  keepFraction?: number;
  /** Fraction of the slices holding a class that are scribbled (at least one); default 1. */
  sliceFraction?: number;
  /** Background is scribbled within this many voxels (chessboard) of the foreground; default 10. */
  backgroundBand?: number;
}

function erode4(m: Uint8Array, w: number, h: number): Uint8Array {
  const out = new Uint8Array(m.length);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = x + w * y;
      out[i] = m[i] & m[i - 1] & m[i + 1] & m[i - w] & m[i + w];
    }
  }
  return out;
}

// Zhang–Suen thinning: peels boundary pixels in two alternating sub-passes
// that keep 8-connectivity, until nothing changes.
function thin(m: Uint8Array, w: number, h: number): Uint8Array {
  const s = Uint8Array.from(m);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (x === 0 || y === 0 || x === w - 1 || y === h - 1) s[x + w * y] = 0;
  const del: number[] = [];
  for (let changed = true; changed;) {
    changed = false;
    for (let pass = 0; pass < 2; pass++) {
      del.length = 0;
      for (let y = 1; y < h - 1; y++) {
        for (let x = 1; x < w - 1; x++) {
          const i = x + w * y;
          if (!s[i]) continue;
          // Neighbours p2..p9 clockwise from north.
          const p = [s[i - w], s[i - w + 1], s[i + 1], s[i + w + 1], s[i + w], s[i + w - 1], s[i - 1], s[i - w - 1]];
          const b = p.reduce((a, v) => a + v, 0);
          if (b < 2 || b > 6) continue;
          let a = 0;
          for (let t = 0; t < 8; t++) if (!p[t] && p[(t + 1) % 8]) a++;
          if (a !== 1) continue;
          if (pass === 0 ? (p[0] & p[2] & p[4]) || (p[2] & p[4] & p[6]) : (p[0] & p[2] & p[6]) || (p[0] & p[4] & p[6])) continue;
          del.push(i);
        }
      }
      for (const i of del) s[i] = 0;
      if (del.length) changed = true;
    }
  }
  return s;
}

/** Chessboard dilation by r (separable running distance). */
function dilateBox(m: Uint8Array, w: number, h: number, r: number): Uint8Array {
  const rows = new Uint8Array(m.length);
  for (let y = 0; y < h; y++) {
    let last = -Infinity;
    for (let x = 0; x < w; x++) { if (m[x + w * y]) last = x; if (x - last <= r) rows[x + w * y] = 1; }
    last = Infinity;
    for (let x = w - 1; x >= 0; x--) { if (m[x + w * y]) last = x; if (last - x <= r) rows[x + w * y] = 1; }
  }
  const out = new Uint8Array(m.length);
  for (let x = 0; x < w; x++) {
    let last = -Infinity;
    for (let y = 0; y < h; y++) { if (rows[x + w * y]) last = y; if (y - last <= r) out[x + w * y] = 1; }
    last = Infinity;
    for (let y = h - 1; y >= 0; y--) { if (rows[x + w * y]) last = y; if (last - y <= r) out[x + w * y] = 1; }
  }
  return out;
}

/** Contiguous runs of `keep` of each 8-connected skeleton piece, from a random start. */
function cutPieces(s: Uint8Array, w: number, h: number, keep: number, rng: Rng): number[] {
  const seen = new Uint8Array(s.length);
  const out: number[] = [];
  for (let i0 = 0; i0 < s.length; i0++) {
    if (!s[i0] || seen[i0]) continue;
    const piece: number[] = [i0];
    seen[i0] = 1;
    for (let q = 0; q < piece.length; q++) {
      const i = piece[q];
      const x = i % w;
      const y = Math.floor(i / w);
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        const yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
        const n = xx + w * yy;
        if (s[n] && !seen[n]) { seen[n] = 1; piece.push(n); }
      }
    }
    if (keep >= 1) { out.push(...piece); continue; }
    // BFS from a random pixel of the piece: the first `want` pixels are contiguous.
    const want = Math.max(1, Math.ceil(keep * piece.length));
    const inPiece = new Set(piece);
    const start = rng.choice(piece);
    const run: number[] = [start];
    const taken = new Set([start]);
    for (let q = 0; q < run.length && run.length < want; q++) {
      const x = run[q] % w;
      const y = Math.floor(run[q] / w);
      for (let dy = -1; dy <= 1 && run.length < want; dy++) for (let dx = -1; dx <= 1 && run.length < want; dx++) {
        const n = x + dx + w * (y + dy);
        if (inPiece.has(n) && !taken.has(n)) { taken.add(n); run.push(n); }
      }
    }
    out.push(...run);
  }
  return out;
}

/** Skeleton scribbles per class, simulated from a full label volume (procedure in the file header). */
export function simulateScribbles(label: Volume, rng: Rng, opts: ScribbleSimOptions = {}): ScribbleAnnotation {
  const [w, h, nk] = label.dims;
  const plane = w * h;
  const values = new Set<number>();
  for (let i = 0; i < label.numVoxels; i++) values.add(Number(label.data[i]));
  for (const v of values) if (!Number.isInteger(v) || v < 0) throw new Error(`simulateScribbles: label values must be integers ≥ 0, found ${v}`);
  const classes = [...(opts.classes ?? [...values])].sort((a, b) => a - b);
  const unlabelled = opts.unlabelled ?? Math.max(...values) + 1;
  if (values.has(unlabelled) || classes.includes(unlabelled)) throw new Error(`simulateScribbles: unlabelled value ${unlabelled} is also a class`);
  const erosions = opts.erosionIterations ?? 2;
  const keep = opts.keepFraction ?? 1;
  const sliceFraction = opts.sliceFraction ?? 1;
  const band = opts.backgroundBand ?? 10;
  if (!(keep > 0 && keep <= 1) || !(sliceFraction > 0 && sliceFraction <= 1)) throw new RangeError('simulateScribbles: keepFraction and sliceFraction must lie in (0, 1]');
  const big = unlabelled > 255 || classes.some((c) => c > 255);
  const out = big ? new Int32Array(label.numVoxels) : new Uint8Array(label.numVoxels);
  out.fill(unlabelled);

  const regionOf = (c: number, k: number): Uint8Array => {
    const m = new Uint8Array(plane);
    const base = k * plane;
    for (let i = 0; i < plane; i++) m[i] = Number(label.data[base + i]) === c ? 1 : 0;
    if (c !== 0) return m;
    const fg = new Uint8Array(plane);
    let any = false;
    for (let i = 0; i < plane; i++) if (!m[i]) { fg[i] = 1; any = true; }
    if (!any) return m; // a slice of pure background: scribble it whole
    const near = dilateBox(fg, w, h, band);
    for (let i = 0; i < plane; i++) m[i] &= near[i];
    return m;
  };

  for (const c of classes) {
    if (!values.has(c)) continue;
    const slices: number[] = [];
    for (let k = 0; k < nk; k++) {
      const base = k * plane;
      for (let i = 0; i < plane; i++) if (Number(label.data[base + i]) === c) { slices.push(k); break; }
    }
    // Background slices without foreground only count when the volume has none.
    const useful = c === 0 ? slices.filter((k) => { const m = regionOf(0, k); return m.some((v) => v) && (values.size === 1 || hasOther(label, k, plane)); }) : slices;
    const pool = useful.length ? useful : slices;
    const count = Math.max(1, Math.round(sliceFraction * pool.length));
    const chosen = rng.fork('scribble-slices', c).permutation(pool.length).slice(0, count).map((t) => pool[t]);
    for (const k of chosen) {
      let region = regionOf(c, k);
      if (!region.some((v) => v)) continue;
      for (let e = 0; e < erosions; e++) {
        const next = erode4(region, w, h);
        if (!next.some((v) => v)) break;
        region = next;
      }
      let skel = thin(region, w, h);
      if (!skel.some((v) => v)) {
        // Thinning can erase a tiny blob entirely: keep its centre-most pixel.
        skel = new Uint8Array(plane);
        skel[centreMost(region, w)] = 1;
      }
      for (const i of cutPieces(skel, w, h, keep, rng.fork('scribble-cut', c, k))) out[k * plane + i] = c;
    }
  }
  const vol = new Volume({ data: out, dims: label.dims, affine: label.affine, meta: { annotation: 'simulated-scribbles' } });
  const present = classes.filter((c) => out.includes(c));
  return { labels: vol, unlabelled, classes: present };
}

function hasOther(label: Volume, k: number, plane: number): boolean {
  const base = k * plane;
  for (let i = 0; i < plane; i++) if (Number(label.data[base + i]) !== 0) return true;
  return false;
}

function centreMost(m: Uint8Array, w: number): number {
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let i = 0; i < m.length; i++) if (m[i]) { sx += i % w; sy += Math.floor(i / w); n++; }
  const cx = sx / n;
  const cy = sy / n;
  let best = -1;
  let bd = Infinity;
  for (let i = 0; i < m.length; i++) {
    if (!m[i]) continue;
    const d = (i % w - cx) ** 2 + (Math.floor(i / w) - cy) ** 2;
    if (d < bd) { bd = d; best = i; }
  }
  return best;
}
