// Intensity augmentations on batches x [B, C, (Z,) Y, X] with parameters per
// sample and channel. The functions are deterministic (parameters in,
// tensor out); the op definitions at the end draw those parameters like
// nnU-Net v2 / batchgenerators (and TorchIO, torchvision for the rest).
// In per-channel parameter lists, null leaves that channel untouched.
import * as torch from '@labelwise/torch';
import { F, type Tensor } from '@labelwise/torch';
import type { IntensityOpDef } from './augment-ops.js';
import { type Json, type JsonObject, isNum, recorded } from './augment-params.js';
import { gaussianFilter } from './augment-filters.js';
import { Rng, normalTensor, uniformTensor } from '../random/rng.js';

type RowParam = number | null;

function checkBatch(fn: string, x: Tensor): { B: number; C: number; spatial: number[] } {
  const d = x.ndim - 2;
  if (d !== 2 && d !== 3) throw new RangeError(`${fn}: expected [B, C, ...spatial] with 2 or 3 spatial dims, got [${x.shape.join(', ')}]`);
  if (!torch.isFloatingPoint(x.dtype)) throw new TypeError(`${fn}: expected a floating-point image, got ${x.dtype}`);
  return { B: x.shape[0], C: x.shape[1], spatial: x.shape.slice(2) };
}

function checkRows<T>(fn: string, name: string, v: readonly (readonly T[])[], B: number, C: number): void {
  if (v.length !== B || v.some((r) => r.length !== C)) throw new RangeError(`${fn}: expected ${name} as ${B} lists (samples) of ${C} values (channels)`);
}

/** [B][C] values as a [B·C, 1] column in x's dtype, null → `fill`. */
function column(v: readonly (readonly RowParam[])[], fill: number, dtype: Tensor['dtype']): Tensor {
  return torch.tensor(v.flat().map((p) => p ?? fill), { dtype: dtype as 'float32' }).reshape([-1, 1]);
}

/** [B·C, 1] bool: which rows are augmented. */
function activeRows(v: readonly (readonly RowParam[])[]): Tensor {
  return torch.tensor(v.flat().map((p) => p !== null), { dtype: 'bool' }).reshape([-1, 1]);
}

/** Runs fn on x viewed as rows [B·C, N]; rows with a null parameter are returned unchanged. */
function byRows(x: Tensor, v: readonly (readonly RowParam[])[], fn: (rows: Tensor) => Tensor): Tensor {
  return torch.tidy(() => {
    const rows = x.reshape([x.shape[0] * x.shape[1], -1]);
    const y = fn(rows);
    const all = v.every((r) => r.every((p) => p !== null));
    return (all ? y : torch.where(activeRows(v), y, rows)).reshape(x.shape);
  });
}

// ---- functions -----------------------------------------------------------------------------

/** x · factor per sample and channel (nnU-Net's multiplicative brightness). */
export function multiplyBrightness(x: Tensor, factor: readonly (readonly RowParam[])[]): Tensor {
  const { B, C } = checkBatch('multiplyBrightness', x);
  checkRows('multiplyBrightness', 'factor', factor, B, C);
  return byRows(x, factor, (r) => r.mul(column(factor, 1, x.dtype)));
}

/** x + shift per sample and channel (batchgenerators' additive brightness). */
export function addBrightness(x: Tensor, shift: readonly (readonly RowParam[])[]): Tensor {
  const { B, C } = checkBatch('addBrightness', x);
  checkRows('addBrightness', 'shift', shift, B, C);
  return byRows(x, shift, (r) => r.add(column(shift, 0, x.dtype)));
}

/**
 * Contrast about the mean (batchgenerators augment_contrast): y = (x − μ)·f + μ,
 * clipped to the channel's original [min, max] when preserveRange.
 */
export function adjustContrast(x: Tensor, factor: readonly (readonly RowParam[])[], preserveRange = true): Tensor {
  const { B, C } = checkBatch('adjustContrast', x);
  checkRows('adjustContrast', 'factor', factor, B, C);
  return byRows(x, factor, (r) => {
    const mean = r.mean(1, true);
    const y = r.sub(mean).mul_(column(factor, 1, x.dtype)).add_(mean);
    return preserveRange ? y.clamp(r.amin(1, true), r.amax(1, true)) : y;
  });
}

