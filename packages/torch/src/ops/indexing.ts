// Python-style indexing: x[...] is t.index([...]) and x[...] = v is
// t.indexPut_([...], v). (gather / scatter / masked ops are in gather.ts.)
//
// index() follows PyTorch's own algorithm (at::indexing::get_item / set_item):
// integers, slices, null (new axis) and '...' are applied one by one as views
// (select / slice / unsqueeze), tensor indices are collected per position and
// handed to aten::index / aten::index_put_ at the end, which gives NumPy's
// advanced-indexing rules, including where the indexed dims land.
import { type Scalar, Tensor, callT, op } from '../tensor.js';
import { type PyFloat, tensor as makeTensor } from './creation.js';

/** A Python slice start:stop:step; null parts take Python's defaults. */
export class Slice {
  constructor(readonly start: number | null = null, readonly stop: number | null = null, readonly step: number | null = null) {}
  toString(): string {
    const p = (v: number | null) => (v === null ? '' : String(v));
    return `${p(this.start)}:${p(this.stop)}${this.step === null ? '' : `:${this.step}`}`;
  }
}

/** Python's slice(): slice(stop) or slice(start, stop, step?); negative values count from the end. */
export function slice(stop: number | null): Slice;
export function slice(start: number | null, stop: number | null, step?: number | null): Slice;
export function slice(a: number | null, b?: number | null, c?: number | null): Slice {
  return b === undefined ? new Slice(null, a, null) : new Slice(a, b, c ?? null);
}

/**
 * One item of an index spec, as in Python's x[...]: a number selects (and
 * drops the dim), null inserts a new axis, '...' stands for the remaining dims,
 * ':' or a slice string ('1:3', '::2', '-2:') or a Slice takes a strided
 * view, an integer tensor or number array indexes by position (advanced
 * indexing), a bool tensor or boolean array is a mask, and true / false add a
 * size-1 dim kept or emptied.
 */
export type IndexItem = number | boolean | null | string | Slice | Tensor | readonly number[] | readonly boolean[] | readonly (readonly number[])[];

const SLICE_RE = /^\s*(-?\d+)?\s*:\s*(-?\d+)?\s*(?::\s*(-?\d+)?\s*)?$/;

type Parsed =
  | { kind: 'int'; value: number }
  | { kind: 'slice'; start: number | null; stop: number | null; step: number }
  | { kind: 'none' }
  | { kind: 'ellipsis' }
  | { kind: 'bool'; value: boolean }
  | { kind: 'tensor'; t: Tensor; owned: boolean };

function describe(item: unknown): string {
  if (item instanceof Tensor) return `Tensor(${item.dtype}[${item.shape.join(', ')}])`;
  if (typeof item === 'string') return `'${item}'`;
  try {
    return JSON.stringify(item) ?? String(item);
  } catch {
    return String(item);
  }
}

function parseItem(name: string, item: unknown, pos: number, device: string): Parsed {
  const bad = (why: string) => new TypeError(`${name}(): bad index at position ${pos}: ${describe(item)} ${why}`);
  if (item === null) return { kind: 'none' };
  if (item === undefined) throw bad('(use null for a new axis)');
  if (typeof item === 'boolean') return { kind: 'bool', value: item };
  if (typeof item === 'number') {
    if (!Number.isInteger(item)) throw bad('(indices must be integers)');
    return { kind: 'int', value: item };
  }
  if (typeof item === 'string') {
    if (item.trim() === '...') return { kind: 'ellipsis' };
    const m = SLICE_RE.exec(item);
    if (!m) throw bad("(expected '...' or a slice such as ':', '1:3', '::2', '-2:')");
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (step <= 0) throw new RangeError(`${name}(): step must be greater than zero, got ${step} at position ${pos}`);
    return { kind: 'slice', start: m[1] === undefined ? null : Number(m[1]), stop: m[2] === undefined ? null : Number(m[2]), step };
  }
  if (item instanceof Slice) {
    for (const v of [item.start, item.stop, item.step]) if (v !== null && !Number.isInteger(v)) throw bad('(slice bounds must be integers or null)');
    const step = item.step ?? 1;
    if (step <= 0) throw new RangeError(`${name}(): step must be greater than zero, got ${step} at position ${pos}`);
    return { kind: 'slice', start: item.start, stop: item.stop, step };
  }
  if (item instanceof Tensor) return { kind: 'tensor', t: item, owned: false };
  if (Array.isArray(item)) {
    // A JS array is an index tensor, as a Python list is: int64, or bool if all booleans.
    let t: Tensor;
    try {
      t = makeTensor(item as never, { device, dtype: item.length === 0 ? 'int64' : undefined });
    } catch (e) {
      throw bad(`(${(e as Error).message})`);
    }
    if (t.dtype !== 'int64' && t.dtype !== 'bool') {
      t.dispose();
      throw bad('(array indices must hold integers or booleans)');
    }
    return { kind: 'tensor', t, owned: true };
  }
  throw bad('(expected a number, null, a slice string, a Slice, a Tensor or an array)');
}

