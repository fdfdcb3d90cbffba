// NIfTI-1 / NIfTI-2 header: binary layout, datatype table, and the
// qform/sform ↔ affine conversions (matching nibabel's get_best_affine and
// set_qform so our affines agree with what Python users see).
import { type Affine, identityAffine } from './affine.js';
import { polarOrthonormal3 } from './orientation.js';

export const NIFTI1_HEADER_SIZE = 348;
export const NIFTI2_HEADER_SIZE = 540;
/** Header + 4-byte extension flag: smallest vox_offset of a single file. */
export const NIFTI1_MIN_OFFSET = 352;
export const NIFTI2_MIN_OFFSET = 544;

export type NiftiStorage = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64' | 'RGB24' | 'RGBA32';

interface DatatypeInfo { code: number; name: NiftiStorage; bytes: number; /** bytes of one scalar element */ elem: number; /** values per voxel (3 for RGB24) */ components: number }

const SUPPORTED: readonly DatatypeInfo[] = [
  { code: 2, name: 'uint8', bytes: 1, elem: 1, components: 1 },
  { code: 4, name: 'int16', bytes: 2, elem: 2, components: 1 },
  { code: 8, name: 'int32', bytes: 4, elem: 4, components: 1 },
  { code: 16, name: 'float32', bytes: 4, elem: 4, components: 1 },
  { code: 64, name: 'float64', bytes: 8, elem: 8, components: 1 },
  { code: 128, name: 'RGB24', bytes: 3, elem: 1, components: 3 },
  { code: 256, name: 'int8', bytes: 1, elem: 1, components: 1 },
  { code: 512, name: 'uint16', bytes: 2, elem: 2, components: 1 },
  { code: 768, name: 'uint32', bytes: 4, elem: 4, components: 1 },
  { code: 1024, name: 'int64', bytes: 8, elem: 8, components: 1 },
  { code: 1280, name: 'uint64', bytes: 8, elem: 8, components: 1 },
  { code: 2304, name: 'RGBA32', bytes: 4, elem: 1, components: 4 },
];

const UNSUPPORTED_NAMES: Record<number, string> = {
  0: 'unknown', 1: 'binary (1 bit)', 32: 'complex64', 1536: 'float128', 1792: 'complex128', 2048: 'complex256',
};

export function datatypeByCode(code: number): DatatypeInfo | undefined {
  return SUPPORTED.find((d) => d.code === code);
}

export function datatypeByName(name: NiftiStorage): DatatypeInfo {
  const d = SUPPORTED.find((x) => x.name === name);
  if (!d) throw new Error(`NIfTI: unknown datatype name '${name}'`);
  return d;
}

export function supportedDatatypesText(): string {
  return SUPPORTED.map((d) => `${d.code} (${d.name})`).join(', ');
}

export function unsupportedDatatypeMessage(file: string, code: number): string {
  const what = UNSUPPORTED_NAMES[code] ?? 'not a NIfTI datatype code';
  return `${file}: NIfTI field 'datatype' = ${code} (${what}) is not supported; supported values: ${supportedDatatypesText()}`;
}

/** Every header field we read or write, in natural units (numbers, strings). */
export interface NiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  /** true: single file (n+1 / n+2); false: .hdr/.img pair (ni1 / ni2). */
  single: boolean;
  dimInfo: number;
  /** dim[0..7]; dim[0] is the number of dimensions. */
  dim: number[];
  intentP1: number; intentP2: number; intentP3: number;
  intentCode: number;
  datatype: number;
  bitpix: number;
  sliceStart: number;
  /** pixdim[0..7]; pixdim[0] is qfac. */
  pixdim: number[];
  voxOffset: number;
  sclSlope: number; sclInter: number;
  sliceEnd: number; sliceCode: number;
  xyztUnits: number;
  calMax: number; calMin: number;
  sliceDuration: number; toffset: number;
  descrip: string; auxFile: string;
  qformCode: number; sformCode: number;
  quaternB: number; quaternC: number; quaternD: number;
  qoffsetX: number; qoffsetY: number; qoffsetZ: number;
  srowX: number[]; srowY: number[]; srowZ: number[];
  intentName: string;
}

