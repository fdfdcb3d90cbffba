// AdamW (torch.optim.AdamW): Adam's moments with decoupled weight decay.
import { Adam, type AdamHyper, type AdamOptions } from './adam.js';
import type { ParamsArg } from './optimizer.js';

/** AdamW: Adam with decoupled weight decay θ ← θ(1 − lr·λ), default λ = 0.01. */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;

  constructor(params: ParamsArg<AdamHyper>, options: AdamOptions = {}) {
    super(params, { weightDecay: 1e-2, ...options });
  }
}