const isMaskType = (t: Tensor): boolean => t.dtype === 'bool' || t.dtype === 'uint8';

// A true/false index adds a size-1 dim that it keeps or empties.
const boolIndex = (value: boolean, device: string): Tensor =>
  callT(op('zeros'), [[value ? 1 : 0]], { dtype: 'int64', device });

interface Sliced {
  result: Tensor;
  indices: (Tensor | null)[];
  /** Tensors created along the way, to dispose once the caller is done. */
  temps: Tensor[];
}

// at::indexing::impl::applySlicing: basic indices as views, tensor indices collected.
function applySlicing(name: string, self: Tensor, spec: readonly IndexItem[]): Sliced {
  const device = self.device;
  const temps: Tensor[] = [];
  const parsed: Parsed[] = [];
  try {
    spec.forEach((item, i) => parsed.push(parseItem(name, item, i, device)));
  } catch (e) {
    for (const p of parsed) if (p.kind === 'tensor' && p.owned) p.t.dispose();
    throw e;
  }
  for (const p of parsed) if (p.kind === 'tensor' && p.owned) temps.push(p.t);
  const cleanup = () => { for (const t of temps) t.dispose(); };

  let specified = 0;
  let ellipses = 0;
  for (const p of parsed) {
    if (p.kind === 'tensor') specified += isMaskType(p.t) ? p.t.ndim : 1;
    else if (p.kind === 'int' || p.kind === 'slice') specified++;
    else if (p.kind === 'ellipsis') ellipses++;
  }
  const ndim = self.ndim;
  if (ellipses > 1) {
    cleanup();
    throw new RangeError(`${name}(): an index can only have a single ellipsis ('...')`);
  }
  if (specified > ndim) {
    cleanup();
    if (ndim === 0 && parsed.some((p) => p.kind === 'int')) throw new RangeError(`${name}(): invalid index of a 0-d tensor; use item() to read its value`);
    throw new RangeError(`${name}(): too many indices for tensor of dimension ${ndim} (got ${specified})`);
  }

  const indices: (Tensor | null)[] = [];
  const record = (t: Tensor, dim: number) => {
    while (indices.length < dim) indices.push(null);
    indices[dim] = t;
    indices.length = dim + 1;
  };
  let result = self;
  let dim = 0;
  const step = (next: Tensor) => {
    if (result !== self) temps.push(result);
    result = next;
  };
  const selectAt = (index: number, realDim: number) => {
    const shape = result.shape;
    if (shape.length === 0) throw new RangeError(`${name}(): invalid index of a 0-d tensor; use item() to read its value`);
    const size = shape[dim];
    if (index < -size || index >= size) throw new RangeError(`${name}(): index ${index} is out of bounds for dimension ${realDim} with size ${size}`);
    step(callT(op('select', 'int'), [result, dim, index]));
  };
  try {
    parsed.forEach((p, i) => {
      switch (p.kind) {
        case 'int':
          selectAt(p.value, i);
          break;
        case 'slice':
          // A full ':' is the tensor itself (PyTorch skips the slice too).
          if (!(p.start === null && p.stop === null && p.step === 1)) step(callT(op('slice', 'Tensor'), [result, dim, p.start, p.stop, p.step]));
          dim++;
          break;
        case 'ellipsis':
          dim += ndim - specified;
          break;
        case 'none':
          step(callT(op('unsqueeze'), [result, dim]));
          dim++;
          break;
        case 'bool': {
          step(callT(op('unsqueeze'), [result, dim]));
          const idx = boolIndex(p.value, device);
          temps.push(idx);
          record(idx, dim++);
          break;
        }
        case 'tensor': {
          const t = p.t;
          if (t.ndim === 0 && !t.dtype.startsWith('float') && !t.dtype.startsWith('complex') && t.dtype !== 'bfloat16') {
            if (isMaskType(t)) {
              step(callT(op('unsqueeze'), [result, dim]));
              const idx = boolIndex(t.item() !== 0, device);
              temps.push(idx);
              record(idx, dim++);
            } else {
              selectAt(t.item(), i);
            }
          } else {
            record(t, dim++);
          }
          break;
        }
      }
    });
  } catch (e) {
    if (result !== self) temps.push(result);
    cleanup();
    throw e;
  }
  return { result, indices, temps };
}