export interface GammaOptions {
  /** Per sample and channel: apply to −x (and negate back), i.e. gamma on the inverted image. */
  invert?: readonly (readonly boolean[])[];
  /** Per sample and channel: restore the channel's mean and standard deviation afterwards. */
  retainStats?: readonly (readonly boolean[])[];
}

/**
 * Gamma (batchgenerators augment_gamma): with m = min, r = max − min,
 * y = ((x − m)/(r + 1e-7))^γ · r + m; retainStats rescales y to the original
 * mean and (population) standard deviation; invert works on −x.
 */
export function adjustGamma(x: Tensor, gamma: readonly (readonly RowParam[])[], options: GammaOptions = {}): Tensor {
  const { B, C } = checkBatch('adjustGamma', x);
  checkRows('adjustGamma', 'gamma', gamma, B, C);
  const flag = (v: readonly (readonly boolean[])[] | undefined, name: string, dflt: boolean): boolean[] => {
    if (v === undefined) return new Array<boolean>(B * C).fill(dflt);
    checkRows('adjustGamma', name, v, B, C);
    return v.flat();
  };
  const inv = flag(options.invert, 'invert', false);
  const retain = flag(options.retainStats, 'retainStats', true);
  return byRows(x, gamma, (r) => {
    const sign = torch.tensor(inv.map((i) => (i ? -1 : 1)), { dtype: x.dtype as 'float32' }).reshape([-1, 1]);
    const v = r.mul(sign);
    const [std, mean] = torch.stdMean(v, { dim: 1, unbiased: false, keepdim: true });
    const mn = v.amin(1, true);
    const range = v.amax(1, true).sub_(mn);
    let y = v.sub(mn).div_(range.add(1e-7)).pow_(column(gamma, 1, x.dtype)).mul_(range).add_(mn);
    if (retain.some(Boolean)) {
      const [s2, m2] = torch.stdMean(y, { dim: 1, unbiased: false, keepdim: true });
      const kept = y.sub(m2).div_(s2.add_(1e-8)).mul_(std).add_(mean);
      y = retain.every(Boolean) ? kept : torch.where(torch.tensor(retain, { dtype: 'bool' }).reshape([-1, 1]), kept, y);
    }
    return y.mul_(sign);
  });
}

/**
 * Adds N(0, std²) noise per sample and channel; sample b's noise comes from
 * normalTensor(seeds[b]). `clip` limits each noise value to
 * ±clip·std (SSL4MIS clips at 2σ).
 */
export function addGaussianNoise(x: Tensor, std: readonly (readonly number[])[], seeds: readonly number[], clip: number | null = null): Tensor {
  const { B, C, spatial } = checkBatch('addGaussianNoise', x);
  checkRows('addGaussianNoise', 'std', std, B, C);
  if (seeds.length !== B) throw new RangeError(`addGaussianNoise: expected ${B} seeds, got ${seeds.length}`);
  return torch.tidy(() => {
    const noise = torch.cat(seeds.map((s) => normalTensor(s, [1, C, ...spatial])), 0).to(x.dtype);
    if (clip !== null) noise.clamp_(-clip, clip);
    const sd = torch.tensor(std.flat(), { dtype: x.dtype as 'float32' }).reshape([B, C, ...spatial.map(() => 1)]);
    return x.add(noise.mul_(sd));
  });
}

/** Gaussian blur with σ (voxels) per sample, channel and axis; scipy 'reflect' borders, kernel radius 4σ. */
export function gaussianBlur(x: Tensor, sigma: readonly (readonly (readonly number[] | null)[])[]): Tensor {
  const { B, C, spatial } = checkBatch('gaussianBlur', x);
  checkRows('gaussianBlur', 'sigma', sigma, B, C);
  const rows = sigma.flat().map((s) => s ?? spatial.map(() => 0));
  if (rows.some((s) => s.length !== spatial.length || s.some((v) => !(v >= 0)))) throw new RangeError(`gaussianBlur: expected ${spatial.length} sigmas ≥ 0 per channel`);
  return gaussianFilter(x, rows, { mode: 'reflect' });
}

