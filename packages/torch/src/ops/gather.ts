// Index-based gathers and scatters: index_select, gather, scatter (and its
// reductions), masked fill / select / scatter, nonzero, take, index_add / fill / copy.
import { type Scalar, Tensor, callT, callTs, op } from '../tensor.js';
import type { PyFloat } from './creation.js';

export function indexSelect(input: Tensor, dim: number, index: Tensor): Tensor {
  return callT(op('index_select'), [input, dim, index]);
}

/** out[i][j] = input[index[i][j]][j] for dim 0, and so on (torch.gather). */
export function gather(input: Tensor, dim: number, index: Tensor, options: { sparseGrad?: boolean } = {}): Tensor {
  return callT(op('gather'), [input, dim, index], { sparse_grad: options.sparseGrad ?? false });
}

export type ScatterReduce = 'add' | 'multiply';

function scatterOp(inplace: boolean, src: Tensor | Scalar | PyFloat, reduce: ScatterReduce | undefined): [string, string] {
  const base = inplace ? 'scatter_' : 'scatter';
  if (src instanceof Tensor) return [base, reduce === undefined ? 'src' : 'reduce'];
  return [base, reduce === undefined ? 'value' : 'value_reduce'];
}

/** Writes src (a tensor, or one value) at the positions index gives along dim (torch.scatter). */
export function scatter(input: Tensor, dim: number, index: Tensor, src: Tensor | Scalar | PyFloat, options: { reduce?: ScatterReduce } = {}): Tensor {
  const [name, ov] = scatterOp(false, src, options.reduce);
  return callT(op(name, ov), [input, dim, index, src], options.reduce === undefined ? undefined : { reduce: options.reduce });
}

/** scatter that sums values landing on the same position (torch.scatter_add). */
export function scatterAdd(input: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  return callT(op('scatter_add'), [input, dim, index, src]);
}

export type ScatterReduceMode = 'sum' | 'prod' | 'mean' | 'amax' | 'amin';

/** scatter with a reduction over colliding values (torch.scatter_reduce). */
export function scatterReduce(input: Tensor, dim: number, index: Tensor, src: Tensor, reduce: ScatterReduceMode, options: { includeSelf?: boolean } = {}): Tensor {
  return callT(op('scatter_reduce', 'two'), [input, dim, index, src, reduce], { include_self: options.includeSelf ?? true });
}

/** value where mask is true (mask broadcasts) (torch.masked_fill). */
export function maskedFill(input: Tensor, mask: Tensor, value: Tensor | Scalar | PyFloat): Tensor {
  return callT(op('masked_fill', value instanceof Tensor ? 'Tensor' : 'Scalar'), [input, mask, value]);
}

/** The elements where mask is true, as a 1-D tensor (torch.masked_select). */
export function maskedSelect(input: Tensor, mask: Tensor): Tensor {
  return callT(op('masked_select'), [input, mask]);
}

/** Copies consecutive elements of source to where mask is true (Tensor.masked_scatter). */
export function maskedScatter(input: Tensor, mask: Tensor, source: Tensor): Tensor {
  return callT(op('masked_scatter'), [input, mask, source]);
}

/** Indices of the nonzero elements: an [n, ndim] tensor, or one tensor per dim with asTuple (torch.nonzero). */
export function nonzero(input: Tensor, options?: { asTuple?: false }): Tensor;
export function nonzero(input: Tensor, options: { asTuple: true }): Tensor[];
export function nonzero(input: Tensor, options: { asTuple?: boolean } = {}): Tensor | Tensor[] {
  return options.asTuple ? callTs(op('nonzero_numpy'), [input]) : callT(op('nonzero'), [input]);
}

export function argwhere(input: Tensor): Tensor {
  return callT(op('argwhere'), [input]);
}

/** Elements at flat (row-major) indices (torch.take). */
export function take(input: Tensor, index: Tensor): Tensor {
  return callT(op('take'), [input, index]);
}

export function takeAlongDim(input: Tensor, indices: Tensor, dim?: number | null): Tensor {
  return callT(op('take_along_dim'), [input, indices, dim ?? null]);
}

/** Adds alpha * source[i] to input[index[i]] along dim (Tensor.index_add). */
export function indexAdd(input: Tensor, dim: number, index: Tensor, source: Tensor, options: { alpha?: Scalar | PyFloat } = {}): Tensor {
  return callT(op('index_add'), [input, dim, index, source], { alpha: options.alpha ?? 1 });
}

export function indexFill(input: Tensor, dim: number, index: Tensor, value: Tensor | Scalar | PyFloat): Tensor {
  return callT(op('index_fill', value instanceof Tensor ? 'int_Tensor' : 'int_Scalar'), [input, dim, index, value]);
}

export function indexCopy(input: Tensor, dim: number, index: Tensor, source: Tensor): Tensor {
  return callT(op('index_copy'), [input, dim, index, source]);
}

