// Losses built from Dice and cross-entropy as the reference methods combine them:
//   DiceCELoss        — weighted sum (nnU-Net DC_and_CE: 1·CE + 1·Dice, the
//                       ignore label masked in Dice and skipped in CE; STDR,
//                       SSL4MIS and BCP pre-training: ½·CE + ½·Dice);
//   PartialDiceCELoss — PA-Seg's PartialLoss(DC_CE): labels ≥ numClasses are
//                       unannotated; per sample, CE and Dice over annotated
//                       voxels only, averaged over samples that have any;
//   BcpMixLoss        — BCP's mix_loss for a copy-paste image: masked Dice and
//                       CE in the region from the first image and in the pasted
//                       patch, the unlabelled part weighted 0.5.
import * as torch from '@labelwise/torch';
import { type Tensor, F } from '@labelwise/torch';
import { TensorLoss, checkLabels, oneHot, readMask, readTarget } from './common.js';
import { type CrossEntropyOptions, crossEntropyLoss } from './cross-entropy.js';
import { type DicePreset, type ResolvedDiceOptions, type SoftDiceOptions, diceCoefficients, diceLossFromCoefficients, resolveDiceOptions } from './dice.js';

export interface DiceCEOptions {
  /** Dice preset (and the CE/Dice weights that go with it): nnunet, ssl4mis, stdr, bcp_acdc, bcp_la, pa_seg. */
  preset?: DicePreset;
  dice?: SoftDiceOptions;
  ce?: CrossEntropyOptions;
  weightDice?: number;
  weightCe?: number;
  /** Ignored label for both terms (nnU-Net's ignore_label). */
  ignoreIndex?: number | null;
}

/** The CE/Dice weights each codebase uses with its Dice. */
export const DICE_CE_WEIGHTS: Record<DicePreset, { weightDice: number; weightCe: number }> = {
  nnunet: { weightDice: 1, weightCe: 1 },
  pa_seg: { weightDice: 1, weightCe: 1 },
  ssl4mis: { weightDice: 0.5, weightCe: 0.5 },
  stdr: { weightDice: 0.5, weightCe: 0.5 },
  bcp_acdc: { weightDice: 0.5, weightCe: 0.5 },
  bcp_la: { weightDice: 0.5, weightCe: 0.5 },
};

export class DiceCELoss extends TensorLoss {
  readonly name = 'dice_ce';
  readonly dice: ResolvedDiceOptions;
  readonly ce: CrossEntropyOptions;
  readonly weightDice: number;
  readonly weightCe: number;

  constructor(options: DiceCEOptions = {}) {
    super();
    const preset = options.preset ?? 'nnunet';
    const ignoreIndex = options.ignoreIndex ?? null;
    this.dice = resolveDiceOptions(preset, { ...options.dice, ...(ignoreIndex !== null ? { ignoreIndex } : {}) });
    this.ce = { ...options.ce, ...(ignoreIndex !== null ? { ignoreIndex } : {}) };
    const w = DICE_CE_WEIGHTS[preset];
    this.weightDice = options.weightDice ?? w.weightDice;
    this.weightCe = options.weightCe ?? w.weightCe;
  }

  protected compute(prediction: Tensor, target: Tensor, mask: Tensor | null): Tensor {
    let loss = prediction.sum().mul(0);
    if (this.weightDice !== 0) loss = loss.add(diceLossFromCoefficients(this.name, diceCoefficients(this.name, prediction, target, mask, this.dice), this.dice).mul(this.weightDice));
    if (this.weightCe !== 0) loss = loss.add(crossEntropyLoss(prediction, target, { ...this.ce, validateLabels: false }, mask, this.name).mul(this.weightCe));
    return loss;
  }
}

export interface PartialDiceCEOptions {
  /** Channels of the prediction; labels ≥ numClasses are unannotated (PA-Seg: 2, so label 2 is unlabelled). */
  numClasses?: number;
}

/**
 * PA-Seg's partial cross-entropy + Dice: per sample, over annotated voxels
 * only, CE (mean) + 1 − mean_c Dice_c with Dice_c = 2Σpy / (Σp + Σy + 1e-19),
 * background included; the mean over samples that have annotated voxels (0
 * when none has).
 */
export class PartialDiceCELoss extends TensorLoss {
  readonly name = 'partial_dice_ce';
  readonly numClasses: number | null;

  constructor(options: PartialDiceCEOptions = {}) {
    super();
    this.numClasses = options.numClasses ?? null;
  }

