// Extension (a) of Hsu & Hua: dynamic mask adjustment for bidirectional
// copy-paste. Their code is not public; the README says only that the mask is
// adjusted dynamically so the model learns to segment images "even when parts
// of the image are occluded". Design (docs/methods/semi.md):
//
//   BCP pastes one box of a fixed 2/3 of each side. Here the box's side
//   fractions are drawn per step from a range [lo, hi] that moves from
//   `start` to `end` as a progress value s ∈ [0, 1] grows:
//     lo = start₀ + s·(end₀ − start₀),  hi = start₁ + s·(end₁ − start₁).
//   With perAxis the fraction is drawn per axis, so the box's aspect ratio
//   (its shape) varies too. The default starts exactly at BCP (2/3 square)
//   and widens to sides in [1/2, 5/6]: occlusions of varied extent and
//   shape, introduced once self-training has settled.
//   s comes from
//     'schedule'   — training progress t/T of the phase;
//     'confidence' — the teacher's confidence on the unlabelled images
//                    (mean max-probability over its foreground voxels,
//                    smoothed over steps), mapped linearly from
//                    [confidenceLow, confidenceHigh] to [0, 1]: a
//                    self-paced curriculum that varies the mixes more only
//                    once the pseudo-labels are trustworthy.
//   'fixed' is BCP.
import type { CopyPasteBoxOptions } from '../../transforms/copy-paste.js';
import { list, num, object, oneOf, bool } from '../../config/schema.js';

export const dynamicMaskShape = {
  mode: oneOf(['fixed', 'schedule', 'confidence'] as const, { default: 'fixed', description: "'fixed': BCP's box; 'schedule' / 'confidence': the box size range follows training progress / teacher confidence" }),
  start: list(num({ min: 0.01, max: 1 }), { length: 2, default: [2 / 3, 2 / 3], description: 'box side fraction range [low, high] at progress 0' }),
  end: list(num({ min: 0.01, max: 1 }), { length: 2, default: [1 / 2, 5 / 6], description: 'box side fraction range [low, high] at progress 1' }),
  perAxis: bool({ default: true, description: 'draw the fraction per axis (boxes of varying aspect ratio) when the range is not a single value' }),
  confidenceLow: num({ min: 0, max: 1, default: 0.7, description: "'confidence': teacher confidence mapped to progress 0" }),
  confidenceHigh: num({ min: 0, max: 1, default: 0.95, description: "'confidence': teacher confidence mapped to progress 1" }),
  smoothing: num({ min: 0, max: 1, default: 0.9, description: "'confidence': momentum of the running confidence (0: this step's only)" }),
};

export const dynamicMaskParams = object(dynamicMaskShape);

export type DynamicMaskParams = ReturnType<typeof dynamicMaskParams.check>;

export function checkDynamicMask(p: DynamicMaskParams): void {
  for (const [k, r] of [['start', p.start], ['end', p.end]] as const) {
    if (r[0] > r[1]) throw new Error(`method.dynamicMask.${k}: the range [${r.join(', ')}] must be [low, high] with low ≤ high`);
  }
  if (p.mode === 'confidence' && !(p.confidenceLow < p.confidenceHigh)) {
    throw new Error(`method.dynamicMask: confidenceLow (${p.confidenceLow}) must be below confidenceHigh (${p.confidenceHigh})`);
  }
}

/**
 * Tracks the progress value and turns it into box options. Stateful only
 * through the running confidence, which the recipe saves in checkpoints.
 */
export class DynamicMask {
  readonly params: DynamicMaskParams;
  /** Running teacher confidence ('confidence' mode), null before the first step. */
  confidence: number | null = null;

  constructor(params: DynamicMaskParams, private readonly fixedFraction: number) {
    checkDynamicMask(params);
    this.params = params;
  }

  /** Whether the box depends on the teacher's confidence (the recipe then measures it). */
  get needsConfidence(): boolean {
    return this.params.mode === 'confidence';
  }

  /** Feeds this step's teacher confidence; returns the running value. */
  observe(confidence: number): number {
    const m = this.params.smoothing;
    this.confidence = this.confidence === null ? confidence : m * this.confidence + (1 - m) * confidence;
    return this.confidence;
  }

  /** Progress s ∈ [0, 1] at 0-based `step` of `totalSteps`. */
  progress(step: number, totalSteps: number): number {
    const p = this.params;
    if (p.mode === 'fixed') return 0;
    if (p.mode === 'schedule') return totalSteps <= 1 ? 1 : Math.min(Math.max(step / (totalSteps - 1), 0), 1);
    const c = this.confidence ?? 0;
    return Math.min(Math.max((c - p.confidenceLow) / (p.confidenceHigh - p.confidenceLow), 0), 1);
  }

  /** The box options at progress `s` (BCP's fixed fraction in 'fixed' mode). */
  boxOptions(s: number): Pick<CopyPasteBoxOptions, 'fraction' | 'perAxis'> {
    const p = this.params;
    if (p.mode === 'fixed') return { fraction: this.fixedFraction };
    const lo = p.start[0] + s * (p.end[0] - p.start[0]);
    const hi = p.start[1] + s * (p.end[1] - p.start[1]);
    return hi - lo < 1e-12 ? { fraction: lo } : { fraction: [lo, hi], perAxis: p.perAxis };
  }

  state(): Record<string, unknown> {
    return this.confidence === null ? {} : { maskConfidence: this.confidence };
  }

  loadState(s: Record<string, unknown>): void {
    this.confidence = typeof s.maskConfidence === 'number' ? s.maskConfidence : null;
  }
}
