// NIfTI-1 / NIfTI-2 reader and writer (.nii, .nii.gz, .hdr/.img pairs).
//
// Reading validates every declared size against the bytes actually present
// before allocating, decompresses .nii.gz in one pass into a buffer of the
// declared size, and keeps voxel data as a view on that buffer when it can
// (no copy). Affine selection, scaling and the qform written on save follow
// nibabel so results agree with Python pipelines.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { constants as bufferConstants } from 'node:buffer';
import type { Affine } from './affine.js';
import { writeChunksAtomic, writeFileAtomic } from './atomic.js';
import { gunzipBounded, gunzipPrefix, gzipParts, isGzip, MAX_DEFLATE_RATIO, DEFAULT_GZIP_LEVEL } from './gzip.js';
import {
  type AffineSource, type NiftiHeader, type NiftiStorage,
  NIFTI1_HEADER_SIZE, NIFTI1_MIN_OFFSET, NIFTI2_HEADER_SIZE, NIFTI2_MIN_OFFSET,
  affineToQform, bestAffine, datatypeByCode, datatypeByName, effectiveXformCode, encodeHeader,
  parseHeader, probeHeader, unsupportedDatatypeMessage,
} from './nifti-header.js';
import { Volume, type VoxelArray, type VoxelType, allocVoxels, voxelTypeOf } from './volume.js';

export type { NiftiHeader, NiftiStorage, AffineSource } from './nifti-header.js';

/** One header extension, kept as raw bytes so it can be written back unchanged. */
export interface NiftiExtension { code: number; data: Uint8Array }

/** Header fields kept in `volume.meta.nifti` (everything not already expressed by the Volume). */
export interface NiftiMeta {
  version: 1 | 2;
  byteOrder: 'little' | 'big';
  /** Storage type in the file ('RGB24' files become 3 uint8 channels). */
  datatype: NiftiStorage;
  /** Original dim[0..7], so a 4D/5D file is written back with its shape. */
  dim: number[];
  pixdim: number[];
  /** Which transform gave the affine (nibabel get_best_affine order). */
  affineSource: AffineSource;
  qformCode: number;
  sformCode: number;
  sclSlope: number;
  sclInter: number;
  /** True when scl_slope/scl_inter were applied to `data` on read. */
  scaled: boolean;
  dimInfo: number;
  intentCode: number;
  intentName: string;
  intentP: [number, number, number];
  xyztUnits: number;
  descrip: string;
  auxFile: string;
  calMin: number;
  calMax: number;
  sliceCode: number;
  sliceStart: number;
  sliceEnd: number;
  sliceDuration: number;
  toffset: number;
  voxOffset: number;
}

export interface ReadNiftiOptions {
  /** Apply scl_slope/scl_inter (default true). false keeps the stored type and records the factors in meta. */
  scale?: boolean;
}

const HOST_LE = os.endianness() === 'LE';
const gunzipAsync = promisify(zlib.gunzip);

// ------------------------------------------------------------------ layout

interface Layout {
  header: NiftiHeader;
  headerSize: number;
  storage: NonNullable<ReturnType<typeof datatypeByCode>>;
  spatial: [number, number, number];
  /** Product of dim[4..dim[0]] (time points / vector components). */
  extra: number;
  voxels: number;
  dataBytes: number;
  /** Byte offset of the voxel data in the data file. */
  offset: number;
}

function layoutOf(h: NiftiHeader, file: string, singleFile: boolean): Layout {
  const ndim = h.dim[0];
  if (!Number.isInteger(ndim) || ndim < 1 || ndim > 7) {
    throw new Error(`${file}: NIfTI field 'dim[0]' = ${ndim} (expected the number of dimensions, 1..7)`);
  }
  let voxels = 1;
  for (let i = 1; i <= ndim; i++) {
    const d = h.dim[i];
    if (!Number.isInteger(d) || d < 1) throw new Error(`${file}: NIfTI field 'dim[${i}]' = ${d} (expected a positive size)`);
    voxels *= d;
    if (voxels > Number.MAX_SAFE_INTEGER) throw new Error(`${file}: NIfTI dims [${h.dim.slice(1, ndim + 1).join(', ')}] are absurdly large`);
  }
  const storage = datatypeByCode(h.datatype);
  if (!storage) throw new Error(unsupportedDatatypeMessage(file, h.datatype));
  const spatial: [number, number, number] = [h.dim[1], ndim >= 2 ? h.dim[2] : 1, ndim >= 3 ? h.dim[3] : 1];
  let extra = 1;
  for (let i = 4; i <= ndim; i++) extra *= h.dim[i];
  const dataBytes = voxels * storage.bytes;
  const headerSize = h.version === 1 ? NIFTI1_HEADER_SIZE : NIFTI2_HEADER_SIZE;
  let offset = h.voxOffset;
  if (!Number.isFinite(offset) || offset < 0) throw new Error(`${file}: NIfTI field 'vox_offset' = ${offset} (expected a non-negative byte offset)`);
  offset = Math.floor(offset); // nibabel: int(vox_offset)
  if (singleFile) {
    const min = h.version === 1 ? NIFTI1_MIN_OFFSET : NIFTI2_MIN_OFFSET;
    // 0 means "unset": niftilib puts the data right after the header then.
    if (offset === 0) offset = min;
    else if (offset < min) throw new Error(`${file}: NIfTI field 'vox_offset' = ${offset} points inside the header (minimum ${min} for a single-file NIfTI-${h.version})`);
  }
  if (offset + dataBytes > bufferConstants.MAX_LENGTH) {
    throw new Error(`${file}: NIfTI image needs ${offset + dataBytes} bytes, more than one buffer can hold (${bufferConstants.MAX_LENGTH})`);
  }
  return { header: h, headerSize, storage, spatial, extra, voxels, dataBytes, offset };
}

