// Activation functions, shared by torch.* and torch.nn.functional (F.relu is
// this relu). Each calls the ATen op that torch.nn.functional calls, so the
// kernels and gradients are PyTorch's. Python keyword arguments may be given
// positionally (leakyRelu(x, 0.2, true)) or as an options object.
import { type Scalar, Tensor, callT, op } from '../tensor.js';

/** The `inplace` flag: positional boolean or `{ inplace }`. */
export type Inplace = boolean | { inplace?: boolean };

const flag = (x: Inplace | undefined): boolean => (typeof x === 'object' ? x.inplace ?? false : x ?? false);

// The in-place form returns the input itself, as F.relu(x, inplace=True) does.
function run(aten: string, input: Tensor, args: Scalar[], inplace: boolean): Tensor {
  if (inplace) {
    op(`${aten}_`).inplace([input, ...args]);
    return input;
  }
  return callT(op(aten), [input, ...args]);
}

export function relu(input: Tensor, inplace?: Inplace): Tensor {
  return run('relu', input, [], flag(inplace));
}

export function relu_(input: Tensor): Tensor {
  return run('relu', input, [], true);
}

export function leakyRelu(input: Tensor, negativeSlope: number | { negativeSlope?: number; inplace?: boolean } = 0.01, inplace?: Inplace): Tensor {
  if (typeof negativeSlope === 'object') return leakyRelu(input, negativeSlope.negativeSlope ?? 0.01, negativeSlope.inplace ?? false);
  return run('leaky_relu', input, [negativeSlope], flag(inplace));
}

export function leakyRelu_(input: Tensor, negativeSlope = 0.01): Tensor {
  return run('leaky_relu', input, [negativeSlope], true);
}

export function sigmoid(input: Tensor): Tensor {
  return callT(op('sigmoid'), [input]);
}

export function tanh(input: Tensor): Tensor {
  return callT(op('tanh'), [input]);
}

export type GeluApproximate = 'none' | 'tanh';

/** Gaussian error linear unit; approximate 'tanh' uses the tanh formula (F.gelu). */
export function gelu(input: Tensor, approximate: GeluApproximate | { approximate?: GeluApproximate } = 'none'): Tensor {
  const a = typeof approximate === 'object' ? approximate.approximate ?? 'none' : approximate;
  if (a !== 'none' && a !== 'tanh') throw new RangeError(`gelu(): approximate must be 'none' or 'tanh', got '${String(a)}'`);
  return callT(op('gelu'), [input], { approximate: a });
}

/** log(1 + exp(beta * x)) / beta, linear above `threshold` (F.softplus). */
export function softplus(input: Tensor, beta: number | { beta?: number; threshold?: number } = 1, threshold = 20): Tensor {
  if (typeof beta === 'object') return softplus(input, beta.beta ?? 1, beta.threshold ?? 20);
  return callT(op('softplus'), [input, beta, threshold]);
}

export function elu(input: Tensor, alpha: number | { alpha?: number; inplace?: boolean } = 1, inplace?: Inplace): Tensor {
  if (typeof alpha === 'object') return elu(input, alpha.alpha ?? 1, alpha.inplace ?? false);
  return run('elu', input, [alpha], flag(inplace));
}

export function elu_(input: Tensor, alpha = 1): Tensor {
  return run('elu', input, [alpha], true);
}

export function celu(input: Tensor, alpha: number | { alpha?: number; inplace?: boolean } = 1, inplace?: Inplace): Tensor {
  if (typeof alpha === 'object') return celu(input, alpha.alpha ?? 1, alpha.inplace ?? false);
  return run('celu', input, [alpha], flag(inplace));
}

export function selu(input: Tensor, inplace?: Inplace): Tensor {
  return run('selu', input, [], flag(inplace));
}

/** x * sigmoid(x), a.k.a. swish (F.silu). */
export function silu(input: Tensor, inplace?: Inplace): Tensor {
  return run('silu', input, [], flag(inplace));
}

/** x * tanh(softplus(x)) (F.mish). */
export function mish(input: Tensor, inplace?: Inplace): Tensor {
  return run('mish', input, [], flag(inplace));
}

/** Clamps to [minVal, maxVal] (F.hardtanh). */
export function hardtanh(input: Tensor, minVal: number | { minVal?: number; maxVal?: number; inplace?: boolean } = -1, maxVal = 1, inplace?: Inplace): Tensor {
  if (typeof minVal === 'object') return hardtanh(input, minVal.minVal ?? -1, minVal.maxVal ?? 1, minVal.inplace ?? false);
  if (minVal > maxVal) throw new RangeError(`hardtanh(): minVal (${minVal}) cannot be greater than maxVal (${maxVal})`);
  return run('hardtanh', input, [minVal, maxVal], flag(inplace));
}

export function hardtanh_(input: Tensor, minVal = -1, maxVal = 1): Tensor {
  return hardtanh(input, minVal, maxVal, true);
}

/** min(max(x, 0), 6) (F.relu6). */
export function relu6(input: Tensor, inplace?: Inplace): Tensor {
  return run('relu6', input, [], flag(inplace));
}

export function hardsigmoid(input: Tensor, inplace?: Inplace): Tensor {
  return run('hardsigmoid', input, [], flag(inplace));
}

export function hardswish(input: Tensor, inplace?: Inplace): Tensor {
  return run('hardswish', input, [], flag(inplace));
}

/** Replaces values not above `threshold` with `value` (F.threshold). */
export function threshold(input: Tensor, threshold: number, value: number, inplace?: Inplace): Tensor {
  return run('threshold', input, [threshold, value], flag(inplace));
}

/** log(sigmoid(x)), computed stably (F.logsigmoid). */
export function logsigmoid(input: Tensor): Tensor {
  return callT(op('log_sigmoid'), [input]);
}

/** x / (1 + |x|) (F.softsign). */
export function softsign(input: Tensor): Tensor {
  const a = callT(op('abs'), [input]);
  const denom = callT(op('add', 'Tensor'), [a, 1]);
  const out = callT(op('div', 'Tensor'), [input, denom]);
  a.dispose();
  denom.dispose();
  return out;
}

declare module '../tensor.js' {
  interface Tensor {
    relu(): Tensor;
    relu_(): this;
    sigmoid(): Tensor;
    sigmoid_(): this;
    tanh(): Tensor;
    tanh_(): this;
  }
}

const proto = Tensor.prototype;
proto.relu = function () { return relu(this); };
proto.relu_ = function () { op('relu_').inplace([this]); return this; };
proto.sigmoid = function () { return sigmoid(this); };
proto.sigmoid_ = function () { op('sigmoid_').inplace([this]); return this; };
proto.tanh = function () { return tanh(this); };
proto.tanh_ = function () { op('tanh_').inplace([this]); return this; };
