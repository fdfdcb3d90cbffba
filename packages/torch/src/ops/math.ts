// Elementwise arithmetic and math (torch.add, mul, exp, clamp, ...). Scalars
// follow PyTorch's type promotion: JS numbers become "wrapped numbers" that do
// not upcast tensors (int64 tensor * 2 stays int64, * 0.5 becomes float32);
// `{ float: 2 }` is Python's 2.0.
import { type Op, type OpArg, type Scalar, Tensor, callT, op } from '../tensor.js';
import type { PyFloat } from './creation.js';

export type TensorOrScalar = Tensor | Scalar | PyFloat;
export type RoundingMode = 'trunc' | 'floor';

const isTensor = (x: unknown): x is Tensor => x instanceof Tensor;
const isOpts = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !(x instanceof Tensor) && !('float' in x);

/** Whether x is a `{ float: v }` Python float. */
export const isPyFloat = (x: unknown): x is PyFloat =>
  typeof x === 'object' && x !== null && !(x instanceof Tensor) && typeof (x as PyFloat).float === 'number';

// A `{ float }` operand takes the op's Scalar overload (which wraps it exactly
// as Python wraps 2.0); tensors and plain numbers take the Tensor overload.
const scalarOverload = (other: unknown, tensorOv = 'Tensor', scalarOv = 'Scalar'): string => (isPyFloat(other) ? scalarOv : tensorOv);

function leftFloat(name: string, other: unknown): Tensor {
  if (!isTensor(other)) throw new TypeError(`${name}(): one operand must be a tensor`);
  return other;
}

// `alpha` and `value` are keyword-only in Python; accept `{ alpha }` or a bare number.
function kwScalar(x: Scalar | PyFloat | object | undefined, key: string, dflt: Scalar): OpArg {
  if (x === undefined) return dflt;
  if (isOpts(x)) return ((x as Record<string, unknown>)[key] as OpArg | undefined) ?? dflt;
  return x as Scalar | PyFloat;
}

export function add(input: TensorOrScalar, other: TensorOrScalar, alpha?: Scalar | { alpha?: Scalar | PyFloat }): Tensor {
  const a = kwScalar(alpha, 'alpha', 1);
  if (isPyFloat(input)) {
    // 2.0 + alpha * t, computed as (alpha * t) + 2.0.
    const t = leftFloat('add', other);
    const scaled = a === 1 ? t : callT(op('mul', scalarOverload(a)), [t, a]);
    const out = callT(op('add', 'Scalar'), [scaled, input]);
    if (scaled !== t) scaled.dispose();
    return out;
  }
  return callT(op('add', scalarOverload(other)), [input, other, a]);
}

export function sub(input: TensorOrScalar, other: TensorOrScalar, alpha?: Scalar | { alpha?: Scalar | PyFloat }): Tensor {
  const a = kwScalar(alpha, 'alpha', 1);
  if (isPyFloat(input)) return callT(op('rsub', 'Scalar'), [leftFloat('sub', other), input, a]);
  return callT(op('sub', scalarOverload(other)), [input, other, a]);
}
export const subtract = sub;

/** other - alpha * input (torch.rsub). */
export function rsub(input: Tensor, other: TensorOrScalar, alpha?: Scalar | { alpha?: Scalar | PyFloat }): Tensor {
  return callT(op('rsub', scalarOverload(other)), [input, other, kwScalar(alpha, 'alpha', 1)]);
}

export function mul(input: TensorOrScalar, other: TensorOrScalar): Tensor {
  if (isPyFloat(input)) return callT(op('mul', 'Scalar'), [leftFloat('mul', other), input]);
  return callT(op('mul', scalarOverload(other)), [input, other]);
}
export const multiply = mul;

const modeOf = (m: RoundingMode | { roundingMode?: RoundingMode | null } | null | undefined): RoundingMode | null =>
  m === undefined || m === null ? null : typeof m === 'string' ? m : m.roundingMode ?? null;

