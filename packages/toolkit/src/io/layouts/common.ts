// Shared pieces of the seed HDF5 folder layouts (ACDC, LA, STDR): list files
// and the lazily loaded item every layout exposes.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { writeFileAtomicAsync } from '../atomic.js';
import type { H5Case } from '../hdf5.js';
import { Volume } from '../volume.js';

/** One file of a layout: listed at open, read only when `load()` is called. */
export interface H5Item {
  /** File stem, e.g. "patient001_frame01_slice_3" or "patient001_frame01". */
  id: string;
  split: string;
  kind: 'slice' | 'volume';
  /** The case this item belongs to (a slice's volume; a volume's own id). */
  caseId: string;
  /** Patient (or subject) id: the unit the literature splits and counts by. */
  patient: string;
  path: string;
  /** False when a list names the item but this copy of the data lacks the file. */
  available: boolean;
  load(): Promise<H5Case>;
}

/** Names in a `.list` / `.txt` file: one per line, blank lines skipped, ".h5" suffix dropped. */
export async function readListFile(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`list file not found: ${file}`);
    throw e;
  }
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0).map((l) => l.replace(/\.h5$/, ''));
}

/** Writes names one per line (atomic). */
export async function writeListFile(file: string, names: readonly string[]): Promise<void> {
  for (const n of names) {
    if (!n || /[\r\n]/.test(n)) throw new Error(`list ${file}: invalid entry ${JSON.stringify(n)}`);
  }
  await writeFileAtomicAsync(file, names.map((n) => `${n}\n`).join(''));
}

/** File names in a directory, or an empty set when it does not exist. */
export async function dirEntries(dir: string): Promise<Set<string>> {
  try {
    return new Set(await fsp.readdir(dir));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw e;
  }
}

export function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

export function requireDirectory(p: string, what: string): void {
  if (!isDirectory(p)) throw new Error(`${what}: ${p} is not a directory`);
}

/** Slice k (0-based, along the third axis) of a single-channel volume, as a [W, H, 1] volume sharing memory. */
export function sliceOf(vol: Volume, k: number): Volume {
  const [ni, nj, nk] = vol.dims;
  if (vol.channels !== 1) throw new Error(`sliceOf: expected one channel, got ${vol.channels}`);
  if (!Number.isInteger(k) || k < 0 || k >= nk) throw new Error(`sliceOf: slice ${k} out of range [0, ${nk})`);
  const n = ni * nj;
  return new Volume({ data: vol.data.subarray(k * n, (k + 1) * n) as Volume['data'], dims: [ni, nj, 1], affine: vol.shiftedAffine([0, 0, k]), meta: vol.meta });
}

/** Throws when lists name files this copy lacks (up to 5 named). */
export function assertAllAvailable(items: readonly H5Item[], what: string, root: string): void {
  const missing = items.filter((i) => !i.available);
  if (missing.length === 0) return;
  const shown = missing.slice(0, 5).map((i) => i.path).join(', ');
  throw new Error(`${what} at ${root}: ${missing.length} listed file(s) missing, e.g. ${shown} (pass { strict: false } to open anyway)`);
}
