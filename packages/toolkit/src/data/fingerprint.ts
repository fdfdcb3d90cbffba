// Dataset fingerprint, after nnU-Net's DatasetFingerprintExtractor: what a
// planner needs (spacings, shapes after cropping to the non-zero region,
// foreground intensity statistics per channel) plus what a researcher wants
// to see before training (per-case geometry, label value counts, class
// volumes) and the problems found on the way.
//
// Exactness with nnU-Net. For each case the image is cropped to the
// bounding box of voxels that are non-zero in any channel; foreground =
// label > 0 inside that box. Per-case statistics use every foreground
// voxel. For the dataset statistics each case contributes `samplesPerCase`
// foreground values drawn WITH replacement by
// `RandomState(1234).choice(fg, samplesPerCase)` (channels drawn in order
// from the same generator), exactly nnU-Net's `collect_foreground_
// intensities`; the per-channel mean / std (population) / min / max /
// median / 0.5th and 99.5th percentiles (numpy 'linear') are taken over the
// concatenation. nnU-Net v2 draws 1e8 / n_cases samples per case; the
// default here is the classic 10 000, which gives the same statistics to a
// fraction of a percent at a small fraction of the memory (pass
// `samplesPerCase: Math.floor(1e8 / n)` to match v2 to the last digit).
//
// Which cases count: the dataset-level (nnU-Net) keys use the cases not in
// the test split; intensities come from those that are labelled. Lists in
// the nnU-Net keys (`spacings`, `shapes_after_crop`) are in ZYX order like
// nnU-Net's; everything else (`shape`, `spacing`, `medianShape`, ...) is in
// the Volume's (i, j, k) order.
import type { Vec3 } from '../io/affine.js';
import { isOblique } from '../io/affine.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Volume } from '../io/volume.js';
import { type Case, type DatasetProblem, type LoadCaseOptions, type Project, allCases, labelNames, labelValues, loadCase } from './dataset.js';
import { GeometryMismatchError } from './geometry.js';
import { NumpyRandomState } from '../random/numpy-random.js';

export interface IntensityStats {
  mean: number;
  std: number;
  min: number;
  max: number;
  median: number;
  percentile_00_5: number;
  percentile_99_5: number;
  /** Number of values the statistics were computed from. */
  n: number;
}

export interface ImageStats {
  min: number;
  max: number;
  mean: number;
  std: number;
  /** Voxels that are NaN or ±Infinity (excluded from the other numbers). */
  nonFinite: number;
}

export interface CaseFingerprint {
  case: string;
  centre: string;
  status: Case['status'];
  split?: Case['split'];
  /** Voxel grid [ni, nj, nk]. */
  shape: Vec3;
  channels: number;
  /** mm per voxel along i, j, k. */
  spacing: Vec3;
  /** nibabel axis codes, e.g. 'RAS'. */
  orientation: string;
  oblique: boolean;
  voxelType: string;
  /** Bounding box of voxels non-zero in any channel: start (inclusive) and end (exclusive), (i, j, k). */
  cropBox: { start: Vec3; end: Vec3 };
  shapeAfterCrop: Vec3;
  relativeSizeAfterCrop: number;
  /** Per channel, over the whole image. */
  image: ImageStats[];
  /** Per channel, over foreground (label > 0) voxels; null without a label or foreground. */
  foreground: (IntensityStats | null)[] | null;
  /** Label value → voxel count. */
  labelCounts?: Record<string, number>;
  /** Label value → volume in mm³. */
  classVolumes?: Record<string, number>;
  /** Set when the case could not be read; the other fields are then zero. */
  error?: string;
}

export interface ClassSummary {
  name: string | null;
  /** Cases in which the value occurs. */
  cases: number;
  voxels: number;
  meanVolume: number;
  medianVolume: number;
}

export interface ForegroundIntensityProperties {
  mean: number;
  median: number;
  std: number;
  min: number;
  max: number;
  percentile_99_5: number;
  percentile_00_5: number;
}