/** True division, or rounded with roundingMode 'trunc' / 'floor' (torch.div). */
export function div(input: TensorOrScalar, other: TensorOrScalar, roundingMode?: RoundingMode | { roundingMode?: RoundingMode | null } | null): Tensor {
  const mode = modeOf(roundingMode);
  if (isPyFloat(input)) {
    // True division is floating whatever the operand types, so 2.0 / t is 2 / t.
    if (mode !== null) throw new TypeError('div(): a { float } dividend with a rounding mode is not supported; pass a tensor');
    return callT(op('div', 'Tensor'), [input.float, other]);
  }
  if (mode === null) return callT(op('div', scalarOverload(other)), [input, other]);
  return callT(op('div', scalarOverload(other, 'Tensor_mode', 'Scalar_mode')), [input, other], { rounding_mode: mode });
}
export const divide = div;
export const trueDivide = (input: TensorOrScalar, other: TensorOrScalar): Tensor => div(input, other);

export function floorDivide(input: Tensor, other: TensorOrScalar): Tensor {
  return callT(op('floor_divide', scalarOverload(other, '', 'Scalar')), [input, other]);
}

/** Python's % : the result has the sign of the divisor (torch.remainder). */
export function remainder(input: TensorOrScalar, other: TensorOrScalar): Tensor {
  if (!isTensor(input)) return callT(op('remainder', 'Scalar_Tensor'), [input, other]);
  return callT(op('remainder', scalarOverload(other)), [input, other]);
}

/** C's fmod: the result has the sign of the dividend (torch.fmod). */
export function fmod(input: Tensor, other: TensorOrScalar): Tensor {
  return callT(op('fmod', scalarOverload(other)), [input, other]);
}

/** input ** exponent; either side may be a scalar (torch.pow). */
export function pow(input: TensorOrScalar, exponent: TensorOrScalar): Tensor {
  if (!isTensor(input)) return callT(op('pow', 'Scalar'), [input, exponent]);
  if (isTensor(exponent)) return callT(op('pow', 'Tensor_Tensor'), [input, exponent]);
  return callT(op('pow', 'Tensor_Scalar'), [input, exponent]);
}

export function atan2(input: Tensor, other: TensorOrScalar): Tensor {
  // atan2 is always floating, so a { float } operand is just its number.
  return callT(op('atan2'), [input, isPyFloat(other) ? other.float : other]);
}
export const arctan2 = atan2;

/** Elementwise maximum of two tensors, propagating NaN (torch.maximum). */
export function maximum(input: Tensor, other: Tensor): Tensor {
  return callT(op('maximum'), [input, other]);
}

export function minimum(input: Tensor, other: Tensor): Tensor {
  return callT(op('minimum'), [input, other]);
}

/** input + weight * (end - input) (torch.lerp). */
export function lerp(input: Tensor, end: Tensor, weight: Tensor | Scalar | PyFloat): Tensor {
  return isTensor(weight) ? callT(op('lerp', 'Tensor'), [input, end, weight]) : callT(op('lerp', 'Scalar'), [input, end, weight]);
}

/** input + value * tensor1 * tensor2 (torch.addcmul). */
export function addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, value?: Scalar | { value?: Scalar | PyFloat }): Tensor {
  return callT(op('addcmul'), [input, tensor1, tensor2], { value: kwScalar(value, 'value', 1) });
}

/** input + value * tensor1 / tensor2 (torch.addcdiv). */
export function addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, value?: Scalar | { value?: Scalar | PyFloat }): Tensor {
  return callT(op('addcdiv'), [input, tensor1, tensor2], { value: kwScalar(value, 'value', 1) });
}

type Bound = Tensor | number | PyFloat | null | undefined;
const clampOverload = (min: Bound, max: Bound): string => (isTensor(min) || isTensor(max) ? 'Tensor' : '');
// With a tensor bound the other bound is a wrapped number: a { float } gives its value.
const clampArgs = (min: Bound, max: Bound): Bound[] =>
  isTensor(min) || isTensor(max) ? [min, max].map((b) => (isPyFloat(b) ? b.float : b ?? null)) : [min ?? null, max ?? null];

/** Limits values to [min, max]; either bound may be a number, a tensor or null (torch.clamp). */
export function clamp(input: Tensor, min?: Bound, max?: Bound): Tensor {
  if ((min === undefined || min === null) && (max === undefined || max === null)) {
    throw new TypeError('clamp(): at least one of min and max must be given');
  }
  return callT(op('clamp', clampOverload(min, max)), [input, ...clampArgs(min, max)]);
}
export const clip = clamp;

