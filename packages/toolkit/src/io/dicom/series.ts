// DICOM series → Volume: pick the series, decode every file, turn images into
// planes, sort them along the slice normal, check the spacing, stack them,
// apply Rescale Slope/Intercept and build the voxel → RAS affine.
//
// Decisions (documented in index.ts):
// - Slices are sorted by their ImagePositionPatient projected on the slice
//   normal (row × column cosines); the slice step comes from the positions,
//   never from SliceThickness.
// - Non-uniform slice spacing is an error by default (the one affine cannot
//   place the slices correctly); `nonUniformSpacing: 'keep'` keeps the slices
//   with the mean step (first and last slice exact, a warning in
//   meta.warnings), `'resample'` interpolates linearly onto a uniform grid at
//   the median gap (dcm2niix's "_Eq" output does the same job).
// - Planes repeated at every position the same number of times (diffusion
//   directions, time points, echoes left in one series) become channels of a
//   4D volume, ordered by temporal index / acquisition / instance number;
//   repeats that do not cover every position are an error naming both files.
// - Layout 'dcm2niix' (default) stores rows bottom-up like dcm2niix, so
//   readDicomSeries and dcm2niix agree voxel for voxel for 2D acquisitions;
//   'dicom' keeps the transmitted row order. Both affines map every voxel to
//   the same patient position.
import path from 'node:path';
import type { Affine, Vec3 } from '../affine.js';
import { identityAffine } from '../affine.js';
import { type VoxelArray, Volume } from '../volume.js';
import { type DicomDataset, DicomError, readDicomFile } from './dataset.js';
import { type DecodedPixels, decodePixels } from './pixels.js';
import { type Plane, add, dot, norm, planesOf, scale, sub } from './planes.js';
import { type DicomScan, type SeriesInfo, describeSeries, nonImageReason, scanDicomPath } from './scan.js';
import { TAG } from './tags.js';

export interface ReadDicomOptions {
  /** SeriesInstanceUID (or SeriesInfo.key) to read when a folder holds several series. */
  seriesUid?: string;
  /** What to do when slice gaps differ: 'error' (default), 'keep' (mean step, warning) or 'resample' (uniform grid at the median gap). */
  nonUniformSpacing?: 'error' | 'keep' | 'resample';
  /** 'dcm2niix' (default): rows stored bottom-up as dcm2niix writes them; 'dicom': transmitted order. */
  layout?: 'dcm2niix' | 'dicom';
  /** Invert MONOCHROME1 images so higher values are brighter (default false). */
  invertMonochrome1?: boolean;
  /** Apply Rescale Slope/Intercept (or Dose Grid Scaling); default true. */
  rescale?: boolean;
  /** Scan sub-folders (default true). */
  recursive?: boolean;
}

/** Distance (mm) below which two slice positions count as the same position. */
const SAME_POSITION_MM = 1e-3;

interface Source {
  ds: DicomDataset;
  pixels: DecodedPixels;
}

function fail(where: string, msg: string): never {
  throw new DicomError(where, msg);
}

function lexCompare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function fmt(v: number): string {
  return Number(v.toFixed(4)).toString();
}

function pickSeries(scan: DicomScan, where: string, uid: string | undefined): SeriesInfo {
  if (scan.series.length === 0) {
    const examples = scan.skipped.slice(0, 5).map((s) => `  ${s.file}: ${s.reason}`).join('\n');
    fail(where, `no DICOM image series found${scan.skipped.length ? ` (${scan.skipped.length} file(s) skipped, e.g.:\n${examples})` : ' (the folder holds no files)'}`);
  }
  if (uid !== undefined) {
    const hit = scan.series.filter((s) => s.key === uid || s.seriesInstanceUid === uid);
    if (hit.length === 1) return hit[0];
    const list = scan.series.map((s) => `  ${describeSeries(s)}`).join('\n');
    if (hit.length > 1) fail(where, `SeriesInstanceUID ${uid} holds ${hit.length} incompatible stacks; choose one by key:\n${list}`);
    fail(where, `no series with SeriesInstanceUID ${uid}; found:\n${list}`);
  }
  if (scan.series.length > 1) {
    const list = scan.series.map((s) => `  ${describeSeries(s)}`).join('\n');
    fail(where, `holds ${scan.series.length} DICOM series; choose one with { seriesUid } (CLI: --series):\n${list}`);
  }
  return scan.series[0];
}

