// Spatial augmentation ops for pipelines: how each draws its parameters and
// which steps (see spatial.ts) those parameters make. Consecutive spatial ops
// in a pipeline are fused into one resampling by compose.ts.
import type { SpatialContext, SpatialOpDef } from './augment-ops.js';
import { AugmentConfigError, isNum, isNumArray, recorded } from './augment-params.js';
import { cropStep, elasticStep, flipStep, resizeStep, rot90Step, rotateStep, scaleStep, translateStep } from './spatial.js';

const allAxes = (d: number): number[] => Array.from({ length: d }, (_, a) => a);
const intList = (v: unknown): boolean => Array.isArray(v) && v.every((x) => Number.isInteger(x));

interface FlipCfg {
  axes: number[];
  pPerAxis: number;
  oneAxis: boolean;
}
/** Mirroring: each of `axes` with probability pPerAxis (nnU-Net), or exactly one of them (SSL4MIS). */
export const flipOp: SpatialOpDef<FlipCfg> = {
  kind: 'spatial',
  name: 'flip',
  summary: 'mirror axes (exact index op)',
  parse: (r, d) => ({ axes: r.intList('axes', allAxes(d), 0, d - 1), pPerAxis: r.number('pPerAxis', 0.5, 0, 1), oneAxis: r.bool('oneAxis', false) }),
  sample: (c, rng) => ({ axes: c.oneAxis ? [rng.choice(c.axes)] : c.axes.filter(() => rng.random() < c.pPerAxis) }),
  steps: (p, ctx) => {
    const axes = recorded<number[]>(p, 'axes', 'flip', intList, 'a list of axes');
    return axes.length === 0 ? [] : [flipStep(ctx.shape, axes)];
  },
};

interface Rot90Cfg {
  planes: [number, number][];
  k: number[];
}
/** Quarter turns k ∈ `k` in one of `planes` (torch.rot90 / numpy.rot90 direction). */
export const rot90Op: SpatialOpDef<Rot90Cfg> = {
  kind: 'spatial',
  name: 'rot90',
  summary: 'rotate by k·90° in a plane (exact index op)',
  parse: (r, d) => {
    const raw = r.raw('planes') ?? (d === 2 ? [[0, 1]] : [[1, 2]]);
    if (!Array.isArray(raw) || raw.length === 0 || raw.some((p) => !Array.isArray(p) || p.length !== 2 || p[0] === p[1] || p.some((a) => !Number.isInteger(a) || a < 0 || a >= d))) {
      r.fail('planes', `a non-empty list of axis pairs [a, b] (a ≠ b, 0 ≤ a, b < ${d})`, raw);
    }
    return { planes: (raw as number[][]).map((p) => [p[0], p[1]] as [number, number]), k: r.intList('k', [0, 1, 2, 3], -3, 3) };
  },
  sample: (c, rng) => ({ k: rng.choice(c.k), axes: [...rng.choice(c.planes)] }),
  steps: (p, ctx) => {
    const k = recorded<number>(p, 'k', 'rot90', Number.isInteger, 'an integer');
    const axes = recorded<number[]>(p, 'axes', 'rot90', (v) => intList(v) && (v as number[]).length === 2, 'two axes');
    return k % 4 === 0 ? [] : [rot90Step(ctx.shape, k, [axes[0], axes[1]])];
  },
};

interface RotateCfg {
  degrees: [number, number][];
  integer: boolean;
}
/**
 * Rotation about the centre by angles drawn uniformly from `degrees` (2D: one
 * range; 3D: one range per axis, or one range for all three, as nnU-Net).
 * `integer` draws whole degrees in [low, high) like numpy.randint (SSL4MIS).
 */
