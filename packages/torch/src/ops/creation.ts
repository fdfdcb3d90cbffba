// Tensor creation (torch.tensor, zeros, ones, full, arange, rand, ...) and the
// in-place random fills that initialisers use (uniform_, normal_, ...).
import { type DType, type TypedArray, dtypeOfArray, isFloatingPoint } from '../dtype.js';
import { native } from '../native.js';
import { type Device, Generator, type Scalar, Tensor, callT, op } from '../tensor.js';

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

/** A size: an array of dimensions, or one number for a 1-D size. */
export type Size = number | readonly number[];

/** Python's float literal: `{ float: 1 }` is 1.0 where a plain integral number would be an int. */
export type PyFloat = { float: number };

type Nested = number | boolean | readonly Nested[];

const sizeList = (s: Size): readonly number[] => (typeof s === 'number' ? [s] : s);

function shapeOf(data: Nested, path = 'data'): number[] {
  if (!Array.isArray(data)) return [];
  if (data.length === 0) return [0];
  const inner = shapeOf(data[0], `${path}[0]`);
  for (let i = 1; i < data.length; i++) {
    const s = shapeOf(data[i], `${path}[${i}]`);
    if (s.length !== inner.length || s.some((v, k) => v !== inner[k])) {
      throw new RangeError(`tensor(): ragged nested array at ${path}[${i}]: shape [${s}] differs from [${inner}]`);
    }
  }
  return [data.length, ...inner];
}

function fillFlat(data: Nested, out: (number | boolean)[]): void {
  if (Array.isArray(data)) for (const d of data) fillFlat(d, out);
  else if (typeof data === 'number' || typeof data === 'boolean') out.push(data);
  else throw new TypeError(`tensor(): expected numbers or booleans, got ${typeof data}`);
}

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  int8: [-128, 127], int16: [-32768, 32767], int32: [-2147483648, 2147483647], int64: [-(2 ** 63), 2 ** 63], uint8: [0, 255],
};

// Python's checked conversion of one value into an integer dtype: integral
// values may wrap into uint8 from below (-1 → 255), fractional ones truncate,
// anything else that does not fit is an overflow error.
function toIntegral(v: number | boolean, dtype: DType): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  const [lo, hi] = INT_RANGE[dtype] as [number, number];
  const overflow = () => new RangeError(`tensor(): value ${v} cannot be converted to type ${dtype} without overflow`);
  if (Number.isInteger(v)) {
    if (dtype === 'uint8' ? v > hi || -v > hi : v < lo || v > hi || (dtype === 'int64' && v === hi)) throw overflow();
    return v;
  }
  if (!Number.isFinite(v) || v < lo || v > hi) throw overflow();
  return Math.trunc(v);
}

function typedFrom(values: (number | boolean)[], dtype: DType): ArrayBufferView {
  switch (dtype) {
    case 'float32': return Float32Array.from(values, Number);
    case 'float64': return Float64Array.from(values, Number);
    case 'int64': return BigInt64Array.from(values, (v) => BigInt(toIntegral(v, dtype)));
    case 'int32': return Int32Array.from(values, (v) => toIntegral(v, dtype));
    case 'int16': return Int16Array.from(values, (v) => toIntegral(v, dtype));
    case 'int8': return Int8Array.from(values, (v) => toIntegral(v, dtype));
    case 'uint8': return Uint8Array.from(values, (v) => toIntegral(v, dtype));
    case 'bool': return Uint8Array.from(values, (v) => (Number(v) !== 0 ? 1 : 0)); // NaN is truthy, as in Python
    default: throw new TypeError(`tensor(): cannot stage values as ${dtype}`);
  }
}

function castTo(t: Tensor, dtype: DType): Tensor {
  if (t.dtype === dtype) return t;
  const cast = t.to({ dtype });
  t.dispose();
  return cast;
}

function finish(t: Tensor, o: CreateOptions): Tensor {
  let out = t;
  if (o.device !== undefined && o.device !== 'cpu') {
    out = t.to({ device: o.device });
    t.dispose();
  }
  if (o.requiresGrad) out.requiresGrad_(true);
  return out;
}

/**
 * A tensor from nested arrays, a typed array or a scalar (torch.tensor).
 * Like PyTorch: data of booleans gives bool, integers (and booleans) int64,
 * anything with a fractional, NaN or infinite value float32, unless `dtype`
 * says otherwise; values that do not fit an integer dtype are an error.
 * Typed arrays keep their type and take `shape` (default: 1-D); a Uint16Array
 * with dtype float16/bfloat16 is taken as raw bits.
 */
