// Training: the shared trainer and its recipes, configs, checkpoints, logs,
// background jobs, and the experiment runner behind `labelwise train`.
export * from './schema.js';
export * from './config.js';
export * from './recipe.js';
export * from './trainer.js';
export * from './checkpoint.js';
export * from './log.js';
export * from './plot.js';
export * from './job.js';
export { trainExperiment, trainExperimentJob, type ExperimentResult, type RunContext } from './experiment.js';
export { resolveDataPlan, type DataPlan, type VolumeCase } from './data-plan.js';
export { resolvePatchPlan, describePatchPlan, topologyForPatch, type PatchPlan, type PatchVolumeCase, type PatchTestCase } from './patch-plan.js';
export { patchProducer, enlargedPatchSize, type PatchProducerOptions, type PatchStream } from './patch-producer.js';
