// Experiment planning, nnU-Net v2 style (ExperimentPlanner with the plain
// U-Net): from a dataset fingerprint to target spacing, patch and batch size
// under a GPU memory budget, per-channel normalisation and the network
// topology, for 2D, 3D full-resolution and (when needed) 3D low-resolution
// configurations. Every choice is written next to its reason in `why`
// fields so the plan file can be read and edited by hand.
//
// Conventions: spacings and shapes are in tensor (z, y, x) order before the
// transpose; configurations hold them after the transpose (the coarsest axis
// first), as nnU-Net's plans do.
import fs from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';
import { percentileSorted } from '../data/fingerprint.js';
import { type NormalizationConfig, schemeForChannelName, validateNormalization } from './normalize.js';
import type { PreprocessConfig, ResamplingConfig } from './preprocess.js';
import { computeNewShape, roundHalfEven } from './resample.js';

/** Per-channel foreground intensity statistics (nnU-Net's field names). */
export interface IntensityProperties {
  mean: number;
  median?: number;
  std: number;
  min?: number;
  max?: number;
  percentile_00_5: number;
  percentile_99_5: number;
}

/** What the planner needs from a dataset fingerprint. */
export interface FingerprintLike {
  /** Per case, (z, y, x). */
  spacings: number[][];
  /** Per case, after cropping to the non-zero region, (z, y, x). */
  shapesAfterCrop: number[][];
  /** Keyed by channel index as a string ("0", "1", ...). */
  foregroundIntensityPropertiesPerChannel: Record<string, IntensityProperties>;
  /** Median over cases of (voxels after crop / voxels before). */
  medianRelativeSizeAfterCropping: number;
  /** Channel names in order (nnU-Net channel_names values). */
  channelNames: string[];
  /** nnU-Net `labels`: name → value (or values for a region). */
  labels: Record<string, number | number[]>;
  /** Number of training cases; defaults to the number of spacings. */
  numTraining?: number;
  datasetName?: string;
}

export type PlanDims = '2d' | '3d' | 'both';

export interface PlannerOptions {
  /** GPU memory target in GB (nnU-Net default 8). */
  memoryGb?: number;
  dims?: PlanDims;
  /** Fix the full-resolution target spacing (z, y, x) instead of deriving it. */
  overwriteTargetSpacing?: number[];
  /** Skip the transpose that puts the coarsest axis first. */
  suppressTranspose?: boolean;
}

/** nnU-Net's constants for the plain-conv U-Net planner (values tuned to reproduce v1's configurations). */
export const PLANNER_DEFAULTS = Object.freeze({
  baseFeatures: 32,
  maxFeatures2d: 512,
  maxFeatures3d: 320,
  featureMapMinEdgeLength: 4,
  convsPerStageEncoder: 2,
  convsPerStageDecoder: 2,
  /** Feature-map voxels that fit the reference GPU at the reference batch size. */
  referenceVal3d: 560_000_000,
  referenceVal2d: 85_000_000,
  referenceGb: 8,
  referenceBatch3d: 2,
  referenceBatch2d: 12,
  minBatchSize: 2,
  /** A batch may cover at most this fraction of the dataset's voxels. */
  maxDatasetCovered: 0.05,
  anisotropyThreshold: 3,
  lowresCreationThreshold: 0.25,
  lowresSpacingIncrease: 1.03,
  /** Relative size after cropping below which zscore uses the non-zero mask. */
  maskForNormThreshold: 0.75,
});

export interface NetworkTopology {
  convOp: 'conv2d' | 'conv3d';
  nStages: number;
  featuresPerStage: number[];
  kernelSizes: number[][];
  /** Pooling (strided-conv) kernel per stage; stage 0 is all ones. */
  strides: number[][];
  nConvPerStage: number[];
  nConvPerStageDecoder: number[];
  poolOpsPerAxis: number[];
  shapeMustBeDivisibleBy: number[];
  norm: 'instance';
  nonlin: 'leaky_relu';
  convBias: true;
}

export interface PlanConfiguration {
  dims: 2 | 3;
  /** Target spacing after the transpose ((y, x) for 2D). */
  spacing: number[];
  medianShape: number[];
  patchSize: number[];
  batchSize: number;
  /** Dice over the whole batch (nnU-Net: 2D and full-res when a low-res exists). */
  batchDice: boolean;
  normalization: NormalizationConfig[];
  useMaskForNorm: boolean[];
  resampling: { data: ResamplingConfig; seg: ResamplingConfig; probabilities: ResamplingConfig };
  network: NetworkTopology;
  memory: {
    /** Σ conv feature-map voxels of one sample (nnU-Net's VRAM proxy). */
    featureMapVoxels: number;
    /** Feature-map voxels per sample the budget allows at the reference batch size. */
    budgetFeatureMapVoxels: number;
    /** Rough GB used at this batch size, scaled from nnU-Net's reference point. */
    estimatedGb: number;
  };
  why: Record<string, string>;
}

