// Sorting and selection: sort, argsort, topk, unique.
import { Tensor, callT, callTs, op } from '../tensor.js';
import type { ValuesIndices } from './reduce.js';

export interface SortOptions {
  dim?: number;
  descending?: boolean;
  /** Keep the order of equal elements. */
  stable?: boolean;
}

function sortArgs(dim: number | SortOptions | undefined, descending: boolean | undefined, stable: boolean | undefined): [number, boolean, boolean] {
  if (typeof dim === 'object') return [dim.dim ?? -1, dim.descending ?? false, dim.stable ?? false];
  return [dim ?? -1, descending ?? false, stable ?? false];
}

/** Sorted values and their original indices along dim (torch.sort); sort(x, { descending: true }) works too. */
export function sort(input: Tensor, dim?: number | SortOptions, descending?: boolean, stable?: boolean): ValuesIndices {
  const [d, desc, st] = sortArgs(dim, descending, stable);
  const [values, indices] = callTs(op('sort', 'stable'), [input], { stable: st, dim: d, descending: desc });
  return { values, indices };
}

/** The indices that sort input along dim (torch.argsort). */
export function argsort(input: Tensor, dim?: number | SortOptions, descending?: boolean, stable?: boolean): Tensor {
  const [d, desc, st] = sortArgs(dim, descending, stable);
  return callT(op('argsort', 'stable'), [input], { stable: st, dim: d, descending: desc });
}

/** Sorted along the first dim (torch.msort). */
export function msort(input: Tensor): Tensor {
  return callT(op('msort'), [input]);
}

export interface TopkOptions {
  dim?: number;
  largest?: boolean;
  sorted?: boolean;
}

/** The k largest (or smallest) values along dim with their indices (torch.topk). */
export function topk(input: Tensor, k: number, dim?: number | TopkOptions, largest?: boolean, sorted?: boolean): ValuesIndices {
  const o: TopkOptions = typeof dim === 'object' ? dim : { dim, largest, sorted };
  const [values, indices] = callTs(op('topk'), [input, k, o.dim ?? -1, o.largest ?? true, o.sorted ?? true]);
  return { values, indices };
}

export interface UniqueOptions {
  sorted?: boolean;
  returnInverse?: boolean;
  returnCounts?: boolean;
  /** Unique slices along this dim instead of unique elements. */
  dim?: number | null;
}

export interface UniqueResult {
  values: Tensor;
  /** Where each input element (or slice) went in values; with returnInverse. */
  inverseIndices?: Tensor;
  /** How often each value occurs; with returnCounts. */
  counts?: Tensor;
}

function uniqueResult(r: Tensor[], o: { returnInverse?: boolean; returnCounts?: boolean }): Tensor | UniqueResult {
  const [values, inverse, counts] = r;
  if (!o.returnInverse && !o.returnCounts) {
    inverse.dispose();
    counts.dispose();
    return values;
  }
  const out: UniqueResult = { values };
  if (o.returnInverse) out.inverseIndices = inverse;
  else inverse.dispose();
  if (o.returnCounts) out.counts = counts;
  else counts.dispose();
  return out;
}

/**
 * The unique elements (torch.unique). With returnInverse or returnCounts the
 * result is `{ values, inverseIndices?, counts? }`, else the values tensor.
 */
export function unique(input: Tensor, options?: UniqueOptions & { returnInverse?: false; returnCounts?: false }): Tensor;
export function unique(input: Tensor, options: UniqueOptions): UniqueResult;
export function unique(input: Tensor, options: UniqueOptions = {}): Tensor | UniqueResult {
  const sorted = options.sorted ?? true;
  const inv = options.returnInverse ?? false;
  const cnt = options.returnCounts ?? false;
  const r = options.dim === undefined || options.dim === null
    ? callTs(op('_unique2'), [input, sorted, inv, cnt])
    : callTs(op('unique_dim'), [input, options.dim, sorted, inv, cnt]);
  return uniqueResult(r, options);
}

/** Collapses runs of equal consecutive elements (torch.unique_consecutive). */
export function uniqueConsecutive(input: Tensor, options?: Omit<UniqueOptions, 'sorted'> & { returnInverse?: false; returnCounts?: false }): Tensor;
export function uniqueConsecutive(input: Tensor, options: Omit<UniqueOptions, 'sorted'>): UniqueResult;
export function uniqueConsecutive(input: Tensor, options: Omit<UniqueOptions, 'sorted'> = {}): Tensor | UniqueResult {
  const r = callTs(op('unique_consecutive'), [input, options.returnInverse ?? false, options.returnCounts ?? false, options.dim ?? null]);
  return uniqueResult(r, options);
}

declare module '../tensor.js' {
  interface Tensor {
    sort(dim?: number | SortOptions, descending?: boolean, stable?: boolean): ValuesIndices;
    argsort(dim?: number | SortOptions, descending?: boolean, stable?: boolean): Tensor;
    msort(): Tensor;
    topk(k: number, dim?: number | TopkOptions, largest?: boolean, sorted?: boolean): ValuesIndices;
    unique(options?: UniqueOptions & { returnInverse?: false; returnCounts?: false }): Tensor;
    unique(options: UniqueOptions): UniqueResult;
    uniqueConsecutive(options?: Omit<UniqueOptions, 'sorted'> & { returnInverse?: false; returnCounts?: false }): Tensor;
    uniqueConsecutive(options: Omit<UniqueOptions, 'sorted'>): UniqueResult;
  }
}

const proto = Tensor.prototype;
proto.sort = function (dim, descending, stable) { return sort(this, dim, descending, stable); };
proto.argsort = function (dim, descending, stable) { return argsort(this, dim, descending, stable); };
proto.msort = function () { return msort(this); };
proto.topk = function (k, dim, largest, sorted) { return topk(this, k, dim, largest, sorted); };
proto.unique = function (this: Tensor, options: UniqueOptions = {}) { return unique(this, options); } as Tensor['unique'];
proto.uniqueConsecutive = function (this: Tensor, options: Omit<UniqueOptions, 'sorted'> = {}) { return uniqueConsecutive(this, options); } as Tensor['uniqueConsecutive'];