/**
 * Simulated low resolution (nnU-Net): per channel, downsample by `zoom` per
 * axis with nearest neighbour, then upsample back (bicubic in 2D, trilinear in
 * 3D: libtorch has no tricubic). zoom 1 on an axis keeps it.
 */
export function simulateLowResolution(x: Tensor, zoom: readonly (readonly (readonly number[] | null)[])[]): Tensor {
  const { B, C, spatial } = checkBatch('simulateLowResolution', x);
  checkRows('simulateLowResolution', 'zoom', zoom, B, C);
  return torch.tidy(() => {
    const out = x.clone();
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        const z = zoom[b][c];
        if (z === null) continue;
        if (z.length !== spatial.length || z.some((v) => !(v > 0 && v <= 1))) throw new RangeError(`simulateLowResolution: zoom must be ${spatial.length} values in (0, 1], got [${z.join(', ')}]`);
        const low = spatial.map((n, a) => Math.max(1, Math.round(n * z[a])));
        if (low.every((n, a) => n === spatial[a])) continue;
        const ch = x.narrow(0, b, 1).narrow(1, c, 1);
        const down = F.interpolate(ch, { size: low, mode: 'nearest' });
        const up = F.interpolate(down, { size: spatial, mode: spatial.length === 2 ? 'bicubic' : 'trilinear', alignCorners: false });
        out.narrow(0, b, 1).narrow(1, c, 1).copy_(up);
      }
    }
    return out;
  });
}

/** Exponent tuples (e0, ..., e_{d−1}) with Σe ≤ order, in TorchIO's nested-loop order. */
export function polynomialTerms(order: number, d: number): number[][] {
  const terms: number[][] = [];
  const rec = (prefix: number[], left: number): void => {
    if (prefix.length === d) {
      terms.push(prefix);
      return;
    }
    for (let e = 0; e <= left; e++) rec([...prefix, e], left - e);
  };
  rec([], order);
  return terms;
}

/**
 * Multiplies by a smooth bias field exp(Σ c_t · Π_a u_a^{e_ta}) (TorchIO's
 * RandomBiasField), u_a ∈ [−1, 1] the normalised coordinate along axis a and
 * t over polynomialTerms(order, d). The same field for all channels.
 */
export function applyBiasField(x: Tensor, coefficients: readonly (readonly number[])[], order: number): Tensor {
  const { B, spatial } = checkBatch('applyBiasField', x);
  const terms = polynomialTerms(order, spatial.length);
  if (coefficients.length !== B || coefficients.some((c) => c.length !== terms.length)) {
    throw new RangeError(`applyBiasField: expected ${B} lists of ${terms.length} coefficients (order ${order}, ${spatial.length}D)`);
  }
  return torch.tidy(() => {
    // log-field = G[n0, T] @ P[T, rest]: axis 0 carries the coefficients, the
    // other axes' monomials form one matrix, so the field costs one matmul.
    const u = spatial.map((n) => Array.from({ length: n }, (_, i) => (n > 1 ? -1 + (2 * i) / (n - 1) : 0)));
    const restShape = spatial.slice(1);
    const restN = restShape.reduce((p, n) => p * n, 1);
    const restKeys = [...new Set(terms.map((t) => t.slice(1).join(',')))];
    const P = new Float64Array(restKeys.length * restN);
    restKeys.forEach((key, k) => {
      const ex = key.split(',').map(Number);
      for (let i = 0; i < restN; i++) {
        let rem = i;
        let v = 1;
        for (let a = restShape.length - 1; a >= 0; a--) {
          const idx = rem % restShape[a];
          rem = Math.floor(rem / restShape[a]);
          v *= u[a + 1][idx] ** ex[a];
        }
        P[k * restN + i] = v;
      }
    });
    const Pt = torch.fromTypedArray(P, [restKeys.length, restN]);
    const fields = coefficients.map((coef) => {
      const G = new Float64Array(spatial[0] * restKeys.length);
      terms.forEach((t, ti) => {
        const k = restKeys.indexOf(t.slice(1).join(','));
        for (let i = 0; i < spatial[0]; i++) G[i * restKeys.length + k] += coef[ti] * u[0][i] ** t[0];
      });
      return torch.fromTypedArray(G, [spatial[0], restKeys.length]).matmul(Pt).reshape([1, 1, ...spatial]);
    });
    return x.mul(torch.cat(fields, 0).exp_().to(x.dtype));
  });
}