/** Files of the series to read, from a folder, a DICOMDIR, or one file. */
function resolveSeriesFiles(target: string, opts: ReadDicomOptions): { files: string[]; series?: SeriesInfo } {
  const scan = scanDicomPath(target, { recursive: opts.recursive });
  if (scan) {
    const s = pickSeries(scan, target, opts.seriesUid);
    return { files: s.files, series: s };
  }
  const ds = readDicomFile(target, { untilTag: TAG.PixelData });
  const why = nonImageReason(ds);
  if (why) fail(target, why);
  return { files: [target] };
}

/**
 * Reads one DICOM series as a Volume: a folder (scanned recursively; must hold
 * one image series unless `seriesUid` picks one), a DICOMDIR (its referenced
 * files), or a single file (2D image, multi-frame, enhanced, mosaic; `.dcm.gz`
 * is decompressed). Voxel values are Rescale-applied; see ReadDicomOptions.
 */
export function readDicomSeries(pathOrFolder: string, opts: ReadDicomOptions = {}): Volume {
  const target = path.resolve(pathOrFolder);
  const { files, series } = resolveSeriesFiles(target, opts);
  const warnings = new Set<string>();
  if (series?.duplicates.length) {
    warnings.add(`${series.duplicates.length} file(s) ignored as copies of another file with the same SOPInstanceUID, e.g. ${series.duplicates[0]}`);
  }
  const sources = new Map<string, Source>();
  const planes: Plane[] = [];
  let mosaicVolume = 0;
  for (const file of files) {
    const ds = readDicomFile(file);
    const why = nonImageReason(ds);
    if (why) fail(file, why);
    const pixels = decodePixels(ds, { invertMonochrome1: opts.invertMonochrome1 });
    for (const w of ds.warnings) warnings.add(`${path.basename(file)}: ${w}`);
    for (const n of pixels.notes) warnings.add(n);
    sources.set(file, { ds, pixels });
    const fp = planesOf(ds, pixels.frames, pixels.rows, pixels.columns, warnings);
    if (fp.length > 0 && fp[0].tile) {
      for (const p of fp) p.volume = mosaicVolume;
      mosaicVolume++;
    }
    planes.push(...fp);
  }
  if (planes.length === 0) fail(target, 'no image planes found');
  return assemble(target, planes, sources, series, opts, warnings);
}

function checkConsistent(planes: Plane[], where: string): void {
  const ref = planes[0];
  for (const p of planes) {
    if (p.rows !== ref.rows || p.columns !== ref.columns) {
      fail(where, `images differ in size: ${ref.file} is ${ref.columns}×${ref.rows}, ${p.file} is ${p.columns}×${p.rows}`);
    }
    if (dot(p.row, ref.row) < 1 - 1e-4 || dot(p.col, ref.col) < 1 - 1e-4) {
      fail(where, `images differ in ImageOrientationPatient: ${ref.file} [${[...ref.row, ...ref.col].map(fmt).join(', ')}] vs ${p.file} [${[...p.row, ...p.col].map(fmt).join(', ')}]`);
    }
    if (Math.abs(p.spacing[0] - ref.spacing[0]) > 1e-4 * ref.spacing[0] || Math.abs(p.spacing[1] - ref.spacing[1]) > 1e-4 * ref.spacing[1]) {
      fail(where, `images differ in PixelSpacing: ${ref.file} [${ref.spacing.join(', ')}] vs ${p.file} [${p.spacing.join(', ')}]`);
    }
  }
}

