// Extension (c) of Hsu & Hua: dual teachers. Their README: "a dynamic
// teacher reflecting the latest learning state and a static teacher
// providing stable supervision through periodic updates ... to enhance
// pseudo-label accuracy". Design (docs/methods/semi.md):
//
//   dynamic teacher  BCP's EMA teacher (α = 0.99, every step);
//   static teacher   a frozen copy, initialised like the dynamic one (the
//                    pre-trained model) and replaced every `period`
//                    iterations by a snapshot of the dynamic teacher (or of
//                    the student, source: 'student');
//   combination      of their class probabilities p_d, p_s, before BCP's
//                    argmax/threshold and largest-component step:
//     'mean'        p = (p_d + p_s)/2, an ensemble;
//     'confidence'  p = (c_d·p_d + c_s·p_s)/(c_d + c_s) with c = the
//                   teacher's max-probability at that voxel, so the surer
//                   teacher dominates voxel by voxel;
//     'agreement'   p = (p_d + p_s)/2, and voxels where the two argmaxes
//                   differ get weight `disagreementWeight` (0: left out) in
//                   the pseudo-labelled region's loss.
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import { num, object, oneOf } from '../../config/schema.js';
import { type EmaTeacher, copyWeights, moduleDevice, predictWith } from './teacher.js';

export const dualTeacherShape = {
  period: num({ int: true, min: 0, default: 0, description: 'iterations between static-teacher snapshots (0: single teacher, plain BCP)' }),
  source: oneOf(['teacher', 'student'] as const, { default: 'teacher', description: 'what the static teacher snapshots: the EMA teacher or the student' }),
  combine: oneOf(['agreement', 'confidence', 'mean'] as const, { default: 'agreement', description: 'how the two teachers’ probabilities become one pseudo-label' }),
  disagreementWeight: num({ min: 0, max: 1, default: 0, description: "'agreement': loss weight of voxels where the teachers disagree" }),
};

export const dualTeacherParams = object(dualTeacherShape);

export type DualTeacherParams = ReturnType<typeof dualTeacherParams.check>;

export interface CombinedPrediction {
  /** Fused class probabilities [B, C, ...spatial]. */
  probs: Tensor;
  /** Voxel weights [B, ...spatial] for the pseudo-labelled region ('agreement'), else null. */
  weight: Tensor | null;
  /** Fraction of voxels where the two teachers' argmaxes agree. */
  agreement: number;
}

/** Fuses the dynamic (`pd`) and static (`ps`) teachers' probabilities. */
export function combineTeachers(pd: Tensor, ps: Tensor, mode: DualTeacherParams['combine'], disagreementWeight = 0): CombinedPrediction {
  if (pd.shape.length !== ps.shape.length || pd.shape.some((n, i) => n !== ps.shape[i])) {
    throw new Error(`combineTeachers: probabilities [${pd.shape.join(', ')}] and [${ps.shape.join(', ')}] differ in shape`);
  }
  return torch.tidy(() => {
    const md = pd.max(1);
    const ms = ps.max(1);
    const agree = md.indices.eq(ms.indices);
    const agreement = agree.float().mean().item();
    if (mode === 'mean') return { probs: pd.add(ps).div(2), weight: null, agreement };
    if (mode === 'confidence') {
      const cd = md.values.unsqueeze(1);
      const cs = ms.values.unsqueeze(1);
      return { probs: pd.mul(cd).add(ps.mul(cs)).div(cd.add(cs)), weight: null, agreement };
    }
    const weight = agree.to(pd.dtype).mul(1 - disagreementWeight).add(disagreementWeight);
    return { probs: pd.add(ps).div(2), weight, agreement };
  });
}

/** The static teacher: a frozen network refreshed by snapshots. */
export class StaticTeacher {
  readonly model: torch.nn.Module;

  constructor(
    private readonly params: DualTeacherParams,
    private readonly dynamic: EmaTeacher,
    private readonly student: torch.nn.Module,
    makeNetwork: () => torch.nn.Module,
  ) {
    if (params.period < 1) throw new Error('StaticTeacher: method.dualTeacher.period must be ≥ 1');
    this.model = makeNetwork().to(moduleDevice(student));
    this.model.requiresGrad_(false);
    copyWeights(this.model, dynamic.model);
  }

  /** Probabilities of the static teacher, in the dynamic teacher's forward mode. */
  predictProbs(x: Tensor): Tensor {
    return torch.tidy(() => torch.F.softmax(predictWith(this.model, x, this.dynamic.options.mode), 1));
  }

  /** Snapshots after the optimizer step of 0-based `step` (and the EMA update) when a period ends; returns whether it did. */
  maybeSnapshot(step: number): boolean {
    if ((step + 1) % this.params.period !== 0) return false;
    copyWeights(this.model, this.params.source === 'teacher' ? this.dynamic.model : this.student);
    return true;
  }
}