function checkScaling(h: NiftiHeader, file: string): { slope: number; inter: number } | undefined {
  const slope = h.sclSlope, inter = h.sclInter;
  // nibabel: slope 0 or non-finite means "no scaling".
  if (slope === 0 || !Number.isFinite(slope)) return undefined;
  if (!Number.isFinite(inter)) throw new Error(`${file}: NIfTI field 'scl_inter' = ${inter} with a valid scl_slope = ${slope} (expected a finite intercept)`);
  if (slope === 1 && inter === 0) return undefined;
  return { slope, inter };
}

// -------------------------------------------------------------- extensions

function parseExtensions(bytes: Uint8Array, h: NiftiHeader, headerSize: number, end: number): { extensions: NiftiExtension[]; warning?: string } {
  const extensions: NiftiExtension[] = [];
  // 4-byte "extension" flag after the header; first byte non-zero means extensions follow.
  if (bytes.byteLength < headerSize + 4 || bytes[headerSize] === 0) return { extensions };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stop = Math.min(end, bytes.byteLength);
  let pos = headerSize + 4;
  while (pos + 8 <= stop) {
    const esize = dv.getInt32(pos, h.littleEndian);
    const ecode = dv.getInt32(pos + 4, h.littleEndian);
    if (esize === 0 && ecode === 0) break; // zero padding before the data
    if (esize < 8 || pos + esize > stop) {
      return { extensions, warning: `extension at byte ${pos} has esize ${esize}, beyond the ${stop - pos} bytes left before the data; ignored from there on` };
    }
    extensions.push({ code: ecode, data: bytes.slice(pos + 8, pos + esize) });
    pos += esize;
  }
  return { extensions };
}

// ------------------------------------------------------------------ voxels

function typedView(type: VoxelType, buf: ArrayBufferLike, byteOffset: number, length: number): VoxelArray {
  switch (type) {
    case 'float32': return new Float32Array(buf, byteOffset, length);
    case 'float64': return new Float64Array(buf, byteOffset, length);
    case 'int8': return new Int8Array(buf, byteOffset, length);
    case 'uint8': return new Uint8Array(buf, byteOffset, length);
    case 'int16': return new Int16Array(buf, byteOffset, length);
    case 'uint16': return new Uint16Array(buf, byteOffset, length);
    case 'int32': return new Int32Array(buf, byteOffset, length);
    case 'uint32': return new Uint32Array(buf, byteOffset, length);
    case 'int64': return new BigInt64Array(buf, byteOffset, length);
    case 'uint64': return new BigUint64Array(buf, byteOffset, length);
  }
}

function swapInPlace(bytes: Uint8Array, elem: number): void {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (elem === 2) b.swap16();
  else if (elem === 4) b.swap32();
  else if (elem === 8) b.swap64();
}

/**
 * Voxel data of `full` (the whole data file) as a Volume-ready typed array.
 * `owned`: the caller hands `full` over, so it may be byte-swapped in place
 * and the result may be a view on it.
 */
