// Parameter initialisation (torch.nn.init). Every function fills its tensor in
// place under noGrad and returns it. The arithmetic and the in-place ATen ops
// are PyTorch's, so after the same manualSeed the values are PyTorch's too.
// Each takes an optional Generator (global generator by default); arguments
// after the tensor may be given positionally or as one options object.
import { noGrad } from '../autograd.js';
import { tidy } from '../scope.js';
import { type Generator, Tensor, callT, callTs, op } from '../tensor.js';
import { scalarTensor, tensor as makeTensor } from '../ops/creation.js';
import '../ops/shape.js';

export type Nonlinearity =
  | 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose1d' | 'conv_transpose2d' | 'conv_transpose3d'
  | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

export type FanMode = 'fan_in' | 'fan_out';

/**
 * The recommended gain for a nonlinearity (calculate_gain); `param` is
 * leaky_relu's negative slope (default 0.01).
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number | null): number {
  const linear = ['linear', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d'];
  if (linear.includes(nonlinearity) || nonlinearity === 'sigmoid') return 1;
  if (nonlinearity === 'tanh') return 5.0 / 3;
  if (nonlinearity === 'relu') return Math.sqrt(2.0);
  if (nonlinearity === 'leaky_relu') {
    let slope = 0.01;
    if (param !== undefined && param !== null) {
      if (typeof param !== 'number' || Number.isNaN(param)) throw new TypeError(`calculateGain: negative_slope ${String(param)} not a valid number`);
      slope = param;
    }
    return Math.sqrt(2.0 / (1 + slope ** 2));
  }
  if (nonlinearity === 'selu') return 3.0 / 4;
  throw new RangeError(`calculateGain: unsupported nonlinearity '${String(nonlinearity)}'`);
}

/**
 * [fanIn, fanOut] of a weight (_calculate_fan_in_and_fan_out): dim 1 and
 * dim 0 times the receptive field (the product of the remaining dims).
 */
export function calculateFanInAndFanOut(tensor: Tensor): [number, number] {
  const shape = tensor.shape;
  if (shape.length < 2) {
    throw new RangeError(`Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (got shape [${shape.join(', ')}])`);
  }
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return [shape[1] * receptive, shape[0] * receptive];
}

/** fan_in or fan_out of a weight (_calculate_correct_fan). */
export function calculateCorrectFan(tensor: Tensor, mode: FanMode): number {
  const m = String(mode).toLowerCase();
  if (m !== 'fan_in' && m !== 'fan_out') throw new RangeError(`Mode ${String(mode)} not supported, please use one of ['fan_in', 'fan_out']`);
  const [fanIn, fanOut] = calculateFanInAndFanOut(tensor);
  return m === 'fan_in' ? fanIn : fanOut;
}

export interface GeneratorOption {
  generator?: Generator;
}

const gen = (g: Generator | undefined): { generator: Generator | null } => ({ generator: g ?? null });

function uniformInPlace(t: Tensor, from: number, to: number, g?: Generator): Tensor {
  noGrad(() => op('uniform_').inplace([t, from, to], gen(g)));
  return t;
}

function normalInPlace(t: Tensor, mean: number, std: number, g?: Generator): Tensor {
  noGrad(() => op('normal_').inplace([t, mean, std], gen(g)));
  return t;
}

export interface UniformOptions extends GeneratorOption {
  a?: number;
  b?: number;
}

/** Fills with U(a, b) (uniform_). */
export function uniform_(tensor: Tensor, a?: number | UniformOptions, b?: number, generator?: Generator): Tensor {
  const o: UniformOptions = typeof a === 'object' ? a : { a, b, generator };
  return uniformInPlace(tensor, o.a ?? 0, o.b ?? 1, o.generator);
}

export interface NormalOptions extends GeneratorOption {
  mean?: number;
  std?: number;
}

/** Fills with N(mean, std²) (normal_). */
export function normal_(tensor: Tensor, mean?: number | NormalOptions, std?: number, generator?: Generator): Tensor {
  const o: NormalOptions = typeof mean === 'object' ? mean : { mean, std, generator };
  return normalInPlace(tensor, o.mean ?? 0, o.std ?? 1, o.generator);
}

