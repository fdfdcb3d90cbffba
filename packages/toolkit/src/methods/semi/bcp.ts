// Bidirectional copy-paste (BCP; Bai et al., CVPR 2023), as
// DeepMed-Lab-ECNU/BCP trains ACDC (2D) and LA (3D) — methods.md §5 — and
// the three extensions of Hsu & Hua, each switchable:
//
//   phase 'pretrain'  streams: labelled. Model: the student. Each step mixes
//                     the two halves of the labelled batch under one
//                     copy-paste mask M (1 outside a ⌊2/3⌋-sided box, 0 in
//                     it): x = l_a·M + l_b·(1 − M), y likewise. Loss: ACDC
//                     mix_loss with both regions weighted 1; LA ½(CE + Dice)
//                     over the whole mixed image.
//   phase 'selftrain' streams: labelled + unlabelled. Models: student and
//                     EMA teacher, both starting from the pre-trained model
//                     (the experiment loads the pre-training phase's best
//                     checkpoint). Each step: the teacher (training mode, as
//                     BCP) labels both unlabelled halves — argmax (ACDC) or
//                     p_fg ≥ 0.5 (LA), then the largest connected component
//                     per class; one mask M mixes them with the labelled
//                     halves in both directions; the loss of each mixed image
//                     is BCP's mix_loss, ½·Σ_region w·(Dice + CE) over the
//                     region, w = 1.0 where labels are ground truth and 0.5
//                     where they are pseudo-labels; the sum over the two
//                     mixes. Hook: teacher EMA α = 0.99 after every step.
//
// Extensions (docs/methods/semi.md): (a) dynamicMask — the box size/shape
// follows a schedule or the teacher's confidence; (b) edgeWeight — with an
// edge-guided network (unet2d_egm / vnet_egm), a boundary loss on the
// network's edge head; (c) dualTeacher — a static teacher snapshotted every
// `period` steps, its predictions fused with the EMA teacher's.
//
// Everything is dimension-agnostic: images [B, C, ...spatial], labels
// [B, ...spatial] with 2 or 3 spatial axes.
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import { checkLabels } from '../../losses/common.js';
import { DiceCELoss } from '../../losses/compound.js';
import type { Batch, Recipe, StepResult } from '../../training/recipe.js';
import { type Field, bool, num, object, oneOf, optional } from '../../config/schema.js';
import { copyPasteMask, mixCopyPaste, sampleCopyPasteBox, type CopyPasteBox, type CopyPasteBoxOptions } from '../../transforms/copy-paste.js';
import { Rng } from '../../random/rng.js';
import { type MethodContext, type MethodSession, type MethodSpec, registerMethod } from '../registry.js';
import { StaticTeacher, combineTeachers, dualTeacherShape } from './dual-teacher.js';
import { DynamicMask, dynamicMaskShape } from './dynamic-mask.js';
import { boundaryLoss, labelBoundaries } from './edge-guidance.js';
import { type EdgeOutput, isEdgeGuided } from '../../nn/edge-unet.js';
import { readParams } from './params.js';
import { foregroundConfidence, pseudoLabels } from './pseudo-labels.js';
import { type MixDicePreset, type WeightedRegion, mixRegionLoss } from './region-loss.js';
import { EmaTeacher, mainOutput } from './teacher.js';

/** The published recipe per dataset family; every field can be overridden by its own parameter. */
export const BCP_VARIANTS = {
  /** ACDC_BCP_train.py: squared-denominator batch Dice, argmax pseudo-labels, unlabelled-outside mix first. */
  acdc: { dice: 'bcp_acdc', pseudoThreshold: null, pairing: 'acdc', pretrainLoss: 'regions' },
  /** LA_BCP_train.py: per-sample plain Dice, p_fg ≥ 0.5 pseudo-labels, labelled-outside mix first. */
  la: { dice: 'bcp_la', pseudoThreshold: 0.5, pairing: 'la', pretrainLoss: 'plain' },
} as const;

export type BcpVariant = keyof typeof BCP_VARIANTS;
export type MixPairing = 'acdc' | 'la';

interface BcpDefaults {
  edgeWeight: number;
  dynamicMode: 'fixed' | 'schedule' | 'confidence';
  dualPeriod: number;
}