/**
 * Salt-and-pepper noise: each value independently becomes the channel's max
 * with probability amount·saltRatio, its min with probability
 * amount·(1 − saltRatio) (skimage random_noise 's&p').
 */
export function saltAndPepper(x: Tensor, amount: readonly number[], saltRatio: readonly number[], seeds: readonly number[]): Tensor {
  const { B, C, spatial } = checkBatch('saltAndPepper', x);
  if (amount.length !== B || saltRatio.length !== B || seeds.length !== B) throw new RangeError(`saltAndPepper: expected ${B} amounts, ratios and seeds`);
  return torch.tidy(() => {
    const u = torch.cat(seeds.map((s) => uniformTensor(s, [1, C, ...spatial])), 0);
    const ones = spatial.map(() => 1);
    const a = torch.tensor([...amount], { dtype: 'float32' }).reshape([B, 1, ...ones]);
    const s = torch.tensor(amount.map((v, b) => v * saltRatio[b]), { dtype: 'float32' }).reshape([B, 1, ...ones]);
    const flat = x.reshape([B, C, -1]);
    const mx = flat.amax(2).reshape([B, C, ...ones]);
    const mn = flat.amin(2).reshape([B, C, ...ones]);
    const salted = torch.where(u.lt(s), mx, x);
    return torch.where(u.ge(s).logicalAnd_(u.lt(a)), mn, salted);
  });
}

/** One erased box: voxel start and size per axis (clipped to the image). */
export interface EraseBox {
  start: number[];
  size: number[];
}

/**
 * Random erasing / cutout: sets each box of sample b to `value` (a number, or
 * 'noise': standard normal values from stream seeds[b], as torchvision's
 * value='random').
 */
export function eraseBoxes(x: Tensor, boxes: readonly (readonly EraseBox[])[], value: number | 'noise' = 0, seeds?: readonly number[]): Tensor {
  const { B, spatial } = checkBatch('eraseBoxes', x);
  if (boxes.length !== B) throw new RangeError(`eraseBoxes: expected box lists for ${B} samples, got ${boxes.length}`);
  if (value === 'noise' && seeds?.length !== B) throw new RangeError(`eraseBoxes: value 'noise' needs ${B} seeds`);
  return torch.tidy(() => {
    const out = x.clone();
    boxes.forEach((list, b) => {
      const noiseSeed = value === 'noise' ? Rng.from(seeds![b], 'erase') : null;
      for (const box of list) {
        let view = out.narrow(0, b, 1);
        let empty = false;
        spatial.forEach((n, a) => {
          const s0 = Math.max(0, Math.round(box.start[a]));
          const s1 = Math.min(n, Math.round(box.start[a] + box.size[a]));
          if (s1 <= s0) empty = true;
          else view = view.narrow(a + 2, s0, s1 - s0);
        });
        if (empty) continue;
        if (noiseSeed) view.copy_(normalTensor(noiseSeed.deriveSeed(), view.shape));
        else view.fill_(value as number);
      }
    });
    return out;
  });
}

// ---- parameter sampling ------------------------------------------------------------------------

/** batchgenerators' BGContrast: half the time from [low, 1), else from [max(low, 1), high]. */
export function sampleBgContrast(rng: Rng, [lo, hi]: readonly [number, number]): number {
  if (lo < 1 && rng.random() < 0.5) return rng.uniform(lo, Math.min(1, hi));
  return rng.uniform(Math.max(lo, 1), hi);
}