interface Stack {
  /** slices[k][c]: the plane of slice k, channel (repeat) c. */
  slices: Plane[][];
  /** Patient position of each slice's first voxel (LPS). */
  positions: Vec3[];
}

function stackPlanes(planes: Plane[], where: string, warnings: Set<string>): Stack {
  const ref = planes[0];
  if (ref.tile) {
    // Mosaics: each file is one volume, slices in tile order.
    const vols = new Map<number, Plane[]>();
    for (const p of planes) {
      const v = vols.get(p.volume ?? 0) ?? [];
      v.push(p);
      vols.set(p.volume ?? 0, v);
    }
    const groups = [...vols.values()];
    const n = groups[0].length;
    for (const g of groups) if (g.length !== n) fail(where, `mosaic volumes differ in slice count: ${groups[0][0].file} has ${n}, ${g[0].file} has ${g.length}`);
    let maxShift = 0;
    for (const g of groups) for (let k = 0; k < n; k++) maxShift = Math.max(maxShift, norm(sub(g[k].position, groups[0][k].position)));
    if (maxShift > 0.01) warnings.add(`mosaic volumes are not at the same position (up to ${fmt(maxShift)} mm apart); the geometry of the first volume is used`);
    return { slices: Array.from({ length: n }, (_, k) => groups.map((g) => g[k])), positions: groups[0].map((p) => p.position) };
  }
  const withGeom = planes.filter((p) => p.hasGeometry).length;
  if (withGeom !== 0 && withGeom !== planes.length) {
    const bad = planes.find((p) => !p.hasGeometry) as Plane;
    fail(where, `${bad.file} has no ImagePositionPatient/ImageOrientationPatient while other images of the series do`);
  }
  let ordered: Plane[];
  if (withGeom === 0 && planes.length > 1) {
    // No positions: stack in instance order, positions already synthesised per file.
    ordered = [...planes].sort((a, b) => lexCompare(a.order, b.order));
    warnings.add('images have no ImagePositionPatient: stacked in InstanceNumber order');
    const sp = ref.spacingBetweenSlices ?? ref.thickness ?? 1;
    ordered = ordered.map((p, k) => ({ ...p, position: add(ref.position, scale(ref.normal, k * sp)) }));
  } else {
    ordered = planes;
  }
  const n = ref.normal;
  const sorted = [...ordered].sort((a, b) => dot(a.position, n) - dot(b.position, n) || lexCompare(a.order, b.order));
  const groups: Plane[][] = [];
  for (const p of sorted) {
    const last = groups[groups.length - 1];
    if (last && Math.abs(dot(p.position, n) - dot(last[0].position, n)) < SAME_POSITION_MM) {
      if (norm(sub(p.position, last[0].position)) > 0.01) {
        fail(where, `${last[0].file} and ${p.file} lie on the same slice plane but at different in-plane positions (${fmt(norm(sub(p.position, last[0].position)))} mm apart)`);
      }
      last.push(p);
    } else {
      groups.push([p]);
    }
  }
  const counts = groups.map((g) => g.length);
  const m = counts[0];
  if (counts.some((c) => c !== m)) {
    // Repeats that do not cover every position: report the first offender.
    const mode = [...new Set(counts)].sort((a, b) => counts.filter((c) => c === b).length - counts.filter((c) => c === a).length)[0];
    const bad = groups.find((g) => g.length !== mode) as Plane[];
    const z = fmt(dot(bad[0].position, n));
    if (bad.length > 1) {
      const names = bad.map((p) => (p.frame > 0 || bad.filter((b) => b.file === p.file).length > 1 ? `${p.file} (frame ${p.frame + 1})` : p.file));
      fail(where, `duplicate slice position ${z} mm along the slice normal: ${names.slice(0, 2).join(' and ')}${bad.length > 2 ? ` (+${bad.length - 2} more)` : ''} (other positions hold ${mode} image(s))`);
    }
    fail(where, `slice position ${z} mm (${bad[0].file}) holds ${bad.length} image(s) while other positions hold ${mode}: duplicate or missing images`);
  }
  for (const g of groups) g.sort((a, b) => lexCompare(a.order, b.order));
  return { slices: groups, positions: groups.map((g) => g[0].position) };
}

