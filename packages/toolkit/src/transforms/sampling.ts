// Random patch sampling for training, nnU-Net style, as pure functions.
//
// Every decision for slot `i` of stream `s` at step `t` comes from its own
// keyed stream Rng.from(seed, 'sample', t, s, i) (src/random/rng.ts),
// never from shared mutable state. A background loader can therefore build
// any batch in any worker, in any order, and get the same patches:
//
//   const slots = sampleBatchPlan(seed, step, streams);          // which case, forced fg?, class, slice
//   const box = choosePatch(seed, slots[k], streams[s], classLocations);  // where in that case
//   const x = extractPatch(image, box, 0), y = extractPatch(label, box, -1);
//
// Foreground oversampling (nnU-Net): the last ⌈B·p⌉ slots of each stream's
// batch (p = 1/3 by default) must contain foreground: a class is drawn among
// those the case holds, then one of its stored voxel locations, and the patch
// is placed so that voxel sits at its centre (optionally with a random
// offset). nnU-Net rounds B·(1 − p) instead, which gives ⌈B/3⌉ for every B
// except a few (B = 4: 1 there, 2 here).
//
// Padding when a patch exceeds the volume: image 0 (nnU-Net pads data with
// 0) and label -1 by default (nnU-Net pads seg with -1, the same value as
// "outside the non-zero mask"; its training transforms then map -1 to 0 —
// keep -1 to ignore those voxels in the loss, or map them as nnU-Net does).
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import { F } from '@labelwise/torch';
import { Rng } from '../random/rng.js';
import type { CaseProperties } from './preprocess.js';

/** What sampling needs to know about a case: no voxel data. */
export interface SamplingCase {
  id?: string;
  /** Spatial shape (z, y, x) of the preprocessed case. */
  shape: readonly number[];
  /** Foreground classes with at least one stored location. */
  classes?: readonly number[];
  /** Slice indices along axis 0 that hold foreground (2D sampling). */
  foregroundSlices?: readonly number[];
  centre?: string;
}

/** A SamplingCase from a preprocessed case's properties (cache sidecar). */
export function samplingCaseFromProps(props: CaseProperties, id?: string, centre?: string): SamplingCase {
  return {
    id,
    shape: [...props.shapeAfterResampling],
    classes: Object.entries(props.classLocationCounts).filter(([, n]) => n > 0).map(([c]) => Number(c)).sort((a, b) => a - b),
    foregroundSlices: props.foregroundSlices,
    centre: centre ?? (props.meta?.centre as string | undefined),
  };
}

/**
 * One stream of a batch. Treated as immutable: per-stream indexes are
 * cached on the object, so build a new spec when its cases change.
 */
export interface StreamSpec {
  /** E.g. 'labelled', 'unlabelled'. */
  name: string;
  cases: readonly SamplingCase[];
  /** Slots of each batch drawn from this stream. */
  batchSize: number;
  /** (z, y, x) for 3-D patches, or (y, x) for 2-D slices taken along axis 0 of 3-D volumes. */
  patchSize: readonly number[];
  /** Fraction of slots forced to contain foreground (the last ones); default 1/3; use 0 for unlabelled data. */
  oversampleForeground?: number;
  /**
   * 'uniform' (default): cases uniformly with replacement (nnU-Net).
   * 'class-balanced': forced-foreground slots first draw a class uniformly
   * among the classes present in the stream, then a case holding it, so rare
   * classes are seen as often as common ones.
   */
  caseSampling?: 'uniform' | 'class-balanced';
  /** Draw a centre with these weights first, then a case of that centre (multi-centre training). */
  centreWeights?: Readonly<Record<string, number>>;
  /** 2-D only: probability that a slot not forced to foreground takes a slice that has foreground. Default 0. */
  foregroundSliceProbability?: number;
  /** Random offset of forced patches around the chosen voxel, as a fraction of half the patch (0 = exactly centred, nnU-Net). */
  foregroundJitter?: number;
  /**
   * Extra room (per axis, voxels) around the patch to sample from, as
   * nnU-Net's need_to_pad (larger patch for augmentation − final patch).
   */
  needToPad?: readonly number[];
}

export interface SlotPlan {
  step: number;
  streamIndex: number;
  stream: string;
  /** Position within the stream's part of the batch. */
  index: number;
  /** Position within the whole batch (streams concatenated in order). */
  slot: number;
  caseIndex: number;
  forceForeground: boolean;
  /** Class whose stored location the patch is placed on (null: random placement). */
  targetClass: number | null;
  /** 2-D streams: the slice along axis 0 (null until placement for forced slots). */
  sliceIndex: number | null;
}

