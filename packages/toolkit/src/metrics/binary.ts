// Per-class scores of a binary prediction against a binary reference: the
// overlap scores from the four confusion counts, the surface scores from the
// two directed surface-distance sets (MedPy's surfaces; ASSD pooled, see
// AssdFormula).
import { type SurfaceDistances, surfaceDistances } from './surface.js';
import type { Dims } from './edt.js';
import { accurateSum, max, mean, percentileLinear } from './stats.js';

export const METRIC_NAMES = [
  'Dice', 'IoU', 'HD', 'HD95', 'ASSD', 'ASD', 'NSD',
  'Precision', 'Recall', 'Specificity', 'VolumeSimilarity', 'Accuracy',
  'TP', 'FP', 'FN', 'TN', 'n_pred', 'n_ref',
] as const;
export type MetricName = typeof METRIC_NAMES[number];
export type Metrics = Partial<Record<MetricName, number>>;

/** Which masks are empty: the branch of the empty-mask policy a class falls in. */
export type Branch = 'both_present' | 'both_empty' | 'gt_empty' | 'pred_empty';
export const BRANCHES: readonly Branch[] = ['both_present', 'both_empty', 'gt_empty', 'pred_empty'];

export interface Counts { tp: number; fp: number; fn: number; tn: number }

export function branchOf(c: Counts): Branch {
  const nPred = c.tp + c.fp;
  const nRef = c.tp + c.fn;
  if (nPred > 0 && nRef > 0) return 'both_present';
  if (nPred === 0 && nRef === 0) return 'both_empty';
  return nRef === 0 ? 'gt_empty' : 'pred_empty';
}

/** num/den, or `ifZero` when den is 0 (the only place zero denominators are decided). */
export function ratio(num: number, den: number, ifZero: number): number {
  return den === 0 ? ifZero : num / den;
}

/** Raw confusion counts under the names nnU-Net's summary.json uses. */
export function countMetrics(c: Counts): Metrics {
  return { TP: c.tp, FP: c.fp, FN: c.fn, TN: c.tn, n_pred: c.tp + c.fp, n_ref: c.tp + c.fn };
}

/**
 * Overlap scores. `undefinedAs` fills ratios whose denominator is 0 (a branch
 * policy decides it: 1 when both masks are empty, 0 otherwise in Labelwise's).
 */
export function overlapMetrics(c: Counts, undefinedAs: number): Metrics {
  const { tp, fp, fn, tn } = c;
  return {
    Dice: ratio(2 * tp, 2 * tp + fp + fn, undefinedAs),
    IoU: ratio(tp, tp + fp + fn, undefinedAs),
    Precision: ratio(tp, tp + fp, undefinedAs),
    Recall: ratio(tp, tp + fn, undefinedAs),
    // Specificity is undefined only when the reference covers the whole image.
    Specificity: ratio(tn, tn + fp, NaN),
    VolumeSimilarity: 2 * tp + fp + fn === 0 ? undefinedAs : 1 - Math.abs(fn - fp) / (2 * tp + fp + fn),
    Accuracy: ratio(tp + tn, tp + fp + fn + tn, NaN),
  };
}

/**
 * How ASSD combines the two directed distance sets A→B and B→A.
 *
 * - 'pooled' (default): the mean of all distances of both directions,
 *   (Σ A→B + Σ B→A) / (|∂A| + |∂B|): the original challenge definition
 *   (Heimann et al. 2009), MONAI's compute_average_surface_distance(symmetric=True),
 *   and MedPy's assd since PR #110 (merged 2022-09-16, first released in
 *   MedPy 0.5, working for unequal border sizes from 0.5.2).
 * - 'medpy-0.4-mean-of-means': (mean A→B + mean B→A) / 2, MedPy <= 0.4's
 *   assd. It weights the two directions equally whatever their border sizes,
 *   so it differs from 'pooled' whenever |∂A| ≠ |∂B| and the directed means
 *   differ. Kept only to reproduce scripts that ran on old MedPy.
 */
export type AssdFormula = 'pooled' | 'medpy-0.4-mean-of-means';
export const ASSD_FORMULAS: readonly AssdFormula[] = ['pooled', 'medpy-0.4-mean-of-means'];

/** Pooled ASSD: every border voxel of both masks counts once. */
export function assdPooled(d: SurfaceDistances): number {
  const n = d.predToRef.length + d.refToPred.length;
  return n === 0 ? NaN : (accurateSum(d.predToRef) + accurateSum(d.refToPred)) / n;
}

/** MedPy <= 0.4 assd: the mean of the two directed means. */
export function assdMeanOfMeans(d: SurfaceDistances): number {
  return (mean(d.predToRef) + mean(d.refToPred)) / 2;
}

export function checkAssdFormula(f: unknown, what = 'assd'): AssdFormula {
  if (!ASSD_FORMULAS.includes(f as AssdFormula)) throw new Error(`${what} must be one of ${ASSD_FORMULAS.map((x) => `'${x}'`).join(', ')}, got ${JSON.stringify(f)}`);
  return f as AssdFormula;
}

export function assd(d: SurfaceDistances, formula: AssdFormula = 'pooled'): number {
  return checkAssdFormula(formula) === 'pooled' ? assdPooled(d) : assdMeanOfMeans(d);
}

/**
 * Surface scores from MedPy-style directed distance sets (both non-empty):
 * HD = max of both directed maxima; HD95 = numpy 95th percentile (linear) of
 * the pooled distances; ASSD per `assdFormula` (default pooled); ASD = mean
 * of prediction → reference (MedPy asd(result, reference)); NSD = fraction of
 * border voxels of both masks within `toleranceMm` of the other border
 * (count-based, as MONAI's compute_surface_dice without subvoxels).
 */
