// One case through nnU-Net's preprocessing, in nnU-Net's order:
// transpose → crop to non-zero → normalise (on the cropped, not yet
// resampled data; zscore-with-mask uses the crop's mask) → resample image
// and label to the target spacing → sample foreground locations per class.
// `revertPreprocessing` is the way back for predictions: resample to the
// cropped shape, put the box back into the full grid, undo the transpose.
//
// Geometry is carried exactly: `props.affine` is the affine of the
// preprocessed grid (Volume convention: voxel (i, j, k) = tensor index
// (x, y, z)), so a preprocessed tensor can be written as a NIfTI that
// overlays the original in any viewer.
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import { type Affine, identityAffine, matmul4 } from '../io/affine.js';
import { Volume } from '../io/volume.js';
import { NumpyRandomState } from '../random/numpy-random.js';
import { type BBox, cropToNonzero, uncrop } from './crop.js';
import { integerView } from './preprocess-views.js';
import { type NormalizationConfig, normalize, validateNormalization } from './normalize.js';
import { type LabelRule, type SplineOrder, computeNewShape, resampleData, resampleSeg, resampleToShape, separateZAxis } from './resample.js';

export interface ResamplingConfig {
  /** Spline order (images: 3, labels: 1, probabilities: 1 in nnU-Net). */
  order?: SplineOrder;
  /** Order along a separately resampled anisotropic axis (nnU-Net: 0). */
  orderZ?: SplineOrder;
  /** Force separate-z on/off; null decides from the spacings (nnU-Net: null). */
  forceSeparateZ?: boolean | null;
  /** Labels only: 'argmax' (default) or 'nnunet'. */
  rule?: LabelRule;
}

export interface PreprocessConfig {
  /**
   * Target spacing in (z, y, x) order after the transpose. Two entries (a 2D
   * configuration) keep the first axis's own spacing, as nnU-Net. Omitted or
   * null: no resampling.
   */
  spacing?: number[] | null;
  /** Axis permutation applied first (nnU-Net transpose_forward); default [0, 1, 2]. */
  transposeForward?: number[];
  /** One config per channel, or one for all channels. */
  normalization: NormalizationConfig | NormalizationConfig[];
  /** Crop to the non-zero region first (default true). */
  cropToNonzero?: boolean;
  resampling?: { data?: ResamplingConfig; seg?: ResamplingConfig };
  /** Label values to store locations for (foreground oversampling); default: every value > 0 in the case. */
  foregroundLabels?: number[];
  /** Locations stored per class (nnU-Net: 10000, at least 1% of the class). */
  classLocationSamples?: number;
  classLocationMinFraction?: number;
  /** Seed of the location sampling (nnU-Net: 1234 for every case). */
  classLocationSeed?: number;
}

export interface CaseProperties {
  /** Original voxel spacing in tensor (z, y, x) order, after the transpose. */
  originalSpacing: number[];
  /** Original Volume affine (row-major 4×4). */
  originalAffine: number[];
  originalDims: number[];
  transposeForward: number[];
  shapeBeforeCropping: number[];
  bboxUsedForCropping: BBox;
  shapeAfterCroppingBeforeResampling: number[];
  /** The requested spacing (z, y, x). */
  targetSpacing: number[];
  /** The spacing the data actually has: extent / new shape per axis. */
  effectiveSpacing: number[];
  shapeAfterResampling: number[];
  /** Affine of the preprocessed grid (Volume convention). */
  affine: number[];
  /** Label values present after preprocessing (including -1 for outside the non-zero mask). */
  labelsPresent: number[];
  /** Number of stored locations per foreground class. */
  classLocationCounts: Record<string, number>;
  /** Indices along axis 0 of slices that contain foreground (label > 0). */
  foregroundSlices: number[];
  channels: number;
  meta?: Record<string, unknown>;
}

export interface PreprocessedCase {
  /** float32 [C, Z, Y, X]. */
  image: Tensor;
  /** int16 [1, Z, Y, X]: classes, -1 outside the non-zero mask; null without a label. */
  label: Tensor | null;
  props: CaseProperties;
  /** Class value → flat (z, y, x) triples of sampled voxels of that class. */
  classLocations: Map<number, Int32Array>;
}

const IDENTITY = [0, 1, 2];

function checkPermutation(p: readonly number[] | undefined): number[] {
  const t = p ?? IDENTITY;
  if (t.length !== 3 || [...t].sort().join() !== '0,1,2') throw new Error(`preprocess: transposeForward must be a permutation of [0, 1, 2], got [${t.join(', ')}]`);
  return [...t];
}

/** Inverse permutation (nnU-Net transpose_backward). */
export function invertPermutation(p: readonly number[]): number[] {
  const out = new Array<number>(p.length);
  p.forEach((v, i) => { out[v] = i; });
  return out;
}

