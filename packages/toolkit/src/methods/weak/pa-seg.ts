// The weak-supervision methods in the registry:
//   weak    one phase of stage 1 (partial loss + gated CRF + variance), for
//           points or scribbles; the ablations switch regularisers off by weight;
//   pa_seg  PA-Seg's program: stage 1 for `stage1Iterations` steps (primary and
//           auxiliary networks side by side), then self and cross monitoring for
//           training.iterations steps starting from stage 1's best checkpoint.
import { type MethodSession, registerMethod } from '../registry.js';
import { readParams } from '../semi/params.js';
import { paSegParams, weakParams } from './params.js';
import { scmRecipe } from './scm.js';
import { weakRecipe } from './stage1.js';

registerMethod({
  name: 'weak',
  summary: 'weak supervision from points or scribbles: partial loss + ramped gated CRF and variance regularisers (PA-Seg stage 1)',
  streams: ['points', 'scribbles'],
  params: weakParams,
  build: weakRecipe,
});

registerMethod({
  name: 'pa_seg',
  summary: "PA-Seg (seven points): stage 1 on geodesic-expanded points with regularisers, then self and cross monitoring of two networks",
  streams: ['points', 'scribbles'],
  params: paSegParams,
  build: weakRecipe,
  async run(session: MethodSession) {
    const p = readParams(paSegParams, session.methodParams);
    if (!p.auxiliaryNetwork) throw new Error("method.auxiliaryNetwork: pa_seg trains a second network for self and cross monitoring; set it (PA-Seg BraTS: {name: unet3d} beside the primary attention_unet3d)");
    await session.train({ phase: 'stage1', steps: p.stage1Iterations, recipe: weakRecipe });
    await session.train({ phase: 'stage2', steps: session.exp.training.iterations, recipe: (ctx) => scmRecipe(ctx, { stage1Phase: 'stage1' }) });
  },
});
