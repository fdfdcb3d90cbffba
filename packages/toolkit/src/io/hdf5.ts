// HDF5 reading and writing on h5wasm (the HDF5 C library compiled to wasm).
//
// The Node build of h5wasm reaches the host file system directly (NODERAWFS),
// so files are opened in place, never copied into a virtual FS.
//
// Error handling is the delicate part. libhdf5 reports failures through an
// "auto" error handler. h5wasm can install one that throws a JS exception from
// inside the C call, but that unwinds past the library's cleanup code and
// leaks an open file and a file descriptor per failure. Instead we keep the
// library's default handler (it prints the error stack to stderr and returns
// a failure status), point the wasm stderr stream at a private capture file
// for the duration of each call, and turn anything printed there into a JS
// Error. Every call thus cleans up inside HDF5, nothing reaches the user's
// terminal, and the message names the innermost cause ("file signature not
// found", "File has been truncated", "Filter operation failed").
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import type H5wasmDefault from 'h5wasm/node';
import { composeAffine, type Vec3 } from './affine.js';
import { writeFileAtomic } from './atomic.js';
import { Volume, allocVoxels, voxelTypeOf, type VoxelArray, type VoxelType } from './volume.js';

type H5wasm = typeof H5wasmDefault;
type H5Module = Awaited<H5wasm['ready']>;
type H5File = InstanceType<H5wasm['File']>;
type H5Group = InstanceType<H5wasm['Group']>;

/** A numeric HDF5 dataset in memory: C order as stored (last axis fastest). */
export interface H5Array {
  data: VoxelArray;
  shape: number[];
  dtype: VoxelType;
}

export interface H5DatasetInfo {
  /** Full path inside the file, e.g. "/image". */
  path: string;
  shape: number[];
  /** A VoxelType for numeric data, else a description ("string", "compound", ...). */
  dtype: string;
  chunks: number[] | null;
  /** Filter names, e.g. ["deflate"]; empty when stored raw. */
  filters: string[];
}

export interface H5Listing {
  datasets: H5DatasetInfo[];
  groups: string[];
}

/**
 * How an array's axes map to the volume axes (i, j, k):
 * - 'zyx': C-order [Z, H, W] (or [H, W], or [C, Z, H, W]), as written from
 *   SimpleITK / nibabel-transposed arrays (ACDC, STDR). Already the Volume's
 *   memory order: dims are [W, H, Z], no copy.
 * - 'xyz': C-order [X, Y, Z] (or [X, Y]), as written from a nibabel array
 *   without transposing (LA `mri_norm2.h5`). Transposed on read and write.
 */
export type H5Layout = 'zyx' | 'xyz';

// ---------------------------------------------------------------------------
// Runtime: one h5wasm instance per thread, loaded on first use.

interface Runtime {
  h5: H5wasm;
  M: H5Module;
  /** The wasm stderr stream; its host fd is swapped during guarded calls. */
  stderr: { nfd: number } | null;
  captureFd: number;
}

let runtimePromise: Promise<Runtime> | undefined;

function runtime(): Promise<Runtime> {
  runtimePromise ??= (async () => {
    // Imported on first use: h5wasm instantiates its wasm at import time, and
    // most programs importing the toolkit never touch HDF5.
    const h5 = (await import('h5wasm/node')).default;
    const M = await h5.ready;
    // Keep libhdf5's default (printing) handler; see the header comment.
    M.deactivate_throwing_error_handler();
    const streams = (M.FS as unknown as { streams?: ({ nfd?: unknown } | null)[] }).streams;
    const s2 = streams?.[2];
    const stderr = s2 && typeof s2.nfd === 'number' ? (s2 as { nfd: number }) : null;
    if (!stderr) M.activate_throwing_error_handler(); // unknown h5wasm internals: errors still become exceptions
    const capturePath = path.join(os.tmpdir(), `labelwise-h5err-${process.pid}-${crypto.randomBytes(6).toString('hex')}`);
    // O_APPEND: writes land at the end even after we truncate the file.
    const captureFd = fs.openSync(capturePath, 'a+');
    fs.rmSync(capturePath, { force: true });
    return { h5, M, stderr, captureFd };
  })();
  return runtimePromise;
}

