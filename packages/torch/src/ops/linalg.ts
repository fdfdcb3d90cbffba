// Matrix products, einsum and norms (torch.matmul, ..., torch.linalg.vector_norm).
import type { DType } from '../dtype.js';
import { type Scalar, Tensor, callT, op } from '../tensor.js';
import type { PyFloat } from './creation.js';

/** Matrix product with NumPy broadcasting of batch dims; 1-D operands are vectors (torch.matmul). */
export function matmul(input: Tensor, other: Tensor): Tensor {
  return callT(op('matmul'), [input, other]);
}

/** [n, m] @ [m, p], no broadcasting (torch.mm). */
export function mm(input: Tensor, mat2: Tensor): Tensor {
  return callT(op('mm'), [input, mat2]);
}

/** [b, n, m] @ [b, m, p] (torch.bmm). */
export function bmm(input: Tensor, mat2: Tensor): Tensor {
  return callT(op('bmm'), [input, mat2]);
}

/** Matrix-vector product (torch.mv). */
export function mv(input: Tensor, vec: Tensor): Tensor {
  return callT(op('mv'), [input, vec]);
}

/** Inner product of two 1-D tensors (torch.dot). */
export function dot(input: Tensor, other: Tensor): Tensor {
  return callT(op('dot'), [input, other]);
}

/** Outer product of two 1-D tensors (torch.outer). */
export function outer(input: Tensor, vec2: Tensor): Tensor {
  return callT(op('outer'), [input, vec2]);
}
export const ger = outer;

interface ScaleOptions {
  beta?: Scalar | PyFloat;
  alpha?: Scalar | PyFloat;
}

/** beta * input + alpha * (mat1 @ mat2) (torch.addmm). */
export function addmm(input: Tensor, mat1: Tensor, mat2: Tensor, options: ScaleOptions = {}): Tensor {
  return callT(op('addmm'), [input, mat1, mat2], { beta: options.beta ?? 1, alpha: options.alpha ?? 1 });
}

/** beta * input + alpha * (batch1 @ batch2) per batch (torch.baddbmm). */
export function baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, options: ScaleOptions = {}): Tensor {
  return callT(op('baddbmm'), [input, batch1, batch2], { beta: options.beta ?? 1, alpha: options.alpha ?? 1 });
}

/**
 * Einstein summation: einsum('bij,bjk->bik', a, b) or einsum(eq, [a, b]) (torch.einsum).
 * Supports '...' for broadcast dims, as PyTorch does.
 */
export function einsum(equation: string, ...operands: Tensor[] | [readonly Tensor[]]): Tensor {
  if (typeof equation !== 'string') throw new TypeError('einsum(): the first argument must be the equation string');
  const ts = operands.length === 1 && Array.isArray(operands[0]) ? (operands[0] as readonly Tensor[]) : (operands as Tensor[]);
  return callT(op('einsum'), [equation, ts]);
}

/**
 * Sums products over dims: the last `dims` of a with the first `dims` of b, or
 * the pairs [dimsA, dimsB] (torch.tensordot).
 */
export function tensordot(a: Tensor, b: Tensor, dims: number | readonly [readonly number[] | number, readonly number[] | number] = 2): Tensor {
  let da: readonly number[];
  let db: readonly number[];
  if (typeof dims === 'number') {
    if (!Number.isInteger(dims) || dims < 0) throw new RangeError(`tensordot(): dims must be a non-negative integer, got ${dims}`);
    da = Array.from({ length: dims }, (_, i) => a.ndim - dims + i);
    db = Array.from({ length: dims }, (_, i) => i);
  } else {
    const [x, y] = dims;
    da = typeof x === 'number' ? [x] : x;
    db = typeof y === 'number' ? [y] : y;
  }
  return callT(op('tensordot'), [a, b, da, db]);
}

/** Kronecker product (torch.kron). */
export function kron(input: Tensor, other: Tensor): Tensor {
  return callT(op('kron'), [input, other]);
}

