// 2D training on any Labelwise dataset (nnU-Net/MSD volumes, 2D image
// folders, manifests, the seeds' HDF5 layouts): cases are split
// deterministically when the dataset has no split, the label budget is cut by
// patients in list order, and every case becomes slices "<case>#<k>" along its
// third voxel axis (one slice for a 2D image or a stored slice). A source may
// recommend training defaults in project.meta.training (ACDC's HDF5 files are
// already min-max normalised, and the seeds resize with order 0).
import { type Case, type Project, allCases, loadCase } from '../data/dataset.js';
import { applyFold, kFoldSplits, ratioSplit, selectLabelled } from '../data/splits.js';
import { type NormalizationConfig, validateNormalization } from '../transforms/normalize.js';
import type { Experiment } from '../config/experiment.js';
import type { DataPlan, VolumeCase } from './data-plan.js';
import { caseTensors, openSliceProject } from '../training/slice-source.js';

/** Training defaults a dataset source recommends (project.meta.training). */
interface SourceDefaults { normalization?: NormalizationConfig; imageResize?: 'nearest' | 'bilinear'; protocols?: string[] }

function sourceDefaults(project: Project): SourceDefaults {
  const t = (project.meta as Record<string, unknown> | undefined)?.training;
  return t && typeof t === 'object' ? (t as SourceDefaults) : {};
}

function sliceIds(c: Case, depth: number): string[] {
  return depth === 1 ? [c.id] : Array.from({ length: depth }, (_, k) => `${c.id}#${k}`);
}

export async function datasetSlicePlan(exp: Experiment, root: string, layout?: string): Promise<DataPlan> {
  const openOpts = exp.data.open ?? {};
  const project = await openSliceProject(root, layout, openOpts);
  const defaults = sourceDefaults(project);
  const norm = validateNormalization(exp.data.normalization ?? defaults.normalization ?? { scheme: 'zscore' }, 'data.normalization');
  const cases = allCases(project);
  if (cases.length === 0) throw new Error(`data.dataset: ${root} holds no cases`);
  if (!cases.some((c) => c.split === 'val')) {
    const set = cases.some((c) => c.split === 'test')
      ? kFoldSplits(project, { folds: 5, seed: exp.seed })
      : ratioSplit(project, { train: 0.6, val: 0.2, test: 0.2, seed: exp.seed });
    applyFold(project, set, exp.data.fold ?? 0);
  }
  const train = cases.filter((c) => (c.split ?? 'train') === 'train');
  const labelledCases = train.filter((c) => c.status === 'labelled');
  const n = exp.data.labelled;
  const chosen = n === undefined ? new Set(labelledCases.map((c) => c.id)) : new Set(selectLabelled(labelledCases, { count: n, order: 'listed' }).labelled);
  // A stored slice (the seeds' HDF5 training slices) is one slice deep: no need to read it.
  const depthOf = async (c: Case): Promise<number> => {
    if ((c.meta as Record<string, unknown> | undefined)?.kind === 'slice') return 1;
    const lc = await loadCase(project, c, { skipLabel: true });
    return lc.image.dims[2];
  };
  const labelled: string[] = [];
  const unlabelled: string[] = [];
  const scribbled: string[] = [];
  const sites: Record<string, string[]> = {};
  const w = exp.data.weak;
  if (w && w.kind !== 'scribbles') throw new Error(`data.weak.kind: '${w.kind}' needs 3D patches (data.dims: 3d; seven points are placed along ±x, ±y, ±z); 2D slices take kind: scribbles`);
  if (w && w.source !== 'simulate') throw new Error(`data.weak.source: 2D training reads scribbles simulated from the slices' masks ('simulate'); scribble files (${w.source}) are read in 3D runs (data.dims: 3d)`);
  const channels = train.length ? (await loadCase(project, train[0], { skipLabel: true })).image.channels : 1;
  for (const c of train) {
    const ids = sliceIds(c, await depthOf(c));
    (chosen.has(c.id) ? labelled : unlabelled).push(...ids);
    if (w && c.status === 'labelled') scribbled.push(...ids);
    (sites[c.centre] ??= []).push(...ids);
  }
  const names = Object.entries(project.labels).filter(([, v]) => typeof v === 'number').sort((a, b) => (a[1] as number) - (b[1] as number));
  const classNames = names.length ? names.map(([k]) => k) : ['background', 'foreground'];
  const asVolumeCase = (c: Case): VolumeCase => ({
    id: c.id,
    async load() {
      const t = await caseTensors(project, c, norm);
      if (!t.label) throw new Error(`case ${c.id}: has no label to evaluate against`);
      return { image: t.image, label: t.label, spacing: [...t.vol.spacing], affine: t.vol.affine };
    },
    async loadVolumes() {
      const lc = await loadCase(project, c);
      if (!lc.label) throw new Error(`case ${c.id}: has no label to evaluate against`);
      return { image: lc.image, label: lc.label };
    },
  });
  const withLabel = (s: string) => cases.filter((c) => c.split === s && c.status === 'labelled').map(asVolumeCase);
  return {
    layout: project.layout,
    source: { kind: 'dataset', path: root, layout: project.layout, normalization: norm, open: openOpts },
    labelled, unlabelled,
    weak: w ? { scribbles: scribbled, seed: w.seed ?? exp.seed } : {},
    validation: withLabel('val'),
    test: withLabel('test'),
    inChannels: channels, numClasses: classNames.length, classNames,
    imageResize: defaults.imageResize ?? 'bilinear',
    budget: { labelledCases: n ?? 'all', labelledSlices: labelled.length, unlabelledSlices: unlabelled.length },
    preprocessing: { normalization: norm },
    protocols: defaults.protocols ?? ['labelwise'],
    sites,
    splits: Object.fromEntries(['train', 'val', 'test'].map((s) => [s, cases.filter((c) => (c.split ?? 'train') === s).map((c) => c.id)])),
  };
}
