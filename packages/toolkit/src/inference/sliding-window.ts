// Sliding-window inference (nnU-Net / MONAI style): overlapping windows,
// Gaussian importance weighting, windows run in batches, and — so a large CT
// fits a fixed RAM budget — the weighted logits are accumulated slab by slab
// along the first spatial axis: once every window touching a plane has run,
// that plane is final and is handed out (argmax and/or probabilities) and its
// accumulator memory is reused.
import * as torch from '@labelwise/torch';

/** Maps a batch of windows [B, C, ...patch] to logits [B, K, ...patch]. */
export type Predictor = (x: torch.Tensor) => torch.Tensor;

export interface SlidingWindowOptions {
  /** Window size per spatial axis (2 or 3 entries). */
  patchSize: readonly number[];
  /** Fraction of a window shared with its neighbour (nnU-Net: 0.5). */
  overlap?: number;
  /** Windows per forward pass. */
  batchSize?: number;
  /** Gaussian importance weighting (σ = patch/8); false: uniform averaging. */
  gaussian?: boolean;
  /** Average softmax over mirrored inputs along these spatial axes (0-based; nnU-Net mirrors all). */
  mirrorAxes?: readonly number[];
  /** Keep the full probability map (memory: K × volume floats). */
  returnProbabilities?: boolean;
  /** Called with each finished slab: planes [start, start + labels.shape[0]) of the first spatial axis. */
  onSlab?: (start: number, labels: torch.Tensor, probabilities?: torch.Tensor) => void;
}

export interface SlidingWindowResult {
  /** argmax labels, uint8 [...spatial] (int64 if more than 255 classes). */
  labels: torch.Tensor;
  /** softmax probabilities [K, ...spatial] when requested. */
  probabilities?: torch.Tensor;
}

/** nnU-Net's window start positions along one axis: evenly spread, first at 0, last at size − patch. */
export function windowStarts(size: number, patch: number, overlap: number): number[] {
  if (patch >= size) return [0];
  const step = Math.max(1, Math.floor(patch * (1 - overlap)));
  const n = Math.ceil((size - patch) / step) + 1;
  const span = size - patch;
  const starts: number[] = [];
  for (let i = 0; i < n; i++) starts.push(n === 1 ? 0 : Math.round((i * span) / (n - 1)));
  return [...new Set(starts)];
}

const gaussianCache = new Map<string, torch.Tensor>();

/** Importance map: a Gaussian with σ = patch/8 per axis, max 1, zeros lifted to the smallest positive value. */
export function gaussianImportance(patch: readonly number[]): torch.Tensor {
  const key = patch.join('x');
  let g = gaussianCache.get(key);
  if (!g) {
    g = torch.tidy(() => {
      // Separable: the product of one 1D Gaussian per axis. Its smallest value
      // (exp(-8) at a corner axis) is positive, so no window edge gets zero weight.
      let m = torch.ones(patch.map(() => 1), { dtype: 'float64' });
      patch.forEach((p, axis) => {
        const sigma = p / 8;
        const x = torch.arange(p, { dtype: 'float64' }).sub((p - 1) / 2);
        m = m.mul(x.mul(x).div(-2 * sigma * sigma).exp().reshape(patch.map((_, a) => (a === axis ? p : 1))));
      });
      return torch.keep(m.div(m.max()).float());
    });
    gaussianCache.set(key, g);
  }
  return g;
}

/**
 * argmax along `dim` (first maximum wins, as torch.argmax) as uint8, for up
 * to 255 classes; int64 beyond. libtorch 1.13's CPU argmax over a non-inner
 * dim is ~10× slower than this pairwise max/compare loop over the classes.
 */
export function argmaxClasses(x: torch.Tensor, dim = 0): torch.Tensor {
  const k = x.shape[dim];
  if (k > 255) return x.argmax(dim);
  return torch.tidy(() => {
    let best = x.select(dim, 0);
    const idx = torch.zeros(best.shape, { dtype: 'uint8' });
    for (let c = 1; c < k; c++) {
      const v = x.select(dim, c);
      idx.maskedFill_(v.gt(best), c);
      best = torch.maximum(best, v);
    }
    return idx;
  });
}

function pad(x: torch.Tensor, spatial: number[], patch: readonly number[]): { x: torch.Tensor; padded: number[] } {
  const padded = spatial.map((s, i) => Math.max(s, patch[i]));
  if (padded.every((p, i) => p === spatial[i])) return { x, padded };
  // F.pad lists pads from the last axis backwards: (left, right) per axis.
  const pads: number[] = [];
  for (let i = spatial.length - 1; i >= 0; i--) pads.push(0, padded[i] - spatial[i]);
  return { x: torch.F.pad(x, pads, { mode: 'constant', value: 0 }), padded };
}

/**
 * Logits of a batch, or with mirrorAxes (0-based spatial axes) the log of the
 * softmax averaged over every mirrored combination (nnU-Net's TTA).
 */
export function predictMirrored(predict: Predictor, x: torch.Tensor, mirrorAxes: readonly number[]): torch.Tensor {
  const logits = predict(x);
  if (!mirrorAxes.length) return logits;
  // Average softmax over every subset of mirrored axes (nnU-Net's TTA).
  let sum = torch.F.softmax(logits, 1);
  let count = 1;
  const axes = mirrorAxes.map((a) => a + 2);
  for (let mask = 1; mask < 1 << axes.length; mask++) {
    const dims = axes.filter((_, i) => mask & (1 << i));
    const p = torch.F.softmax(predict(torch.flip(x, dims)), 1);
    sum = sum.add(torch.flip(p, dims));
    count++;
  }
  // Back to log space so the accumulation treats both paths alike.
  return sum.div(count).clamp(1e-8).log();
}