type Sampling = 'bgContrast' | 'uniform';
const draw = (rng: Rng, r: [number, number], how: Sampling): number => (how === 'bgContrast' ? sampleBgContrast(rng, r) : rng.uniform(r[0], r[1]));

/** Per-channel values: one draw shared by all channels (sync) or one each; each channel kept with pPerChannel. */
function perChannel<T extends Json>(rng: Rng, C: number, pPerChannel: number, sync: boolean, drawOne: () => T): (T | null)[] {
  const shared = sync ? drawOne() : null;
  return Array.from({ length: C }, () => {
    const on = pPerChannel >= 1 || rng.random() < pPerChannel;
    const v = sync ? shared : drawOne();
    return on ? v : null;
  });
}

const isRowList = (allowNull: boolean) => (v: unknown) => Array.isArray(v) && v.every((x) => isNum(x) || (allowNull && x === null));
const isRowArrays = (d: number) => (v: unknown) => Array.isArray(v) && v.every((x) => x === null || (Array.isArray(x) && x.length === d && x.every(isNum)));
const rowsOf = <T>(params: readonly JsonObject[], key: string, op: string, check: (v: unknown) => boolean, expected: string): T[][] =>
  params.map((p) => recorded<T[]>(p, key, op, check, expected));

interface ScalarChannelCfg {
  range: [number, number];
  sampling: Sampling;
  pPerChannel: number;
  sameForChannels: boolean;
}

function scalarChannelOp(
  name: string,
  summary: string,
  key: string,
  dflt: [number, number],
  bounds: [number, number],
  fn: (x: Tensor, v: RowParam[][]) => Tensor,
  samplingDefault: Sampling = 'bgContrast',
): IntensityOpDef<ScalarChannelCfg> {
  return {
    kind: 'intensity',
    name,
    summary,
    parse: (r) => ({
      range: r.range('range', dflt, bounds[0], bounds[1]),
      sampling: r.choice<Sampling>('sampling', samplingDefault, ['bgContrast', 'uniform']),
      pPerChannel: r.number('pPerChannel', 1, 0, 1),
      sameForChannels: r.bool('sameForChannels', false),
    }),
    sample: (c, rng, ctx) => ({ [key]: perChannel(rng, ctx.channels, c.pPerChannel, c.sameForChannels, () => draw(rng, c.range, c.sampling)) }),
    apply: (x, params) => fn(x, rowsOf<RowParam>(params, key, name, isRowList(true), 'numbers or null per channel')),
  };
}

/** nnU-Net: MultiplicativeBrightnessTransform(BGContrast((0.75, 1.25))). */
export const brightnessMultiplicativeOp = scalarChannelOp('brightnessMultiplicative', 'x · factor', 'factor', [0.75, 1.25], [0, 100], multiplyBrightness);

interface AdditiveCfg {
  mean: number;
  std: number;
  pPerChannel: number;
  sameForChannels: boolean;
}
/** batchgenerators BrightnessTransform(mu, sigma): x + N(mean, std²). */
export const brightnessAdditiveOp: IntensityOpDef<AdditiveCfg> = {
  kind: 'intensity',
  name: 'brightnessAdditive',
  summary: 'x + shift, shift ~ N(mean, std²)',
  parse: (r) => ({ mean: r.number('mean', 0), std: r.number('std', 0.1, 0), pPerChannel: r.number('pPerChannel', 1, 0, 1), sameForChannels: r.bool('sameForChannels', false) }),
  sample: (c, rng, ctx) => ({ shift: perChannel(rng, ctx.channels, c.pPerChannel, c.sameForChannels, () => rng.normal(c.mean, c.std)) }),
  apply: (x, params) => addBrightness(x, rowsOf<RowParam>(params, 'shift', 'brightnessAdditive', isRowList(true), 'numbers or null per channel')),
};

