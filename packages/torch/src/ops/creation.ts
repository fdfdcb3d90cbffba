// Tensor creation (torch.tensor, zeros, ones, full, arange, rand, ...).
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

type Nested = number | boolean | Nested[];

function finish(t: Tensor, o: CreateOptions): Tensor {
  let out = t;
  if (o.device !== undefined && o.device !== 'cpu') {
    out = t.to({ device: o.device });
    t.dispose();
  }
  if (o.requiresGrad) out.requiresGrad_(true);
  return out;
}

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
  else out.push(data);
}

function typedFrom(values: (number | boolean)[], dtype: DType): ArrayBufferView {
  switch (dtype) {
    case 'float32': return Float32Array.from(values, Number);
    case 'float64': return Float64Array.from(values, Number);
    case 'int64': return BigInt64Array.from(values, (v) => BigInt(Math.trunc(Number(v))));
    case 'int32': return Int32Array.from(values, Number);
    case 'int16': return Int16Array.from(values, Number);
    case 'int8': return Int8Array.from(values, Number);
    case 'uint8': return Uint8Array.from(values, Number);
    case 'bool': return Uint8Array.from(values, (v) => (v ? 1 : 0));
    default: return Float32Array.from(values, Number);
  }
}

/**
 * A tensor from nested arrays, a typed array or a scalar (torch.tensor).
 * Like PyTorch: all-integer data gives int64, booleans give bool, anything
 * else float32, unless `dtype` says otherwise. Typed arrays keep their type
 * and take `shape` (default: 1-D).
 */
export function tensor(data: Nested | TypedArray | ArrayBufferView, options: CreateOptions & { shape?: readonly number[] } = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const own = options.dtype === 'float16' || options.dtype === 'bfloat16' ? options.dtype : dtypeOfArray(data);
    const shape = options.shape ?? [data.byteLength / (data as TypedArray).BYTES_PER_ELEMENT];
    let t = new Tensor(native.fromBuffer(data, shape, own));
    if (options.dtype !== undefined && options.dtype !== own) {
      const cast = t.to({ dtype: options.dtype });
      t.dispose();
      t = cast;
    }
    return finish(t, options);
  }
  const shape = shapeOf(data);
  const flat: (number | boolean)[] = [];
  fillFlat(data, flat);
  let inferred: DType = 'float32';
  if (flat.length > 0 && flat.every((v) => typeof v === 'boolean')) inferred = 'bool';
  else if (flat.length > 0 && flat.every((v) => typeof v === 'number' && Number.isInteger(v))) inferred = 'int64';
  const dtype = options.dtype ?? inferred;
  const stage: DType = dtype === 'float16' || dtype === 'bfloat16' || dtype.startsWith('complex') ? 'float64' : dtype;
  let t = new Tensor(native.fromBuffer(typedFrom(flat, stage), shape, stage));
  if (stage !== dtype) {
    const cast = t.to({ dtype });
    t.dispose();
    t = cast;
  }
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

export function zeros(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return withGrad(callT(op('zeros'), [shape], factoryKw(options)), options);
}

export function ones(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return withGrad(callT(op('ones'), [shape], factoryKw(options)), options);
}

export function empty(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return withGrad(callT(op('empty', 'memory_format'), [shape], factoryKw(options)), options);
}

/** torch.full; the dtype defaults to float32 for numbers and bool for booleans. */
export function full(shape: readonly number[], fillValue: Scalar, options: CreateOptions = {}): Tensor {
  const dtype = options.dtype ?? (typeof fillValue === 'boolean' ? 'bool' : 'float32');
  return withGrad(callT(op('full'), [shape, fillValue], { ...factoryKw(options), dtype }), options);
}

export function eye(n: number, m: number = n, options: CreateOptions = {}): Tensor {
  return withGrad(callT(op('eye', 'm'), [n, m], factoryKw(options)), options);
}

/**
 * torch.arange(end) / arange(start, end, step). As in PyTorch, integer
 * arguments give int64 and any fractional one gives float32.
 */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  const [s, e] = end === undefined ? [0, start] : [start, end];
  const integral = [s, e, step].every(Number.isInteger);
  const dtype = options.dtype ?? (integral ? 'int64' : 'float32');
  return withGrad(callT(op('arange', 'start_step'), [s, e, step], { ...factoryKw(options), dtype }), options);
}

export function linspace(start: number, end: number, steps: number, options: CreateOptions = {}): Tensor {
  return withGrad(callT(op('linspace'), [start, end, steps], factoryKw(options)), options);
}

export function rand(shape: readonly number[], options: RandomOptions = {}): Tensor {
  const t = options.generator
    ? callT(op('rand', 'generator'), [shape], { generator: options.generator, ...factoryKw(options) })
    : callT(op('rand'), [shape], factoryKw(options));
  return withGrad(t, options);
}

export function randn(shape: readonly number[], options: RandomOptions = {}): Tensor {
  const t = options.generator
    ? callT(op('randn', 'generator'), [shape], { generator: options.generator, ...factoryKw(options) })
    : callT(op('randn'), [shape], factoryKw(options));
  return withGrad(t, options);
}

/** Integers in [low, high) (torch.randint), int64 by default. */
export function randint(low: number, high: number, shape: readonly number[], options: RandomOptions = {}): Tensor {
  const kw = { ...factoryKw(options, 'int64') };
  return options.generator
    ? callT(op('randint', 'low_generator'), [low, high, shape], { generator: options.generator, ...kw })
    : callT(op('randint', 'low'), [low, high, shape], kw);
}

/** A random permutation of 0..n-1 (torch.randperm). */
export function randperm(n: number, options: RandomOptions = {}): Tensor {
  const kw = factoryKw(options, 'int64');
  return options.generator ? callT(op('randperm', 'generator'), [n], { generator: options.generator, ...kw }) : callT(op('randperm'), [n], kw);
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

export function fullLike(t: Tensor, fillValue: Scalar, options: CreateOptions = {}): Tensor {
  return withGrad(callT(op('full_like'), [t, fillValue], likeKw(t, options)), options);
}

export function randLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return withGrad(callT(op('rand_like'), [t], likeKw(t, options)), options);
}

export function randnLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return withGrad(callT(op('randn_like'), [t], likeKw(t, options)), options);
}

export function randintLike(t: Tensor, low: number, high: number, options: CreateOptions = {}): Tensor {
  return callT(op('randint_like', 'low_dtype'), [t, low, high], likeKw(t, options));
}

/** A 0-d tensor holding one value, float32 unless it is a boolean or dtype says otherwise. */
export function scalarTensor(value: Scalar, options: CreateOptions = {}): Tensor {
  const dtype = options.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
  return callT(op('scalar_tensor'), [value], { dtype, device: options.device ?? null });
}

export { isFloatingPoint };