export interface HeaderProbe { version: 1 | 2; littleEndian: boolean; size: number }

/**
 * Identifies a NIfTI header from its first 4 bytes (sizeof_hdr), which also
 * gives the byte order. Throws a "not NIfTI" error naming the file otherwise.
 */
export function probeHeader(bytes: Uint8Array, file: string): HeaderProbe {
  if (bytes.byteLength < 4) throw new Error(`${file}: not a NIfTI file (only ${bytes.byteLength} bytes, a header needs ${NIFTI1_HEADER_SIZE})`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = dv.getInt32(0, true);
  const be = dv.getInt32(0, false);
  let probe: HeaderProbe | undefined;
  if (le === NIFTI1_HEADER_SIZE) probe = { version: 1, littleEndian: true, size: NIFTI1_HEADER_SIZE };
  else if (be === NIFTI1_HEADER_SIZE) probe = { version: 1, littleEndian: false, size: NIFTI1_HEADER_SIZE };
  else if (le === NIFTI2_HEADER_SIZE) probe = { version: 2, littleEndian: true, size: NIFTI2_HEADER_SIZE };
  else if (be === NIFTI2_HEADER_SIZE) probe = { version: 2, littleEndian: false, size: NIFTI2_HEADER_SIZE };
  if (!probe) {
    const hint = bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0 && bytes[3] === 1 ? ' (looks like an MGH/MGZ file)' : '';
    throw new Error(`${file}: not a NIfTI file: field 'sizeof_hdr' = ${le} (expected ${NIFTI1_HEADER_SIZE} for NIfTI-1 or ${NIFTI2_HEADER_SIZE} for NIfTI-2)${hint}`);
  }
  if (bytes.byteLength < probe.size) {
    throw new Error(`${file}: truncated NIfTI-${probe.version} header: ${bytes.byteLength} bytes, expected ${probe.size}`);
  }
  return probe;
}

function readString(bytes: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && bytes[end] !== 0) end++;
  return Buffer.from(bytes.buffer, bytes.byteOffset + off, end - off).toString('latin1');
}

function safeInt64(dv: DataView, off: number, le: boolean, file: string, field: string): number {
  const v = dv.getBigInt64(off, le);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new Error(`${file}: NIfTI-2 field '${field}' = ${v} is out of range`);
  }
  return Number(v);
}

