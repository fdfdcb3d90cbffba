// Intensity normalisation schemes, one per channel, named in configs as
// `{ scheme: 'ct', ... }`:
//
//   ct                nnU-Net CTNormalization: clip to the dataset foreground's
//                     [percentile 0.5, percentile 99.5], then (x − mean) / std
//                     with the foreground mean/std from the fingerprint.
//   zscore            nnU-Net ZScoreNormalization, per case. With useMask, the
//                     statistics come from (and only change) voxels inside the
//                     non-zero mask; outside stays as it was (0 after cropping).
//   minmax            per-case (x − min) / max(max − min, 1e-8) → [0, 1]
//                     (nnU-Net RescaleTo01Normalization; BCP's ACDC h5 files).
//   percentile-zscore STDR / Active-GTV-Seg: clip above at the first
//                     histogram bin whose CDF reaches `percentile` (skimage
//                     cumulative_distribution: one bin per integer for integer
//                     images, 256 equal bins otherwise), then z-score with the
//                     clipped volume's own mean and std.
//   rgb-to-pm1        x / 127.5 − 1 (UDA_CLR fundus photographs: [0, 255] → [−1, 1]).
//   rgb-to-01         x / 255 (nnU-Net RGBTo0_1Normalization).
//   none              unchanged (cast to float32).
//
// Standard deviations are population (ddof = 0) as numpy's; arithmetic is
// float32 like nnU-Net's, statistics accumulate in double.
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import { valuesView } from './preprocess-views.js';

export interface CtNormalization {
  scheme: 'ct';
  /** Foreground mean and std of this channel over the training set (fingerprint). */
  mean: number;
  std: number;
  /** Clip bounds: the foreground's 0.5th and 99.5th percentiles. */
  lower: number;
  upper: number;
}
export interface ZScoreNormalization {
  scheme: 'zscore';
  /** Statistics inside the non-zero mask only (nnU-Net use_mask_for_norm). */
  useMask?: boolean;
}
export interface MinMaxNormalization { scheme: 'minmax' }
export interface PercentileZScoreNormalization {
  scheme: 'percentile-zscore';
  /** Cumulative fraction at which to clip; STDR: 0.99. */
  percentile?: number;
  /** Bins for non-integer images (skimage default 256). */
  bins?: number;
  /** Force one-bin-per-integer (true) or equal bins (false); default: from the tensor's dtype, as skimage. */
  integerHistogram?: boolean;
}
export interface RgbToPm1Normalization { scheme: 'rgb-to-pm1' }
export interface RgbTo01Normalization { scheme: 'rgb-to-01' }
export interface NoNormalization { scheme: 'none' }

export type NormalizationConfig =
  | CtNormalization
  | ZScoreNormalization
  | MinMaxNormalization
  | PercentileZScoreNormalization
  | RgbToPm1Normalization
  | RgbTo01Normalization
  | NoNormalization;

export type NormalizationScheme = NormalizationConfig['scheme'];
export const NORMALIZATION_SCHEMES: readonly NormalizationScheme[] = ['ct', 'zscore', 'minmax', 'percentile-zscore', 'rgb-to-pm1', 'rgb-to-01', 'none'];

/** nnU-Net's normaliser class names and channel-name keywords, mapped to our schemes. */
const ALIASES: Record<string, NormalizationScheme> = {
  ctnormalization: 'ct',
  zscorenormalization: 'zscore',
  rescaleto01normalization: 'minmax',
  rescale_to_0_1: 'minmax',
  rgbto0_1normalization: 'rgb-to-01',
  rgb_to_0_1: 'rgb-to-01',
  nonormalization: 'none',
  nonorm: 'none',
};

/** Resolves a scheme name, an nnU-Net class name or an nnU-Net channel keyword; null if unknown. */
export function schemeFromName(name: string): NormalizationScheme | null {
  const k = name.trim().toLowerCase();
  if ((NORMALIZATION_SCHEMES as readonly string[]).includes(k)) return k as NormalizationScheme;
  return ALIASES[k] ?? null;
}

/**
 * nnU-Net's get_normalization_scheme: the scheme a channel name implies
 * ('CT' → ct, 'noNorm' → none, 'rescale_to_0_1' → minmax, 'rgb_to_0_1' →
 * rgb-to-01, 'zscore' and anything else → zscore).
 */
