// Finite-difference gradient check (torch.autograd.gradcheck), in float64.
import { grad } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { tidy } from '../scope.js';
import { tensor } from '../ops/creation.js';
import '../ops/math.js';
import '../ops/reduce.js';
import '../ops/shape.js';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
}

/**
 * Compares the analytical gradient of sum(fn(inputs) * w) for a fixed random
 * weighting w with central differences, for every element of every input that
 * requires grad. Inputs must be float64. Throws with the worst mismatch; returns true.
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor | Tensor[], inputs: Tensor[], options: GradcheckOptions = {}): boolean {
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-3;
  for (const x of inputs) {
    if (x.requiresGrad && x.dtype !== 'float64') throw new TypeError(`gradcheck: inputs must be float64, got ${x.dtype}`);
  }
  return tidy(() => {
    const outs = () => {
      const o = fn(...inputs);
      return Array.isArray(o) ? o : [o];
    };
    // Fixed projection weights turn vector outputs into a scalar objective.
    const first = outs();
    const weights = first.map((o, i) => {
      const n = o.numel();
      const w = Float64Array.from({ length: n }, (_, k) => Math.sin(1 + k * 0.7 + i));
      return tensor(w, { shape: o.shape });
    });
    const objective = (os: Tensor[]): Tensor => {
      let acc: Tensor | null = null;
      os.forEach((o, i) => {
        const term = o.to({ dtype: 'float64' }).mul(weights[i]).sum();
        acc = acc === null ? term : acc.add(term);
      });
      return acc as unknown as Tensor;
    };
    const diffInputs = inputs.filter((x) => x.requiresGrad);
    const analytic = grad(objective(first), diffInputs, { allowUnused: true });
    diffInputs.forEach((x, xi) => {
      const view = x.dataView() as Float64Array;
      const a = analytic[xi] === null ? new Float64Array(view.length) : (analytic[xi] as Tensor).toTypedArray() as Float64Array;
      for (let k = 0; k < view.length; k++) {
        const orig = view[k];
        view[k] = orig + eps;
        const fp = tidy(() => objective(outs()).item());
        view[k] = orig - eps;
        const fm = tidy(() => objective(outs()).item());
        view[k] = orig;
        const numeric = (fp - fm) / (2 * eps);
        if (Math.abs(numeric - a[k]) > atol + rtol * Math.abs(numeric)) {
          throw new Error(`gradcheck: input ${xi} element ${k}: analytical ${a[k]} vs numerical ${numeric}`);
        }
      }
    });
    return true;
  });
}