interface SliceAxis {
  /** Positions of the output slices. */
  positions: Vec3[];
  /** For each output slice: source slice index pair and weight of the second (resampling). */
  mix: { a: number; b: number; w: number }[];
  step: Vec3;
}

function sliceAxis(stack: Stack, ref: Plane, opts: ReadDicomOptions, where: string, warnings: Set<string>): SliceAxis {
  const pos = stack.positions;
  const N = pos.length;
  const identity = pos.map((_, k) => ({ a: k, b: k, w: 0 }));
  if (N === 1) {
    let sp = ref.spacingBetweenSlices ?? ref.thickness;
    if (sp === undefined) {
      warnings.add('single slice without SliceThickness/SpacingBetweenSlices: 1 mm assumed for the slice axis');
      sp = 1;
    }
    return { positions: pos, mix: identity, step: scale(ref.normal, sp) };
  }
  const d = pos.map((p) => dot(p, ref.normal));
  const gaps = d.slice(1).map((v, i) => v - d[i]);
  const sortedGaps = [...gaps].sort((a, b) => a - b);
  const median = sortedGaps[Math.floor(sortedGaps.length / 2)];
  const tol = Math.max(0.01 * median, 1e-3);
  const uniform = gaps.every((g) => Math.abs(g - median) <= tol);
  const step = scale(sub(pos[N - 1], pos[0]), 1 / (N - 1));
  // In-plane drift of the slice origin along the stack (gantry tilt): keep it in the affine.
  const along = dot(step, ref.normal);
  const shear = norm(sub(step, scale(ref.normal, along))) / Math.abs(along);
  if (shear > 1e-3) {
    warnings.add(`slices are sheared relative to the slice normal by ${fmt((Math.atan(shear) * 180) / Math.PI)}° (gantry tilt?): the affine keeps the true slice positions and is not orthogonal`);
  }
  if (uniform) return { positions: pos, mix: identity, step };
  const gapList = gaps.map(fmt).join(', ');
  const mode = opts.nonUniformSpacing ?? 'error';
  const missing = gaps.some((g) => g > 1.5 * median) ? ' (missing slices?)' : '';
  if (mode === 'error') {
    fail(where, `slice spacing is not uniform${missing}: gaps along the slice normal are ${gapList} mm (median ${fmt(median)} mm) at positions ${d.map(fmt).join(', ')} mm. One affine cannot place these slices; pass nonUniformSpacing: 'keep' (mean step ${fmt(norm(step))} mm, approximate geometry) or 'resample' (linear interpolation onto a ${fmt(median)} mm grid); CLI: --non-uniform keep|resample`);
  }
  if (mode === 'keep') {
    warnings.add(`slice spacing is not uniform${missing} (gaps ${gapList} mm): slices kept as acquired with the mean step ${fmt(norm(step))} mm, so only the first and last slice are exactly placed`);
    return { positions: pos, mix: identity, step };
  }
  // Resample onto a uniform grid from the first to the last slice at the median gap.
  const total = d[N - 1] - d[0];
  const count = Math.floor(total / median + 1e-6) + 1;
  if (count > 4096) fail(where, `resampling the non-uniform slices at ${fmt(median)} mm would create ${count} slices (limit 4096)`);
  const dir = scale(sub(pos[N - 1], pos[0]), 1 / total);
  const out: Vec3[] = [];
  const mix: { a: number; b: number; w: number }[] = [];
  let a = 0;
  for (let t = 0; t < count; t++) {
    const z = d[0] + t * median;
    while (a < N - 2 && d[a + 1] < z) a++;
    const w = Math.min(1, Math.max(0, (z - d[a]) / (d[a + 1] - d[a])));
    mix.push({ a, b: a + 1, w });
    out.push(add(pos[0], scale(dir, t * median)));
  }
  warnings.add(`slice spacing is not uniform${missing} (gaps ${gapList} mm): resampled linearly onto ${count} slices at ${fmt(median)} mm`);
  return { positions: out, mix, step: scale(dir, median) };
}

