// Adam (torch.optim.Adam) with PyTorch 1.13's update rule; AdamW (adamw.ts)
// reuses it with decoupled weight decay. Groups update with the _foreach_* kernels.
import { type Tensor, callT, callTs, op } from '../tensor.js';
import { type BaseHyper, Optimizer, type ParamGroup, type ParamsArg } from './optimizer.js';
import { checkNonNegative } from './sgd.js';

export interface AdamHyper extends BaseHyper {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

export type AdamOptions = Partial<AdamHyper>;

/**
 * Adam: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², and
 * θ ← θ − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε), with v replaced by its running
 * maximum under amsgrad. Weight decay adds λθ to the gradient (L2).
 */
export class Adam extends Optimizer<AdamHyper> {
  /** AdamW decays the weights directly instead of through the gradient. */
  protected readonly decoupled: boolean = false;

  constructor(params: ParamsArg<AdamHyper>, options: AdamOptions = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, ...options });
  }

  protected override get tensorScalarKeys(): readonly string[] {
    return ['step'];
  }

  protected validateGroup(g: ParamGroup<AdamHyper>): void {
    const who = this.constructor.name;
    checkNonNegative(who, 'lr', g.lr);
    checkNonNegative(who, 'eps', g.eps);
    checkNonNegative(who, 'weightDecay', g.weightDecay);
    if (!Array.isArray(g.betas) || g.betas.length !== 2) throw new TypeError(`${who}: betas must be a pair [beta1, beta2]`);
    g.betas.forEach((b, i) => {
      if (typeof b !== 'number' || !(b >= 0 && b < 1)) throw new RangeError(`${who}: invalid beta parameter at index ${i}: ${b} (expected 0 <= beta < 1)`);
    });
  }

  protected updateGroup(g: ParamGroup<AdamHyper>): void {
    const { params, grads: rawGrads } = this.withGrads(g);
    if (params.length === 0) return;
    const [beta1, beta2] = g.betas;
    let grads = g.maximize ? callTs(op('_foreach_neg'), [rawGrads]) : rawGrads;
    const expAvgs: Tensor[] = [];
    const expAvgSqs: Tensor[] = [];
    const maxSqs: Tensor[] = [];
    const steps: number[] = [];
    for (const p of params) {
      const s = this.stateOf(p);
      if (s.expAvg === undefined) {
        s.step = 0;
        s.expAvg = this.newState(zerosLike(p));
        s.expAvgSq = this.newState(zerosLike(p));
      }
      if (g.amsgrad && (s.maxExpAvgSq === undefined || s.maxExpAvgSq === null)) s.maxExpAvgSq = this.newState(zerosLike(p));
      s.step = (s.step as number) + 1;
      steps.push(s.step);
      expAvgs.push(s.expAvg as Tensor);
      expAvgSqs.push(s.expAvgSq as Tensor);
      if (g.amsgrad) maxSqs.push(s.maxExpAvgSq as Tensor);
    }
    if (this.decoupled) op('_foreach_mul_', 'Scalar').inplace([params, 1 - g.lr * g.weightDecay]);
    else if (g.weightDecay !== 0) grads = callTs(op('_foreach_add', 'List'), [grads, params], { alpha: g.weightDecay });

    op('_foreach_mul_', 'Scalar').inplace([expAvgs, beta1]);
    op('_foreach_add_', 'List').inplace([expAvgs, grads], { alpha: 1 - beta1 });
    op('_foreach_mul_', 'Scalar').inplace([expAvgSqs, beta2]);
    op('_foreach_addcmul_', 'Scalar').inplace([expAvgSqs, grads, grads], { value: 1 - beta2 });
    if (g.amsgrad) op('_foreach_maximum_', 'List').inplace([maxSqs, expAvgSqs]);
    const second = g.amsgrad ? maxSqs : expAvgSqs;

    // The step size depends on the step count, which normally is the same
    // for the whole group; parameters added later are updated separately.
    const byStep = new Map<number, number[]>();
    steps.forEach((t, i) => {
      const l = byStep.get(t);
      if (l) l.push(i);
      else byStep.set(t, [i]);
    });
    for (const [t, idx] of byStep) {
      const pick = <T>(a: T[]): T[] => (idx.length === a.length ? a : idx.map((i) => a[i]));
      const biasCorrection1 = 1 - beta1 ** t;
      const biasCorrection2 = 1 - beta2 ** t;
      const stepSize = g.lr / biasCorrection1;
      const denom = callTs(op('_foreach_sqrt'), [pick(second)]);
      op('_foreach_div_', 'Scalar').inplace([denom, Math.sqrt(biasCorrection2)]);
      op('_foreach_add_', 'Scalar').inplace([denom, g.eps]);
      op('_foreach_addcdiv_', 'Scalar').inplace([pick(params), pick(expAvgs), denom], { value: -stepSize });
    }
  }
}

function zerosLike(p: Tensor): Tensor {
  return callT(op('zeros_like'), [p], { memory_format: 'preserve' });
}