export function surfaceMetrics(d: SurfaceDistances, toleranceMm: number, assdFormula: AssdFormula = 'pooled'): Metrics {
  const a = d.predToRef;
  const b = d.refToPred;
  const pooled = new Float64Array(a.length + b.length);
  pooled.set(a, 0);
  pooled.set(b, a.length);
  let within = 0;
  for (let i = 0; i < pooled.length; i++) if (pooled[i] <= toleranceMm) within++;
  return {
    HD: Math.max(max(a), max(b)),
    HD95: percentileLinear(pooled, 95),
    ASSD: assd(d, assdFormula),
    ASD: mean(a),
    NSD: within / pooled.length,
  };
}

/** What an empty mask costs in the distance scores. */
export type EmptyDistance = 'diagonal' | 'nan' | number;

export interface BinaryMetricOptions {
  /** Voxel spacing, fastest axis first (default 1 on every axis). */
  spacing?: readonly number[];
  /** NSD tolerance in spacing units (mm); default 1. */
  toleranceMm?: number;
  /**
   * Distance scores (HD, HD95, ASSD, ASD) when exactly one mask is empty:
   * 'diagonal' (default) = the image diagonal in mm, the largest distance the
   * grid allows, so a missed or hallucinated structure never scores better
   * than any real prediction; 'nan' = undefined (then excluded from means and
   * counted); or a fixed number of mm.
   */
  emptyDistance?: EmptyDistance;
  /** ASSD formula (default 'pooled'; see AssdFormula). */
  assd?: AssdFormula;
}

export function imageDiagonal(dims: Dims, spacing: readonly number[]): number {
  let s = 0;
  for (let a = 0; a < dims.length; a++) s += (dims[a] * spacing[a]) ** 2;
  return Math.sqrt(s);
}

export function emptyDistanceValue(policy: EmptyDistance, diagonal: number): number {
  if (policy === 'diagonal') return diagonal;
  if (policy === 'nan') return NaN;
  if (!(policy >= 0) || !Number.isFinite(policy)) throw new Error(`emptyDistance must be 'diagonal', 'nan' or a non-negative number of mm, got ${String(policy)}`);
  return policy;
}

/**
 * Labelwise's empty-mask policy, the one rule every default evaluation uses:
 *
 * | branch        | Dice, IoU, NSD, Precision, Recall, VS | HD, HD95, ASSD, ASD        |
 * |---------------|----------------------------------------|----------------------------|
 * | both present  | computed                               | computed                   |
 * | both empty    | 1 (absence correctly predicted)        | 0                          |
 * | gt empty      | 0 (undefined ratios read 0, as MedPy)  | emptyDistance (diagonal)   |
 * | pred empty    | 0                                      | emptyDistance (diagonal)   |
 *
 * Specificity and Accuracy are always computed (NaN only for a degenerate
 * image with no negatives). Counts are always reported.
 */
export function labelwiseClassMetrics(c: Counts, distances: () => SurfaceDistances, opts: { toleranceMm: number; emptyDistance: number; assd?: AssdFormula }): Metrics {
  const branch = branchOf(c);
  if (branch === 'both_present') {
    return { ...overlapMetrics(c, 0), ...surfaceMetrics(distances(), opts.toleranceMm, opts.assd ?? 'pooled'), ...countMetrics(c) };
  }
  if (branch === 'both_empty') {
    return { ...overlapMetrics(c, 1), HD: 0, HD95: 0, ASSD: 0, ASD: 0, NSD: 1, ...countMetrics(c) };
  }
  const e = opts.emptyDistance;
  return { ...overlapMetrics(c, 0), HD: e, HD95: e, ASSD: e, ASD: e, NSD: 0, ...countMetrics(c) };
}

/** Counts of two binary masks (nonzero = set). */
export function binaryCounts(pred: ArrayLike<number>, ref: ArrayLike<number>): Counts {
  let tp = 0; let fp = 0; let fn = 0; let tn = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i] !== 0;
    const g = ref[i] !== 0;
    if (p) { if (g) tp++; else fp++; } else if (g) fn++; else tn++;
  }
  return { tp, fp, fn, tn };
}

/**
 * Every Labelwise metric for one binary prediction and reference on the same
 * grid (dims fastest axis first), under Labelwise's empty-mask policy.
 */
export function binaryMetrics(pred: ArrayLike<number>, ref: ArrayLike<number>, dims: Dims, options: BinaryMetricOptions = {}): Metrics & { branch: Branch } {
  if (pred.length !== ref.length) throw new Error(`binaryMetrics: prediction has ${pred.length} voxels, reference ${ref.length}`);
  const spacing = options.spacing ?? dims.map(() => 1);
  const counts = binaryCounts(pred, ref);
  const emptyDistance = emptyDistanceValue(options.emptyDistance ?? 'diagonal', imageDiagonal(dims, spacing));
  const metrics = labelwiseClassMetrics(counts, () => {
    const d = surfaceDistances(pred, ref, dims, spacing);
    if (!d) throw new Error('binaryMetrics: internal error, surfaces requested for an empty mask');
    return d;
  }, { toleranceMm: options.toleranceMm ?? 1, emptyDistance, assd: checkAssdFormula(options.assd ?? 'pooled', 'binaryMetrics: assd') });
  return { ...metrics, branch: branchOf(counts) };
}