/**
 * Volume-convention affine of a grid derived from the original tensor grid:
 * derived axis a (tensor order) runs along original tensor axis perm[a],
 * index v there is original index scale[a]·v + offset[a].
 */
function derivedAffine(original: Affine, perm: readonly number[], scale: readonly number[], offset: readonly number[]): Affine {
  const g = identityAffine();
  g[0] = g[5] = g[10] = 0;
  for (let a = 0; a < 3; a++) {
    const row = 2 - perm[a];
    const col = 2 - a;
    g[row * 4 + col] = scale[a];
    g[row * 4 + 3] = offset[a];
  }
  return matmul4(original, g);
}

/** Stacks channel volumes (all on one grid) into one Volume. */
function asOneVolume(image: Volume | readonly Volume[]): Volume {
  if (image instanceof Volume) return image;
  if (image.length === 0) throw new Error('preprocessCase: no image volumes');
  if (image.length === 1) return image[0];
  const first = image[0];
  for (let i = 1; i < image.length; i++) {
    if (image[i].dims.join() !== first.dims.join()) throw new Error(`preprocessCase: channel ${i} has dims [${image[i].dims.join(', ')}], channel 0 has [${first.dims.join(', ')}]`);
  }
  const n = image.reduce((s, v) => s + v.data.length, 0);
  const data = new Float32Array(n);
  let off = 0;
  for (const v of image) {
    for (let i = 0; i < v.data.length; i++) data[off + i] = Number(v.data[i]);
    off += v.data.length;
  }
  return new Volume({ data, dims: first.dims, channels: image.reduce((s, v) => s + v.channels, 0), affine: first.affine, meta: first.meta });
}

/**
 * nnU-Net's _sample_foreground_locations: for each class, up to `samples`
 * voxels (at least `minFraction` of the class) drawn without replacement
 * from numpy's RandomState(seed), classes in the given order sharing one
 * stream, so the draws match nnU-Net's for the same label map.
 */
export function sampleClassLocations(label: Tensor, classes: readonly number[], options: { samples?: number; minFraction?: number; seed?: number } = {}): Map<number, Int32Array> {
  const samples = options.samples ?? 10000;
  const minFraction = options.minFraction ?? 0.01;
  const rs = new NumpyRandomState(options.seed ?? 1234);
  const s = label.shape;
  const [, ny, nx] = s.length === 4 ? s.slice(1) : s;
  const flat = integerView(label);
  // Non-zero voxels (-1 included, as nnU-Net's `seg != 0`), capped at 1e7 by striding.
  let count = 0;
  for (let i = 0; i < flat.length; i++) if (flat[i] !== 0) count++;
  const step = count > 1e7 ? Math.floor(count / 1e7) : 1;
  const slot = new Map<number, number>();
  classes.forEach((c, k) => slot.set(c, k));
  // Two passes: count per class, then fill exact-size index arrays.
  const sizes = new Int32Array(classes.length);
  const visit = (fn: (k: number, i: number) => void) => {
    let seen = 0;
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i];
      if (v === 0) continue;
      if (seen++ % step !== 0) continue;
      const k = slot.get(v);
      if (k !== undefined) fn(k, i);
    }
  };
  visit((k) => { sizes[k]++; });
  const perClass = classes.map((_, k) => new Int32Array(sizes[k]));
  const fill = new Int32Array(classes.length);
  visit((k, i) => { perClass[k][fill[k]++] = i; });
  const out = new Map<number, Int32Array>();
  classes.forEach((c, ci) => {
    const locs = perClass[ci];
    const n = locs.length;
    if (n === 0) {
      out.set(c, new Int32Array(0));
      return;
    }
    const k = Math.max(Math.min(samples, n), Math.ceil(n * minFraction));
    // numpy choice(n, k, replace=False) = permutation(n)[:k]: a full Fisher–Yates from the end.
    const perm = new Int32Array(n);
    for (let i = 0; i < n; i++) perm[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = rs.interval(i);
      const t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
    const zyx = new Int32Array(k * 3);
    for (let q = 0; q < k; q++) {
      const p = locs[perm[q]];
      const x = p % nx;
      const y = Math.floor(p / nx) % ny;
      zyx[q * 3] = Math.floor(p / (nx * ny));
      zyx[q * 3 + 1] = y;
      zyx[q * 3 + 2] = x;
    }
    out.set(c, zyx);
  });
  return out;
}

/** Slice indices along axis 0 holding any label > 0. */
function foregroundSlices(label: Tensor): number[] {
  return torch.tidy(() => {
    const l = label.shape.length === 4 ? label.select(0, 0) : label;
    const any = l.gt(0).flatten(1).any(1).to('uint8').contiguous().toTypedArray() as Uint8Array;
    const out: number[] = [];
    any.forEach((v, i) => { if (v) out.push(i); });
    return out;
  });
}

