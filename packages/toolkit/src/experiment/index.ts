// The experiment layer, the composition root: from a validated config to a
// finished run. A Session builds the parts (data streams, models, losses,
// optimizers, validator, test evaluator) the same way in 2D and 3D; a
// method's program runs over it (phases, rounds).
export { trainExperiment, trainExperimentJob, type ExperimentResult, type RunContext } from './experiment.js';
export { resolveDataPlan, type DataPlan, type VolumeCase } from './data-plan.js';
export { resolvePatchPlan, describePatchPlan, topologyForPatch, type PatchPlan, type PatchVolumeCase, type PatchTestCase } from './patch-plan.js';