function decodeVoxels(full: Uint8Array, L: Layout, owned: boolean): VoxelArray {
  const raw = full.subarray(L.offset, L.offset + L.dataBytes);
  const st = L.storage;
  const n = L.spatial[0] * L.spatial[1] * L.spatial[2];
  if (st.components > 1) {
    // RGB24 / RGBA32: interleaved per voxel → planar channels (t-major, then component).
    const comps = st.components;
    const out = new Uint8Array(L.voxels * comps);
    for (let t = 0; t < L.extra; t++) {
      const src = t * n * comps;
      for (let c = 0; c < comps; c++) {
        const dst = (t * comps + c) * n;
        for (let v = 0; v < n; v++) out[dst + v] = raw[src + v * comps + c];
      }
    }
    return out;
  }
  const type = st.name as VoxelType;
  const needSwap = st.elem > 1 && (L.header.littleEndian !== HOST_LE);
  // A view is safe only on a buffer we own outright (not node's shared small-buffer pool) and when aligned.
  const canView = owned && full.byteLength > 8192 && (raw.byteOffset % st.elem === 0);
  if (canView) {
    if (needSwap) swapInPlace(raw, st.elem);
    return typedView(type, raw.buffer, raw.byteOffset, L.voxels);
  }
  const out = allocVoxels(type, L.voxels);
  const outBytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  outBytes.set(raw);
  if (needSwap) swapInPlace(outBytes, st.elem);
  return out;
}

/** Applies slope/intercept: float32 result unless the stored type is float64 (then float64). */
function applyScaling(data: VoxelArray, slope: number, inter: number): Float32Array | Float64Array {
  const out = data instanceof Float64Array ? new Float64Array(data.length) : new Float32Array(data.length);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]) * slope + inter;
  } else {
    const d = data as Exclude<VoxelArray, BigInt64Array | BigUint64Array>;
    for (let i = 0; i < d.length; i++) out[i] = d[i] * slope + inter;
  }
  return out;
}

// ------------------------------------------------------------------ reading

interface Parsed {
  header: NiftiHeader;
  layout: Layout;
  extensions: NiftiExtension[];
  extensionWarning?: string;
}

function headerBytesOf(fileBytes: Uint8Array, file: string): { bytes: Uint8Array; gz: boolean } {
  if (!isGzip(fileBytes)) return { bytes: fileBytes, gz: false };
  return { bytes: gunzipPrefix(fileBytes, file, NIFTI2_HEADER_SIZE + 4), gz: true };
}

function buildVolume(full: Uint8Array, p: Parsed, file: string, owned: boolean, opts: ReadNiftiOptions): Volume {
  const { header: h, layout: L } = p;
  const { affine, source } = bestAffine(h, file);
  let data = decodeVoxels(full, L, owned);
  const scaling = L.storage.components === 1 ? checkScaling(h, file) : undefined;
  const doScale = opts.scale !== false && scaling !== undefined;
  if (doScale && scaling) data = applyScaling(data, scaling.slope, scaling.inter);
  const nifti: NiftiMeta = {
    version: h.version,
    byteOrder: h.littleEndian ? 'little' : 'big',
    datatype: L.storage.name,
    dim: h.dim.slice(),
    pixdim: h.pixdim.slice(),
    affineSource: source,
    qformCode: effectiveXformCode(h.qformCode),
    sformCode: effectiveXformCode(h.sformCode),
    sclSlope: h.sclSlope,
    sclInter: h.sclInter,
    scaled: doScale,
    dimInfo: h.dimInfo,
    intentCode: h.intentCode,
    intentName: h.intentName,
    intentP: [h.intentP1, h.intentP2, h.intentP3],
    xyztUnits: h.xyztUnits,
    descrip: h.descrip,
    auxFile: h.auxFile,
    calMin: h.calMin,
    calMax: h.calMax,
    sliceCode: h.sliceCode,
    sliceStart: h.sliceStart,
    sliceEnd: h.sliceEnd,
    sliceDuration: h.sliceDuration,
    toffset: h.toffset,
    voxOffset: L.offset,
  };
  const meta: Record<string, unknown> = { format: 'nifti', source: file, nifti, niftiExtensions: p.extensions };
  if (p.extensionWarning) meta.niftiExtensionWarning = p.extensionWarning;
  return new Volume({ data, dims: L.spatial, channels: L.extra * L.storage.components, affine, meta });
}

function parseHeaderAndExtensions(headerBytes: Uint8Array, file: string, singleFile: boolean, extEnd?: number): Parsed {
  const header = parseHeader(headerBytes, file);
  const layout = layoutOf(header, file, singleFile);
  const end = extEnd ?? (singleFile ? layout.offset : headerBytes.byteLength);
  const { extensions, warning } = parseExtensions(headerBytes, header, layout.headerSize, end);
  return { header, layout, extensions, extensionWarning: warning };
}

function checkLength(available: number, L: Layout, file: string, what: string): void {
  const need = L.offset + L.dataBytes;
  if (available < need) {
    throw new Error(`${file}: truncated NIfTI ${what}: header declares ${L.dataBytes} bytes of voxel data at offset ${L.offset} (dims [${L.header.dim.slice(1, L.header.dim[0] + 1).join(', ')}], ${L.storage.name}), so ${need} bytes are needed but only ${available} are present`);
  }
}

