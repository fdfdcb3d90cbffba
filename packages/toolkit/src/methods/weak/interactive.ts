// Interactive segmentation from clicks: one image, a trained (weak) model
// and a few foreground/background points in, a refined label map out in
// seconds. The steps (issue 12 item 5):
// 1. the whole image is predicted exactly as `labelwise predict` does (same
//    preprocessing from the checkpoint), kept as class probabilities in the
//    network's grid;
// 2. the clicks become a partial label map on the image grid through a
//    geodesic prior (buildClickPrior);
// 3. a copy of the network is fine-tuned for a few steps on the region of
//    interest around the clicks (partial Dice + CE on the labelled voxels,
//    plus a soft anchor to the initial prediction on the unlabelled ones);
// 4. only the ROI is predicted again with the copy and pasted into the
//    initial probabilities; the argmax on the image grid is the result.
// The original network is never modified (the copy is a fresh network with
// its state dict loaded), and the run is deterministic for a given seed.
import fs from 'node:fs';
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import type { Vec3 } from '../../io/affine.js';
import { Volume } from '../../io/volume.js';
import { AnnotationError, type ImageGeometry, type LesionPoint, readPointMap, readPointsJson } from '../../data/annotations.js';
import { expandSeeds, geodesicDistance3d } from '../../transforms/geodesic.js';
import { preprocessCase, revertPreprocessing } from '../../transforms/preprocess.js';
import { createNetwork, type NetworkConfig } from '../../nn/registry.js';
import { PartialDiceCELoss } from '../../losses/compound.js';
import { crossEntropyLoss } from '../../losses/cross-entropy.js';
import { type LoadedPredictor, type PredictOptions, predictTensor, resolveCheckpointDir, loadPredictor } from '../../inference/predict.js';
import { argmaxClasses } from '../../inference/sliding-window.js';
import { keepLargestComponentTensor } from '../../inference/postprocess.js';

/** A user click: voxel (i, j, k) on the image grid, class 0 = background, ≥ 1 = that foreground class. LesionPoint fits. */
export interface Click {
  ijk: Vec3 | readonly number[];
  class: number;
  /** Object the click belongs to (PA-Seg's lesion index); default 0. */
  lesion?: number;
}

/** Value of unlabelled voxels in the partial label map of buildClickPrior. */
export const PRIOR_UNLABELLED = 255;

export interface ClickPriorOptions {
  /** Half-width (voxels, per non-singleton axis) of the box a ball may grow in; default 3. */
  ballRadius?: number;
  /**
   * Geodesic threshold of a ball in mm-like units; default 1.5 × the smallest
   * spacing. Costs are computed on intensities divided by the image's
   * standard deviation (λ = 0.5, the PA-Seg blend), so a step through a
   * homogeneous region costs ≈ 0 and a step across a 1-σ edge costs ≈ its
   * length: the ball fills the clicked structure inside the box and stops at
   * edges.
   */
  ballThreshold?: number;
  /** PA-Seg threshold of expandSeeds (fraction of the max distance in the box); default 0.2. */
  seedThreshold?: number;
  /** Voxels around a PA-Seg box that are labelled background (expandSeeds says 0 outside the box); default 8. */
  margin?: number;
}

export interface InteractiveOptions extends ClickPriorOptions {
  /** Fine-tuning steps; default 15. 0 = prior + re-prediction only (the model unchanged). */
  steps?: number;
  /** Learning rate; default 1e-3 (Adam), 1e-2 (SGD). */
  lr?: number;
  optimizer?: 'adam' | 'sgd';
  /** Weight of the soft anchor to the initial prediction on unlabelled ROI voxels; default 0.1 (0 = off). */
  anchorWeight?: number;
  /** Seed of libtorch's generator for the fine-tuning (dropout, if any); default 0. */
  seed?: number;
  /** Extra context (network-grid voxels) around the ROI for re-prediction; default 8. */
  context?: number;
  /** predictVolume options on top of the checkpoint's (mirror, batchSize, largestComponent, ...). */
  predict?: PredictOptions;
}