/** x[spec] (Python's __getitem__): a view for basic indices, a copy with tensor indices. */
export function index(input: Tensor, spec: IndexItem | readonly IndexItem[]): Tensor {
  const items = normalizeSpec(spec);
  const { result, indices, temps } = applySlicing('index', input, items);
  try {
    if (indices.length > 0) return callT(op('index', 'Tensor'), [result, indices]);
    // Always a new tensor object, so that disposing it leaves the input alone.
    return result === input ? callT(op('alias'), [input]) : result;
  } finally {
    for (const t of temps) t.dispose();
    if (indices.length > 0 && result !== input) result.dispose();
  }
}

// A single non-array item is a one-item spec (x[0], x[mask]); a number array is one index tensor.
function normalizeSpec(spec: IndexItem | readonly IndexItem[]): readonly IndexItem[] {
  if (!Array.isArray(spec)) return [spec as IndexItem];
  return spec as readonly IndexItem[];
}

function stripLeadingOnes(t: Tensor): Tensor {
  const s = t.shape;
  let k = 0;
  while (k < s.length && s[k] === 1) k++;
  return k === 0 ? t : callT(op('view'), [t, s.slice(k)]);
}

// at::indexing::copy_to: same shape copies, a 0-d value fills, else broadcast.
function copyTo(dst: Tensor, src: Tensor): void {
  const ds = dst.shape;
  const ss = src.shape;
  if (ds.length === ss.length && ds.every((v, i) => v === ss[i])) {
    op('copy_').inplace([dst, src]);
  } else if (src.ndim === 0 && src.device === 'cpu') {
    op('fill_', 'Tensor').inplace([dst, src]);
  } else {
    const v = stripLeadingOnes(src);
    const e = callT(op('expand'), [v, ds]);
    op('copy_').inplace([dst, e]);
    e.dispose();
    if (v !== src) v.dispose();
  }
}

/**
 * x[spec] = value (Python's __setitem__), in place. value is a tensor
 * (broadcast to the indexed shape) or a number cast to this tensor's dtype.
 * With accumulate, values add up (repeated tensor indices accumulate too).
 */
export function indexPut_(input: Tensor, spec: IndexItem | readonly IndexItem[], value: Tensor | Scalar | PyFloat, accumulate = false): Tensor {
  const items = normalizeSpec(spec);
  // x[False] = v writes nothing (PyTorch skips even the shape check).
  if (items.length === 1 && items[0] === false) return input;
  const v = value instanceof Tensor ? value : callT(op('scalar_tensor'), [value], { dtype: input.dtype, device: input.device });
  if (items.length === 1 && items[0] === true && !accumulate) {
    // x[True] = v is a copy into a new leading axis, as in at::indexing::set_item.
    const u = callT(op('unsqueeze'), [input, 0]);
    try {
      copyTo(u, v);
    } finally {
      u.dispose();
      if (v !== value) v.dispose();
    }
    return input;
  }
  const { result, indices, temps } = applySlicing('indexPut_', input, items);
  try {
    if (indices.length === 0) {
      if (accumulate) {
        const e = callT(op('expand'), [stripLeadingOnes(v), result.shape]);
        op('add_', 'Tensor').inplace([result, e]);
        e.dispose();
      } else {
        copyTo(result, v);
      }
    } else {
      const vs = stripLeadingOnes(v);
      op('index_put_').inplace([result, indices, vs, accumulate]);
      if (vs !== v) vs.dispose();
    }
  } finally {
    for (const t of temps) t.dispose();
    if (result !== input) result.dispose();
    if (v !== value) v.dispose();
  }
  return input;
}

/** Out-of-place indexPut_: a copy of input with x[spec] = value (cf. torch.index_put). */
export function indexPut(input: Tensor, spec: IndexItem | readonly IndexItem[], value: Tensor | Scalar | PyFloat, accumulate = false): Tensor {
  const out = callT(op('clone'), [input]);
  return indexPut_(out, spec, value, accumulate);
}

declare module '../tensor.js' {
  interface Tensor {
    /** Python's x[...]: t.index([0, ':', null, '1:3', idx]) is x[0, :, None, 1:3, idx]. */
    index(spec: IndexItem | readonly IndexItem[]): Tensor;
    /** Python's x[...] = value, in place; returns this. */
    indexPut_(spec: IndexItem | readonly IndexItem[], value: Tensor | Scalar | PyFloat, accumulate?: boolean): this;
    indexPut(spec: IndexItem | readonly IndexItem[], value: Tensor | Scalar | PyFloat, accumulate?: boolean): Tensor;
  }
}

const proto = Tensor.prototype;
proto.index = function (spec) { return index(this, spec); };
proto.indexPut_ = function (spec, value, accumulate) { indexPut_(this, spec, value, accumulate); return this; };
proto.indexPut = function (spec, value, accumulate) { return indexPut(this, spec, value, accumulate); };
