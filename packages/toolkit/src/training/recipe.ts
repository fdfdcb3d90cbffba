// A training recipe: what one optimisation step of a method computes, on the
// shared trainer. The trainer owns the loop (data, backward, optimizer,
// schedule, validation, checkpoints, logs); a recipe says which data streams a
// step consumes, which models it keeps besides the trained one (teachers,
// discriminators), the loss, and what happens after each step (EMA updates,
// teacher refreshes). Supervised training, mean teacher and BCP are recipes.
import type * as torch from '@labelwise/torch';

export interface StepContext {
  /** 0-based index of the step being computed. */
  step: number;
  totalSteps: number;
  /** Learning rate of the first parameter group for this step. */
  lr: number;
}

export type Batch = Record<string, torch.Tensor>;

export interface StepResult {
  loss: torch.Tensor;
  /** Extra scalars to log (tensors are read only on logging steps). */
  logs?: Record<string, number | torch.Tensor>;
}

export interface Recipe {
  readonly name: string;
  /** Batch fields a step reads, e.g. ['image', 'label'] or ['image', 'label', 'uimage']. */
  readonly inputs: readonly string[];
  /** Models besides the trained network that checkpoints must hold (teachers...). */
  modules(): Record<string, torch.nn.Module>;
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