function bcpSchema(d: BcpDefaults) {
  const dynamic = dynamicMaskShape;
  const dual = dualTeacherShape;
  return object({
    variant: optional(oneOf(['acdc', 'la'] as const, { description: "published recipe: 'acdc' (2D default) or 'la' (3D default)" })),
    pretrainIterations: optional(num({ int: true, min: 0, description: 'pre-training iterations on labelled copy-paste mixes before training.iterations of self-training (BCP: ACDC 10000, LA 2000; default iterations/3)' })),
    lWeight: num({ min: 0, default: 1, description: 'loss weight of regions with ground-truth labels' }),
    uWeight: num({ min: 0, default: 0.5, description: 'loss weight of regions with pseudo-labels' }),
    emaDecay: num({ min: 0, max: 1, default: 0.99, description: 'teacher EMA decay, every step, no warm-up' }),
    maskFraction: num({ min: 0.01, max: 1, default: 2 / 3, description: 'box side as a fraction of the patch side' }),
    maskPosition: oneOf(['bcp', 'inclusive'] as const, { default: 'bcp', description: "'bcp': numpy randint(0, n − s) as BCP; 'inclusive': every position where the box fits" }),
    teacherMode: oneOf(['train', 'eval'] as const, { default: 'train', description: "teacher forward mode (BCP: 'train')" }),
    largestComponent: bool({ default: true, description: 'keep the largest connected component per class of the pseudo-labels (BCP nms=1)' }),
    pseudoThreshold: optional(num({ min: 0, max: 1, description: 'foreground probability threshold for 2-class pseudo-labels (default: variant; null argmax)' })),
    dice: optional(oneOf(['bcp_acdc', 'bcp_la'] as const, { description: 'Dice convention of the mix loss (default: variant)' })),
    pairing: optional(oneOf(['acdc', 'la'] as const, { description: 'which halves pair in the two mixes (default: variant)' })),
    pretrainLoss: optional(oneOf(['regions', 'plain'] as const, { description: "pre-training loss: 'regions' (ACDC mix_loss) or 'plain' (LA ½(CE + Dice) on the whole image)" })),
    edgeWeight: num({ min: 0, default: d.edgeWeight, description: 'weight of the boundary loss of an edge-guided network (0: off)' }),
    dynamicMask: object({ ...dynamic, mode: oneOf(['fixed', 'schedule', 'confidence'] as const, { default: d.dynamicMode, description: dynamic.mode.description }) }),
    dualTeacher: object({ ...dual, period: num({ int: true, min: 0, default: d.dualPeriod, description: dual.period.description }) }),
  });
}

const BCP_SCHEMA = bcpSchema({ edgeWeight: 0, dynamicMode: 'fixed', dualPeriod: 0 });
const HSU_HUA_SCHEMA = bcpSchema({ edgeWeight: 0.5, dynamicMode: 'schedule', dualPeriod: 1000 });

export type BcpParams = ReturnType<typeof BCP_SCHEMA.check>;

/** Parameters with the variant's defaults filled in. */
export interface ResolvedBcpParams extends BcpParams {
  variant: BcpVariant;
  dice: MixDicePreset;
  pairing: MixPairing;
  pretrainLoss: 'regions' | 'plain';
  pseudoThreshold: number | undefined;
}

export function resolveBcpParams(schema: Field<BcpParams>, params: Record<string, unknown>, spatialDims: 2 | 3): ResolvedBcpParams {
  const p = readParams(schema, params);
  const variant: BcpVariant = p.variant ?? (spatialDims === 3 ? 'la' : 'acdc');
  const v = BCP_VARIANTS[variant];
  return {
    ...p,
    variant,
    dice: p.dice ?? v.dice,
    pairing: p.pairing ?? v.pairing,
    pretrainLoss: p.pretrainLoss ?? v.pretrainLoss,
    pseudoThreshold: p.pseudoThreshold ?? v.pseudoThreshold ?? undefined,
  };
}

/** [0, n/2) and [n/2, n) of a batch; BCP splits its labelled and unlabelled batches so. */
export function batchHalves(t: Tensor, what: string): [Tensor, Tensor] {
  const n = t.shape[0];
  if (n < 2 || n % 2 !== 0) throw new Error(`bcp: the ${what} batch must have an even size ≥ 2 (BCP mixes its two halves), got ${n}`);
  return [t.narrow(0, 0, n / 2), t.narrow(0, n / 2, n / 2)];
}