export interface DatasetFingerprint {
  format: 'labelwise.fingerprint';
  version: 1;
  dataset: { name: string; layout: string; root: string; numCases: number; centres: Record<string, number> };
  channelNames: string[];
  labels: Project['labels'];
  options: { samplesPerCase: number; seed: number };
  // nnU-Net dataset_fingerprint.json keys (ZYX order).
  spacings: number[][];
  shapes_after_crop: number[][];
  foreground_intensity_properties_per_channel: Record<string, ForegroundIntensityProperties>;
  median_relative_size_after_cropping: number;
  // Ours ((i, j, k) order).
  medianShape: Vec3;
  medianSpacing: Vec3;
  spacingRange: { min: Vec3; max: Vec3 };
  /** max / min of the median spacing (nnU-Net treats > 3 as anisotropic). */
  anisotropy: number;
  orientations: Record<string, number>;
  classes: Record<string, ClassSummary>;
  cases: CaseFingerprint[];
  problems: DatasetProblem[];
}

export interface FingerprintOptions extends LoadCaseOptions {
  /** Foreground values drawn per case for the dataset statistics; default 10 000. */
  samplesPerCase?: number;
  /** Seed of the per-case RandomState; default 1234 (nnU-Net's). */
  seed?: number;
  /** Only these case ids (default all). */
  cases?: readonly string[];
  /** Called after each case (progress). */
  onCase?: (index: number, total: number, fp: CaseFingerprint) => void;
}

/** nnU-Net's anisotropy threshold (max spacing / min spacing). */
export const ANISOTROPY_THRESHOLD = 3;

// ---------------------------------------------------------------- statistics

/** numpy `percentile(..., method='linear')` on an ascending array. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (p / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const frac = pos - lo;
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values).sort();
  return percentileSorted(s, 50);
}

/** Statistics of a set of values (sorted in place). */
export function intensityStats(values: Float64Array): IntensityStats {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, min: NaN, max: NaN, median: NaN, percentile_00_5: NaN, percentile_99_5: NaN, n: 0 };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  values.sort();
  return {
    mean, std: Math.sqrt(ss / n), min: values[0], max: values[n - 1],
    median: percentileSorted(values, 50), percentile_00_5: percentileSorted(values, 0.5), percentile_99_5: percentileSorted(values, 99.5), n,
  };
}

function imageStats(vol: Volume, c: number): ImageStats {
  const n = vol.numVoxels;
  const d = vol.data;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    return imageStatsOf(Float64Array.from(d.subarray(c * n, (c + 1) * n), Number));
  }
  return imageStatsOf(d.subarray(c * n, (c + 1) * n));
}

/**
 * One pass, sums shifted by the first finite value so large offsets (CT at
 * -1000 HU) do not cancel catastrophically; no division per voxel.
 */
function imageStatsOf(a: ArrayLike<number>): ImageStats {
  let min = Infinity;
  let max = -Infinity;
  let shift = NaN;
  let sum = 0;
  let ss = 0;
  let bad = 0;
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (x - x !== 0) { bad++; continue; } // NaN or ±Infinity
    if (count === 0) shift = x;
    if (x < min) min = x;
    if (x > max) max = x;
    const y = x - shift;
    sum += y;
    ss += y * y;
    count++;
  }
  if (!count) return { min: NaN, max: NaN, mean: NaN, std: NaN, nonFinite: bad };
  const m = sum / count;
  return { min, max, mean: shift + m, std: Math.sqrt(Math.max(0, ss / count - m * m)), nonFinite: bad };
}

