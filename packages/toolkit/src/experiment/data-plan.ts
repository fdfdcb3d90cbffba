// What an experiment trains and evaluates on, resolved from data.dataset:
// the slice source and the labelled/unlabelled ids, the validation and test
// volumes, classes and channels. Label budgets are counted in patients
// (cases) and reported with their slice counts.
import fs from 'node:fs';
import type * as torch from '@labelwise/torch';
import { detectLayout } from '../data/sources/index.js';
import { openAcdc, type AcdcItem } from '../io/layouts/acdc.js';
import type { Experiment } from '../config/experiment.js';
import type { SliceSource } from '../training/slice-source.js';

export interface VolumeCase {
  id: string;
  /** image [C, Z, Y, X] float32, label [Z, Y, X] uint8, spacing (x, y, z) mm. */
  load(): Promise<{ image: torch.Tensor; label: torch.Tensor; spacing: number[]; affine?: Float64Array }>;
}

export interface DataPlan {
  layout: string;
  source: SliceSource;
  labelled: string[];
  unlabelled: string[];
  validation: VolumeCase[];
  test: VolumeCase[];
  inChannels: number;
  numClasses: number;
  classNames: string[];
  /** How slices are resized to the patch size (the seeds zoom with order 0). */
  imageResize: 'nearest' | 'bilinear';
  /** Label budget as stated in the literature. */
  budget: { labelledCases: number | 'all'; labelledSlices: number; unlabelledSlices: number };
  preprocessing: Record<string, unknown>;
  /** Metric protocols the test evaluation reports (the honest one first). */
  protocols: string[];
  /** Case ids per split, when the plan derived the split itself. */
  splits?: Record<string, string[]>;
}


function acdcVolume(item: AcdcItem): VolumeCase {
  return {
    id: item.id,
    async load() {
      const c = await item.load();
      const image = c.image.toTensor('float32');
      const l = c.label!.toTensor('uint8');
      const label = l.squeeze(0);
      l.dispose();
      return { image, label, spacing: [...c.image.spacing], affine: c.image.affine };
    },
  };
}

export async function resolveDataPlan(exp: Experiment): Promise<DataPlan> {
  const root = exp.data.dataset;
  if (!fs.existsSync(root)) throw new Error(`data.dataset: ${root} does not exist`);
  // The seeds' ACDC layout trains on its published slice list; any other
  // layout goes through the generic dataset reader.
  const layout = exp.data.layout ?? detectLayout(root);
  if (layout === 'acdc' || layout === 'h5-acdc') {
    const acdc = await openAcdc(root);
    const n = exp.data.labelled;
    const patients = new Set(acdc.trainSlices.map((s) => s.patient)).size;
    if (n !== undefined && n > patients) throw new Error(`data.labelled: ${n} patients requested, the ACDC training split has ${patients}`);
    const labelled = (n === undefined ? acdc.trainSlices : acdc.labelledSlices(n)).map((s) => s.id);
    const unlabelled = n === undefined ? [] : acdc.unlabelledSlices(n).map((s) => s.id);
    const split = exp.validation.split;
    if (split === 'test') throw new Error("validation.split: 'test' is not allowed — model selection on the test split inflates results (the original BCP code does this; Labelwise does not)");
    if (split !== 'val') throw new Error(`validation.split: '${split}' is not one of val`);
    return {
      layout, source: { kind: 'acdc', root },
      labelled, unlabelled,
      validation: acdc.volumes.val.filter((v) => v.available).map(acdcVolume),
      test: acdc.volumes.test.filter((v) => v.available).map(acdcVolume),
      inChannels: 1, numClasses: 4, classNames: ['background', 'RV', 'Myo', 'LV'],
      imageResize: 'nearest',
      budget: { labelledCases: n ?? 'all', labelledSlices: labelled.length, unlabelledSlices: unlabelled.length },
      // The HDF5 files already hold min-max normalised images, so prediction on them must not normalise again.
      preprocessing: { normalization: { scheme: 'none' }, note: 'per-volume min-max to [0, 1] is stored so in the ACDC HDF5 files' },
      protocols: ['labelwise', 'bcp'],
    };
  }
  const { datasetSlicePlan } = await import('./dataset-slices.js');
  return datasetSlicePlan(exp, root, layout === 'project' ? undefined : layout);
}
