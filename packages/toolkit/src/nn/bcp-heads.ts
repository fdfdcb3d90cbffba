// BCP's contrastive heads. BCP's UNet_2d and VNet carry a projection head, a
// prediction head and per-class "selector" MLPs that their training never
// calls; they are in every released BCP state dict, so a network that loads
// those checkpoints strictly has to have them.
import { type Tensor, nn } from '@labelwise/torch';

/** Linear → BatchNorm1d → ReLU → Linear (projection_head / prediction_head). */
function mlpHead(dimIn: number, featDim: number): nn.Sequential {
  return new nn.Sequential(new nn.Linear(dimIn, featDim), new nn.BatchNorm1d(featDim), new nn.ReLU(true), new nn.Linear(featDim, featDim));
}

/** Linear → BatchNorm1d → LeakyReLU(0.2) → Linear(→1) (contrastive_class_selector_*). */
function selector(featDim: number): nn.Sequential {
  return new nn.Sequential(new nn.Linear(featDim, featDim), new nn.BatchNorm1d(featDim), new nn.LeakyReLU(0.2, true), new nn.Linear(featDim, 1));
}

/**
 * Registers BCP's heads on `module` under BCP's names: projection_head,
 * prediction_head, contrastive_class_selector_{c} and
 * contrastive_class_selector_memory{c} for c < numSelectors (4 in BCP's
 * UNet_2d, 2 in its VNet). dimIn 16 and featDim 32 are BCP's.
 */
export function addBcpHeads(module: nn.AnyModule, numSelectors: number, dimIn = 16, featDim = 32): void {
  module.addModule('projection_head', mlpHead(dimIn, featDim));
  module.addModule('prediction_head', mlpHead(featDim, featDim));
  for (let c = 0; c < numSelectors; c++) module.addModule(`contrastive_class_selector_${c}`, selector(featDim));
  for (let c = 0; c < numSelectors; c++) module.addModule(`contrastive_class_selector_memory${c}`, selector(featDim));
}

/** Runs BCP's projection head (forward_projection_head) on (N, dimIn) features. */
export function bcpProjection(module: nn.AnyModule, features: Tensor): Tensor {
  return (module.getSubmodule('projection_head') as nn.Sequential).forward(features);
}

/** Runs BCP's prediction head (forward_prediction_head) on (N, featDim) features. */
export function bcpPrediction(module: nn.AnyModule, features: Tensor): Tensor {
  return (module.getSubmodule('prediction_head') as nn.Sequential).forward(features);
}