/** Loads the HDF5 wasm module (about 0.1 s, once per thread). Optional: every reader awaits it. */
export async function h5Ready(): Promise<void> {
  await runtime();
}

function takeCapture(rt: Runtime): string {
  const n = fs.fstatSync(rt.captureFd).size;
  if (n === 0) return '';
  const buf = Buffer.alloc(n);
  fs.readSync(rt.captureFd, buf, 0, n, 0);
  fs.ftruncateSync(rt.captureFd, 0);
  return buf.toString('utf8');
}

/** Innermost and outermost causes of a printed HDF5 error stack. */
function summarizeDiag(diag: string): string {
  const causes: string[] = [];
  for (const line of diag.split('\n')) {
    const m = /#\d+:.*?\(\): (.*)$/.exec(line.trim());
    if (m && m[1]) causes.push(m[1].trim());
  }
  if (causes.length === 0) return diag.trim().split('\n').slice(-2).join(' ').trim();
  const inner = causes[causes.length - 1];
  const outer = causes[0];
  return inner === outer ? inner : `${inner} (${outer})`;
}

/** Runs one h5wasm call; any HDF5 error stack it prints becomes an Error. */
function h5call<T>(rt: Runtime, context: () => string, fn: () => T): T {
  let result: T | undefined;
  let thrown: unknown;
  let failed = false;
  const saved = rt.stderr?.nfd;
  if (rt.stderr) rt.stderr.nfd = rt.captureFd;
  try {
    result = fn();
  } catch (e) {
    thrown = e;
    failed = true;
  } finally {
    if (rt.stderr && saved !== undefined) rt.stderr.nfd = saved;
  }
  const diag = rt.stderr ? takeCapture(rt) : '';
  if (diag || failed) {
    const why = diag ? summarizeDiag(diag) : thrown instanceof Error ? summarizeDiag(thrown.message) : String(thrown);
    throw new Error(`${context()}: ${why}`);
  }
  return result as T;
}

// ---------------------------------------------------------------------------
// Opening files safely.

const H5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * HDF5 files start with an 8-byte signature at offset 0, 512, 1024, 2048, ...
 * (after an optional user block). Checked before libhdf5 sees the file so a
 * wrong file gets a plain message.
 */
function assertHdf5Signature(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`HDF5: file not found: ${file}`);
    if (code === 'EISDIR') throw new Error(`HDF5: ${file} is a directory, expected an .h5 file`);
    throw e;
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw new Error(`HDF5: ${file} is a directory, expected an .h5 file`);
    const size = st.size;
    if (size < 8) throw new Error(`HDF5: ${file} is not an HDF5 file (${size} bytes; an HDF5 file starts with an 8-byte signature)`);
    const buf = Buffer.alloc(8);
    for (let off = 0; off + 8 <= size; off = off === 0 ? 512 : off * 2) {
      fs.readSync(fd, buf, 0, 8, off);
      if (buf.equals(H5_SIGNATURE)) return;
    }
    throw new Error(`HDF5: ${file} is not an HDF5 file (no HDF5 signature "\\x89HDF\\r\\n\\x1a\\n" at offset 0 or any user-block boundary)`);
  } finally {
    fs.closeSync(fd);
  }
}

/** Opens `file` read-only, runs `fn`, and always closes the file. */
async function withH5File<T>(file: string, fn: (rt: Runtime, f: H5File) => T): Promise<T> {
  const abs = path.resolve(file);
  assertHdf5Signature(abs);
  const rt = await runtime();
  // Everything below is synchronous, so no other call can interleave.
  const f = h5call(rt, () => `HDF5: cannot open ${file}`, () => new rt.h5.File(abs, 'r'));
  if (f.file_id < 0n) throw new Error(`HDF5: cannot open ${file}`);
  try {
    return fn(rt, f);
  } finally {
    try {
      h5call(rt, () => `HDF5: closing ${file}`, () => f.close());
    } catch { /* a close failure must not hide the original error */ }
  }
}

// ---------------------------------------------------------------------------
// Types.

// HDF5 type classes (H5T_class_t) as h5wasm reports them.
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_STRING = 3;
const H5T_COMPOUND = 6;
const H5T_ENUM = 8;
const H5T_ARRAY = 10;