export function schemeForChannelName(channelName: string): NormalizationScheme {
  const k = channelName.trim().toLowerCase();
  if (k === 'ct') return 'ct';
  if (k === 'zscore') return 'zscore';
  return ALIASES[k] ?? 'zscore';
}

/** Checks a config object read from JSON; the error names the field and the allowed values. */
export function validateNormalization(cfg: unknown, where = 'normalization'): NormalizationConfig {
  if (typeof cfg !== 'object' || cfg === null) throw new Error(`${where}: expected an object like { "scheme": "zscore" }, got ${JSON.stringify(cfg)}`);
  const c = cfg as Record<string, unknown>;
  const scheme = typeof c.scheme === 'string' ? schemeFromName(c.scheme) : null;
  if (scheme === null) throw new Error(`${where}.scheme: expected one of ${NORMALIZATION_SCHEMES.join(', ')}, got ${JSON.stringify(c.scheme)}`);
  const num = (k: string, required: boolean): number | undefined => {
    const v = c[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}.${k}: expected a finite number${required ? ` (required by scheme '${scheme}')` : ''}, got ${JSON.stringify(v)}`);
    return v;
  };
  switch (scheme) {
    case 'ct': {
      const out: CtNormalization = { scheme, mean: num('mean', true)!, std: num('std', true)!, lower: num('lower', true)!, upper: num('upper', true)! };
      if (out.lower > out.upper) throw new Error(`${where}: lower (${out.lower}) must not exceed upper (${out.upper})`);
      return out;
    }
    case 'zscore':
      if (c.useMask !== undefined && typeof c.useMask !== 'boolean') throw new Error(`${where}.useMask: expected true or false, got ${JSON.stringify(c.useMask)}`);
      return { scheme, useMask: (c.useMask as boolean | undefined) ?? false };
    case 'percentile-zscore': {
      const p = num('percentile', false);
      if (p !== undefined && !(p > 0 && p <= 1)) throw new Error(`${where}.percentile: expected a fraction in (0, 1], got ${p}`);
      const bins = num('bins', false);
      if (bins !== undefined && !(Number.isInteger(bins) && bins >= 1)) throw new Error(`${where}.bins: expected a positive integer, got ${bins}`);
      if (c.integerHistogram !== undefined && typeof c.integerHistogram !== 'boolean') throw new Error(`${where}.integerHistogram: expected true or false, got ${JSON.stringify(c.integerHistogram)}`);
      return { scheme, percentile: p, bins, integerHistogram: c.integerHistogram as boolean | undefined };
    }
    default:
      return { scheme } as NormalizationConfig;
  }
}

/** Mean and population std of a tensor's values (libtorch accumulates float32 reductions in double on the CPU). */
function meanStd(values: Tensor): [number, number] {
  return torch.tidy(() => {
    if (values.numel() === 0) return [0, 0];
    const [std, mean] = torch.stdMean(values, { correction: 0 });
    return [mean.item(), std.item()];
  });
}

/**
 * skimage.exposure.cumulative_distribution's threshold: the first bin centre
 * whose cumulative fraction is ≥ `fraction`.
 */
export function cdfThreshold(image: Tensor, fraction: number, options: { bins?: number; integerHistogram?: boolean } = {}): number {
  const integer = options.integerHistogram ?? !torch.isFloatingPoint(image.dtype);
  const v = valuesView(image);
  const n = v.length;
  if (n === 0) throw new Error('cdfThreshold: empty image');
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error('cdfThreshold: the image has NaN or infinite values');
  const target = fraction;
  if (integer) {
    const width = Math.round(hi) - Math.round(lo) + 1;
    if (width > 1 << 26) throw new Error(`cdfThreshold: integer range [${lo}, ${hi}] is too wide for one bin per value`);
    const hist = new Float64Array(width);
    const base = Math.round(lo);
    for (let i = 0; i < n; i++) hist[Math.round(v[i]) - base]++;
    let acc = 0;
    for (let b = 0; b < width; b++) {
      acc += hist[b];
      if (acc / n >= target) return base + b;
    }
    return hi;
  }
  const bins = options.bins ?? 256;
  // numpy.histogram: edges = linspace(lo, hi, bins + 1), last bin closed.
  const lastEdge = lo === hi ? hi + 0.5 : hi;
  const firstEdge = lo === hi ? lo - 0.5 : lo;
  const step = (lastEdge - firstEdge) / bins;
  const edges = new Float64Array(bins + 1);
  for (let k = 0; k < bins; k++) edges[k] = firstEdge + k * step;
  edges[bins] = lastEdge;
  const norm = bins / (lastEdge - firstEdge);
  const hist = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const x = v[i];
    let b = Math.floor((x - firstEdge) * norm);
    if (b >= bins) b = bins - 1;
    if (b > 0 && x < edges[b]) b--;
    else if (b < bins - 1 && x >= edges[b + 1]) b++;
    hist[b]++;
  }
  let acc = 0;
  for (let b = 0; b < bins; b++) {
    acc += hist[b];
    if (acc / n >= target) return (edges[b] + edges[b + 1]) / 2;
  }
  return (edges[bins - 1] + edges[bins]) / 2;
}

/** Normalises one channel [Z, Y, X] (any dtype) to float32. `mask` (bool, same shape) is needed for zscore with useMask. */
export function normalizeChannel(channel: Tensor, cfg: NormalizationConfig, mask?: Tensor | null): Tensor {
  return torch.tidy(() => {
    switch (cfg.scheme) {
      case 'ct': {
        // float32 arithmetic, as nnU-Net (numpy float32 arrays with Python scalars).
        const x = channel.to('float32').clamp(cfg.lower, cfg.upper);
        return x.sub(cfg.mean).div(Math.max(cfg.std, 1e-8));
      }
      case 'zscore': {
        const x = channel.to('float32');
        if (cfg.useMask) {
          if (!mask) throw new Error("normalize: scheme 'zscore' with useMask needs the non-zero mask (pass it, or crop with cropToNonzero first)");
          if (mask.shape.join() !== x.shape.join()) throw new Error(`normalize: mask shape [${mask.shape.join(', ')}] does not match the channel [${x.shape.join(', ')}]`);
          const [mean, std] = meanStd(torch.maskedSelect(x, mask));
          return torch.where(mask, x.sub(mean).div(Math.max(std, 1e-8)), x);
        }
        const [mean, std] = meanStd(x);
        return x.sub(mean).div(Math.max(std, 1e-8));
      }
      case 'minmax': {
        const x = channel.to('float32');
        const shifted = x.sub(x.min().item());
        return shifted.div(Math.max(shifted.max().item(), 1e-8));
      }
      case 'percentile-zscore': {
        const top = cdfThreshold(channel, cfg.percentile ?? 0.99, cfg);
        const x = channel.to('float32').clampMax(top);
        const [mean, std] = meanStd(x);
        return x.sub(mean).div(Math.max(std, 1e-8));
      }
      case 'rgb-to-pm1':
        return channel.to('float32').div(127.5).sub(1);
      case 'rgb-to-01':
        return channel.to('float32').div(255);
      case 'none':
        return channel.to('float32');
      default:
        throw new Error(`normalize: unknown scheme ${JSON.stringify((cfg as { scheme: unknown }).scheme)} (expected one of ${NORMALIZATION_SCHEMES.join(', ')})`);
    }
  });
}

/**
 * Normalises every channel of [C, Z, Y, X] with its own config (one config
 * for all channels is repeated). `mask` is the non-zero mask, uint8 or bool
 * [Z, Y, X] (cropToNonzero's `mask`), used by zscore with useMask.
 */
export function normalize(image: Tensor, configs: NormalizationConfig | readonly NormalizationConfig[], mask?: Tensor | Uint8Array | null): Tensor {
  if (image.ndim !== 4) throw new Error(`normalize: expected a tensor [C, Z, Y, X], got shape [${image.shape.join(', ')}]`);
  const c = image.shape[0];
  const list = Array.isArray(configs) ? (configs as readonly NormalizationConfig[]) : Array.from({ length: c }, () => configs as NormalizationConfig);
  if (list.length !== c) throw new Error(`normalize: ${list.length} normalization config(s) for ${c} channel(s)`);
  return torch.tidy(() => {
    const spatial = image.shape.slice(1);
    let m: Tensor | null = null;
    if (mask instanceof Uint8Array) {
      if (mask.length !== spatial[0] * spatial[1] * spatial[2]) throw new Error(`normalize: mask has ${mask.length} voxels, expected ${spatial.join('×')}`);
      m = torch.fromTypedArray(mask, spatial).to({ dtype: 'bool', device: image.device });
    } else if (mask) {
      m = mask.dtype === 'bool' ? mask : mask.ne(0);
    }
    const chans = list.map((cfg, i) => normalizeChannel(image.select(0, i), cfg, m));
    return torch.stack(chans, 0);
  });
}
