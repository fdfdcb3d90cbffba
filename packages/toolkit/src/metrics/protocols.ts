// Evaluation protocols: Labelwise's default, and exact reproductions of how
// each reference project scores its results (../../../../docs/metrics.md has
// the table). A protocol fixes four things:
//   spacing  – which voxel spacing the distances use;
//   classes  – which binary masks are scored;
//   score    – the per-class values, including every empty-mask branch;
//   dropCase – whether a class outcome removes the whole case from the means.
import {
  type AssdFormula, type Branch, type Counts, type MetricName, type Metrics,
  countMetrics, labelwiseClassMetrics, overlapMetrics, ratio, surfaceMetrics,
} from './binary.js';
import type { SurfaceDistances } from './surface.js';

export const PROTOCOL_NAMES = ['labelwise', 'bcp', 'stdr', 'pa-seg', 'uda-clr', 'nnunet', 'robustmedseg'] as const;
export type ProtocolName = typeof PROTOCOL_NAMES[number];

/**
 * Where the spacing comes from: 'affine' = the reference image's voxel sizes
 * (or the caller's override); 'voxel' = 1 on every axis (distances in
 * voxels); 'fixed' = the protocol's constant; 'canonical-diagonal' = |diagonal|
 * of the affine after nibabel's as_closest_canonical (PA-Seg).
 */
export type SpacingRule = 'affine' | 'voxel' | 'fixed' | 'canonical-diagonal';

/**
 * 'given' = the classes the caller lists (labels or regions), each scored as
 * its own binary mask; 'foreground' = one class, any nonzero label;
 * 'given+foreground' = both; 'disc-cup' = the caller's classes, defaulting to
 * the optic disc (labels 1 and 2) and cup (label 2) regions.
 */
export type ClassRule = 'given' | 'foreground' | 'given+foreground' | 'disc-cup';

export interface ClassContext {
  counts: Counts;
  branch: Branch;
  /** Surface distances (computed on first call; only valid when both masks are non-empty). */
  distances: () => SurfaceDistances;
  toleranceMm: number;
  /** The distance value for one empty mask under the caller's policy (labelwise only). */
  emptyDistance: number;
  /** The caller's ASSD formula (labelwise only; script protocols fix their own). */
  assd: AssdFormula;
}

export interface ClassScore {
  metrics: Metrics;
  /** Set when the protocol removes the whole case from every mean; says why. */
  dropCase?: string;
  /** Set when the original code would have crashed or done something undefined here. */
  note?: string;
}

export interface Protocol {
  name: ProtocolName;
  title: string;
  /** The code the protocol reproduces (repository:path) or the rule it follows. */
  source: string;
  /** Metrics reported, in report order. */
  metrics: readonly MetricName[];
  spacing: SpacingRule;
  /** Spacing for 'fixed', fastest axis first, per dimensionality. */
  fixedSpacing?: { 2: readonly number[]; 3: readonly number[] };
  classes: ClassRule;
  /** Whether NSD tolerance comes from the caller (else fixed by the protocol). */
  toleranceMm?: number;
  /** Whether the caller's emptyDistance policy applies (only labelwise has one). */
  usesEmptyPolicy: boolean;
  /**
   * The ASSD formula the protocol reports, null when it reports no ASSD.
   * labelwise: the caller's choice, default 'pooled'; script protocols: the
   * formula of the MedPy version their code ran with (fixed).
   */
  assd: AssdFormula | null;
  /** Which MedPy the reproduced code used and where that is pinned (docs and summaries). */
  medpy: string;
  /** Dice pooled over all cases with +1 smoothing (UDA_CLR) instead of plain. */
  pooledSmooth: number;
  /** One-line description of the empty-mask handling for reports. */
  emptyRule: string;
  score(ctx: ClassContext): ClassScore;
}

/** MedPy's dc: 2|A∩B|/(|A|+|B|), 0 when both are empty (its ZeroDivisionError branch). */
function medpyDice(c: Counts): number {
  return ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn, 0);
}

/** MedPy's jc: |A∩B|/|A∪B| (raises when both are empty; callers never reach that). */
function medpyJaccard(c: Counts): number {
  return ratio(c.tp, c.tp + c.fp + c.fn, NaN);
}

const labelwise: Protocol = {
  name: 'labelwise',
  title: 'Labelwise default',
  source: 'this project: MedPy surface definitions in mm, pooled ASSD, one explicit empty-mask policy',
  metrics: ['Dice', 'IoU', 'HD', 'HD95', 'ASSD', 'ASD', 'NSD', 'Precision', 'Recall', 'Specificity', 'VolumeSimilarity', 'TP', 'FP', 'FN', 'TN', 'n_pred', 'n_ref'],
  spacing: 'affine',
  classes: 'given',
  usesEmptyPolicy: true,
  assd: 'pooled',
  medpy: 'none (own implementation; ASSD pooled as MedPy >= 0.5.2 and MONAI)',
  pooledSmooth: 0,
  emptyRule: 'both empty: overlap scores 1, distances 0; one empty: overlap scores 0, distances = emptyDistance (default: image diagonal in mm); nothing is dropped',
  score(ctx) {
    return { metrics: labelwiseClassMetrics(ctx.counts, ctx.distances, { toleranceMm: ctx.toleranceMm, emptyDistance: ctx.emptyDistance, assd: ctx.assd }) };
  },
};

