// Augmentation pipelines from JSON-able configs.
//
//   const pipe = new AugmentPipeline(nnunetDefault3d({ patchSize: [128, 128, 128] }));
//   const { sample, record } = pipe.apply({ image, label }, { seed: Rng.from(42, 'epoch', 3, 'case', 17) });
//   pipe.replay({ image, label }, record);   // the same output, from the record alone
//
// Each op of each sample draws from its own keyed stream (sample b, op i), so
// results do not depend on batch composition order or on which ops ran
// before. Every drawn parameter is recorded (null where an op was skipped).
// Consecutive spatial ops form one group that is applied as ONE resampling
// (spatial.ts); intensity ops act on the image only.
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import type { IntensityOpDef, OpDef, SpatialContext, SpatialOpDef } from './augment-ops.js';
import { AugmentConfigError, type Json, type JsonObject, ParamReader, type SpatialDims } from './augment-params.js';
import { INTENSITY_OPS } from './intensity.js';
import { PHOTOMETRIC_OPS } from './photometric.js';
import { Rng, type RngKey } from '../random/rng.js';
import { type ImageInterpolation, type LabelInterpolation, type ResampleOptions, type SpatialStep, applySpatial, stepOutShape, transformPoints } from './spatial.js';
import { SPATIAL_OPS } from './spatial-ops.js';

/** One pipeline entry: an op name, the probability that it runs per sample, and its parameters. */
export interface TransformEntry {
  name: string;
  /** Probability per sample (default 1). */
  p?: number;
  params?: { [key: string]: Json };
}

export interface AugmentConfig {
  spatialDims: SpatialDims;
  /** How spatial groups interpolate and pad (see ResampleOptions). */
  resample?: ResampleOptions;
  transforms: TransformEntry[];
}

/** What a pipeline transforms. Unbatched: image [C, ...spatial]; batched: [B, C, ...spatial]. */
export interface AugmentSample {
  image: Tensor;
  /** [(B,) ...spatial] or [(B,) Cl, ...spatial]; integer labels stay integer. */
  label?: Tensor;
  /** Weight map, like label (linear interpolation, 0 outside). */
  weight?: Tensor;
  /** Point annotations, voxel coordinates in array-axis order: [N][d] (unbatched) or [B][N][d]. */
  points?: number[][] | number[][][];
  /** For crop mode 'given': the voxel to centre the patch on, [d] or [B][d]. */
  center?: number[] | number[][];
}

/** Recorded parameters of one config entry: per sample, its params or null when it did not run. */
export interface AppliedOp {
  index: number;
  name: string;
  params: (JsonObject | null)[];
}

export interface AugmentRecord {
  spatialDims: SpatialDims;
  /** Batch size, or null for an unbatched sample. */
  batch: number | null;
  ops: AppliedOp[];
}

export interface AugmentResult {
  sample: AugmentSample;
  record: AugmentRecord;
}

const REGISTRY = new Map<string, OpDef>([...SPATIAL_OPS, ...INTENSITY_OPS, ...PHOTOMETRIC_OPS].map((d) => [d.name, d]));

/** Names and one-line summaries of every op a config may use (plus 'oneOf'). */
export function augmentOps(): { name: string; kind: 'spatial' | 'intensity'; summary: string }[] {
  return [...REGISTRY.values()].map((d) => ({ name: d.name, kind: d.kind, summary: d.summary }));
}

type Node =
  | { kind: 'op'; where: string; name: string; p: number; def: OpDef; cfg: unknown; spatial: boolean }
  | { kind: 'oneOf'; where: string; name: 'oneOf'; p: number; weights: number[]; choices: Node[][]; spatial: boolean };

