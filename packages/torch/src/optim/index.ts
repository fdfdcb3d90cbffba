// torch.optim: optimizers, learning-rate schedules and gradient clipping.
export { Optimizer, type BaseHyper, type ParamGroup, type ParamGroupInit, type ParamState, type ParamsArg, type OptimizerStateDict } from './optimizer.js';
export { SGD, type SGDHyper, type SGDOptions } from './sgd.js';
export { Adam, type AdamHyper, type AdamOptions } from './adam.js';
export { AdamW } from './adamw.js';
export { clipGradNorm_, clipGradValue_ } from './clip.js';
export * as lrScheduler from './lr_scheduler.js';
export {
  LRScheduler, LambdaLR, MultiplicativeLR, StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR, PolyLR,
  CosineAnnealingLR, CosineAnnealingWarmRestarts, SequentialLR, ChainedScheduler, ReduceLROnPlateau,
  type Scheduler, type SchedulerOptions, type LrLambda, type ReduceLROnPlateauOptions,
} from './lr_scheduler.js';
export { ModelEma, emaUpdate, type EmaBufferMode, type EmaUpdateOptions, type ModelEmaOptions } from './ema.js';