/** Decodes a single-file NIfTI (.nii or .nii.gz bytes) that has already been read. */
function parseSingle(fileBytes: Uint8Array, file: string, owned: boolean, opts: ReadNiftiOptions): Volume {
  const { bytes: hb, gz } = headerBytesOf(fileBytes, file);
  const probe = probeHeader(hb, file);
  const head = parseHeader(hb, file);
  if (!head.single) {
    throw new Error(`${file}: NIfTI field 'magic' = "ni${probe.version}" marks the header of a .hdr/.img pair, but this is a single file; rename it to .hdr next to its .img`);
  }
  const layoutProbe = layoutOf(head, file, true);
  let full: Uint8Array = fileBytes;
  let fullOwned = owned;
  if (gz) {
    full = gunzipBounded(fileBytes, file, { expected: layoutProbe.offset + layoutProbe.dataBytes });
    fullOwned = true;
  }
  checkLength(full.byteLength, layoutProbe, file, gz ? 'data (after decompression)' : 'file');
  const parsed = parseHeaderAndExtensions(full, file, true);
  return buildVolume(full, parsed, file, fullOwned, opts);
}

/**
 * Parses NIfTI bytes (.nii, or .nii.gz detected by the gzip magic). `name`
 * is used in error messages. The result never aliases `bytes`.
 */
export function parseNifti(bytes: Uint8Array, name: string, opts: ReadNiftiOptions = {}): Volume {
  return parseSingle(bytes, name, false, opts);
}

/** Parses a .hdr/.img pair from their bytes (either may be gzipped). */
export function parseNiftiPair(hdrBytes: Uint8Array, imgBytes: Uint8Array, names: { hdr: string; img: string }, opts: ReadNiftiOptions = {}): Volume {
  return parsePair(hdrBytes, imgBytes, names, false, opts);
}

function parsePair(hdrBytes: Uint8Array, imgBytes: Uint8Array, names: { hdr: string; img: string }, owned: boolean, opts: ReadNiftiOptions): Volume {
  const hdr = isGzip(hdrBytes) ? gunzipPrefix(hdrBytes, names.hdr, Number.MAX_SAFE_INTEGER) : hdrBytes;
  const parsed = parseHeaderAndExtensions(hdr, names.hdr, false, hdr.byteLength);
  const L = parsed.layout;
  let full = imgBytes;
  let fullOwned = owned;
  if (isGzip(imgBytes)) {
    full = gunzipBounded(imgBytes, names.img, { expected: L.offset + L.dataBytes });
    fullOwned = true;
  }
  checkLength(full.byteLength, L, names.img, 'image file');
  return buildVolume(full, parsed, names.hdr, fullOwned, opts);
}

type NiftiKind = { kind: 'single'; file: string } | { kind: 'pair'; hdr: string; img: string };

const PAIR_HDR = /\.hdr(\.gz)?$/i;
const PAIR_IMG = /\.img(\.gz)?$/i;

function resolveNiftiPath(file: string): NiftiKind {
  if (PAIR_HDR.test(file) || PAIR_IMG.test(file)) {
    const stem = file.replace(PAIR_HDR, '').replace(PAIR_IMG, '');
    const hdrCandidates = PAIR_HDR.test(file) ? [file] : [`${stem}.hdr`, `${stem}.hdr.gz`];
    const hdr = hdrCandidates.find((p) => fs.existsSync(p));
    if (!hdr) throw new Error(`${file}: NIfTI pair header not found (looked for ${hdrCandidates.join(', ')})`);
    const imgCandidates = PAIR_IMG.test(file) ? [file] : [`${stem}.img`, `${stem}.img.gz`];
    const img = imgCandidates.find((p) => fs.existsSync(p));
    return { kind: 'pair', hdr, img: img ?? imgCandidates[0] };
  }
  return { kind: 'single', file };
}