/** Bounding box of voxels non-zero in any channel (nnU-Net crop_to_nonzero); the whole grid when all zero. */
export function nonzeroBox(vol: Volume): { start: Vec3; end: Vec3 } {
  const [ni, nj, nk] = vol.dims;
  const n = vol.numVoxels;
  // Per-voxel "non-zero in any channel" first, then the box from it.
  const nz = new Uint8Array(n);
  const d = vol.data;
  for (let c = 0; c < vol.channels; c++) {
    if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
      for (let i = 0; i < n; i++) if (d[c * n + i] !== 0n) nz[i] = 1;
    } else {
      const a = d.subarray(c * n, (c + 1) * n) as ArrayLike<number>;
      for (let i = 0; i < n; i++) if (a[i] !== 0) nz[i] = 1;
    }
  }
  let i0 = ni, j0 = nj, k0 = nk, i1 = -1, j1 = -1, k1 = -1;
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      const row = (k * nj + j) * ni;
      let first = -1;
      let last = -1;
      for (let i = 0; i < ni; i++) if (nz[row + i]) { if (first < 0) first = i; last = i; }
      if (first < 0) continue;
      if (first < i0) i0 = first;
      if (last > i1) i1 = last;
      if (j < j0) j0 = j;
      if (j > j1) j1 = j;
      if (k < k0) k0 = k;
      if (k > k1) k1 = k;
    }
  }
  if (i1 < 0) return { start: [0, 0, 0], end: [ni, nj, nk] };
  return { start: [i0, j0, k0], end: [i1 + 1, j1 + 1, k1 + 1] };
}

/** Voxel count per label value (labels are non-negative integer maps, see toLabelVolume). */
export function countLabelValues(label: Volume): Map<number, number> {
  const d = label.data;
  const out = new Map<number, number>();
  if (d instanceof Uint8Array || d instanceof Int16Array || d instanceof Uint16Array) {
    const counts = new Float64Array(65536);
    const a = d as ArrayLike<number>;
    for (let i = 0; i < a.length; i++) counts[a[i] & 0xffff]++;
    for (let v = 0; v < counts.length; v++) if (counts[v]) out.set(d instanceof Int16Array && v > 32767 ? v - 65536 : v, counts[v]);
    return out;
  }
  for (let i = 0; i < d.length; i++) {
    const v = Number(d[i]);
    out.set(v, (out.get(v) ?? 0) + 1);
  }
  return out;
}

// ---------------------------------------------------------------- per case

interface CaseResult {
  fp: CaseFingerprint;
  /** Sampled foreground values per channel for the dataset statistics. */
  samples: Float64Array[] | null;
  problems: DatasetProblem[];
}