export function tensor(data: Nested | TypedArray | ArrayBufferView, options: CreateOptions & { shape?: readonly number[] } = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const own = (options.dtype === 'float16' || options.dtype === 'bfloat16') && data instanceof Uint16Array ? options.dtype : dtypeOfArray(data);
    const shape = options.shape ?? [data.byteLength / (data as TypedArray).BYTES_PER_ELEMENT];
    const t = new Tensor(native.fromBuffer(data, shape, own));
    return finish(options.dtype === undefined ? t : castTo(t, options.dtype), options);
  }
  const shape = shapeOf(data);
  const flat: (number | boolean)[] = [];
  fillFlat(data, flat);
  let inferred: DType = 'float32';
  if (flat.length > 0 && flat.every((v) => typeof v === 'boolean')) inferred = 'bool';
  else if (flat.length > 0 && flat.every((v) => typeof v === 'boolean' || Number.isInteger(v))) inferred = 'int64';
  const dtype = options.dtype ?? inferred;
  // 16-bit and complex types have no typed array: stage in float64 and cast (one rounding, as Python's).
  const stage: DType = isFloatingPoint(dtype) && dtype !== 'float32' ? 'float64' : dtype.startsWith('complex') ? 'float64' : dtype;
  let t = castTo(new Tensor(native.fromBuffer(typedFrom(flat, stage), shape, stage)), dtype);
  if (options.shape !== undefined) {
    const r = t.reshape(options.shape);
    t.dispose();
    t = r;
  }
  return finish(t, options);
}

/** Wraps a typed array with a shape (copying), e.g. fromTypedArray(f32, [2, 3]). */
export function fromTypedArray(data: TypedArray | ArrayBufferView, shape: readonly number[], dtype?: DType): Tensor {
  return new Tensor(native.fromBuffer(data, shape, dtype ?? dtypeOfArray(data)));
}

function factoryKw(o: CreateOptions, defaultDtype: DType | null = 'float32'): Record<string, string | null> {
  return { dtype: o.dtype ?? defaultDtype, device: o.device ?? null };
}

function withGrad(t: Tensor, o: CreateOptions): Tensor {
  if (o.requiresGrad) t.requiresGrad_(true);
  return t;
}

export function zeros(size: Size, options: CreateOptions = {}): Tensor {
  return withGrad(callT(op('zeros'), [sizeList(size)], factoryKw(options)), options);
}

export function ones(size: Size, options: CreateOptions = {}): Tensor {
  return withGrad(callT(op('ones'), [sizeList(size)], factoryKw(options)), options);
}

export function empty(size: Size, options: CreateOptions = {}): Tensor {
  return withGrad(callT(op('empty', 'memory_format'), [sizeList(size)], factoryKw(options)), options);
}

function isPyFloat(v: unknown): v is PyFloat {
  return typeof v === 'object' && v !== null && typeof (v as PyFloat).float === 'number';
}

/**
 * torch.full. As in PyTorch the dtype follows the fill value: bool for
 * booleans, int64 for integral numbers, float32 otherwise (`{ float: 1 }`
 * is Python's 1.0).
 */
export function full(size: Size, fillValue: Scalar | PyFloat, options: CreateOptions = {}): Tensor {
  const inferred = typeof fillValue === 'boolean' ? 'bool' : isPyFloat(fillValue) || !Number.isInteger(fillValue) ? 'float32' : 'int64';
  const dtype = options.dtype ?? inferred;
  return withGrad(callT(op('full'), [sizeList(size), fillValue], { ...factoryKw(options), dtype }), options);
}

export function eye(n: number, m: number | CreateOptions = n, options: CreateOptions = {}): Tensor {
  if (typeof m === 'object') return eye(n, n, m);
  return withGrad(callT(op('eye', 'm'), [n, m], factoryKw(options)), options);
}

/**
 * torch.arange(end) / arange(start, end, step), with an options object last.
 * As in PyTorch, integer arguments give int64 and any fractional one float32.
 */
export function arange(end: number, options?: CreateOptions): Tensor;
export function arange(start: number, end: number, options?: CreateOptions): Tensor;
export function arange(start: number, end: number, step: number, options?: CreateOptions): Tensor;
export function arange(a: number, b?: number | CreateOptions, c?: number | CreateOptions, d?: CreateOptions): Tensor {
  const nums = [a, b, c].filter((x): x is number => typeof x === 'number');
  const options = [b, c, d].find((x): x is CreateOptions => typeof x === 'object' && x !== null) ?? {};
  const [s, e, step] = nums.length === 1 ? [0, nums[0], 1] : [nums[0], nums[1], nums[2] ?? 1];
  if (step === 0) throw new RangeError('arange(): step must be nonzero');
  const integral = [s, e, step].every(Number.isInteger);
  const dtype = options.dtype ?? (integral ? 'int64' : 'float32');
  return withGrad(callT(op('arange', 'start_step'), [s, e, step], { ...factoryKw(options), dtype }), options);
}

