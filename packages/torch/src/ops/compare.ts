// Comparisons, logical and bitwise ops, where, allclose / equal.
import { Tensor, callT, callTs, op } from '../tensor.js';
import { type TensorOrScalar, isPyFloat } from './math.js';

const isTensor = (x: unknown): x is Tensor => x instanceof Tensor;

// [JS name, aten name] of binary ops whose other operand may be a tensor or a scalar.
const BINARY = [
  ['eq', 'eq'], ['ne', 'ne'], ['lt', 'lt'], ['le', 'le'], ['gt', 'gt'], ['ge', 'ge'],
  ['logicalAnd', 'logical_and'], ['logicalOr', 'logical_or'], ['logicalXor', 'logical_xor'],
  ['bitwiseAnd', 'bitwise_and'], ['bitwiseOr', 'bitwise_or'], ['bitwiseXor', 'bitwise_xor'],
  ['bitwiseLeftShift', 'bitwise_left_shift'], ['bitwiseRightShift', 'bitwise_right_shift'],
] as const;

// Comparisons and bitwise ops take a { float } through their Scalar overloads;
// the logical ops have only a Tensor overload, where its value is as good.
function binOverload(aten: string, other: unknown): string {
  if (aten.startsWith('logical')) return '';
  if (!isPyFloat(other)) return 'Tensor';
  return aten.includes('shift') ? 'Tensor_Scalar' : 'Scalar';
}

const operand = (aten: string, other: TensorOrScalar): TensorOrScalar => (aten.startsWith('logical') && isPyFloat(other) ? other.float : other);

const binary = (aten: string) => (input: Tensor, other: TensorOrScalar): Tensor => callT(op(aten, binOverload(aten, other)), [input, operand(aten, other)]);

export const eq = binary('eq');
export const ne = binary('ne');
export const lt = binary('lt');
export const le = binary('le');
export const gt = binary('gt');
export const ge = binary('ge');
export const notEqual = ne;
export const less = lt;
export const lessEqual = le;
export const greater = gt;
export const greaterEqual = ge;
export const logicalAnd = binary('logical_and');
export const logicalOr = binary('logical_or');
export const logicalXor = binary('logical_xor');
export const bitwiseAnd = binary('bitwise_and');
export const bitwiseOr = binary('bitwise_or');
export const bitwiseXor = binary('bitwise_xor');
export const bitwiseLeftShift = binary('bitwise_left_shift');
export const bitwiseRightShift = binary('bitwise_right_shift');

const UNARY = [
  ['logicalNot', 'logical_not', true], ['bitwiseNot', 'bitwise_not', true], ['isnan', 'isnan', false], ['isinf', 'isinf', false],
  ['isfinite', 'isfinite', false], ['isposinf', 'isposinf', false], ['isneginf', 'isneginf', false], ['signbit', 'signbit', false],
] as const;

const unary = (aten: string) => (input: Tensor): Tensor => callT(op(aten), [input]);

export const logicalNot = unary('logical_not');
export const bitwiseNot = unary('bitwise_not');
export const isnan = unary('isnan');
export const isinf = unary('isinf');
export const isfinite = unary('isfinite');
export const isposinf = unary('isposinf');
export const isneginf = unary('isneginf');
export const signbit = unary('signbit');

export interface CloseOptions {
  rtol?: number;
  atol?: number;
  equalNan?: boolean;
}

function closeArgs(rtol: number | CloseOptions | undefined, atol: number | undefined, equalNan: boolean | undefined): [number, number, boolean] {
  if (typeof rtol === 'object') return [rtol.rtol ?? 1e-5, rtol.atol ?? 1e-8, rtol.equalNan ?? false];
  return [rtol ?? 1e-5, atol ?? 1e-8, equalNan ?? false];
}

/** |input - other| <= atol + rtol * |other|, elementwise (torch.isclose). */
export function isclose(input: Tensor, other: Tensor, rtol?: number | CloseOptions, atol?: number, equalNan?: boolean): Tensor {
  return callT(op('isclose'), [input, other, ...closeArgs(rtol, atol, equalNan)]);
}

