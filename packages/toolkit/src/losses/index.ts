// Segmentation losses of the reference methods, each reproducing its
// codebase's conventions, and one registry to build them from configs.
export { type Loss, TensorLoss, type Target, type Activation, readTarget, readMask, oneHot, checkLabels, activate, maskedMean } from './common.js';
export { CrossEntropyLoss, crossEntropyLoss, CROSS_ENTROPY_DEFAULTS, type CrossEntropyOptions } from './cross-entropy.js';
export {
  SoftDiceLoss,
  softDiceLoss,
  diceCoefficients,
  diceLossFromCoefficients,
  resolveDiceOptions,
  DICE_PRESETS,
  type DicePreset,
  type SoftDiceOptions,
  type ResolvedDiceOptions,
} from './dice.js';
export { DiceCELoss, PartialDiceCELoss, BcpMixLoss, DICE_CE_WEIGHTS, type DiceCEOptions, type PartialDiceCEOptions, type BcpMixOptions } from './compound.js';
export { BinaryCrossEntropyLoss, MseLoss, KlDistillationLoss, type BceOptions, type MseOptions, type KlDistillationOptions } from './consistency.js';
export { gatedCrfLoss2d, gatedCrfLoss3dMultiView, type GatedCrfOptions, type GatedCrf3dOptions } from './gated-crf.js';
export { varianceLoss } from './variance.js';
export { DeepSupervisionLoss, nnunetDeepSupervisionWeights, downsampleLabels, type DeepSupervisionOptions } from './deep-supervision.js';
export { createLoss, listLosses, lossNames, type LossConfig, type LossDescription } from './registry.js';
