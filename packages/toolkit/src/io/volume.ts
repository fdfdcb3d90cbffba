// Volume: voxel data with its geometry, the unit every reader returns and
// every writer takes. Geometry is one 4×4 affine (voxel → RAS millimetres).
//
// Memory layout follows NIfTI: the first voxel index i varies fastest, then
// j, then k, then the channel. So `toTensor()` is a plain reshape to
// [C, nk, nj, ni] (the "ZYX" order of SimpleITK and nnU-Net) without a copy
// of the layout, and readers never transpose.
import * as torch from '@labelwise/torch';
import { orientationCodes } from './orientation.js';
import { type Affine, type Vec3, affineDirection, affineOrigin, affineSpacing, applyAffine, composeAffine, identityAffine, invert4, matmul4 } from './affine.js';

export type VoxelArray =
  | Float32Array | Float64Array
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array;

export type VoxelType = 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64';

export interface VolumeInit {
  data: VoxelArray;
  /** Spatial sizes [ni, nj, nk]; a 2D image has nk = 1. */
  dims: readonly number[];
  /** Channels (or time points) stored after the spatial block; default 1. */
  channels?: number;
  affine?: Affine;
  /** Free-form provenance: source path, format, header fields worth keeping. */
  meta?: Record<string, unknown>;
}

export function voxelTypeOf(a: VoxelArray): VoxelType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint16Array) return 'uint16';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint32Array) return 'uint32';
  if (a instanceof BigInt64Array) return 'int64';
  return 'uint64';
}

export function allocVoxels(type: VoxelType, n: number): VoxelArray {
  switch (type) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'int8': return new Int8Array(n);
    case 'uint8': return new Uint8Array(n);
    case 'int16': return new Int16Array(n);
    case 'uint16': return new Uint16Array(n);
    case 'int32': return new Int32Array(n);
    case 'uint32': return new Uint32Array(n);
    case 'int64': return new BigInt64Array(n);
    case 'uint64': return new BigUint64Array(n);
  }
}

export class Volume {
  readonly data: VoxelArray;
  readonly dims: Vec3;
  readonly channels: number;
  readonly affine: Affine;
  readonly meta: Record<string, unknown>;

  constructor(init: VolumeInit) {
    const d = init.dims;
    if (d.length < 1 || d.length > 3) throw new Error(`Volume: dims must have 1 to 3 spatial sizes, got [${d.join(', ')}]`);
    const dims: Vec3 = [d[0], d[1] ?? 1, d[2] ?? 1];
    for (const n of dims) if (!Number.isInteger(n) || n < 1) throw new Error(`Volume: dims must be positive integers, got [${d.join(', ')}]`);
    const channels = init.channels ?? 1;
    if (!Number.isInteger(channels) || channels < 1) throw new Error(`Volume: channels must be a positive integer, got ${channels}`);
    const expected = dims[0] * dims[1] * dims[2] * channels;
    if (init.data.length !== expected) {
      throw new Error(`Volume: data has ${init.data.length} voxels, expected ${expected} for dims [${dims.join(', ')}] × ${channels} channel(s)`);
    }
    const affine = init.affine ?? identityAffine();
    if (affine.length !== 16) throw new Error(`Volume: affine must have 16 entries (row-major 4×4), got ${affine.length}`);
    for (const v of affine) if (!Number.isFinite(v)) throw new Error('Volume: affine has a non-finite entry');
    this.data = init.data;
    this.dims = dims;
    this.channels = channels;
    this.affine = Float64Array.from(affine);
    this.meta = { ...(init.meta ?? {}) };
  }

  get voxelType(): VoxelType { return voxelTypeOf(this.data); }
  get numVoxels(): number { return this.dims[0] * this.dims[1] * this.dims[2]; }
  get spacing(): Vec3 { return affineSpacing(this.affine); }
  get origin(): Vec3 { return affineOrigin(this.affine); }
  /** Row-major 3×3 direction cosines (columns: voxel axes in RAS). */
  get direction(): number[] { return affineDirection(this.affine); }
  /** nibabel-style orientation codes, e.g. "RAS", "LPS". */
  get orientation(): string { return orientationCodes(this.affine); }