// BCP test_ACDC.py / test_3d_patch.py (DeepMed-Lab-ECNU/BCP): per class,
// `if np.sum(prediction == c) == 0: metric = 0, 0, 0, 0`, else MedPy dc, jc,
// hd95, asd without voxelspacing (voxel units). A reference without the class
// but a prediction with it makes MedPy raise (the script would stop); we
// report NaN distances there and count the branch.
const bcp: Protocol = {
  name: 'bcp',
  title: 'BCP (CVPR 2023) test_ACDC.py / test_3d_patch.py',
  source: 'DeepMed-Lab-ECNU/BCP code/test_ACDC.py: calculate_metric_percase + "prediction empty → 0,0,0,0"',
  metrics: ['Dice', 'IoU', 'HD95', 'ASD'],
  spacing: 'voxel',
  classes: 'given',
  usesEmptyPolicy: false,
  assd: null,
  medpy: 'not pinned (README: Python 3.6.13, code of 2023, before MedPy 0.5 of April 2024); uses only asd, which MedPy PR #110 did not change',
  pooledSmooth: 0,
  emptyRule: 'prediction empty (with or without reference): Dice, IoU, HD95, ASD all 0; reference empty only: Dice 0, IoU 0, HD95/ASD NaN (BCP would raise)',
  score(ctx) {
    const c = ctx.counts;
    if (ctx.branch === 'pred_empty' || ctx.branch === 'both_empty') return { metrics: { Dice: 0, IoU: 0, HD95: 0, ASD: 0 } };
    if (ctx.branch === 'gt_empty') {
      return { metrics: { Dice: medpyDice(c), IoU: medpyJaccard(c), HD95: NaN, ASD: NaN }, note: 'MedPy raises RuntimeError for an empty reference; the original script stops here' };
    }
    const s = surfaceMetrics(ctx.distances(), 0);
    return { metrics: { Dice: medpyDice(c), IoU: medpyJaccard(c), HD95: s.HD95, ASD: s.ASD } };
  },
};

// Active-GTV-Seg / STDR Code_OA/test_single_center.py with
// distance_metrics_fast.py: binarised masks, spacing hard-coded to
// (z, y, x) = (3, 0.5, 0.5) mm, Dice, HD95 (pooled), ASD pred → GT,
// NSD at 2 mm. Empty cases are skipped (test_generate.py); MedPy would raise.
const stdr: Protocol = {
  name: 'stdr',
  title: 'Active-GTV-Seg / STDR (TMI 2024) test_single_center.py',
  source: 'whq-xxh/Active-GTV-Seg Code_OA/test_single_center.py + distance_metrics_fast.py',
  metrics: ['Dice', 'HD95', 'ASD', 'NSD'],
  spacing: 'fixed',
  // fastest axis first: x, y (0.5 mm) then z (3 mm), i.e. numpy (z, y, x) = (3, 0.5, 0.5)
  fixedSpacing: { 2: [0.5, 0.5], 3: [0.5, 0.5, 3] },
  classes: 'foreground',
  toleranceMm: 2,
  usesEmptyPolicy: false,
  assd: null,
  medpy: 'dc only (distances from its own distance_metrics_fast.py); no ASSD',
  pooledSmooth: 0,
  emptyRule: 'prediction or reference empty: case skipped (removed from every mean, counted)',
  score(ctx) {
    if (ctx.branch !== 'both_present') return { metrics: {}, dropCase: `${ctx.branch.replace('_', ' ')} (STDR skips the case)` };
    const s = surfaceMetrics(ctx.distances(), 2);
    return { metrics: { Dice: medpyDice(ctx.counts), HD95: s.HD95, ASD: s.ASD, NSD: s.NSD } };
  },
};

// PA-Seg utilities/scores.py (HiLab-git/PA-Seg): MedPy dc, jc, hd95, assd,
// precision, recall on the nonzero masks of as_closest_canonical volumes,
// voxel_spacing = |diag(canonical affine)|. A case whose hd95/assd raises
// (an empty mask) is removed from ALL metrics, Dice included (biases means up).
// Its requirements.txt pins medpy==0.4.0, whose assd is the mean of the two
// directed means: reproduced here, unlike the default's pooled ASSD.
const paSeg: Protocol = {
  name: 'pa-seg',
  title: 'PA-Seg (TMI 2023) utilities/scores.py',
  source: 'HiLab-git/PA-Seg utilities/scores.py',
  metrics: ['Dice', 'IoU', 'HD95', 'ASSD', 'Precision', 'Recall'],
  spacing: 'canonical-diagonal',
  classes: 'foreground',
  usesEmptyPolicy: false,
  assd: 'medpy-0.4-mean-of-means',
  medpy: 'medpy==0.4.0 (HiLab-git/PA-Seg requirements.txt)',
  pooledSmooth: 0,
  emptyRule: 'prediction or reference empty: case removed from every metric, Dice included (as the original; biases means upward)',
  score(ctx) {
    if (ctx.branch !== 'both_present') return { metrics: {}, dropCase: `${ctx.branch.replace('_', ' ')} (hd95 raises; PA-Seg drops the case from all metrics)` };
    const c = ctx.counts;
    const s = surfaceMetrics(ctx.distances(), 0, 'medpy-0.4-mean-of-means');
    return {
      metrics: {
        Dice: medpyDice(c), IoU: medpyJaccard(c), HD95: s.HD95, ASSD: s.ASSD,
        Precision: ratio(c.tp, c.tp + c.fp, 0), Recall: ratio(c.tp, c.tp + c.fn, 0),
      },
    };
  },
};