declare module '../tensor.js' {
  interface Tensor {
    indexSelect(dim: number, index: Tensor): Tensor;
    gather(dim: number, index: Tensor, options?: { sparseGrad?: boolean }): Tensor;
    scatter(dim: number, index: Tensor, src: Tensor | Scalar | PyFloat, options?: { reduce?: ScatterReduce }): Tensor;
    scatter_(dim: number, index: Tensor, src: Tensor | Scalar | PyFloat, options?: { reduce?: ScatterReduce }): this;
    scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor;
    scatterAdd_(dim: number, index: Tensor, src: Tensor): this;
    scatterReduce(dim: number, index: Tensor, src: Tensor, reduce: ScatterReduceMode, options?: { includeSelf?: boolean }): Tensor;
    scatterReduce_(dim: number, index: Tensor, src: Tensor, reduce: ScatterReduceMode, options?: { includeSelf?: boolean }): this;
    maskedFill(mask: Tensor, value: Tensor | Scalar | PyFloat): Tensor;
    maskedFill_(mask: Tensor, value: Tensor | Scalar | PyFloat): this;
    maskedSelect(mask: Tensor): Tensor;
    maskedScatter(mask: Tensor, source: Tensor): Tensor;
    maskedScatter_(mask: Tensor, source: Tensor): this;
    nonzero(options?: { asTuple?: false }): Tensor;
    nonzero(options: { asTuple: true }): Tensor[];
    argwhere(): Tensor;
    take(index: Tensor): Tensor;
    takeAlongDim(indices: Tensor, dim?: number | null): Tensor;
    indexAdd(dim: number, index: Tensor, source: Tensor, options?: { alpha?: Scalar | PyFloat }): Tensor;
    indexAdd_(dim: number, index: Tensor, source: Tensor, options?: { alpha?: Scalar | PyFloat }): this;
    indexFill(dim: number, index: Tensor, value: Tensor | Scalar | PyFloat): Tensor;
    indexFill_(dim: number, index: Tensor, value: Tensor | Scalar | PyFloat): this;
    indexCopy(dim: number, index: Tensor, source: Tensor): Tensor;
    indexCopy_(dim: number, index: Tensor, source: Tensor): this;
  }
}

const proto = Tensor.prototype;
proto.indexSelect = function (dim, idx) { return indexSelect(this, dim, idx); };
proto.gather = function (dim, idx, options) { return gather(this, dim, idx, options); };
proto.scatter = function (dim, idx, src, options) { return scatter(this, dim, idx, src, options); };
proto.scatter_ = function (dim, idx, src, options = {}) {
  const [name, ov] = scatterOp(true, src, options.reduce);
  op(name, ov).inplace([this, dim, idx, src], options.reduce === undefined ? undefined : { reduce: options.reduce });
  return this;
};
proto.scatterAdd = function (dim, idx, src) { return scatterAdd(this, dim, idx, src); };
proto.scatterAdd_ = function (dim, idx, src) { op('scatter_add_').inplace([this, dim, idx, src]); return this; };
proto.scatterReduce = function (dim, idx, src, reduce, options) { return scatterReduce(this, dim, idx, src, reduce, options); };
proto.scatterReduce_ = function (dim, idx, src, reduce, options = {}) {
  op('scatter_reduce_', 'two').inplace([this, dim, idx, src, reduce], { include_self: options.includeSelf ?? true });
  return this;
};
proto.maskedFill = function (mask, value) { return maskedFill(this, mask, value); };
proto.maskedFill_ = function (mask, value) { op('masked_fill_', value instanceof Tensor ? 'Tensor' : 'Scalar').inplace([this, mask, value]); return this; };
proto.maskedSelect = function (mask) { return maskedSelect(this, mask); };
proto.maskedScatter = function (mask, source) { return maskedScatter(this, mask, source); };
proto.maskedScatter_ = function (mask, source) { op('masked_scatter_').inplace([this, mask, source]); return this; };
proto.nonzero = function (this: Tensor, options: { asTuple?: boolean } = {}) { return nonzero(this, options as { asTuple: true }); } as Tensor['nonzero'];
proto.argwhere = function () { return argwhere(this); };
proto.take = function (idx) { return take(this, idx); };
proto.takeAlongDim = function (indices, dim) { return takeAlongDim(this, indices, dim); };
proto.indexAdd = function (dim, idx, source, options) { return indexAdd(this, dim, idx, source, options); };
proto.indexAdd_ = function (dim, idx, source, options = {}) { op('index_add_').inplace([this, dim, idx, source], { alpha: options.alpha ?? 1 }); return this; };
proto.indexFill = function (dim, idx, value) { return indexFill(this, dim, idx, value); };
proto.indexFill_ = function (dim, idx, value) { op('index_fill_', value instanceof Tensor ? 'int_Tensor' : 'int_Scalar').inplace([this, dim, idx, value]); return this; };
proto.indexCopy = function (dim, idx, source) { return indexCopy(this, dim, idx, source); };
proto.indexCopy_ = function (dim, idx, source) { op('index_copy_').inplace([this, dim, idx, source]); return this; };
