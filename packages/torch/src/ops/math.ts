// Elementwise arithmetic (torch.add, mul, ...). Scalars follow PyTorch's
// type promotion: they become "wrapped numbers" that do not upcast tensors.
import { type Scalar, Tensor, callT, op } from '../tensor.js';

export type TensorOrScalar = Tensor | Scalar;

declare module '../tensor.js' {
  interface Tensor {
    add(other: TensorOrScalar, alpha?: Scalar): Tensor;
    add_(other: TensorOrScalar, alpha?: Scalar): this;
    sub(other: TensorOrScalar, alpha?: Scalar): Tensor;
    sub_(other: TensorOrScalar, alpha?: Scalar): this;
    mul(other: TensorOrScalar): Tensor;
    mul_(other: TensorOrScalar): this;
    div(other: TensorOrScalar, roundingMode?: 'trunc' | 'floor'): Tensor;
    div_(other: TensorOrScalar): this;
    neg(): Tensor;
  }
}

export function add(a: Tensor, b: TensorOrScalar, alpha: Scalar = 1): Tensor {
  return callT(op('add', 'Tensor'), [a, b, alpha]);
}

export function sub(a: Tensor, b: TensorOrScalar, alpha: Scalar = 1): Tensor {
  return callT(op('sub', 'Tensor'), [a, b, alpha]);
}

export function mul(a: Tensor, b: TensorOrScalar): Tensor {
  return callT(op('mul', 'Tensor'), [a, b]);
}

export function div(a: Tensor, b: TensorOrScalar, roundingMode?: 'trunc' | 'floor'): Tensor {
  return roundingMode === undefined ? callT(op('div', 'Tensor'), [a, b]) : callT(op('div', 'Tensor_mode'), [a, b], { rounding_mode: roundingMode });
}

export function neg(a: Tensor): Tensor {
  return callT(op('neg'), [a]);
}

const proto = Tensor.prototype;
proto.add = function (other, alpha) { return add(this, other, alpha); };
proto.add_ = function (other, alpha = 1) { op('add_', 'Tensor').inplace([this, other, alpha]); return this; };
proto.sub = function (other, alpha) { return sub(this, other, alpha); };
proto.sub_ = function (other, alpha = 1) { op('sub_', 'Tensor').inplace([this, other, alpha]); return this; };
proto.mul = function (other) { return mul(this, other); };
proto.mul_ = function (other) { op('mul_', 'Tensor').inplace([this, other]); return this; };
proto.div = function (other, roundingMode) { return div(this, other, roundingMode); };
proto.div_ = function (other) { op('div_', 'Tensor').inplace([this, other]); return this; };
proto.neg = function () { return neg(this); };