export interface TruncNormalOptions extends NormalOptions {
  /** Lower cutoff (default -2). */
  a?: number;
  /** Upper cutoff (default 2). */
  b?: number;
}

function erf(x: number): number {
  return tidy(() => callT(op('erf'), [scalarTensor(x, { dtype: 'float64' })]).item());
}

/**
 * Fills with N(mean, std²) truncated to [a, b] (trunc_normal_), by PyTorch's
 * inverse-CDF method: uniform in [2Φ(a')−1, 2Φ(b')−1], erfinv, scale, clamp.
 */
export function truncNormal_(tensor: Tensor, mean?: number | TruncNormalOptions, std?: number, a?: number, b?: number, generator?: Generator): Tensor {
  const o: TruncNormalOptions = typeof mean === 'object' ? mean : { mean, std, a, b, generator };
  const m = o.mean ?? 0;
  const s = o.std ?? 1;
  const lo = o.a ?? -2;
  const hi = o.b ?? 2;
  const normCdf = (x: number): number => (1 + erf(x / Math.sqrt(2))) / 2;
  const l = normCdf((lo - m) / s);
  const u = normCdf((hi - m) / s);
  noGrad(() => {
    op('uniform_').inplace([tensor, 2 * l - 1, 2 * u - 1], gen(o.generator));
    op('erfinv_').inplace([tensor]);
    op('mul_', 'Scalar').inplace([tensor, s * Math.sqrt(2)]);
    op('add_', 'Scalar').inplace([tensor, m]);
    op('clamp_').inplace([tensor, lo, hi]);
  });
  return tensor;
}

/** Fills with a constant (constant_). */
export function constant_(tensor: Tensor, value: number): Tensor {
  noGrad(() => op('fill_', 'Scalar').inplace([tensor, value]));
  return tensor;
}

export function zeros_(tensor: Tensor): Tensor {
  noGrad(() => op('zero_').inplace([tensor]));
  return tensor;
}

export function ones_(tensor: Tensor): Tensor {
  return constant_(tensor, 1);
}

/** Fills a 2-D tensor with the identity (eye_). */
export function eye_(tensor: Tensor): Tensor {
  if (tensor.ndim !== 2) throw new RangeError(`eye_: only tensors with 2 dimensions are supported, got shape [${tensor.shape.join(', ')}]`);
  const [n, m] = tensor.shape;
  tidy(() => noGrad(() => op('copy_').inplace([tensor, callT(op('eye', 'm'), [n, m], { dtype: tensor.dtype })])));
  return tensor;
}

/**
 * Fills a 3-, 4- or 5-D convolution weight with the Dirac delta (dirac_), so
 * the convolution preserves as many input channels as possible (per group).
 */
export function dirac_(tensor: Tensor, groups = 1): Tensor {
  const shape = tensor.shape;
  if (shape.length < 3 || shape.length > 5) throw new RangeError(`dirac_: only tensors with 3, 4, or 5 dimensions are supported, got shape [${shape.join(', ')}]`);
  if (shape[0] % groups !== 0) throw new RangeError(`dirac_: dim 0 (${shape[0]}) must be divisible by groups (${groups})`);
  const outPerGroup = shape[0] / groups;
  const minDim = Math.min(outPerGroup, shape[1]);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((x, y) => x * y, 1));
  const centre = shape.slice(2).reduce((acc, s, i) => acc + Math.floor(s / 2) * strides[i + 2], 0);
  const data = new Float64Array(tensor.numel());
  for (let g = 0; g < groups; g++) {
    for (let d = 0; d < minDim; d++) data[(g * outPerGroup + d) * strides[0] + d * strides[1] + centre] = 1;
  }
  tidy(() => noGrad(() => op('copy_').inplace([tensor, makeTensor(data, { shape })])));
  return tensor;
}

export interface GainOptions extends GeneratorOption {
  gain?: number;
}

