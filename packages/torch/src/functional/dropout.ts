// Dropout (F.dropout, dropout1d/2d/3d, alpha_dropout, feature_alpha_dropout).
// Randomness comes from the default generator, so manualSeed() makes it
// reproducible.
import { Tensor, callT, op } from '../tensor.js';
import { checkProbability, warnOnce } from './utils.js';

export interface DropoutOptions {
  /** Probability of an element (or channel) being zeroed. Default 0.5. */
  p?: number;
  /** Dropout applies only when training; otherwise the input is returned unchanged. */
  training?: boolean;
  /** Overwrite the input instead of returning a new tensor. */
  inplace?: boolean;
}

function run(fn: string, name: string, input: Tensor, o: DropoutOptions, defaultTraining: boolean): Tensor {
  const p = o.p ?? 0.5;
  checkProbability(fn, p);
  const training = o.training ?? defaultTraining;
  if (o.inplace) {
    op(`${name}_`).inplace([input, p, training]);
    return input;
  }
  return callT(op(name), [input, p, training]);
}

/** Zeroes elements with probability p and scales the rest by 1/(1-p) (F.dropout). */
export function dropout(input: Tensor, options: DropoutOptions = {}): Tensor {
  return run('dropout', 'dropout', input, options, true);
}

/** Alpha dropout for SELU networks: keeps mean and variance (F.alpha_dropout). Off unless training is true. */
export function alphaDropout(input: Tensor, options: DropoutOptions = {}): Tensor {
  return run('alphaDropout', 'alpha_dropout', input, options, false);
}

/** Channel-wise alpha dropout (F.feature_alpha_dropout). Off unless training is true. */
export function featureAlphaDropout(input: Tensor, options: DropoutOptions = {}): Tensor {
  return run('featureAlphaDropout', 'feature_alpha_dropout', input, options, false);
}

// feature_dropout on an input given a leading batch dim when it has none.
function channelDropout(fn: string, input: Tensor, o: DropoutOptions, batched: boolean): Tensor {
  if (batched) return run(fn, 'feature_dropout', input, o, true);
  if (o.inplace) {
    checkProbability(fn, o.p ?? 0.5);
    op('unsqueeze_').inplace([input, 0]);
    try {
      run(fn, 'feature_dropout', input, o, true);
    } finally {
      op('squeeze_', 'dim').inplace([input, 0]);
    }
    return input;
  }
  const x = callT(op('unsqueeze'), [input, 0]);
  const y = run(fn, 'feature_dropout', x, o, true);
  const out = callT(op('squeeze', 'dim'), [y, 0]);
  x.dispose();
  y.dispose();
  return out;
}

/** Zeroes whole channels of (N, C, L) or (C, L) input (F.dropout1d). */
export function dropout1d(input: Tensor, options: DropoutOptions = {}): Tensor {
  checkProbability('dropout1d', options.p ?? 0.5);
  const d = input.ndim;
  if (d !== 2 && d !== 3) {
    throw new RangeError(`dropout1d: expected 2-D or 3-D input (channel-wise dropout with 1 spatial dim and an optional batch dim), but received a ${d}-D input`);
  }
  return channelDropout('dropout1d', input, options, d === 3);
}

/**
 * Zeroes whole channels of (N, C, H, W) input (F.dropout2d). As in PyTorch
 * 1.13, 3-D input is taken as (N, C, L), i.e. 1-D channel-wise dropout.
 */
export function dropout2d(input: Tensor, options: DropoutOptions = {}): Tensor {
  checkProbability('dropout2d', options.p ?? 0.5);
  const d = input.ndim;
  if (d !== 3 && d !== 4) {
    warnOnce(`dropout2d: received a ${d}-D input, which is deprecated; dropout2d exists for channel-wise dropout on 3-D or 4-D inputs (use dropout instead)`);
  }
  if (d === 3) {
    warnOnce('dropout2d: received a 3-D input; it is interpreted as (N, C, L) and gets 1-D channel-wise dropout (use dropout1d to keep this behaviour)');
  }
  return run('dropout2d', 'feature_dropout', input, options, true);
}

/** Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) input (F.dropout3d). */
export function dropout3d(input: Tensor, options: DropoutOptions = {}): Tensor {
  checkProbability('dropout3d', options.p ?? 0.5);
  const d = input.ndim;
  if (d !== 4 && d !== 5) {
    warnOnce(`dropout3d: received a ${d}-D input, which is deprecated; dropout3d exists for channel-wise dropout on 4-D or 5-D inputs (use dropout instead)`);
  }
  return channelDropout('dropout3d', input, options, d === 5);
}