export interface InteractiveTimings {
  predictMs: number;
  priorMs: number;
  finetuneMs: number;
  repredictMs: number;
  totalMs: number;
}

export interface InteractiveResult {
  /** The refined label map (uint8) on the image grid. */
  labels: Volume;
  /** The model's prediction before the clicks (what `labelwise predict` gives). */
  initial: Volume;
  /** The partial label map of the clicks on the image grid: class values, PRIOR_UNLABELLED elsewhere; null without clicks. */
  prior: Volume | null;
  /** 'pa-seg' when the clicks were PA-Seg lesions (expandSeeds), 'balls' otherwise, 'none' without clicks. */
  priorKind: 'pa-seg' | 'balls' | 'none';
  /** ROI in the network's grid: [z0, y0, x0] inclusive, [z1, y1, x1] exclusive. */
  roi: { start: number[]; end: number[] } | null;
  /** Loss per fine-tuning step. */
  losses: number[];
  timings: InteractiveTimings;
}

const dims3 = (g: ImageGeometry): Vec3 => [g.dims[0], g.dims[1] ?? 1, g.dims[2] ?? 1];

/** Reads clicks from a JSON point list or a PA-Seg point map (.nii / .nii.gz), checked against the image grid. */
export function readClicks(file: string, reference: ImageGeometry): LesionPoint[] {
  if (!fs.existsSync(file)) throw new AnnotationError(file, 'no such file');
  return /\.nii(\.gz)?$/i.test(file) ? readPointMap(file, reference) : readPointsJson(file, reference);
}

function checkClicks(clicks: readonly Click[], dims: Vec3, numClasses: number | undefined, name: string): void {
  clicks.forEach((c, n) => {
    if (c.ijk.length !== 3 || c.ijk.some((v, a) => !Number.isInteger(v) || v < 0 || v >= dims[a])) {
      throw new AnnotationError(name, `click ${n} at voxel (${c.ijk.join(', ')}) lies outside the image of dims [${dims.join(', ')}]`);
    }
    if (!Number.isInteger(c.class) || c.class < 0 || (numClasses !== undefined && c.class >= numClasses)) {
      throw new AnnotationError(name, `click ${n} has class ${c.class}; the model has classes 0..${(numClasses ?? 256) - 1}`);
    }
  });
  if (clicks.length && !clicks.some((c) => c.class >= 1)) throw new AnnotationError(name, 'has no foreground point; at least one is required');
}

/** True when every lesion is PA-Seg's pattern: class-1 point(s) with background points on both sides along every non-singleton axis. */
function isPaSeg(clicks: readonly Click[], dims: Vec3): boolean {
  const byLesion = new Map<number, Click[]>();
  for (const c of clicks) byLesion.set(c.lesion ?? 0, [...(byLesion.get(c.lesion ?? 0) ?? []), c]);
  for (const pts of byLesion.values()) {
    const fg = pts.filter((p) => p.class >= 1);
    const bg = pts.filter((p) => p.class === 0);
    if (!fg.length || !bg.length || fg.some((p) => p.class !== 1)) return false;
    for (let a = 0; a < 3; a++) {
      if (dims[a] === 1) continue;
      for (const f of fg) {
        if (!bg.some((b) => b.ijk[a] < f.ijk[a]) || !bg.some((b) => b.ijk[a] > f.ijk[a])) return false;
      }
    }
  }
  return true;
}

/**
 * The partial label map of the clicks on the image grid (uint8: class
 * values, PRIOR_UNLABELLED elsewhere), from channel 0 of the image.
 * - PA-Seg lesions (isPaSeg): expandSeeds (geodesic from the foreground point
 *   in the points' box, foreground where D < 0.2·max, unlabelled elsewhere
 *   in the box); background in a `margin` ring around each box (expandSeeds
 *   says background everywhere outside, but only the ROI is trained).
 * - Otherwise a geodesic ball around every click (ClickPriorOptions); where
 *   balls of different classes overlap the voxel stays unlabelled, and every
 *   clicked voxel keeps its own class.
 */
