// Inference: sliding-window prediction, slice-wise 2D prediction of volumes,
// test-time mirroring and post-processing.
export * from './sliding-window.js';
export * from './slicewise.js';
export * from './postprocess.js';
export * from './predict.js';