export const rotateOp: SpatialOpDef<RotateCfg> = {
  kind: 'spatial',
  name: 'rotate',
  summary: 'rotation by random angles (degrees)',
  parse: (r, d) => ({ degrees: r.axisRanges('degrees', [-30, 30], d === 2 ? 1 : 3, -360, 360), integer: r.bool('integer', false) }),
  sample: (c, rng) => ({ degrees: c.degrees.map(([lo, hi]) => (c.integer ? (hi > lo ? rng.int(Math.ceil(lo), Math.ceil(hi)) : lo) : rng.uniform(lo, hi))) }),
  steps: (p, ctx) => {
    const deg = recorded<number[]>(p, 'degrees', 'rotate', (v) => isNumArray(v, ctx.spatialDims === 2 ? 1 : 3), `${ctx.spatialDims === 2 ? 1 : 3} angles`);
    return deg.every((v) => v === 0) ? [] : [rotateStep(ctx.shape, deg)];
  },
};

interface ScaleCfg {
  range: [number, number][];
  perAxis: boolean;
  axes: number[];
}
/**
 * Scaling of the sampling coordinates (nnU-Net convention: factor < 1 zooms
 * in). One factor for all of `axes` (default all; others keep 1) unless perAxis.
 */
export const scaleOp: SpatialOpDef<ScaleCfg> = {
  kind: 'spatial',
  name: 'scale',
  summary: 'scale sampling coordinates (nnU-Net convention: < 1 zooms in)',
  parse: (r, d) => ({ range: r.axisRanges('range', [0.7, 1.4], d, 1e-3, 1e3), perAxis: r.bool('perAxis', false), axes: r.intList('axes', allAxes(d), 0, d - 1) }),
  sample: (c, rng) => {
    if (c.perAxis) return { factors: c.range.map(([lo, hi], a) => (c.axes.includes(a) ? rng.uniform(lo, hi) : 1)) };
    const first = c.range[c.axes[0] ?? 0];
    const f = rng.uniform(first[0], first[1]);
    return { factors: c.range.map((_, a) => (c.axes.includes(a) ? f : 1)) };
  },
  steps: (p, ctx) => {
    const f = recorded<number[]>(p, 'factors', 'scale', (v) => isNumArray(v, ctx.spatialDims), `${ctx.spatialDims} factors`);
    return f.every((v) => v === 1) ? [] : [scaleStep(ctx.shape, f)];
  },
};

interface ElasticCfg {
  alpha: [number, number];
  sigma: [number, number];
  step: number | 'auto';
}
/**
 * Elastic deformation, batchgenerators' alpha/σ parameters: displacement =
 * alpha × (uniform[−1, 1] noise smoothed by a Gaussian of σ voxels). Computed
 * on a lattice of spacing `step` (auto: ⌊σ/3⌋, at least 1) with the
 * full-resolution field's variance; step 1 is the exact full-resolution field.
 */
export const elasticOp: SpatialOpDef<ElasticCfg> = {
  kind: 'spatial',
  name: 'elastic',
  summary: 'smooth random displacement (alpha, sigma as batchgenerators)',
  parse: (r, d) => {
    const raw = r.raw('step') ?? 'auto';
    if (raw !== 'auto' && !(typeof raw === 'number' && Number.isInteger(raw) && raw >= 1)) r.fail('step', "'auto' or an integer ≥ 1", raw);
    return { alpha: r.range('alpha', d === 2 ? [0, 200] : [0, 900], 0), sigma: r.range('sigma', [9, 13], 1e-3), step: raw as number | 'auto' };
  },
  sample: (c, rng) => {
    const sigma = rng.uniform(c.sigma[0], c.sigma[1]);
    return { alpha: rng.uniform(c.alpha[0], c.alpha[1]), sigma, step: c.step === 'auto' ? Math.max(1, Math.floor(sigma / 3)) : c.step, seed: rng.deriveSeed() };
  },
  steps: (p, ctx) => {
    const num = (k: string) => recorded<number>(p, k, 'elastic', isNum, 'a number');
    return num('alpha') === 0 ? [] : [elasticStep(ctx.shape, num('alpha'), num('sigma'), num('seed'), num('step'))];
  },
};

