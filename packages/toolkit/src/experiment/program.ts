// The default program of a method without one: a single phase, 'train', of
// training.iterations steps, checkpointed in the run folder itself.
import type { MethodSession } from '../methods/registry.js';

export async function defaultProgram(session: MethodSession): Promise<void> {
  await session.train({ phase: 'train', steps: session.exp.training.iterations });
}
