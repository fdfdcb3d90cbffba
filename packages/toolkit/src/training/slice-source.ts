// Where 2D training slices come from, described as JSON so DataLoader workers
// can open the same source: any Labelwise dataset (the seeds' HDF5 layouts
// included) whose cases are 2D images, stored slices, or 3D volumes cut into
// slices "<case>#<k>".
import * as torch from '@labelwise/torch';
import { type Case, type Project, allCases, loadCase } from '../data/dataset.js';
import { openDataset } from '../data/sources/index.js';
import type { Volume } from '../io/volume.js';
import { type NormalizationConfig, normalize } from '../transforms/normalize.js';

export type SliceSource = { kind: 'dataset'; path: string; layout?: string; normalization?: NormalizationConfig; open?: Record<string, unknown> };

export function openSliceProject(root: string, layout: string | undefined, open: Record<string, unknown>): Promise<Project> {
  return openDataset(root, { ...open, ...(layout ? { layout: layout as never } : {}) });
}

/** A loaded case as tensors: image [C, Z, Y, X] normalised, label [Z, Y, X] uint8 (or null). */
export async function caseTensors(project: Project, c: Case, norm: NormalizationConfig): Promise<{ image: torch.Tensor; label: torch.Tensor | null; vol: Volume }> {
  const lc = await loadCase(project, c);
  const raw = lc.image.toTensor('float32');
  const image = normalize(raw, norm);
  raw.dispose();
  let label: torch.Tensor | null = null;
  if (lc.label) {
    const l = lc.label.toTensor('uint8');
    label = l.squeeze(0);
    l.dispose();
  }
  return { image, label, vol: lc.image };
}

export interface LoadedSlice {
  /** [C, H, W] float32. */
  image: torch.Tensor;
  /** [H, W] uint8, or null when the item has no label. */
  label: torch.Tensor | null;
}

/** Slices loaded by this thread's slice sources (tests count them: a stream nobody reads is never loaded). */
export const sliceLoads = { count: 0 };

export async function loadSliceSource(src: SliceSource): Promise<(id: string) => Promise<LoadedSlice>> {
  return loadDatasetSlices(src.path, src.layout, src.normalization, src.open);
}

/** Slice loader for DataLoader workers (see slice-source.ts). */
export async function loadDatasetSlices(root: string, layout?: string, normalization?: NormalizationConfig, openOpts?: Record<string, unknown>): Promise<(id: string) => Promise<LoadedSlice>> {
  const project = await openSliceProject(root, layout, openOpts ?? {});
  const norm = normalization ?? { scheme: 'zscore' as const };
  let cached: { id: string; image: torch.Tensor; label: torch.Tensor | null } | null = null;
  return async (id: string) => {
    sliceLoads.count++;
    const hash = id.lastIndexOf('#');
    const caseId = hash >= 0 ? id.slice(0, hash) : id;
    const k = hash >= 0 ? Number(id.slice(hash + 1)) : 0;
    if (!cached || cached.id !== caseId) {
      const c = allCases(project).find((x) => x.id === caseId);
      if (!c) throw new Error(`dataset ${root}: no case '${caseId}'`);
      cached?.image.dispose();
      cached?.label?.dispose();
      const t = await caseTensors(project, c, norm);
      cached = { id: caseId, image: t.image, label: t.label };
    }
    if (k < 0 || k >= cached.image.shape[1]) throw new Error(`dataset ${root}: case '${caseId}' has ${cached.image.shape[1]} slices, slice ${k} requested`);
    return {
      image: cached.image.select(1, k).contiguous(),
      label: cached.label ? cached.label.select(0, k).contiguous() : null,
    };
  };
}