/** Checks a PreprocessConfig (e.g. read from a plan file), naming the bad field. */
export function validatePreprocessConfig(cfg: PreprocessConfig, channels: number, where = 'preprocess config'): PreprocessConfig {
  const norm = Array.isArray(cfg.normalization) ? cfg.normalization : [cfg.normalization];
  if (norm.length !== 1 && norm.length !== channels) throw new Error(`${where}.normalization: ${norm.length} entries for ${channels} image channel(s) (give one per channel, or one for all)`);
  norm.forEach((n, i) => validateNormalization(n, `${where}.normalization[${i}]`));
  if (cfg.spacing !== undefined && cfg.spacing !== null) {
    if (!Array.isArray(cfg.spacing) || (cfg.spacing.length !== 3 && cfg.spacing.length !== 2) || cfg.spacing.some((s) => !(typeof s === 'number' && s > 0 && Number.isFinite(s)))) {
      throw new Error(`${where}.spacing: expected 2 or 3 positive numbers (z, y, x), got ${JSON.stringify(cfg.spacing)}`);
    }
  }
  checkPermutation(cfg.transposeForward);
  return cfg;
}

/**
 * Preprocesses one case. `image` is one multi-channel Volume or one Volume
 * per channel (same grid); `label` an integer class map on that grid.
 */
export function preprocessCase(image: Volume | readonly Volume[], label: Volume | null | undefined, config: PreprocessConfig): PreprocessedCase {
  const vol = asOneVolume(image);
  validatePreprocessConfig(config, vol.channels);
  if (label) {
    const name = (v: Volume) => String(v.meta.source ?? v.meta.path ?? '(in-memory volume)');
    if (label.dims.join() !== vol.dims.join()) throw new Error(`preprocessCase: label ${name(label)} has dims [${label.dims.join(', ')}] but image ${name(vol)} has [${vol.dims.join(', ')}]`);
    if (label.channels !== 1) throw new Error(`preprocessCase: label ${name(label)} must have one channel, got ${label.channels}`);
  }
  const tf = checkPermutation(config.transposeForward);
  const perm4 = [0, ...tf.map((a) => a + 1)];
  const sp = vol.spacing;
  const spacingZYX = [sp[2], sp[1], sp[0]];
  const originalSpacing = tf.map((a) => spacingZYX[a]);
  const norms = Array.isArray(config.normalization) ? config.normalization : [config.normalization];

  let locs = new Map<number, Int32Array>();
  const result = torch.tidy(() => {
    let img = vol.toTensor().permute(perm4).contiguous();
    let lab: Tensor | null = null;
    if (label) {
      const lt = label.toTensor();
      if (torch.isFloatingPoint(lt.dtype) && torch.tidy(() => lt.sub(lt.round()).abs().gt(0).any().item())) {
        throw new Error(`preprocessCase: label ${String(label.meta.source ?? label.meta.path ?? '(in-memory volume)')} has non-integer values; labels must be integer class maps`);
      }
      lab = (torch.isFloatingPoint(lt.dtype) ? lt.round() : lt).to('int16').permute(perm4).contiguous();
    }
    const shapeBefore = img.shape.slice(1);
    let bbox: BBox = shapeBefore.map((n) => [0, n] as [number, number]);
    let mask: Uint8Array | null = null;
    if (config.cropToNonzero ?? true) {
      const c = cropToNonzero(img, lab);
      img = c.image;
      lab = c.label ?? null;
      bbox = c.bbox;
      mask = c.mask;
    }
    const shapeCropped = img.shape.slice(1);
    // Mask for zscore-with-mask: the crop's mask, or nnU-Net's seg >= 0 when a label exists.
    const normMask = lab ? lab.select(0, 0).ge(0) : mask;
    const normed = normalize(img, norms.length === 1 ? norms[0] : norms, normMask);

    let target = config.spacing ? [...config.spacing] : [...originalSpacing];
    if (target.length === 2) target = [originalSpacing[0], ...target];
    const newShape = config.spacing ? computeNewShape(shapeCropped, originalSpacing, target) : shapeCropped;
    const dataCfg = config.resampling?.data ?? {};
    const segCfg = config.resampling?.seg ?? {};
    const axisData = separateZAxis(originalSpacing, target, { forceSeparateZ: dataCfg.forceSeparateZ });
    const axisSeg = separateZAxis(originalSpacing, target, { forceSeparateZ: segCfg.forceSeparateZ });
    const outImage = resampleData(normed, newShape, { order: dataCfg.order ?? 3, orderZ: dataCfg.orderZ ?? 0, separateZAxis: axisData });
    let outLabel: Tensor | null = null;
    if (lab) outLabel = resampleSeg(lab, newShape, { order: segCfg.order ?? 1, orderZ: segCfg.orderZ ?? 0, separateZAxis: axisSeg, rule: segCfg.rule });

    const scale = newShape.map((n, a) => shapeCropped[a] / n);
    const affine = derivedAffine(vol.affine, tf, scale, scale.map((s, a) => (s - 1) / 2 + bbox[a][0]));
    let labelsPresent: number[] = [];
    let fgSlices: number[] = [];
    const counts: Record<string, number> = {};
    if (outLabel) {
      labelsPresent = Array.from(torch.unique(outLabel).to('int32').toTypedArray() as Int32Array);
      const classes = config.foregroundLabels ?? labelsPresent.filter((v) => v > 0);
      locs = sampleClassLocations(outLabel, classes, { samples: config.classLocationSamples, minFraction: config.classLocationMinFraction, seed: config.classLocationSeed });
      for (const [c, a] of locs) counts[String(c)] = a.length / 3;
      fgSlices = foregroundSlices(outLabel);
    }
    const props: CaseProperties = {
      originalSpacing,
      originalAffine: Array.from(vol.affine),
      originalDims: [...vol.dims],
      transposeForward: tf,
      shapeBeforeCropping: shapeBefore,
      bboxUsedForCropping: bbox,
      shapeAfterCroppingBeforeResampling: shapeCropped,
      targetSpacing: target,
      effectiveSpacing: scale.map((s, a) => s * originalSpacing[a]),
      shapeAfterResampling: [...newShape],
      affine: Array.from(affine),
      labelsPresent,
      classLocationCounts: counts,
      foregroundSlices: fgSlices,
      channels: vol.channels,
    };
    return { image: outImage, label: outLabel, props };
  });
  return { image: result.image, label: result.label, props: result.props, classLocations: locs };
}

