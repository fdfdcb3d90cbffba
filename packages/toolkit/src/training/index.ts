// Training: the shared loop (trainer), recipes, logs, curves, background
// jobs, and the loader producers of 2D slices and 3D patches.
export * from './recipe.js';
export * from './trainer.js';
export * from './log.js';
export * from './job.js';
export { patchProducer, enlargedPatchSize, type PatchProducerOptions, type PatchStream } from './patch-producer.js';
