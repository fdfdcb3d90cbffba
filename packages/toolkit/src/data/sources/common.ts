// Small helpers shared by the dataset sources: JSON with errors that name
// the file, directory listings that skip OS litter, and the options every
// source accepts.
import fs from 'node:fs';
import path from 'node:path';
import type { MaskEncoding } from '../../io/mask-encoding.js';
import type { Case, DatasetLayout, LabelMap } from '../dataset.js';

export interface OpenDatasetOptions {
  /** Force a layout instead of detecting it. */
  layout?: DatasetLayout;
  /** Project name (default: from dataset.json or the folder name). */
  name?: string;
  /** Centre of every case for single-centre layouts (default: the project name). */
  centre?: string;
  /**
   * Regular expression applied to each case id; its first capture group is
   * the case's centre (e.g. '^(\\w+?)_' for ids like 'hospA_001').
   */
  centrePattern?: string | RegExp;
  /** Regular expression whose first capture group is the patient id (e.g. '^(patient\\d+)'). */
  patientPattern?: string | RegExp;
  /**
   * Mask encoding for 2D masks (a MASK_ENCODINGS name such as
   * 'prostateZeroIsOrgan', or an encoding object), or a map from centre id
   * (or a centre-id prefix ending in '/', or '*') to encoding.
   */
  maskEncoding?: string | MaskEncoding | Record<string, string | MaskEncoding>;
  /** Label map for layouts that do not declare one (2D folders, HDF5). */
  labels?: LabelMap;
  /** Channel names for layouts that do not declare them. */
  channelNames?: string[];
}

/** Names an OS or archive tool leaves behind (macOS resource forks, Finder state). */
export function isJunkName(name: string): boolean {
  return name.startsWith('.') || name === 'Thumbs.db' || name === '__MACOSX';
}

export function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => (e.isFile() || e.isSymbolicLink()) && !isJunkName(e.name)).map((e) => e.name).sort();
}

export function listDirs(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !isJunkName(e.name)).map((e) => e.name).sort();
}

// One stat helper for the whole toolkit (the HDF5 layouts use it too).
export { isDirectory as isDir, isFile } from '../../io/layouts/common.js';

export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
  }
}

export function asRegExp(p: string | RegExp, what: string): RegExp {
  if (p instanceof RegExp) return p;
  try {
    return new RegExp(p);
  } catch (e) {
    throw new Error(`${what}: invalid regular expression ${JSON.stringify(p)}: ${(e as Error).message}`);
  }
}

/** First capture group of `re` on `id`, or an error naming the option. */
export function capture(re: RegExp, id: string, what: string): string {
  const m = re.exec(id);
  const g = m?.[1] ?? m?.[0];
  if (!g) throw new Error(`${what} ${String(re)} does not match case id '${id}' (it needs one capture group that matches every case id)`);
  return g;
}

/** Applies centre/patient patterns to cases built with a default centre. */
export function applyPatterns(cases: Case[], opts: OpenDatasetOptions): void {
  const cre = opts.centrePattern !== undefined ? asRegExp(opts.centrePattern, 'centrePattern') : undefined;
  const pre = opts.patientPattern !== undefined ? asRegExp(opts.patientPattern, 'patientPattern') : undefined;
  for (const c of cases) {
    if (cre) c.centre = capture(cre, c.id, 'centrePattern');
    if (pre) c.patient = capture(pre, c.id, 'patientPattern');
  }
}

/** Relative path from the root when inside it (portable project JSON). */
export function rel(root: string, p: string): string {
  const r = path.relative(root, p);
  return r.startsWith('..') || path.isAbsolute(r) ? p : r;
}

/** Strips a known image extension (double ones first). */
export function stripImageExt(name: string): string {
  const m = /\.(nii\.gz|nii|hdr|img|mha|mhd|nrrd|h5|hdf5|png|jpe?g|bmp|tiff?|dcm)$/i.exec(name);
  return m ? name.slice(0, m.index) : name;
}