export function linspace(start: number, end: number, steps: number, options: CreateOptions = {}): Tensor {
  return withGrad(callT(op('linspace'), [start, end, steps], factoryKw(options)), options);
}

export function logspace(start: number, end: number, steps: number, base = 10, options: CreateOptions = {}): Tensor {
  return withGrad(callT(op('logspace'), [start, end, steps, base], factoryKw(options)), options);
}

/** Uniform samples in [0, 1) (torch.rand); the same seed gives PyTorch's values. */
export function rand(size: Size, options: RandomOptions = {}): Tensor {
  const t = options.generator
    ? callT(op('rand', 'generator'), [sizeList(size)], { generator: options.generator, ...factoryKw(options) })
    : callT(op('rand'), [sizeList(size)], factoryKw(options));
  return withGrad(t, options);
}

/** Standard normal samples (torch.randn). */
export function randn(size: Size, options: RandomOptions = {}): Tensor {
  const t = options.generator
    ? callT(op('randn', 'generator'), [sizeList(size)], { generator: options.generator, ...factoryKw(options) })
    : callT(op('randn'), [sizeList(size)], factoryKw(options));
  return withGrad(t, options);
}

/** Integers in [low, high) (torch.randint(high, size) or randint(low, high, size)), int64 by default. */
export function randint(high: number, size: Size, options?: RandomOptions): Tensor;
export function randint(low: number, high: number, size: Size, options?: RandomOptions): Tensor;
export function randint(a: number, b: number | Size, c?: Size | RandomOptions, d?: RandomOptions): Tensor {
  let low = 0, high: number, size: Size, options: RandomOptions;
  if (typeof c === 'number' || Array.isArray(c)) [low, high, size, options] = [a, b as number, c as Size, d ?? {}];
  else [high, size, options] = [a, b as Size, (c as RandomOptions | undefined) ?? {}];
  const kw = factoryKw(options, 'int64');
  return options.generator
    ? callT(op('randint', 'low_generator'), [low, high, sizeList(size)], { generator: options.generator, ...kw })
    : callT(op('randint', 'low'), [low, high, sizeList(size)], kw);
}

/** A random permutation of 0..n-1 (torch.randperm). */
export function randperm(n: number, options: RandomOptions = {}): Tensor {
  const kw = factoryKw(options, 'int64');
  return options.generator ? callT(op('randperm', 'generator'), [n], { generator: options.generator, ...kw }) : callT(op('randperm'), [n], kw);
}

/**
 * Normal samples (torch.normal): normal(mean, std, size) with numbers, or
 * elementwise means and/or stds from tensors, normal(meanTensor, std).
 */
export function normal(mean: number, std: number, size: Size, options?: RandomOptions): Tensor;
export function normal(mean: Tensor | number, std: Tensor | number, options?: { generator?: Generator }): Tensor;
export function normal(mean: Tensor | number, std: Tensor | number, size?: Size | RandomOptions, options: RandomOptions = {}): Tensor {
  if (typeof mean === 'number' && typeof std === 'number') {
    if (size === undefined || (typeof size === 'object' && !Array.isArray(size))) throw new TypeError('normal(): give a size when mean and std are numbers');
    const t = callT(op('normal', 'float_float'), [mean, std, sizeList(size as Size)], { generator: options.generator ?? null, ...factoryKw(options) });
    return withGrad(t, options);
  }
  const g = { generator: (size as RandomOptions | undefined)?.generator ?? null };
  if (mean instanceof Tensor && std instanceof Tensor) return callT(op('normal', 'Tensor_Tensor'), [mean, std], g);
  if (mean instanceof Tensor) return callT(op('normal', 'Tensor_float'), [mean, std], g);
  return callT(op('normal', 'float_Tensor'), [mean, std], g);
}

/** Draws 0/1 with probability `p` (the tensor's values, or a fixed p) (torch.bernoulli). */
export function bernoulli(input: Tensor, p?: number, options: { generator?: Generator } = {}): Tensor {
  const g = options.generator ?? null;
  return p === undefined ? callT(op('bernoulli'), [input], { generator: g }) : callT(op('bernoulli', 'p'), [input, p], { generator: g });
}

/** Samples category indices from rows of probabilities (torch.multinomial). */
export function multinomial(input: Tensor, numSamples: number, replacement = false, options: { generator?: Generator } = {}): Tensor {
  return callT(op('multinomial'), [input, numSamples, replacement], { generator: options.generator ?? null });
}

function likeKw(t: Tensor, o: CreateOptions): Record<string, string | null> {
  return { dtype: o.dtype ?? t.dtype, device: o.device ?? t.device };
}

export function zerosLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return withGrad(callT(op('zeros_like'), [t], likeKw(t, options)), options);
}

export function onesLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return withGrad(callT(op('ones_like'), [t], likeKw(t, options)), options);
}