export function buildClickPrior(image: Volume, clicks: readonly Click[], options: ClickPriorOptions = {}, name = 'clicks'): { labels: Uint8Array; kind: 'pa-seg' | 'balls' } {
  const dims = dims3(image);
  checkClicks(clicks, dims, undefined, name);
  if (!clicks.length) throw new AnnotationError(name, 'has no click');
  const [nx, ny] = dims;
  const n = dims[0] * dims[1] * dims[2];
  // Channel 0 as float32 (the raster scan reads float32, as GeodisTK).
  const data = new Float32Array(n);
  for (let p = 0; p < n; p++) data[p] = Number(image.data[p]);
  const spacing = image.spacing;
  const idx = (i: number, j: number, k: number) => i + nx * (j + ny * k);
  const out = new Uint8Array(n).fill(PRIOR_UNLABELLED);
  if (isPaSeg(clicks, dims)) {
    const margin = options.margin ?? 8;
    const seeds = expandSeeds({ data, dims }, clicks.map((c) => ({ class: c.class, ijk: c.ijk, lesion: c.lesion ?? 0 })), spacing, { threshold: options.seedThreshold ?? 0.2 });
    const lesions = new Set(clicks.map((c) => c.lesion ?? 0));
    for (const l of lesions) {
      const pts = clicks.filter((c) => (c.lesion ?? 0) === l);
      const lo = [0, 1, 2].map((a) => Math.max(0, Math.min(...pts.map((p) => p.ijk[a])) - margin));
      const hi = [0, 1, 2].map((a) => Math.min(dims[a] - 1, Math.max(...pts.map((p) => p.ijk[a])) + margin));
      for (let k = lo[2]; k <= hi[2]; k++) {
        for (let j = lo[1]; j <= hi[1]; j++) {
          for (let i = lo[0]; i <= hi[0]; i++) {
            const p = idx(i, j, k);
            const s = seeds[p];
            if (s === 1) out[p] = 1;
            else if (s === 0 && out[p] !== 1) out[p] = 0;
          }
        }
      }
    }
    for (const c of clicks) out[idx(c.ijk[0], c.ijk[1], c.ijk[2])] = c.class;
    return { labels: out, kind: 'pa-seg' };
  }
  // Geodesic balls on intensities in units of the image's standard deviation.
  let mean = 0;
  for (let p = 0; p < n; p++) mean += Number(data[p]);
  mean /= n;
  let v = 0;
  for (let p = 0; p < n; p++) v += (Number(data[p]) - mean) ** 2;
  const sd = Math.sqrt(v / n) || 1;
  const r = options.ballRadius ?? 3;
  const tau = options.ballThreshold ?? 1.5 * Math.min(...spacing.filter((_, a) => dims[a] > 1));
  const CONFLICT = 254;
  for (const c of clicks) {
    const lo = [0, 1, 2].map((a) => Math.max(0, c.ijk[a] - r));
    const hi = [0, 1, 2].map((a) => Math.min(dims[a] - 1, c.ijk[a] + r));
    const bd = [0, 1, 2].map((a) => hi[a] - lo[a] + 1);
    const crop = new Float32Array(bd[0] * bd[1] * bd[2]);
    const seed = new Uint8Array(crop.length);
    let q = 0;
    for (let k = lo[2]; k <= hi[2]; k++) for (let j = lo[1]; j <= hi[1]; j++) for (let i = lo[0]; i <= hi[0]; i++) crop[q++] = Number(data[idx(i, j, k)]) / sd;
    seed[(c.ijk[0] - lo[0]) + bd[0] * ((c.ijk[1] - lo[1]) + bd[1] * (c.ijk[2] - lo[2]))] = 1;
    const d = geodesicDistance3d(crop, bd, spacing, seed, { lambda: 0.5, iterations: 2 });
    q = 0;
    for (let k = lo[2]; k <= hi[2]; k++) {
      for (let j = lo[1]; j <= hi[1]; j++) {
        for (let i = lo[0]; i <= hi[0]; i++, q++) {
          if (!(d[q] < tau)) continue;
          const p = idx(i, j, k);
          if (out[p] === PRIOR_UNLABELLED) out[p] = c.class;
          else if (out[p] !== c.class) out[p] = CONFLICT;
        }
      }
    }
  }
  for (let p = 0; p < n; p++) if (out[p] === CONFLICT) out[p] = PRIOR_UNLABELLED;
  for (const c of clicks) out[idx(c.ijk[0], c.ijk[1], c.ijk[2])] = c.class;
  return { labels: out, kind: 'balls' };
}