export function clampMin(input: Tensor, min: Tensor | number | PyFloat): Tensor {
  return isTensor(min) ? callT(op('clamp_min', 'Tensor'), [input, min]) : callT(op('clamp_min'), [input, min]);
}

export function clampMax(input: Tensor, max: Tensor | number | PyFloat): Tensor {
  return isTensor(max) ? callT(op('clamp_max', 'Tensor'), [input, max]) : callT(op('clamp_max'), [input, max]);
}

/** Replaces NaN with `nan` (default 0) and ±inf with the given values or the dtype's extremes (torch.nan_to_num). */
export function nanToNum(input: Tensor, nan?: number | null, posinf?: number | null, neginf?: number | null): Tensor {
  return callT(op('nan_to_num'), [input, nan ?? null, posinf ?? null, neginf ?? null]);
}

/** Rounds half to even; with decimals, to that many decimal places (torch.round). */
export function round(input: Tensor, decimals?: number | { decimals?: number }): Tensor {
  const d = typeof decimals === 'object' ? decimals.decimals ?? 0 : decimals ?? 0;
  return d === 0 ? callT(op('round'), [input]) : callT(op('round', 'decimals'), [input], { decimals: d });
}

// ---- one-argument functions ---------------------------------------------------
// Each is also a Tensor method with an in-place `name_` form; JS names are the aten names.
const UNARY = [
  'neg', 'reciprocal', 'exp', 'exp2', 'expm1', 'log', 'log1p', 'log2', 'log10', 'sqrt', 'rsqrt', 'abs', 'sign',
  'floor', 'ceil', 'trunc', 'frac', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'asinh', 'acosh',
  'atanh', 'erf', 'erfc', 'erfinv', 'square',
] as const;

// The op is resolved on first use, not per call: these run on hot paths.
const unary = (aten: string) => {
  let o: Op | undefined;
  return (input: Tensor): Tensor => callT((o ??= op(aten)), [input]);
};

export const neg = unary('neg');
export const negative = neg;
export const reciprocal = unary('reciprocal');
export const exp = unary('exp');
export const exp2 = unary('exp2');
export const expm1 = unary('expm1');
export const log = unary('log');
export const log1p = unary('log1p');
export const log2 = unary('log2');
export const log10 = unary('log10');
export const sqrt = unary('sqrt');
export const rsqrt = unary('rsqrt');
export const abs = unary('abs');
export const absolute = abs;
export const sign = unary('sign');
export const floor = unary('floor');
export const ceil = unary('ceil');
export const trunc = unary('trunc');
export const fix = trunc;
export const frac = unary('frac');
export const sin = unary('sin');
export const cos = unary('cos');
export const tan = unary('tan');
export const asin = unary('asin');
export const acos = unary('acos');
export const atan = unary('atan');
export const sinh = unary('sinh');
export const cosh = unary('cosh');
export const asinh = unary('asinh');
export const acosh = unary('acosh');
export const atanh = unary('atanh');
export const erf = unary('erf');
export const erfc = unary('erfc');
export const erfinv = unary('erfinv');
export const square = unary('square');

