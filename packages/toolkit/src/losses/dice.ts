// Soft Dice in every variant the reference methods use. They differ in ways
// that change training, so each is a preset that reproduces one codebase:
//   ssl4mis  — SSL4MIS DiceLoss: Σp² + Σy² denominators, one Dice per class over
//              the whole batch, background included, smooth 1e-5, 1 − mean;
//   bcp_acdc — the same with smooth 1e-10 (BCP's ACDC DiceLoss, masked for
//              copy-paste regions);
//   bcp_la   — BCP's mask_DiceLoss (LA, pancreas): Σp + Σy, one Dice per
//              sample and class, smooth 1e-5, 1 − mean;
//   nnunet   — nnU-Net v2 (Memory-efficient) SoftDiceLoss: Σp + Σy, no
//              background, smooth 1e-5, denominator clipped at 1e-8, −mean
//              (batchDice per the plans);
//   stdr     — STDR/SFADA dice_loss: squared, whole batch, foreground channel 1 only;
//   pa_seg   — PA-Seg DC: Σp + Σy + 1e-19 with no numerator smoothing, per sample.
// Masks weight voxels in every sum (p and y alike); ignored labels are masked.
import * as torch from '@labelwise/torch';
import { type Tensor } from '@labelwise/torch';
import { type Activation, TensorLoss, activate, checkLabels, oneHot, readMask, readTarget } from './common.js';

export interface SoftDiceOptions {
  /** Turns the prediction into probabilities: softmax (multi-class logits), sigmoid (multi-label), none. */
  activation?: Activation;
  /** Σp² + Σy² denominators instead of Σp + Σy. */
  squared?: boolean;
  /** Added to the denominator (and the numerator unless smoothNumerator is false). */
  smooth?: number;
  smoothNumerator?: boolean;
  /** One Dice per class over the whole batch (nnU-Net batch_dice) instead of one per sample and class. */
  batchDice?: boolean;
  /** Score channel 0 too. */
  includeBackground?: boolean;
  /** Score exactly these channels (overrides includeBackground), e.g. [1] for STDR. */
  classes?: number[] | null;
  /** Weight per scored class (default 1). */
  classWeights?: number[] | null;
  /** Voxels with this label are left out of every sum. */
  ignoreIndex?: number | null;
  /** 'one_minus': mean(w·(1 − Dice)); 'negative': −mean(w·Dice) (nnU-Net). Same gradients. */
  form?: 'one_minus' | 'negative';
  /** Lower bound on the denominator (nnU-Net: 1e-8), or null. */
  denominatorClamp?: number | null;
  /** Check that labels are in range (one device sync per call). */
  validateLabels?: boolean;
}

export type ResolvedDiceOptions = Required<SoftDiceOptions>;

const BASE: ResolvedDiceOptions = {
  activation: 'softmax',
  squared: false,
  smooth: 1e-5,
  smoothNumerator: true,
  batchDice: false,
  includeBackground: true,
  classes: null,
  classWeights: null,
  ignoreIndex: null,
  form: 'one_minus',
  denominatorClamp: null,
  validateLabels: true,
};

export const DICE_PRESETS = {
  ssl4mis: { ...BASE, squared: true, batchDice: true },
  bcp_acdc: { ...BASE, squared: true, batchDice: true, smooth: 1e-10 },
  bcp_la: { ...BASE },
  nnunet: { ...BASE, includeBackground: false, form: 'negative', denominatorClamp: 1e-8 },
  stdr: { ...BASE, squared: true, batchDice: true, classes: [1] },
  pa_seg: { ...BASE, smooth: 1e-19, smoothNumerator: false },
} satisfies Record<string, ResolvedDiceOptions>;

export type DicePreset = keyof typeof DICE_PRESETS;

export function resolveDiceOptions(preset: DicePreset, options: SoftDiceOptions = {}): ResolvedDiceOptions {
  const base = DICE_PRESETS[preset] as ResolvedDiceOptions | undefined;
  if (base === undefined) throw new Error(`dice: unknown preset '${String(preset)}' (allowed: ${Object.keys(DICE_PRESETS).join(', ')})`);
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as SoftDiceOptions;
  return { ...base, ...defined };
}