  protected compute(prediction: Tensor, target: Tensor, mask: Tensor | null): Tensor {
    const c = prediction.shape[1];
    if (this.numClasses !== null && this.numClasses !== c) throw new Error(`${this.name}: numClasses is ${this.numClasses} but the prediction has ${c} channels`);
    const t = readTarget(this.name, prediction, target);
    if (t.kind !== 'labels') throw new Error(`${this.name}: the target must be a label map (unannotated voxels ≥ ${c}), got a dense ${c}-channel map`);
    const labels = t.labels;
    if (!labels.ge(0).all().item()) throw new Error(`${this.name}: labels must be ≥ 0 (values ≥ ${c} mark unannotated voxels)`);
    const annotated = labels.lt(c);
    let m = annotated.to(prediction.dtype);
    if (mask !== null) {
      const w = readMask(this.name, prediction, mask);
      if (w.shape[1] !== 1) throw new Error(`${this.name}: the mask must have 1 channel`);
      m = m.mul(w.squeeze(1));
    }
    const known = labels.where(annotated, 0);
    const axes = Array.from({ length: labels.ndim - 1 }, (_, i) => i + 1);
    const count = m.sum(axes);
    // CE per sample over its annotated voxels (0/1 for samples without any, excluded below).
    const ce = F.crossEntropy(prediction, known, { reduction: 'none' }).mul(m).sum(axes).div(count.clampMin(1));
    const p = F.softmax(prediction, 1);
    const y = oneHot(known, c, prediction.dtype);
    const mc = m.unsqueeze(1);
    const sp = axes.map((a) => a + 1);
    const inter = p.mul(y).mul(mc).sum(sp);
    const dice = inter.mul(2).div(p.mul(mc).sum(sp).add(y.mul(mc).sum(sp)).add(1e-19));
    const perSample = ce.add(dice.mean(1).neg().add(1));
    const has = count.gt(0).to(prediction.dtype);
    return perSample.mul(has).sum().div(has.sum().clampMin(1));
  }
}

export interface BcpMixOptions {
  /** 'bcp_la' (mask_DiceLoss, LA/pancreas) or 'bcp_acdc' (squared DiceLoss, ACDC). */
  preset?: 'bcp_la' | 'bcp_acdc';
  /** Weight of the labelled region (l_weight, 1.0). */
  lWeight?: number;
  /** Weight of the unlabelled region (u_weight, 0.5). */
  uWeight?: number;
  /** The mask's region (mask = 1) comes from the unlabelled image (BCP's `unlab=True` mix). */
  unlabelledImage?: boolean;
}

/**
 * BCP's mix_loss on a copy-paste mixed prediction. `target` is the mixed
 * label map (image labels where mask = 1, patch labels where mask = 0) and
 * `mask` the mixing mask (required): ½·[w_img·(Dice_M + CE_M) + w_patch·(Dice_{1−M} + CE_{1−M})],
 * with masked CE = Σ(ce·M)/(ΣM + 1e-16).
 */
export class BcpMixLoss extends TensorLoss {
  readonly name = 'bcp_mix';
  readonly dice: ResolvedDiceOptions;
  readonly imageWeight: number;
  readonly patchWeight: number;

  constructor(options: BcpMixOptions = {}) {
    super();
    const preset = options.preset ?? 'bcp_la';
    if (preset !== 'bcp_la' && preset !== 'bcp_acdc') throw new Error(`bcp_mix: preset must be bcp_la or bcp_acdc, got '${String(preset)}'`);
    this.dice = resolveDiceOptions(preset);
    const l = options.lWeight ?? 1.0;
    const u = options.uWeight ?? 0.5;
    [this.imageWeight, this.patchWeight] = options.unlabelledImage ? [u, l] : [l, u];
  }

  protected compute(prediction: Tensor, target: Tensor, mask: Tensor | null): Tensor {
    if (mask === null) throw new Error(`${this.name}: needs the copy-paste mask (1 where the labels come from the image, 0 in the pasted patch)`);
    const t = readTarget(this.name, prediction, target);
    if (t.kind === 'labels') checkLabels(this.name, t.labels, prediction.shape[1], null);
    const m = readMask(this.name, prediction, mask);
    const inv = m.neg().add(1);
    const dice = { ...this.dice, validateLabels: false };
    const d = (region: Tensor): Tensor => diceLossFromCoefficients(this.name, diceCoefficients(this.name, prediction, target, region, dice), dice);
    const ce = (region: Tensor): Tensor => crossEntropyLoss(prediction, target, { validateLabels: false }, region, this.name);
    const image = d(m).add(ce(m)).mul(this.imageWeight);
    const patch = d(inv).add(ce(inv)).mul(this.patchWeight);
    return torch.tidy(() => image.add(patch).div(2));
  }
}
