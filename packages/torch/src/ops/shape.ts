// Shape manipulation: views (reshape, view, permute, squeeze, expand, ...),
// joining and splitting (cat, stack, split, chunk), flips and diagonals.
// Methods that take a size accept it as an array or as separate numbers,
// like PyTorch's x.view(2, 3) and x.view((2, 3)).
import { isDType, type DType } from '../dtype.js';
import { Tensor, callT, callTs, op } from '../tensor.js';
import type { Size } from './creation.js';

type SizeArgs = [readonly number[]] | number[];

function sizeArgs(name: string, args: SizeArgs): readonly number[] {
  const s = args.length === 1 && Array.isArray(args[0]) ? (args[0] as readonly number[]) : (args as number[]);
  for (const v of s) {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${name}(): sizes must be integers, got [${s.map(String).join(', ')}]`);
  }
  return s;
}

const list = (s: Size): readonly number[] => (typeof s === 'number' ? [s] : s);

export function reshape(input: Tensor, shape: Size): Tensor {
  return callT(op('reshape'), [input, list(shape)]);
}

/** A view with another shape (no copy; fails where reshape would copy) (Tensor.view). */
export function view(input: Tensor, shape: Size): Tensor {
  return callT(op('view'), [input, list(shape)]);
}

export function viewAs(input: Tensor, other: Tensor): Tensor {
  return callT(op('view_as'), [input, other]);
}

export function flatten(input: Tensor, startDim = 0, endDim = -1): Tensor {
  return callT(op('flatten', 'using_ints'), [input, startDim, endDim]);
}

export function ravel(input: Tensor): Tensor {
  return callT(op('ravel'), [input]);
}

/** Splits dim into sizes (one may be -1) (torch.unflatten). */
export function unflatten(input: Tensor, dim: number, sizes: readonly number[]): Tensor {
  return callT(op('unflatten', 'int'), [input, dim, sizes]);
}

export function permute(input: Tensor, dims: readonly number[]): Tensor {
  return callT(op('permute'), [input, dims]);
}

export function transpose(input: Tensor, dim0: number, dim1: number): Tensor {
  return callT(op('transpose', 'int'), [input, dim0, dim1]);
}
export const swapaxes = transpose;
export const swapdims = transpose;

/** Transposes a tensor of at most 2 dims (torch.t). */
export function t(input: Tensor): Tensor {
  return callT(op('t'), [input]);
}

/** Drops size-1 dims: all of them, or only dim (torch.squeeze). */
export function squeeze(input: Tensor, dim?: number | null): Tensor {
  return dim === undefined || dim === null ? callT(op('squeeze'), [input]) : callT(op('squeeze', 'dim'), [input, dim]);
}

export function unsqueeze(input: Tensor, dim: number): Tensor {
  return callT(op('unsqueeze'), [input, dim]);
}

/** Broadcasts size-1 dims to sizes (-1 keeps a dim) without copying (Tensor.expand). */
export function expand(input: Tensor, sizes: Size): Tensor {
  return callT(op('expand'), [input, list(sizes)]);
}

export function expandAs(input: Tensor, other: Tensor): Tensor {
  return callT(op('expand_as'), [input, other]);
}

export function broadcastTo(input: Tensor, shape: Size): Tensor {
  return callT(op('broadcast_to'), [input, list(shape)]);
}

export function broadcastTensors(...tensors: Tensor[]): Tensor[] {
  return callTs(op('broadcast_tensors'), [tensors]);
}

/** The shape that shapes broadcast to (torch.broadcast_shapes). */
export function broadcastShapes(...shapes: Size[]): number[] {
  const lists = shapes.map(list);
  const n = Math.max(0, ...lists.map((s) => s.length));
  const out: number[] = new Array(n).fill(1);
  for (const s of lists) {
    for (let i = 0; i < s.length; i++) {
      const k = n - s.length + i;
      const v = s[i];
      if (v === out[k] || v === 1) continue;
      if (out[k] !== 1) throw new RangeError(`broadcastShapes(): shapes [${lists.map((x) => `[${x.join(', ')}]`).join(', ')}] are not broadcastable at dim ${k}`);
      out[k] = v;
    }
  }
  return out;
}

/** Tiles the tensor repeats[i] times along each dim (Tensor.repeat). */
export function repeat(input: Tensor, repeats: Size): Tensor {
  return callT(op('repeat'), [input, list(repeats)]);
}

export function tile(input: Tensor, dims: Size): Tensor {
  return callT(op('tile'), [input, list(dims)]);
}

/** Repeats each element (along dim, or of the flattened input) (torch.repeat_interleave). */
export function repeatInterleave(input: Tensor, repeats: number | Tensor, dim?: number | null, options: { outputSize?: number } = {}): Tensor {
  const kw = { output_size: options.outputSize ?? null };
  if (repeats instanceof Tensor) return callT(op('repeat_interleave', 'self_Tensor'), [input, repeats, dim ?? null], kw);
  return callT(op('repeat_interleave', 'self_int'), [input, repeats, dim ?? null], kw);
}

export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors)) throw new TypeError('cat(): expected an array of tensors');
  return callT(op('cat'), [tensors, dim]);
}
export const concat = cat;

export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors)) throw new TypeError('stack(): expected an array of tensors');
  return callT(op('stack'), [tensors, dim]);
}

export function hstack(tensors: readonly Tensor[]): Tensor {
  return callT(op('hstack'), [tensors]);
}

export function vstack(tensors: readonly Tensor[]): Tensor {
  return callT(op('vstack'), [tensors]);
}

/** Views of equal chunks of splitSize (the last may be smaller), or of the given sizes (torch.split). */
export function split(input: Tensor, splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  if (typeof splitSizeOrSections === 'number') return callTs(op('split', 'Tensor'), [input, splitSizeOrSections, dim]);
  return callTs(op('split_with_sizes'), [input, splitSizeOrSections, dim]);
}

/** At most `chunks` views of equal size along dim (torch.chunk). */
export function chunk(input: Tensor, chunks: number, dim = 0): Tensor[] {
  return callTs(op('chunk'), [input, chunks, dim]);
}

/** The slices along dim, without that dim (torch.unbind). */
export function unbind(input: Tensor, dim = 0): Tensor[] {
  return callTs(op('unbind', 'int'), [input, dim]);
}

export function flip(input: Tensor, dims: Size): Tensor {
  return callT(op('flip'), [input, list(dims)]);
}

/** Rotates elements along dims, wrapping around; without dims, over the flattened tensor (torch.roll). */
export function roll(input: Tensor, shifts: Size, dims: Size = []): Tensor {
  return callT(op('roll'), [input, list(shifts), list(dims)]);
}

/** Rotates by 90° k times in the plane of dims (torch.rot90). */
export function rot90(input: Tensor, k = 1, dims: readonly number[] = [0, 1]): Tensor {
  return callT(op('rot90'), [input, k, dims]);
}

/** A view of `length` elements from `start` along dim (torch.narrow). */
export function narrow(input: Tensor, dim: number, start: number, length: number): Tensor {
  return callT(op('narrow'), [input, dim, start, length]);
}

/** The view at `index` along dim, without that dim (torch.select). */
export function select(input: Tensor, dim: number, index: number): Tensor {
  return callT(op('select', 'int'), [input, dim, index]);
}

export function movedim(input: Tensor, source: Size, destination: Size): Tensor {
  return callT(op('movedim', 'intlist'), [input, list(source), list(destination)]);
}
export const moveaxis = movedim;

/** The diagonal of a matrix as a vector, or a matrix with a vector on its diagonal (torch.diag). */
export function diag(input: Tensor, diagonal = 0): Tensor {
  return callT(op('diag'), [input, diagonal]);
}

/** A view of a diagonal, moved to the last dim (torch.diagonal). */
export function diagonal(input: Tensor, offset = 0, dim1 = 0, dim2 = 1): Tensor {
  return callT(op('diagonal'), [input, offset, dim1, dim2]);
}

export function diagEmbed(input: Tensor, offset = 0, dim1 = -2, dim2 = -1): Tensor {
  return callT(op('diag_embed'), [input, offset, dim1, dim2]);
}

/** The upper triangle (j - i >= diagonal) of the last two dims, zeros elsewhere (torch.triu). */
export function triu(input: Tensor, diagonal = 0): Tensor {
  return callT(op('triu'), [input, diagonal]);
}

export function tril(input: Tensor, diagonal = 0): Tensor {
  return callT(op('tril'), [input, diagonal]);
}

/** Coordinate grids from 1-D tensors; indexing 'ij' (default, as PyTorch) or 'xy' (torch.meshgrid). */
export function meshgrid(tensors: readonly Tensor[], options?: { indexing?: 'ij' | 'xy' }): Tensor[];
export function meshgrid(...tensors: Tensor[]): Tensor[];
export function meshgrid(...args: unknown[]): Tensor[] {
  let tensors: readonly Tensor[];
  let indexing = 'ij';
  if (Array.isArray(args[0])) {
    tensors = args[0] as readonly Tensor[];
    indexing = (args[1] as { indexing?: string } | undefined)?.indexing ?? 'ij';
  } else {
    tensors = args as Tensor[];
  }
  return callTs(op('meshgrid', 'indexing'), [tensors], { indexing });
}

declare module '../tensor.js' {
  interface Tensor {
    reshape(shape: readonly number[]): Tensor;
    reshape(...shape: number[]): Tensor;
    view(shape: readonly number[]): Tensor;
    view(...shape: number[]): Tensor;
    /** Reinterprets the bytes as another dtype of the same size. */
    view(dtype: DType): Tensor;
    viewAs(other: Tensor): Tensor;
    reshapeAs(other: Tensor): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    ravel(): Tensor;
    unflatten(dim: number, sizes: readonly number[]): Tensor;
    permute(dims: readonly number[]): Tensor;
    permute(...dims: number[]): Tensor;
    transpose(dim0: number, dim1: number): Tensor;
    swapaxes(dim0: number, dim1: number): Tensor;
    t(): Tensor;
    /** The transpose of the last two dims (Tensor.mT). */
    readonly mT: Tensor;
    /** All dims reversed (Tensor.T). */
    readonly T: Tensor;
    squeeze(dim?: number | null): Tensor;
    squeeze_(dim?: number | null): this;
    unsqueeze(dim: number): Tensor;
    unsqueeze_(dim: number): this;
    expand(sizes: readonly number[]): Tensor;
    expand(...sizes: number[]): Tensor;
    expandAs(other: Tensor): Tensor;
    broadcastTo(shape: Size): Tensor;
    repeat(repeats: readonly number[]): Tensor;
    repeat(...repeats: number[]): Tensor;
    tile(dims: Size): Tensor;
    repeatInterleave(repeats: number | Tensor, dim?: number | null, options?: { outputSize?: number }): Tensor;
    split(splitSizeOrSections: number | readonly number[], dim?: number): Tensor[];
    chunk(chunks: number, dim?: number): Tensor[];
    unbind(dim?: number): Tensor[];
    flip(dims: readonly number[]): Tensor;
    flip(...dims: number[]): Tensor;
    roll(shifts: Size, dims?: Size): Tensor;
    rot90(k?: number, dims?: readonly number[]): Tensor;
    narrow(dim: number, start: number, length: number): Tensor;
    select(dim: number, index: number): Tensor;
    /** The view start:end:step along dim (aten::slice); end is exclusive, negative values count from the end. */
    slice(dim?: number, start?: number | null, end?: number | null, step?: number): Tensor;
    movedim(source: Size, destination: Size): Tensor;
    moveaxis(source: Size, destination: Size): Tensor;
    diag(diagonal?: number): Tensor;
    diagonal(offset?: number, dim1?: number, dim2?: number): Tensor;
    diagEmbed(offset?: number, dim1?: number, dim2?: number): Tensor;
    triu(diagonal?: number): Tensor;
    triu_(diagonal?: number): this;
    tril(diagonal?: number): Tensor;
    tril_(diagonal?: number): this;
    /** Sliding windows of `size` with `step` along dimension, as a new last dim (Tensor.unfold). */
    unfold(dimension: number, size: number, step: number): Tensor;
    /** Cast to other's dtype (Tensor.type_as). */
    typeAs(other: Tensor): Tensor;
  }
}

const proto = Tensor.prototype;
proto.reshape = function (this: Tensor, ...shape: SizeArgs) { return reshape(this, sizeArgs('reshape', shape)); };
proto.view = function (this: Tensor, ...shape: SizeArgs | [DType]) {
  if (shape.length === 1 && isDType(shape[0])) return callT(op('view', 'dtype'), [this, shape[0]]);
  return view(this, sizeArgs('view', shape as SizeArgs));
} as Tensor['view'];
proto.viewAs = function (other) { return viewAs(this, other); };
proto.reshapeAs = function (other) { return callT(op('reshape_as'), [this, other]); };
proto.flatten = function (startDim, endDim) { return flatten(this, startDim, endDim); };
proto.ravel = function () { return ravel(this); };
proto.unflatten = function (dim, sizes) { return unflatten(this, dim, sizes); };
proto.permute = function (this: Tensor, ...dims: SizeArgs) { return permute(this, sizeArgs('permute', dims)); };
proto.transpose = function (dim0, dim1) { return transpose(this, dim0, dim1); };
proto.swapaxes = proto.transpose;
proto.t = function () { return t(this); };
Object.defineProperty(proto, 'mT', { get(this: Tensor) { return callT(op('mT'), [this]); }, configurable: true });
Object.defineProperty(proto, 'T', { get(this: Tensor) { return callT(op('numpy_T'), [this]); }, configurable: true });
proto.squeeze = function (dim) { return squeeze(this, dim); };
proto.squeeze_ = function (dim) {
  if (dim === undefined || dim === null) op('squeeze_').inplace([this]);
  else op('squeeze_', 'dim').inplace([this, dim]);
  return this;
};
proto.unsqueeze = function (dim) { return unsqueeze(this, dim); };
proto.unsqueeze_ = function (dim) { op('unsqueeze_').inplace([this, dim]); return this; };
proto.expand = function (this: Tensor, ...sizes: SizeArgs) { return expand(this, sizeArgs('expand', sizes)); };
proto.expandAs = function (other) { return expandAs(this, other); };
proto.broadcastTo = function (shape) { return broadcastTo(this, shape); };
proto.repeat = function (this: Tensor, ...repeats: SizeArgs) { return repeat(this, sizeArgs('repeat', repeats)); };
proto.tile = function (dims) { return tile(this, dims); };
proto.repeatInterleave = function (repeats, dim, options) { return repeatInterleave(this, repeats, dim, options); };
proto.split = function (s, dim) { return split(this, s, dim); };
proto.chunk = function (chunks, dim) { return chunk(this, chunks, dim); };
proto.unbind = function (dim) { return unbind(this, dim); };
proto.flip = function (this: Tensor, ...dims: SizeArgs) { return flip(this, sizeArgs('flip', dims)); };
proto.roll = function (shifts, dims) { return roll(this, shifts, dims); };
proto.rot90 = function (k, dims) { return rot90(this, k, dims); };
proto.narrow = function (dim, start, length) { return narrow(this, dim, start, length); };
proto.select = function (dim, index) { return select(this, dim, index); };
proto.slice = function (dim = 0, start = null, end = null, step = 1) { return callT(op('slice', 'Tensor'), [this, dim, start, end, step]); };
proto.movedim = function (source, destination) { return movedim(this, source, destination); };
proto.moveaxis = proto.movedim;
proto.diag = function (d) { return diag(this, d); };
proto.diagonal = function (offset, dim1, dim2) { return diagonal(this, offset, dim1, dim2); };
proto.diagEmbed = function (offset, dim1, dim2) { return diagEmbed(this, offset, dim1, dim2); };
proto.triu = function (d) { return triu(this, d); };
proto.triu_ = function (d = 0) { op('triu_').inplace([this, d]); return this; };
proto.tril = function (d) { return tril(this, d); };
proto.tril_ = function (d = 0) { op('tril_').inplace([this, d]); return this; };
proto.unfold = function (dimension, size, step) { return callT(op('unfold'), [this, dimension, size, step]); };
proto.typeAs = function (other) { return callT(op('type_as'), [this, other]); };
