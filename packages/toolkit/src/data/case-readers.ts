// The bridge between dataset cases and the io readers: read a channel file,
// read a label as an integer class map (decoding 2D mask encodings), read an
// HDF5 case of the seeds' layouts.
import type { Affine, Vec3 } from '../io/affine.js';
import { readH5Case } from '../io/hdf5.js';
import { type MaskEncoding, decodeMask } from '../io/mask-encoding.js';
import { isNiftiPath, readNiftiHeader } from '../io/nifti.js';
import { readImage } from '../io/read.js';
import { type VoxelArray, Volume } from '../io/volume.js';
import type { CaseLoaderRef } from './dataset.js';

export async function readCaseImage(file: string): Promise<Volume> {
  return readImage(file);
}

/**
 * A label volume as an integer class map: float labels (BraTS stores them as
 * float32) become integers after checking every value is integral; multi-
 * channel masks (RGB PNG with equal channels) collapse to one channel.
 */
export function toLabelVolume(v: Volume, file: string): Volume {
  let vol = v;
  if (vol.channels > 1) {
    const n = vol.numVoxels;
    for (let c = 1; c < vol.channels; c++) {
      for (let i = 0; i < n; i++) {
        if (vol.data[i] !== vol.data[c * n + i]) throw new Error(`${file}: label has ${vol.channels} channels that differ (voxel ${i}: channel 0 = ${Number(vol.data[i])}, channel ${c} = ${Number(vol.data[c * n + i])}); give a mask encoding or a single-channel class map`);
      }
    }
    vol = vol.channel(0);
  }
  const d = vol.data;
  let min = Infinity;
  let max = -Infinity;
  const isInt = !(d instanceof Float32Array || d instanceof Float64Array);
  for (let i = 0; i < d.length; i++) {
    const x = Number(d[i]);
    if (!isInt && !Number.isInteger(x)) {
      throw new Error(`${file}: label value ${x} at voxel ${i} is not an integer (label maps must hold integer class values${Number.isNaN(x) ? '; NaN found' : ''})`);
    }
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if (min < 0) throw new Error(`${file}: label has negative value ${min} (class values must be ≥ 0)`);
  if (d instanceof Uint8Array) return vol;
  let out: VoxelArray;
  if (max <= 255) out = new Uint8Array(d.length);
  else if (max <= 32767) out = new Int16Array(d.length);
  else if (max <= 2147483647) out = new Int32Array(d.length);
  else throw new Error(`${file}: label value ${max} is too large for a class map`);
  for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  return vol.withData(out, 1, { ...vol.meta });
}

export async function readCaseLabel(file: string, encoding?: string | MaskEncoding): Promise<Volume> {
  const raw = await readImage(file);
  if (!encoding) return toLabelVolume(raw, file);
  const decoded = decodeMask(raw, encoding, { file });
  if (decoded.channels > 1) {
    throw new Error(`${file}: mask encoding ${typeof encoding === 'string' ? `'${encoding}'` : JSON.stringify(encoding)} gives ${decoded.channels} overlapping label channels; a dataset label must be one class map: use an exclusive encoding (e.g. 'fundusRimCup') and region labels such as {"disc": [1, 2], "cup": 2}`);
  }
  return toLabelVolume(decoded, file);
}

/** Point maps are label-like integer volumes. */
export async function readCasePointsMap(file: string): Promise<Volume> {
  return toLabelVolume(await readImage(file), file);
}

/** Axis layout of each seed HDF5 layout (LA stores nibabel [X, Y, Z] arrays untransposed). */
const H5_AXES = { acdc: 'zyx', stdr: 'zyx', la: 'xyz' } as const;

export async function readLoaderCase(file: string, ref: CaseLoaderRef, withLabel: boolean): Promise<{ image: Volume; label?: Volume }> {
  const r = await readH5Case(file, { layout: H5_AXES[ref.layout], label: withLabel ? 'label' : null });
  const out: { image: Volume; label?: Volume } = { image: r.image };
  if (withLabel) {
    if (!r.label) throw new Error(`${file}: HDF5 case has no "label" dataset`);
    out.label = toLabelVolume(r.label, `${file}:label`);
  }
  return out;
}

/** What geometry checks need from a file, read without its voxels when the format allows. */
export interface FileGeometry {
  dims: Vec3;
  channels: number;
  affine: Affine;
}

/** NIfTI: header only (no decompression of the data); other formats: a full read. */
export async function readCaseGeometry(file: string): Promise<FileGeometry> {
  if (isNiftiPath(file)) {
    const h = readNiftiHeader(file);
    const s = h.shape;
    let channels = 1;
    for (let a = 3; a < s.length; a++) channels *= s[a];
    if (h.datatype === 'RGB24') channels *= 3;
    else if (h.datatype === 'RGBA32') channels *= 4;
    return { dims: [s[0] ?? 1, s[1] ?? 1, s[2] ?? 1], channels, affine: h.affine };
  }
  const v = await readImage(file);
  return { dims: [...v.dims] as Vec3, channels: v.channels, affine: v.affine };
}