/** Parses the fixed-size header (no extensions). Validates the magic string. */
export function parseHeader(bytes: Uint8Array, file: string): NiftiHeader {
  const probe = probeHeader(bytes, file);
  const le = probe.littleEndian;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (probe.version === 1) {
    const magic = readString(bytes, 344, 4);
    if (magic !== 'n+1' && magic !== 'ni1') {
      throw new Error(`${file}: not NIfTI: field 'magic' = ${JSON.stringify(magic)} (expected "n+1" or "ni1"); a 348-byte header without it is an Analyze 7.5 file, which is not supported`);
    }
    const f32 = (o: number) => dv.getFloat32(o, le);
    const i16 = (o: number) => dv.getInt16(o, le);
    return {
      version: 1, littleEndian: le, single: magic === 'n+1',
      dimInfo: bytes[39],
      dim: Array.from({ length: 8 }, (_, i) => i16(40 + 2 * i)),
      intentP1: f32(56), intentP2: f32(60), intentP3: f32(64),
      intentCode: i16(68), datatype: i16(70), bitpix: i16(72), sliceStart: i16(74),
      pixdim: Array.from({ length: 8 }, (_, i) => f32(76 + 4 * i)),
      voxOffset: f32(108), sclSlope: f32(112), sclInter: f32(116),
      sliceEnd: i16(120), sliceCode: bytes[122], xyztUnits: bytes[123],
      calMax: f32(124), calMin: f32(128), sliceDuration: f32(132), toffset: f32(136),
      descrip: readString(bytes, 148, 80), auxFile: readString(bytes, 228, 24),
      qformCode: i16(252), sformCode: i16(254),
      quaternB: f32(256), quaternC: f32(260), quaternD: f32(264),
      qoffsetX: f32(268), qoffsetY: f32(272), qoffsetZ: f32(276),
      srowX: [0, 1, 2, 3].map((i) => f32(280 + 4 * i)),
      srowY: [0, 1, 2, 3].map((i) => f32(296 + 4 * i)),
      srowZ: [0, 1, 2, 3].map((i) => f32(312 + 4 * i)),
      intentName: readString(bytes, 328, 16),
    };
  }
  const magic = readString(bytes, 4, 4);
  if (magic !== 'n+2' && magic !== 'ni2') {
    throw new Error(`${file}: not NIfTI: field 'magic' = ${JSON.stringify(magic)} (expected "n+2" or "ni2" for a 540-byte NIfTI-2 header)`);
  }
  const f64 = (o: number) => dv.getFloat64(o, le);
  const i64 = (o: number, field: string) => safeInt64(dv, o, le, file, field);
  const i32 = (o: number) => dv.getInt32(o, le);
  return {
    version: 2, littleEndian: le, single: magic === 'n+2',
    datatype: dv.getInt16(12, le), bitpix: dv.getInt16(14, le),
    dim: Array.from({ length: 8 }, (_, i) => i64(16 + 8 * i, `dim[${i}]`)),
    intentP1: f64(80), intentP2: f64(88), intentP3: f64(96),
    pixdim: Array.from({ length: 8 }, (_, i) => f64(104 + 8 * i)),
    voxOffset: i64(168, 'vox_offset'),
    sclSlope: f64(176), sclInter: f64(184), calMax: f64(192), calMin: f64(200),
    sliceDuration: f64(208), toffset: f64(216),
    sliceStart: i64(224, 'slice_start'), sliceEnd: i64(232, 'slice_end'),
    descrip: readString(bytes, 240, 80), auxFile: readString(bytes, 320, 24),
    qformCode: i32(344), sformCode: i32(348),
    quaternB: f64(352), quaternC: f64(360), quaternD: f64(368),
    qoffsetX: f64(376), qoffsetY: f64(384), qoffsetZ: f64(392),
    srowX: [0, 1, 2, 3].map((i) => f64(400 + 8 * i)),
    srowY: [0, 1, 2, 3].map((i) => f64(432 + 8 * i)),
    srowZ: [0, 1, 2, 3].map((i) => f64(464 + 8 * i)),
    sliceCode: i32(496), xyztUnits: i32(500), intentCode: i32(504),
    intentName: readString(bytes, 508, 16),
    dimInfo: bytes[524],
  };
}

function writeString(bytes: Uint8Array, off: number, len: number, s: string): void {
  const b = Buffer.from(s, 'latin1');
  bytes.set(b.subarray(0, len - 1 < b.length ? len - 1 : b.length), off);
}