function parseEntry(e: unknown, where: string, dims: SpatialDims): Node {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new AugmentConfigError(where, `expected { name, p?, params? }, got ${JSON.stringify(e)}`);
  const entry = e as Record<string, unknown>;
  for (const k of Object.keys(entry)) if (!['name', 'p', 'params'].includes(k)) throw new AugmentConfigError(`${where}.${k}`, 'unknown field; an entry has name, p and params');
  const name = entry.name;
  const p = entry.p ?? 1;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new AugmentConfigError(`${where}.p`, `expected a probability in [0, 1], got ${JSON.stringify(p)}`);
  const params = (entry.params ?? {}) as Record<string, unknown>;
  const r = new ParamReader(params, `${where}.params`);
  if (name === 'oneOf') {
    const raw = r.raw('choices');
    if (!Array.isArray(raw) || raw.length === 0 || raw.some((c) => !Array.isArray(c))) r.fail('choices', 'a non-empty list of entry lists (each choice is a sequence of entries)', raw);
    const choices = (raw as unknown[][]).map((c, ci) => c.map((x, j) => parseEntry(x, `${where}.params.choices[${ci}][${j}]`, dims)));
    const wraw = r.raw('weights') ?? choices.map(() => 1 / choices.length);
    if (!Array.isArray(wraw) || wraw.length !== choices.length || wraw.some((w) => typeof w !== 'number' || !(w >= 0)) || (wraw as number[]).reduce((a, b) => a + b, 0) > 1 + 1e-9) {
      r.fail('weights', `${choices.length} probabilities ≥ 0 summing to at most 1 (the rest: no choice)`, wraw);
    }
    r.done();
    const flat = choices.flat();
    const spatial = flat.every((n) => n.spatial);
    if (!spatial && flat.some((n) => n.spatial)) throw new AugmentConfigError(`${where}.params.choices`, 'a oneOf mixes spatial and intensity ops; keep them in separate oneOf entries');
    return { kind: 'oneOf', where, name: 'oneOf', p, weights: wraw as number[], choices, spatial };
  }
  if (typeof name !== 'string' || !REGISTRY.has(name)) {
    throw new AugmentConfigError(`${where}.name`, `unknown op ${JSON.stringify(name)}; known: oneOf, ${[...REGISTRY.keys()].join(', ')}`);
  }
  const def = REGISTRY.get(name)!;
  const cfg = def.parse(r, dims);
  r.done();
  return { kind: 'op', where, name, p, def, cfg, spatial: def.kind === 'spatial' };
}

function parseResample(v: unknown): ResampleOptions {
  if (v === undefined) return {};
  const r = new ParamReader(v as Record<string, unknown>, 'resample');
  const out: ResampleOptions = {
    image: r.choice<ImageInterpolation>('image', 'linear', ['linear', 'nearest', 'cubic']),
    label: r.choice<LabelInterpolation>('label', 'nearest', ['nearest', 'linear']),
    imagePad: r.number('imagePad', 0),
    imageBorder: r.choice<'constant' | 'replicate'>('imageBorder', 'constant', ['constant', 'replicate']),
    labelPad: r.number('labelPad', 0),
    weightPad: r.number('weightPad', 0),
  };
  r.done();
  return out;
}

/** Normalised batch: everything batched, label/weight with a channel dim. */
interface Batch {
  image: Tensor;
  label?: Tensor;
  weight?: Tensor;
  points?: number[][][];
  centers?: (number[] | undefined)[];
}

type Source = { mode: 'sample'; rngs: Rng[] } | { mode: 'replay'; record: AugmentRecord };

/** An augmentation pipeline built from a JSON-able config. */
export class AugmentPipeline {
  readonly config: AugmentConfig;
  private readonly nodes: Node[];
  private readonly resample: ResampleOptions;

  constructor(config: AugmentConfig) {
    if (typeof config !== 'object' || config === null) throw new AugmentConfigError('config', 'expected { spatialDims, transforms, resample? }');
    for (const k of Object.keys(config)) if (!['spatialDims', 'transforms', 'resample'].includes(k)) throw new AugmentConfigError(`config.${k}`, 'unknown field; a config has spatialDims, transforms and resample');
    if (config.spatialDims !== 2 && config.spatialDims !== 3) throw new AugmentConfigError('config.spatialDims', `expected 2 or 3, got ${JSON.stringify(config.spatialDims)}`);
    if (!Array.isArray(config.transforms)) throw new AugmentConfigError('config.transforms', 'expected a list of { name, p?, params? }');
    this.config = JSON.parse(JSON.stringify(config)) as AugmentConfig;
    this.nodes = config.transforms.map((e, i) => parseEntry(e, `transforms[${i}]`, config.spatialDims));
    this.resample = parseResample(config.resample);
  }

  get spatialDims(): SpatialDims {
    return this.config.spatialDims;
  }

