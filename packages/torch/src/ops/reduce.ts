// Reductions (sum, mean, max, std, norm, any, cumsum, ...) with dim / keepdim
// as in PyTorch. Reductions that PyTorch returns as (values, indices) named
// tuples return `{ values, indices }`.
import type { DType } from '../dtype.js';
import { Tensor, callT, callTs, op } from '../tensor.js';

export type Dims = number | readonly number[];

export interface ValuesIndices {
  values: Tensor;
  indices: Tensor;
}

type DTypeArg = DType | { dtype?: DType } | null | undefined;

const asList = (d: Dims): readonly number[] => (typeof d === 'number' ? [d] : d);
const dtypeOf = (d: DTypeArg): DType | null => (d === undefined || d === null ? null : typeof d === 'string' ? d : d.dtype ?? null);
const pair = (r: Tensor[]): ValuesIndices => ({ values: r[0], indices: r[1] });

function checkDim(name: string, dim: unknown): void {
  if (typeof dim !== 'number' || !Number.isInteger(dim)) throw new TypeError(`${name}(): dim must be an integer, got ${String(dim)}`);
}

export function sum(input: Tensor, dim?: Dims | null, keepdim = false, dtype?: DTypeArg): Tensor {
  if (dim === undefined || dim === null) return callT(op('sum'), [input], { dtype: dtypeOf(dtype) });
  return callT(op('sum', 'dim_IntList'), [input, asList(dim), keepdim], { dtype: dtypeOf(dtype) });
}

export function mean(input: Tensor, dim?: Dims | null, keepdim = false, dtype?: DTypeArg): Tensor {
  if (dim === undefined || dim === null) return callT(op('mean'), [input], { dtype: dtypeOf(dtype) });
  return callT(op('mean', 'dim'), [input, asList(dim), keepdim], { dtype: dtypeOf(dtype) });
}

/** sum treating NaN as zero (torch.nansum). */
export function nansum(input: Tensor, dim?: Dims | null, keepdim = false, dtype?: DTypeArg): Tensor {
  return callT(op('nansum'), [input, dim === undefined || dim === null ? null : asList(dim), keepdim], { dtype: dtypeOf(dtype) });
}

/** mean over the non-NaN values (torch.nanmean). */
export function nanmean(input: Tensor, dim?: Dims | null, keepdim = false, dtype?: DTypeArg): Tensor {
  return callT(op('nanmean'), [input, dim === undefined || dim === null ? null : asList(dim), keepdim], { dtype: dtypeOf(dtype) });
}

export function prod(input: Tensor, dim?: number | null, keepdim = false, dtype?: DTypeArg): Tensor {
  if (dim === undefined || dim === null) return callT(op('prod'), [input], { dtype: dtypeOf(dtype) });
  checkDim('prod', dim);
  return callT(op('prod', 'dim_int'), [input, dim, keepdim], { dtype: dtypeOf(dtype) });
}

/**
 * max(input): the largest value; max(input, dim, keepdim): `{ values, indices }`
 * along dim; max(input, other): the elementwise maximum (torch.max).
 */