/** Encodes a header (little-endian) into `headerSize` bytes. */
export function encodeHeader(h: NiftiHeader): Uint8Array {
  const size = h.version === 1 ? NIFTI1_HEADER_SIZE : NIFTI2_HEADER_SIZE;
  const bytes = new Uint8Array(size);
  const dv = new DataView(bytes.buffer);
  const le = true;
  dv.setInt32(0, size, le);
  if (h.version === 1) {
    const f32 = (o: number, v: number) => dv.setFloat32(o, v, le);
    const i16 = (o: number, v: number) => dv.setInt16(o, v, le);
    bytes[38] = 0x72; // 'r': "regular", as nibabel and niftilib write
    bytes[39] = h.dimInfo & 0xff;
    h.dim.forEach((v, i) => i16(40 + 2 * i, v));
    f32(56, h.intentP1); f32(60, h.intentP2); f32(64, h.intentP3);
    i16(68, h.intentCode); i16(70, h.datatype); i16(72, h.bitpix); i16(74, h.sliceStart);
    h.pixdim.forEach((v, i) => f32(76 + 4 * i, v));
    f32(108, h.voxOffset); f32(112, h.sclSlope); f32(116, h.sclInter);
    i16(120, h.sliceEnd); bytes[122] = h.sliceCode & 0xff; bytes[123] = h.xyztUnits & 0xff;
    f32(124, h.calMax); f32(128, h.calMin); f32(132, h.sliceDuration); f32(136, h.toffset);
    writeString(bytes, 148, 80, h.descrip); writeString(bytes, 228, 24, h.auxFile);
    i16(252, h.qformCode); i16(254, h.sformCode);
    f32(256, h.quaternB); f32(260, h.quaternC); f32(264, h.quaternD);
    f32(268, h.qoffsetX); f32(272, h.qoffsetY); f32(276, h.qoffsetZ);
    h.srowX.forEach((v, i) => f32(280 + 4 * i, v));
    h.srowY.forEach((v, i) => f32(296 + 4 * i, v));
    h.srowZ.forEach((v, i) => f32(312 + 4 * i, v));
    writeString(bytes, 328, 16, h.intentName);
    writeString(bytes, 344, 4, h.single ? 'n+1' : 'ni1');
    return bytes;
  }
  const f64 = (o: number, v: number) => dv.setFloat64(o, v, le);
  const i64 = (o: number, v: number) => dv.setBigInt64(o, BigInt(Math.trunc(v)), le);
  const i32 = (o: number, v: number) => dv.setInt32(o, v, le);
  writeString(bytes, 4, 4, h.single ? 'n+2' : 'ni2');
  bytes.set([0x0d, 0x0a, 0x1a, 0x0a], 8); // NIfTI-2 newline-mangling check bytes
  dv.setInt16(12, h.datatype, le); dv.setInt16(14, h.bitpix, le);
  h.dim.forEach((v, i) => i64(16 + 8 * i, v));
  f64(80, h.intentP1); f64(88, h.intentP2); f64(96, h.intentP3);
  h.pixdim.forEach((v, i) => f64(104 + 8 * i, v));
  i64(168, h.voxOffset);
  f64(176, h.sclSlope); f64(184, h.sclInter); f64(192, h.calMax); f64(200, h.calMin);
  f64(208, h.sliceDuration); f64(216, h.toffset);
  i64(224, h.sliceStart); i64(232, h.sliceEnd);
  writeString(bytes, 240, 80, h.descrip); writeString(bytes, 320, 24, h.auxFile);
  i32(344, h.qformCode); i32(348, h.sformCode);
  f64(352, h.quaternB); f64(360, h.quaternC); f64(368, h.quaternD);
  f64(376, h.qoffsetX); f64(384, h.qoffsetY); f64(392, h.qoffsetZ);
  h.srowX.forEach((v, i) => f64(400 + 8 * i, v));
  h.srowY.forEach((v, i) => f64(432 + 8 * i, v));
  h.srowZ.forEach((v, i) => f64(464 + 8 * i, v));
  i32(496, h.sliceCode); i32(500, h.xyztUnits); i32(504, h.intentCode);
  writeString(bytes, 508, 16, h.intentName);
  bytes[524] = h.dimInfo & 0xff;
  return bytes;
}

// ---------------------------------------------------------------- transforms

/** Valid xform codes (NIfTI: unknown, scanner, aligned, talairach, mni, template). */
const XFORM_CODES = new Set([0, 1, 2, 3, 4, 5]);

/** nibabel resets an unknown qform/sform code to 0 on load ("fix" level 30). */
export function effectiveXformCode(code: number): number {
  return XFORM_CODES.has(code) ? code : 0;
}

