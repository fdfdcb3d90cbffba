// The experiment layer, the composition root: from a validated config to a
// finished run. A Session builds the parts (data streams, models, losses,
// optimizers, validator, test evaluator) the same way in 2D and 3D; a
// method's program runs over it (phases, rounds).
export { trainExperiment, trainExperimentJob, type ExperimentResult } from './experiment.js';
export { Session, RunCancelled, type RunContext } from './session.js';
export { ProgramState, PROGRAM_STATE_FORMAT } from './program-state.js';
export { defaultProgram } from './program.js';
export { checkExperiment, AUGMENTATIONS_2D, AUGMENTATIONS_3D } from './check.js';
export { evaluateTest, writeTestSummaries, type TestPlan, type TestCase } from './evaluation.js';
export { network3dConfig } from './network-3d.js';
export { resolveDataPlan, type DataPlan, type VolumeCase } from './data-plan.js';
export { resolvePatchPlan, describePatchPlan, topologyForPatch, type PatchPlan, type PatchVolumeCase, type PatchTestCase } from './patch-plan.js';