export function max(input: Tensor): Tensor;
export function max(input: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function max(input: Tensor, other: Tensor): Tensor;
export function max(input: Tensor, dim?: number | Tensor, keepdim = false): Tensor | ValuesIndices {
  if (dim === undefined) return callT(op('max'), [input]);
  if (dim instanceof Tensor) return callT(op('max', 'other'), [input, dim]);
  checkDim('max', dim);
  return pair(callTs(op('max', 'dim'), [input, dim, keepdim]));
}

/** The counterpart of max (torch.min). */
export function min(input: Tensor): Tensor;
export function min(input: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function min(input: Tensor, other: Tensor): Tensor;
export function min(input: Tensor, dim?: number | Tensor, keepdim = false): Tensor | ValuesIndices {
  if (dim === undefined) return callT(op('min'), [input]);
  if (dim instanceof Tensor) return callT(op('min', 'other'), [input, dim]);
  checkDim('min', dim);
  return pair(callTs(op('min', 'dim'), [input, dim, keepdim]));
}

/** Maximum over one or more dims, all by default (torch.amax). */
export function amax(input: Tensor, dim: Dims = [], keepdim = false): Tensor {
  return callT(op('amax'), [input, asList(dim), keepdim]);
}

export function amin(input: Tensor, dim: Dims = [], keepdim = false): Tensor {
  return callT(op('amin'), [input, asList(dim), keepdim]);
}

/** Index of the maximum, over the flattened input when dim is omitted (torch.argmax). */
export function argmax(input: Tensor, dim?: number | null, keepdim = false): Tensor {
  return callT(op('argmax'), [input, dim ?? null, keepdim]);
}

export function argmin(input: Tensor, dim?: number | null, keepdim = false): Tensor {
  return callT(op('argmin'), [input, dim ?? null, keepdim]);
}

export interface VarOptions {
  dim?: Dims | null;
  /** Bessel's correction (default true: divide by N - 1). */
  unbiased?: boolean;
  /** Divide by N - correction; overrides unbiased. */
  correction?: number;
  keepdim?: boolean;
}

// std/var(input, dim?, unbiased?, keepdim?) with any trailing part as an options object.
function varArgs(dim: Dims | null | VarOptions | undefined, unbiased: boolean | VarOptions | undefined, keepdim: boolean | undefined): [readonly number[] | null, number, boolean] {
  let o: VarOptions = {};
  if (typeof dim === 'object' && dim !== null && !Array.isArray(dim)) o = dim as VarOptions;
  else {
    o.dim = dim as Dims | null | undefined;
    if (typeof unbiased === 'object') o = { ...unbiased, dim: o.dim };
    else {
      o.unbiased = unbiased;
      o.keepdim = keepdim;
    }
  }
  const correction = o.correction ?? ((o.unbiased ?? true) ? 1 : 0);
  return [o.dim === undefined || o.dim === null ? null : asList(o.dim), correction, o.keepdim ?? false];
}

/** Standard deviation, unbiased by default (torch.std). */
export function std(input: Tensor, dim?: Dims | null | VarOptions, unbiased?: boolean | VarOptions, keepdim?: boolean): Tensor {
  const [d, correction, kd] = varArgs(dim, unbiased, keepdim);
  return callT(op('std', 'correction'), [input, d], { correction, keepdim: kd });
}

function var_(input: Tensor, dim?: Dims | null | VarOptions, unbiased?: boolean | VarOptions, keepdim?: boolean): Tensor {
  const [d, correction, kd] = varArgs(dim, unbiased, keepdim);
  return callT(op('var', 'correction'), [input, d], { correction, keepdim: kd });
}
/** Variance, unbiased by default (torch.var). */
export { var_ as var };

/** [std, mean] in one pass (torch.std_mean). */
export function stdMean(input: Tensor, dim?: Dims | null | VarOptions, unbiased?: boolean | VarOptions, keepdim?: boolean): [Tensor, Tensor] {
  const [d, correction, kd] = varArgs(dim, unbiased, keepdim);
  return callTs(op('std_mean', 'correction'), [input, d], { correction, keepdim: kd }) as [Tensor, Tensor];
}

/** [var, mean] in one pass (torch.var_mean). */
export function varMean(input: Tensor, dim?: Dims | null | VarOptions, unbiased?: boolean | VarOptions, keepdim?: boolean): [Tensor, Tensor] {
  const [d, correction, kd] = varArgs(dim, unbiased, keepdim);
  return callTs(op('var_mean', 'correction'), [input, d], { correction, keepdim: kd }) as [Tensor, Tensor];
}

export type NormOrder = number | 'fro' | 'nuc';

/**
 * torch.norm: p a number (vector p-norm over dim, all dims by default),
 * 'fro' (Frobenius, the default) or 'nuc' (nuclear norm of matrices).
 */
export function norm(input: Tensor, p: NormOrder = 'fro', dim?: Dims | null, keepdim = false, dtype?: DTypeArg): Tensor {
  const dims = dim === undefined || dim === null ? null : asList(dim);
  const dt = dtypeOf(dtype);
  if (p === 'fro' || p === 'nuc') {
    if (dt !== null) throw new TypeError(`norm(): dtype is not supported with p='${p}'`);
    if (p === 'fro') return callT(op('frobenius_norm', 'dim'), [input, dims ?? [], keepdim]);
    return dims === null ? callT(op('nuclear_norm'), [input, keepdim]) : callT(op('nuclear_norm', 'dim'), [input, dims, keepdim]);
  }
  if (typeof p !== 'number') throw new RangeError(`norm(): p must be a number, 'fro' or 'nuc', got '${String(p)}'`);
  const all = dims ?? [...Array(input.ndim).keys()];
  if (dt !== null) return callT(op('norm', 'ScalarOpt_dim_dtype'), [input, p, all, keepdim], { dtype: dt });
  return callT(op('norm', 'ScalarOpt_dim'), [input, p, all, keepdim]);
}

/** log(sum(exp(x))) over dim, computed stably (torch.logsumexp). */
export function logsumexp(input: Tensor, dim: Dims, keepdim = false): Tensor {
  return callT(op('logsumexp'), [input, asList(dim), keepdim]);
}

/** Whether any element is true (nonzero), overall or along dim (torch.any). */
export function any(input: Tensor, dim?: number | null, keepdim = false): Tensor {
  if (dim === undefined || dim === null) return callT(op('any'), [input]);
  checkDim('any', dim);
  return callT(op('any', 'dim'), [input, dim, keepdim]);
}

export function all(input: Tensor, dim?: number | null, keepdim = false): Tensor {
  if (dim === undefined || dim === null) return callT(op('all'), [input]);
  checkDim('all', dim);
  return callT(op('all', 'dim'), [input, dim, keepdim]);
}

export function countNonzero(input: Tensor, dim?: Dims | null): Tensor {
  if (dim === undefined || dim === null) return callT(op('count_nonzero'), [input]);
  return callT(op('count_nonzero', 'dim_IntList'), [input, asList(dim)]);
}

/**
 * median(input): the lower median of all values; median(input, dim, keepdim):
 * `{ values, indices }` along dim (torch.median).
 */
export function median(input: Tensor): Tensor;
export function median(input: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function median(input: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices {
  if (dim === undefined) return callT(op('median'), [input]);
  checkDim('median', dim);
  return pair(callTs(op('median', 'dim'), [input, dim, keepdim]));
}

/** median ignoring NaN (torch.nanmedian). */
export function nanmedian(input: Tensor): Tensor;
export function nanmedian(input: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function nanmedian(input: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices {
  if (dim === undefined) return callT(op('nanmedian'), [input]);
  checkDim('nanmedian', dim);
  return pair(callTs(op('nanmedian', 'dim'), [input, dim, keepdim]));
}

/** The most frequent value along dim (torch.mode). */
export function mode(input: Tensor, dim = -1, keepdim = false): ValuesIndices {
  return pair(callTs(op('mode'), [input, dim, keepdim]));
}

/** The k-th smallest value along dim, k counting from 1 (torch.kthvalue). */
export function kthvalue(input: Tensor, k: number, dim = -1, keepdim = false): ValuesIndices {
  return pair(callTs(op('kthvalue'), [input, k, dim, keepdim]));
}

export function cumsum(input: Tensor, dim: number, dtype?: DTypeArg): Tensor {
  checkDim('cumsum', dim);
  return callT(op('cumsum'), [input, dim], { dtype: dtypeOf(dtype) });
}

export function cumprod(input: Tensor, dim: number, dtype?: DTypeArg): Tensor {
  checkDim('cumprod', dim);
  return callT(op('cumprod'), [input, dim], { dtype: dtypeOf(dtype) });
}

export function cummax(input: Tensor, dim: number): ValuesIndices {
  return pair(callTs(op('cummax'), [input, dim]));
}

export function cummin(input: Tensor, dim: number): ValuesIndices {
  return pair(callTs(op('cummin'), [input, dim]));
}

export function logcumsumexp(input: Tensor, dim: number): Tensor {
  return callT(op('logcumsumexp'), [input, dim]);
}

/** Occurrences of each value 0..max in a 1-D non-negative int tensor, optionally weighted (torch.bincount). */
export function bincount(input: Tensor, weights?: Tensor | null, minlength = 0): Tensor {
  return callT(op('bincount'), [input, weights ?? null, minlength]);
}

/** Histogram with equal-width bins over [min, max] (the data's range when both are 0) (torch.histc). */
export function histc(input: Tensor, bins = 100, min = 0, max = 0): Tensor {
  return callT(op('histc'), [input, bins, min, max]);
}

declare module '../tensor.js' {
  interface Tensor {
    sum(dim?: Dims | null, keepdim?: boolean, dtype?: DTypeArg): Tensor;
    mean(dim?: Dims | null, keepdim?: boolean, dtype?: DTypeArg): Tensor;
    nansum(dim?: Dims | null, keepdim?: boolean, dtype?: DTypeArg): Tensor;
    nanmean(dim?: Dims | null, keepdim?: boolean, dtype?: DTypeArg): Tensor;
    prod(dim?: number | null, keepdim?: boolean, dtype?: DTypeArg): Tensor;
    max(): Tensor;
    max(dim: number, keepdim?: boolean): ValuesIndices;
    max(other: Tensor): Tensor;
    min(): Tensor;
    min(dim: number, keepdim?: boolean): ValuesIndices;
    min(other: Tensor): Tensor;
    amax(dim?: Dims, keepdim?: boolean): Tensor;
    amin(dim?: Dims, keepdim?: boolean): Tensor;
    argmax(dim?: number | null, keepdim?: boolean): Tensor;
    argmin(dim?: number | null, keepdim?: boolean): Tensor;
    std(dim?: Dims | null | VarOptions, unbiased?: boolean | VarOptions, keepdim?: boolean): Tensor;
    var(dim?: Dims | null | VarOptions, unbiased?: boolean | VarOptions, keepdim?: boolean): Tensor;
    norm(p?: NormOrder, dim?: Dims | null, keepdim?: boolean, dtype?: DTypeArg): Tensor;
    logsumexp(dim: Dims, keepdim?: boolean): Tensor;
    any(dim?: number | null, keepdim?: boolean): Tensor;
    all(dim?: number | null, keepdim?: boolean): Tensor;
    countNonzero(dim?: Dims | null): Tensor;
    median(): Tensor;
    median(dim: number, keepdim?: boolean): ValuesIndices;
    nanmedian(): Tensor;
    nanmedian(dim: number, keepdim?: boolean): ValuesIndices;
    mode(dim?: number, keepdim?: boolean): ValuesIndices;
    kthvalue(k: number, dim?: number, keepdim?: boolean): ValuesIndices;
    cumsum(dim: number, dtype?: DTypeArg): Tensor;
    cumsum_(dim: number, dtype?: DTypeArg): this;
    cumprod(dim: number, dtype?: DTypeArg): Tensor;
    cumprod_(dim: number, dtype?: DTypeArg): this;
    cummax(dim: number): ValuesIndices;
    cummin(dim: number): ValuesIndices;
    logcumsumexp(dim: number): Tensor;
    bincount(weights?: Tensor | null, minlength?: number): Tensor;
    histc(bins?: number, min?: number, max?: number): Tensor;
  }
}

const proto = Tensor.prototype;
proto.sum = function (dim, keepdim, dtype) { return sum(this, dim, keepdim, dtype); };
proto.mean = function (dim, keepdim, dtype) { return mean(this, dim, keepdim, dtype); };
proto.nansum = function (dim, keepdim, dtype) { return nansum(this, dim, keepdim, dtype); };
proto.nanmean = function (dim, keepdim, dtype) { return nanmean(this, dim, keepdim, dtype); };
proto.prod = function (dim, keepdim, dtype) { return prod(this, dim, keepdim, dtype); };
proto.max = function (this: Tensor, dim?: number | Tensor, keepdim?: boolean) { return max(this, dim as number, keepdim); } as Tensor['max'];
proto.min = function (this: Tensor, dim?: number | Tensor, keepdim?: boolean) { return min(this, dim as number, keepdim); } as Tensor['min'];
proto.amax = function (dim, keepdim) { return amax(this, dim, keepdim); };
proto.amin = function (dim, keepdim) { return amin(this, dim, keepdim); };
proto.argmax = function (dim, keepdim) { return argmax(this, dim, keepdim); };
proto.argmin = function (dim, keepdim) { return argmin(this, dim, keepdim); };
proto.std = function (dim, unbiased, keepdim) { return std(this, dim, unbiased, keepdim); };
proto.var = function (dim, unbiased, keepdim) { return var_(this, dim, unbiased, keepdim); };
proto.norm = function (p, dim, keepdim, dtype) { return norm(this, p, dim, keepdim, dtype); };
proto.logsumexp = function (dim, keepdim) { return logsumexp(this, dim, keepdim); };
proto.any = function (dim, keepdim) { return any(this, dim, keepdim); };
proto.all = function (dim, keepdim) { return all(this, dim, keepdim); };
proto.countNonzero = function (dim) { return countNonzero(this, dim); };
proto.median = function (this: Tensor, dim?: number, keepdim?: boolean) { return median(this, dim as number, keepdim); } as Tensor['median'];
proto.nanmedian = function (this: Tensor, dim?: number, keepdim?: boolean) { return nanmedian(this, dim as number, keepdim); } as Tensor['nanmedian'];
proto.mode = function (dim, keepdim) { return mode(this, dim, keepdim); };
proto.kthvalue = function (k, dim, keepdim) { return kthvalue(this, k, dim, keepdim); };
proto.cumsum = function (dim, dtype) { return cumsum(this, dim, dtype); };
proto.cumsum_ = function (dim, dtype) { op('cumsum_').inplace([this, dim], { dtype: dtypeOf(dtype) }); return this; };
proto.cumprod = function (dim, dtype) { return cumprod(this, dim, dtype); };
proto.cumprod_ = function (dim, dtype) { op('cumprod_').inplace([this, dim], { dtype: dtypeOf(dtype) }); return this; };
proto.cummax = function (dim) { return cummax(this, dim); };
proto.cummin = function (dim) { return cummin(this, dim); };
proto.logcumsumexp = function (dim) { return logcumsumexp(this, dim); };
proto.bincount = function (weights, minlength) { return bincount(this, weights, minlength); };
proto.histc = function (bins, min, max) { return histc(this, bins, min, max); };