function analyseCase(c: Case, image: Volume, label: Volume | undefined, project: Project, samplesPerCase: number, seed: number): CaseResult {
  const problems: DatasetProblem[] = [];
  const [ni, nj] = image.dims;
  const box = nonzeroBox(image);
  const cropShape: Vec3 = [box.end[0] - box.start[0], box.end[1] - box.start[1], box.end[2] - box.start[2]];
  const spacing = image.spacing;
  const fp: CaseFingerprint = {
    case: c.id, centre: c.centre, status: c.status, ...(c.split ? { split: c.split } : {}),
    shape: [...image.dims] as Vec3, channels: image.channels, spacing, orientation: image.orientation, oblique: isOblique(image.affine),
    voxelType: image.voxelType, cropBox: box, shapeAfterCrop: cropShape,
    relativeSizeAfterCrop: (cropShape[0] * cropShape[1] * cropShape[2]) / image.numVoxels,
    image: Array.from({ length: image.channels }, (_, ch) => imageStats(image, ch)),
    foreground: null,
  };
  fp.image.forEach((s, ch) => {
    if (s.nonFinite > 0) problems.push({ severity: 'error', code: 'non-finite-image', case: c.id, centre: c.centre, message: `case '${c.id}': channel ${ch} has ${s.nonFinite} NaN/Inf voxel(s)` });
  });
  let samples: Float64Array[] | null = null;
  if (label) {
    const counts = countLabelValues(label);
    const ld = label.data;
    const voxelVolume = spacing[0] * spacing[1] * spacing[2];
    const keys = [...counts.keys()].sort((a, b) => a - b);
    fp.labelCounts = Object.fromEntries(keys.map((k) => [String(k), counts.get(k) as number]));
    fp.classVolumes = Object.fromEntries(keys.map((k) => [String(k), (counts.get(k) as number) * voxelVolume]));
    const known = new Set(labelValues(project.labels));
    const unknown = keys.filter((k) => !known.has(k));
    if (unknown.length && project.meta.labelsDeclared !== false) {
      problems.push({ severity: 'error', code: 'unknown-label-value', case: c.id, centre: c.centre, file: c.label, message: `case '${c.id}': label value(s) ${unknown.join(', ')} not declared in the dataset labels (${labelValues(project.labels).join(', ')})` });
    }
    // Foreground voxels inside the crop box, in memory order (nnU-Net's order).
    const [bi0, bj0, bk0] = box.start;
    const [bi1, bj1, bk1] = box.end;
    const lab = (ld instanceof BigInt64Array || ld instanceof BigUint64Array ? Float64Array.from(ld, Number) : ld) as ArrayLike<number>;
    let nFg = 0;
    for (let k = bk0; k < bk1; k++) for (let j = bj0; j < bj1; j++) {
      const row = (k * nj + j) * ni;
      for (let i = bi0; i < bi1; i++) if (lab[row + i] > 0) nFg++;
    }
    const fgIdx = new Float64Array(nFg);
    let t0 = 0;
    for (let k = bk0; k < bk1; k++) for (let j = bj0; j < bj1; j++) {
      const row = (k * nj + j) * ni;
      for (let i = bi0; i < bi1; i++) if (lab[row + i] > 0) fgIdx[t0++] = row + i;
    }
    if (fgIdx.length === 0 && c.status === 'labelled') {
      problems.push({ severity: 'warning', code: 'empty-label', case: c.id, centre: c.centre, file: c.label, message: `case '${c.id}': the label has no foreground voxel${keys.some((k) => k > 0) ? ' inside the non-zero image region' : ''}` });
    }
    const rs = new NumpyRandomState(seed);
    const n = image.numVoxels;
    fp.foreground = [];
    samples = [];
    for (let ch = 0; ch < image.channels; ch++) {
      const vals = new Float64Array(fgIdx.length);
      const src = image.data.subarray(ch * n, (ch + 1) * n);
      if (src instanceof BigInt64Array || src instanceof BigUint64Array) for (let t = 0; t < fgIdx.length; t++) vals[t] = Number(src[fgIdx[t]]);
      else for (let t = 0; t < fgIdx.length; t++) vals[t] = (src as ArrayLike<number>)[fgIdx[t]];
      if (fgIdx.length > 0) {
        const draw = rs.randint(fgIdx.length, samplesPerCase);
        const s = new Float64Array(samplesPerCase);
        for (let t = 0; t < samplesPerCase; t++) s[t] = vals[draw[t]];
        samples.push(s);
        fp.foreground.push(intensityStats(vals));
      } else {
        samples.push(new Float64Array(0));
        fp.foreground.push(null);
      }
    }
  }
  return { fp, samples, problems };
}

function failedCase(c: Case, message: string): CaseFingerprint {
  return {
    case: c.id, centre: c.centre, status: c.status, ...(c.split ? { split: c.split } : {}),
    shape: [0, 0, 0], channels: 0, spacing: [0, 0, 0], orientation: '', oblique: false, voxelType: '',
    cropBox: { start: [0, 0, 0], end: [0, 0, 0] }, shapeAfterCrop: [0, 0, 0], relativeSizeAfterCrop: 0,
    image: [], foreground: null, error: message,
  };
}

// ---------------------------------------------------------------- dataset

const zyx = (v: readonly number[]): number[] => [v[2], v[1], v[0]];
const medianVec = (vs: readonly Vec3[]): Vec3 => [0, 1, 2].map((a) => median(vs.map((v) => v[a]))) as Vec3;