/** Glorot uniform: U(−a, a), a = gain·√(6 / (fan_in + fan_out)) (xavier_uniform_). */
export function xavierUniform_(tensor: Tensor, gain?: number | GainOptions, generator?: Generator): Tensor {
  const o: GainOptions = typeof gain === 'object' ? gain : { gain, generator };
  const [fanIn, fanOut] = calculateFanInAndFanOut(tensor);
  const std = (o.gain ?? 1) * Math.sqrt(2.0 / (fanIn + fanOut));
  const a = Math.sqrt(3.0) * std;
  return uniformInPlace(tensor, -a, a, o.generator);
}

/** Glorot normal: N(0, std²), std = gain·√(2 / (fan_in + fan_out)) (xavier_normal_). */
export function xavierNormal_(tensor: Tensor, gain?: number | GainOptions, generator?: Generator): Tensor {
  const o: GainOptions = typeof gain === 'object' ? gain : { gain, generator };
  const [fanIn, fanOut] = calculateFanInAndFanOut(tensor);
  const std = (o.gain ?? 1) * Math.sqrt(2.0 / (fanIn + fanOut));
  return normalInPlace(tensor, 0, std, o.generator);
}

export interface KaimingOptions extends GeneratorOption {
  /** Negative slope of the following leaky_relu (default 0). */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

function kaimingStd(tensor: Tensor, o: KaimingOptions): number {
  const fan = calculateCorrectFan(tensor, o.mode ?? 'fan_in');
  const gain = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0);
  return gain / Math.sqrt(fan);
}

/** He uniform: U(−b, b), b = gain·√(3 / fan) (kaiming_uniform_). */
export function kaimingUniform_(tensor: Tensor, a?: number | KaimingOptions, mode?: FanMode, nonlinearity?: Nonlinearity, generator?: Generator): Tensor {
  const o: KaimingOptions = typeof a === 'object' ? a : { a, mode, nonlinearity, generator };
  if (tensor.shape.includes(0)) return tensor; // PyTorch: a no-op on zero-element tensors
  const bound = Math.sqrt(3.0) * kaimingStd(tensor, o);
  return uniformInPlace(tensor, -bound, bound, o.generator);
}

/** He normal: N(0, std²), std = gain / √fan (kaiming_normal_). */
export function kaimingNormal_(tensor: Tensor, a?: number | KaimingOptions, mode?: FanMode, nonlinearity?: Nonlinearity, generator?: Generator): Tensor {
  const o: KaimingOptions = typeof a === 'object' ? a : { a, mode, nonlinearity, generator };
  if (tensor.shape.includes(0)) return tensor;
  return normalInPlace(tensor, 0, kaimingStd(tensor, o), o.generator);
}

/**
 * A (semi-)orthogonal matrix, trailing dims flattened (orthogonal_): QR of a
 * Gaussian matrix with Q's columns sign-corrected by R's diagonal.
 */
export function orthogonal_(tensor: Tensor, gain?: number | GainOptions, generator?: Generator): Tensor {
  const o: GainOptions = typeof gain === 'object' ? gain : { gain, generator };
  if (tensor.ndim < 2) throw new RangeError(`orthogonal_: only tensors with 2 or more dimensions are supported, got shape [${tensor.shape.join(', ')}]`);
  if (tensor.numel() === 0) return tensor;
  const rows = tensor.shape[0];
  const cols = tensor.numel() / rows;
  tidy(() =>
    noGrad(() => {
      let flat = callT(op('empty', 'memory_format'), [[rows, cols]], { dtype: tensor.dtype, device: tensor.device });
      op('normal_').inplace([flat, 0, 1], gen(o.generator));
      if (rows < cols) flat = callT(op('t'), [flat]);
      const [q0, r] = callTs(op('linalg_qr'), [flat]);
      const ph = callT(op('sign'), [callT(op('diag'), [r, 0])]);
      let q = callT(op('mul', 'Tensor'), [q0, ph]);
      if (rows < cols) q = callT(op('t'), [q]);
      op('copy_').inplace([callT(op('view_as'), [tensor, q]), q]);
      op('mul_', 'Scalar').inplace([tensor, o.gain ?? 1]);
    }),
  );
  return tensor;
}