type OutType = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';

/**
 * Output type for rescaled values in [min, max]. Never narrower than the
 * stored samples (`minBits`), so 16-bit series stay 16-bit whatever their
 * content (stable dtypes across a dataset); widened only when values need it.
 */
function chooseType(min: number, max: number, integral: boolean, floatStored: 32 | 64 | 0, minBits: number): OutType {
  if (floatStored === 64) return 'float64';
  if (!integral || floatStored === 32) return 'float32';
  if (minBits <= 8 && min >= 0 && max <= 255) return 'uint8';
  if (minBits <= 8 && min >= -128 && max <= 127) return 'int8';
  if (minBits <= 16 && min >= -32768 && max <= 32767) return 'int16';
  if (minBits <= 16 && min >= 0 && max <= 65535) return 'uint16';
  if (min >= -2147483648 && max <= 2147483647) return 'int32';
  if (min >= 0 && max <= 4294967295) return 'uint32';
  return 'float64';
}

function allocOut(t: OutType, n: number): VoxelArray {
  switch (t) {
    case 'uint8': return new Uint8Array(n);
    case 'int8': return new Int8Array(n);
    case 'uint32': return new Uint32Array(n);
    case 'int16': return new Int16Array(n);
    case 'uint16': return new Uint16Array(n);
    case 'int32': return new Int32Array(n);
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
  }
}

