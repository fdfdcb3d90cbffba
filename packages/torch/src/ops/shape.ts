// Shape manipulation (reshape, view, permute, ...).
import { Tensor, callT, op } from '../tensor.js';

declare module '../tensor.js' {
  interface Tensor {
    reshape(shape: readonly number[]): Tensor;
    view(shape: readonly number[]): Tensor;
  }
}

export function reshape(a: Tensor, shape: readonly number[]): Tensor {
  return callT(op('reshape'), [a, shape]);
}

const proto = Tensor.prototype;
proto.reshape = function (shape) { return reshape(this, shape); };
proto.view = function (shape) { return callT(op('view'), [this, shape]); };
