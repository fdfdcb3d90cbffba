// Pseudo-labels from a teacher's class probabilities, post-processed as BCP
// does: ACDC takes the argmax and keeps the largest connected component of
// each foreground class per slice (get_ACDC_masks with nms=1); LA and
// pancreas take foreground probability ≥ 0.5 and keep the largest component
// (get_cut_mask). Works on [B, C, Y, X] and [B, C, Z, Y, X].
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import { type Connectivity, keepLargestComponentTensor } from '../../inference/postprocess.js';

export interface PseudoLabelOptions {
  /**
   * null: argmax over classes (BCP ACDC). A number t: foreground where
   * p(class 1) ≥ t, for 2-class outputs (BCP LA/pancreas: 0.5).
   */
  threshold?: number | null;
  /** Keep only the largest connected component of each foreground class per sample (BCP: nms=1). */
  largestComponent?: boolean;
  /** Neighbourhood of the components: 'full' (8/26, skimage's default that BCP uses) or 'face'. */
  connectivity?: Connectivity;
}

/** Hard labels [B, ...spatial] int64 from probabilities [B, C, ...spatial]. */
export function pseudoLabels(probs: Tensor, options: PseudoLabelOptions = {}): Tensor {
  const c = probs.shape[1];
  if (probs.ndim < 3) throw new Error(`pseudoLabels: probabilities must be [B, C, ...spatial], got [${probs.shape.join(', ')}]`);
  const threshold = options.threshold ?? null;
  if (threshold !== null && c !== 2) throw new Error(`pseudoLabels: a foreground threshold needs 2-class probabilities, got ${c} classes (use argmax: threshold null)`);
  const hard = torch.tidy(() => (threshold === null ? probs.argmax(1) : probs.select(1, 1).ge(threshold)).to('uint8'));
  if (!(options.largestComponent ?? true) || c < 2) {
    const out = hard.long();
    hard.dispose();
    return out;
  }
  // Component labelling runs on the CPU over typed arrays.
  const cpu = hard.device === 'cpu' ? hard : hard.cpu();
  const kept = keepLargestComponentTensor(cpu, { batchDims: 1, classes: Array.from({ length: c - 1 }, (_, i) => i + 1), connectivity: options.connectivity ?? 'full' });
  const out = torch.tidy(() => kept.to(probs.device).long());
  for (const t of new Set([hard, cpu, kept])) t.dispose();
  return out;
}

/** The mean of the teacher's largest class probability over the voxels it labels foreground (all voxels when none). */
export function foregroundConfidence(probs: Tensor): number {
  return torch.tidy(() => {
    const { values, indices } = probs.max(1);
    const fg = indices.gt(0);
    const n = fg.sum().item();
    return n > 0 ? values.mul(fg.to(values.dtype)).sum().item() / n : values.mean().item();
  });
}