function readFileOrThrow(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${file}: file not found`);
    if (code === 'EISDIR') throw new Error(`${file}: is a directory, not a NIfTI file`);
    throw new Error(`${file}: cannot read (${(err as Error).message})`);
  }
}

function readPair(kind: { hdr: string; img: string }, opts: ReadNiftiOptions): Volume {
  const hdrBytes = readFileOrThrow(kind.hdr);
  const hdr = isGzip(hdrBytes) ? gunzipPrefix(hdrBytes, kind.hdr, Number.MAX_SAFE_INTEGER) : hdrBytes;
  const head = parseHeader(hdr, kind.hdr);
  if (head.single) {
    // An n+1 header stored as .hdr: the data lives inside it.
    return parseSingle(hdrBytes, kind.hdr, true, opts);
  }
  if (!fs.existsSync(kind.img)) {
    throw new Error(`${kind.hdr}: header-only NIfTI pair: its image file ${kind.img} (or .img.gz) is missing`);
  }
  return parsePair(hdrBytes, readFileOrThrow(kind.img), kind, true, opts);
}

/** Reads a NIfTI image (.nii, .nii.gz, .hdr/.img pair) into a Volume. */
export function readNifti(file: string, opts: ReadNiftiOptions = {}): Volume {
  const kind = resolveNiftiPath(file);
  if (kind.kind === 'pair') return readPair(kind, opts);
  return parseSingle(readFileOrThrow(file), file, true, opts);
}

/**
 * Like readNifti but reads and decompresses off the main thread (the data
 * then costs one more copy, made by node's async zlib).
 */
export async function readNiftiAsync(file: string, opts: ReadNiftiOptions = {}): Promise<Volume> {
  const kind = resolveNiftiPath(file);
  if (kind.kind === 'pair') return readPair(kind, opts);
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(file);
  } catch {
    return readNifti(file, opts); // same error messages as the sync path
  }
  if (!isGzip(bytes)) return parseSingle(bytes, file, true, opts);
  const hb = gunzipPrefix(bytes, file, NIFTI2_HEADER_SIZE + 4);
  const head = parseHeader(hb, file);
  if (!head.single) return parseSingle(bytes, file, true, opts); // reports the error
  const L = layoutOf(head, file, true);
  const expected = L.offset + L.dataBytes;
  if (expected > bytes.byteLength * MAX_DEFLATE_RATIO + 1024) return parseSingle(bytes, file, true, opts);
  let full: Buffer;
  try {
    full = await gunzipAsync(bytes, { maxOutputLength: expected + Math.max(1 << 20, Math.floor(expected / 16)) });
  } catch {
    return parseSingle(bytes, file, true, opts); // the sync path produces the precise message
  }
  checkLength(full.byteLength, L, file, 'data (after decompression)');
  return buildVolume(full, parseHeaderAndExtensions(full, file, true), file, true, opts);
}

export interface NiftiHeaderInfo {
  file: string;
  header: NiftiHeader;
  /** Shape as nibabel reports it: dim[1..dim[0]]. */
  shape: number[];
  datatype: NiftiStorage;
  affine: Affine;
  affineSource: AffineSource;
  extensions: NiftiExtension[];
}

/** Reads only the header (and extensions) without decompressing the voxel data. */
export function readNiftiHeader(file: string): NiftiHeaderInfo {
  const kind = resolveNiftiPath(file);
  const hdrFile = kind.kind === 'pair' ? kind.hdr : kind.file;
  const fileBytes = readHeadOfFile(hdrFile);
  let hb: Uint8Array = fileBytes;
  if (isGzip(fileBytes)) {
    hb = gunzipPrefix(fileBytes, hdrFile, NIFTI2_HEADER_SIZE + 4);
    const head = parseHeader(hb, hdrFile);
    const want = head.single ? Math.max(NIFTI2_HEADER_SIZE + 4, Math.min(Math.floor(head.voxOffset), 64 << 20)) : Number.MAX_SAFE_INTEGER;
    if (want > hb.byteLength) hb = gunzipPrefix(fileBytes, hdrFile, want);
  }
  const head = parseHeader(hb, hdrFile);
  const parsed = parseHeaderAndExtensions(hb, hdrFile, head.single);
  const { affine, source } = bestAffine(head, hdrFile);
  return {
    file: hdrFile, header: head, shape: head.dim.slice(1, head.dim[0] + 1), datatype: parsed.layout.storage.name,
    affine, affineSource: source, extensions: parsed.extensions,
  };
}

/** First bytes of a file: enough for header + typical extensions (gzip: a compressed prefix). */
function readHeadOfFile(file: string): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return readFileOrThrow(file);
  }
  try {
    const size = fs.fstatSync(fd).size;
    // Extensions can be large (e.g. CIFTI XML); read at most 64 MiB of header area.
    const take = Math.min(size, 64 << 20);
    const buf = Buffer.allocUnsafe(take);
    let got = 0;
    while (got < take) {
      const n = fs.readSync(fd, buf, got, take - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

// ------------------------------------------------------------------ writing

export interface WriteNiftiOptions {
  /** Storage type in the file; default: the volume's voxel type (RGB24 if it was read as RGB24). */
  datatype?: NiftiStorage;
  /**
   * When storing floats as integers: true fits scl_slope/scl_inter to use the
   * integer range (like nibabel's scaling writers); false (default) rounds
   * half to even and clips.
   */
  scale?: boolean;
  /** gzip level for .nii.gz / .img.gz (default 1, nibabel's default). */
  compressLevel?: number;
  /** Force NIfTI-1 or NIfTI-2 (default: 1, or 2 when dims exceed NIfTI-1's int16 range or the source was NIfTI-2). */
  version?: 1 | 2;
  qformCode?: number;
  sformCode?: number;
  descrip?: string;
  /** Replace the extensions from `meta.niftiExtensions`. */
  extensions?: NiftiExtension[];
}

const INT_RANGES: Partial<Record<NiftiStorage, [number, number]>> = {
  uint8: [0, 255], int8: [-128, 127], int16: [-32768, 32767], uint16: [0, 65535],
  int32: [-2147483648, 2147483647], uint32: [0, 4294967295],
  // 64-bit bounds as doubles (only used to fit scaling; bigint clipping is exact).
  int64: [-(2 ** 63), 2 ** 63], uint64: [0, 2 ** 64],
};

function metaNifti(vol: Volume): Partial<NiftiMeta> {
  const m = vol.meta.nifti;
  return m && typeof m === 'object' ? (m as Partial<NiftiMeta>) : {};
}

function metaExtensions(vol: Volume): NiftiExtension[] {
  const e = vol.meta.niftiExtensions;
  if (!Array.isArray(e)) return [];
  return e.filter((x): x is NiftiExtension => !!x && typeof x === 'object' && typeof (x as NiftiExtension).code === 'number' && (x as NiftiExtension).data instanceof Uint8Array);
}

function defaultStorage(vol: Volume, m: Partial<NiftiMeta>): NiftiStorage {
  const vt = vol.voxelType;
  if (vt === 'uint8' && (m.datatype === 'RGB24' || m.datatype === 'RGBA32')) {
    const comps = m.datatype === 'RGB24' ? 3 : 4;
    if (vol.channels % comps === 0) return m.datatype;
  }
  return vt;
}

/** Round half to even, as numpy's rint (what nibabel uses when casting). */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

interface Encoded { data: Uint8Array; slope: number; inter: number }

/** Voxels as little-endian bytes of `storage`, converting and (optionally) scaling. */
function encodeVoxels(vol: Volume, storage: NiftiStorage, scale: boolean, m: Partial<NiftiMeta>): Encoded {
  const src = vol.data;
  const srcType = voxelTypeOf(src);
  const info = datatypeByName(storage);
  if (info.components > 1) {
    if (srcType !== 'uint8') throw new Error(`writeNifti: datatype ${storage} needs uint8 voxels, the volume has ${srcType}`);
    const comps = info.components;
    if (vol.channels % comps !== 0) throw new Error(`writeNifti: datatype ${storage} needs a multiple of ${comps} channels, the volume has ${vol.channels}`);
    const n = vol.numVoxels;
    const frames = vol.channels / comps;
    const out = new Uint8Array(n * vol.channels);
    const s = src as Uint8Array;
    for (let t = 0; t < frames; t++) {
      for (let c = 0; c < comps; c++) {
        const from = (t * comps + c) * n;
        const dst = t * n * comps + c;
        for (let v = 0; v < n; v++) out[dst + v * comps] = s[from + v];
      }
    }
    return { data: out, slope: 1, inter: 0 };
  }
  const target = storage as VoxelType;
  if (target === srcType) {
    // Data kept unscaled on read ({ scale: false }): write its factors back so values keep their
    // meaning — only while the voxels are still of the stored type (a float copy is already scaled).
    const keep = m.scaled === false && m.datatype === srcType && m.sclSlope !== undefined && Number.isFinite(m.sclSlope) && m.sclSlope !== 0;
    const inter = keep && m.sclInter !== undefined && Number.isFinite(m.sclInter) ? m.sclInter : 0;
    return { data: littleEndianBytes(src), slope: keep ? m.sclSlope ?? 1 : 1, inter };
  }
  const out = allocVoxels(target, src.length);
  const range = INT_RANGES[storage];
  const isFloatSrc = srcType === 'float32' || srcType === 'float64';
  let slope = 1, inter = 0;
  if (range && isFloatSrc && scale) ({ slope, inter } = fitScaling(src as Float32Array | Float64Array, range));
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
    const lo = BigInt(range?.[0] ?? 0), hi = out instanceof BigInt64Array ? 0x7fffffffffffffffn : 0xffffffffffffffffn;
    for (let i = 0; i < src.length; i++) {
      const v = src[i];
      let b: bigint;
      if (typeof v === 'bigint') b = v;
      else if (!Number.isFinite(v)) b = 0n;
      else b = BigInt(rint((v - inter) / slope));
      out[i] = b < lo ? lo : b > hi ? hi : b;
    }
  } else if (range) {
    const [lo, hi] = range;
    const o = out as Exclude<VoxelArray, BigInt64Array | BigUint64Array>;
    for (let i = 0; i < src.length; i++) {
      const v = Number(src[i]);
      const r = Number.isNaN(v) ? 0 : rint((v - inter) / slope);
      o[i] = r < lo ? lo : r > hi ? hi : r;
    }
  } else {
    const o = out as Float32Array | Float64Array;
    for (let i = 0; i < src.length; i++) o[i] = Number(src[i]);
  }
  return { data: littleEndianBytes(out), slope, inter };
}

/** nibabel-like slope/intercept so [min, max] of the data spans the integer range. */
function fitScaling(src: Float32Array | Float64Array, range: [number, number]): { slope: number; inter: number } {
  let mn = Infinity, mx = -Infinity, allInt = true;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (!Number.isFinite(v)) continue;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
    if (allInt && v !== Math.trunc(v)) allInt = false;
  }
  if (mn > mx) return { slope: 1, inter: 0 };
  if (allInt && mn >= range[0] && mx <= range[1]) return { slope: 1, inter: 0 };
  if (mx === mn) return { slope: 1, inter: mn };
  const slope = (mx - mn) / (range[1] - range[0]);
  return { slope, inter: mn - range[0] * slope };
}

function littleEndianBytes(a: VoxelArray): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (HOST_LE || a.BYTES_PER_ELEMENT === 1) return bytes;
  const copy = bytes.slice();
  swapInPlace(copy, a.BYTES_PER_ELEMENT);
  return copy;
}

function dimsFor(vol: Volume, m: Partial<NiftiMeta>, frames: number): number[] {
  const [ni, nj, nk] = vol.dims;
  const md = m.dim;
  if (Array.isArray(md) && md.length === 8) {
    const nd = md[0];
    const spatialMatch = md[1] === ni && (nd >= 2 ? md[2] : 1) === nj && (nd >= 3 ? md[3] : 1) === nk;
    let extra = 1;
    for (let i = 4; i <= nd; i++) extra *= md[i];
    if (nd >= 1 && nd <= 7 && spatialMatch && extra === frames) {
      return md.map((v, i) => (i > nd ? 1 : v));
    }
  }
  if (frames > 1) return [4, ni, nj, nk, frames, 1, 1, 1];
  return [3, ni, nj, nk, 1, 1, 1, 1];
}

function validCode(code: number | undefined): number | undefined {
  return code !== undefined && Number.isInteger(code) && code > 0 && code <= 5 ? code : undefined;
}

interface EncodedParts { header: Uint8Array; data: Uint8Array }

function encodeParts(vol: Volume, opts: WriteNiftiOptions, single: boolean): EncodedParts {
  const m = metaNifti(vol);
  const storage = opts.datatype ?? defaultStorage(vol, m);
  const info = datatypeByName(storage);
  const frames = vol.channels / info.components;
  const dim = dimsFor(vol, m, frames);
  const needs2 = dim.some((d) => d > 32767);
  const version: 1 | 2 = opts.version ?? (needs2 || m.version === 2 ? 2 : 1);
  if (version === 1 && needs2) throw new Error(`writeNifti: dims [${dim.slice(1, dim[0] + 1).join(', ')}] exceed NIfTI-1's limit of 32767 per axis; write NIfTI-2 (version: 2)`);
  const enc = encodeVoxels(vol, storage, opts.scale === true, m);
  const q = affineToQform(vol.affine);
  const a = vol.affine;
  const sformCode = validCode(opts.sformCode) ?? validCode(m.sformCode) ?? validCode(m.qformCode) ?? 1;
  const qformCode = validCode(opts.qformCode) ?? validCode(m.qformCode) ?? validCode(m.sformCode) ?? 1;
  const extensions = opts.extensions ?? metaExtensions(vol);
  let extBytes = 0;
  for (const e of extensions) extBytes += Math.ceil((e.data.byteLength + 8) / 16) * 16;
  const headerSize = version === 1 ? NIFTI1_HEADER_SIZE : NIFTI2_HEADER_SIZE;
  const voxOffset = single ? headerSize + 4 + extBytes : 0;
  const mp = m.pixdim && m.pixdim.length === 8 ? m.pixdim : [1, 1, 1, 1, 1, 1, 1, 1];
  const intentP = m.intentP ?? [0, 0, 0];
  const h: NiftiHeader = {
    version, littleEndian: true, single,
    dimInfo: m.dimInfo ?? 0,
    dim,
    intentP1: intentP[0], intentP2: intentP[1], intentP3: intentP[2],
    intentCode: m.intentCode ?? 0,
    datatype: info.code, bitpix: info.bytes * 8,
    sliceStart: m.sliceStart ?? 0,
    pixdim: [q.qfac, q.zooms[0], q.zooms[1], q.zooms[2], mp[4], mp[5], mp[6], mp[7]],
    voxOffset,
    sclSlope: enc.slope, sclInter: enc.inter,
    sliceEnd: m.sliceEnd ?? 0, sliceCode: m.sliceCode ?? 0,
    xyztUnits: m.xyztUnits ?? 2, // NIFTI_UNITS_MM: the affine is in millimetres
    calMax: m.calMax ?? 0, calMin: m.calMin ?? 0,
    sliceDuration: m.sliceDuration ?? 0, toffset: m.toffset ?? 0,
    descrip: opts.descrip ?? m.descrip ?? '', auxFile: m.auxFile ?? '',
    qformCode, sformCode,
    quaternB: q.quaternB, quaternC: q.quaternC, quaternD: q.quaternD,
    qoffsetX: q.qoffsetX, qoffsetY: q.qoffsetY, qoffsetZ: q.qoffsetZ,
    srowX: [a[0], a[1], a[2], a[3]], srowY: [a[4], a[5], a[6], a[7]], srowZ: [a[8], a[9], a[10], a[11]],
    intentName: m.intentName ?? '',
  };
  const fixed = encodeHeader(h);
  const header = new Uint8Array(headerSize + 4 + extBytes);
  header.set(fixed);
  if (extensions.length > 0) {
    header[headerSize] = 1;
    const dv = new DataView(header.buffer);
    let pos = headerSize + 4;
    for (const e of extensions) {
      const esize = Math.ceil((e.data.byteLength + 8) / 16) * 16;
      dv.setInt32(pos, esize, true);
      dv.setInt32(pos + 4, e.code, true);
      header.set(e.data, pos + 8);
      pos += esize;
    }
  }
  return { header, data: enc.data };
}