interface ContrastCfg extends ScalarChannelCfg {
  preserveRange: boolean;
}
/** nnU-Net: ContrastTransform(BGContrast((0.75, 1.25)), preserve_range=True). */
export const contrastOp: IntensityOpDef<ContrastCfg> = {
  ...scalarChannelOp('contrast', '(x − mean)·factor + mean', 'factor', [0.75, 1.25], [0, 100], (x, v) => adjustContrast(x, v)),
  parse: (r) => ({
    range: r.range('range', [0.75, 1.25], 0, 100),
    sampling: r.choice<Sampling>('sampling', 'bgContrast', ['bgContrast', 'uniform']),
    pPerChannel: r.number('pPerChannel', 1, 0, 1),
    sameForChannels: r.bool('sameForChannels', false),
    preserveRange: r.bool('preserveRange', true),
  }),
  apply: (x, params, c) => adjustContrast(x, rowsOf<RowParam>(params, 'factor', 'contrast', isRowList(true), 'numbers or null per channel'), c.preserveRange),
};

interface GammaCfg extends ScalarChannelCfg {
  pInvert: number;
  pRetainStats: number;
}
/** nnU-Net: GammaTransform(BGContrast((0.7, 1.5)), p_invert_image, p_retain_stats=1). */
export const gammaOp: IntensityOpDef<GammaCfg> = {
  kind: 'intensity',
  name: 'gamma',
  summary: 'gamma on the min–max normalised channel (optionally inverted, stats retained)',
  parse: (r) => ({
    range: r.range('range', [0.7, 1.5], 1e-3, 100),
    sampling: r.choice<Sampling>('sampling', 'bgContrast', ['bgContrast', 'uniform']),
    pPerChannel: r.number('pPerChannel', 1, 0, 1),
    sameForChannels: r.bool('sameForChannels', false),
    pInvert: r.number('pInvert', 0, 0, 1),
    pRetainStats: r.number('pRetainStats', 1, 0, 1),
  }),
  sample: (c, rng, ctx) => ({
    gamma: perChannel(rng, ctx.channels, c.pPerChannel, c.sameForChannels, () => draw(rng, c.range, c.sampling)),
    invert: Array.from({ length: ctx.channels }, () => rng.random() < c.pInvert),
    retainStats: Array.from({ length: ctx.channels }, () => rng.random() < c.pRetainStats),
  }),
  apply: (x, params) => {
    const isBools = (v: unknown) => Array.isArray(v) && v.every((b) => typeof b === 'boolean');
    return adjustGamma(x, rowsOf<RowParam>(params, 'gamma', 'gamma', isRowList(true), 'numbers or null per channel'), {
      invert: rowsOf<boolean>(params, 'invert', 'gamma', isBools, 'booleans per channel'),
      retainStats: rowsOf<boolean>(params, 'retainStats', 'gamma', isBools, 'booleans per channel'),
    });
  },
};

interface NoiseCfg {
  std: [number, number];
  pPerChannel: number;
  sameForChannels: boolean;
  clipSigmas: number | null;
}
/**
 * nnU-Net: GaussianNoiseTransform(noise_variance=(0, 0.1)), whose "variance"
 * is used as the standard deviation (batchgenerators does the same); here it
 * is named `std`. clipSigmas clips noise at ±k·std (SSL4MIS: 2).
 */
export const gaussianNoiseOp: IntensityOpDef<NoiseCfg> = {
  kind: 'intensity',
  name: 'gaussianNoise',
  summary: 'additive Gaussian noise',
  parse: (r) => {
    const clip = r.raw('clipSigmas') ?? null;
    if (clip !== null && !(typeof clip === 'number' && clip > 0)) r.fail('clipSigmas', 'null or a number > 0', clip);
    return { std: r.range('std', [0, 0.1], 0), pPerChannel: r.number('pPerChannel', 1, 0, 1), sameForChannels: r.bool('sameForChannels', true), clipSigmas: clip as number | null };
  },
  sample: (c, rng, ctx) => ({ std: perChannel(rng, ctx.channels, c.pPerChannel, c.sameForChannels, () => rng.uniform(c.std[0], c.std[1])).map((v) => v ?? 0), seed: rng.deriveSeed() }),
  apply: (x, params, c) => {
    const std = rowsOf<number>(params, 'std', 'gaussianNoise', isRowList(false), 'numbers per channel');
    const seeds = params.map((p) => recorded<number>(p, 'seed', 'gaussianNoise', Number.isSafeInteger, 'an integer seed'));
    return addGaussianNoise(x, std, seeds, c.clipSigmas);
  },
};