  /**
   * Augments a sample (or batch) with fresh parameters from `seed`: a key
   * (Rng.from(key)) or an Rng stream. Batch element b uses stream fork(b).
   * Returns new tensors (the caller owns them) and the record.
   */
  apply(sample: AugmentSample, options: { seed: RngKey | Rng }): AugmentResult {
    const root = options.seed instanceof Rng ? options.seed : Rng.from(options.seed);
    const { batch, B, batched } = this.normalise(sample);
    return this.run(sample, batch, batched, { mode: 'sample', rngs: Array.from({ length: B }, (_, b) => root.fork(b)) });
  }

  /** Applies exactly the recorded parameters (no randomness). */
  replay(sample: AugmentSample, record: AugmentRecord): AugmentResult {
    const { batch, B, batched } = this.normalise(sample);
    if (record.spatialDims !== this.spatialDims || (record.batch ?? 1) !== B || record.ops.length !== this.nodes.length) {
      throw new AugmentConfigError('record', `does not match this pipeline and sample (spatialDims ${this.spatialDims}, batch ${B}, ${this.nodes.length} ops; record has ${record.spatialDims}, ${record.batch}, ${record.ops.length})`);
    }
    record.ops.forEach((o, i) => {
      if (o.name !== this.nodes[i].name || o.params.length !== B) throw new AugmentConfigError(`record.ops[${i}]`, `expected op '${this.nodes[i].name}' with ${B} sample entries, got '${o.name}' with ${o.params.length}`);
    });
    return this.run(sample, batch, batched, { mode: 'replay', record });
  }

  private normalise(s: AugmentSample): { batch: Batch; B: number; batched: boolean } {
    const d = this.spatialDims;
    if (!s || !s.image) throw new AugmentConfigError('sample.image', 'is required');
    const img = s.image;
    const batched = img.ndim === d + 2;
    if (!batched && img.ndim !== d + 1) throw new AugmentConfigError('sample.image', `expected [C, ...${d} spatial] or [B, C, ...${d} spatial], got [${img.shape.join(', ')}]`);
    const image = batched ? img : img.unsqueeze(0);
    const B = image.shape[0];
    const spatial = image.shape.slice(2);
    const aux = (t: Tensor | undefined, key: string): Tensor | undefined => {
      if (!t) return undefined;
      const withC = t.ndim === image.ndim - (batched ? 0 : 1);
      const noC = t.ndim === image.ndim - (batched ? 1 : 2);
      const sp = t.shape.slice(t.ndim - d);
      if ((!withC && !noC) || sp.some((n, a) => n !== spatial[a]) || (batched && t.shape[0] !== B)) {
        throw new AugmentConfigError(`sample.${key}`, `expected [${batched ? `${B}, ` : ''}(C,) ${spatial.join(', ')}] to match the image, got [${t.shape.join(', ')}]`);
      }
      let u = batched ? t : t.unsqueeze(0);
      if (noC) u = u.unsqueeze(1);
      return u;
    };
    const pointsOf = (): number[][][] | undefined => {
      if (!s.points) return undefined;
      const per = (batched ? s.points : [s.points]) as number[][][];
      if (per.length !== B || per.some((l) => !Array.isArray(l) || l.some((p) => !Array.isArray(p) || p.length !== d || p.some((v) => typeof v !== 'number' || !Number.isFinite(v))))) {
        throw new AugmentConfigError('sample.points', `expected ${batched ? `${B} lists of ` : ''}points of ${d} finite voxel coordinates`);
      }
      return per.map((l) => l.map((p) => [...p]));
    };
    const centersOf = (): (number[] | undefined)[] | undefined => {
      if (!s.center) return undefined;
      const per = (batched ? s.center : [s.center]) as number[][];
      if (per.length !== B || per.some((c) => !Array.isArray(c) || c.length !== d || c.some((v) => typeof v !== 'number' || !Number.isFinite(v)))) {
        throw new AugmentConfigError('sample.center', `expected ${batched ? `${B} centres of ` : ''}${d} voxel coordinates`);
      }
      return per.map((c) => [...c]);
    };
    return { batch: { image, label: aux(s.label, 'label'), weight: aux(s.weight, 'weight'), points: pointsOf(), centers: centersOf() }, B, batched };
  }