export interface PatchBox {
  /** Start voxel (z, y, x); may be negative or run past the volume (padded). */
  start: number[];
  /** Extent (z, y, x); 2-D patches have extent 1 along z. */
  size: number[];
  /** The stored voxel the patch was centred on, if any. */
  centre: number[] | null;
}

/** Number of forced-foreground slots in a batch of B with fraction p: ⌈B·p⌉. */
export function foregroundSlotCount(batchSize: number, fraction = 1 / 3): number {
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`oversampleForeground must be in [0, 1], got ${fraction}`);
  return Math.min(batchSize, Math.ceil(batchSize * fraction - 1e-9));
}

function checkStream(s: StreamSpec, i: number): void {
  const w = `stream ${i} ('${s.name}')`;
  if (!Number.isInteger(s.batchSize) || s.batchSize < 0) throw new RangeError(`${w}: batchSize must be an integer ≥ 0, got ${s.batchSize}`);
  if (s.batchSize > 0 && s.cases.length === 0) throw new RangeError(`${w}: no cases to sample from`);
  if (s.patchSize.length !== 2 && s.patchSize.length !== 3) throw new RangeError(`${w}: patchSize must have 2 (y, x) or 3 (z, y, x) entries, got [${s.patchSize.join(', ')}]`);
  if (s.patchSize.some((p) => !Number.isInteger(p) || p < 1)) throw new RangeError(`${w}: patchSize entries must be positive integers, got [${s.patchSize.join(', ')}]`);
  s.cases.forEach((c, k) => {
    if (c.shape.length !== 3 || c.shape.some((n) => !Number.isInteger(n) || n < 1)) throw new RangeError(`${w}: case ${k} has shape [${c.shape.join(', ')}], expected 3 positive integers (z, y, x)`);
  });
  const p = s.foregroundSliceProbability ?? 0;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${w}: foregroundSliceProbability must be in [0, 1], got ${p}`);
  const j = s.foregroundJitter ?? 0;
  if (!(j >= 0 && j <= 1)) throw new RangeError(`${w}: foregroundJitter must be in [0, 1], got ${j}`);
}

/** Index sets the case draws need, computed once per stream spec. */
interface StreamIndex {
  centres: string[];
  centreWeights: number[] | null;
  byCentre: Map<string, number[]>;
  classes: number[];
  byClass: Map<number, number[]>;
}

const indexCache = new WeakMap<StreamSpec, StreamIndex>();

function streamIndex(s: StreamSpec): StreamIndex {
  const hit = indexCache.get(s);
  if (hit) return hit;
  const byCentre = new Map<string, number[]>();
  const byClass = new Map<number, number[]>();
  s.cases.forEach((c, i) => {
    const centre = c.centre ?? '';
    if (!byCentre.has(centre)) byCentre.set(centre, []);
    byCentre.get(centre)!.push(i);
    for (const k of c.classes ?? []) {
      if (!byClass.has(k)) byClass.set(k, []);
      byClass.get(k)!.push(i);
    }
  });
  const centres = [...byCentre.keys()].sort();
  let centreWeights: number[] | null = null;
  if (s.centreWeights) {
    for (const name of Object.keys(s.centreWeights)) {
      if (!byCentre.has(name)) throw new RangeError(`stream '${s.name}': centreWeights names centre '${name}', which has no cases (centres: ${centres.join(', ')})`);
    }
    centreWeights = centres.map((c) => s.centreWeights![c] ?? 0);
    if (!centreWeights.some((w) => w > 0)) throw new RangeError(`stream '${s.name}': centreWeights must give some centre a positive weight`);
  }
  const out: StreamIndex = { centres, centreWeights, byCentre, classes: [...byClass.keys()].sort((a, b) => a - b), byClass };
  indexCache.set(s, out);
  return out;
}

function drawCase(rng: Rng, s: StreamSpec, idx: StreamIndex): number {
  if (idx.centreWeights) return rng.choice(idx.byCentre.get(idx.centres[rng.weightedIndex(idx.centreWeights)])!);
  return rng.int(0, s.cases.length);
}

/** The per-slot stream: a pure function of (seed, step, stream, index). */
export function slotRng(seed: number, step: number, streamIndex: number, index: number, purpose = 'sample'): Rng {
  return Rng.from(seed, purpose, step, streamIndex, index);
}

/** Plans one slot: which case, whether foreground is forced, which class / slice. */
export function planSlot(seed: number, step: number, streams: readonly StreamSpec[], streamIdx: number, index: number, slotOffset = 0): SlotPlan {
  const s = streams[streamIdx];
  const idx = streamIndex(s);
  const rng = slotRng(seed, step, streamIdx, index);
  const nFg = foregroundSlotCount(s.batchSize, s.oversampleForeground ?? 1 / 3);
  const forceForeground = index >= s.batchSize - nFg;
  let caseIndex: number;
  let targetClass: number | null = null;
  if (forceForeground && s.caseSampling === 'class-balanced' && idx.classes.length > 0) {
    targetClass = rng.choice(idx.classes);
    caseIndex = rng.choice(idx.byClass.get(targetClass)!);
  } else {
    caseIndex = drawCase(rng, s, idx);
    const present = s.cases[caseIndex].classes ?? [];
    // As nnU-Net: a class among those this case holds; none → random placement.
    if (forceForeground && present.length > 0) targetClass = rng.choice(present);
  }
  let sliceIndex: number | null = null;
  if (s.patchSize.length === 2 && targetClass === null) {
    const c = s.cases[caseIndex];
    const fgs = c.foregroundSlices ?? [];
    const p = s.foregroundSliceProbability ?? 0;
    sliceIndex = fgs.length > 0 && p > 0 && rng.random() < p ? rng.choice(fgs) : rng.int(0, c.shape[0]);
  }
  return { step, streamIndex: streamIdx, stream: s.name, index, slot: slotOffset + index, caseIndex, forceForeground, targetClass, sliceIndex };
}

/**
 * The slot plans of the batch at `step`: streams concatenated in order (for
 * example 12 labelled then 12 unlabelled). Pure in (seed, step, streams).
 */
export function sampleBatchPlan(seed: number, step: number, streams: readonly StreamSpec[]): SlotPlan[] {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`sampleBatchPlan: seed must be an integer, got ${seed}`);
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`sampleBatchPlan: step must be an integer ≥ 0, got ${step}`);
  streams.forEach(checkStream);
  const out: SlotPlan[] = [];
  let offset = 0;
  streams.forEach((s, si) => {
    for (let i = 0; i < s.batchSize; i++) out.push(planSlot(seed, step, streams, si, i, offset));
    offset += s.batchSize;
  });
  return out;
}

/** nnU-Net's sampling range of a patch's start along one axis: [lb, ub]. */
function startRange(shape: number, patch: number, needToPad: number): [number, number] {
  const need = Math.max(needToPad, patch - shape);
  const half = Math.ceil(need / 2);
  return [-half, shape + half - patch];
}

/**
 * Places the patch of a planned slot in its case (nnU-Net's get_bbox).
 * `classLocations` are the case's stored (z, y, x) triples per class (from
 * the preprocessing cache); needed only for slots with a target class.
 */
export function choosePatch(seed: number, plan: SlotPlan, stream: StreamSpec, classLocations?: ReadonlyMap<number, Int32Array> | null): PatchBox {
  const c = stream.cases[plan.caseIndex];
  if (!c) throw new RangeError(`choosePatch: stream '${stream.name}' has no case ${plan.caseIndex}`);
  const rng = slotRng(seed, plan.step, plan.streamIndex, plan.index, 'patch');
  const is2d = stream.patchSize.length === 2;
  const patch = is2d ? [1, ...stream.patchSize] : [...stream.patchSize];
  const need = is2d ? [0, ...(stream.needToPad ?? [0, 0])] : [...(stream.needToPad ?? [0, 0, 0])];
  const ranges = [0, 1, 2].map((a) => startRange(c.shape[a], patch[a], need[a] ?? 0));
  let centre: number[] | null = null;
  if (plan.targetClass !== null) {
    const locs = classLocations?.get(plan.targetClass);
    if (!locs) throw new Error(`choosePatch: slot ${plan.slot} targets class ${plan.targetClass} of case ${c.id ?? plan.caseIndex}, but no locations for that class were given`);
    if (locs.length >= 3) {
      const k = rng.int(0, locs.length / 3);
      centre = [locs[3 * k], locs[3 * k + 1], locs[3 * k + 2]];
    }
  }
  const jitter = stream.foregroundJitter ?? 0;
  const start = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    const [lb, ub] = ranges[a];
    if (is2d && a === 0) {
      start[0] = centre ? centre[0] : (plan.sliceIndex ?? rng.int(0, c.shape[0]));
      continue;
    }
    if (centre) {
      let s = centre[a] - Math.floor(patch[a] / 2);
      if (jitter > 0) {
        const j = Math.floor((jitter * patch[a]) / 2);
        if (j > 0) s += rng.int(-j, j + 1);
        // Keep the chosen voxel inside the patch, and the patch inside the sampling range where possible.
        s = Math.min(Math.max(s, lb), ub);
        s = Math.min(Math.max(s, centre[a] - patch[a] + 1), centre[a]);
      } else {
        s = Math.max(lb, s); // nnU-Net clamps only from below
      }
      start[a] = s;
    } else {
      start[a] = rng.int(lb, ub + 1);
    }
  }
  return { start, size: patch, centre };
}

/**
 * Cuts box out of a [C, Z, Y, X] tensor, padding with `padValue` where the
 * box leaves the volume. Returns [C, ...size] (keeps a size-1 z for 2-D boxes).
 */
export function extractPatch(t: Tensor, box: PatchBox, padValue = 0): Tensor {
  if (t.ndim !== 4) throw new Error(`extractPatch: expected a tensor [C, Z, Y, X], got shape [${t.shape.join(', ')}]`);
  const shape = t.shape.slice(1);
  return torch.tidy(() => {
    // A negative pad value (the -1 "ignore" label) does not fit uint8: widen first.
    let cur = padValue < 0 && t.dtype === 'uint8' ? t.to('int16') : t;
    const padAfter: number[] = [];
    const padBefore: number[] = [];
    for (let a = 0; a < 3; a++) {
      const lo = box.start[a];
      const hi = lo + box.size[a];
      const cLo = Math.max(0, lo);
      const cHi = Math.min(shape[a], hi);
      padBefore.push(Math.max(0, Math.min(box.size[a], cLo - lo)));
      if (cHi <= cLo) {
        // The box misses the volume on this axis entirely: all padding.
        return torch.full([t.shape[0], ...box.size], padValue, { dtype: cur.dtype, device: cur.device });
      }
      cur = cur.narrow(a + 1, cLo, cHi - cLo);
      padAfter.push(hi - cHi);
    }
    const pads = [padBefore[2], padAfter[2], padBefore[1], padAfter[1], padBefore[0], padAfter[0]];
    if (pads.every((p) => p === 0)) return cur.contiguous();
    return F.pad(cur, pads, { mode: 'constant', value: padValue });
  });
}

export interface CaseData {
  image: Tensor;
  label?: Tensor | null;
  classLocations?: ReadonlyMap<number, Int32Array> | null;
}

export interface StreamBatch {
  stream: string;
  slots: SlotPlan[];
  boxes: PatchBox[];
  /** [n, C, Z, Y, X] for 3-D streams, [n, C, Y, X] for 2-D. */
  image: Tensor;
  /** Same layout with one channel; null when the stream's cases have no labels. */
  label: Tensor | null;
}

export interface SampleBatchOptions {
  /** Label value for padding (default -1). */
  labelPadValue?: number;
  imagePadValue?: number;
}

/**
 * Builds the batch at `step` with the data `getCase(streamIndex, caseIndex)`
 * returns (already loaded by the caller), one StreamBatch per stream.
 */
export function sampleBatch(seed: number, step: number, streams: readonly StreamSpec[], getCase: (streamIndex: number, caseIndex: number) => CaseData, options: SampleBatchOptions = {}): StreamBatch[] {
  const plans = sampleBatchPlan(seed, step, streams);
  return torch.tidy(() => streams.map((s, si) => {
    const slots = plans.filter((p) => p.streamIndex === si);
    const boxes: PatchBox[] = [];
    const imgs: Tensor[] = [];
    const labs: Tensor[] = [];
    let anyLabel = false;
    for (const p of slots) {
      const data = getCase(si, p.caseIndex);
      const box = choosePatch(seed, p, s, data.classLocations);
      boxes.push(box);
      imgs.push(extractPatch(data.image, box, options.imagePadValue ?? 0));
      if (data.label) {
        anyLabel = true;
        labs.push(extractPatch(data.label, box, options.labelPadValue ?? -1));
      } else {
        labs.push(torch.full([1, ...box.size], options.labelPadValue ?? -1, { dtype: 'int16' }));
      }
    }
    const squeeze = (x: Tensor) => (s.patchSize.length === 2 ? x.squeeze(2) : x);
    const image = slots.length ? squeeze(torch.stack(imgs, 0)) : torch.zeros([0]);
    const label = anyLabel ? squeeze(torch.stack(labs.map((l) => l.to('int16')), 0)) : null;
    return { stream: s.name, slots, boxes, image, label };
  }));
}
