// Batch producer for 3D patch training (nnU-Net's data loader + transforms)
// on the preprocessing cache. Per step and stream:
//   1. sampleBatch draws cases and places boxes (the last ⌈B/3⌉ labelled
//      slots centred on a stored foreground voxel) of the ENLARGED patch —
//      nnU-Net's initial_patch_size, big enough that rotating by the
//      augmentation's largest angle and zooming out never shows padding —
//      padding image 0 / label −1 where a box leaves the volume;
//   2. the augmentation (nnunetDefault3d) rotates, scales and crops the
//      enlarged patch to the training patch in one resampling (centre crop,
//      as nnU-Net, or crop 'given': centred on the voxel the sampler chose),
//      then applies the intensity transforms and mirroring;
//   3. label −1 (outside the image's non-zero region, or padding) becomes 0,
//      as nnU-Net's RemoveLabelTransform(−1, 0): those voxels are trained as
//      background, so any loss works without an ignore index.
// Everything depends only on (options, step): sampling on
// Rng(seed, 'sample', step, stream, slot), augmentation on
// Rng(seed, 'augment3d', step, stream).fork(slot). Cases are read from the
// cache on first use and kept in a per-thread LRU under a byte budget, so
// small datasets stay resident and large ones stream from disk.
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import { type CaseData, type StreamSpec, sampleBatch, sampleBatchPlan, samplingCaseFromProps } from '../transforms/sampling.js';
import type { BatchArrays, BatchProducer } from '../data/loader-protocol.js';
import { loadCachedCase, readCacheSidecar } from '../transforms/cache.js';
import { AugmentPipeline, type AugmentConfig } from '../transforms/compose.js';
import { Rng } from '../random/rng.js';

export interface PatchStream {
  /** Sampling stream name ('labelled', 'unlabelled'). */
  name: string;
  /** Batch field prefix: '' gives image/label, 'u' gives uimage. */
  prefix: string;
  caseIds: string[];
  batchSize: number;
  /** Emit labels for this stream (unlabelled streams omit them). */
  withLabels: boolean;
  /** Fraction of the stream's slots forced to contain foreground (nnU-Net 1/3; 0 for unlabelled data). */
  oversampleForeground: number;
}

export interface PatchProducerOptions {
  /** Preprocessing cache folder (transforms/cache.ts). */
  cacheDir: string;
  streams: PatchStream[];
  /** Training patch (Z, Y, X) on the preprocessed grid. */
  patchSize: number[];
  /**
   * The augmentation, whose spatial part ends at patchSize (nnunetDefault3d),
   * applied to the enlarged patch; null: the sampled patch as is.
   */
  augmentation: AugmentConfig | null;
  /** Size of the sampled boxes (default: enlargedPatchSize(patchSize) with augmentation, else patchSize). */
  samplePatchSize?: number[];
  /** Label dtype of the batch (uint8 up to 256 classes). */
  labelDtype?: 'uint8' | 'int16';
  seed: number;
  /** Bytes of cases each thread keeps loaded (default 2 GiB). */
  cacheBytes?: number;
}

const deg = (d: number) => (d / 180) * Math.PI;

/** Rows of a rotation about tensor axis 0, 1 or 2 applied to a row vector (batchgenerators' rotate_coords_3d). */
function rotateRow(c: readonly number[], axis: number, a: number): number[] {
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  // create_matrix_rotation_{x,y,z}_3d; coords @ R.
  const R = axis === 0 ? [[1, 0, 0], [0, cos, -sin], [0, sin, cos]] : axis === 1 ? [[cos, 0, sin], [0, 1, 0], [-sin, 0, cos]] : [[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]];
  return [0, 1, 2].map((j) => c[0] * R[0][j] + c[1] * R[1][j] + c[2] * R[2][j]);
}

/**
 * nnU-Net's initial patch size (get_patch_size with its default 3D rotation
 * ±30° about every axis, or ±180° in-plane for "dummy 2D" anisotropic
 * patches, and scale range (0.85, 1.25)): the box to sample so the spatial
 * augmentation can rotate and zoom out without reaching its border.
 */
export function enlargedPatchSize(patch: readonly number[]): number[] {
  if (patch.length !== 3) throw new RangeError(`enlargedPatchSize: expected a 3D patch (Z, Y, X), got [${patch.join(', ')}]`);
  const dummy2d = Math.max(...patch) / patch[0] > 3;
  const minScale = 0.85;
  if (dummy2d) {
    // In-plane rotation up to 90° (larger angles add nothing): both in-plane sides become the larger one.
    const rot = Math.min(deg(90), deg(180));
    const c = [patch[1], patch[2]];
    const r = [Math.abs(c[0] * Math.cos(rot) + c[1] * Math.sin(rot)), Math.abs(-c[0] * Math.sin(rot) + c[1] * Math.cos(rot))];
    const m = [Math.max(r[0], c[0]), Math.max(r[1], c[1])];
    return [patch[0], Math.trunc(m[0] / minScale), Math.trunc(m[1] / minScale)];
  }
  const rot = Math.min(deg(90), deg(30));
  let out = [...patch];
  for (let axis = 0; axis < 3; axis++) {
    const r = rotateRow(patch, axis, rot).map(Math.abs);
    out = out.map((v, i) => Math.max(v, r[i]));
  }
  return out.map((v) => Math.trunc(v / minScale));
}

interface Loaded {
  image: Tensor;
  label: Tensor | null;
  classLocations: Map<number, Int32Array>;
  bytes: number;
}

/** Cases loaded on demand, least recently used evicted beyond the byte budget. */
class CaseCache {
  private readonly entries = new Map<string, Loaded>();
  private bytes = 0;

  constructor(private readonly dir: string, private readonly budget: number) {}

