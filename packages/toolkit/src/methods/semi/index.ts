// Semi-supervised methods as recipes on the shared trainer: mean teacher,
// BCP and Hsu & Hua's extensions of it, their building blocks (teachers,
// ramps, pseudo-labels, copy-paste mixes, edge guidance) and the bcp-acdc /
// bcp-la protocols. Importing this module registers the methods and protocols.
import './mean-teacher.js';
import './bcp.js';
import './protocols.js';

export { sigmoidRampup, linearRampup, cosineRampdown, rampedWeight, type RampedWeight } from './ramps.js';
export { EmaTeacher, predictWith, copyWeights, mainOutput, moduleDevice, type EmaTeacherOptions, type TeacherMode } from './teacher.js';
export { pseudoLabels, foregroundConfidence, type PseudoLabelOptions } from './pseudo-labels.js';
export { mixRegionLoss, type WeightedRegion, type MixDicePreset } from './region-loss.js';
export { DynamicMask, dynamicMaskParams, type DynamicMaskParams } from './dynamic-mask.js';
export { StaticTeacher, combineTeachers, dualTeacherParams, type DualTeacherParams, type CombinedPrediction } from './dual-teacher.js';
export { imageGradientMagnitude, labelBoundaries, boundaryLoss } from './edge-guidance.js';
export {
  EdgeGuidedModule, EdgeUNet2d, EdgeVNet, EDGE_NETWORK_SPECS, EDGE_GUIDANCE_DEFAULTS, isEdgeGuided,
  type EdgeGuidanceOptions, type EdgeOutput, type EdgeGuidedNetwork, type EdgeUNet2dOptions, type EdgeVNetOptions, type EdgeNetworkSpec,
} from '../../nn/edge-unet.js';
export { createEdgeNetwork } from '../../nn/registry.js';
export { meanTeacherRecipe, meanTeacherParams, type MeanTeacherParams } from './mean-teacher.js';
export {
  bcpMethod, bcpHsuHuaMethod, BCP_VARIANTS, resolveBcpParams, batchHalves, sharedMask, copyPasteSample, bidirectionalMixes,
  type BcpParams, type ResolvedBcpParams, type BcpVariant, type MixPairing, type MixSource, type MixedSample,
} from './bcp.js';
export { BCP_ACDC, BCP_LA } from './protocols.js';
