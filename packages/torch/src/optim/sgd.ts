// Stochastic gradient descent with momentum (torch.optim.SGD), PyTorch 1.13's
// update rule, applied to a whole group at once with the _foreach_* kernels.
import { type Tensor, callT, callTs, op } from '../tensor.js';
import { type BaseHyper, Optimizer, type ParamGroup, type ParamsArg } from './optimizer.js';

export interface SGDHyper extends BaseHyper {
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

export type SGDOptions = { lr: number } & Partial<Omit<SGDHyper, 'lr'>>;

/**
 * SGD: with momentum μ, dampening τ and weight decay λ,
 * g ← ∇ + λθ; b ← μb + (1−τ)g (b = g on the first step);
 * θ ← θ − lr·(nesterov ? g + μb : b).
 */
export class SGD extends Optimizer<SGDHyper> {
  constructor(params: ParamsArg<SGDHyper>, options: SGDOptions) {
    super(params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...options }, ['lr']);
  }

  protected validateGroup(g: ParamGroup<SGDHyper>): void {
    checkNonNegative('SGD', 'lr', g.lr);
    checkNonNegative('SGD', 'momentum', g.momentum);
    checkNonNegative('SGD', 'weightDecay', g.weightDecay);
    if (typeof g.dampening !== 'number') throw new TypeError(`SGD: dampening must be a number, got ${typeof g.dampening}`);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
      throw new RangeError(`SGD: nesterov momentum requires momentum > 0 and dampening = 0 (got momentum=${g.momentum}, dampening=${g.dampening})`);
    }
  }

  protected updateGroup(g: ParamGroup<SGDHyper>): void {
    const { params, grads } = this.withGrads(g);
    if (params.length === 0) return;
    let d = grads;
    if (g.maximize) d = callTs(op('_foreach_neg'), [d]);
    if (g.weightDecay !== 0) d = callTs(op('_foreach_add', 'List'), [d, params], { alpha: g.weightDecay });
    if (g.momentum !== 0) {
      const bufs: Tensor[] = [];
      const oldBufs: Tensor[] = [];
      const oldD: Tensor[] = [];
      params.forEach((p, i) => {
        const s = this.stateOf(p);
        const b = s.momentumBuffer;
        if (b === undefined || b === null || typeof b === 'number') {
          const fresh = this.newState(callT(op('clone'), [d[i]]));
          s.momentumBuffer = fresh;
          bufs.push(fresh);
        } else {
          bufs.push(b);
          oldBufs.push(b);
          oldD.push(d[i]);
        }
      });
      if (oldBufs.length > 0) {
        op('_foreach_mul_', 'Scalar').inplace([oldBufs, g.momentum]);
        op('_foreach_add_', 'List').inplace([oldBufs, oldD], { alpha: 1 - g.dampening });
      }
      d = g.nesterov ? callTs(op('_foreach_add', 'List'), [d, bufs], { alpha: g.momentum }) : bufs;
    } else {
      // PyTorch records an empty buffer even without momentum.
      for (const p of params) this.stateOf(p).momentumBuffer = null;
    }
    op('_foreach_add_', 'List').inplace([params, d], { alpha: -g.lr });
  }
}

export function checkNonNegative(who: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !(v >= 0)) throw new RangeError(`${who}: invalid ${name} ${String(v)}: expected a number >= 0`);
}