declare module '../tensor.js' {
  interface Tensor {
    add(other: TensorOrScalar, alpha?: Scalar | { alpha?: Scalar | PyFloat }): Tensor;
    add_(other: TensorOrScalar, alpha?: Scalar | { alpha?: Scalar | PyFloat }): this;
    sub(other: TensorOrScalar, alpha?: Scalar | { alpha?: Scalar | PyFloat }): Tensor;
    sub_(other: TensorOrScalar, alpha?: Scalar | { alpha?: Scalar | PyFloat }): this;
    mul(other: TensorOrScalar): Tensor;
    mul_(other: TensorOrScalar): this;
    div(other: TensorOrScalar, roundingMode?: RoundingMode | { roundingMode?: RoundingMode | null } | null): Tensor;
    div_(other: TensorOrScalar, roundingMode?: RoundingMode | { roundingMode?: RoundingMode | null } | null): this;
    floorDivide(other: TensorOrScalar): Tensor;
    floorDivide_(other: TensorOrScalar): this;
    remainder(other: TensorOrScalar): Tensor;
    remainder_(other: TensorOrScalar): this;
    fmod(other: TensorOrScalar): Tensor;
    fmod_(other: TensorOrScalar): this;
    pow(exponent: TensorOrScalar): Tensor;
    pow_(exponent: TensorOrScalar): this;
    atan2(other: TensorOrScalar): Tensor;
    atan2_(other: TensorOrScalar): this;
    maximum(other: Tensor): Tensor;
    minimum(other: Tensor): Tensor;
    lerp(end: Tensor, weight: Tensor | Scalar | PyFloat): Tensor;
    lerp_(end: Tensor, weight: Tensor | Scalar | PyFloat): this;
    addcmul(tensor1: Tensor, tensor2: Tensor, value?: Scalar | { value?: Scalar | PyFloat }): Tensor;
    addcmul_(tensor1: Tensor, tensor2: Tensor, value?: Scalar | { value?: Scalar | PyFloat }): this;
    addcdiv(tensor1: Tensor, tensor2: Tensor, value?: Scalar | { value?: Scalar | PyFloat }): Tensor;
    addcdiv_(tensor1: Tensor, tensor2: Tensor, value?: Scalar | { value?: Scalar | PyFloat }): this;
    clamp(min?: Bound, max?: Bound): Tensor;
    clamp_(min?: Bound, max?: Bound): this;
    clip(min?: Bound, max?: Bound): Tensor;
    clip_(min?: Bound, max?: Bound): this;
    clampMin(min: Tensor | number | PyFloat): Tensor;
    clampMin_(min: Tensor | number | PyFloat): this;
    clampMax(max: Tensor | number | PyFloat): Tensor;
    clampMax_(max: Tensor | number | PyFloat): this;
    nanToNum(nan?: number | null, posinf?: number | null, neginf?: number | null): Tensor;
    nanToNum_(nan?: number | null, posinf?: number | null, neginf?: number | null): this;
    round(decimals?: number | { decimals?: number }): Tensor;
    round_(decimals?: number | { decimals?: number }): this;
    /** Sets every element to 0. */
    zero_(): this;
    fill_(value: Scalar | PyFloat | Tensor): this;
    /** Copies src (broadcast, cast and moved as needed) into this tensor. */
    copy_(src: Tensor, nonBlocking?: boolean): this;

    neg(): Tensor; neg_(): this;
    reciprocal(): Tensor; reciprocal_(): this;
    exp(): Tensor; exp_(): this;
    exp2(): Tensor; exp2_(): this;
    expm1(): Tensor; expm1_(): this;
    log(): Tensor; log_(): this;
    log1p(): Tensor; log1p_(): this;
    log2(): Tensor; log2_(): this;
    log10(): Tensor; log10_(): this;
    sqrt(): Tensor; sqrt_(): this;
    rsqrt(): Tensor; rsqrt_(): this;
    abs(): Tensor; abs_(): this;
    sign(): Tensor; sign_(): this;
    floor(): Tensor; floor_(): this;
    ceil(): Tensor; ceil_(): this;
    trunc(): Tensor; trunc_(): this;
    frac(): Tensor; frac_(): this;
    sin(): Tensor; sin_(): this;
    cos(): Tensor; cos_(): this;
    tan(): Tensor; tan_(): this;
    asin(): Tensor; asin_(): this;
    acos(): Tensor; acos_(): this;
    atan(): Tensor; atan_(): this;
    sinh(): Tensor; sinh_(): this;
    cosh(): Tensor; cosh_(): this;
    asinh(): Tensor; asinh_(): this;
    acosh(): Tensor; acosh_(): this;
    atanh(): Tensor; atanh_(): this;
    erf(): Tensor; erf_(): this;
    erfc(): Tensor; erfc_(): this;
    erfinv(): Tensor; erfinv_(): this;
    square(): Tensor; square_(): this;
  }
}

const proto = Tensor.prototype;
const methods = proto as unknown as Record<string, (this: Tensor, ...args: never[]) => unknown>;
for (const name of UNARY) {
  methods[name] = function (this: Tensor) { return callT(op(name), [this]); };
  methods[`${name}_`] = function (this: Tensor) { op(`${name}_`).inplace([this]); return this; };
}