/**
 * Predicts a whole image [C, ...spatial] (2D or 3D) with overlapping windows.
 * Returns argmax labels (and probabilities when asked). Peak memory is about
 * K × patch[0] × (rest of the volume) floats for the accumulator, not K × volume.
 */
export function slidingWindowInference(image: torch.Tensor, predict: Predictor, options: SlidingWindowOptions): SlidingWindowResult {
  const patch = [...options.patchSize];
  const nd = patch.length;
  if (image.ndim !== nd + 1) throw new Error(`slidingWindowInference: image must be [C, ${nd === 3 ? 'Z, Y, X' : 'Y, X'}] for a ${nd}D patch, got shape [${image.shape.join(', ')}]`);
  const overlap = options.overlap ?? 0.5;
  if (!(overlap >= 0 && overlap < 1)) throw new RangeError(`slidingWindowInference: overlap must be in [0, 1), got ${overlap}`);
  const batchSize = options.batchSize ?? 1;
  const spatial = image.shape.slice(1);
  return torch.noGrad(() => torch.tidy(() => {
    const { x: input, padded } = pad(image, spatial, patch);
    const starts = padded.map((s, i) => windowStarts(s, patch[i], overlap));
    const importance = options.gaussian === false ? torch.onesLike(gaussianImportance(patch)) : gaussianImportance(patch);
    const rest = padded.slice(1);
    const [z0s, ...others] = starts;
    const tails: number[][] = [[]];
    for (const s of others) {
      const next: number[][] = [];
      for (const t of tails) for (const v of s) next.push([...t, v]);
      tails.splice(0, tails.length, ...next);
    }
    let labelsOut: torch.Tensor | null = null;
    let probsOut: torch.Tensor | null = null;
    let acc: torch.Tensor | null = null; // [K, patch0, ...rest] weighted logits for planes [lo, lo + patch0)
    const wsum = torch.zeros([patch[0], ...rest]);
    let lo = 0;
    let classes = 0;
    const finalize = (count: number) => {
      // Planes [lo, lo + count) are complete.
      torch.tidy(() => {
        const a = acc!.narrow(1, 0, count);
        const w = wsum.narrow(0, 0, count);
        // Every voxel is covered by a window and the importance map is positive, so w > 0.
        const logits = a.div(w.unsqueeze(0));
        const lab = argmaxClasses(logits, 0);
        labelsOut!.narrow(0, lo, count).copy_(lab);
        let probs: torch.Tensor | undefined;
        if (options.returnProbabilities || options.onSlab) probs = torch.F.softmax(logits, 0);
        if (options.returnProbabilities) probsOut!.narrow(1, lo, count).copy_(probs!);
        options.onSlab?.(lo, lab, probs);
      });
    };
    const shift = (by: number) => {
      // Drop `by` finished planes from the front of the accumulators, in
      // place (no second accumulator): the kept planes move to the front
      // through a copy of just them, the freed planes are zeroed. Scoped, so
      // no temporary outlives the step.
      const keepN = patch[0] - by;
      torch.tidy(() => {
        for (const [t, dim] of [[acc!, 1], [wsum, 0]] as const) {
          if (keepN > 0) t.narrow(dim, 0, keepN).copy_(t.narrow(dim, by, keepN).clone());
          t.narrow(dim, Math.max(keepN, 0), patch[0] - Math.max(keepN, 0)).zero_();
        }
      });
    };
    for (let zi = 0; zi < z0s.length; zi++) {
      const z = z0s[zi];
      if (zi > 0) {
        const by = z - lo;
        finalize(by);
        shift(by);
        lo = z;
      }
      for (let b = 0; b < tails.length; b += batchSize) {
        const group = tails.slice(b, b + batchSize);
        torch.tidy(() => {
          const windows = group.map((t) => {
            let w = input.narrow(1, z, patch[0]);
            t.forEach((s, i) => { w = w.narrow(i + 2, s, patch[i + 1]); });
            return w;
          });
          const batch = torch.stack(windows, 0);
          const logits = predictMirrored(predict, batch, options.mirrorAxes ?? []).float();
          if (logits.shape[0] !== group.length || logits.ndim !== nd + 2) {
            throw new Error(`slidingWindowInference: the predictor returned shape [${logits.shape.join(', ')}] for a batch of ${group.length} windows of [${patch.join(', ')}]`);
          }
          if (!acc) {
            classes = logits.shape[1];
            labelsOut = torch.keep(torch.empty(padded, { dtype: classes > 255 ? 'int64' : 'uint8' }));
            acc = torch.keep(torch.zeros([classes, patch[0], ...rest]));
            if (options.returnProbabilities) probsOut = torch.keep(torch.zeros([classes, ...padded]));
          }
          group.forEach((t, gi) => {
            let a = acc!;
            let w = wsum;
            t.forEach((s, i) => { a = a.narrow(i + 2, s, patch[i + 1]); w = w.narrow(i + 1, s, patch[i + 1]); });
            a.addcmul_(logits.select(0, gi), importance);
            w.add_(importance);
          });
        });
      }
    }
    finalize(patch[0]);
    acc!.dispose();
    wsum.dispose();
    // Crop the padding away.
    let labels = labelsOut! as torch.Tensor;
    let probabilities = probsOut as torch.Tensor | null;
    spatial.forEach((s, i) => {
      if (padded[i] !== s) {
        labels = labels.narrow(i, 0, s);
        if (probabilities) probabilities = probabilities.narrow(i + 1, 0, s);
      }
    });
    const result: SlidingWindowResult = { labels: labels === labelsOut ? labels : labels.contiguous() };
    if (probabilities) result.probabilities = probabilities === probsOut ? probabilities : (probabilities as torch.Tensor).contiguous();
    return result;
  }));
}