interface NumericType { dtype: VoxelType; size: number; half?: boolean }

function numericType(meta: { type: number; size: number; signed: boolean; enum_type?: { type: number; size?: number; signed?: boolean } }): NumericType | string {
  let { type, size, signed } = meta;
  if (type === H5T_ENUM && meta.enum_type) {
    // h5py stores bool as an int8 enum {FALSE, TRUE}: read the base integers.
    type = meta.enum_type.type;
    size = meta.enum_type.size ?? size;
    signed = meta.enum_type.signed ?? signed;
  }
  if (type === H5T_INTEGER) {
    const t = ({ 1: signed ? 'int8' : 'uint8', 2: signed ? 'int16' : 'uint16', 4: signed ? 'int32' : 'uint32', 8: signed ? 'int64' : 'uint64' } as Record<number, VoxelType>)[size];
    return t ? { dtype: t, size } : `${size}-byte integer`;
  }
  if (type === H5T_FLOAT) {
    if (size === 4) return { dtype: 'float32', size };
    if (size === 8) return { dtype: 'float64', size };
    if (size === 2) return { dtype: 'float32', size, half: true };
    return `${size}-byte float`;
  }
  if (type === H5T_STRING) return 'string';
  if (type === H5T_COMPOUND) return 'compound';
  if (type === H5T_ARRAY) return 'array';
  return `type class ${type}`;
}