/** Quaternion (w from b, c, d) → rotation, as nibabel's fillpositive + quat2mat. */
function quaternToMatrix(b: number, c: number, d: number, version: 1 | 2, file: string): number[] {
  const w2 = 1 - (b * b + c * c + d * d);
  // nibabel allows tiny negative w² from float rounding (3 eps of the stored precision).
  const thresh = -3 * (version === 1 ? 2 ** -23 : 2 ** -52);
  let w: number;
  if (w2 < 0) {
    if (w2 < thresh) throw new Error(`${file}: NIfTI fields 'quatern_b/c/d' = (${b}, ${c}, ${d}) do not form a unit quaternion (b²+c²+d² = ${1 - w2} > 1)`);
    w = 0;
  } else {
    w = Math.sqrt(w2);
  }
  const nq = w * w + b * b + c * c + d * d;
  if (nq < 1e-300) return [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const s = 2 / nq;
  const X = b * s, Y = c * s, Z = d * s;
  const wX = w * X, wY = w * Y, wZ = w * Z;
  const xX = b * X, xY = b * Y, xZ = b * Z;
  const yY = c * Y, yZ = c * Z, zZ = d * Z;
  return [
    1 - (yY + zZ), xY - wZ, xZ + wY,
    xY + wZ, 1 - (xX + zZ), yZ - wX,
    xZ - wY, yZ + wX, 1 - (xX + yY),
  ];
}

/** pixdim[0] as nibabel uses it: anything but ±1 is "fixed" to 1 on load. */
export function effectiveQfac(pixdim0: number): 1 | -1 {
  return pixdim0 === -1 ? -1 : 1;
}

export function qformAffine(h: NiftiHeader, file: string): Affine {
  const R = quaternToMatrix(h.quaternB, h.quaternC, h.quaternD, h.version, file);
  const vox = [h.pixdim[1], h.pixdim[2], h.pixdim[3]];
  for (let i = 0; i < 3; i++) {
    if (!Number.isFinite(vox[i])) throw new Error(`${file}: NIfTI field 'pixdim[${i + 1}]' = ${vox[i]} is not finite`);
    // nibabel rejects negative voxel sizes here; niftilib takes |pixdim|. We follow niftilib so the file still loads.
    vox[i] = Math.abs(vox[i]);
  }
  vox[2] *= effectiveQfac(h.pixdim[0]);
  const a = identityAffine();
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) a[r * 4 + c] = R[r * 3 + c] * vox[c];
  a[3] = h.qoffsetX; a[7] = h.qoffsetY; a[11] = h.qoffsetZ;
  return a;
}

export function sformAffine(h: NiftiHeader): Affine {
  const a = identityAffine();
  for (let c = 0; c < 4; c++) { a[c] = h.srowX[c]; a[4 + c] = h.srowY[c]; a[8 + c] = h.srowZ[c]; }
  return a;
}

/** nibabel's shape_zoom_affine with x flipped: the affine when no xform is set. */
export function baseAffine(h: NiftiHeader): Affine {
  const ndim = Math.max(0, Math.min(7, h.dim[0]));
  const shape = [1, 1, 1];
  const zooms = [1, 1, 1];
  for (let i = 0; i < Math.min(ndim, 3); i++) { shape[i] = h.dim[i + 1]; zooms[i] = h.pixdim[i + 1]; }
  zooms[0] *= -1;
  const a = identityAffine();
  for (let i = 0; i < 3; i++) {
    a[i * 4 + i] = zooms[i];
    a[i * 4 + 3] = -((shape[i] - 1) / 2) * zooms[i];
  }
  return a;
}

export type AffineSource = 'sform' | 'qform' | 'base';

/** nibabel's Nifti1Header.get_best_affine: sform if coded, else qform if coded, else base. */
export function bestAffine(h: NiftiHeader, file: string): { affine: Affine; source: AffineSource } {
  let out: { affine: Affine; source: AffineSource };
  if (effectiveXformCode(h.sformCode) !== 0) out = { affine: sformAffine(h), source: 'sform' };
  else if (effectiveXformCode(h.qformCode) !== 0) out = { affine: qformAffine(h, file), source: 'qform' };
  else out = { affine: baseAffine(h), source: 'base' };
  for (let i = 0; i < 12; i++) {
    if (!Number.isFinite(out.affine[i])) {
      const field = out.source === 'sform' ? `srow_${'xyz'[Math.floor(i / 4)]}[${i % 4}]` : out.source === 'qform' ? 'qoffset/pixdim' : 'pixdim';
      throw new Error(`${file}: NIfTI ${out.source} has a non-finite entry (field '${field}')`);
    }
  }
  return out;
}