/**
 * Encodes a volume as single-file NIfTI bytes (.nii; gzipped when
 * `gzip` is true). Sform and qform are both written (see writeNifti).
 */
export function encodeNifti(vol: Volume, opts: WriteNiftiOptions & { gzip?: boolean } = {}): Uint8Array {
  const { header, data } = encodeParts(vol, opts, true);
  const pieces = opts.gzip ? gzipParts([header, data], opts.compressLevel ?? DEFAULT_GZIP_LEVEL) : [header, data];
  return Buffer.concat(pieces.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}

/**
 * Writes a volume as NIfTI, format by extension: .nii, .nii.gz, or a
 * .hdr/.img pair (.hdr, .img, .img.gz). Always writes the sform AND a
 * qform (nearest rotation, qfac for left-handed affines, as nibabel), with
 * codes from `meta.nifti` or 1 (scanner). Writes are atomic.
 */
export function writeNifti(file: string, vol: Volume, opts: WriteNiftiOptions = {}): void {
  const lower = file.toLowerCase();
  if (lower.endsWith('.nii.gz') || lower.endsWith('.nii')) {
    const { header, data } = encodeParts(vol, opts, true);
    const gz = lower.endsWith('.gz');
    writeChunksAtomic(file, gz ? gzipParts([header, data], opts.compressLevel ?? DEFAULT_GZIP_LEVEL) : [header, data]);
    return;
  }
  if (PAIR_HDR.test(file) || PAIR_IMG.test(file)) {
    const stem = file.replace(PAIR_HDR, '').replace(PAIR_IMG, '');
    const gzImg = /\.img\.gz$/i.test(file);
    const { header, data } = encodeParts(vol, opts, false);
    const img = gzImg ? `${stem}.img.gz` : `${stem}.img`;
    // Image first: a reader never finds a header pointing at a missing image.
    writeChunksAtomic(img, gzImg ? gzipParts([data], opts.compressLevel ?? DEFAULT_GZIP_LEVEL) : [data]);
    writeFileAtomic(`${stem}.hdr`, header);
    return;
  }
  throw new Error(`writeNifti: ${file}: unknown NIfTI extension (use .nii, .nii.gz, .hdr, .img or .img.gz)`);
}

export const NIFTI_EXTENSIONS = ['.nii', '.nii.gz', '.hdr', '.hdr.gz', '.img', '.img.gz'] as const;

/** True when the path names a NIfTI file by extension. */
export function isNiftiPath(file: string): boolean {
  const lower = path.basename(file).toLowerCase();
  return NIFTI_EXTENSIONS.some((e) => lower.endsWith(e));
}