/** Reads every case once and summarises the dataset (see the file header for the rules). */
export async function computeFingerprint(project: Project, opts: FingerprintOptions = {}): Promise<DatasetFingerprint> {
  const samplesPerCase = opts.samplesPerCase ?? 10000;
  const seed = opts.seed ?? 1234;
  if (!Number.isInteger(samplesPerCase) || samplesPerCase < 1) throw new Error(`fingerprint: samplesPerCase must be a positive integer, got ${samplesPerCase}`);
  let cases = allCases(project);
  if (opts.cases) {
    const want = new Set(opts.cases);
    const missing = opts.cases.filter((id) => !cases.some((c) => c.id === id));
    if (missing.length) throw new Error(`fingerprint: unknown case id(s): ${missing.slice(0, 5).join(', ')}`);
    cases = cases.filter((c) => want.has(c.id));
  }
  const problems: DatasetProblem[] = [...project.problems];
  const fps: CaseFingerprint[] = [];
  const pooledSamples: Float64Array[][] = [];
  const nChannels = project.channelNames.length;
  for (let idx = 0; idx < cases.length; idx++) {
    const c = cases[idx];
    let result: CaseResult;
    try {
      const loaded = await loadCase(project, c, opts);
      result = analyseCase(c, loaded.image, loaded.label, project, samplesPerCase, seed);
    } catch (e) {
      const err = e as Error;
      const code = err instanceof GeometryMismatchError ? `${err.differences[0].kind}-mismatch` : 'unreadable';
      problems.push({ severity: 'error', code, case: c.id, centre: c.centre, message: err.message });
      result = { fp: failedCase(c, err.message), samples: null, problems: [] };
    }
    problems.push(...result.problems);
    fps.push(result.fp);
    if (result.samples && c.status === 'labelled' && c.split !== 'test') pooledSamples.push(result.samples);
    opts.onCase?.(idx, cases.length, result.fp);
  }

  const ok = fps.filter((f) => !f.error);
  const pool = ok.filter((f) => f.split !== 'test');
  const planning = pool.length ? pool : ok;
  const channels = nChannels || Math.max(0, ...ok.map((f) => f.channels));
  const fgProps: Record<string, ForegroundIntensityProperties> = {};
  for (let ch = 0; ch < channels; ch++) {
    const parts = pooledSamples.map((s) => s[ch] ?? new Float64Array(0));
    const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) { all.set(p, off); off += p.length; }
    const s = intensityStats(all);
    fgProps[String(ch)] = { mean: s.mean, median: s.median, std: s.std, min: s.min, max: s.max, percentile_99_5: s.percentile_99_5, percentile_00_5: s.percentile_00_5 };
  }
  if (channels > 0 && pooledSamples.length === 0) {
    problems.push({ severity: 'warning', code: 'no-foreground', message: 'no labelled training case with foreground: foreground intensity statistics are undefined (NaN)' });
  }

  const medianSpacing = planning.length ? medianVec(planning.map((f) => f.spacing)) : ([NaN, NaN, NaN] as Vec3);
  const medianShape = planning.length ? medianVec(planning.map((f) => f.shape)) : ([NaN, NaN, NaN] as Vec3);
  const anisotropy = Math.max(...medianSpacing) / Math.min(...medianSpacing);
  if (anisotropy > ANISOTROPY_THRESHOLD) {
    problems.push({ severity: 'warning', code: 'anisotropy', message: `median spacing [${medianSpacing.map((v) => +v.toFixed(4)).join(', ')}] mm is anisotropic (max/min = ${anisotropy.toFixed(2)} > ${ANISOTROPY_THRESHOLD}); nnU-Net plans such data with a lower-resolution axis` });
  }
  for (const f of ok) {
    const far = f.spacing.some((s, a) => s > 2 * medianSpacing[a] || s < medianSpacing[a] / 2);
    if (far) problems.push({ severity: 'warning', code: 'spacing-outlier', case: f.case, centre: f.centre, message: `case '${f.case}': spacing [${f.spacing.map((v) => +v.toFixed(4)).join(', ')}] mm is more than 2× away from the median [${medianSpacing.map((v) => +v.toFixed(4)).join(', ')}]` });
  }
  const orientations: Record<string, number> = {};
  for (const f of ok) orientations[f.orientation] = (orientations[f.orientation] ?? 0) + 1;
  if (Object.keys(orientations).length > 1) {
    problems.push({ severity: 'warning', code: 'mixed-orientations', message: `cases have different axis orientations (${Object.entries(orientations).map(([k, v]) => `${k}: ${v}`).join(', ')}); reorient to one (e.g. RAS) before patch-based training` });
  }
  if (nChannels > 0) {
    for (const f of ok) {
      if (f.channels !== nChannels) problems.push({ severity: 'error', code: 'channel-count', case: f.case, centre: f.centre, message: `case '${f.case}': ${f.channels} channel(s), the dataset declares ${nChannels}` });
    }
  }

  const names = labelNames(project.labels);
  const classes: Record<string, ClassSummary> = {};
  const vols = new Map<string, number[]>();
  for (const f of ok) {
    if (!f.labelCounts) continue;
    for (const [v, n] of Object.entries(f.labelCounts)) {
      const cs = (classes[v] ??= { name: names.get(Number(v)) ?? null, cases: 0, voxels: 0, meanVolume: 0, medianVolume: 0 });
      cs.cases++;
      cs.voxels += n;
      let l = vols.get(v);
      if (!l) vols.set(v, (l = []));
      l.push((f.classVolumes as Record<string, number>)[v]);
    }
  }
  for (const [v, l] of vols) {
    classes[v].meanVolume = l.reduce((a, b) => a + b, 0) / l.length;
    classes[v].medianVolume = median(l);
  }
  const ordered = Object.fromEntries(Object.keys(classes).sort((a, b) => Number(a) - Number(b)).map((k) => [k, classes[k]]));

  const centres: Record<string, number> = {};
  for (const c of cases) centres[c.centre] = (centres[c.centre] ?? 0) + 1;
  return {
    format: 'labelwise.fingerprint',
    version: 1,
    dataset: { name: project.name, layout: project.layout, root: project.root, numCases: cases.length, centres },
    channelNames: project.channelNames,
    labels: project.labels,
    options: { samplesPerCase, seed },
    spacings: planning.map((f) => zyx(f.spacing)),
    shapes_after_crop: planning.map((f) => zyx(f.shapeAfterCrop)),
    foreground_intensity_properties_per_channel: fgProps,
    median_relative_size_after_cropping: median(planning.map((f) => f.relativeSizeAfterCrop)),
    medianShape,
    medianSpacing,
    spacingRange: {
      min: [0, 1, 2].map((a) => Math.min(...planning.map((f) => f.spacing[a]))) as Vec3,
      max: [0, 1, 2].map((a) => Math.max(...planning.map((f) => f.spacing[a]))) as Vec3,
    },
    anisotropy,
    orientations,
    classes: ordered,
    cases: fps,
    problems,
  };
}

