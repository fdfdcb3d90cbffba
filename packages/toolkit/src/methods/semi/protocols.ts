// Named protocols with BCP's published hyperparameters (methods.md §5b–5e),
// under the user's config: `labelwise train --protocol bcp-acdc --labelled 7`.
// Deviations from the BCP code, on purpose: model selection on the
// validation split (BCP selects LA and pancreas checkpoints on the test set),
// a fresh optimizer for self-training (BCP's ACDC script reloads the
// pre-training optimizer state).
import { registerProtocol } from '../../config/experiment.js';

const sgd = { name: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 1e-4, nesterov: false };

/** ACDC, 2D: U-Net (bilinear decoder), 256², 12 labelled + 12 unlabelled slices, 10k pre-training + 30k self-training, constant lr. */
export const BCP_ACDC = {
  data: { dims: '2d', patchSize: [256, 256], batchSize: 12, unlabelledBatchSize: 12, labelled: 7, augmentation: 'default' },
  network: { name: 'unet2d', upsample: 'bilinear' },
  // The supervised loss when another method runs under this protocol (BCP uses its own mix loss).
  loss: { name: 'dice_ce', preset: 'bcp_acdc' },
  optimizer: sgd,
  schedule: { name: 'constant' },
  training: { iterations: 30000, validateEvery: 200 },
  validation: { split: 'val', mode: 'slices2d', metric: 'dice' },
  method: { name: 'bcp', pretrainIterations: 10000 },
};

/**
 * LA, 3D: VNet (BCP layout), 112×112×80 patches (given Z, Y, X), 4 + 4 per
 * batch, 2k pre-training + 15k self-training, lr 0.01·0.1^⌊t/2500⌋,
 * sliding-window validation (BCP: stride 18 in-plane ≈ overlap 0.84; its
 * z stride of 4 is finer than one overlap value can say).
 */
export const BCP_LA = {
  data: { dims: '3d', patchSize: [80, 112, 112], batchSize: 4, unlabelledBatchSize: 4, labelled: 8, augmentation: 'default' },
  network: { name: 'vnet', layout: 'bcp', normalization: 'batchnorm', hasDropout: true },
  loss: { name: 'dice_ce', preset: 'bcp_la' },
  optimizer: sgd,
  schedule: { name: 'step', stepSize: 2500, gamma: 0.1 },
  training: { iterations: 15000, validateEvery: 200 },
  validation: { split: 'val', mode: 'sliding3d', overlap: 0.84, metric: 'dice' },
  method: { name: 'bcp', pretrainIterations: 2000 },
};

registerProtocol('bcp-acdc', BCP_ACDC);
registerProtocol('bcp-la', BCP_LA);
// The same with Hsu & Hua's extensions: edge-guided networks and the extended method.
registerProtocol('hsu-hua-acdc', { ...BCP_ACDC, network: { ...BCP_ACDC.network, name: 'unet2d_egm' }, method: { ...BCP_ACDC.method, name: 'bcp_hsu_hua' } });
registerProtocol('hsu-hua-la', { ...BCP_LA, network: { ...BCP_LA.network, name: 'vnet_egm' }, method: { ...BCP_LA.method, name: 'bcp_hsu_hua' } });
