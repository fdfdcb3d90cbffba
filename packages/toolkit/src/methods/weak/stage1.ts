// Weak-supervision stage 1 (PA-Seg train_gatedcrfloss3d22d_multiview_varianceloss.py;
// WSL4MIS-style scribble training in 2D):
//   stream   points (geodesic-expanded seven points, 3D) or scribbles; the
//            label value numClasses marks unannotated voxels;
//   loss     L = L_partial + r(t)·(λ_crf·L_crf + λ_var·L_var), r = sigmoid ramp-up,
//            L_partial = PA-Seg's partial Dice + CE (points) or partial CE (scribbles),
//            L_crf = gated CRF (3D: PA-Seg's multi-view 3D→2D form on down-sampled
//                    logits; 2D: on the slice), L_var = variance minimisation,
//            both on the first image channel (PA-Seg is single-modality);
//   models   optionally an auxiliary network of another architecture trained
//            beside the primary on the same batches with its own optimizer
//            (the stage-1 model SCM's second branch starts from).
import * as torch from '@labelwise/torch';
import { F, type Tensor } from '@labelwise/torch';
import { PartialDiceCELoss } from '../../losses/compound.js';
import { crossEntropyLoss } from '../../losses/cross-entropy.js';
import { gatedCrfLoss2d, gatedCrfLoss3dMultiView } from '../../losses/gated-crf.js';
import { varianceLoss } from '../../losses/variance.js';
import { type Recipe, type StreamName, streamPrefix } from '../../training/recipe.js';
import type { MethodContext } from '../registry.js';
import { readParams } from '../semi/params.js';
import { sigmoidRampup } from '../semi/ramps.js';
import { type PaSegParams, paSegParams } from './params.js';

/** The sparse stream a weak recipe reads. */
export function weakStream(ctx: MethodContext, p: PaSegParams): 'points' | 'scribbles' {
  return p.stream === 'auto' ? (ctx.spatialDims === 3 ? 'points' : 'scribbles') : p.stream;
}

/** Logits of a network (the full-resolution output of a deep-supervised one). */
export function logitsOf(model: torch.nn.Module, x: Tensor): Tensor {
  const y = model.forward(x) as Tensor | Tensor[];
  return Array.isArray(y) ? y[0] : y;
}

/** The partial loss on annotated voxels (labels == numClasses are unannotated). */
export function partialLoss(ctx: MethodContext, p: PaSegParams): (logits: Tensor, labels: Tensor) => Tensor {
  const kind = p.partialLoss === 'auto' ? (weakStream(ctx, p) === 'points' ? 'partial_dice_ce' : 'partial_ce') : p.partialLoss;
  if (kind === 'partial_dice_ce') {
    const loss = new PartialDiceCELoss({ numClasses: ctx.numClasses });
    return (logits, labels) => loss.forward(logits, labels);
  }
  // WSL4MIS pCE: CrossEntropyLoss(ignore_index = numClasses), mean over scribbled pixels.
  return (logits, labels) => crossEntropyLoss(logits, labels, { ignoreIndex: ctx.numClasses }, null, 'partial_ce');
}

/** The regularisers of stage 1 on one output: { crf, variance } (unweighted). */
export function regularisers(ctx: MethodContext, p: PaSegParams): (logits: Tensor, image: Tensor) => { crf: Tensor | null; variance: Tensor | null } {
  return (logits, image) => {
    const img = image.narrow(1, 0, 1);
    const opts = { sigmaXY: p.crfSigmaXY, sigmaRGB: p.crfSigmaRGB, radius: p.crfRadius };
    const crf = p.crfWeight === 0 ? null : ctx.spatialDims === 3
      ? gatedCrfLoss3dMultiView(logits, img, { ...opts, downSize: p.crfDownSize ?? null })
      : gatedCrfLoss2d(F.softmax(logits, 1), img, opts);
    const variance = p.varianceWeight === 0 ? null : varianceLoss(F.softmax(logits, 1), img);
    return { crf, variance };
  };
}

export function weakRecipe(ctx: MethodContext): Recipe & { params: PaSegParams; auxiliary: torch.nn.Module | null } {
  const p = readParams(paSegParams, ctx.params);
  const stream: StreamName = weakStream(ctx, p);
  const prefix = streamPrefix(stream);
  const partial = partialLoss(ctx, p);
  const regs = regularisers(ctx, p);
  let auxiliary: torch.nn.Module | null = null;
  if (p.auxiliaryNetwork) {
    if (!ctx.createNetwork) throw new Error('weak: an auxiliaryNetwork needs a session that can build networks (MethodContext.createNetwork)');
    auxiliary = ctx.createNetwork(p.auxiliaryNetwork);
  }
  const lossOf = (logits: Tensor, labels: Tensor, image: Tensor, w: number, tag: string, logs: Record<string, Tensor | number>): Tensor => {
    let loss = partial(logits, labels);
    logs[`${tag}partial`] = loss;
    const r = regs(logits, image);
    if (r.crf) { loss = loss.add(r.crf.mul(w * p.crfWeight)); logs[`${tag}crf`] = r.crf; }
    if (r.variance) { loss = loss.add(r.variance.mul(w * p.varianceWeight)); logs[`${tag}variance`] = r.variance; }
    return loss;
  };
  return {
    name: 'weak',
    inputs: [`${prefix}image`, `${prefix}label`],
    streams: [stream],
    params: p,
    auxiliary,
    modules: (): Record<string, torch.nn.Module> => (auxiliary ? { auxiliary } : {}),
    optimizers: auxiliary ? () => ({ model: { params: ctx.model.parameters() }, auxiliary: { params: auxiliary!.parameters() } }) : undefined,
    step(batch, s) {
      const image = batch[`${prefix}image`];
      const label = batch[`${prefix}label`];
      if (!image || !label) throw new Error(`weak: the batch has no '${prefix}image'/'${prefix}label' (the ${stream} stream); set data.weak: {kind: ${stream}}`);
      const labels = label.dtype === 'int64' ? label : label.long();
      const w = sigmoidRampup(s.step, p.rampup);
      const logs: Record<string, Tensor | number> = { ramp: w };
      const model = lossOf(logitsOf(ctx.model, image), labels, image, w, '', logs);
      if (!auxiliary) return { loss: model, logs };
      const aux = lossOf(logitsOf(auxiliary, image), labels, image, w, 'aux_', logs);
      return { losses: { model, auxiliary: aux }, logs };
    },
  };
}