function assemble(target: string, planes: Plane[], sources: Map<string, Source>, series: SeriesInfo | undefined, opts: ReadDicomOptions, warnings: Set<string>): Volume {
  checkConsistent(planes, target);
  const ref = planes[0];
  const stack = stackPlanes(planes, target, warnings);
  const axis = sliceAxis(stack, ref, opts, target, warnings);
  const repeats = stack.slices[0].length;
  const samples = sources.get(ref.file)?.pixels.samples ?? 1;
  for (const s of sources.values()) if (s.pixels.samples !== samples) fail(target, 'series mixes colour and greyscale images');
  if (samples > 1 && repeats > 1) fail(target, `colour images repeated at each position (${repeats}×): 4D colour series are not supported`);
  const channels = samples > 1 ? samples : repeats;
  const { rows, columns } = ref;
  const nk = axis.positions.length;
  const sliceSize = rows * columns;

  // Output type from the rescaled value range.
  const doRescale = opts.rescale !== false && samples === 1;
  const used = stack.slices.flat();
  const slopes = new Set(used.map((p) => (doRescale ? p.slope : 1)));
  const inters = new Set(used.map((p) => (doRescale ? p.intercept : 0)));
  let floatStored: 0 | 32 | 64 = 0;
  let lo = Infinity;
  let hi = -Infinity;
  let minBits = 8;
  for (const s of sources.values()) {
    const d = s.pixels.data;
    if (d instanceof Float32Array) floatStored = Math.max(floatStored, 32) as 32 | 64;
    if (d instanceof Float64Array) floatStored = 64;
    minBits = Math.max(minBits, d.BYTES_PER_ELEMENT * 8);
  }
  for (const p of used) {
    const src = sources.get(p.file) as Source;
    const { min, max } = planeRange(src.pixels, p);
    const s = doRescale ? p.slope : 1;
    const b = doRescale ? p.intercept : 0;
    lo = Math.min(lo, Math.min(min * s, max * s) + b);
    hi = Math.max(hi, Math.max(min * s, max * s) + b);
  }
  const integral = slopes.size === 1 && inters.size === 1 && [...slopes, ...inters].every(Number.isInteger) && axis.mix.every((m) => m.w === 0);
  if (doRescale && slopes.size > 1) warnings.add('Rescale Slope differs between slices: voxels stored as float32');
  const outType = samples > 1 ? (sources.get(ref.file)?.pixels.data instanceof Uint16Array ? 'uint16' : 'uint8') : chooseType(lo, hi, integral, floatStored, minBits);
  const out = allocOut(outType, sliceSize * nk * channels);
  const flip = (opts.layout ?? 'dcm2niix') === 'dcm2niix';

  for (let k = 0; k < nk; k++) {
    const mx = axis.mix[k];
    for (let c = 0; c < repeats; c++) {
      const pa = stack.slices[mx.a][c];
      const srcA = sources.get(pa.file) as Source;
      if (samples > 1) {
        for (let s = 0; s < samples; s++) copyPlane(srcA, pa, s, out, (s * nk + k) * sliceSize, flip, 1, 0, 1);
        continue;
      }
      const sa = doRescale ? pa.slope : 1;
      const ba = doRescale ? pa.intercept : 0;
      const offset = (c * nk + k) * sliceSize;
      copyPlane(srcA, pa, 0, out, offset, flip, sa, ba, 1 - mx.w);
      if (mx.w > 0) {
        const pb = stack.slices[mx.b][c];
        addPlane(sources.get(pb.file) as Source, pb, out as Float32Array, offset, flip, doRescale ? pb.slope : 1, doRescale ? pb.intercept : 0, mx.w);
      }
    }
  }

  // Affine: LPS voxel → patient, then RAS (negate x, y), then the row flip.
  const [dRow, dCol] = ref.spacing;
  const c0 = scale(ref.row, dCol);
  let c1 = scale(ref.col, dRow);
  const c2 = axis.step;
  let origin = axis.positions[0];
  if (flip) {
    origin = add(origin, scale(c1, rows - 1));
    c1 = scale(c1, -1);
  }
  const a: Affine = identityAffine();
  const cols = [c0, c1, c2];
  for (let r = 0; r < 3; r++) {
    const sign = r < 2 ? -1 : 1;
    for (let c = 0; c < 3; c++) a[r * 4 + c] = sign * cols[c][r];
    a[r * 4 + 3] = sign * origin[r];
  }

  const first = sources.get(ref.file) as Source;
  const meta = buildMeta(target, first, sources, used, series, {
    slope: doRescale && slopes.size === 1 ? [...slopes][0] : undefined,
    intercept: doRescale && inters.size === 1 ? [...inters][0] : undefined,
    perSlice: doRescale && (slopes.size > 1 || inters.size > 1),
    layout: flip ? 'dcm2niix' : 'dicom',
    sliceSpacing: norm(axis.step),
    repeats,
    warnings: [...warnings],
  });
  return new Volume({ data: out, dims: [columns, rows, nk], channels, affine: a, meta });
}

/** Index of the first stored sample of plane row `r` (sample `s`) in its file's decoded data. */
function rowStart(px: DecodedPixels, p: Plane, r: number, s: number): number {
  const [r0, c0] = p.tile ?? [0, 0];
  return (p.frame * px.rows * px.columns + (r0 + r) * px.columns + c0) * px.samples + s;
}