interface BlurCfg {
  sigma: [number, number];
  pPerChannel: number;
  sameForChannels: boolean;
  sameForAxes: boolean;
}
/** nnU-Net: GaussianBlurTransform(blur_sigma=(0.5, 1), synchronize_channels=False, synchronize_axes=False, p_per_channel=0.5). */
export const gaussianBlurOp: IntensityOpDef<BlurCfg> = {
  kind: 'intensity',
  name: 'gaussianBlur',
  summary: 'Gaussian blur with random σ (voxels)',
  parse: (r) => ({ sigma: r.range('sigma', [0.5, 1], 0, 100), pPerChannel: r.number('pPerChannel', 0.5, 0, 1), sameForChannels: r.bool('sameForChannels', false), sameForAxes: r.bool('sameForAxes', false) }),
  sample: (c, rng, ctx) => ({
    sigma: perChannel(rng, ctx.channels, c.pPerChannel, c.sameForChannels, () => {
      const one = rng.uniform(c.sigma[0], c.sigma[1]);
      return ctx.shape.map((_, a) => (c.sameForAxes || a === 0 ? one : rng.uniform(c.sigma[0], c.sigma[1])));
    }),
  }),
  apply: (x, params, _c, ctx) => gaussianBlur(x, rowsOf<number[] | null>(params, 'sigma', 'gaussianBlur', isRowArrays(ctx.spatialDims), 'per channel null or one σ per axis')),
};

interface LowResCfg {
  zoom: [number, number];
  pPerChannel: number;
  sameForChannels: boolean;
  sameForAxes: boolean;
  ignoreAxes: number[];
}
/** nnU-Net: SimulateLowResolutionTransform(scale=(0.5, 1), synchronize_axes=True, p_per_channel=0.5, ignore_axes). */
export const lowResolutionOp: IntensityOpDef<LowResCfg> = {
  kind: 'intensity',
  name: 'lowResolution',
  summary: 'downsample (nearest) and upsample back',
  parse: (r, d) => ({
    zoom: r.range('zoom', [0.5, 1], 1e-3, 1),
    pPerChannel: r.number('pPerChannel', 0.5, 0, 1),
    sameForChannels: r.bool('sameForChannels', false),
    sameForAxes: r.bool('sameForAxes', true),
    ignoreAxes: r.intList('ignoreAxes', [], 0, d - 1),
  }),
  sample: (c, rng, ctx) => ({
    zoom: perChannel(rng, ctx.channels, c.pPerChannel, c.sameForChannels, () => {
      const one = rng.uniform(c.zoom[0], c.zoom[1]);
      return ctx.shape.map((_, a) => (c.ignoreAxes.includes(a) ? 1 : c.sameForAxes ? one : rng.uniform(c.zoom[0], c.zoom[1])));
    }),
  }),
  apply: (x, params, _c, ctx) => simulateLowResolution(x, rowsOf<number[] | null>(params, 'zoom', 'lowResolution', isRowArrays(ctx.spatialDims), 'per channel null or one zoom per axis')),
};

interface BiasCfg {
  order: number;
  coefficients: [number, number];
}
/** TorchIO RandomBiasField(coefficients=0.5, order=3). */
export const biasFieldOp: IntensityOpDef<BiasCfg> = {
  kind: 'intensity',
  name: 'biasField',
  summary: 'smooth multiplicative polynomial bias field (TorchIO)',
  parse: (r) => ({ order: r.int('order', 3, 0, 8), coefficients: r.range('coefficients', [-0.5, 0.5]) }),
  sample: (c, rng, ctx) => ({ coefficients: polynomialTerms(c.order, ctx.spatialDims).map(() => rng.uniform(c.coefficients[0], c.coefficients[1])) }),
  apply: (x, params, c) => applyBiasField(x, params.map((p) => recorded<number[]>(p, 'coefficients', 'biasField', isRowList(false), 'numbers')), c.order),
};