/** One mask for the whole (half-)batch, as BCP's generate_mask / context_mask: [n, ...spatial], 0 inside the box. */
export function sharedMask(box: CopyPasteBox, n: number, spatial: readonly number[]): Tensor {
  return copyPasteMask(spatial, Array.from({ length: n }, () => box));
}

export interface MixSource {
  image: Tensor;
  /** Labels [n, ...spatial] (ground truth or pseudo-labels). */
  label: Tensor;
  /** Whether the labels are pseudo-labels. */
  pseudo: boolean;
  /** Voxel weights of pseudo-labels [n, ...spatial] (dual-teacher agreement), or null. */
  voxelWeight?: Tensor | null;
}

export interface MixedSample {
  image: Tensor;
  label: Tensor;
  regions: WeightedRegion[];
}

/**
 * Copy-paste of `inner` into `outer` under mask M (1 outside the box): the
 * image, the label map, and the two weighted regions — M from `outer`,
 * 1 − M from `inner` — each weighted lWeight (ground truth) or uWeight
 * (pseudo-labels, times their voxel weights).
 */
export function copyPasteSample(outer: MixSource, inner: MixSource, mask: Tensor, weights: { lWeight: number; uWeight: number }): MixedSample {
  return torch.tidy(() => {
    const region = (src: MixSource, map: Tensor): WeightedRegion => ({
      map: src.pseudo && src.voxelWeight ? map.mul(src.voxelWeight) : map,
      weight: src.pseudo ? weights.uWeight : weights.lWeight,
      source: src.pseudo ? 'unlabelled' : 'labelled',
    });
    return {
      image: mixCopyPaste(outer.image, inner.image, mask),
      label: mixCopyPaste(outer.label, inner.label, mask),
      regions: [region(outer, mask), region(inner, torch.rsub(mask, 1))],
    };
  });
}

/**
 * BCP's two mixes of labelled halves (a, b) and unlabelled halves (a, b):
 *   'acdc': [u_a outside, l_a inside], [l_b outside, u_b inside];
 *   'la':   [l_a outside, u_a inside], [u_b outside, l_b inside].
 */
export function bidirectionalMixes(l: [MixSource, MixSource], u: [MixSource, MixSource], mask: Tensor, pairing: MixPairing, weights: { lWeight: number; uWeight: number }): [MixedSample, MixedSample] {
  return pairing === 'acdc'
    ? [copyPasteSample(u[0], l[0], mask, weights), copyPasteSample(l[1], u[1], mask, weights)]
    : [copyPasteSample(l[0], u[0], mask, weights), copyPasteSample(u[1], l[1], mask, weights)];
}

/** The sum of region weight maps: each voxel's loss weight (for the boundary loss). */
function voxelWeights(regions: readonly WeightedRegion[]): Tensor {
  return torch.tidy(() => regions.map((r) => r.map.mul(r.weight)).reduce((a, b) => a.add(b)));
}

function boxFraction(box: CopyPasteBox, spatial: readonly number[]): number {
  return box.size.reduce((a, s, i) => a * (s / spatial[i]), 1);
}