/** A trainable copy of the predictor's network (fresh module, same weights), so the original stays untouched. */
function copyNetwork(predictor: LoadedPredictor): torch.nn.Module<[Tensor], Tensor> {
  const net = createNetwork(predictor.meta.network as NetworkConfig, 'interactive copy');
  const state = predictor.model.stateDict();
  net.loadStateDict(state);
  return net;
}

/** Pads the spatial axes (from axis `from`) at the end to multiples of `div`, with `value`. */
function padTo(x: Tensor, div: readonly number[], from: number, value: number): Tensor {
  const spatial = x.shape.slice(from);
  const pads: number[] = [];
  for (let a = spatial.length - 1; a >= 0; a--) pads.push(0, Math.ceil(spatial[a] / div[a]) * div[a] - spatial[a]);
  return pads.every((p) => p === 0) ? x : torch.F.pad(x, pads, { mode: 'constant', value });
}

/** The box of voxels with a label (not unlabelled), or null. lab: [Z, Y, X]. */
function labelledBox(lab: Tensor, unlabelled: number): { lo: number[]; hi: number[] } | null {
  const [nz, ny, nx] = lab.shape;
  const a = lab.toTypedArray();
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-1, -1, -1];
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        const v = Number(a[x + nx * (y + ny * z)]);
        if (v === unlabelled) continue;
        if (z < lo[0]) lo[0] = z; if (z > hi[0]) hi[0] = z;
        if (y < lo[1]) lo[1] = y; if (y > hi[1]) hi[1] = y;
        if (x < lo[2]) lo[2] = x; if (x > hi[2]) hi[2] = x;
      }
    }
  }
  return hi[0] < 0 ? null : { lo, hi };
}

const narrow3 = (t: Tensor, from: number, start: readonly number[], end: readonly number[]): Tensor =>
  t.narrow(from, start[0], end[0] - start[0]).narrow(from + 1, start[1], end[1] - start[1]).narrow(from + 2, start[2], end[2] - start[2]);

/**
 * Segments `image` with `predictor`, refined by `clicks` (see the file
 * header). Without clicks the result is the plain prediction. Errors name
 * `name` (the points file) for bad clicks.
 */
