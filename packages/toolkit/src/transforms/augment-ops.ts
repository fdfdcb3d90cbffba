// The two kinds of augmentation op a pipeline is made of. Each op splits
// into `sample` (draw this sample's parameters from its own random stream,
// as a JSON object that is recorded) and a deterministic part that only reads
// those parameters, so a recorded run replays exactly.
import type { Tensor } from '@labelwise/torch';
import type { JsonObject, OpContext, ParamReader, SpatialDims } from './augment-params.js';
import type { Rng } from '../random/rng.js';
import type { SpatialStep } from './spatial.js';

/** Per-sample context for spatial ops: a crop centre from the sampler, if any. */
export interface SpatialContext extends OpContext {
  /** Voxel position (array-axis order, input space) the loader asked to centre the patch on. */
  center?: number[];
}

export interface SpatialOpDef<C = unknown> {
  kind: 'spatial';
  name: string;
  summary: string;
  parse(r: ParamReader, dims: SpatialDims): C;
  sample(cfg: C, rng: Rng, ctx: SpatialContext): JsonObject;
  /** The steps for recorded params, at input shape ctx.shape. */
  steps(params: JsonObject, ctx: SpatialContext, cfg: C): SpatialStep[];
}

export interface IntensityOpDef<C = unknown> {
  kind: 'intensity';
  name: string;
  summary: string;
  parse(r: ParamReader, dims: SpatialDims): C;
  sample(cfg: C, rng: Rng, ctx: OpContext): JsonObject;
  /** Applies recorded params (one per batch element of x [B, C, ...spatial]); returns a new tensor. */
  apply(x: Tensor, params: readonly JsonObject[], cfg: C, ctx: OpContext): Tensor;
}

export type OpDef = SpatialOpDef | IntensityOpDef;
