// Strong photometric augmentation for consistency losses (FixMatch / UniMatch
// style): torchvision's ColorJitter, RandomGrayscale and Gaussian blur on
// batches [B, C, (Z,) Y, X]. Hue and saturation need RGB (C = 3) and are
// no-ops for other channel counts, as in torchvision; brightness and contrast
// work for any C. Values are clamped to `range` (torchvision's [0, 1] for
// float images) unless it is null.
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import type { IntensityOpDef } from './augment-ops.js';
import { type JsonObject, isNum, recorded } from './augment-params.js';
import { gaussianBlur } from './intensity.js';

const LUMA = [0.2989, 0.587, 0.114]; // torchvision rgb_to_grayscale weights

/** Luma of an RGB batch x [B, 3, ...] as [B, 1, ...]. */
export function rgbToGrayscale(x: Tensor): Tensor {
  if (x.shape[1] !== 3) throw new RangeError(`rgbToGrayscale: expected 3 channels (RGB), got ${x.shape[1]}`);
  return torch.tidy(() => {
    const [r, g, b] = x.unbind(1);
    return r.mul(LUMA[0]).add_(g.mul(LUMA[1])).add_(b.mul(LUMA[2])).unsqueeze(1);
  });
}

/** RGB [B, 3, ...] in [0, 1] → HSV [B, 3, ...] with hue in [0, 1) (torchvision's _rgb2hsv). */
export function rgbToHsv(x: Tensor): Tensor {
  return torch.tidy(() => {
    const [r, g, b] = x.unbind(1);
    const maxc = x.amax(1);
    const minc = x.amin(1);
    const eqc = maxc.eq(minc);
    const cr = maxc.sub(minc);
    const ones = torch.onesLike(maxc);
    const s = cr.div(torch.where(eqc, ones, maxc));
    const crd = torch.where(eqc, ones, cr);
    const rc = maxc.sub(r).div_(crd);
    const gc = maxc.sub(g).div_(crd);
    const bc = maxc.sub(b).div_(crd);
    const isR = maxc.eq(r);
    const isG = maxc.eq(g).logicalAnd_(isR.logicalNot());
    const isB = isR.logicalNot().logicalAnd_(maxc.ne(g));
    const h = bc.sub(gc).mul_(isR).add_(rc.sub(bc).add_(2).mul_(isG)).add_(gc.sub(rc).add_(4).mul_(isB));
    const hue = h.div_(6).add_(1).fmod_(1);
    return torch.stack([hue, s, maxc], 1);
  });
}

/** HSV [B, 3, ...] → RGB (torchvision's _hsv2rgb). */
export function hsvToRgb(x: Tensor): Tensor {
  return torch.tidy(() => {
    const [h, s, v] = x.unbind(1);
    const i6 = h.mul(6).floor_();
    const f = h.mul(6).sub_(i6);
    const i = i6.remainder(6).to('int64').unsqueeze(0);
    const p = v.mul(torch.rsub(s, 1)).clamp_(0, 1);
    const q = v.mul(torch.rsub(s.mul(f), 1)).clamp_(0, 1);
    const t = v.mul(torch.rsub(s.mul(torch.rsub(f, 1)), 1)).clamp_(0, 1);
    const pick = (c: Tensor[]) => torch.stack(c, 0).gather(0, i).squeeze(0);
    return torch.stack([pick([v, q, p, p, t, v]), pick([t, v, v, q, p, p]), pick([p, p, t, v, v, q])], 1);
  });
}

export interface JitterParams {
  /** Order in which brightness (0), contrast (1), saturation (2) and hue (3) are applied. */
  order: number[];
  brightness: number | null;
  contrast: number | null;
  saturation: number | null;
  hue: number | null;
}

const clampTo = (x: Tensor, range: readonly [number, number] | null): Tensor => (range ? x.clamp_(range[0], range[1]) : x);

