// The STDR / Active-GTV-Seg layout (Wang et al., IEEE TMI 2024):
//   <root>/training_set/<case>_slice_<k>.h5   2D slices: image float [H, W], label
//   <root>/val_set/<case>.h5                   volumes: image [Z, H, W], label, voxel_spacing (x, y, z)
//   <root>/test_set/<case>.h5
// The split is the folder; there are no list files for the cases (selection
// lists written by the method name slice files, one per line: readListFile).
import path from 'node:path';
import { type H5CaseInput, readH5Case, writeH5Case, type WriteH5CaseOptions } from '../hdf5.js';
import { type H5Item, dirEntries, requireDirectory, sliceOf } from './common.js';

export type StdrSplit = 'train' | 'val' | 'test';

export const STDR_DIRS: Record<StdrSplit, string> = { train: 'training_set', val: 'val_set', test: 'test_set' };

export interface StdrItem extends H5Item {
  split: StdrSplit;
  /** Slice index k of a training slice file. */
  slice?: number;
}

export interface StdrLayout {
  root: string;
  /** Training slices, grouped by case (cases sorted by name), slices by k. */
  trainSlices: StdrItem[];
  val: StdrItem[];
  test: StdrItem[];
  /** Case ids of a split, sorted. */
  cases(split: StdrSplit): string[];
  /** Training slices of one case, by k. */
  slicesOf(caseId: string): StdrItem[];
}

export interface OpenStdrOptions {
  /** Spacing (x, y, z mm) overriding the stored voxel_spacing (STDR's evaluation hard-codes 0.5, 0.5, 3). */
  spacing?: readonly number[];
}

const SLICE_RE = /^(.+)_slice_(\d+)\.h5$/;

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Opens an STDR root by scanning its three folders (missing folders are empty splits). */
export async function openStdr(root: string, opts: OpenStdrOptions = {}): Promise<StdrLayout> {
  requireDirectory(root, 'STDR layout');
  const [tr, va, te] = await Promise.all((['train', 'val', 'test'] as const).map((s) => dirEntries(path.join(root, STDR_DIRS[s]))));
  if (tr.size + va.size + te.size === 0) {
    throw new Error(`STDR layout: ${root} has none of ${Object.values(STDR_DIRS).join(', ')} (or they are empty)`);
  }
  const loadOpts = { layout: 'zyx' as const, spacing: opts.spacing };
  const trainSlices: StdrItem[] = [];
  for (const f of tr) {
    const m = SLICE_RE.exec(f);
    if (!m) continue;
    const full = path.join(root, STDR_DIRS.train, f);
    trainSlices.push({
      id: f.slice(0, -3), split: 'train', kind: 'slice', caseId: m[1], patient: m[1], slice: Number(m[2]),
      path: full, available: true, load: () => readH5Case(full, loadOpts),
    });
  }
  trainSlices.sort((a, b) => byName(a.caseId, b.caseId) || (a.slice ?? 0) - (b.slice ?? 0));
  const volumes = (split: 'val' | 'test', names: Set<string>): StdrItem[] => [...names]
    .filter((f) => f.endsWith('.h5'))
    .sort(byName)
    .map((f) => {
      const full = path.join(root, STDR_DIRS[split], f);
      const id = f.slice(0, -3);
      return { id, split, kind: 'volume' as const, caseId: id, patient: id, path: full, available: true, load: () => readH5Case(full, loadOpts) };
    });
  const val = volumes('val', va);
  const test = volumes('test', te);
  const bySplit = { train: trainSlices, val, test };
  return {
    root, trainSlices, val, test,
    cases: (split) => [...new Set(bySplit[split].map((i) => i.caseId))],
    slicesOf: (caseId) => trainSlices.filter((s) => s.caseId === caseId),
  };
}

export interface VolumeToStdrOptions extends WriteH5CaseOptions {
  /** Index of the first training slice file; default 0. */
  firstSlice?: number;
}

/**
 * Writes one case in the STDR layout: training cases as one 2D file per
 * slice along k (image, label), val/test cases as one volume with
 * `voxel_spacing` (x, y, z) taken from the image. Layout only: STDR's own
 * intensity preprocessing (99th-percentile clip, z-score) is a transform.
 * Returns the paths written.
 */
export async function volumeToStdrLayout(root: string, caseId: string, split: StdrSplit, c: Omit<H5CaseInput, 'spacing'>, opts: VolumeToStdrOptions = {}): Promise<string[]> {
  if (!caseId || /[/\\]/.test(caseId)) throw new Error(`STDR: invalid case id ${JSON.stringify(caseId)}`);
  if (!(split in STDR_DIRS)) throw new Error(`STDR: split must be one of ${Object.keys(STDR_DIRS).join(', ')}, got ${JSON.stringify(split)}`);
  const dir = path.join(root, STDR_DIRS[split]);
  if (split !== 'train') {
    const file = path.join(dir, `${caseId}.h5`);
    await writeH5Case(file, { image: c.image, label: c.label, spacing: c.image.spacing }, 'zyx', { ...opts, squeeze2d: false });
    return [file];
  }
  const first = opts.firstSlice ?? 0;
  const written: string[] = [];
  for (let k = 0; k < c.image.dims[2]; k++) {
    const file = path.join(dir, `${caseId}_slice_${k + first}.h5`);
    await writeH5Case(file, { image: sliceOf(c.image, k), label: c.label ? sliceOf(c.label, k) : undefined }, 'zyx', opts);
    written.push(file);
  }
  return written;
}