  /** Loads every id (keeping them all, whatever the budget), evicting others first. */
  acquire(ids: ReadonlySet<string>): Map<string, Loaded> {
    const out = new Map<string, Loaded>();
    for (const id of ids) {
      const hit = this.entries.get(id);
      if (hit) {
        this.entries.delete(id);
        this.entries.set(id, hit);
        out.set(id, hit);
      }
    }
    for (const id of ids) {
      if (out.has(id)) continue;
      const c = loadCachedCase(this.dir, id);
      const bytes = c.image.numel() * 4 + (c.label ? c.label.numel() * 2 : 0);
      this.evict(bytes, ids);
      const entry: Loaded = { image: c.image, label: c.label, classLocations: c.classLocations, bytes };
      this.entries.set(id, entry);
      this.bytes += bytes;
      out.set(id, entry);
    }
    return out;
  }

  private evict(incoming: number, pinned: ReadonlySet<string>): void {
    for (const [id, e] of this.entries) {
      if (this.bytes + incoming <= this.budget) return;
      if (pinned.has(id)) continue;
      e.image.dispose();
      e.label?.dispose();
      this.entries.delete(id);
      this.bytes -= e.bytes;
    }
  }
}

function checkOptions(o: PatchProducerOptions): void {
  if (!Array.isArray(o.patchSize) || o.patchSize.length !== 3 || o.patchSize.some((p) => !Number.isInteger(p) || p < 1)) {
    throw new Error(`patchProducer: patchSize must be 3 positive integers (Z, Y, X), got ${JSON.stringify(o.patchSize)}`);
  }
  if (o.samplePatchSize && (o.samplePatchSize.length !== 3 || o.samplePatchSize.some((p, i) => !Number.isInteger(p) || p < o.patchSize[i]))) {
    throw new Error(`patchProducer: samplePatchSize must be 3 integers ≥ patchSize [${o.patchSize.join(', ')}], got ${JSON.stringify(o.samplePatchSize)}`);
  }
  if (o.augmentation && o.augmentation.spatialDims !== 3) throw new Error(`patchProducer: the augmentation must be 3D (spatialDims 3), got ${o.augmentation.spatialDims}`);
  for (const s of o.streams) if (s.batchSize > 0 && s.caseIds.length === 0) throw new Error(`patchProducer: stream '${s.name}' has no cases`);
}

/** Builds the producer (once per loader thread): reads the cache sidecars; voxels load on first use. */
export function patchProducer(o: PatchProducerOptions): BatchProducer {
  checkOptions(o);
  const samplePatch = o.samplePatchSize ?? (o.augmentation ? enlargedPatchSize(o.patchSize) : [...o.patchSize]);
  const needToPad = samplePatch.map((s, i) => s - o.patchSize[i]);
  const specs: StreamSpec[] = o.streams.map((s) => ({
    name: s.name,
    batchSize: s.batchSize,
    patchSize: samplePatch,
    needToPad,
    oversampleForeground: s.oversampleForeground,
    cases: s.caseIds.map((id) => {
      const side = readCacheSidecar(o.cacheDir, id);
      if (!side) throw new Error(`patchProducer: no valid cache entry for case '${id}' in ${o.cacheDir} (run preprocessing first)`);
      const sc = samplingCaseFromProps(side.props, id);
      // Streams without labels never force foreground; their cache holds no locations.
      return s.withLabels ? sc : { ...sc, classes: [] };
    }),
  }));
  const cache = new CaseCache(o.cacheDir, o.cacheBytes ?? 2 * 1024 ** 3);
  const pipeline = o.augmentation ? new AugmentPipeline(o.augmentation) : null;
  const labelDtype = o.labelDtype ?? 'uint8';

  return (step: number): BatchArrays => {
    // Which cases this step touches (the plan is pure, so sampleBatch draws the same ones).
    const need = new Set(sampleBatchPlan(o.seed, step, specs).map((p) => o.streams[p.streamIndex].caseIds[p.caseIndex]));
    const loaded = cache.acquire(need);
    const getCase = (si: number, ci: number): CaseData => {
      const e = loaded.get(o.streams[si].caseIds[ci])!;
      return { image: e.image, label: o.streams[si].withLabels ? e.label : null, classLocations: e.classLocations };
    };
    return torch.tidy(() => {
      const batches = sampleBatch(o.seed, step, specs, getCase);
      const out: BatchArrays = {};
      batches.forEach((b, si) => {
        const s = o.streams[si];
        if (s.batchSize === 0) return;
        let image = b.image;
        let label: Tensor | null = s.withLabels ? (b.label ?? torch.full([s.batchSize, 1, ...samplePatch], -1, { dtype: 'int16' })) : null;
        if (pipeline) {
          const center = b.boxes.map((box) => (box.centre ? box.centre.map((v, a) => v - box.start[a]) : box.size.map((n) => (n - 1) / 2)));
          const r = pipeline.apply({ image, ...(label ? { label } : {}), center }, { seed: Rng.from(o.seed, 'augment3d', step, si) });
          image = r.sample.image;
          label = r.sample.label ?? null;
        }
        const got = image.shape.slice(2);
        if (got.some((n, i) => n !== o.patchSize[i])) {
          throw new Error(`patchProducer: the augmentation produced patches [${got.join(', ')}], expected [${o.patchSize.join(', ')}] (its crop must end at data.patchSize)`);
        }
        const img = image.float().contiguous();
        out[`${s.prefix}image`] = { data: img.toTypedArray(), shape: img.shape, dtype: 'float32' };
        if (label) {
          const lab = label.squeeze(1).clamp(0).to(labelDtype).contiguous();
          out[`${s.prefix}label`] = { data: lab.toTypedArray(), shape: lab.shape, dtype: labelDtype };
        }
      });
      return out;
    });
  };
}
