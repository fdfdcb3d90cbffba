// BCP's mix_loss over any number of weighted regions:
//   ½ · Σ_r w_r · (Dice_{R_r}(ŷ, y) + CE_{R_r}(ŷ, y)),
// Dice and CE computed over the voxels of region map R_r (masked Dice with
// the preset's conventions, CE = Σ(ce·R)/(ΣR + 1e-16)). With the two regions
// M and 1 − M and weights (1, 0.5) this is exactly losses' BcpMixLoss (the
// tests pin that); region maps with values in [0, 1] also let an extension
// down-weight single voxels of the pseudo-labelled region (dual-teacher
// disagreement), which BcpMixLoss's single mask cannot express.
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import { crossEntropyLoss } from '../../losses/cross-entropy.js';
import { diceCoefficients, diceLossFromCoefficients, resolveDiceOptions } from '../../losses/dice.js';

export interface WeightedRegion {
  /** Voxel weights [B, ...spatial] in [0, 1] (1 inside the region). */
  map: Tensor;
  /** The region's loss weight (BCP: 1.0 labelled, 0.5 unlabelled). */
  weight: number;
  /** Where the region's labels come from (for logs): 'labelled' or 'unlabelled'. */
  source: 'labelled' | 'unlabelled';
}

export type MixDicePreset = 'bcp_acdc' | 'bcp_la';

/** BCP's mix loss of logits `prediction` against the mixed label map `target` ([B, ...spatial]). */
export function mixRegionLoss(prediction: Tensor, target: Tensor, regions: readonly WeightedRegion[], preset: MixDicePreset): Tensor {
  const dice = { ...resolveDiceOptions(preset), validateLabels: false };
  return torch.tidy(() => {
    let total: Tensor | null = null;
    for (const r of regions) {
      if (r.weight === 0) continue;
      const d = diceLossFromCoefficients('bcp_mix', diceCoefficients('bcp_mix', prediction, target, r.map, dice), dice);
      const ce = crossEntropyLoss(prediction, target, { validateLabels: false }, r.map, 'bcp_mix');
      const term = d.add(ce).mul(r.weight);
      total = total === null ? term : total.add(term);
    }
    return total === null ? prediction.sum().mul(0) : total.div(2);
  });
}