function halfToFloat32(bytes: Uint8Array): Float32Array {
  const u16 = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1);
  const out = new Float32Array(u16.length);
  for (let i = 0; i < u16.length; i++) {
    const h = u16[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    out[i] = exp === 0 ? sign * frac * 2 ** -24
      : exp === 31 ? (frac ? NaN : sign * Infinity)
        : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

function viewAs(dtype: VoxelType, buf: ArrayBuffer): VoxelArray {
  switch (dtype) {
    case 'float32': return new Float32Array(buf);
    case 'float64': return new Float64Array(buf);
    case 'int8': return new Int8Array(buf);
    case 'uint8': return new Uint8Array(buf);
    case 'int16': return new Int16Array(buf);
    case 'uint16': return new Uint16Array(buf);
    case 'int32': return new Int32Array(buf);
    case 'uint32': return new Uint32Array(buf);
    case 'int64': return new BigInt64Array(buf);
    case 'uint64': return new BigUint64Array(buf);
  }
}

// ---------------------------------------------------------------------------
// Reading.

function datasetNames(rt: Runtime, f: H5File, file: string): string[] {
  return listingOf(rt, f, file).datasets.map((d) => d.path.replace(/^\//, ''));
}

function missingDatasetError(rt: Runtime, f: H5File, file: string, name: string, what = 'dataset'): Error {
  const names = datasetNames(rt, f, file);
  return new Error(`HDF5: ${file} has no ${what} "${name}"; datasets in the file: ${names.length ? names.join(', ') : '(none)'}`);
}

function readArray(rt: Runtime, f: H5File, file: string, name: string): H5Array {
  const ctx = (): string => `HDF5: reading dataset "${name}" of ${file}`;
  const entity = h5call(rt, ctx, () => f.get(name));
  if (entity === null) throw missingDatasetError(rt, f, file, name);
  if (!(entity instanceof rt.h5.Dataset)) {
    throw new Error(`HDF5: "${name}" in ${file} is a ${entity instanceof rt.h5.Group ? 'group' : 'link or datatype'}, expected a dataset`);
  }
  const meta = h5call(rt, ctx, () => entity.metadata);
  const nt = numericType(meta as Parameters<typeof numericType>[0]);
  if (typeof nt === 'string') throw new Error(`HDF5: dataset "${name}" of ${file} holds ${nt} data; only numeric datasets can be read as arrays`);
  if (meta.shape === null) throw new Error(`HDF5: dataset "${name}" of ${file} has a null dataspace (no values)`);
  const shape = meta.shape.map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const nbytes = count * nt.size;
  if (!Number.isSafeInteger(nbytes) || nbytes > rt.M.MAXIMUM_MEMORY / 2) {
    throw new Error(`HDF5: dataset "${name}" of ${file} declares shape [${shape.join(', ')}] (${nbytes} bytes), more than the HDF5 reader can hold (${rt.M.MAXIMUM_MEMORY / 2} bytes)`);
  }
  if (count === 0) return { data: allocVoxels(nt.dtype, 0), shape, dtype: nt.dtype };
  const ptr = rt.M._malloc(nbytes);
  if (!ptr) throw new Error(`HDF5: out of wasm memory reading dataset "${name}" of ${file} (${nbytes} bytes)`);
  try {
    const status = h5call(rt, ctx, () => rt.M.get_dataset_data(f.file_id, entity.path, null, null, null, BigInt(ptr)));
    if (status < 0) throw new Error(`${ctx()}: read failed (corrupt or truncated data)`);
    // Copy out of the wasm heap (it may move when memory grows).
    const bytes = rt.M.HEAPU8.slice(ptr, ptr + nbytes);
    const data = nt.half ? halfToFloat32(bytes) : viewAs(nt.dtype, bytes.buffer);
    return { data, shape, dtype: nt.dtype };
  } finally {
    rt.M._free(ptr);
  }
}

function listingOf(rt: Runtime, f: H5File, file: string): H5Listing {
  const datasets: H5DatasetInfo[] = [];
  const groups: string[] = [];
  const visit = (g: H5Group, depth: number): void => {
    if (depth > 32) return; // guards against link cycles
    const keys = h5call(rt, () => `HDF5: listing ${file}`, () => g.keys());
    for (const k of keys) {
      const e = h5call(rt, () => `HDF5: listing ${file}`, () => g.get(k));
      if (e instanceof rt.h5.Dataset) {
        const meta = h5call(rt, () => `HDF5: listing ${file}`, () => e.metadata);
        const nt = numericType(meta as Parameters<typeof numericType>[0]);
        const filters = h5call(rt, () => `HDF5: listing ${file}`, () => e.filters).map((x) => x.name);
        datasets.push({ path: e.path, shape: (meta.shape ?? []).map(Number), dtype: typeof nt === 'string' ? nt : nt.half ? 'float16' : nt.dtype, chunks: meta.chunks, filters });
      } else if (e instanceof rt.h5.Group) {
        groups.push(e.path);
        visit(e, depth + 1);
      }
    }
  };
  visit(f, 0);
  return { datasets, groups };
}

/** Every dataset (with shape, dtype, chunks, filters) and group in the file. */
export async function listH5(file: string): Promise<H5Listing> {
  return withH5File(file, (rt, f) => listingOf(rt, f, file));
}

/** One numeric dataset, C order as stored. */
export async function readH5Dataset(file: string, name: string): Promise<H5Array> {
  return withH5File(file, (rt, f) => readArray(rt, f, file, name));
}

/**
 * Several datasets in one open. Names in `optional` may be absent (left out
 * of the result); any other missing name is an error listing what exists.
 */
export async function readH5Datasets(file: string, names: readonly string[], optional: readonly string[] = []): Promise<Record<string, H5Array>> {
  return withH5File(file, (rt, f) => {
    const out: Record<string, H5Array> = {};
    for (const n of names) out[n] = readArray(rt, f, file, n);
    for (const n of optional) {
      if (names.includes(n)) continue;
      const e = h5call(rt, () => `HDF5: reading ${file}`, () => f.get(n));
      if (e !== null) out[n] = readArray(rt, f, file, n);
    }
    return out;
  });
}

// ---------------------------------------------------------------------------
// Array ↔ Volume.

/**
 * Reverses the axes of a C-order array of shape [n0, n1, n2] (n2 fastest):
 * out has C-order shape [n2, n1, n0]. Tiled over (n0, n2) so both the reads
 * and the writes stay within cache lines.
 */
export function reverseAxes3<T extends VoxelArray>(src: T, n0: number, n1: number, n2: number): T {
  const out = allocVoxels(voxelTypeOf(src), src.length) as T;
  const B = 32;
  const s = src as unknown as { [i: number]: number | bigint };
  const o = out as unknown as { [i: number]: number | bigint };
  for (let j = 0; j < n1; j++) {
    for (let a0 = 0; a0 < n0; a0 += B) {
      const e0 = Math.min(a0 + B, n0);
      for (let a2 = 0; a2 < n2; a2 += B) {
        const e2 = Math.min(a2 + B, n2);
        for (let i0 = a0; i0 < e0; i0++) {
          const sBase = (i0 * n1 + j) * n2;
          for (let i2 = a2; i2 < e2; i2++) o[(i2 * n1 + j) * n0 + i0] = s[sBase + i2];
        }
      }
    }
  }
  return out;
}

function positiveSpacing(v: readonly number[], what: string): Vec3 {
  if (v.length < 2 || v.length > 3) throw new Error(`${what}: expected 2 or 3 values, got ${v.length}`);
  const s: Vec3 = [v[0], v[1], v[2] ?? 1];
  for (const x of s) if (!Number.isFinite(x) || x <= 0) throw new Error(`${what}: values must be finite and > 0, got [${v.join(', ')}]`);
  return s;
}

/** Wraps an HDF5 array as a Volume with the given axis layout and spacing (x, y, z mm). */
export function h5ArrayToVolume(arr: H5Array, layout: H5Layout, spacing: readonly number[] = [1, 1, 1], meta: Record<string, unknown> = {}): Volume {
  const s = arr.shape;
  let dims: number[];
  let channels = 1;
  let data = arr.data;
  if (layout === 'zyx') {
    if (s.length === 2) dims = [s[1], s[0], 1];
    else if (s.length === 3) dims = [s[2], s[1], s[0]];
    else if (s.length === 4) { dims = [s[3], s[2], s[1]]; channels = s[0]; }
    else throw new Error(`HDF5: a 'zyx' array must be [H, W], [Z, H, W] or [C, Z, H, W], got shape [${s.join(', ')}]`);
  } else if (layout === 'xyz') {
    if (s.length === 2) { dims = [s[0], s[1], 1]; data = reverseAxes3(arr.data, s[0], 1, s[1]); }
    else if (s.length === 3) { dims = [s[0], s[1], s[2]]; data = reverseAxes3(arr.data, s[0], s[1], s[2]); }
    else throw new Error(`HDF5: an 'xyz' array must be [X, Y] or [X, Y, Z], got shape [${s.join(', ')}]`);
  } else {
    throw new Error(`HDF5: layout must be 'zyx' or 'xyz', got ${JSON.stringify(layout)}`);
  }
  const sp = positiveSpacing(spacing, 'HDF5 volume spacing');
  return new Volume({ data, dims, channels, affine: composeAffine(sp, [0, 0, 0]), meta: { layout, ...meta } });
}

/**
 * A Volume as an HDF5 array in the given layout. `squeeze2d` (default true)
 * writes a single-slice volume as a 2D [H, W] (zyx) or [X, Y] (xyz) array.
 */
export function volumeToH5Array(vol: Volume, layout: H5Layout, squeeze2d = true): H5Array {
  const [ni, nj, nk] = vol.dims;
  const dtype = vol.voxelType;
  if (layout === 'zyx') {
    let shape = vol.channels > 1 ? [vol.channels, nk, nj, ni] : [nk, nj, ni];
    if (squeeze2d && nk === 1 && vol.channels === 1) shape = [nj, ni];
    return { data: vol.data, shape, dtype };
  }
  if (layout === 'xyz') {
    if (vol.channels !== 1) throw new Error(`HDF5: the 'xyz' layout holds one channel, the volume has ${vol.channels}`);
    if (squeeze2d && nk === 1) return { data: reverseAxes3(vol.data, nj, 1, ni), shape: [ni, nj], dtype };
    return { data: reverseAxes3(vol.data, nk, nj, ni), shape: [ni, nj, nk], dtype };
  }
  throw new Error(`HDF5: layout must be 'zyx' or 'xyz', got ${JSON.stringify(layout)}`);
}

export interface ReadH5VolumeOptions {
  /** Dataset holding the image; default "image". */
  dataset?: string;
  /** Axis layout of the stored array; default 'zyx'. */
  layout?: H5Layout;
  /** Spacing (x, y, z mm) overriding the file's; default: the `voxel_spacing` dataset, else 1 mm. */
  spacing?: readonly number[];
  /** Dataset holding the spacing in x, y, z order (SimpleITK GetSpacing); default "voxel_spacing". */
  spacingDataset?: string;
}

export interface H5Case {
  image: Volume;
  label?: Volume;
  /** x, y, z mm. */
  spacing: Vec3;
  /** Where the spacing came from: the file's spacing dataset, the caller, or the 1 mm default. */
  spacingSource: 'file' | 'option' | 'default';
}

export interface ReadH5CaseOptions extends Omit<ReadH5VolumeOptions, 'dataset'> {
  /** Image dataset; default "image". */
  image?: string;
  /** Label dataset; default "label" (optional when left at the default), null to skip. */
  label?: string | null;
}

function spacingOf(file: string, arrays: Record<string, H5Array>, opts: ReadH5VolumeOptions): { spacing: Vec3; source: H5Case['spacingSource'] } {
  if (opts.spacing) return { spacing: positiveSpacing(opts.spacing, 'HDF5: options.spacing'), source: 'option' };
  const name = opts.spacingDataset ?? 'voxel_spacing';
  const sp = arrays[name];
  if (!sp) return { spacing: [1, 1, 1], source: 'default' };
  const vals = Array.from(sp.data as ArrayLike<number | bigint>, Number);
  return { spacing: positiveSpacing(vals, `HDF5: dataset "${name}" of ${file}`), source: 'file' };
}

/** An image and its label (when present) with spacing from `voxel_spacing` when stored. */
export async function readH5Case(file: string, opts: ReadH5CaseOptions = {}): Promise<H5Case> {
  const layout = opts.layout ?? 'zyx';
  const imageName = opts.image ?? 'image';
  const labelName = opts.label === undefined ? 'label' : opts.label;
  const spacingName = opts.spacingDataset ?? 'voxel_spacing';
  const required = [imageName];
  const optional = [spacingName];
  if (labelName !== null) (opts.label === undefined ? optional : required).push(labelName);
  const arrays = await readH5Datasets(file, required, optional);
  const { spacing, source } = spacingOf(file, arrays, opts);
  const meta = { source: file, format: 'hdf5', spacingSource: source };
  const toVolume = (name: string): Volume => {
    try {
      return h5ArrayToVolume(arrays[name], layout, spacing, { ...meta, dataset: name });
    } catch (e) {
      throw new Error(`HDF5: dataset "${name}" of ${file}: ${(e as Error).message.replace(/^HDF5: /, '')}`);
    }
  };
  const image = toVolume(imageName);
  let label: Volume | undefined;
  if (labelName !== null && arrays[labelName]) {
    const la = arrays[labelName];
    if (la.shape.join(',') !== arrays[imageName].shape.join(',')) {
      throw new Error(`HDF5: in ${file}, "${labelName}" has shape [${la.shape.join(', ')}] but "${imageName}" has [${arrays[imageName].shape.join(', ')}]`);
    }
    label = toVolume(labelName);
  }
  return { image, label, spacing, spacingSource: source };
}

/**
 * The image of an .h5 case as a Volume (what `readImage` returns for .h5).
 * Spacing comes from `voxel_spacing` when the file has it (STDR), else 1 mm
 * (ACDC and LA store none; `meta.spacingSource` says which).
 */
export async function readH5Volume(file: string, opts: ReadH5VolumeOptions = {}): Promise<Volume> {
  const c = await readH5Case(file, { ...opts, image: opts.dataset ?? 'image', label: null });
  return c.image;
}

// ---------------------------------------------------------------------------
// Writing.

export interface H5DatasetInput {
  data: VoxelArray;
  shape: readonly number[];
  /** Stored type; default the data's. Converted with range checks when different. */
  dtype?: VoxelType;
  /** gzip level 0-9, or false for none; default the file-level option. */
  compression?: number | false;
  /** Chunk shape; default chosen from the shape when compressing. */
  chunks?: readonly number[];
}

export interface WriteH5Options {
  /** gzip level for every dataset (1-9), or false; default 4, as h5py's compression="gzip". */
  compression?: number | false;
}

const DTYPE_CODES: Record<VoxelType, string> = {
  float32: '<f', float64: '<d', int8: '<b', uint8: '<B', int16: '<h', uint16: '<H', int32: '<i', uint32: '<I', int64: '<q', uint64: '<Q',
};

const INT_RANGES: Partial<Record<VoxelType, [number, number]>> = {
  int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535], int32: [-2147483648, 2147483647], uint32: [0, 4294967295],
};

/** Converts voxels to `dtype`, rejecting values an integer type cannot hold (no silent wrap). */
export function castVoxels(data: VoxelArray, dtype: VoxelType, what: string): VoxelArray {
  if (voxelTypeOf(data) === dtype) return data;
  const out = allocVoxels(dtype, data.length);
  const range = INT_RANGES[dtype];
  const big = dtype === 'int64' || dtype === 'uint64';
  const src = data as unknown as ArrayLike<number | bigint>;
  const dst = out as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < data.length; i++) {
    const v = src[i];
    if (big) {
      if (typeof v === 'number' && !Number.isInteger(v)) throw new Error(`${what}: value ${v} at index ${i} is not an integer, cannot store as ${dtype}`);
      const b = BigInt(v);
      if (dtype === 'uint64' && b < 0n) throw new Error(`${what}: value ${v} at index ${i} is negative, cannot store as uint64`);
      if (dtype === 'int64' && b > 0x7fffffffffffffffn) throw new Error(`${what}: value ${v} at index ${i} does not fit in int64`);
      dst[i] = b;
    } else {
      const n = Number(v);
      if (range && (!Number.isInteger(n) || n < range[0] || n > range[1])) {
        throw new Error(`${what}: value ${n} at index ${i} does not fit ${dtype} (integers ${range[0]}..${range[1]})`);
      }
      dst[i] = n;
    }
  }
  return out;
}

/**
 * Chunk shape for compressed storage: halve the largest axis until a chunk
 * is at most ~64 KiB (at least one element per axis). Chunks of this size
 * compress well and let a reader fetch a slice without inflating the volume.
 */
function autoChunks(shape: readonly number[], itemSize: number): number[] {
  const c = shape.map((n) => Math.max(1, n));
  const target = 64 * 1024;
  for (;;) {
    const bytes = c.reduce((a, b) => a * b, itemSize);
    if (bytes <= target) return c;
    let k = 0;
    for (let i = 1; i < c.length; i++) if (c[i] > c[k]) k = i;
    if (c[k] === 1) return c;
    c[k] = Math.ceil(c[k] / 2);
  }
}

function ensureGroups(rt: Runtime, f: H5File, name: string, file: string): void {
  const parts = name.split('/').filter(Boolean);
  let cur = '';
  for (const p of parts.slice(0, -1)) {
    cur += `/${p}`;
    const e = h5call(rt, () => `HDF5: writing ${file}`, () => f.get(cur));
    if (e === null) h5call(rt, () => `HDF5: creating group ${cur} in ${file}`, () => f.create_group(cur.slice(1)));
    else if (!(e instanceof rt.h5.Group)) throw new Error(`HDF5: cannot create "${name}" in ${file}: "${cur}" exists and is not a group`);
  }
}

/**
 * Writes numeric datasets to a new HDF5 file, atomically: the file is built
 * in a private temp file, then its bytes are moved into place with
 * `writeFileAtomic`, so readers never see a half-written file.
 */
export async function writeH5(file: string, datasets: Record<string, H5DatasetInput>, opts: WriteH5Options = {}): Promise<void> {
  const prepared: { name: string; data: VoxelArray; shape: number[]; dtype: VoxelType; level: number | false; chunks?: number[] }[] = [];
  const level0 = opts.compression ?? 4;
  for (const [name, d] of Object.entries(datasets)) {
    if (!name || name.split('/').some((p) => p === '.' || p === '..')) throw new Error(`HDF5: invalid dataset name ${JSON.stringify(name)} for ${file}`);
    const shape = d.shape.map((n) => {
      if (!Number.isInteger(n) || n < 0) throw new Error(`HDF5: dataset "${name}" for ${file}: shape entries must be non-negative integers, got [${d.shape.join(', ')}]`);
      return n;
    });
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== d.data.length) throw new Error(`HDF5: dataset "${name}" for ${file}: shape [${shape.join(', ')}] holds ${count} values, data has ${d.data.length}`);
    const dtype = d.dtype ?? voxelTypeOf(d.data);
    if (!(dtype in DTYPE_CODES)) throw new Error(`HDF5: dataset "${name}" for ${file}: unsupported dtype ${JSON.stringify(dtype)}`);
    const level = d.compression ?? level0;
    if (level !== false && !(Number.isInteger(level) && level >= 0 && level <= 9)) {
      throw new Error(`HDF5: dataset "${name}" for ${file}: compression must be a gzip level 0-9 or false, got ${JSON.stringify(level)}`);
    }
    if (d.chunks && (d.chunks.length !== shape.length || d.chunks.some((c) => !Number.isInteger(c) || c < 1))) {
      throw new Error(`HDF5: dataset "${name}" for ${file}: chunks must be ${shape.length} positive integers, got [${d.chunks.join(', ')}]`);
    }
    prepared.push({ name, data: castVoxels(d.data, dtype, `HDF5: dataset "${name}" for ${file}`), shape, dtype, level, chunks: d.chunks ? [...d.chunks] : undefined });
  }
  const rt = await runtime();
  const tmp = path.join(os.tmpdir(), `labelwise-h5w-${process.pid}-${crypto.randomBytes(6).toString('hex')}.h5`);
  try {
    const f = h5call(rt, () => `HDF5: cannot create ${file}`, () => new rt.h5.File(tmp, 'w'));
    try {
      for (const p of prepared) {
        ensureGroups(rt, f, p.name, file);
        const compress = p.level !== false && p.level > 0 && p.shape.length > 0 && p.data.length > 0;
        const itemSize = p.data.BYTES_PER_ELEMENT;
        h5call(rt, () => `HDF5: writing dataset "${p.name}" to ${file}`, () => f.create_dataset({
          name: p.name.replace(/^\//, ''),
          data: p.data,
          shape: p.shape,
          dtype: DTYPE_CODES[p.dtype],
          ...(compress ? { chunks: p.chunks ?? autoChunks(p.shape, itemSize), compression: 'gzip' as const, compression_opts: p.level as number } : {}),
        }));
      }
    } finally {
      h5call(rt, () => `HDF5: closing ${file}`, () => f.close());
    }
    writeFileAtomic(file, fs.readFileSync(tmp));
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

export interface WriteH5CaseOptions extends WriteH5Options {
  /** Stored image type; default float32 (as the seeds store images). */
  imageDtype?: VoxelType;
  /** Stored label type; default uint8 (values must fit). */
  labelDtype?: VoxelType;
  /** Write single-slice volumes as 2D arrays; default true (ACDC / STDR slices). */
  squeeze2d?: boolean;
  /** Dataset names; defaults "image", "label", "voxel_spacing". */
  names?: { image?: string; label?: string; spacing?: string };
}

export interface H5CaseInput {
  image: Volume;
  label?: Volume;
  /** When given, stored as the `voxel_spacing` dataset (float64, x, y, z), as STDR does. */
  spacing?: readonly number[];
}

/** Writes an image (and label) in one of the seed layouts. */
export async function writeH5Case(file: string, c: H5CaseInput, layout: H5Layout = 'zyx', opts: WriteH5CaseOptions = {}): Promise<void> {
  const names = { image: 'image', label: 'label', spacing: 'voxel_spacing', ...opts.names };
  const squeeze = opts.squeeze2d ?? true;
  const img = volumeToH5Array(c.image, layout, squeeze);
  const datasets: Record<string, H5DatasetInput> = {
    [names.image]: { data: img.data, shape: img.shape, dtype: opts.imageDtype ?? 'float32' },
  };
  if (c.label) {
    if (c.label.dims.join(',') !== c.image.dims.join(',')) {
      throw new Error(`HDF5: writing ${file}: label dims [${c.label.dims.join(', ')}] differ from image dims [${c.image.dims.join(', ')}]`);
    }
    const lab = volumeToH5Array(c.label, layout, squeeze);
    datasets[names.label] = { data: lab.data, shape: lab.shape, dtype: opts.labelDtype ?? 'uint8' };
  }
  if (c.spacing) {
    const sp = positiveSpacing(c.spacing, `HDF5: writing ${file}: spacing`);
    datasets[names.spacing] = { data: Float64Array.from(sp), shape: [3], compression: false };
  }
  await writeH5(file, datasets, opts);
}
