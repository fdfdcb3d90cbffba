// ACDC in the semi-supervised literature's layout (SSL4MIS, BCP):
//   <root>/data[/slices]/<patient>_frameNN_slice_K.h5   2D training slices, image float32 [H, W], label uint8
//   <root>/data/<patient>_frameNN.h5                     volumes, image float32 [Z, H, W], label uint8
//   <root>/{train_slices,train,val,test,all_slices}.list
// Volumes store no spacing: cases load with 1 mm (metrics in voxels, as BCP
// reports them) unless a spacing is passed.
import path from 'node:path';
import { type H5CaseInput, readH5Case, writeH5Case, type WriteH5CaseOptions } from '../hdf5.js';
import { type H5Item, assertAllAvailable, dirEntries, readListFile, requireDirectory, sliceOf, writeListFile } from './common.js';

export type AcdcSplit = 'train' | 'val' | 'test';

export interface AcdcItem extends H5Item {
  split: AcdcSplit;
  /** Cardiac frame number (the NN of frameNN), when the name has one. */
  frame?: number;
  /** Slice number K of a slice file (1-based in the released data). */
  slice?: number;
}

export interface AcdcLayout {
  root: string;
  /** Training slices in train_slices.list order (the order the labelled subset is cut from). */
  trainSlices: AcdcItem[];
  volumes: Record<AcdcSplit, AcdcItem[]>;
  /** Names in all_slices.list (empty when absent); most are slices of val/test volumes this copy lacks. */
  allSlices: string[];
  /** Patients of a split, in list order. */
  patients(split: AcdcSplit): string[];
  /**
   * The labelled training slices for "N labelled patients", as the
   * literature cuts them: the prefix of train_slices.list up to the first
   * slice of the (N+1)-th patient (3 → 68 slices, 7 → 136).
   */
  labelledSlices(nPatients: number): AcdcItem[];
  /** The rest of train_slices.list (the unlabelled pool for N labelled patients). */
  unlabelledSlices(nPatients: number): AcdcItem[];
}

export interface OpenAcdcOptions {
  /** Throw when train slices or val/test volumes named by the lists are missing; default true. */
  strict?: boolean;
  /** Spacing (x, y, z mm) given to loaded cases; default 1 mm (the files store none). */
  spacing?: readonly number[];
}

const NAME_RE = /^(.+?)_frame(\d+)(?:_slice_(\d+))?$/;

function parseName(id: string): { patient: string; frame?: number; slice?: number; volume: string } {
  const m = NAME_RE.exec(id);
  if (m) {
    return { patient: m[1], frame: Number(m[2]), slice: m[3] === undefined ? undefined : Number(m[3]), volume: id.replace(/_slice_\d+$/, '') };
  }
  // Names outside the ACDC pattern: the slice suffix still identifies the volume.
  const s = /^(.+)_slice_(\d+)$/.exec(id);
  if (s) return { patient: s[1], slice: Number(s[2]), volume: s[1] };
  return { patient: id, volume: id };
}

