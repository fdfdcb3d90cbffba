// Reductions (sum, mean, max, ...) with dim / keepdim as in PyTorch.
import type { DType } from '../dtype.js';
import { Tensor, callT, op } from '../tensor.js';

export type Dims = number | readonly number[];

declare module '../tensor.js' {
  interface Tensor {
    sum(dim?: Dims, keepdim?: boolean, dtype?: DType): Tensor;
    mean(dim?: Dims, keepdim?: boolean, dtype?: DType): Tensor;
  }
}

const asList = (d: Dims): readonly number[] => (typeof d === 'number' ? [d] : d);

export function sum(a: Tensor, dim?: Dims, keepdim = false, dtype?: DType): Tensor {
  if (dim === undefined) return callT(op('sum'), [a], { dtype: dtype ?? null });
  return callT(op('sum', 'dim_IntList'), [a, asList(dim), keepdim], { dtype: dtype ?? null });
}

export function mean(a: Tensor, dim?: Dims, keepdim = false, dtype?: DType): Tensor {
  if (dim === undefined) return callT(op('mean'), [a], { dtype: dtype ?? null });
  return callT(op('mean', 'dim'), [a, asList(dim), keepdim], { dtype: dtype ?? null });
}

const proto = Tensor.prototype;
proto.sum = function (dim, keepdim, dtype) { return sum(this, dim, keepdim, dtype); };
proto.mean = function (dim, keepdim, dtype) { return mean(this, dim, keepdim, dtype); };
