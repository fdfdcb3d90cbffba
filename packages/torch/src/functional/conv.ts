// Convolutions (F.conv1d/2d/3d, F.conv_transpose1d/2d/3d), calling the
// same aten::convNd / aten::conv_transposeNd operators as torch.
import { Tensor, callT, op } from '../tensor.js';
import { type IntOrList, isOptions } from './utils.js';

export interface ConvOptions {
  stride?: IntOrList;
  /** Zero padding per side, or 'valid' (none) / 'same' (output size = input size, stride 1 only). */
  padding?: IntOrList | 'same' | 'valid';
  dilation?: IntOrList;
  groups?: number;
}

export interface ConvTransposeOptions {
  stride?: IntOrList;
  padding?: IntOrList;
  outputPadding?: IntOrList;
  groups?: number;
  dilation?: IntOrList;
}

/** Lets the options object take the place of an omitted bias: conv2d(x, w, { padding: 1 }). */
function splitBias<O extends object>(bias: Tensor | null | undefined | O, options: O): [Tensor | null, O] {
  if (isOptions(bias)) return [null, bias as O];
  return [(bias as Tensor | null | undefined) ?? null, options];
}

function conv(nd: 1 | 2 | 3, input: Tensor, weight: Tensor, biasOrOptions: Tensor | null | undefined | ConvOptions, opts: ConvOptions): Tensor {
  const fn = `conv${nd}d`;
  const [bias, o] = splitBias(biasOrOptions, opts);
  const padding = o.padding ?? 0;
  const common = { stride: o.stride ?? 1, dilation: o.dilation ?? 1, groups: o.groups ?? 1 };
  if (typeof padding === 'string') {
    if (padding !== 'same' && padding !== 'valid') {
      throw new RangeError(`${fn}: padding must be a number, a list of numbers, 'same' or 'valid'; got '${padding}'`);
    }
    return callT(op(fn, 'padding'), [input, weight, bias], { ...common, padding });
  }
  return callT(op(fn), [input, weight, bias], { ...common, padding });
}

/** Applies a 1-D convolution over (N, C_in, L) or (C_in, L) input (F.conv1d). */
export function conv1d(input: Tensor, weight: Tensor, bias?: Tensor | null | ConvOptions, options: ConvOptions = {}): Tensor {
  return conv(1, input, weight, bias, options);
}

/** Applies a 2-D convolution over (N, C_in, H, W) or (C_in, H, W) input (F.conv2d). */
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null | ConvOptions, options: ConvOptions = {}): Tensor {
  return conv(2, input, weight, bias, options);
}

/** Applies a 3-D convolution over (N, C_in, D, H, W) or (C_in, D, H, W) input (F.conv3d). */
export function conv3d(input: Tensor, weight: Tensor, bias?: Tensor | null | ConvOptions, options: ConvOptions = {}): Tensor {
  return conv(3, input, weight, bias, options);
}

function convTranspose(nd: 1 | 2 | 3, input: Tensor, weight: Tensor, biasOrOptions: Tensor | null | undefined | ConvTransposeOptions, opts: ConvTransposeOptions): Tensor {
  const fn = `conv_transpose${nd}d`;
  const [bias, o] = splitBias(biasOrOptions, opts);
  if (typeof o.padding === 'string') {
    throw new RangeError(`convTranspose${nd}d: padding must be a number or a list of numbers; got '${o.padding as string}'`);
  }
  return callT(op(fn, nd === 1 ? '' : 'input'), [input, weight, bias], {
    stride: o.stride ?? 1,
    padding: o.padding ?? 0,
    output_padding: o.outputPadding ?? 0,
    groups: o.groups ?? 1,
    dilation: o.dilation ?? 1,
  });
}

/** Transposed 1-D convolution ("deconvolution"); weight is (C_in, C_out / groups, kL) (F.conv_transpose1d). */
export function convTranspose1d(input: Tensor, weight: Tensor, bias?: Tensor | null | ConvTransposeOptions, options: ConvTransposeOptions = {}): Tensor {
  return convTranspose(1, input, weight, bias, options);
}

/** Transposed 2-D convolution; weight is (C_in, C_out / groups, kH, kW) (F.conv_transpose2d). */
export function convTranspose2d(input: Tensor, weight: Tensor, bias?: Tensor | null | ConvTransposeOptions, options: ConvTransposeOptions = {}): Tensor {
  return convTranspose(2, input, weight, bias, options);
}

/** Transposed 3-D convolution; weight is (C_in, C_out / groups, kD, kH, kW) (F.conv_transpose3d). */
export function convTranspose3d(input: Tensor, weight: Tensor, bias?: Tensor | null | ConvTransposeOptions, options: ConvTransposeOptions = {}): Tensor {
  return convTranspose(3, input, weight, bias, options);
}
