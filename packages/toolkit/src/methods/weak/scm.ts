// PA-Seg stage 2, self and cross monitoring (train_SCM.py, methods.md §4c):
//   models   primary (the run's network) and auxiliary (another architecture),
//            both starting from their stage-1 best weights; frozen copies of
//            each (pseudo-models) label the same random patch;
//   loss     L_k = (1 − w)·DC_CE(out_k, argmax(pseudo_k)) + w·KD(out_k, pseudo_other),
//            KD(s, t) = T²·Σ softmax(t/T)·(log softmax(t/T) − log softmax(s/T)) / voxels
//            (KLDivLoss 'batchmean' over voxels flattened as the batch), w = 0.5, T = 4;
//            each network's optimizer sees only its own loss;
//   hooks    every `refreshEvery` steps both pseudo-models reload the phase's
//            current best checkpoint (until the first validation: stage 1's best).
// Deviation: one validation score (the primary's) selects the best checkpoint
// for both networks; PA-Seg keeps a best per network.
import * as torch from '@labelwise/torch';
import { F, type Tensor } from '@labelwise/torch';
import { loadCheckpoint } from '../../checkpoint/checkpoint.js';
import { DiceCELoss } from '../../losses/compound.js';
import { type Recipe, streamPrefix } from '../../training/recipe.js';
import type { MethodContext } from '../registry.js';
import { readParams } from '../semi/params.js';
import { paSegParams } from './params.js';
import { logitsOf, weakStream } from './stage1.js';

/** Knowledge distillation at temperature T, mean over voxels (PA-Seg's KD with reduction 'batchmean' on flattened voxels). */
export function distillationLoss(student: Tensor, teacher: Tensor, temperature: number): Tensor {
  const voxels = student.numel() / student.shape[1];
  const t = F.softmax(teacher.div(temperature), 1);
  const logT = F.logSoftmax(teacher.div(temperature), 1);
  const logS = F.logSoftmax(student.div(temperature), 1);
  return t.mul(logT.sub(logS)).sum().div(voxels).mul(temperature * temperature);
}

/** Copies a module's weights into another of the same architecture (parameters and buffers). */
function copyWeights(from: torch.nn.Module, to: torch.nn.Module): void {
  torch.tidy(() => to.loadStateDict(from.stateDict(), { strict: true }));
}

export function scmRecipe(ctx: MethodContext, init: { stage1Phase: string }): Recipe {
  const p = readParams(paSegParams, ctx.params);
  if (!p.auxiliaryNetwork) throw new Error("pa_seg: self and cross monitoring needs method.auxiliaryNetwork (PA-Seg BraTS: primary attention_unet3d, auxiliary {name: unet3d})");
  if (!ctx.createNetwork || !ctx.checkpoint) throw new Error('pa_seg: stage 2 needs a session that builds networks and finds checkpoints');
  const stream = weakStream(ctx, p);
  const prefix = streamPrefix(stream);
  const auxiliary = ctx.createNetwork(p.auxiliaryNetwork);
  const pseudo1 = ctx.makeNetwork();
  const pseudo2 = ctx.createNetwork(p.auxiliaryNetwork);
  const start = ctx.checkpoint('best', init.stage1Phase) ?? ctx.checkpoint('last', init.stage1Phase);
  if (!start) throw new Error(`pa_seg: stage 1 ('${init.stage1Phase}') left no checkpoint to start self and cross monitoring from`);
  // The session already put the stage-1 best primary weights into ctx.model.
  loadCheckpoint(start, { modules: { auxiliary } }, { restoreRng: false });
  copyWeights(ctx.model, pseudo1);
  copyWeights(auxiliary, pseudo2);
  for (const m of [pseudo1, pseudo2]) {
    m.eval();
    for (const q of m.parameters()) q.requiresGrad = false;
  }
  const dcce = new DiceCELoss({ preset: 'pa_seg' });
  const w = p.kdWeight;
  const T = p.temperature;
  return {
    name: 'pa_seg_scm',
    inputs: [`${prefix}image`],
    streams: [stream],
    modules: () => ({ auxiliary, pseudo1, pseudo2 }),
    optimizers: () => ({ model: { params: ctx.model.parameters() }, auxiliary: { params: auxiliary.parameters() } }),
    step(batch) {
      const image = batch[`${prefix}image`];
      if (!image) throw new Error(`pa_seg: the batch has no '${prefix}image' (the ${stream} stream)`);
      const [t1, t2] = torch.noGrad(() => [logitsOf(pseudo1, image), logitsOf(pseudo2, image)]);
      const out1 = logitsOf(ctx.model, image);
      const out2 = logitsOf(auxiliary, image);
      const self1 = dcce.forward(out1, t1.argmax(1));
      const self2 = dcce.forward(out2, t2.argmax(1));
      const kd1 = distillationLoss(out1, t2, T);
      const kd2 = distillationLoss(out2, t1, T);
      return {
        losses: { model: self1.mul(1 - w).add(kd1.mul(w)), auxiliary: self2.mul(1 - w).add(kd2.mul(w)) },
        logs: { self: self1, kd: kd1, aux_self: self2, aux_kd: kd2 },
      };
    },
    afterStep(s) {
      if ((s.step + 1) % p.refreshEvery !== 0) return;
      const best = ctx.checkpoint!('best');
      if (!best) return;
      loadCheckpoint(best, { model: pseudo1, modules: { auxiliary: pseudo2 } }, { restoreRng: false });
    },
  };
}
