// Batch producer for 2D training on slices (the ACDC semi-supervised setting,
// 2D image folders): every slice is loaded once per thread, then each step
// draws slices by per-epoch permutations (as a shuffling PyTorch DataLoader
// does) and augments each one with its own seeded stream, ending at the patch
// size. Runs inside DataLoader workers; everything depends only on (seed, step).
import * as torch from '@labelwise/torch';
import type { BatchArrays, BatchProducer } from '../data/loader-protocol.js';
import { AugmentPipeline, type AugmentConfig } from '../transforms/compose.js';
import { Rng } from '../random/rng.js';
import { Volume } from '../io/volume.js';
import { simulateScribbles } from '../transforms/simulate-annotations.js';
import { loadSliceSource, type SliceSource } from './slice-source.js';

export interface SliceStream {
  /** Batch field prefix: '' gives image/label, 'u' gives uimage/ulabel. */
  prefix: string;
  ids: string[];
  batchSize: number;
  /** Produce labels for this stream (unlabelled streams omit them). */
  withLabels: boolean;
  /**
   * Weak labels instead of the full masks: skeleton scribbles simulated from
   * each slice's mask, seeded by (seed, slice id); unscribbled pixels (and the
   * augmentation's padding) get the value numClasses, which losses ignore.
   */
  weak?: { kind: 'scribbles'; seed: number; numClasses: number };
}

export interface SliceProducerOptions {
  source: SliceSource;
  streams: SliceStream[];
  /** Output size [H, W]; the augmentation must end with a resize/crop to it. */
  patchSize: [number, number];
  /** Augmentation config (its last op resizes to patchSize); null: resize only. */
  augmentation: AugmentConfig | null;
  seed: number;
}

interface Slice { image: torch.Tensor; label: torch.Tensor | null }

export function resizeOnly(size: readonly number[]): AugmentConfig {
  return { spatialDims: 2, resample: { image: 'linear', label: 'nearest', imagePad: 0, labelPad: 0 }, transforms: [{ name: 'resize', params: { size: [...size], alignCorners: true } }] };
}

/** Index of the k-th draw of a stream: epoch-wise permutations of its items. */
export function epochDraw(seed: number, stream: string, n: number, k: number, cache: Map<number, number[]>): number {
  const epoch = Math.floor(k / n);
  let perm = cache.get(epoch);
  if (!perm) {
    perm = Rng.from(seed, 'epoch', stream, epoch).permutation(n);
    cache.set(epoch, perm);
    if (cache.size > 4) cache.delete(Math.min(...cache.keys()));
  }
  return perm[k % n];
}

/** Simulated scribbles of one slice's mask [H, W] (uint8, numClasses = unscribbled). */
function scribbleSlice(id: string, label: torch.Tensor | null, w: NonNullable<SliceStream['weak']>): torch.Tensor {
  if (!label) throw new Error(`slice ${id}: simulating scribbles needs its mask, and the slice has none`);
  const [h, wd] = label.shape;
  const vol = new Volume({ data: label.to('uint8').contiguous().toTypedArray() as Uint8Array, dims: [wd, h, 1] });
  const s = simulateScribbles(vol, Rng.from(w.seed, 'scribbles', id), { unlabelled: w.numClasses });
  return torch.fromTypedArray(Uint8Array.from(s.labels.data as ArrayLike<number>), [h, wd]);
}

export async function sliceProducer(o: SliceProducerOptions): Promise<BatchProducer> {
  const load = await loadSliceSource(o.source);
  const slices = new Map<string, Slice>();
  const need = new Set(o.streams.flatMap((s) => s.ids));
  for (const id of need) {
    const c = await load(id);
    slices.set(id, { image: torch.keep(c.image), label: c.label ? torch.keep(c.label) : null });
  }
  const weakLabels = new Map<string, torch.Tensor>();
  for (const s of o.streams) {
    if (!s.weak) continue;
    for (const id of s.ids) if (!weakLabels.has(id)) weakLabels.set(id, torch.keep(scribbleSlice(id, slices.get(id)!.label, s.weak)));
  }
  const base = o.augmentation ?? resizeOnly(o.patchSize);
  // Padding that rotations bring in is 'unannotated' for scribble streams (WSL4MIS pads with 4), not background.
  const augs = o.streams.map((s) => new AugmentPipeline(s.weak ? { ...base, resample: { ...base.resample, labelPad: s.weak.numClasses } } : base));
  const perms = o.streams.map(() => new Map<number, number[]>());
  return (step: number): BatchArrays => torch.tidy(() => {
    const out: BatchArrays = {};
    o.streams.forEach((s, si) => {
      const images: torch.Tensor[] = [];
      const labels: torch.Tensor[] = [];
      for (let b = 0; b < s.batchSize; b++) {
        const id = s.ids[epochDraw(o.seed, s.prefix || 'labelled', s.ids.length, step * s.batchSize + b, perms[si])];
        const sl = slices.get(id)!;
        const r = augs[si].apply({ image: sl.image, label: (s.weak ? weakLabels.get(id) : sl.label) ?? torch.zeros(sl.image.shape.slice(1), { dtype: 'uint8' }) }, { seed: Rng.from(o.seed, 'aug', step, si, b) });
        const img = r.sample.image;
        if (img.shape[1] !== o.patchSize[0] || img.shape[2] !== o.patchSize[1]) {
          throw new Error(`slice ${id}: augmentation produced [${img.shape.join(', ')}], expected [C, ${o.patchSize.join(', ')}] (end the augmentation with a resize or crop to data.patchSize)`);
        }
        images.push(img);
        labels.push(r.sample.label!);
      }
      const image = torch.stack(images, 0).float().contiguous();
      out[`${s.prefix}image`] = { data: image.toTypedArray(), shape: image.shape, dtype: 'float32' };
      if (s.withLabels) {
        const label = torch.stack(labels, 0).to('uint8').contiguous();
        out[`${s.prefix}label`] = { data: label.toTypedArray(), shape: label.shape, dtype: 'uint8' };
      }
    });
    return out;
  });
}