export interface Plans {
  format: 'labelwise-plans';
  version: 1;
  planner: string;
  datasetName?: string;
  channelNames: string[];
  labels: Record<string, number | number[]>;
  numTraining: number;
  memoryGb: number;
  transposeForward: number[];
  transposeBackward: number[];
  /** Median spacing/shape over cases, after the transpose. */
  originalMedianSpacing: number[];
  originalMedianShape: number[];
  foregroundIntensityPropertiesPerChannel: Record<string, IntensityProperties>;
  configurations: Record<string, PlanConfiguration>;
  why: Record<string, string>;
}

// ---------------------------------------------------------------- numpy helpers

/** numpy.percentile (linear) of unsorted values. */
export function percentileLinear(values: readonly number[], q: number): number {
  return percentileSorted(Float64Array.from(values).sort(), q);
}

/** numpy.percentile(rows, q, axis=0) with linear interpolation. */
export function percentileColumns(rows: readonly (readonly number[])[], q: number): number[] {
  if (rows.length === 0) throw new Error('percentile: no values');
  return Array.from({ length: rows[0].length }, (_, c) => percentileLinear(rows.map((r) => r[c]), q));
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------- topology

export interface PoolConvProps {
  poolOpsPerAxis: number[];
  strides: number[][];
  kernelSizes: number[][];
  patchSize: number[];
  shapeMustBeDivisibleBy: number[];
}

/** nnU-Net's pad_shape: the next multiple of `by` strictly above, unless already a multiple. */
function padShape(shape: readonly number[], by: readonly number[]): number[] {
  return shape.map((s, i) => {
    const r = s % by[i];
    return Math.trunc(r === 0 ? s : s + by[i] - r);
  });
}

/**
 * nnU-Net's get_pool_and_conv_props: pool every axis whose feature map is
 * still ≥ 2·minEdge voxels and whose spacing is within 2× of the finest;
 * kernels become 3 once an axis's spacing is within 2× of the finest (1
 * before, so very coarse axes are not convolved across); the patch is
 * padded to a multiple of 2^pools per axis.
 */
export function poolAndConvProps(spacing: readonly number[], patchSize: readonly number[], minEdge: number, maxPool = 999999): PoolConvProps {
  const dim = spacing.length;
  const curSpacing = [...spacing];
  const curSize = [...patchSize];
  const strides: number[][] = [Array(dim).fill(1)];
  const kernelSizes: number[][] = [];
  const pools = Array(dim).fill(0);
  const kernel = Array(dim).fill(1);
  for (;;) {
    let valid = [...Array(dim).keys()].filter((i) => curSize[i] >= 2 * minEdge);
    if (valid.length < 1) break;
    const minSpacing = Math.min(...valid.map((i) => curSpacing[i]));
    valid = valid.filter((i) => curSpacing[i] / minSpacing < 2).filter((i) => pools[i] < maxPool);
    if (valid.length === 1 && !(curSize[valid[0]] >= 3 * minEdge)) break;
    if (valid.length < 1) break;
    const finest = Math.min(...curSpacing);
    for (let d = 0; d < dim; d++) if (kernel[d] !== 3 && curSpacing[d] / finest < 2) kernel[d] = 3;
    const stride = Array(dim).fill(1);
    for (const v of valid) {
      stride[v] = 2;
      pools[v]++;
      curSpacing[v] *= 2;
      curSize[v] = Math.ceil(curSize[v] / 2);
    }
    strides.push(stride);
    kernelSizes.push([...kernel]);
  }
  const by = pools.map((p) => 2 ** p);
  kernelSizes.push(Array(dim).fill(3));
  return { poolOpsPerAxis: pools, strides, kernelSizes, patchSize: padShape(patchSize, by), shapeMustBeDivisibleBy: by };
}

function featuresPerStage(nStages: number, maxFeatures: number, base = PLANNER_DEFAULTS.baseFeatures): number[] {
  return Array.from({ length: nStages }, (_, i) => Math.min(maxFeatures, base * 2 ** i));
}

/**
 * Σ of the output sizes of every convolution (and transposed convolution
 * and the final segmentation layer) of nnU-Net's plain U-Net for one input
 * patch: PlainConvUNet.compute_conv_feature_map_size without deep supervision.
 */
export function unetFeatureMapVoxels(patchSize: readonly number[], topo: Pick<NetworkTopology, 'featuresPerStage' | 'strides' | 'nConvPerStage' | 'nConvPerStageDecoder'>, numClasses: number): number {
  const { featuresPerStage: f, strides, nConvPerStage, nConvPerStageDecoder } = topo;
  const n = f.length;
  let total = 0;
  let size = [...patchSize];
  for (let s = 0; s < n; s++) {
    size = size.map((v, i) => Math.floor(v / strides[s][i]));
    total += nConvPerStage[s] * f[s] * prod(size);
  }
  const skips: number[][] = [];
  size = [...patchSize];
  for (let s = 0; s < n - 1; s++) {
    size = size.map((v, i) => Math.floor(v / strides[s][i]));
    skips.push(size);
  }
  for (let s = 0; s < n - 1; s++) {
    const skip = skips[n - 2 - s];
    const feat = f[n - 2 - s];
    total += nConvPerStageDecoder[s] * feat * prod(skip); // conv blocks
    total += feat * prod(skip); // transposed conv
    if (s === n - 2) total += numClasses * prod(skip); // segmentation output
  }
  return total;
}

// ---------------------------------------------------------------- planning

function topologyFor(spacing: readonly number[], patch: readonly number[]): { props: PoolConvProps; topo: NetworkTopology } {
  const d = PLANNER_DEFAULTS;
  const props = poolAndConvProps(spacing, patch, d.featureMapMinEdgeLength);
  const nStages = props.strides.length;
  const topo: NetworkTopology = {
    convOp: spacing.length === 2 ? 'conv2d' : 'conv3d',
    nStages,
    featuresPerStage: featuresPerStage(nStages, spacing.length === 2 ? d.maxFeatures2d : d.maxFeatures3d),
    kernelSizes: props.kernelSizes,
    strides: props.strides,
    nConvPerStage: Array(nStages).fill(d.convsPerStageEncoder),
    nConvPerStageDecoder: Array(nStages - 1).fill(d.convsPerStageDecoder),
    poolOpsPerAxis: props.poolOpsPerAxis,
    shapeMustBeDivisibleBy: props.shapeMustBeDivisibleBy,
    norm: 'instance',
    nonlin: 'leaky_relu',
    convBias: true,
  };
  return { props, topo };
}

interface ConfigContext {
  numClasses: number;
  memoryGb: number;
  normalization: NormalizationConfig[];
  useMaskForNorm: boolean[];
  normWhy: string;
}

/** nnU-Net's get_plans_for_configuration for one spacing / median shape. */
export function planConfiguration(spacing: readonly number[], medianShape: readonly number[], approxDatasetVoxels: number, ctx: ConfigContext): PlanConfiguration {
  const d = PLANNER_DEFAULTS;
  const dim = spacing.length;
  if (dim !== 2 && dim !== 3) throw new Error(`planConfiguration: spacing must have 2 or 3 entries, got [${spacing.join(', ')}]`);
  const inv = spacing.map((s) => 1 / s);
  const edge = dim === 3 ? 256 : 2048;
  const scale = Math.pow(edge ** dim / prod(inv), 1 / dim);
  // Aspect ratio from the spacing, volume of a 256³ (2048²) patch, clipped to the median shape.
  let patch = inv.map((v) => roundHalfEven(v * scale)).map((p, i) => Math.min(p, medianShape[i]));
  let { props, topo } = topologyFor(spacing, patch);
  patch = props.patchSize;
  const reference = (dim === 2 ? d.referenceVal2d : d.referenceVal3d) * (ctx.memoryGb / d.referenceGb);
  let estimate = unetFeatureMapVoxels(patch, topo, ctx.numClasses);
  let shrinkSteps = 0;
  while (estimate > reference) {
    // Shrink the axis that is largest relative to the median shape (last one on ties, as numpy's argsort).
    const ratios = patch.map((p, i) => p / medianShape[i]);
    let axis = 0;
    for (let i = 1; i < dim; i++) if (ratios[i] >= ratios[axis]) axis = i;
    // Subtract the divisor of the *reduced* shape, so valid sizes such as 224 are not skipped.
    const tmp = [...patch];
    tmp[axis] -= props.shapeMustBeDivisibleBy[axis];
    const by = poolAndConvProps(spacing, tmp, d.featureMapMinEdgeLength).shapeMustBeDivisibleBy;
    const next = [...patch];
    next[axis] -= by[axis];
    if (next[axis] < 1) break;
    ({ props, topo } = topologyFor(spacing, next));
    patch = props.patchSize;
    estimate = unetFeatureMapVoxels(patch, topo, ctx.numClasses);
    shrinkSteps++;
  }
  const refBatch = dim === 2 ? d.referenceBatch2d : d.referenceBatch3d;
  const fromMemory = roundHalfEven((reference / estimate) * refBatch);
  const coverCap = roundHalfEven((approxDatasetVoxels * d.maxDatasetCovered) / prod(patch));
  const batchSize = Math.max(Math.min(fromMemory, coverCap), d.minBatchSize);
  const estimatedGb = (ctx.memoryGb * (estimate * batchSize)) / (reference * refBatch);

  const why: Record<string, string> = {
    spacing: dim === 3 ? 'target spacing of this configuration (z, y, x after the transpose); images are resampled to it' : 'in-plane target spacing (y, x); the slice axis keeps each case\'s own spacing',
    patchSize: `started from a ${edge}^${dim}-voxel patch with the spacing's aspect ratio, clipped to the median shape [${medianShape.map((v) => +v.toFixed(2)).join(', ')}], ` +
      `made divisible by 2^pools per axis` + (shrinkSteps ? `, then shrunk ${shrinkSteps} time(s) along the axis largest relative to the median shape until the U-Net's feature maps fit ${ctx.memoryGb} GB` : `; it fits ${ctx.memoryGb} GB without shrinking`),
    batchSize: `memory allows ${fromMemory} (${(reference / estimate).toFixed(2)}× the reference ${refBatch}); a batch may cover at most ${d.maxDatasetCovered * 100}% of the dataset's voxels (${coverCap}); at least ${d.minBatchSize}`,
    network: `pool each axis while its feature map is ≥ ${2 * d.featureMapMinEdgeLength} voxels and its spacing is within 2× of the finest; kernels are 1 along axes still ≥ 2× coarser than the finest; ` +
      `features ${d.baseFeatures}·2^stage capped at ${dim === 2 ? d.maxFeatures2d : d.maxFeatures3d}`,
    normalization: ctx.normWhy,
    resampling: 'images: cubic B-spline (order 3), labels: one-hot linear (order 1); when a spacing is anisotropic (ratio > 3) the coarse axis is resampled separately with order 0 (nnU-Net "separate z")',
    memory: `feature-map voxels per sample ${estimate.toExponential(3)} vs budget ${reference.toExponential(3)} (nnU-Net's reference: ${d.referenceVal3d.toExponential(2)} voxels in 3D, ${d.referenceVal2d.toExponential(2)} in 2D, ≙ ${d.referenceGb} GB at batch ${refBatch})`,
  };
  return {
    dims: dim as 2 | 3,
    spacing: [...spacing],
    medianShape: [...medianShape],
    patchSize: patch,
    batchSize,
    batchDice: dim === 2,
    normalization: ctx.normalization,
    useMaskForNorm: ctx.useMaskForNorm,
    resampling: {
      data: { order: 3, orderZ: 0, forceSeparateZ: null },
      seg: { order: 1, orderZ: 0, forceSeparateZ: null, rule: 'argmax' },
      probabilities: { order: 1, orderZ: 0, forceSeparateZ: null },
    },
    network: topo,
    memory: { featureMapVoxels: estimate, budgetFeatureMapVoxels: reference, estimatedGb: +estimatedGb.toFixed(3) },
    why,
  };
}

/** nnU-Net's determine_fullres_target_spacing (tensor order, before the transpose). */
export function fullresTargetSpacing(spacings: readonly (readonly number[])[], shapesAfterCrop: readonly (readonly number[])[], threshold = PLANNER_DEFAULTS.anisotropyThreshold): { spacing: number[]; anisotropic: boolean; axis: number } {
  const target = percentileColumns(spacings, 50);
  const targetSize = percentileColumns(shapesAfterCrop, 50);
  let worst = 0;
  for (let i = 1; i < target.length; i++) if (target[i] > target[worst]) worst = i;
  const others = target.map((_, i) => i).filter((i) => i !== worst);
  const otherSpacings = others.map((i) => target[i]);
  const otherSizes = others.map((i) => targetSize[i]);
  const anisoSpacing = target[worst] > threshold * Math.max(...otherSpacings);
  const anisoVoxels = targetSize[worst] * threshold < Math.min(...otherSizes);
  if (anisoSpacing && anisoVoxels) {
    let t = percentileLinear(spacings.map((s) => s[worst]), 10);
    if (t < Math.max(...otherSpacings)) t = Math.max(Math.max(...otherSpacings), t) + 1e-5;
    target[worst] = t;
    return { spacing: target, anisotropic: true, axis: worst };
  }
  return { spacing: target, anisotropic: false, axis: worst };
}

function normalizationFor(fp: FingerprintLike): { normalization: NormalizationConfig[]; useMask: boolean[]; why: string } {
  const useMaskAllowed = fp.medianRelativeSizeAfterCropping < PLANNER_DEFAULTS.maskForNormThreshold;
  const normalization: NormalizationConfig[] = [];
  const useMask: boolean[] = [];
  const notes: string[] = [];
  fp.channelNames.forEach((name, c) => {
    const scheme = schemeForChannelName(name);
    if (scheme === 'ct') {
      const p = fp.foregroundIntensityPropertiesPerChannel[String(c)];
      const finite = (x: unknown) => typeof x === 'number' && Number.isFinite(x);
      if (!p || ![p.mean, p.std, p.percentile_00_5, p.percentile_99_5].every(finite)) {
        throw new Error(`plan: channel ${c} ('${name}') is CT but the fingerprint has no finite foreground_intensity_properties_per_channel["${c}"] (mean, std, percentile_00_5, percentile_99_5): are there labelled training cases with foreground?`);
      }
      normalization.push({ scheme: 'ct', mean: p.mean, std: p.std, lower: p.percentile_00_5, upper: p.percentile_99_5 });
      useMask.push(false);
      notes.push(`channel ${c} '${name}': CT → clip to the training foreground's [0.5, 99.5] percentiles [${p.percentile_00_5}, ${p.percentile_99_5}], then (x − ${p.mean.toFixed(3)}) / ${p.std.toFixed(3)}`);
    } else if (scheme === 'zscore') {
      normalization.push({ scheme: 'zscore', useMask: useMaskAllowed });
      useMask.push(useMaskAllowed);
      notes.push(`channel ${c} '${name}': per-case z-score` + (useMaskAllowed ? ' inside the non-zero mask' : ''));
    } else {
      normalization.push({ scheme } as NormalizationConfig);
      useMask.push(false);
      notes.push(`channel ${c} '${name}': ${scheme}`);
    }
  });
  const maskNote = `median relative size after cropping ${fp.medianRelativeSizeAfterCropping.toFixed(3)} ${useMaskAllowed ? '<' : '≥'} ${PLANNER_DEFAULTS.maskForNormThreshold}: ` +
    (useMaskAllowed ? 'cropping removed much background, so z-score statistics use the non-zero mask only' : 'z-score uses the whole crop');
  return { normalization, useMask, why: [...notes, maskNote].join('; ') };
}

/** Checks a fingerprint's fields before planning; errors name the field. */
export function validateFingerprint(fp: FingerprintLike, where = 'fingerprint'): void {
  if (!Array.isArray(fp.spacings) || fp.spacings.length === 0) throw new Error(`${where}.spacings: expected one (z, y, x) spacing per case, got ${JSON.stringify(fp.spacings)?.slice(0, 80)}`);
  if (!Array.isArray(fp.shapesAfterCrop) || fp.shapesAfterCrop.length !== fp.spacings.length) {
    throw new Error(`${where}.shapes_after_crop: expected ${fp.spacings.length} shapes (one per spacing), got ${Array.isArray(fp.shapesAfterCrop) ? fp.shapesAfterCrop.length : JSON.stringify(fp.shapesAfterCrop)}`);
  }
  fp.spacings.forEach((s, i) => {
    if (!Array.isArray(s) || s.length !== 3 || s.some((v) => !(typeof v === 'number' && v > 0 && Number.isFinite(v)))) throw new Error(`${where}.spacings[${i}]: expected 3 positive numbers, got ${JSON.stringify(s)}`);
  });
  fp.shapesAfterCrop.forEach((s, i) => {
    if (!Array.isArray(s) || s.length !== 3 || s.some((v) => !(Number.isInteger(v) && v >= 1))) throw new Error(`${where}.shapes_after_crop[${i}]: expected 3 positive integers, got ${JSON.stringify(s)}`);
  });
  if (!Array.isArray(fp.channelNames) || fp.channelNames.length === 0) throw new Error(`${where}.channel_names: expected at least one channel name`);
  if (typeof fp.labels !== 'object' || fp.labels === null || Object.keys(fp.labels).length < 2) throw new Error(`${where}.labels: expected a name → value map with background and at least one class, got ${JSON.stringify(fp.labels)}`);
  if (!(typeof fp.medianRelativeSizeAfterCropping === 'number' && fp.medianRelativeSizeAfterCropping > 0 && fp.medianRelativeSizeAfterCropping <= 1)) {
    throw new Error(`${where}.median_relative_size_after_cropping: expected a number in (0, 1], got ${JSON.stringify(fp.medianRelativeSizeAfterCropping)}`);
  }
}

/** Plans 2D / 3D configurations from a fingerprint (nnU-Net's plan_experiment). */
export function planExperiment(fp: FingerprintLike, options: PlannerOptions = {}): Plans {
  validateFingerprint(fp);
  const d = PLANNER_DEFAULTS;
  const memoryGb = options.memoryGb ?? 8;
  if (!(memoryGb > 0 && Number.isFinite(memoryGb))) throw new Error(`plan: memory budget must be a positive number of GB, got ${memoryGb}`);
  const dims = options.dims ?? 'both';
  if (!['2d', '3d', 'both'].includes(dims)) throw new Error(`plan: dims must be '2d', '3d' or 'both', got '${dims}'`);
  const numTraining = fp.numTraining ?? fp.spacings.length;
  const numClasses = Object.keys(fp.labels).length;

  let target: number[];
  let targetWhy: string;
  if (options.overwriteTargetSpacing) {
    if (options.overwriteTargetSpacing.length !== 3) throw new Error(`plan: overwriteTargetSpacing must be (z, y, x), got [${options.overwriteTargetSpacing.join(', ')}]`);
    target = [...options.overwriteTargetSpacing];
    targetWhy = 'given by the user';
  } else {
    const t = fullresTargetSpacing(fp.spacings, fp.shapesAfterCrop);
    target = t.spacing;
    targetWhy = t.anisotropic
      ? `median spacing per axis, except axis ${t.axis}: the dataset is anisotropic (spacing > ${d.anisotropyThreshold}× and voxels < 1/${d.anisotropyThreshold} of the others), so it uses the 10th percentile of that axis's spacings (${target[t.axis].toFixed(4)}) to keep more slices`
      : 'median spacing per axis over the training cases';
  }
  let tf = [0, 1, 2];
  if (!options.suppressTranspose) {
    let worst = 0;
    for (let i = 1; i < 3; i++) if (target[i] > target[worst]) worst = i;
    tf = [worst, ...[0, 1, 2].filter((i) => i !== worst)];
  }
  const tb = [0, 1, 2].map((i) => tf.indexOf(i));
  const T = (v: readonly number[]) => tf.map((a) => v[a]);

  const newShapes = fp.spacings.map((s, i) => computeNewShape(fp.shapesAfterCrop[i], s, target));
  const medianShape = percentileColumns(newShapes, 50);
  const targetT = T(target);
  const medianT = T(medianShape);
  const approxVoxels = prod(medianT) * numTraining;
  const norm = normalizationFor(fp);
  const ctx: ConfigContext = { numClasses, memoryGb, normalization: norm.normalization, useMaskForNorm: norm.useMask, normWhy: norm.why };
  const configurations: Record<string, PlanConfiguration> = {};

  if ((dims === '3d' || dims === 'both') && medianT[0] !== 1) {
    const full = planConfiguration(targetT, medianT, approxVoxels, ctx);
    full.why.spacing = `${targetWhy}; after the transpose (z, y, x) = [${targetT.map((v) => +v.toFixed(5)).join(', ')}]`;
    configurations['3d_fullres'] = full;
    // A low-resolution cascade stage when the full-res patch covers < 25% of the median image.
    const medianVoxels0 = prod(medianT);
    let patchVoxels = prod(full.patchSize);
    let lowres: PlanConfiguration | null = null;
    let lowSpacing = [...full.spacing];
    let medianVoxels = medianVoxels0;
    let guard = 0;
    while (patchVoxels / medianVoxels < d.lowresCreationThreshold && guard++ < 1000) {
      const maxS = Math.max(...lowSpacing);
      if (lowSpacing.some((s) => maxS / s > 2)) lowSpacing = lowSpacing.map((s) => (maxS / s > 2 ? s * d.lowresSpacingIncrease : s));
      else lowSpacing = lowSpacing.map((s) => s * d.lowresSpacingIncrease);
      const lowShape = full.spacing.map((s, i) => (s / lowSpacing[i]) * medianT[i]);
      medianVoxels = prod(lowShape);
      lowres = planConfiguration(lowSpacing, lowShape.map(roundHalfEven), medianVoxels * numTraining, ctx);
      patchVoxels = prod(lowres.patchSize);
    }
    if (lowres && medianVoxels0 / medianVoxels < 2) lowres = null; // not sufficiently smaller than full-res
    if (lowres) {
      lowres.batchDice = false;
      lowres.why.spacing = `full-res spacing enlarged in steps of ${((d.lowresSpacingIncrease - 1) * 100).toFixed(0)}% (coarse axes first) until the patch covers ≥ ${d.lowresCreationThreshold * 100}% of the median image: first stage of a cascade`;
      configurations['3d_lowres'] = lowres;
      full.batchDice = true;
      full.why.batchDice = 'a 3d_lowres stage exists, so full-res trains as the cascade\'s second stage with batch Dice';
    } else {
      full.batchDice = false;
    }
  }
  if (dims === '2d' || dims === 'both') {
    const c2 = planConfiguration(targetT.slice(1), medianT.slice(1), approxVoxels, ctx);
    c2.batchDice = true;
    configurations['2d'] = c2;
  }
  if (Object.keys(configurations).length === 0) {
    throw new Error(`plan: no configuration possible for dims '${dims}': the median image has a single slice (2D data), so plan with --dims 2d`);
  }
  return {
    format: 'labelwise-plans',
    version: 1,
    planner: 'nnU-Net v2 ExperimentPlanner (plain-conv U-Net), reimplemented',
    datasetName: fp.datasetName,
    channelNames: [...fp.channelNames],
    labels: { ...fp.labels },
    numTraining,
    memoryGb,
    transposeForward: tf,
    transposeBackward: tb,
    originalMedianSpacing: T(percentileColumns(fp.spacings, 50)),
    originalMedianShape: T(percentileColumns(fp.shapesAfterCrop, 50)),
    foregroundIntensityPropertiesPerChannel: fp.foregroundIntensityPropertiesPerChannel,
    configurations,
    why: {
      transposeForward: `axes permuted so the coarsest target-spacing axis (${tf[0]}) comes first: 2D configurations slice along it`,
      targetSpacing: targetWhy,
      medianShape: 'median over cases of the shape after cropping and resampling to the full-res spacing',
      editing: 'edit any field; `labelwise train` and preprocessing read spacing, patchSize, batchSize, normalization, resampling and network from this file',
    },
  };
}

/** The preprocessing a configuration of a plan implies (for preprocessCase / preprocessDataset). */
export function preprocessConfigFromPlan(plans: Plans, configuration: string, foregroundLabels?: number[]): PreprocessConfig {
  const c = plans.configurations?.[configuration];
  if (!c) throw new Error(`plans: no configuration '${configuration}' (the plan has: ${Object.keys(plans.configurations ?? {}).join(', ') || 'none'})`);
  const labels = foregroundLabels ?? Object.values(plans.labels).flatMap((v) => (Array.isArray(v) ? v : [v])).filter((v) => v > 0);
  return {
    spacing: [...c.spacing],
    transposeForward: [...plans.transposeForward],
    normalization: c.normalization,
    cropToNonzero: true,
    resampling: { data: c.resampling.data, seg: c.resampling.seg },
    foregroundLabels: [...new Set(labels)].sort((a, b) => a - b),
  };
}

// ---------------------------------------------------------------- reading fingerprints

function pick(o: Record<string, unknown>, ...names: string[]): unknown {
  for (const n of names) if (o[n] !== undefined) return o[n];
  return undefined;
}

/**
 * Reads a fingerprint from JSON: nnU-Net's dataset_fingerprint.json
 * (snake_case; then channel names, labels and numTraining come from
 * `datasetJson` or from fields merged into the same object) or the same
 * fields in camelCase.
 */
export function fingerprintFromJson(json: unknown, datasetJson?: unknown, where = 'fingerprint'): FingerprintLike {
  if (typeof json !== 'object' || json === null) throw new Error(`${where}: expected a JSON object`);
  const o = json as Record<string, unknown>;
  const ds = (typeof datasetJson === 'object' && datasetJson !== null ? datasetJson : (pick(o, 'dataset', 'dataset_json', 'datasetJson') ?? o)) as Record<string, unknown>;
  let channelNames = pick(o, 'channelNames', 'channel_names') ?? pick(ds, 'channelNames', 'channel_names', 'modality');
  if (channelNames && !Array.isArray(channelNames) && typeof channelNames === 'object') {
    const rec = channelNames as Record<string, string>;
    channelNames = Object.keys(rec).sort((a, b) => Number(a) - Number(b)).map((k) => rec[k]);
  }
  const labels = pick(o, 'labels') ?? pick(ds, 'labels');
  const fp: FingerprintLike = {
    spacings: pick(o, 'spacings') as number[][],
    shapesAfterCrop: pick(o, 'shapesAfterCrop', 'shapes_after_crop') as number[][],
    foregroundIntensityPropertiesPerChannel: (pick(o, 'foregroundIntensityPropertiesPerChannel', 'foreground_intensity_properties_per_channel') ?? {}) as Record<string, IntensityProperties>,
    medianRelativeSizeAfterCropping: pick(o, 'medianRelativeSizeAfterCropping', 'median_relative_size_after_cropping') as number,
    channelNames: (channelNames ?? []) as string[],
    labels: (labels ?? {}) as Record<string, number | number[]>,
    numTraining: (pick(o, 'numTraining', 'num_training') ?? pick(ds, 'numTraining')) as number | undefined,
    datasetName: (pick(o, 'datasetName', 'name') ?? pick(ds, 'name')) as string | undefined,
  };
  // MSD dataset.json maps value → name; nnU-Net v2 maps name → value.
  const lk = Object.keys(fp.labels);
  if (lk.length && lk.every((k) => /^\d+$/.test(k)) && Object.values(fp.labels).every((v) => typeof v === 'string')) {
    fp.labels = Object.fromEntries(Object.entries(fp.labels).map(([k, v]) => [v as unknown as string, Number(k)]));
  }
  validateFingerprint(fp, where);
  return fp;
}

// ---------------------------------------------------------------- plan files

/** Writes a plans file atomically (pretty JSON). */
export function savePlans(file: string, plans: Plans): void {
  writeFileAtomic(file, JSON.stringify(plans, null, 2) + '\n');
}

function checkNumbers(v: unknown, n: number[] | null, where: string, integer: boolean): void {
  if (!Array.isArray(v) || (n !== null && !n.includes(v.length)) || v.some((x) => typeof x !== 'number' || !Number.isFinite(x) || x <= 0 || (integer && !Number.isInteger(x)))) {
    throw new Error(`${where}: expected ${n ? n.join(' or ') : 'a list of'} positive ${integer ? 'integers' : 'numbers'}, got ${JSON.stringify(v)}`);
  }
}

/** Reads and checks a plans file (hand edits included); errors name the file and the field. */
export function loadPlans(file: string): Plans {
  let j: unknown;
  try {
    j = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read plans JSON: ${(e as Error).message}`);
  }
  const p = j as Plans;
  if (!p || typeof p !== 'object' || p.format !== 'labelwise-plans') throw new Error(`${file}: 'format' must be 'labelwise-plans' (write it with 'labelwise plan'), got ${JSON.stringify((j as Record<string, unknown>)?.format)}`);
  if (p.version !== 1) throw new Error(`${file}: unsupported 'version' ${JSON.stringify(p.version)} (this build reads 1)`);
  if (!Array.isArray(p.transposeForward) || [...p.transposeForward].sort().join() !== '0,1,2') throw new Error(`${file}: transposeForward must be a permutation of [0, 1, 2], got ${JSON.stringify(p.transposeForward)}`);
  if (!p.configurations || typeof p.configurations !== 'object') throw new Error(`${file}: 'configurations' must be an object`);
  for (const [name, c] of Object.entries(p.configurations)) {
    const w = `${file}: configurations.${name}`;
    if (c.dims !== 2 && c.dims !== 3) throw new Error(`${w}.dims: expected 2 or 3, got ${JSON.stringify(c.dims)}`);
    checkNumbers(c.spacing, [c.dims], `${w}.spacing`, false);
    checkNumbers(c.patchSize, [c.dims], `${w}.patchSize`, true);
    if (!Number.isInteger(c.batchSize) || c.batchSize < 1) throw new Error(`${w}.batchSize: expected a positive integer, got ${JSON.stringify(c.batchSize)}`);
    if (!Array.isArray(c.normalization) || c.normalization.length !== p.channelNames.length) {
      throw new Error(`${w}.normalization: expected one entry per channel (${p.channelNames.length}), got ${JSON.stringify(c.normalization)}`);
    }
    c.normalization.forEach((n, i) => validateNormalization(n, `${w}.normalization[${i}]`));
  }
  return p;
}