  voxelToWorld(ijk: readonly number[]): Vec3 { return applyAffine(this.affine, ijk); }
  worldToVoxel(xyz: readonly number[]): Vec3 { return applyAffine(invert4(this.affine), xyz); }

  /** Index of voxel (i, j, k) in channel c within `data`. */
  index(i: number, j: number, k: number, c = 0): number {
    return i + this.dims[0] * (j + this.dims[1] * (k + this.dims[2] * c));
  }

  /** Value at a voxel as a number (64-bit integers converted). */
  at(i: number, j: number, k: number, c = 0): number {
    return Number(this.data[this.index(i, j, k, c)]);
  }

  /** One channel as its own volume sharing this geometry (a view, no copy). */
  channel(c: number): Volume {
    if (!Number.isInteger(c) || c < 0 || c >= this.channels) throw new Error(`Volume.channel: index ${c} out of range [0, ${this.channels})`);
    const n = this.numVoxels;
    return this.withData(this.data.subarray(c * n, (c + 1) * n) as VoxelArray, 1);
  }

  /** Same geometry and meta, new voxel data. */
  withData(data: VoxelArray, channels = 1, meta?: Record<string, unknown>): Volume {
    return new Volume({ data, dims: this.dims, channels, affine: this.affine, meta: meta ?? this.meta });
  }

  /**
   * The voxels as a tensor [C, nk, nj, ni] (channel dim kept even when C = 1).
   * Types libtorch lacks are widened: uint16 → int32, uint32/uint64 → int64
   * (uint64 values above 2^63 - 1 are rejected).
   */
  toTensor(dtype?: torch.DType): torch.Tensor {
    const shape = [this.channels, this.dims[2], this.dims[1], this.dims[0]];
    const t = torch.fromTypedArray(tensorCompatible(this.data), shape);
    if (!dtype || dtype === t.dtype) return t;
    const out = t.to(dtype);
    t.dispose();
    return out;
  }

  /** Wraps a tensor [C, nk, nj, ni] or [nk, nj, ni] in `like`'s geometry. */
  static fromTensor(t: torch.Tensor, like: { affine: Affine; meta?: Record<string, unknown> }, meta?: Record<string, unknown>): Volume {
    const s = t.shape;
    if (s.length !== 3 && s.length !== 4) throw new Error(`Volume.fromTensor: expected a tensor [C, Z, Y, X] or [Z, Y, X], got shape [${s.join(', ')}]`);
    const [c, nk, nj, ni] = s.length === 4 ? s : [1, ...s];
    const src = t.device === 'cpu' ? t : t.cpu();
    const data = src.contiguous().toTypedArray();
    if (src !== t) src.dispose();
    if (data instanceof Uint16Array) throw new Error('Volume.fromTensor: 16-bit float tensors must be converted to float32 first');
    return new Volume({ data: data as VoxelArray, dims: [ni, nj, nk], channels: c, affine: like.affine, meta: meta ?? like.meta });
  }

  static fromGeometry(data: VoxelArray, dims: readonly number[], spacing: readonly number[], origin: readonly number[] = [0, 0, 0], direction?: readonly number[], channels = 1): Volume {
    return new Volume({ data, dims, channels, affine: composeAffine(spacing, origin, direction) });
  }

  /** Affine of this volume after cropping to a box starting at voxel `start`. */
  shiftedAffine(start: readonly number[]): Affine {
    const t = identityAffine();
    t[3] = start[0] ?? 0; t[7] = start[1] ?? 0; t[11] = start[2] ?? 0;
    return matmul4(this.affine, t);
  }
}

function tensorCompatible(a: VoxelArray): torch.TypedArray {
  if (a instanceof Uint16Array) return Int32Array.from(a);
  if (a instanceof Uint32Array) return BigInt64Array.from(a, (v) => BigInt(v));
  if (a instanceof BigUint64Array) {
    const out = new BigInt64Array(a.length);
    for (let i = 0; i < a.length; i++) {
      if (a[i] > 0x7fffffffffffffffn) throw new Error(`Volume.toTensor: uint64 voxel ${i} (${a[i]}) does not fit in int64`);
      out[i] = a[i];
    }
    return out;
  }
  return a;
}
