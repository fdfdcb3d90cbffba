// Mean teacher (Tarvainen & Valpola 2017) as SSL4MIS trains it
// (code/train_mean_teacher_2D.py):
//   streams  labelled (image, label) + unlabelled (uimage);
//   models   student + EMA teacher (decay 0.99, SSL4MIS warm-up, parameters
//            only, teacher forwards in training mode);
//   losses   the experiment's supervised loss on the labelled part of one
//            student pass over [labelled; unlabelled], plus
//            w(t)·mean((softmax(student_u) − softmax(teacher(u + noise)))²),
//            noise = clamp(N(0, 0.1²), −0.2, 0.2),
//            w(t) = 0.1 · sigmoid_rampup(⌊t/150⌋, 200);
//   hooks    EMA update after every optimizer step.
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import { MseLoss } from '../../losses/consistency.js';
import type { Recipe } from '../../training/recipe.js';
import { bool, num, object, oneOf } from '../../config/schema.js';
import { type MethodContext, registerMethod } from '../registry.js';
import { readParams } from './params.js';
import { rampedWeight } from './ramps.js';
import { EmaTeacher } from './teacher.js';

export const meanTeacherParams = object({
  emaDecay: num({ min: 0, max: 1, default: 0.99, description: 'teacher EMA decay (SSL4MIS ema_decay)' }),
  emaWarmup: bool({ default: true, description: 'decay min(1 − 1/(t+1), emaDecay), as SSL4MIS' }),
  consistency: num({ min: 0, default: 0.1, description: 'consistency weight after the ramp-up' }),
  consistencyRampup: num({ min: 0, default: 200, description: 'sigmoid ramp-up length in units of rampupUnit iterations' }),
  rampupUnit: num({ int: true, min: 1, default: 150, description: "iterations per ramp-up unit (SSL4MIS's iter_num // 150)" }),
  noiseStd: num({ min: 0, default: 0.1, description: 'Gaussian noise on the teacher input' }),
  noiseClip: num({ min: 0, default: 0.2, description: 'the noise is clamped to ±noiseClip' }),
  teacherMode: oneOf(['train', 'eval'] as const, { default: 'train', description: "teacher forward mode (SSL4MIS: 'train')" }),
});

export type MeanTeacherParams = ReturnType<typeof meanTeacherParams.check>;

/** Splits a network output (or deep-supervision list) along the batch: [0, n) and [n, end). */
function splitBatch(y: Tensor | Tensor[], n: number): [Tensor | Tensor[], Tensor | Tensor[]] {
  const cut = (t: Tensor): [Tensor, Tensor] => [t.narrow(0, 0, n), t.narrow(0, n, t.shape[0] - n)];
  if (!Array.isArray(y)) return cut(y);
  const parts = y.map(cut);
  return [parts.map((p) => p[0]), parts.map((p) => p[1])];
}

export function meanTeacherRecipe(ctx: MethodContext): Recipe & { teacher: EmaTeacher; params: MeanTeacherParams } {
  const p = readParams(meanTeacherParams, ctx.params);
  const teacher = new EmaTeacher(ctx.model, ctx.makeNetwork, { decay: p.emaDecay, warmup: p.emaWarmup, buffers: 'none', mode: p.teacherMode });
  const consistencyLoss = new MseLoss({ predictionActivation: 'softmax', targetActivation: 'softmax' }, 'softmax_mse');
  return {
    name: 'mean_teacher',
    inputs: ['image', 'label', 'uimage'],
    teacher,
    params: p,
    modules: () => ({ teacher: teacher.model }),
    step(batch, s) {
      const { image, label, uimage } = batch;
      if (!uimage) throw new Error("mean_teacher: the batch has no 'uimage' (unlabelled stream); set data.unlabelledBatchSize or use a data plan with unlabelled cases");
      const nl = image.shape[0];
      // One student pass over labelled and unlabelled images, as SSL4MIS (batch-norm statistics over both).
      const out = ctx.model.forward(torch.cat([image, uimage], 0)) as Tensor | Tensor[];
      const [outL, outU] = splitBatch(out, nl);
      const supervised = ctx.loss.forward(outL, label.dtype === 'int64' ? label : label.long());
      const noise = torch.randnLike(uimage).mul(p.noiseStd).clamp(-p.noiseClip, p.noiseClip);
      const target = teacher.predict(uimage.add(noise));
      const consistency = consistencyLoss.forward(Array.isArray(outU) ? outU[0] : outU, target);
      const w = rampedWeight(s.step, { weight: p.consistency, rampup: p.consistencyRampup, unit: p.rampupUnit });
      return { loss: supervised.add(consistency.mul(w)), logs: { supervised, consistency, consistency_weight: w } };
    },
    afterStep(s) {
      teacher.update(s.step);
    },
  };
}

registerMethod({
  name: 'mean_teacher',
  summary: 'mean teacher (SSL4MIS): supervised loss + ramped softmax-MSE consistency with an EMA teacher on unlabelled images',
  streams: ['labelled', 'unlabelled'],
  params: meanTeacherParams,
  build: meanTeacherRecipe,
});
