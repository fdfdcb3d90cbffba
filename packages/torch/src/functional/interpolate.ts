// F.interpolate: resampling of 3-D, 4-D and 5-D (N, C, spatial...) input.
// Follows torch/nn/functional.py exactly: which aten::upsample_* op each
// mode and rank uses, and how size / scale_factor reach it.
import { Tensor, callT, op } from '../tensor.js';
import { adaptiveAvgPool1d, adaptiveAvgPool2d, adaptiveAvgPool3d } from './pooling.js';
import { checkChoice } from './utils.js';

export type InterpolateMode = 'nearest' | 'nearest-exact' | 'linear' | 'bilinear' | 'bicubic' | 'trilinear' | 'area';

const MODES: readonly InterpolateMode[] = ['nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area'];

export interface InterpolateOptions {
  /** Output spatial size: one int for every spatial dim, or one per dim. */
  size?: number | readonly number[] | null;
  /** Multiplier for the spatial size: one for every dim, or one per dim. */
  scaleFactor?: number | readonly number[] | null;
  mode?: InterpolateMode;
  /** Only for linear, bilinear, bicubic and trilinear; defaults to false there. */
  alignCorners?: boolean | null;
  /** Compute the output size from scaleFactor and interpolate with the scale that size implies. */
  recomputeScaleFactor?: boolean | null;
  /** Anti-aliasing when downsampling (bilinear and bicubic, 4-D input). */
  antialias?: boolean;
}

/** Which rank each interpolating mode needs, for PyTorch's error messages. */
const RANK_OF: Partial<Record<InterpolateMode, number>> = { linear: 3, bilinear: 4, bicubic: 4, trilinear: 5 };

/** Down/up-samples input to the given size or by the given scale factor (F.interpolate). */
export function interpolate(input: Tensor, options: InterpolateOptions = {}): Tensor {
  const fn = 'interpolate';
  const mode = checkChoice(fn, 'mode', options.mode ?? 'nearest', MODES);
  let alignCorners = options.alignCorners ?? null;
  if (mode === 'nearest' || mode === 'area' || mode === 'nearest-exact') {
    if (alignCorners !== null) {
      throw new RangeError(`${fn}: alignCorners can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear (mode is '${mode}')`);
    }
  } else if (alignCorners === null) {
    alignCorners = false;
  }
  const rank = input.ndim;
  const dim = rank - 2;
  const spatial = input.shape.slice(2);
  const size = options.size ?? null;
  const scaleFactor = options.scaleFactor ?? null;
  let outputSize: number[] | null = null;
  let scaleFactors: number[] | null = null;
  if (size !== null && scaleFactor !== null) {
    throw new RangeError(`${fn}: only one of size or scaleFactor should be defined`);
  } else if (size !== null) {
    if (typeof size !== 'number') {
      if (size.length !== dim) {
        throw new RangeError(
          `${fn}: input and output must have the same number of spatial dimensions, but got input with spatial dimensions of [${spatial.join(', ')}] and output size of [${size.join(', ')}]. ` +
            'Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.',
        );
      }
      outputSize = [...size];
    } else {
      outputSize = Array.from({ length: dim }, () => size);
    }
  } else if (scaleFactor !== null) {
    if (typeof scaleFactor !== 'number') {
      if (scaleFactor.length !== dim) {
        throw new RangeError(
          `${fn}: input and scaleFactor must have the same number of spatial dimensions, but got input with spatial dimensions of [${spatial.join(', ')}] and scaleFactor of [${scaleFactor.join(', ')}]. ` +
            'Please provide input tensor in (N, C, d1, d2, ...,dK) format and scaleFactor in (s1, s2, ...,sK) format.',
        );
      }
      scaleFactors = [...scaleFactor];
    } else {
      scaleFactors = Array.from({ length: dim }, () => scaleFactor);
    }
  } else {
    throw new RangeError(`${fn}: either size or scaleFactor should be defined`);
  }

  let recompute = options.recomputeScaleFactor ?? null;
  if (recompute === true && size !== null) throw new RangeError(`${fn}: recomputeScaleFactor is not meaningful with an explicit size`);
  // 'area' is adaptive average pooling, which needs an explicit size.
  if (mode === 'area' && outputSize === null) recompute = true;
  if (recompute === true && scaleFactors !== null) {
    const sf = scaleFactors;
    outputSize = spatial.map((s, i) => Math.floor(s * sf[i]));
    scaleFactors = null;
  }

  const antialias = options.antialias ?? false;
  if (antialias && !((mode === 'bilinear' || mode === 'bicubic') && rank === 4)) {
    throw new RangeError(`${fn}: the antialias option is only supported for bilinear and bicubic modes with 4-D input`);
  }

  const sizeArgs = { output_size: outputSize, scale_factors: scaleFactors };
  if (rank >= 3 && rank <= 5) {
    const n = rank - 2;
    if (mode === 'nearest') return callT(op(`upsample_nearest${n}d`, 'vec'), [input], sizeArgs);
    if (mode === 'nearest-exact') return callT(op(`_upsample_nearest_exact${n}d`, 'vec'), [input], sizeArgs);
    if (mode === 'area') {
      const out = outputSize as number[];
      if (n === 1) return adaptiveAvgPool1d(input, out as [number]);
      return n === 2 ? adaptiveAvgPool2d(input, out) : adaptiveAvgPool3d(input, out);
    }
    if (RANK_OF[mode] === rank) {
      const name =
        mode === 'linear' ? 'upsample_linear1d' : mode === 'trilinear' ? 'upsample_trilinear3d' : antialias ? `_upsample_${mode}2d_aa` : `upsample_${mode}2d`;
      return callT(op(name, 'vec'), [input], { ...sizeArgs, align_corners: alignCorners as boolean });
    }
    throw new RangeError(`${fn}: got ${rank}-D input, but ${mode} mode needs ${RANK_OF[mode]}-D input`);
  }
  throw new RangeError(
    `${fn}: only 3-D, 4-D and 5-D input tensors are supported (got ${rank}-D) for the modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact (got '${mode}')`,
  );
}

export interface UpsampleOptions {
  size?: number | readonly number[] | null;
  scaleFactor?: number | readonly number[] | null;
  mode?: InterpolateMode;
  alignCorners?: boolean | null;
}

/** Deprecated alias of interpolate (F.upsample). */
export function upsample(input: Tensor, options: UpsampleOptions = {}): Tensor {
  return interpolate(input, options);
}
