// PA-Seg's published settings (methods.md §4a–4c) as named protocols:
// `labelwise train --protocol pa-seg-brats`. PA-Seg counts epochs of batch-1
// passes over the training volumes, so one epoch is as many steps as
// training cases (BraTS 2019 split: 244, VS: 176); every length below is
// converted that way. Deviations, on purpose: the nnU-Net augmentation
// (PA-Seg flips each axis with p = 0.2 and crops), and one best checkpoint
// chosen on the primary network's validation Dice for both SCM networks.
import { registerProtocol } from '../../config/experiment.js';

const optimizer = { name: 'sgd', lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 };
const schedule = { name: 'poly', power: 0.9 };

function paSeg(o: { casesPerEpoch: number; patchSize: number[]; downSize: number[]; network: string; auxiliary: string; stage1Epochs: number; rampupEpochs: number; air: boolean }): Record<string, unknown> {
  const e = o.casesPerEpoch;
  return {
    data: { dims: '3d', patchSize: o.patchSize, batchSize: 1, labelled: 0, weak: { kind: 'points', geodesic: { lambda: 0.5, iterations: 4, threshold: 0.2, airIsBackground: o.air } } },
    network: { name: o.network },
    loss: { name: 'partial_dice_ce' },
    optimizer,
    schedule,
    // Stage 2: 100 epochs; validation on full-GT volumes (sliding window, MONAI's overlap 0.25).
    training: { iterations: 100 * e, validateEvery: e },
    validation: { split: 'val', mode: 'sliding3d', overlap: 0.25, metric: 'dice' },
    method: {
      name: 'pa_seg', stage1Iterations: o.stage1Epochs * e, rampup: o.rampupEpochs * e, crfWeight: 1, varianceWeight: 0.1,
      crfSigmaXY: 6, crfSigmaRGB: 0.1, crfRadius: 5, crfDownSize: o.downSize, kdWeight: 0.5, temperature: 4, refreshEvery: 20 * e,
      auxiliaryNetwork: { name: o.auxiliary },
    },
  };
}

/** BraTS 2019 FLAIR whole tumour: 128³ patches, CRF at 64³, AttU-Net primary + U-Net auxiliary, 500 + 100 epochs, air rule. */
export const PA_SEG_BRATS = paSeg({ casesPerEpoch: 244, patchSize: [128, 128, 128], downSize: [64, 64, 64], network: 'attention_unet3d', auxiliary: 'unet3d', stage1Epochs: 500, rampupEpochs: 50, air: true });
/** Vestibular schwannoma T2: 48×128×128 patches, CRF at 48×64×64, U-Net 2.5D primary + AttU-Net auxiliary, 300 + 100 epochs. */
export const PA_SEG_VS = paSeg({ casesPerEpoch: 176, patchSize: [48, 128, 128], downSize: [48, 64, 64], network: 'unet25d', auxiliary: 'attention_unet3d', stage1Epochs: 300, rampupEpochs: 30, air: false });

registerProtocol('pa-seg-brats', PA_SEG_BRATS);
registerProtocol('pa-seg-vs', PA_SEG_VS);
