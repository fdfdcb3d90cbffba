// F.pad: constant, reflect, replicate and circular padding (aten::pad).
import { Tensor, callT, op } from '../tensor.js';
import { checkChoice } from './utils.js';

export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

export interface PadOptions {
  mode?: PadMode;
  /** Fill value for 'constant' mode. Default 0. */
  value?: number | null;
}

const MODES: readonly PadMode[] = ['constant', 'reflect', 'replicate', 'circular'];

/**
 * Pads input. `pad` lists (before, after) pairs starting from the LAST
 * dimension, as in PyTorch: [left, right] pads the last dim, [left, right,
 * top, bottom] the last two, and so on. Non-constant modes pad the last 1,
 * 2 or 3 dims of a batched or unbatched input.
 */
export function pad(input: Tensor, pad: readonly number[], options: PadOptions = {}): Tensor {
  const mode = checkChoice('pad', 'mode', options.mode ?? 'constant', MODES);
  if (pad.length % 2 !== 0) throw new RangeError(`pad: padding length must be divisible by 2, got [${pad.join(', ')}]`);
  if (pad.length / 2 > input.ndim) {
    throw new RangeError(`pad: padding length ${pad.length} is too large for a ${input.ndim}-D input (at most 2 per dim)`);
  }
  const value = options.value ?? null;
  // As in ATen, other modes accept only a zero (i.e. absent) value.
  if (value !== null && value !== 0 && mode !== 'constant') throw new RangeError(`pad: value is only allowed with mode 'constant', not '${mode}'`);
  return callT(op('pad'), [input, pad, mode, value]);
}