interface TranslateCfg {
  range: [number, number][];
  integer: boolean;
}
/** Translation by a random shift in voxels per axis (integer shifts stay exact). */
export const translateOp: SpatialOpDef<TranslateCfg> = {
  kind: 'spatial',
  name: 'translate',
  summary: 'shift content by random voxels per axis',
  parse: (r, d) => ({ range: r.axisRanges('range', [-10, 10], d), integer: r.bool('integer', false) }),
  sample: (c, rng) => ({ shift: c.range.map(([lo, hi]) => (c.integer ? rng.int(Math.ceil(lo), Math.floor(hi) + 1) : rng.uniform(lo, hi))) }),
  steps: (p, ctx) => {
    const s = recorded<number[]>(p, 'shift', 'translate', (v) => isNumArray(v, ctx.spatialDims), `${ctx.spatialDims} shifts`);
    return s.every((v) => v === 0) ? [] : [translateStep(ctx.shape, s)];
  },
};

type CropMode = 'center' | 'random' | 'given';
interface CropCfg {
  size: number[];
  mode: CropMode;
}
/**
 * A patch of `size`: centred, at a random position that keeps it inside the
 * input (centred when the input is smaller: the rest is padded), or centred
 * on the voxel the sampler chose (`given`: the sample's `center`).
 */
export const cropOp: SpatialOpDef<CropCfg> = {
  kind: 'spatial',
  name: 'crop',
  summary: 'patch of a fixed size (centre, random, or at the sampler-given centre)',
  parse: (r, d) => ({ size: r.shape('size', d), mode: r.choice<CropMode>('mode', 'center', ['center', 'random', 'given']) }),
  sample: (c, rng, ctx: SpatialContext) => {
    const start = c.size.map((s, a) => {
      const n = ctx.shape[a];
      if (c.mode === 'given') {
        if (!ctx.center) throw new AugmentConfigError("crop (mode 'given')", 'the sample has no `center`; pass sample.center (voxel coordinates of the input) or use mode center/random');
        return Math.round(ctx.center[a] - (s - 1) / 2);
      }
      if (c.mode === 'random' && n > s) return rng.int(0, n - s + 1);
      return Math.floor((n - s) / 2);
    });
    return { start, size: c.size };
  },
  steps: (p, ctx) => {
    const start = recorded<number[]>(p, 'start', 'crop', (v) => isNumArray(v, ctx.spatialDims), `${ctx.spatialDims} starts`);
    const size = recorded<number[]>(p, 'size', 'crop', (v) => isNumArray(v, ctx.spatialDims), `${ctx.spatialDims} sizes`);
    return start.every((v) => v === 0) && size.every((n, a) => n === ctx.shape[a]) ? [] : [cropStep(ctx.shape, start, size)];
  },
};

interface ResizeCfg {
  size: number[];
  alignCorners: boolean;
}
/** Resampling of the whole extent to `size` (alignCorners: scipy.ndimage.zoom's geometry, as SSL4MIS). */
export const resizeOp: SpatialOpDef<ResizeCfg> = {
  kind: 'spatial',
  name: 'resize',
  summary: 'resample the whole extent to a fixed size',
  parse: (r, d) => ({ size: r.shape('size', d), alignCorners: r.bool('alignCorners', false) }),
  sample: (c) => ({ size: c.size, alignCorners: c.alignCorners }),
  steps: (p, ctx) => {
    const size = recorded<number[]>(p, 'size', 'resize', (v) => isNumArray(v, ctx.spatialDims), `${ctx.spatialDims} sizes`);
    const ac = recorded<boolean>(p, 'alignCorners', 'resize', (v) => typeof v === 'boolean', 'true or false');
    return size.every((n, a) => n === ctx.shape[a]) ? [] : [resizeStep(ctx.shape, size, ac)];
  },
};

export const SPATIAL_OPS: readonly SpatialOpDef[] = [flipOp, rot90Op, rotateOp, scaleOp, elasticOp, translateOp, cropOp, resizeOp] as SpatialOpDef[];

