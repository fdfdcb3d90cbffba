// Left Atrium (2018 LA segmentation challenge) in the UA-MT / BCP layout:
//   <root>/train.list, <root>/test.list          case folder names, one per line
//   <cases>/<case>/mri_norm2.h5                    image float32 [X, Y, Z] (z-scored), label uint8
// where <cases> is <root>/2018LA_Seg_Training Set when that folder exists
// (BCP), else <root> (UA-MT). Arrays are stored as nibabel returned them,
// x fastest in the volume = last axis in C order, so they are transposed on
// read ('xyz' layout). No spacing is stored: 1 mm unless given.
import path from 'node:path';
import { type H5CaseInput, readH5Case, writeH5Case, type WriteH5CaseOptions } from '../hdf5.js';
import { type H5Item, assertAllAvailable, dirEntries, isDirectory, isFile, readListFile, requireDirectory, writeListFile } from './common.js';

export type LaSplit = 'train' | 'test';

export const LA_FILE = 'mri_norm2.h5';
export const LA_BCP_CASES_DIR = '2018LA_Seg_Training Set';

export interface LaLayout {
  root: string;
  casesDir: string;
  train: H5Item[];
  test: H5Item[];
  /** The first n cases of train.list: the literature's labelled set (BCP labelnum 4 or 8). */
  labelled(n: number): H5Item[];
  /** The rest of train.list. */
  unlabelled(n: number): H5Item[];
}

export interface OpenLaOptions {
  /** Folder holding the case folders; default auto-detected (see the file header). */
  casesDir?: string;
  /** Throw when a listed case file is missing; default true. */
  strict?: boolean;
  /** Spacing (x, y, z mm) given to loaded cases; default 1 mm. */
  spacing?: readonly number[];
}

function resolveCasesDir(root: string, casesDir?: string): string {
  if (casesDir) return path.isAbsolute(casesDir) ? casesDir : path.join(root, casesDir);
  const bcp = path.join(root, LA_BCP_CASES_DIR);
  return isDirectory(bcp) ? bcp : root;
}

/** Opens an LA root; lists are read now, volumes on `load()`. */
export async function openLa(root: string, opts: OpenLaOptions = {}): Promise<LaLayout> {
  requireDirectory(root, 'LA layout');
  const casesDir = resolveCasesDir(root, opts.casesDir);
  const caseDirs = await dirEntries(casesDir);
  const loadOpts = { layout: 'xyz' as const, spacing: opts.spacing };
  const item = (id: string, split: LaSplit): H5Item => {
    const file = path.join(casesDir, id, LA_FILE);
    return {
      id, split, kind: 'volume', caseId: id, patient: id, path: file,
      available: caseDirs.has(id) && isFile(file),
      load: () => readH5Case(file, loadOpts),
    };
  };
  const [trainNames, testNames] = await Promise.all([
    readListFile(path.join(root, 'train.list')),
    readListFile(path.join(root, 'test.list')),
  ]);
  const train = trainNames.map((n) => item(n, 'train'));
  const test = testNames.map((n) => item(n, 'test'));
  if (opts.strict ?? true) assertAllAvailable([...train, ...test], 'LA cases', root);
  const check = (n: number): number => {
    if (!Number.isInteger(n) || n < 0 || n > train.length) throw new Error(`LA: number of labelled cases must be an integer in [0, ${train.length}], got ${n}`);
    return n;
  };
  return {
    root, casesDir, train, test,
    labelled: (n) => train.slice(0, check(n)),
    unlabelled: (n) => train.slice(check(n)),
  };
}

export interface WriteLaCaseOptions extends WriteH5CaseOptions {
  /** Folder for the case folders (relative to root or absolute); default root. */
  casesDir?: string;
}

/** Writes <cases>/<id>/mri_norm2.h5 (image float32 and label uint8 as [X, Y, Z]). */
export async function writeLaCase(root: string, id: string, c: Omit<H5CaseInput, 'spacing'>, opts: WriteLaCaseOptions = {}): Promise<string> {
  if (!id || /[/\\]/.test(id)) throw new Error(`LA: invalid case id ${JSON.stringify(id)}`);
  const casesDir = opts.casesDir ? (path.isAbsolute(opts.casesDir) ? opts.casesDir : path.join(root, opts.casesDir)) : root;
  const file = path.join(casesDir, id, LA_FILE);
  await writeH5Case(file, { image: c.image, label: c.label }, 'xyz', { ...opts, squeeze2d: false });
  return file;
}

/** Writes train.list and test.list. */
export async function writeLaLists(root: string, lists: { train: readonly string[]; test: readonly string[] }): Promise<void> {
  await writeListFile(path.join(root, 'train.list'), lists.train);
  await writeListFile(path.join(root, 'test.list'), lists.test);
}
