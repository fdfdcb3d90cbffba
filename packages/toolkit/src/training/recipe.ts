// A training recipe: what one optimisation step of a method computes, on the
// shared trainer. The trainer owns the loop (data, backward, every optimizer
// and schedule, validation, checkpoints, logs); a recipe says which data
// streams a step consumes, which models it keeps besides the trained one
// (teachers, discriminators), which parameters each optimizer trains, the
// loss (or one loss per optimizer), and what happens after each step (EMA
// updates, teacher refreshes). A recipe never steps an optimizer itself:
// exact resume, gradient zeroing and checkpoints depend on the trainer
// owning them. Supervised training, mean teacher and BCP are recipes.
import type * as torch from '@labelwise/torch';

/**
 * Typed data streams a phase reads. 'labelled' and 'unlabelled' come from the
 * label budget; 'points' and 'scribbles' are sparse annotations (weak
 * supervision); 'site:<name>' is every case of one centre (domain adaptation,
 * federation). A stream no phase reads is never loaded.
 */
export type StreamName = 'labelled' | 'unlabelled' | 'points' | 'scribbles' | `site:${string}`;

/** Batch field prefix of a stream: labelled '' (image, label), unlabelled 'u' (uimage), others '<name>_'. */
export function streamPrefix(s: StreamName): string {
  if (s === 'labelled') return '';
  if (s === 'unlabelled') return 'u';
  return `${s.replace(/[^A-Za-z0-9]+/g, '_')}_`;
}

/** One optimizer of a recipe: the parameters it trains; its hyperparameters default to the experiment's. */
export interface OptimizerSpec {
  params: torch.nn.Parameter[];
  /** Overrides of the experiment's optimizer config (e.g. { name: 'adam', lr: 1e-4 } for a discriminator). */
  optimizer?: Record<string, unknown>;
  /** Overrides of the experiment's schedule config. */
  schedule?: Record<string, unknown>;
}

export interface StepContext {
  /** 0-based index of the step being computed. */
  step: number;
  totalSteps: number;
  /** Learning rate of the first parameter group for this step. */
  lr: number;
}

export type Batch = Record<string, torch.Tensor>;

export interface StepResult {
  /** The loss whose gradient every optimizer steps on (one backward). */
  loss?: torch.Tensor;
  /**
   * Or one loss per optimizer (by name): each optimizer's parameters get the
   * gradient of their own loss only (e.g. a segmenter's adversarial loss
   * does not reach the discriminator's weights).
   */
  losses?: Record<string, torch.Tensor>;
  /** Extra scalars to log (tensors are read only on logging steps). */
  logs?: Record<string, number | torch.Tensor>;
}

export interface Recipe {
  readonly name: string;
  /** Batch fields a step reads, e.g. ['image', 'label'] or ['image', 'label', 'uimage']. */
  readonly inputs: readonly string[];
  /** Streams a step reads (default: labelled, plus unlabelled when `inputs` has 'uimage'). */
  readonly streams?: readonly StreamName[];
  /** Models besides the trained network that checkpoints must hold (teachers, discriminators...). */
  modules(): Record<string, torch.nn.Module>;
  /**
   * Named optimizers and the parameters each trains (default: one, 'model',
   * over the trained network). The trainer zeroes, clips, steps, schedules
   * and checkpoints every one of them.
   */
  optimizers?(): Record<string, OptimizerSpec>;
  /**
   * The loss of one step. Called inside the trainer's tidy scope with
   * gradients enabled; the trainer runs backward and the optimizer step.
   */
  step(batch: Batch, ctx: StepContext): StepResult;
  /** After the optimizer step (outside the loss scope): EMA updates, snapshots. */
  afterStep?(ctx: StepContext): void;
  /** JSON-able recipe state for checkpoints (e.g. when a static teacher was snapshotted). */
  state?(): Record<string, unknown>;
  loadState?(state: Record<string, unknown>): void;
}

/** Plain supervised training: loss(model(image), label). */
export function supervisedRecipe(model: torch.nn.Module, loss: (output: torch.Tensor | torch.Tensor[], target: torch.Tensor) => torch.Tensor): Recipe {
  return {
    name: 'supervised',
    inputs: ['image', 'label'],
    modules: () => ({}),
    step(batch) {
      // Deep-supervised networks return one output per scale; the loss decides.
      return { loss: loss(model.forward(batch.image) as torch.Tensor | torch.Tensor[], batch.label) };
    },
  };
}