export function emptyLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return withGrad(callT(op('empty_like'), [t], likeKw(t, options)), options);
}

export function fullLike(t: Tensor, fillValue: Scalar | PyFloat, options: CreateOptions = {}): Tensor {
  return withGrad(callT(op('full_like'), [t, fillValue], likeKw(t, options)), options);
}

export function randLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return withGrad(callT(op('rand_like'), [t], likeKw(t, options)), options);
}

export function randnLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return withGrad(callT(op('randn_like'), [t], likeKw(t, options)), options);
}

/** torch.randint_like(t, high) or randint_like(t, low, high). */
export function randintLike(t: Tensor, high: number, options?: CreateOptions): Tensor;
export function randintLike(t: Tensor, low: number, high: number, options?: CreateOptions): Tensor;
export function randintLike(t: Tensor, a: number, b?: number | CreateOptions, c?: CreateOptions): Tensor {
  const [low, high, options] = typeof b === 'number' ? [a, b, c ?? {}] : [0, a, b ?? {}];
  return callT(op('randint_like', 'low_dtype'), [t, low, high], likeKw(t, options));
}

/** A 0-d tensor holding one value; float32 unless it is a boolean or dtype says otherwise (as torch.scalar_tensor). */
export function scalarTensor(value: Scalar, options: CreateOptions = {}): Tensor {
  const dtype = options.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
  return withGrad(callT(op('scalar_tensor'), [value], { dtype, device: options.device ?? null }), options);
}

// ---- Tensor methods: new_* factories and in-place random fills --------------

declare module '../tensor.js' {
  interface Tensor {
    /** Same dtype and device as this tensor unless options say otherwise (Tensor.new_zeros). */
    newZeros(size: Size, options?: CreateOptions): Tensor;
    newOnes(size: Size, options?: CreateOptions): Tensor;
    newEmpty(size: Size, options?: CreateOptions): Tensor;
    newFull(size: Size, fillValue: Scalar | PyFloat, options?: CreateOptions): Tensor;
    /** A tensor from data with this tensor's dtype and device (Tensor.new_tensor). */
    newTensor(data: Nested, options?: CreateOptions): Tensor;
    uniform_(from?: number, to?: number, options?: { generator?: Generator }): this;
    normal_(mean?: number, std?: number, options?: { generator?: Generator }): this;
    bernoulli_(p?: number | Tensor, options?: { generator?: Generator }): this;
    bernoulli(p?: number, options?: { generator?: Generator }): Tensor;
    /** Integers in [from, to) (Tensor.random_(from, to) / random_(to)). */
    random_(from?: number, to?: number, options?: { generator?: Generator }): this;
    exponential_(lambd?: number, options?: { generator?: Generator }): this;
    multinomial(numSamples: number, replacement?: boolean, options?: { generator?: Generator }): Tensor;
  }
}

const proto = Tensor.prototype;
const newKw = (t: Tensor, o: CreateOptions): CreateOptions => ({ ...o, dtype: o.dtype ?? t.dtype, device: o.device ?? t.device });
proto.newZeros = function (size, options = {}) { return zeros(size, newKw(this, options)); };
proto.newOnes = function (size, options = {}) { return ones(size, newKw(this, options)); };
proto.newEmpty = function (size, options = {}) { return empty(size, newKw(this, options)); };
proto.newFull = function (size, fillValue, options = {}) { return full(size, fillValue, newKw(this, options)); };
proto.newTensor = function (data, options = {}) { return tensor(data, newKw(this, options)); };
proto.uniform_ = function (from = 0, to = 1, options = {}) {
  op('uniform_').inplace([this, from, to], { generator: options.generator ?? null });
  return this;
};
proto.normal_ = function (mean = 0, std = 1, options = {}) {
  op('normal_').inplace([this, mean, std], { generator: options.generator ?? null });
  return this;
};
proto.bernoulli_ = function (p = 0.5, options = {}) {
  if (p instanceof Tensor) op('bernoulli_', 'Tensor').inplace([this, p], { generator: options.generator ?? null });
  else op('bernoulli_', 'float').inplace([this, p], { generator: options.generator ?? null });
  return this;
};
proto.bernoulli = function (p, options) { return bernoulli(this, p, options); };
proto.random_ = function (from?: number, to?: number, options: { generator?: Generator } = {}) {
  const g = { generator: options.generator ?? null };
  if (from === undefined) op('random_').inplace([this], g);
  else if (to === undefined) op('random_', 'to').inplace([this, from], g);
  else op('random_', 'from').inplace([this, from, to], g);
  return this;
};
proto.exponential_ = function (lambd = 1, options = {}) {
  op('exponential_').inplace([this, lambd], { generator: options.generator ?? null });
  return this;
};
proto.multinomial = function (numSamples, replacement, options) { return multinomial(this, numSamples, replacement, options); };

export { isFloatingPoint };
