// Preprocessing (nnU-Net's pipeline): crop to non-zero, normalise, resample,
// plan, cache. Merged into the transforms index by the lead.
export * from './crop.js';
export * from './resample.js';
export * from './normalize.js';
export * from './preprocess.js';
export * from './plan.js';
export * from './cache.js';
