// Parameters of the weak-supervision methods (methods.md §4c). Lengths are
// in optimizer steps: PA-Seg counts epochs of batch-1 passes over the
// training volumes, so an epoch is one step per training case (the
// protocols convert).
import { list, num, object, oneOf, optional, record } from '../../config/schema.js';

/** Stage 1: partial loss on the sparse labels + ramped gated CRF and variance regularisers. */
export const stage1Shape = {
  stream: oneOf(['auto', 'points', 'scribbles'] as const, { default: 'auto', description: "sparse annotation stream ('auto': points in 3D, scribbles in 2D)" }),
  partialLoss: oneOf(['auto', 'partial_dice_ce', 'partial_ce'] as const, {
    default: 'auto',
    description: "loss on annotated voxels ('auto': PA-Seg's partial Dice + CE for points, WSL4MIS's partial CE for scribbles)",
  }),
  crfWeight: num({ min: 0, default: 1, description: "λ_crf after the ramp-up (PA-Seg README 1.0; its code default 0.1); 0 turns the gated CRF off" }),
  varianceWeight: num({ min: 0, default: 0.1, description: 'λ_var after the ramp-up; 0 turns variance minimisation off' }),
  rampup: num({ int: true, min: 0, default: 0, description: 'sigmoid ramp-up of both regularisers, in steps (PA-Seg: 50 epochs BraTS, 30 VS); 0: full weight at once' }),
  crfSigmaXY: num({ min: 0, default: 6, description: 'gated CRF spatial σ, pixels of the (down-sampled) slice' }),
  crfSigmaRGB: num({ min: 0, default: 0.1, description: 'gated CRF intensity σ on the normalised image' }),
  crfRadius: num({ int: true, min: 1, default: 5, description: 'gated CRF window radius' }),
  crfDownSize: optional(list(num({ int: true, min: 1 }), { minLength: 2, description: '3D: logits and image resampled to this (Z, Y, X) before the multi-view CRF (PA-Seg: 64³ BraTS, 48×64×64 VS); absent: the patch size' })),
  auxiliaryNetwork: optional(record({ description: "a second network trained beside the first on the same batches (PA-Seg stage 1 of the auxiliary model for SCM), e.g. {name: unet3d}" })),
};

/** Stage 2: self and cross monitoring. */
export const scmShape = {
  stage1Iterations: num({ int: true, min: 1, default: 1000, description: 'steps of stage 1 (training.iterations is stage 2)' }),
  kdWeight: num({ min: 0, max: 1, default: 0.5, description: 'w: (1 − w)·DC_CE(own pseudo-label) + w·KD(the other pseudo-model)' }),
  temperature: num({ min: 0, default: 4, description: 'KD temperature T' }),
  refreshEvery: num({ int: true, min: 1, default: 500, description: "steps between reloading both pseudo-models from the phase's best checkpoint (PA-Seg: 20 epochs)" }),
};

export const weakParams = object(stage1Shape);
export const paSegParams = object({ ...stage1Shape, ...scmShape });
export type PaSegParams = ReturnType<typeof paSegParams.check>;
