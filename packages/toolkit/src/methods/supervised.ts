// Fully supervised training: the experiment's loss on labelled batches.
import { object } from '../config/schema.js';
import { registerMethod } from './registry.js';
import { supervisedRecipe } from '../training/recipe.js';

registerMethod({
  name: 'supervised',
  summary: 'the configured loss on labelled data only',
  streams: ['labelled'],
  params: object({}),
  build(ctx) {
    const unknown = Object.keys(ctx.params);
    if (unknown.length) throw new Error(`method.${unknown[0]}: the supervised method takes no parameters`);
    // A deep-supervision loss gets one output per decoder scale (nnU-Net).
    const net = ctx.model as unknown as { forwardDeepSupervision?: (x: unknown) => unknown };
    const deep = ctx.loss.name === 'deep_supervision' && typeof net.forwardDeepSupervision === 'function';
    const recipe = supervisedRecipe(ctx.model, (out, target) => ctx.loss.forward(out, target.dtype === 'int64' ? target : target.long()));
    if (!deep) return recipe;
    return {
      ...recipe,
      step(batch) {
        const outs = net.forwardDeepSupervision!(batch.image) as import('@labelwise/torch').Tensor[];
        return { loss: ctx.loss.forward(outs, batch.label.dtype === 'int64' ? batch.label : batch.label.long()) };
      },
    };
  },
});