/**
 * Per-class Dice coefficients, (C') with batchDice or (N, C') otherwise,
 * for the scored channels. `target` is labels or a dense map (see readTarget).
 */
export function diceCoefficients(name: string, prediction: Tensor, target: Tensor, mask: Tensor | null, o: ResolvedDiceOptions): Tensor {
  return torch.tidy(() => {
    const c = prediction.shape[1];
    const t = readTarget(name, prediction, target);
    let weight = mask === null ? null : readMask(name, prediction, mask);
    let y: Tensor;
    if (t.kind === 'labels') {
      let labels = t.labels;
      if (o.validateLabels) checkLabels(name, labels, c, o.ignoreIndex);
      if (o.ignoreIndex !== null) {
        const keep = labels.ne(o.ignoreIndex);
        const keepW = keep.unsqueeze(1).to(prediction.dtype);
        weight = weight === null ? keepW : weight.mul(keepW);
        labels = labels.where(keep, 0);
      }
      y = oneHot(labels, c, prediction.dtype);
    } else {
      y = t.values;
    }
    let p = activate(prediction, o.activation);
    const channels = o.classes ?? (o.includeBackground ? null : Array.from({ length: c - 1 }, (_, i) => i + 1));
    if (channels !== null) {
      const bad = channels.find((k) => !Number.isInteger(k) || k < 0 || k >= c);
      if (bad !== undefined) throw new Error(`${name}: class ${bad} is not a channel of a ${c}-channel prediction`);
      if (channels.length === 0) throw new Error(`${name}: no class left to score (includeBackground is false on a 1-channel prediction)`);
      const idx = torch.tensor(channels, { dtype: 'int64', device: p.device });
      p = p.indexSelect(1, idx);
      y = y.indexSelect(1, idx);
      if (weight !== null && weight.shape[1] === c) weight = weight.indexSelect(1, idx);
    }
    const axes = Array.from({ length: p.ndim - 2 }, (_, i) => i + 2);
    if (o.batchDice) axes.unshift(0);
    const w = (x: Tensor): Tensor => (weight === null ? x : x.mul(weight));
    const inter = w(p.mul(y)).sum(axes);
    const den = o.squared ? w(p.square()).sum(axes).add(w(y.square()).sum(axes)) : w(p).sum(axes).add(w(y).sum(axes));
    let denominator = den.add(o.smooth);
    if (o.denominatorClamp !== null) denominator = denominator.clampMin(o.denominatorClamp);
    const numerator = o.smoothNumerator ? inter.mul(2).add(o.smooth) : inter.mul(2);
    return numerator.div(denominator);
  });
}

/** Reduces per-class Dice to the loss (weights per scored class, form). */
export function diceLossFromCoefficients(name: string, dice: Tensor, o: ResolvedDiceOptions): Tensor {
  return torch.tidy(() => {
    const k = dice.shape[dice.ndim - 1];
    let terms = o.form === 'negative' ? dice.neg() : dice.neg().add(1);
    if (o.classWeights !== null) {
      if (o.classWeights.length !== k) throw new Error(`${name}: classWeights has ${o.classWeights.length} entries for ${k} scored classes`);
      terms = terms.mul(torch.tensor(o.classWeights, { dtype: dice.dtype, device: dice.device }));
    }
    return terms.mean();
  });
}

/** Soft Dice loss; see the presets above. */
export function softDiceLoss(prediction: Tensor, target: Tensor, options: SoftDiceOptions & { preset?: DicePreset } = {}, mask: Tensor | null = null): Tensor {
  const { preset = 'nnunet', ...rest } = options;
  const o = resolveDiceOptions(preset, rest);
  return torch.tidy(() => diceLossFromCoefficients('dice', diceCoefficients('dice', prediction, target, mask, o), o));
}

export class SoftDiceLoss extends TensorLoss {
  readonly name = 'dice';
  readonly options: ResolvedDiceOptions;

  constructor(options: SoftDiceOptions & { preset?: DicePreset } = {}) {
    super();
    const { preset = 'nnunet', ...rest } = options;
    this.options = resolveDiceOptions(preset, rest);
  }

  protected compute(prediction: Tensor, target: Tensor, mask: Tensor | null): Tensor {
    return diceLossFromCoefficients(this.name, diceCoefficients(this.name, prediction, target, mask, this.options), this.options);
  }
}
