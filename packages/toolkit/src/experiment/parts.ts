// The parts a session assembles from the experiment config: optimizers and
// schedules (with a recipe's per-optimizer overrides), augmentation presets,
// the validation Dice, and the device-aware forward used for prediction.
import * as torch from '@labelwise/torch';
import { validate } from '../config/schema.js';
import { type Experiment, mergeConfig, optimizerSchema, scheduleSchema } from '../config/experiment.js';
import { acdcSsl4mis, nnunetDefault3d } from '../transforms/augment-presets.js';
import type { AugmentConfig } from '../transforms/compose.js';
import type { SchedulerLike, ValidationResult } from '../training/trainer.js';

type OptimizerConfig = Experiment['optimizer'];
type ScheduleConfig = Experiment['schedule'];

/** The experiment's optimizer config with a recipe's overrides, validated like the config itself. */
export function optimizerConfig(exp: Experiment, over?: Record<string, unknown>, where = 'optimizer'): OptimizerConfig {
  return over ? validate(optimizerSchema, mergeConfig(exp.optimizer, over), where) : exp.optimizer;
}

export function scheduleConfig(exp: Experiment, over?: Record<string, unknown>, where = 'schedule'): ScheduleConfig {
  return over ? validate(scheduleSchema, mergeConfig(exp.schedule, over), where) : exp.schedule;
}

export function makeOptimizer(o: OptimizerConfig, params: torch.nn.Parameter[]): torch.optim.Optimizer {
  switch (o.name) {
    case 'sgd': return new torch.optim.SGD(params, { lr: o.lr, momentum: o.momentum, nesterov: o.nesterov, weightDecay: o.weightDecay });
    case 'adam': return new torch.optim.Adam(params, { lr: o.lr, betas: o.betas as [number, number], weightDecay: o.weightDecay });
    case 'adamw': return new torch.optim.AdamW(params, { lr: o.lr, betas: o.betas as [number, number], weightDecay: o.weightDecay });
  }
}

export function makeScheduler(s: ScheduleConfig, opt: torch.optim.Optimizer, total: number): SchedulerLike {
  const S = torch.optim.lrScheduler;
  const main = (() => {
    switch (s.name) {
      case 'poly': return new S.PolyLR(opt, total, { exponent: s.power });
      case 'step': return new S.StepLR(opt, s.stepSize, { gamma: s.gamma });
      case 'cosine': return new S.CosineAnnealingLR(opt, total, { etaMin: s.minLr });
      case 'constant': return new S.ConstantLR(opt, { factor: 1, totalIters: 0 });
    }
  })();
  if (!s.warmupIterations) return main;
  const warm = new S.LinearLR(opt, { startFactor: 1e-3, endFactor: 1, totalIters: s.warmupIterations });
  return new S.SequentialLR(opt, [warm, main], [s.warmupIterations]);
}

/** The augmentation preset of data.augmentation (checked by the config schema). */
export function augmentationFor(exp: Experiment, imageResize: 'nearest' | 'bilinear'): AugmentConfig | null {
  const a = exp.data.augmentation;
  if (a === 'none') return null;
  if (exp.data.dims === '3d') return nnunetDefault3d({ patchSize: [...exp.data.patchSize], crop: a === 'nnunet-given' ? 'given' : 'center' });
  return acdcSsl4mis({ size: exp.data.patchSize, image: imageResize === 'bilinear' ? 'linear' : 'nearest' });
}

/** Dice per foreground class of a label map against its reference (validation: fast, no distances). */
export function diceScores(pred: torch.Tensor, ref: torch.Tensor, numClasses: number): number[] {
  return torch.tidy(() => {
    const out: number[] = [];
    for (let c = 1; c < numClasses; c++) {
      const p = pred.eq(c);
      const r = ref.eq(c);
      const inter = p.logicalAnd(r).sum().item();
      const denom = p.sum().item() + r.sum().item();
      out.push(denom === 0 ? 1 : (2 * inter) / denom);
    }
    return out;
  });
}

/** Mean Dice per class over validation cases, and their mean (the selection score). */
export function diceSummary(per: number[][], classNames: string[], numClasses: number): ValidationResult {
  const metrics: Record<string, number> = {};
  for (let c = 1; c < numClasses; c++) metrics[`dice_${classNames[c] ?? c}`] = per.reduce((a, p) => a + p[c - 1], 0) / per.length;
  const score = Object.values(metrics).reduce((a, b) => a + b, 0) / (numClasses - 1);
  metrics.dice_mean = score;
  return { metrics, score };
}

/** Logits of a model on CPU for a CPU batch (deep-supervised outputs: the full-resolution one). */
export function forwardOnDevice(model: torch.nn.Module, device: string): (x: torch.Tensor) => torch.Tensor {
  return (x) => {
    const y = model.forward(device === 'cpu' ? x : x.to(device)) as torch.Tensor | torch.Tensor[];
    const out = Array.isArray(y) ? y[0] : y;
    return device === 'cpu' ? out : out.cpu();
  };
}