// UDA_CLR utils/metrics.py dice_coeff_2label: hard Dice with +1 smoothing,
// (2|A∩B| + 1) / (|A| + |B| + 1), for the optic disc and cup regions of 2D
// fundus images. The original pools pixels over each batch of 8 crops; per
// image here, and pooled over all images in the summary. IoU and pixel
// accuracy are logged alongside. No boundary metric.
const udaClr: Protocol = {
  name: 'uda-clr',
  title: 'UDA_CLR (MICCAI 2022) dice_coeff_2label',
  source: 'fengweie/UDA_CLR utils/metrics.py: dice_coeff_2label',
  metrics: ['Dice', 'IoU', 'Accuracy'],
  spacing: 'voxel',
  classes: 'disc-cup',
  usesEmptyPolicy: false,
  assd: null,
  medpy: 'not used',
  pooledSmooth: 1,
  emptyRule: 'no special case: +1 smoothing gives Dice 1 when both are empty and ~0 when one is',
  score(ctx) {
    const c = ctx.counts;
    return {
      metrics: {
        Dice: (2 * c.tp + 1) / (2 * c.tp + c.fp + c.fn + 1),
        IoU: ratio(c.tp, c.tp + c.fp + c.fn, 1),
        Accuracy: ratio(c.tp + c.tn, c.tp + c.fp + c.fn + c.tn, NaN),
      },
    };
  },
};

// nnU-Net v2 evaluation/evaluate_predictions.py compute_metrics: Dice and IoU
// are NaN when reference and prediction are both empty (then ignored by the
// nanmean), counts always; no distance metrics.
const nnunet: Protocol = {
  name: 'nnunet',
  title: 'nnU-Net v2 evaluate_predictions.py',
  source: 'MIC-DKFZ/nnUNet nnunetv2/evaluation/evaluate_predictions.py: compute_metrics',
  metrics: ['Dice', 'IoU', 'FP', 'TP', 'FN', 'TN', 'n_pred', 'n_ref'],
  spacing: 'affine',
  classes: 'given',
  usesEmptyPolicy: false,
  assd: null,
  medpy: 'not used',
  pooledSmooth: 0,
  emptyRule: 'both empty: Dice and IoU NaN (left out of the class mean by nanmean); one empty: Dice 0, IoU 0',
  score(ctx) {
    const c = ctx.counts;
    const o = overlapMetrics(c, NaN);
    return { metrics: { Dice: o.Dice, IoU: o.IoU, ...countMetrics(c) } };
  },
};

// RobustMedSeg / MultiVesSeg phase2/training/coach.py validate(): MedPy dc and
// hd per label and for the foreground, in voxels; DC() returns 0 and HD()
// returns inf when MedPy raises (an empty mask); means over patients keep inf.
const robustmedseg: Protocol = {
  name: 'robustmedseg',
  title: 'RobustMedSeg / MultiVesSeg coach.py validate()',
  source: 'i-vesseg/MultiVesSeg phase2/training/coach.py: DC(), HD()',
  metrics: ['Dice', 'HD'],
  spacing: 'voxel',
  classes: 'given+foreground',
  usesEmptyPolicy: false,
  assd: null,
  medpy: 'MedPy==0.4.0 (RobustMedSeg README); uses only dc and hd, which PR #110 did not change',
  pooledSmooth: 0,
  emptyRule: 'Dice 0 when both empty (MedPy); HD = Infinity when either mask is empty, kept in the mean (mean becomes Infinity, written as null)',
  score(ctx) {
    const c = ctx.counts;
    if (ctx.branch !== 'both_present') return { metrics: { Dice: medpyDice(c), HD: Infinity } };
    return { metrics: { Dice: medpyDice(c), HD: surfaceMetrics(ctx.distances(), 0).HD } };
  },
};

export const PROTOCOLS: Readonly<Record<ProtocolName, Protocol>> = {
  labelwise, bcp, stdr, 'pa-seg': paSeg, 'uda-clr': udaClr, nnunet, robustmedseg,
};

export function getProtocol(name: string): Protocol {
  const p = (PROTOCOLS as Record<string, Protocol | undefined>)[name];
  if (!p) throw new Error(`unknown evaluation protocol '${name}' (expected one of: ${PROTOCOL_NAMES.join(', ')})`);
  return p;
}