interface SaltPepperCfg {
  amount: [number, number];
  saltRatio: number;
}
/** Salt-and-pepper noise (UDA_CLR: amount 0.004, salt ratio 0.2). */
export const saltPepperOp: IntensityOpDef<SaltPepperCfg> = {
  kind: 'intensity',
  name: 'saltPepper',
  summary: 'values set to the channel max / min at random',
  parse: (r) => ({ amount: r.range('amount', [0.004, 0.004], 0, 1), saltRatio: r.number('saltRatio', 0.5, 0, 1) }),
  sample: (c, rng) => ({ amount: rng.uniform(c.amount[0], c.amount[1]), saltRatio: c.saltRatio, seed: rng.deriveSeed() }),
  apply: (x, params) => {
    const get = (k: string) => params.map((p) => recorded<number>(p, k, 'saltPepper', isNum, 'a number'));
    return saltAndPepper(x, get('amount'), get('saltRatio'), get('seed'));
  },
};

interface ErasingCfg {
  scale: [number, number];
  ratio: [number, number];
  value: number | 'noise';
  count: number;
}
/**
 * Random erasing (torchvision RandomErasing; cutout): a box of a random
 * fraction `scale` of the image area/volume, with log-uniform aspect ratios
 * in `ratio` (each axis against the last one), at a random position.
 */
export const randomErasingOp: IntensityOpDef<ErasingCfg> = {
  kind: 'intensity',
  name: 'randomErasing',
  summary: 'erase random boxes (cutout)',
  parse: (r) => {
    const value = r.raw('value') ?? 0;
    if (value !== 'noise' && !isNum(value)) r.fail('value', "a number or 'noise'", value);
    return { scale: r.range('scale', [0.02, 0.33], 0, 1), ratio: r.range('ratio', [0.3, 3.3], 1e-3, 1e3), value: value as number | 'noise', count: r.int('count', 1, 1, 100) };
  },
  sample: (c, rng, ctx) => {
    const boxes: Json[] = [];
    for (let i = 0; i < c.count; i++) {
      const box = sampleErasingBox(rng, ctx.shape, c.scale, c.ratio);
      if (box) boxes.push({ start: box.start, size: box.size });
    }
    return { boxes, ...(c.value === 'noise' ? { seed: rng.deriveSeed() } : {}) };
  },
  apply: (x, params, c) => {
    const boxes = params.map((p) => recorded<EraseBox[]>(p, 'boxes', 'randomErasing', Array.isArray, 'a list of boxes'));
    const seeds = c.value === 'noise' ? params.map((p) => recorded<number>(p, 'seed', 'randomErasing', Number.isSafeInteger, 'an integer seed')) : undefined;
    return eraseBoxes(x, boxes, c.value, seeds);
  },
};

/** torchvision's RandomErasing box search (10 attempts), generalised to d axes; null when none fits. */
export function sampleErasingBox(rng: Rng, shape: readonly number[], scale: readonly [number, number], ratio: readonly [number, number]): EraseBox | null {
  const d = shape.length;
  const total = shape.reduce((p, n) => p * n, 1);
  const [lr0, lr1] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = total * rng.uniform(scale[0], scale[1]);
    const ratios = Array.from({ length: d - 1 }, () => Math.exp(rng.uniform(lr0, lr1)));
    // sides: last = (V / Πρ)^(1/d), axis a = ρ_a · last.
    const last = Math.pow(target / ratios.reduce((p, r) => p * r, 1), 1 / d);
    const size = [...ratios.map((r) => Math.round(r * last)), Math.round(last)];
    if (size.some((s, a) => s < 1 || s >= shape[a])) continue;
    return { start: size.map((s, a) => rng.int(0, shape[a] - s + 1)), size };
  }
  return null;
}

export const INTENSITY_OPS: readonly IntensityOpDef[] = [
  gaussianNoiseOp,
  gaussianBlurOp,
  brightnessMultiplicativeOp,
  brightnessAdditiveOp,
  contrastOp,
  lowResolutionOp,
  gammaOp,
  biasFieldOp,
  saltPepperOp,
  randomErasingOp,
] as IntensityOpDef[];