  private run(original: AugmentSample, start: Batch, batched: boolean, source: Source): AugmentResult {
    const d = this.spatialDims;
    const B = start.image.shape[0];
    const C = start.image.shape[1];
    const ops: AppliedOp[] = [];
    const out = torch.tidy(() => {
      let cur: Batch = { ...start };
      let chains: SpatialStep[][] = Array.from({ length: B }, () => []);
      const chainShape = (b: number) => (chains[b].length ? stepOutShape(chains[b][chains[b].length - 1]) : cur.image.shape.slice(2));
      const flush = () => {
        if (chains.every((c) => c.length === 0)) return;
        const res = applySpatial({ image: cur.image, label: cur.label, weight: cur.weight, points: cur.points }, chains, this.resample);
        const centers = cur.centers?.map((c, b) => (c ? transformPoints([c], chains[b])[0] : undefined));
        cur = { image: res.image, label: res.label, weight: res.weight, points: res.points, centers };
        chains = Array.from({ length: B }, () => []);
      };
      const spatialCtx = (b: number): SpatialContext => {
        const chain = [...chains[b]];
        const c = cur.centers?.[b];
        // The centre is mapped through the pending steps only when an op asks for it.
        return {
          spatialDims: d,
          shape: chainShape(b),
          channels: C,
          get center() {
            return c && chain.length ? transformPoints([c], chain)[0] : c;
          },
        };
      };

      // Spatial draws append their steps at once, so each op samples at the shape its predecessors leave.
      const drawSpatial = (node: Node, rng: Rng, b: number): JsonObject | null => {
        if (node.p < 1 && !(rng.random() < node.p)) return null;
        if (node.kind === 'op') {
          const def = node.def as SpatialOpDef;
          const ctx = spatialCtx(b);
          const p = def.sample(node.cfg, rng, ctx);
          chains[b].push(...def.steps(p, ctx, node.cfg));
          return p;
        }
        const c = this.choose(node, rng);
        if (c < 0) return { choice: -1, ops: [] };
        return { choice: c, ops: node.choices[c].map((child, j) => ({ name: child.name, params: drawSpatial(child, rng.fork('choice', c, j), b) })) };
      };

      this.nodes.forEach((node, i) => {
        if (!node.spatial) flush();
        const params: (JsonObject | null)[] = [];
        for (let b = 0; b < B; b++) {
          if (source.mode === 'replay') {
            const p = source.record.ops[i].params[b];
            if (node.spatial) {
              for (const [n, np] of this.leaves(node, p)) {
                const leaf = n as Extract<Node, { kind: 'op' }>;
                chains[b].push(...(leaf.def as SpatialOpDef).steps(np, spatialCtx(b), leaf.cfg));
              }
            }
            params.push(p);
          } else {
            const rng = source.rngs[b].fork(i);
            params.push(node.spatial ? drawSpatial(node, rng, b) : this.drawIntensity(node, rng, { spatialDims: d, shape: cur.image.shape.slice(2), channels: C }));
          }
        }
        ops.push({ index: i, name: node.name, params });
        if (!node.spatial) cur = { ...cur, image: this.applyIntensity(node, params, cur.image) };
      });
      flush();
      return cur;
    });
    return { sample: this.finish(original, start, out, batched), record: { spatialDims: d, batch: batched ? B : null, ops } };
  }

  /** A oneOf's choice: an index into its choices, or −1 for none (weights summing below 1). */
  private choose(node: Extract<Node, { kind: 'oneOf' }>, rng: Rng): number {
    const rest = Math.max(0, 1 - node.weights.reduce((a, b) => a + b, 0));
    const c = rng.weightedIndex(rest > 1e-12 ? [...node.weights, rest] : node.weights);
    return c >= node.choices.length ? -1 : c;
  }

  /** Draws one intensity node's params for one sample (null when it does not run). */
  private drawIntensity(node: Node, rng: Rng, ctx: SpatialContext): JsonObject | null {
    if (node.p < 1 && !(rng.random() < node.p)) return null;
    if (node.kind === 'op') return node.def.sample(node.cfg, rng, ctx);
    const c = this.choose(node, rng);
    if (c < 0) return { choice: -1, ops: [] };
    return { choice: c, ops: node.choices[c].map((child, j) => ({ name: child.name, params: this.drawIntensity(child, rng.fork('choice', c, j), ctx) })) };
  }

