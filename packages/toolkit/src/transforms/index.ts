// Transforms: preprocessing (nnU-Net's pipeline, from preprocess-index.ts), augmentation
// (spatial, intensity, photometric, copy-paste), pipelines from JSON configs, and the seeded PRNG.
export * from '../random/rng.js';
export { type SpatialDims, type OpContext, AugmentConfigError, ParamReader } from './augment-params.js';
export { gaussianKernel1d, gaussianFilter, type FilterMode, type GaussianFilterOptions } from './augment-filters.js';
export * from './spatial.js';
export * from './spatial-ops.js';
export * from './intensity.js';
export * from './photometric.js';
export * from './copy-paste.js';
export * from './compose.js';
export * from './augment-presets.js';
export type { IntensityOpDef, SpatialOpDef, SpatialContext, OpDef } from './augment-ops.js';
export * from './preprocess-index.js';
export * from './sampling.js';
export * from './simulate-annotations.js';
export * from './geodesic.js';
export * from './components.js';
export * from './weak-labels.js';