proto.add = function (other, alpha) { return add(this, other, alpha); };
proto.add_ = function (other, alpha) { op('add_', scalarOverload(other)).inplace([this, other, kwScalar(alpha, 'alpha', 1)]); return this; };
proto.sub = function (other, alpha) { return sub(this, other, alpha); };
proto.sub_ = function (other, alpha) { op('sub_', scalarOverload(other)).inplace([this, other, kwScalar(alpha, 'alpha', 1)]); return this; };
proto.mul = function (other) { return mul(this, other); };
proto.mul_ = function (other) { op('mul_', scalarOverload(other)).inplace([this, other]); return this; };
proto.div = function (other, roundingMode) { return div(this, other, roundingMode); };
proto.div_ = function (other, roundingMode) {
  const mode = modeOf(roundingMode);
  if (mode === null) op('div_', scalarOverload(other)).inplace([this, other]);
  else op('div_', scalarOverload(other, 'Tensor_mode', 'Scalar_mode')).inplace([this, other], { rounding_mode: mode });
  return this;
};
proto.floorDivide = function (other) { return floorDivide(this, other); };
proto.floorDivide_ = function (other) { op('floor_divide_', scalarOverload(other)).inplace([this, other]); return this; };
proto.remainder = function (other) { return remainder(this, other); };
proto.remainder_ = function (other) { op('remainder_', scalarOverload(other)).inplace([this, other]); return this; };
proto.fmod = function (other) { return fmod(this, other); };
proto.fmod_ = function (other) { op('fmod_', scalarOverload(other)).inplace([this, other]); return this; };
proto.pow = function (exponent) { return pow(this, exponent); };
proto.pow_ = function (exponent) { op('pow_', isTensor(exponent) ? 'Tensor' : 'Scalar').inplace([this, exponent]); return this; };
proto.atan2 = function (other) { return atan2(this, other); };
proto.atan2_ = function (other) { op('atan2_').inplace([this, isPyFloat(other) ? other.float : other]); return this; };
proto.maximum = function (other) { return maximum(this, other); };
proto.minimum = function (other) { return minimum(this, other); };
proto.lerp = function (end, weight) { return lerp(this, end, weight); };
proto.lerp_ = function (end, weight) { op('lerp_', isTensor(weight) ? 'Tensor' : 'Scalar').inplace([this, end, weight]); return this; };
proto.addcmul = function (t1, t2, value) { return addcmul(this, t1, t2, value); };
proto.addcmul_ = function (t1, t2, value) { op('addcmul_').inplace([this, t1, t2], { value: kwScalar(value, 'value', 1) }); return this; };
proto.addcdiv = function (t1, t2, value) { return addcdiv(this, t1, t2, value); };
proto.addcdiv_ = function (t1, t2, value) { op('addcdiv_').inplace([this, t1, t2], { value: kwScalar(value, 'value', 1) }); return this; };
proto.clamp = function (min, max) { return clamp(this, min, max); };
proto.clamp_ = function (min, max) {
  if ((min === undefined || min === null) && (max === undefined || max === null)) throw new TypeError('clamp_(): at least one of min and max must be given');
  op('clamp_', clampOverload(min, max)).inplace([this, ...clampArgs(min, max)]);
  return this;
};
proto.clip = proto.clamp;
proto.clip_ = proto.clamp_;
proto.clampMin = function (min) { return clampMin(this, min); };
proto.clampMin_ = function (min) { op('clamp_min_', isTensor(min) ? 'Tensor' : '').inplace([this, min]); return this; };
proto.clampMax = function (max) { return clampMax(this, max); };
proto.clampMax_ = function (max) { op('clamp_max_', isTensor(max) ? 'Tensor' : '').inplace([this, max]); return this; };
proto.nanToNum = function (nan, posinf, neginf) { return nanToNum(this, nan, posinf, neginf); };
proto.nanToNum_ = function (nan, posinf, neginf) { op('nan_to_num_').inplace([this, nan ?? null, posinf ?? null, neginf ?? null]); return this; };
proto.round = function (decimals) { return round(this, decimals); };
proto.round_ = function (decimals) {
  const d = typeof decimals === 'object' ? decimals.decimals ?? 0 : decimals ?? 0;
  if (d === 0) op('round_').inplace([this]);
  else op('round_', 'decimals').inplace([this], { decimals: d });
  return this;
};
proto.zero_ = function () { op('zero_').inplace([this]); return this; };
proto.fill_ = function (value) { op('fill_', isTensor(value) ? 'Tensor' : 'Scalar').inplace([this, value]); return this; };
proto.copy_ = function (src, nonBlocking = false) { op('copy_').inplace([this, src, nonBlocking]); return this; };