/** torchvision ColorJitter's functional steps for one sample x [1, C, ...]. */
export function colorJitter(x: Tensor, p: JitterParams, range: readonly [number, number] | null = [0, 1]): Tensor {
  return torch.tidy(() => {
    let y = x;
    const rgb = x.shape[1] === 3;
    for (const step of p.order) {
      if (step === 0 && p.brightness !== null) y = clampTo(y.mul(p.brightness), range);
      else if (step === 1 && p.contrast !== null) {
        const mean = (rgb ? rgbToGrayscale(y) : y).mean();
        y = clampTo(y.mul(p.contrast).add_(mean.mul(1 - p.contrast)), range);
      } else if (step === 2 && p.saturation !== null && rgb) {
        y = clampTo(y.mul(p.saturation).add_(rgbToGrayscale(y).mul_(1 - p.saturation)), range);
      } else if (step === 3 && p.hue !== null && rgb && p.hue !== 0) {
        const hsv = rgbToHsv(y);
        const h = hsv.narrow(1, 0, 1);
        h.add_(p.hue).remainder_(1);
        y = hsvToRgb(hsv);
      }
    }
    return y === x ? x.clone() : y;
  });
}

interface JitterCfg {
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
  range: [number, number] | null;
}

const jitterRange = (rng: { uniform(a: number, b: number): number }, v: number): number | null => (v > 0 ? rng.uniform(Math.max(0, 1 - v), 1 + v) : null);

/** torchvision ColorJitter(brightness, contrast, saturation, hue) with a random order per sample. */
export const colorJitterOp: IntensityOpDef<JitterCfg> = {
  kind: 'intensity',
  name: 'colorJitter',
  summary: 'brightness / contrast / saturation / hue jitter (torchvision)',
  parse: (r) => {
    const range = r.raw('range') === undefined ? [0, 1] : r.raw('range');
    if (range !== null && !(Array.isArray(range) && range.length === 2 && range.every(isNum) && range[0] < range[1])) r.fail('range', 'null or [low, high]', range);
    return {
      brightness: r.number('brightness', 0.5, 0),
      contrast: r.number('contrast', 0.5, 0),
      saturation: r.number('saturation', 0.5, 0),
      hue: r.number('hue', 0.25, 0, 0.5),
      range: range as [number, number] | null,
    };
  },
  sample: (c, rng) => ({
    order: rng.permutation(4),
    brightness: jitterRange(rng, c.brightness),
    contrast: jitterRange(rng, c.contrast),
    saturation: jitterRange(rng, c.saturation),
    hue: c.hue > 0 ? rng.uniform(-c.hue, c.hue) : null,
  }),
  apply: (x, params, c) =>
    torch.tidy(() =>
      torch.cat(
        params.map((p, b) => colorJitter(x.narrow(0, b, 1), readJitter(p), c.range)),
        0,
      ),
    ),
};

function readJitter(p: JsonObject): JitterParams {
  const opt = (k: string) => recorded<number | null>(p, k, 'colorJitter', (v) => v === null || isNum(v), 'a number or null');
  const order = recorded<number[]>(p, 'order', 'colorJitter', (v) => Array.isArray(v) && v.length === 4 && [...v].sort().join() === '0,1,2,3', 'a permutation of 0..3');
  return { order, brightness: opt('brightness'), contrast: opt('contrast'), saturation: opt('saturation'), hue: opt('hue') };
}

/** torchvision RandomGrayscale: RGB → luma replicated to 3 channels (a no-op for other channel counts). */
export const grayscaleOp: IntensityOpDef<Record<string, never>> = {
  kind: 'intensity',
  name: 'grayscale',
  summary: 'RGB to greyscale (kept 3 channels)',
  parse: () => ({}),
  sample: () => ({}),
  apply: (x) => (x.shape[1] === 3 ? torch.tidy(() => rgbToGrayscale(x).expand(x.shape).contiguous()) : x.clone()),
};

interface BlurCfg {
  sigma: [number, number];
}
/** torchvision GaussianBlur(sigma=(0.1, 2.0)) as used by FixMatch-style strong views: one σ per sample for all axes and channels. */
export const photometricBlurOp: IntensityOpDef<BlurCfg> = {
  kind: 'intensity',
  name: 'blur',
  summary: 'Gaussian blur with one random σ per sample (torchvision)',
  parse: (r) => ({ sigma: r.range('sigma', [0.1, 2], 0, 100) }),
  sample: (c, rng) => ({ sigma: rng.uniform(c.sigma[0], c.sigma[1]) }),
  apply: (x, params, _c, ctx) => {
    const s = params.map((p) => recorded<number>(p, 'sigma', 'blur', isNum, 'a number'));
    return gaussianBlur(x, s.map((v) => Array.from({ length: x.shape[1] }, () => ctx.shape.map(() => v))));
  },
};

export const PHOTOMETRIC_OPS: readonly IntensityOpDef[] = [colorJitterOp, grayscaleOp, photometricBlurOp] as IntensityOpDef[];