export function segmentInteractive(image: Volume, predictor: LoadedPredictor, clicks: readonly Click[], options: InteractiveOptions = {}, name = 'clicks'): InteractiveResult {
  const t0 = performance.now();
  const info = predictor.info;
  const K = info?.outChannels;
  checkClicks(clicks, dims3(image), K, name);
  const opts: PredictOptions = { ...predictor.options, ...(options.predict ?? {}) };
  const { largestComponent, ...predOpts } = opts;
  const timings: InteractiveTimings = { predictMs: 0, priorMs: 0, finetuneMs: 0, repredictMs: 0, totalMs: 0 };
  if (!clicks.length) {
    const r = predictor.predict(image, options.predict ?? {});
    timings.predictMs = timings.totalMs = performance.now() - t0;
    return { labels: r.labels, initial: r.labels, prior: null, priorKind: 'none', roi: null, losses: [], timings };
  }
  const steps = options.steps ?? 15;
  if (!Number.isInteger(steps) || steps < 0) throw new Error(`segmentInteractive: steps must be an integer ≥ 0, got ${steps}`);
  const model = predictor.model;
  const mode = predOpts.mode ?? (info?.spatialDims === 2 ? 'slices2d' : 'sliding3d');
  const losses: number[] = [];

  // 2. The prior on the image grid (cheap; before the prediction so bad clicks fail fast).
  let t = performance.now();
  const prior = buildClickPrior(image, clicks, options, name);
  const priorVol = new Volume({ data: prior.labels, dims: dims3(image), affine: image.affine, meta: { derived: 'click prior' } });
  timings.priorMs = performance.now() - t;

  const result = torch.tidy(() => {
    // 1. Network-grid image, partial labels and initial probabilities, as predictVolume.
    t = performance.now();
    let netImage: Tensor;
    let netLabels: Tensor; // [Z, Y, X] int64, K = unlabelled
    let props: ReturnType<typeof preprocessCase>['props'] | null = null;
    const numClasses = K ?? 2;
    if (predOpts.preprocess) {
      const pre = preprocessCase(image, priorVol, predOpts.preprocess);
      netImage = pre.image;
      const l = pre.label!.squeeze(0).to('int64');
      netLabels = l.where(l.ge(0).logicalAnd(l.lt(numClasses)), numClasses);
      props = pre.props;
    } else {
      netImage = image.toTensor('float32');
      if (predOpts.normalize) netImage = predOpts.normalize(netImage);
      const l = priorVol.toTensor('int64').squeeze(0);
      netLabels = l.where(l.lt(numClasses), numClasses);
    }
    const initialProbs = torch.noGrad(() => predictTensor(netImage, model, { ...predOpts, probabilities: true }).probabilities!);
    const toImageGrid = (probs: Tensor): Tensor => {
      const back = props ? revertPreprocessing(probs, props, { kind: 'probabilities', backgroundOne: true }) : probs;
      let labels = argmaxClasses(back, 0);
      if (largestComponent) labels = keepLargestComponentTensor(labels, { classes: largestComponent === true ? undefined : [...largestComponent] });
      return labels;
    };
    const initialLabels = toImageGrid(initialProbs);
    timings.predictMs = performance.now() - t;

    // 3. ROI: the labelled box in the network grid plus a margin; 2D models fine-tune on its slices.
    const box = labelledBox(netLabels, numClasses);
    if (!box) throw new AnnotationError(name, 'no clicked voxel survives the checkpoint\'s preprocessing (crop to non-zero?)');
    const shape = netLabels.shape;
    const margin = options.margin ?? 8;
    const resize = mode === 'slices2d' ? predOpts.resizeTo : undefined;
    const start = box.lo.map((v, a) => (a === 0 && mode === 'slices2d') || resize ? (a === 0 ? v : 0) : Math.max(0, v - margin));
    const end = box.hi.map((v, a) => (a === 0 && mode === 'slices2d') || resize ? (a === 0 ? v + 1 : shape[a]) : Math.min(shape[a], v + margin + 1));
    // 3D: keep the training crop within the training patch size (memory, and the network saw no more).
    if (mode === 'sliding3d' && predOpts.patchSize) {
      for (let a = 0; a < 3; a++) {
        const extra = end[a] - start[a] - predOpts.patchSize[a];
        if (extra > 0) { start[a] += Math.floor(extra / 2); end[a] -= Math.ceil(extra / 2); }
      }
    }
    t = performance.now();
    let tuned = model;
    let copy: torch.nn.Module<[Tensor], Tensor> | null = null;
    if (steps > 0) {
      copy = copyNetwork(predictor);
      // Eval mode on purpose: batch-norm statistics of a tiny crop would
      // corrupt the running ones, and dropout would add noise to a few steps.
      copy.eval();
      torch.manualSeed(options.seed ?? 0);
      let x = narrow3(netImage, 1, start, end).unsqueeze(0); // [1, C, z, y, x]
      let y = narrow3(netLabels, 0, start, end).unsqueeze(0); // [1, z, y, x]
      let soft = narrow3(initialProbs, 1, start, end).unsqueeze(0); // [1, K, z, y, x]
      if (mode === 'slices2d') {
        x = x.squeeze(0).permute([1, 0, 2, 3]); // [z, C, y, x]
        y = y.squeeze(0); // [z, y, x]
        soft = soft.squeeze(0).permute([1, 0, 2, 3]);
        if (resize) {
          x = torch.F.interpolate(x, { size: [...resize], mode: predOpts.imageResize === 'bilinear' ? 'bilinear' : 'nearest' });
          y = torch.F.interpolate(y.unsqueeze(1).to('float32'), { size: [...resize], mode: 'nearest' }).squeeze(1).to('int64');
          soft = torch.F.interpolate(soft, { size: [...resize], mode: 'bilinear', alignCorners: false });
        }
      }
      const from = 2;
      const div = info?.inputDivisor ?? [];
      if (div.length) {
        x = padTo(x, div, from, 0);
        y = padTo(y, div, from - 1, numClasses);
        soft = padTo(soft, div, from, 0);
      }
      const unlabelled = y.eq(numClasses).to('float32');
      const lr = options.lr ?? (options.optimizer === 'sgd' ? 1e-2 : 1e-3);
      const params = copy.parameters();
      const opt = options.optimizer === 'sgd' ? new torch.optim.SGD(params, { lr, momentum: 0.9 }) : new torch.optim.Adam(params, { lr });
      const partial = new PartialDiceCELoss({ numClasses });
      const anchor = options.anchorWeight ?? 0.1;
      for (let s = 0; s < steps; s++) {
        torch.tidy(() => {
          opt.zeroGrad();
          const logits = copy!.forward(x);
          let loss = partial.forward(logits, y);
          if (anchor > 0) loss = loss.add(crossEntropyLoss(logits, soft, {}, unlabelled).mul(anchor));
          loss.backward();
          opt.step();
          losses.push(loss.item() as number);
        });
      }
      tuned = copy;
    }
    timings.finetuneMs = performance.now() - t;

    // 4. Re-predict the ROI with context, paste its core into the initial probabilities.
    t = performance.now();
    const ctx = options.context ?? 8;
    const cStart = start.map((v, a) => (a === 0 && mode === 'slices2d') || resize ? v : Math.max(0, v - ctx));
    const cEnd = end.map((v, a) => (a === 0 && mode === 'slices2d') || resize ? v : Math.min(shape[a], v + ctx));
    const sub = narrow3(netImage, 1, cStart, cEnd);
    const roiProbs = torch.noGrad(() => predictTensor(sub, tuned, { ...predOpts, probabilities: true }).probabilities!);
    const core = narrow3(roiProbs, 1, start.map((v, a) => v - cStart[a]), end.map((v, a) => v - cStart[a]));
    const probs = initialProbs.clone();
    narrow3(probs, 1, start, end).copy_(core);
    const labels = toImageGrid(probs);
    timings.repredictMs = performance.now() - t;
    if (copy) copy.dispose();
    return {
      labels: Volume.fromTensor(labels, image, { source: image.meta.path ?? image.meta.source, derived: 'interactive labels' }),
      initial: Volume.fromTensor(initialLabels, image, { source: image.meta.path ?? image.meta.source, derived: 'labels' }),
      roi: { start, end },
    };
  });
  timings.totalMs = performance.now() - t0;
  return { ...result, prior: priorVol, priorKind: prior.kind, losses, timings };
}

/** Loads the model of a run or checkpoint folder for segmentInteractive (a clear error when the folder is missing). */
export function loadInteractiveModel(modelDir: string): LoadedPredictor {
  resolveCheckpointDir(modelDir);
  return loadPredictor(modelDir);
}