  /** The (op node, params) pairs a node's recorded params expand to, in order. */
  private leaves(node: Node, p: JsonObject | null): [Node, JsonObject][] {
    if (p === null) return [];
    if (node.kind === 'op') return [[node, p]];
    const c = p.choice;
    const list = p.ops;
    if (typeof c !== 'number' || !Array.isArray(list)) throw new AugmentConfigError(`recorded params of ${node.where}`, 'expected { choice, ops }');
    if (c < 0) return [];
    const choice = node.choices[c];
    if (!choice || list.length !== choice.length) throw new AugmentConfigError(`recorded params of ${node.where}`, `choice ${c} does not match the config`);
    return choice.flatMap((child, j) => this.leaves(child, (list[j] as { params: JsonObject | null }).params));
  }

  private applyIntensity(node: Node, params: (JsonObject | null)[], x: Tensor): Tensor {
    const ctx = { spatialDims: this.spatialDims, shape: x.shape.slice(2), channels: x.shape[1] };
    // Expand each sample's params into its ordered op list; run op by op over the samples that have it.
    const perSample = params.map((p) => this.leaves(node, p));
    let y = torch.isFloatingPoint(x.dtype) ? x : x.to('float32');
    const maxLen = Math.max(0, ...perSample.map((l) => l.length));
    for (let k = 0; k < maxLen; k++) {
      // Group samples by the op node at position k (oneOf choices differ per sample).
      const groups = new Map<Node, { idx: number[]; params: JsonObject[] }>();
      perSample.forEach((l, b) => {
        if (k >= l.length) return;
        const [n, p] = l[k];
        const g = groups.get(n) ?? { idx: [], params: [] };
        g.idx.push(b);
        g.params.push(p);
        groups.set(n, g);
      });
      for (const [n, g] of groups) {
        const def = (n as Extract<Node, { kind: 'op' }>).def as IntensityOpDef;
        const cfg = (n as Extract<Node, { kind: 'op' }>).cfg;
        if (g.idx.length === y.shape[0]) {
          y = def.apply(y, g.params, cfg, ctx);
        } else {
          const index = torch.tensor(g.idx, { dtype: 'int64' });
          const sub = def.apply(y.indexSelect(0, index), g.params, cfg, ctx);
          y = y.indexCopy(0, index, sub);
        }
      }
    }
    return y;
  }

  private finish(original: AugmentSample, start: Batch, out: Batch, batched: boolean): AugmentSample {
    // Outputs never alias the caller's tensors (they may dispose them independently).
    const own = (t: Tensor, orig: Tensor | undefined, norm: Tensor | undefined): Tensor => (t === orig || t === norm ? t.clone() : t);
    const unbatch = (t: Tensor) => (batched ? t : t.squeeze(0));
    const restore = (t: Tensor | undefined, orig: Tensor | undefined, norm: Tensor | undefined): Tensor | undefined => {
      if (!t || !orig) return undefined;
      const noC = orig.ndim === (batched ? t.ndim - 1 : t.ndim - 2);
      return torch.tidy(() => {
        let u = own(t, orig, norm);
        if (noC) u = u.squeeze(1);
        return unbatch(u).contiguous();
      });
    };
    const image = torch.tidy(() => unbatch(own(out.image, original.image, start.image)).contiguous());
    const result: AugmentSample = { image };
    if (original.label) result.label = restore(out.label, original.label, start.label);
    if (original.weight) result.weight = restore(out.weight, original.weight, start.weight);
    if (out.points) result.points = batched ? out.points : out.points[0];
    if (out.centers && original.center) result.center = (batched ? out.centers : out.centers[0]) as number[] | number[][];
    // Intermediates owned by no scope: the normalised views of the inputs.
    for (const [t, o] of [[start.image, original.image], [start.label, original.label], [start.weight, original.weight]] as const) if (t && t !== o) t.dispose();
    for (const [t, o] of [[out.image, result.image], [out.label, result.label], [out.weight, result.weight]] as const) if (t && t !== o && t !== start.image && t !== start.label && t !== start.weight) t.dispose();
    return result;
  }
}