/** Opens an ACDC root. Lists are read now; no HDF5 file is opened until an item's `load()`. */
export async function openAcdc(root: string, opts: OpenAcdcOptions = {}): Promise<AcdcLayout> {
  requireDirectory(root, 'ACDC layout');
  const dataDir = path.join(root, 'data');
  requireDirectory(dataDir, 'ACDC layout (expects a data/ folder)');
  const slicesDir = path.join(dataDir, 'slices');
  const [inData, inSlices] = await Promise.all([dirEntries(dataDir), dirEntries(slicesDir)]);
  const loadOpts = { layout: 'zyx' as const, spacing: opts.spacing };

  const item = (id: string, split: AcdcSplit, kind: 'slice' | 'volume'): AcdcItem => {
    const p = parseName(id);
    const file = `${id}.h5`;
    // SSL4MIS keeps slices in data/slices/, the released BCP copy in data/.
    const where = kind === 'slice' && inSlices.has(file) ? slicesDir : dataDir;
    const full = path.join(where, file);
    return {
      id, split, kind, caseId: p.volume, patient: p.patient, frame: p.frame, slice: p.slice,
      path: full,
      available: kind === 'slice' ? inSlices.has(file) || inData.has(file) : inData.has(file),
      load: () => readH5Case(full, loadOpts),
    };
  };

  const listPath = (name: string): string => path.join(root, `${name}.list`);
  const optionalList = async (name: string): Promise<string[]> => {
    const all = await dirEntries(root);
    return all.has(`${name}.list`) ? readListFile(listPath(name)) : [];
  };
  const [trainSliceNames, trainNames, valNames, testNames, allSlices] = await Promise.all([
    readListFile(listPath('train_slices')),
    optionalList('train'),
    readListFile(listPath('val')),
    readListFile(listPath('test')),
    optionalList('all_slices'),
  ]);

  const trainSlices = trainSliceNames.map((n) => item(n, 'train', 'slice'));
  const volumes: Record<AcdcSplit, AcdcItem[]> = {
    train: trainNames.map((n) => item(n, 'train', 'volume')),
    val: valNames.map((n) => item(n, 'val', 'volume')),
    test: testNames.map((n) => item(n, 'test', 'volume')),
  };
  if (opts.strict ?? true) {
    assertAllAvailable(trainSlices, 'ACDC train slices', root);
    assertAllAvailable([...volumes.val, ...volumes.test], 'ACDC val/test volumes', root);
  }

  const prefixLength = (nPatients: number): number => {
    const seen = new Set(trainSlices.map((s) => s.patient));
    if (!Number.isInteger(nPatients) || nPatients < 0 || nPatients > seen.size) {
      throw new Error(`ACDC: number of labelled patients must be an integer in [0, ${seen.size}], got ${nPatients}`);
    }
    const patients = new Set<string>();
    for (let i = 0; i < trainSlices.length; i++) {
      patients.add(trainSlices[i].patient);
      if (patients.size > nPatients) return i;
    }
    return trainSlices.length;
  };

  return {
    root,
    trainSlices,
    volumes,
    allSlices,
    patients(split) {
      const items = split === 'train' && volumes.train.length === 0 ? trainSlices : volumes[split];
      return [...new Set(items.map((i) => i.patient))];
    },
    labelledSlices: (n) => trainSlices.slice(0, prefixLength(n)),
    unlabelledSlices: (n) => trainSlices.slice(prefixLength(n)),
  };
}

export interface WriteAcdcCaseOptions extends WriteH5CaseOptions {
  /** Write data/<id>.h5; default true. */
  volume?: boolean;
  /** Also write one data/<id>_slice_K.h5 per slice; default false. */
  slices?: boolean;
  /** Number of the first slice file; default 1, as in the released data. */
  firstSlice?: number;
  /** Put slices in data/slices/ (SSL4MIS) instead of data/ (BCP); default false. */
  slicesSubdir?: boolean;
}

/**
 * Writes one ACDC volume (image float32, label uint8, no spacing, as the
 * seeds store them) and optionally its 2D slices. Returns the slice names
 * written, in slice order, for train_slices.list.
 */
export async function writeAcdcCase(root: string, id: string, c: Omit<H5CaseInput, 'spacing'>, opts: WriteAcdcCaseOptions = {}): Promise<string[]> {
  if (!id || /[/\\]/.test(id)) throw new Error(`ACDC: invalid case id ${JSON.stringify(id)}`);
  const dataDir = path.join(root, 'data');
  if (opts.volume ?? true) await writeH5Case(path.join(dataDir, `${id}.h5`), { image: c.image, label: c.label }, 'zyx', { ...opts, squeeze2d: false });
  const names: string[] = [];
  if (opts.slices) {
    const first = opts.firstSlice ?? 1;
    const dir = opts.slicesSubdir ? path.join(dataDir, 'slices') : dataDir;
    for (let k = 0; k < c.image.dims[2]; k++) {
      const name = `${id}_slice_${k + first}`;
      await writeH5Case(path.join(dir, `${name}.h5`), { image: sliceOf(c.image, k), label: c.label ? sliceOf(c.label, k) : undefined }, 'zyx', opts);
      names.push(name);
    }
  }
  return names;
}

/** Writes the ACDC list files given (train_slices, train, val, test, all_slices). */
export async function writeAcdcLists(root: string, lists: Partial<Record<'train_slices' | 'train' | 'val' | 'test' | 'all_slices', readonly string[]>>): Promise<void> {
  for (const [name, names] of Object.entries(lists)) {
    if (names) await writeListFile(path.join(root, `${name}.list`), names);
  }
}
