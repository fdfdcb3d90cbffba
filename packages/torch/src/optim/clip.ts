// Gradient clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_),
// computed the way PyTorch 1.13 does: per-gradient norms, then the norm of those.
import { noGrad } from '../autograd.js';
import { tidy } from '../scope.js';
import { Tensor, callT, op } from '../tensor.js';

function gradsOf(parameters: Tensor | Iterable<Tensor>): Tensor[] {
  const params = parameters instanceof Tensor ? [parameters] : [...parameters];
  const grads: Tensor[] = [];
  for (const p of params) {
    const g = p.grad;
    if (g !== null) grads.push(g);
  }
  return grads;
}

/**
 * Scales the gradients in place so that their total norm (as if all were
 * one vector) is at most maxNorm; returns the total norm before clipping as
 * a 0-d tensor. normType may be Infinity (max |g|).
 */
export function clipGradNorm_(parameters: Tensor | Iterable<Tensor>, maxNorm: number, normType = 2, errorIfNonfinite = false): Tensor {
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm)) throw new TypeError(`clipGradNorm_(): maxNorm must be a number, got ${String(maxNorm)}`);
  if (typeof normType !== 'number' || Number.isNaN(normType)) throw new TypeError(`clipGradNorm_(): normType must be a number (or Infinity), got ${String(normType)}`);
  return noGrad(() => tidy(() => {
    const grads = gradsOf(parameters);
    if (grads.length === 0) return callT(op('scalar_tensor'), [0], { dtype: 'float32' });
    const device = grads[0].device;
    const onDevice = (t: Tensor): Tensor => (t.device === device ? t : t.to({ device }));
    let total: Tensor;
    if (normType === Infinity) {
      const norms = grads.map((g) => onDevice(callT(op('max'), [callT(op('abs'), [g])])));
      total = norms.length === 1 ? norms[0] : callT(op('max'), [callT(op('stack'), [norms])]);
    } else {
      const norm = (t: Tensor): Tensor => callT(op('norm', 'ScalarOpt_dim'), [t, { float: normType }, Array.from({ length: t.ndim }, (_, i) => i)]);
      total = norm(callT(op('stack'), [grads.map((g) => onDevice(norm(g)))]));
    }
    if (errorIfNonfinite) {
      const v = total.item();
      if (!Number.isFinite(v)) {
        throw new RangeError(`clipGradNorm_(): the total norm of order ${normType} of the gradients is ${v}, so they cannot be clipped; pass errorIfNonfinite=false to scale by the non-finite norm anyway`);
      }
    }
    const coef = callT(op('clamp'), [callT(op('reciprocal'), [callT(op('add', 'Scalar'), [total, 1e-6])]).mul(maxNorm)], { max: 1.0 });
    for (const g of grads) op('mul_', 'Tensor').inplace([g, g.device === device ? coef : coef.to({ device: g.device })]);
    return total;
  }));
}

/** Clamps every gradient element into [-clipValue, clipValue] in place. */
export function clipGradValue_(parameters: Tensor | Iterable<Tensor>, clipValue: number): void {
  if (typeof clipValue !== 'number' || Number.isNaN(clipValue)) throw new TypeError(`clipGradValue_(): clipValue must be a number, got ${String(clipValue)}`);
  noGrad(() => tidy(() => {
    for (const g of gradsOf(parameters)) op('clamp_').inplace([g], { min: { float: -clipValue }, max: { float: clipValue } });
  }));
}
