// Teachers: a second copy of the network whose predictions supervise the
// student. The EMA ("mean") teacher follows the student by an exponential
// moving average after every optimizer step; a static teacher is a frozen
// snapshot refreshed now and then (dual-teacher.ts). Both predict without
// gradients, in the forward mode their method prescribes.
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';

export type TeacherMode = 'train' | 'eval';

export interface EmaTeacherOptions {
  /** Target decay α: teacher ← α·teacher + (1 − α)·student (0.99 in SSL4MIS and BCP). */
  decay: number;
  /**
   * Use min(1 − 1/(step + 1), α) at 0-based step `step` (SSL4MIS's
   * update_ema_variables), so the first update copies the student; BCP uses
   * the constant α.
   */
  warmup: boolean;
  /**
   * Buffers (batch-norm statistics): 'none' leaves them to the teacher's own
   * train-mode forwards (SSL4MIS averages parameters only), 'ema' averages
   * them like parameters (BCP's update over the whole state_dict), 'copy'
   * takes the student's.
   */
  buffers: torch.optim.EmaBufferMode;
  /**
   * Forward mode of the teacher's predictions. Both SSL4MIS and BCP leave
   * their teacher in training mode (dropout on, batch statistics), so 'train'
   * reproduces them; 'eval' gives deterministic predictions.
   */
  mode: TeacherMode;
}

/** The device of a module's first parameter (teachers live next to their student). */
export function moduleDevice(m: torch.nn.Module): torch.Device {
  const p = m.parameters()[0];
  return p === undefined ? 'cpu' : p.device;
}

/** The main output of a network that may return deep-supervision outputs (highest resolution first). */
export function mainOutput(y: Tensor | Tensor[]): Tensor {
  return Array.isArray(y) ? y[0] : y;
}

/** Logits of `model` for `x` without gradients, in `mode`; the model's own mode is restored. */
export function predictWith(model: torch.nn.Module, x: Tensor, mode: TeacherMode): Tensor {
  const was = model.training;
  model.train(mode === 'train');
  try {
    return torch.noGrad(() => torch.tidy(() => mainOutput(model.forward(x) as Tensor | Tensor[]).detach()));
  } finally {
    model.train(was);
  }
}

/** Copies every parameter and buffer of `from` into `to` (same architecture). */
export function copyWeights(to: torch.nn.Module, from: torch.nn.Module): void {
  torch.tidy(() => {
    to.loadStateDict(from.stateDict(), { strict: true });
  });
}

/** A mean teacher built from the student (a fresh network with the student's weights). */
export class EmaTeacher {
  readonly model: torch.nn.Module;
  readonly options: EmaTeacherOptions;
  private readonly ema: torch.optim.ModelEma;

  constructor(student: torch.nn.Module, makeNetwork: () => torch.nn.Module, options: EmaTeacherOptions) {
    this.options = options;
    this.model = makeNetwork().to(moduleDevice(student));
    // The teacher starts as the student (BCP: both from the pre-trained
    // weights); its parameters stop requiring gradients.
    this.ema = new torch.optim.ModelEma(this.model, student, { decay: options.decay, warmup: false, buffers: options.buffers, copyInitial: true });
  }

  /** The decay the update after 0-based step `step` uses. */
  decayAt(step: number): number {
    return this.options.warmup ? Math.min(1 - 1 / (step + 1), this.options.decay) : this.options.decay;
  }

  /**
   * Moves the teacher towards the student after the optimizer step of
   * `step`; returns the decay used. The decay depends on the step only, so a
   * resumed run updates exactly as an uninterrupted one.
   */
  update(step: number): number {
    this.ema.decay = this.decayAt(step);
    return this.ema.update();
  }

  /** Teacher logits for `x` (no gradients). */
  predict(x: Tensor): Tensor {
    return predictWith(this.model, x, this.options.mode);
  }
}