/** The preprocessed image (or label) as a Volume on the preprocessed grid. */
export function preprocessedVolume(t: Tensor, props: CaseProperties): Volume {
  return Volume.fromTensor(t, { affine: Float64Array.from(props.affine) });
}

export interface RevertOptions {
  /** 'probabilities' (default; float [K, ...], resampled with order 1 like nnU-Net's export) or 'labels' (integer [1, ...]). */
  kind?: 'probabilities' | 'labels';
  resampling?: ResamplingConfig;
  /** Value outside the crop box: 0 (background) by default; for probabilities, channel 0 gets 1 outside when `backgroundOne`. */
  backgroundOne?: boolean;
}

/**
 * Maps a prediction on the preprocessed grid back to the original image
 * grid: resample to the cropped shape, uncrop, undo the transpose. Returns a
 * tensor [K, Z, Y, X] in the original Volume's tensor order.
 */
export function revertPreprocessing(pred: Tensor, props: CaseProperties, options: RevertOptions = {}): Tensor {
  if (pred.ndim !== 4) throw new Error(`revertPreprocessing: expected a tensor [K, Z, Y, X], got shape [${pred.shape.join(', ')}]`);
  const got = pred.shape.slice(1);
  if (got.join() !== props.shapeAfterResampling.join()) throw new Error(`revertPreprocessing: prediction shape [${got.join(', ')}] is not the preprocessed shape [${props.shapeAfterResampling.join(', ')}]`);
  const kind = options.kind ?? 'probabilities';
  const r = options.resampling ?? {};
  return torch.tidy(() => {
    const isSeg = kind === 'labels';
    const resized = resampleToShape(isSeg ? pred : pred.to('float32'), props.shapeAfterCroppingBeforeResampling, props.targetSpacing, props.originalSpacing, {
      isSeg, order: r.order ?? 1, orderZ: r.orderZ ?? 0, forceSeparateZ: r.forceSeparateZ, rule: r.rule,
    });
    let full = uncrop(resized, props.bboxUsedForCropping, props.shapeBeforeCropping, 0);
    if (!isSeg && options.backgroundOne) {
      // Outside the box the prediction is certain background.
      const inside = uncrop(torch.onesLike(resized.narrow(0, 0, 1), { dtype: 'bool' }), props.bboxUsedForCropping, props.shapeBeforeCropping, 0);
      full.narrow(0, 0, 1).maskedFill_(inside.logicalNot(), 1);
    }
    const back = [0, ...invertPermutation(props.transposeForward).map((a) => a + 1)];
    full = full.permute(back).contiguous();
    return full;
  });
}

/** The original-grid Volume for a reverted prediction (argmax it first for a label map). */
export function revertedVolume(t: Tensor, props: CaseProperties, meta?: Record<string, unknown>): Volume {
  return Volume.fromTensor(t, { affine: Float64Array.from(props.originalAffine) }, meta);
}
