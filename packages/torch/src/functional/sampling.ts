// Spatial transformer sampling (F.grid_sample, F.affine_grid).
import { isFloatingPoint } from '../dtype.js';
import { Tensor, callT, op } from '../tensor.js';
import { checkChoice, shapeStr, warnOnce } from './utils.js';

export type GridSampleMode = 'bilinear' | 'nearest' | 'bicubic';
export type GridSamplePadding = 'zeros' | 'border' | 'reflection';

export interface GridSampleOptions {
  /** Default 'bilinear'; 'bicubic' needs 4-D input. */
  mode?: GridSampleMode;
  /** How locations outside [-1, 1] are sampled. Default 'zeros'. */
  paddingMode?: GridSamplePadding;
  /** -1 and 1 are the centres (true) or the outer edges (false, default) of the corner pixels. */
  alignCorners?: boolean;
}

const MODES: readonly GridSampleMode[] = ['bilinear', 'nearest', 'bicubic'];
const PADDINGS: readonly GridSamplePadding[] = ['zeros', 'border', 'reflection'];

/**
 * Samples input (N, C, H, W) or (N, C, D, H, W) at the normalized
 * locations of grid (N, H_out, W_out, 2) or (N, D_out, H_out, W_out, 3),
 * whose last dim is (x, y[, z]) in [-1, 1] (F.grid_sample).
 */
export function gridSample(input: Tensor, grid: Tensor, options: GridSampleOptions = {}): Tensor {
  const mode = checkChoice('gridSample', 'mode', options.mode ?? 'bilinear', MODES);
  const padding = checkChoice('gridSample', 'paddingMode', options.paddingMode ?? 'zeros', PADDINGS);
  return callT(op('grid_sampler'), [input, grid, MODES.indexOf(mode), PADDINGS.indexOf(padding), options.alignCorners ?? false]);
}

export interface AffineGridOptions {
  /** See gridSample; use the same value for both. Default false. */
  alignCorners?: boolean;
}

/**
 * The sampling grid for gridSample of the affine maps theta, (N, 2, 3) for
 * a 4-D size (N, C, H, W) or (N, 3, 4) for a 5-D size (F.affine_grid).
 */
export function affineGrid(theta: Tensor, size: readonly number[], options: AffineGridOptions = {}): Tensor {
  const fn = 'affineGrid';
  const alignCorners = options.alignCorners ?? false;
  if (!isFloatingPoint(theta.dtype)) throw new TypeError(`${fn}: expected theta to have a floating point dtype, got ${theta.dtype}`);
  const t = theta.shape;
  let spatial: readonly number[];
  if (size.length === 4) {
    if (t.length !== 3 || t[1] !== 2 || t[2] !== 3) {
      throw new RangeError(`${fn}: expected a batch of 2-D affine matrices of shape (N, 2, 3) for size [${size.join(', ')}], got ${shapeStr(theta)}`);
    }
    spatial = size.slice(-2);
  } else if (size.length === 5) {
    if (t.length !== 3 || t[1] !== 3 || t[2] !== 4) {
      throw new RangeError(`${fn}: expected a batch of 3-D affine matrices of shape (N, 3, 4) for size [${size.join(', ')}], got ${shapeStr(theta)}`);
    }
    spatial = size.slice(-3);
  } else {
    throw new RangeError(`${fn}: only 4-D and 5-D sizes are supported, for 2-D and 3-D affine transforms respectively; got size [${size.join(', ')}]`);
  }
  if (alignCorners && Math.min(...spatial) === 1) {
    warnOnce('affineGrid: since PyTorch 1.3.0 the grid for unit-size dimensions with alignCorners=true differs from older versions; this is not an intended use case of affineGrid');
  } else if (Math.min(...size) <= 0) {
    throw new RangeError(`${fn}: expected a non-zero, positive output size, got [${size.join(', ')}]`);
  }
  return callT(op('affine_grid_generator'), [theta, size, alignCorners]);
}
