// What an experiment trains and evaluates on, resolved from data.dataset:
// the slice source and the labelled/unlabelled ids, the validation and test
// volumes, classes and channels. Label budgets are counted in patients
// (cases) and reported with their slice counts.
import fs from 'node:fs';
import type * as torch from '@labelwise/torch';
import { detectLayout } from '../data/sources/index.js';
import type { Volume } from '../io/volume.js';
import { datasetSlicePlan } from './dataset-slices.js';
import { type Experiment, datasetLayout } from '../config/experiment.js';
import type { SliceSource } from '../training/slice-source.js';

export interface VolumeCase {
  id: string;
  /** image [C, Z, Y, X] float32 (normalised), label [Z, Y, X] uint8, spacing (x, y, z) mm: for validation. */
  load(): Promise<{ image: torch.Tensor; label: torch.Tensor; spacing: number[]; affine?: Float64Array }>;
  /** The image as read from disk (as `labelwise predict` gets it) and its label: for the test evaluation. */
  loadVolumes(): Promise<{ image: Volume; label: Volume }>;
}

export interface DataPlan {
  layout: string;
  source: SliceSource;
  labelled: string[];
  unlabelled: string[];
  /** Slice ids of the scribbles stream (masks of these slices are turned into simulated scribbles), when data.weak is set. */
  weak: { scribbles?: string[]; seed?: number };
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
  /** Training slice ids per centre (the 'site:<name>' streams). */
  sites: Record<string, string[]>;
}


export async function resolveDataPlan(exp: Experiment): Promise<DataPlan> {
  const root = exp.data.dataset;
  if (!fs.existsSync(root)) throw new Error(`data.dataset: ${root} does not exist`);
  const layout = exp.data.layout ? datasetLayout(exp.data.layout) : detectLayout(root);
  return datasetSlicePlan(exp, root, layout === 'project' ? undefined : layout);
}