function bcpRecipe(ctx: MethodContext, name: string, schema: Field<BcpParams>): Recipe {
  const p = resolveBcpParams(schema, ctx.params, ctx.spatialDims);
  const model = ctx.model;
  if (p.edgeWeight > 0 && !isEdgeGuided(model)) {
    const net = (model as { info?: { name?: string } }).info?.name ?? model.constructor.name;
    throw new Error(`method.edgeWeight: ${p.edgeWeight} needs an edge-guided network (network.name: unet2d_egm or vnet_egm), got '${net}'; set method.edgeWeight=0 to train without the boundary loss`);
  }
  if (p.pseudoThreshold !== undefined && ctx.numClasses !== 2) {
    throw new Error(`method.pseudoThreshold: a foreground threshold needs 2 classes, this task has ${ctx.numClasses}; use method.variant=acdc (argmax pseudo-labels)`);
  }
  const weights = { lWeight: p.lWeight, uWeight: p.uWeight };
  const forward = (x: Tensor): { logits: Tensor; edges: Tensor | null } => {
    if (p.edgeWeight > 0 && isEdgeGuided(model)) {
      const o: EdgeOutput = model.forwardWithEdges(x);
      return { logits: o.logits, edges: o.edges };
    }
    return { logits: mainOutput(model.forward(x) as Tensor | Tensor[]), edges: null };
  };
  const edgeTerm = (edges: Tensor | null, label: Tensor, w: Tensor | null): Tensor | null => (edges === null ? null : boundaryLoss(edges, labelBoundaries(label), w).mul(p.edgeWeight));
  const drawBox = (step: number, spatial: readonly number[], box: Pick<CopyPasteBoxOptions, 'fraction' | 'perAxis'>): CopyPasteBox =>
    sampleCopyPasteBox(Rng.from(ctx.seed, 'bcp-mask', ctx.phase, step), spatial, { ...box, position: p.maskPosition });
  const checked = (label: Tensor): Tensor => {
    const l = label.dtype === 'int64' ? label : label.long();
    checkLabels(name, l, ctx.numClasses, null);
    return l;
  };

  if (ctx.phase === 'pretrain') {
    const plain = new DiceCELoss({ preset: p.dice });
    return {
      name: `${name}:pretrain`,
      inputs: ['image', 'label'],
      modules: () => ({}),
      step(batch: Batch, s): StepResult {
        const [la, lb] = batchHalves(batch.image, 'labelled');
        const [ya, yb] = batchHalves(checked(batch.label), 'labelled');
        const spatial = la.shape.slice(2);
        const box = drawBox(s.step, spatial, { fraction: p.maskFraction });
        const mask = sharedMask(box, la.shape[0], spatial);
        const mixed = copyPasteSample({ image: la, label: ya, pseudo: false }, { image: lb, label: yb, pseudo: false }, mask, { lWeight: 1, uWeight: 1 });
        const out = forward(mixed.image);
        let loss = p.pretrainLoss === 'plain' ? plain.forward(out.logits, mixed.label) : mixRegionLoss(out.logits, mixed.label, mixed.regions, p.dice);
        const logs: Record<string, number | Tensor> = { mix: loss };
        const edge = edgeTerm(out.edges, mixed.label, null);
        if (edge !== null) {
          loss = loss.add(edge);
          logs.edge = edge;
        }
        return { loss, logs };
      },
    };
  }
  if (ctx.phase !== 'selftrain') throw new Error(`${name}: unknown phase '${ctx.phase}' (expected pretrain or selftrain)`);

  const teacher = new EmaTeacher(model, ctx.makeNetwork, { decay: p.emaDecay, warmup: false, buffers: 'ema', mode: p.teacherMode });
  const staticTeacher = p.dualTeacher.period > 0 ? new StaticTeacher(p.dualTeacher, teacher, model, ctx.makeNetwork) : null;
  const dynamic = new DynamicMask(p.dynamicMask, p.maskFraction);
  const pseudoOptions = { threshold: p.pseudoThreshold ?? null, largestComponent: p.largestComponent };

  /** Teacher pseudo-labels (and voxel weights) for one unlabelled half, as BCP: one teacher pass per half. */
  const label = (u: Tensor): { probs: Tensor; label: Tensor; weight: Tensor | null; agreement: number | null } => torch.tidy(() => {
    const pd = torch.F.softmax(teacher.predict(u), 1);
    if (staticTeacher === null) return { probs: pd, label: pseudoLabels(pd, pseudoOptions), weight: null, agreement: null };
    const c = combineTeachers(pd, staticTeacher.predictProbs(u), p.dualTeacher.combine, p.dualTeacher.disagreementWeight);
    return { probs: c.probs, label: pseudoLabels(c.probs, pseudoOptions), weight: c.weight, agreement: c.agreement };
  });

  return {
    name: `${name}:selftrain`,
    inputs: ['image', 'label', 'uimage'],
    modules: (): Record<string, torch.nn.Module> => (staticTeacher === null ? { teacher: teacher.model } : { teacher: teacher.model, static_teacher: staticTeacher.model }),
    step(batch: Batch, s): StepResult {
      if (!batch.uimage) throw new Error(`${name}: the batch has no 'uimage' (unlabelled stream)`);
      const [la, lb] = batchHalves(batch.image, 'labelled');
      const [ya, yb] = batchHalves(checked(batch.label), 'labelled');
      const [ua, ub] = batchHalves(batch.uimage, 'unlabelled');
      if (ua.shape[0] !== la.shape[0]) throw new Error(`${name}: BCP pairs labelled and unlabelled images one to one; got ${batch.image.shape[0]} labelled and ${batch.uimage.shape[0]} unlabelled (set data.unlabelledBatchSize = data.batchSize)`);
      const pa = label(ua);
      const pb = label(ub);
      const logs: Record<string, number | Tensor> = {};
      if (dynamic.needsConfidence) logs.teacher_confidence = dynamic.observe(foregroundConfidence(torch.cat([pa.probs, pb.probs], 0)));
      const spatial = la.shape.slice(2);
      const progress = dynamic.progress(s.step, s.totalSteps);
      const box = drawBox(s.step, spatial, dynamic.boxOptions(progress));
      const mask = sharedMask(box, la.shape[0], spatial);
      const mixes = bidirectionalMixes(
        [{ image: la, label: ya, pseudo: false }, { image: lb, label: yb, pseudo: false }],
        [{ image: ua, label: pa.label, pseudo: true, voxelWeight: pa.weight }, { image: ub, label: pb.label, pseudo: true, voxelWeight: pb.weight }],
        mask, p.pairing, weights,
      );
      const mixLosses: Tensor[] = [];
      const edgeLosses: Tensor[] = [];
      for (const [i, m] of mixes.entries()) {
        const out = forward(m.image);
        const mixLoss = mixRegionLoss(out.logits, m.label, m.regions, p.dice);
        logs[`mix_${i}`] = mixLoss;
        mixLosses.push(mixLoss);
        const edge = edgeTerm(out.edges, m.label, out.edges === null ? null : voxelWeights(m.regions));
        if (edge !== null) edgeLosses.push(edge);
      }
      let loss = mixLosses[0].add(mixLosses[1]);
      if (edgeLosses.length) {
        const edge = edgeLosses.reduce((a, b) => a.add(b));
        loss = loss.add(edge);
        logs.edge = edge;
      }
      logs.mask_fraction = boxFraction(box, spatial);
      if (dynamic.params.mode !== 'fixed') logs.mask_progress = progress;
      logs.pseudo_fg = torch.tidy(() => torch.cat([pa.label, pb.label], 0).gt(0).float().mean());
      if (pa.agreement !== null && pb.agreement !== null) logs.teacher_agreement = (pa.agreement + pb.agreement) / 2;
      return { loss, logs };
    },
    afterStep(s) {
      teacher.update(s.step);
      staticTeacher?.maybeSnapshot(s.step);
    },
    state: () => dynamic.state(),
    loadState: (st) => dynamic.loadState(st),
  };
}