/** Writes the fingerprint as JSON (NaN → null, as Python's json would refuse NaN otherwise). */
export function saveFingerprint(file: string, fp: DatasetFingerprint): void {
  writeFileAtomic(file, JSON.stringify(fp, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
}

// ---------------------------------------------------------------- text

const num = (v: number, d = 4): string => (Number.isFinite(v) ? String(+v.toPrecision(d)) : '-');
const vec = (v: readonly number[], d = 4): string => v.map((x) => num(x, d)).join('×');

export function table(rows: string[][], header: string[]): string {
  const all = [header, ...rows];
  const w = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]): string => r.map((s, c) => (s ?? '').padEnd(w[c])).join('  ').trimEnd();
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

/** A readable report of a fingerprint (what `labelwise dataset inspect` prints); `maxCases` rows of the case table. */
export function formatFingerprint(fp: DatasetFingerprint, maxCases = 40): string {
  const out: string[] = [];
  const d = fp.dataset;
  out.push(`Dataset ${d.name} (${d.layout}, ${d.numCases} case(s), ${Object.keys(d.centres).length} centre(s))`);
  out.push(`root: ${d.root}`);
  if (fp.channelNames.length) out.push(`channels: ${fp.channelNames.map((n, i) => `${i} ${n}`).join(', ')}`);
  out.push(`labels: ${Object.entries(fp.labels).map(([n, v]) => `${Array.isArray(v) ? `[${v.join(',')}]` : v} ${n}`).join(', ')}`);
  out.push('');
  const byCentre = new Map<string, CaseFingerprint[]>();
  for (const f of fp.cases) {
    let l = byCentre.get(f.centre);
    if (!l) byCentre.set(f.centre, (l = []));
    l.push(f);
  }
  out.push(table([...byCentre].map(([centre, l]) => {
    const okCases = l.filter((f) => !f.error);
    const count = (pred: (f: CaseFingerprint) => boolean): string => String(l.filter(pred).length);
    return [
      centre, String(l.length), count((f) => f.status === 'labelled'), count((f) => f.status === 'points'), count((f) => f.status === 'unlabelled'),
      `${count((f) => f.split === 'train')}/${count((f) => f.split === 'val')}/${count((f) => f.split === 'test')}`,
      okCases.length ? vec(medianVec(okCases.map((f) => f.shape))) : '-', okCases.length ? vec(medianVec(okCases.map((f) => f.spacing))) : '-',
    ];
  }), ['centre', 'cases', 'labelled', 'points', 'unlabelled', 'train/val/test', 'median shape', 'median spacing mm']));
  out.push('');
  const listed = fp.cases.slice(0, maxCases);
  out.push(table(listed.map((f) => f.error
    ? [f.case, f.centre, f.status, f.split ?? '', 'ERROR', '', '', '', '']
    : [
      f.case, f.centre, f.status, f.split ?? '', vec(f.shape), vec(f.spacing), f.orientation + (f.oblique ? '*' : ''),
      f.labelCounts ? Object.keys(f.labelCounts).join(',') : '',
      f.labelCounts ? `${num((100 * Object.entries(f.labelCounts).filter(([v]) => Number(v) > 0).reduce((s, [, n]) => s + n, 0)) / (f.shape[0] * f.shape[1] * f.shape[2]), 3)}%` : '',
    ]), ['case', 'centre', 'status', 'split', 'shape (ijk)', 'spacing mm', 'orient', 'labels', 'fg']));
  if (fp.cases.length > listed.length) out.push(`... ${fp.cases.length - listed.length} more case(s) in the JSON`);
  out.push('');
  out.push(`median shape ${vec(fp.medianShape)}, median spacing ${vec(fp.medianSpacing)} mm (i×j×k), anisotropy ${num(fp.anisotropy, 3)}, median size after crop ${num(fp.median_relative_size_after_cropping * 100, 3)}%`);
  out.push(`orientations: ${Object.entries(fp.orientations).map(([k, v]) => `${k} ${v}`).join(', ') || '-'}`);
  const chRows = Object.entries(fp.foreground_intensity_properties_per_channel).map(([c, s]) => [
    `${c}${fp.channelNames[Number(c)] ? ` ${fp.channelNames[Number(c)]}` : ''}`, num(s.mean), num(s.std), num(s.min), num(s.percentile_00_5), num(s.median), num(s.percentile_99_5), num(s.max),
  ]);
  if (chRows.length) {
    out.push('');
    out.push(`foreground intensities (${fp.options.samplesPerCase} samples per labelled case, seed ${fp.options.seed}):`);
    out.push(table(chRows, ['channel', 'mean', 'std', 'min', 'p0.5', 'median', 'p99.5', 'max']));
  }
  const cls = Object.entries(fp.classes);
  if (cls.length) {
    out.push('');
    out.push(table(cls.map(([v, s]) => [v, s.name ?? '(undeclared)', String(s.cases), String(s.voxels), num(s.meanVolume / 1000), num(s.medianVolume / 1000)]), ['value', 'name', 'cases', 'voxels', 'mean ml', 'median ml']));
  }
  out.push('');
  out.push(formatProblems(fp.problems));
  return out.join('\n');
}

/** Problems as text; codes with many hits show the first `maxPerCode` and a count (the JSON has them all). */
export function formatProblems(problems: readonly DatasetProblem[], maxPerCode = 5): string {
  if (problems.length === 0) return 'problems: none';
  const e = problems.filter((p) => p.severity === 'error').length;
  const out = [`problems: ${e} error(s), ${problems.length - e} warning(s)`];
  const shown = new Map<string, number>();
  for (const p of problems) {
    const n = (shown.get(p.code) ?? 0) + 1;
    shown.set(p.code, n);
    if (n <= maxPerCode) out.push(`  ${p.severity === 'error' ? 'ERROR' : 'warn '} [${p.code}] ${p.message}`);
  }
  for (const [code, n] of shown) if (n > maxPerCode) out.push(`  ... and ${n - maxPerCode} more [${code}]`);
  return out.join('\n');
}