export interface QformParams {
  quaternB: number; quaternC: number; quaternD: number;
  qoffsetX: number; qoffsetY: number; qoffsetZ: number;
  qfac: 1 | -1;
  zooms: [number, number, number];
}

/**
 * nibabel's set_qform: voxel sizes from column norms, qfac = sign of det,
 * shears stripped by taking the nearest orthonormal matrix (polar
 * decomposition), then the quaternion with w ≥ 0.
 */
export function affineToQform(a: Affine): QformParams {
  const zooms: [number, number, number] = [0, 0, 0];
  const R: number[] = new Array<number>(9).fill(0);
  for (let c = 0; c < 3; c++) {
    zooms[c] = Math.hypot(a[c], a[4 + c], a[8 + c]);
    for (let r = 0; r < 3; r++) R[r * 3 + c] = zooms[c] === 0 ? 0 : a[r * 4 + c] / zooms[c];
  }
  fillDegenerateColumns(R);
  const det = R[0] * (R[4] * R[8] - R[5] * R[7]) - R[1] * (R[3] * R[8] - R[5] * R[6]) + R[2] * (R[3] * R[7] - R[4] * R[6]);
  let qfac: 1 | -1 = 1;
  if (!(det > 0)) {
    qfac = -1;
    R[2] *= -1; R[5] *= -1; R[8] *= -1;
  }
  const Q = polarOrthonormal3(R);
  const [, x, y, z] = rotationToQuaternion(Q);
  return { quaternB: x, quaternC: y, quaternD: z, qoffsetX: a[3], qoffsetY: a[7], qoffsetZ: a[11], qfac, zooms };
}

/** A zero column (zero voxel size) gets a unit vector orthogonal to the others so R stays a rotation. */
function fillDegenerateColumns(R: number[]): void {
  const col = (c: number) => [R[c], R[3 + c], R[6 + c]];
  const isZero = (v: number[]) => v[0] === 0 && v[1] === 0 && v[2] === 0;
  for (let c = 0; c < 3; c++) {
    if (!isZero(col(c))) continue;
    const u = col((c + 1) % 3);
    const v = col((c + 2) % 3);
    let n = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
    if (isZero(n)) {
      // Pick any world axis not yet used.
      n = [0, 0, 0];
      const used = [0, 1, 2].filter((r) => Math.abs(u[r]) > 0.5 || Math.abs(v[r]) > 0.5);
      n[[0, 1, 2].find((r) => !used.includes(r)) ?? c] = 1;
    }
    const len = Math.hypot(n[0], n[1], n[2]);
    for (let r = 0; r < 3; r++) R[r * 3 + c] = n[r] / len;
  }
}

/** Quaternion [w, x, y, z] (w ≥ 0) of a proper rotation matrix (row-major 3×3). */
export function rotationToQuaternion(m: number[]): [number, number, number, number] {
  const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = m;
  const tr = m00 + m11 + m22;
  let w: number, x: number, y: number, z: number;
  // Shepperd's method: divide by the largest of the four candidates for stability.
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    w = 0.25 * s; x = (m21 - m12) / s; y = (m02 - m20) / s; z = (m10 - m01) / s;
  } else if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    w = (m21 - m12) / s; x = 0.25 * s; y = (m01 + m10) / s; z = (m02 + m20) / s;
  } else if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    w = (m02 - m20) / s; x = (m01 + m10) / s; y = 0.25 * s; z = (m12 + m21) / s;
  } else {
    const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
    w = (m10 - m01) / s; x = (m02 + m20) / s; y = (m12 + m21) / s; z = 0.25 * s;
  }
  const n = Math.hypot(w, x, y, z);
  w /= n; x /= n; y /= n; z /= n;
  if (w < 0) { w = -w; x = -x; y = -y; z = -z; }
  return [w, x, y, z];
}
