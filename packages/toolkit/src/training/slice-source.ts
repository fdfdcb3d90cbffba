// Where 2D training slices come from, described as JSON so DataLoader workers
// can open the same source: the seeds' ACDC HDF5 layout, or any Labelwise
// dataset whose cases are 2D images (or 3D volumes cut into slices).
import * as torch from '@labelwise/torch';
import { openAcdc, type AcdcItem } from '../io/layouts/acdc.js';
import type { Volume } from '../io/volume.js';
import type { NormalizationConfig } from '../transforms/normalize.js';

export type SliceSource =
  | { kind: 'acdc'; root: string }
  | { kind: 'dataset'; path: string; layout?: string; normalization?: NormalizationConfig; open?: Record<string, unknown> };

export interface LoadedSlice {
  /** [C, H, W] float32. */
  image: torch.Tensor;
  /** [H, W] uint8, or null when the item has no label. */
  label: torch.Tensor | null;
}

/** A 2D Volume (dims [W, H, 1]) as [C, H, W]. */
export function sliceTensor(v: Volume, dtype: torch.DType): torch.Tensor {
  if (v.dims[2] !== 1) throw new Error(`${String(v.meta.source ?? 'volume')}: expected a 2D slice, got dims [${v.dims.join(', ')}]`);
  return torch.tidy(() => v.toTensor(dtype).squeeze(1));
}

export async function loadSliceSource(src: SliceSource): Promise<(id: string) => Promise<LoadedSlice>> {
  if (src.kind === 'acdc') {
    const layout = await openAcdc(src.root);
    const byId = new Map<string, AcdcItem>(layout.trainSlices.map((s) => [s.id, s]));
    return async (id) => {
      const item = byId.get(id);
      if (!item) throw new Error(`ACDC ${src.root}: no training slice '${id}' in train_slices.list`);
      const c = await item.load();
      const image = sliceTensor(c.image, 'float32');
      const label = c.label ? torch.tidy(() => sliceTensor(c.label!, 'uint8').squeeze(0)) : null;
      return { image, label };
    };
  }
  const { loadDatasetSlices } = await import('../experiment/dataset-slices.js');
  return loadDatasetSlices(src.path, src.layout, src.normalization, src.open);
}