/** Whether isclose holds everywhere (torch.allclose). */
export function allclose(input: Tensor, other: Tensor, rtol?: number | CloseOptions, atol?: number, equalNan?: boolean): boolean {
  return op('allclose')([input, other, ...closeArgs(rtol, atol, equalNan)]) as boolean;
}

/** Same shape and the same values (torch.equal). */
export function equal(input: Tensor, other: Tensor): boolean {
  return op('equal')([input, other]) as boolean;
}

/**
 * where(condition, input, other): input where condition holds, else other;
 * either may be a scalar (torch.where). where(condition) is nonzero(condition, asTuple).
 */
export function where(condition: Tensor): Tensor[];
export function where(condition: Tensor, input: TensorOrScalar, other: TensorOrScalar): Tensor;
export function where(condition: Tensor, input?: TensorOrScalar, other?: TensorOrScalar): Tensor | Tensor[] {
  if (input === undefined && other === undefined) return callTs(op('where'), [condition]);
  if (input === undefined || other === undefined) throw new TypeError('where(): give both input and other, or neither');
  const overload = isTensor(input) ? (isTensor(other) ? 'self' : 'ScalarOther') : isTensor(other) ? 'ScalarSelf' : 'Scalar';
  return callT(op('where', overload), [condition, input, other]);
}

type Other = TensorOrScalar;

declare module '../tensor.js' {
  interface Tensor {
    eq(other: Other): Tensor; eq_(other: Other): this;
    ne(other: Other): Tensor; ne_(other: Other): this;
    lt(other: Other): Tensor; lt_(other: Other): this;
    le(other: Other): Tensor; le_(other: Other): this;
    gt(other: Other): Tensor; gt_(other: Other): this;
    ge(other: Other): Tensor; ge_(other: Other): this;
    logicalAnd(other: Other): Tensor; logicalAnd_(other: Other): this;
    logicalOr(other: Other): Tensor; logicalOr_(other: Other): this;
    logicalXor(other: Other): Tensor; logicalXor_(other: Other): this;
    bitwiseAnd(other: Other): Tensor; bitwiseAnd_(other: Other): this;
    bitwiseOr(other: Other): Tensor; bitwiseOr_(other: Other): this;
    bitwiseXor(other: Other): Tensor; bitwiseXor_(other: Other): this;
    bitwiseLeftShift(other: Other): Tensor; bitwiseLeftShift_(other: Other): this;
    bitwiseRightShift(other: Other): Tensor; bitwiseRightShift_(other: Other): this;
    logicalNot(): Tensor; logicalNot_(): this;
    bitwiseNot(): Tensor; bitwiseNot_(): this;
    isnan(): Tensor;
    isinf(): Tensor;
    isfinite(): Tensor;
    isposinf(): Tensor;
    isneginf(): Tensor;
    signbit(): Tensor;
    isclose(other: Tensor, rtol?: number | CloseOptions, atol?: number, equalNan?: boolean): Tensor;
    allclose(other: Tensor, rtol?: number | CloseOptions, atol?: number, equalNan?: boolean): boolean;
    equal(other: Tensor): boolean;
    /** torch.where(condition, this, other). */
    where(condition: Tensor, other: TensorOrScalar): Tensor;
  }
}

const proto = Tensor.prototype;
const methods = proto as unknown as Record<string, (this: Tensor, ...args: never[]) => unknown>;
for (const [js, aten] of BINARY) {
  methods[js] = function (this: Tensor, other: Other) { return callT(op(aten, binOverload(aten, other)), [this, operand(aten, other)]); };
  methods[`${js}_`] = function (this: Tensor, other: Other) { op(`${aten}_`, binOverload(aten, other)).inplace([this, operand(aten, other)]); return this; };
}
for (const [js, aten, hasInplace] of UNARY) {
  methods[js] = function (this: Tensor) { return callT(op(aten), [this]); };
  if (hasInplace) methods[`${js}_`] = function (this: Tensor) { op(`${aten}_`).inplace([this]); return this; };
}
proto.isclose = function (other, rtol, atol, equalNan) { return isclose(this, other, rtol, atol, equalNan); };
proto.allclose = function (other, rtol, atol, equalNan) { return allclose(this, other, rtol, atol, equalNan); };
proto.equal = function (other) { return equal(this, other); };
proto.where = function (condition, other) { return where(condition, this, other); };
