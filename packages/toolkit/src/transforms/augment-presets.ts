// Ready-made pipeline configs (plain JSON: print, edit, save with a run).
import type { AugmentConfig, TransformEntry } from './compose.js';
import type { SpatialDims } from './augment-params.js';

export interface NnunetPresetOptions {
  /** Patch size (array-axis order). The input may be larger (nnU-Net's enlarged patch): it is cropped in the same resampling. */
  patchSize: number[];
  /** How the patch is placed in a larger input: 'center' (default, nnU-Net), 'random', or 'given' (sample.center from the sampler). */
  crop?: 'center' | 'random' | 'given';
  /** Mirrored axes (default all). */
  mirrorAxes?: number[];
}

function nnunetIntensity(ignoreAxes: number[]): TransformEntry[] {
  return [
    { name: 'gaussianNoise', p: 0.1, params: { std: [0, 0.1], sameForChannels: true } },
    { name: 'gaussianBlur', p: 0.2, params: { sigma: [0.5, 1], pPerChannel: 0.5, sameForChannels: false, sameForAxes: false } },
    { name: 'brightnessMultiplicative', p: 0.15, params: { range: [0.75, 1.25] } },
    { name: 'contrast', p: 0.15, params: { range: [0.75, 1.25], preserveRange: true } },
    { name: 'lowResolution', p: 0.25, params: { zoom: [0.5, 1], pPerChannel: 0.5, sameForAxes: true, ignoreAxes } },
    { name: 'gamma', p: 0.1, params: { range: [0.7, 1.5], pInvert: 1, pRetainStats: 1 } },
    { name: 'gamma', p: 0.3, params: { range: [0.7, 1.5], pInvert: 0, pRetainStats: 1 } },
  ];
}

/**
 * nnU-Net v2's default 3D training augmentation (nnUNetTrainer
 * get_training_transforms, without the cascade/region extras): rotation
 * ±30° about each axis (p 0.2), scaling 0.7–1.4 (p 0.2), crop to the patch —
 * fused into one resampling — then noise, blur, brightness, contrast, low
 * resolution, two gammas, and mirroring (exact) last. For anisotropic patches
 * (max/first side > 3, nnU-Net's "dummy 2D") rotation is in-plane ±180°,
 * scaling in-plane and low resolution ignores axis 0.
 */
export function nnunetDefault3d(o: NnunetPresetOptions): AugmentConfig {
  if (o.patchSize.length !== 3) throw new RangeError(`nnunetDefault3d: patchSize must have 3 sides, got [${o.patchSize.join(', ')}]`);
  const dummy2d = Math.max(...o.patchSize) / o.patchSize[0] > 3;
  return {
    spatialDims: 3,
    resample: { image: 'linear', label: 'nearest', imagePad: 0, labelPad: 0 },
    transforms: [
      { name: 'crop', params: { size: o.patchSize, mode: o.crop ?? 'center' } },
      { name: 'rotate', p: 0.2, params: { degrees: dummy2d ? [[-180, 180], [0, 0], [0, 0]] : [-30, 30] } },
      { name: 'scale', p: 0.2, params: { range: [0.7, 1.4], axes: dummy2d ? [1, 2] : [0, 1, 2] } },
      ...nnunetIntensity(dummy2d ? [0] : []),
      { name: 'flip', params: { axes: o.mirrorAxes ?? [0, 1, 2], pPerAxis: 0.5 } },
    ],
  };
}

/** nnU-Net v2's default 2D augmentation: as nnunetDefault3d with rotation ±180° (±15° for patches with side ratio > 1.5). */
export function nnunetDefault2d(o: NnunetPresetOptions): AugmentConfig {
  if (o.patchSize.length !== 2) throw new RangeError(`nnunetDefault2d: patchSize must have 2 sides, got [${o.patchSize.join(', ')}]`);
  const elongated = Math.max(...o.patchSize) / Math.min(...o.patchSize) > 1.5;
  return {
    spatialDims: 2,
    resample: { image: 'linear', label: 'nearest', imagePad: 0, labelPad: 0 },
    transforms: [
      { name: 'crop', params: { size: o.patchSize, mode: o.crop ?? 'center' } },
      { name: 'rotate', p: 0.2, params: { degrees: elongated ? [-15, 15] : [-180, 180] } },
      { name: 'scale', p: 0.2, params: { range: [0.7, 1.4] } },
      ...nnunetIntensity([]),
      { name: 'flip', params: { axes: o.mirrorAxes ?? [0, 1], pPerAxis: 0.5 } },
    ],
  };
}

export interface Ssl4misPresetOptions {
  /** Output size (default [256, 256]). */
  size?: number[];
  /**
   * Image interpolation: 'nearest' (default) reproduces SSL4MIS / BCP, which
   * rotate and zoom images with order 0; 'linear' is smoother.
   */
  image?: 'nearest' | 'linear';
}

/**
 * SSL4MIS / BCP ACDC RandomGenerator (methods.md §5b): with p 0.5 a random
 * rot90 (k ∈ 0..3) plus a flip of one random axis, else with p 0.5 (overall
 * 0.25) a rotation by an integer angle in [−20, 20), then a zoom to 256²
 * (scipy.ndimage.zoom geometry: corners aligned). All in one resampling.
 */
export function acdcSsl4mis(o: Ssl4misPresetOptions = {}): AugmentConfig {
  return {
    spatialDims: 2,
    resample: { image: o.image ?? 'nearest', label: 'nearest', imagePad: 0, labelPad: 0 },
    transforms: [
      {
        name: 'oneOf',
        params: {
          weights: [0.5, 0.25],
          choices: [
            [
              { name: 'rot90', params: { planes: [[0, 1]], k: [0, 1, 2, 3] } },
              { name: 'flip', params: { axes: [0, 1], oneAxis: true } },
            ],
            [{ name: 'rotate', params: { degrees: [-20, 20], integer: true } }],
          ],
        },
      },
      { name: 'resize', params: { size: o.size ?? [256, 256], alignCorners: true } },
    ],
  };
}

export interface StrongPhotometricOptions {
  spatialDims: SpatialDims;
  /** Clamp range of the image values (torchvision: [0, 1]); null for unbounded (e.g. z-scored) images. */
  range?: [number, number] | null;
}

/**
 * Strong photometric view for consistency losses (UniMatch / FixMatch-style
 * for segmentation): ColorJitter(0.5, 0.5, 0.5, 0.25) with p 0.8,
 * RandomGrayscale p 0.2, Gaussian blur σ ∈ [0.1, 2] with p 0.5. Geometry is
 * untouched, so the strong view stays aligned with the weak one.
 */
export function strongPhotometric(o: StrongPhotometricOptions): AugmentConfig {
  return {
    spatialDims: o.spatialDims,
    transforms: [
      { name: 'colorJitter', p: 0.8, params: { brightness: 0.5, contrast: 0.5, saturation: 0.5, hue: 0.25, range: o.range === undefined ? [0, 1] : o.range } },
      { name: 'grayscale', p: 0.2 },
      { name: 'blur', p: 0.5, params: { sigma: [0.1, 2] } },
    ],
  };
}
