// Fully supervised training: the experiment's loss on labelled batches.
import { registerMethod } from './registry.js';
import { supervisedRecipe } from '../training/recipe.js';

registerMethod({
  name: 'supervised',
  summary: 'the configured loss on labelled data only',
  streams: ['labelled'],
  build(ctx) {
    const unknown = Object.keys(ctx.params);
    if (unknown.length) throw new Error(`method.${unknown[0]}: the supervised method takes no parameters`);
    return supervisedRecipe(ctx.model, (out, target) => ctx.loss.forward(out, target.dtype === 'int64' ? target : target.long()));
  },
});