/** Min/max stored value of one plane. */
function planeRange(px: DecodedPixels, p: Plane): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  const d = px.data;
  const n = p.columns * px.samples;
  for (let r = 0; r < p.rows; r++) {
    const base = rowStart(px, p, r, 0);
    for (let i = base; i < base + n; i++) {
      const v = d[i];
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return { min, max };
}

/**
 * Writes sample `s` of a plane, times `weight` after rescaling, into the
 * output slice at `offset`, rows reversed when `flip`. Integer outputs only
 * ever receive exact integers (chooseType), so stores need no rounding.
 */
function copyPlane(src: Source, p: Plane, s: number, out: VoxelArray, offset: number, flip: boolean, slope: number, intercept: number, weight: number): void {
  const px = src.pixels;
  const d = px.data;
  const step = px.samples;
  const o = out as Float64Array; // typed arrays convert numbers on store
  const shiftOnly = slope === 1 && weight === 1 && step === 1;
  for (let r = 0; r < p.rows; r++) {
    const dst = offset + (flip ? p.rows - 1 - r : r) * p.columns;
    let idx = rowStart(px, p, r, s);
    if (shiftOnly) {
      // Native typed-array copy, then the intercept. Integer outputs wrap
      // modulo their range on both steps, so the final value is exact whenever
      // it fits the type (which chooseType guarantees).
      o.set(d.subarray(idx, idx + p.columns) as unknown as Float64Array, dst);
      if (intercept !== 0) for (let c = dst; c < dst + p.columns; c++) o[c] += intercept;
    } else {
      for (let c = 0; c < p.columns; c++, idx += step) o[dst + c] = (d[idx] * slope + intercept) * weight;
    }
  }
}

/** Adds `weight` × a rescaled plane to a float output slice (linear slice interpolation). */
function addPlane(src: Source, p: Plane, out: Float32Array, offset: number, flip: boolean, slope: number, intercept: number, weight: number): void {
  const px = src.pixels;
  const d = px.data;
  for (let r = 0; r < p.rows; r++) {
    const dst = offset + (flip ? p.rows - 1 - r : r) * p.columns;
    let idx = rowStart(px, p, r, 0);
    for (let c = 0; c < p.columns; c++, idx += px.samples) out[dst + c] += (d[idx] * slope + intercept) * weight;
  }
}

function buildMeta(
  target: string,
  first: Source,
  sources: Map<string, Source>,
  used: Plane[],
  series: SeriesInfo | undefined,
  x: { slope?: number; intercept?: number; perSlice: boolean; layout: string; sliceSpacing: number; repeats: number; warnings: string[] },
): Record<string, unknown> {
  const ds = first.ds;
  const str = (tag: string): string | undefined => {
    try {
      return ds.text(tag);
    } catch {
      return undefined;
    }
  };
  const num = (tag: string): number | undefined => {
    try {
      return ds.number(tag);
    } catch {
      return undefined;
    }
  };
  const files = [...new Set(used.map((p) => p.file))];
  const meta: Record<string, unknown> = {
    format: 'dicom',
    source: target,
    files,
    seriesInstanceUid: ds.str(TAG.SeriesInstanceUID),
    seriesKey: series?.key,
    studyInstanceUid: ds.str(TAG.StudyInstanceUID),
    seriesNumber: num(TAG.SeriesNumber),
    seriesDescription: str(TAG.SeriesDescription),
    protocolName: str(TAG.ProtocolName),
    modality: ds.str(TAG.Modality),
    manufacturer: str(TAG.Manufacturer),
    sopClassUid: ds.str(TAG.SOPClassUID),
    transferSyntaxUids: [...new Set([...sources.values()].map((s) => s.pixels.transferSyntax))],
    photometricInterpretation: first.pixels.photometric,
    sourcePhotometricInterpretation: first.pixels.sourcePhotometric,
    bitsStored: first.pixels.bitsStored,
    rescaleSlope: x.slope,
    rescaleIntercept: x.intercept,
    rescalePerSlice: x.perSlice || undefined,
    sliceThickness: num(TAG.SliceThickness),
    sliceSpacing: x.sliceSpacing,
    repetitionTime: num(TAG.RepetitionTime),
    echoTime: num(TAG.EchoTime),
    magneticFieldStrength: num(TAG.MagneticFieldStrength),
    volumes: x.repeats > 1 ? x.repeats : undefined,
    layout: x.layout,
    warnings: x.warnings,
  };
  for (const k of Object.keys(meta)) if (meta[k] === undefined) delete meta[k];
  return meta;
}