/** BCP's program: labelled copy-paste pre-training, then self-training from the pre-trained model's best checkpoint. */
function bcpProgram(schema: Field<BcpParams>) {
  return async (s: MethodSession): Promise<void> => {
    const iterations = s.exp.training.iterations;
    const pre = readParams(schema, s.methodParams).pretrainIterations ?? Math.round(iterations / 3);
    if (pre > 0) await s.train({ phase: 'pretrain', steps: pre });
    await s.train({ phase: 'selftrain', steps: iterations });
  };
}

export const bcpMethod: MethodSpec = {
  name: 'bcp',
  summary: 'bidirectional copy-paste (BCP, CVPR 2023): labelled copy-paste pre-training, then self-training on labelled/unlabelled mixes with an EMA teacher',
  streams: ['labelled', 'unlabelled'],
  params: BCP_SCHEMA,
  run: bcpProgram(BCP_SCHEMA),
  build: (ctx) => bcpRecipe(ctx, 'bcp', BCP_SCHEMA),
};

export const bcpHsuHuaMethod: MethodSpec = {
  name: 'bcp_hsu_hua',
  summary: 'BCP + dynamic mask schedule + edge-guided boundary loss + dual (EMA + static) teachers (Hsu & Hua); needs network unet2d_egm / vnet_egm',
  streams: ['labelled', 'unlabelled'],
  params: HSU_HUA_SCHEMA,
  run: bcpProgram(HSU_HUA_SCHEMA),
  build: (ctx) => bcpRecipe(ctx, 'bcp_hsu_hua', HSU_HUA_SCHEMA),
};

registerMethod(bcpMethod);
registerMethod(bcpHsuHuaMethod);