/** Sum of the main diagonal of a matrix (torch.trace). */
export function trace(input: Tensor): Tensor {
  return callT(op('trace'), [input]);
}

/** Pairwise p-norm distances between the rows of x1 [.., P, M] and x2 [.., R, M] (torch.cdist). */
export function cdist(x1: Tensor, x2: Tensor, p = 2, computeMode: 'use_mm_for_euclid_dist_if_necessary' | 'use_mm_for_euclid_dist' | 'donot_use_mm_for_euclid_dist' = 'use_mm_for_euclid_dist_if_necessary'): Tensor {
  const mode = { use_mm_for_euclid_dist_if_necessary: null, use_mm_for_euclid_dist: 1, donot_use_mm_for_euclid_dist: 2 }[computeMode];
  if (mode === undefined) throw new RangeError(`cdist(): unknown computeMode '${String(computeMode)}'`);
  return callT(op('cdist'), [x1, x2, p, mode]);
}

export interface NormOptions {
  dim?: number | readonly number[] | null;
  keepdim?: boolean;
  dtype?: DType;
}

/** The p-norm of the flattened input or along dim; ord may be ±Infinity or 0 (torch.linalg.vector_norm). */
export function vectorNorm(input: Tensor, ord: number | PyFloat = 2, options: NormOptions = {}): Tensor {
  const dim = options.dim === undefined || options.dim === null ? null : typeof options.dim === 'number' ? [options.dim] : options.dim;
  return callT(op('linalg_vector_norm'), [input, ord, dim, options.keepdim ?? false], { dtype: options.dtype ?? null });
}

/** Matrix norm over two dims (default the last two): 'fro', 'nuc' or ±1, ±2, ±Infinity (torch.linalg.matrix_norm). */
export function matrixNorm(input: Tensor, ord: number | 'fro' | 'nuc' = 'fro', options: { dim?: readonly [number, number]; keepdim?: boolean; dtype?: DType } = {}): Tensor {
  const args = [input, ord, options.dim ?? [-2, -1], options.keepdim ?? false];
  const kw = { dtype: options.dtype ?? null };
  return typeof ord === 'string' ? callT(op('linalg_matrix_norm', 'str_ord'), args, kw) : callT(op('linalg_matrix_norm'), args, kw);
}

/** torch.linalg, the part of it bound here. */
export const linalg = { vectorNorm, matrixNorm } as const;

declare module '../tensor.js' {
  interface Tensor {
    matmul(other: Tensor): Tensor;
    mm(mat2: Tensor): Tensor;
    bmm(mat2: Tensor): Tensor;
    mv(vec: Tensor): Tensor;
    dot(other: Tensor): Tensor;
    outer(vec2: Tensor): Tensor;
    addmm(mat1: Tensor, mat2: Tensor, options?: ScaleOptions): Tensor;
    addmm_(mat1: Tensor, mat2: Tensor, options?: ScaleOptions): this;
    baddbmm(batch1: Tensor, batch2: Tensor, options?: ScaleOptions): Tensor;
    kron(other: Tensor): Tensor;
    trace(): Tensor;
  }
}

const proto = Tensor.prototype;
proto.matmul = function (other) { return matmul(this, other); };
proto.mm = function (mat2) { return mm(this, mat2); };
proto.bmm = function (mat2) { return bmm(this, mat2); };
proto.mv = function (vec) { return mv(this, vec); };
proto.dot = function (other) { return dot(this, other); };
proto.outer = function (vec2) { return outer(this, vec2); };
proto.addmm = function (mat1, mat2, options) { return addmm(this, mat1, mat2, options); };
proto.addmm_ = function (mat1, mat2, options = {}) {
  op('addmm_').inplace([this, mat1, mat2], { beta: options.beta ?? 1, alpha: options.alpha ?? 1 });
  return this;
};
proto.baddbmm = function (b1, b2, options) { return baddbmm(this, b1, b2, options); };
proto.kron = function (other) { return kron(this, other); };
proto.trace = function () { return trace(this); };
