// 2D training on any Labelwise dataset (nnU-Net/MSD volumes, 2D image
// folders, manifests): cases are split deterministically when the dataset has
// no split, the label budget is cut by patients, and every case becomes
// slices "<case>#<k>" along its third voxel axis (one slice for a 2D image).
import type * as torch from '@labelwise/torch';
import { type Case, type Project, allCases, loadCase } from '../data/dataset.js';
import { openDataset } from '../data/sources/index.js';
import { applyFold, kFoldSplits, ratioSplit, selectLabelled } from '../data/splits.js';
import type { Volume } from '../io/volume.js';
import { type NormalizationConfig, normalize, validateNormalization } from '../transforms/normalize.js';
import type { Experiment } from '../config/experiment.js';
import type { DataPlan, VolumeCase } from './data-plan.js';
import type { LoadedSlice } from '../training/slice-source.js';

interface OpenOptions { layout?: string; normalization?: NormalizationConfig; open?: Record<string, unknown> }

function normalizationOf(exp: Experiment): NormalizationConfig {
  return validateNormalization(exp.data.normalization ?? { scheme: 'zscore' }, 'data.normalization');
}

async function open(root: string, o: OpenOptions): Promise<Project> {
  return openDataset(root, { ...(o.open ?? {}), ...(o.layout ? { layout: o.layout as never } : {}) });
}

/** A loaded case as tensors: image [C, Z, Y, X] normalised, label [Z, Y, X] uint8 (or null). */
async function caseTensors(project: Project, c: Case, norm: NormalizationConfig): Promise<{ image: torch.Tensor; label: torch.Tensor | null; vol: Volume }> {
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

function sliceIds(c: Case, depth: number): string[] {
  return depth === 1 ? [c.id] : Array.from({ length: depth }, (_, k) => `${c.id}#${k}`);
}

export async function datasetSlicePlan(exp: Experiment, root: string, layout?: string): Promise<DataPlan> {
  const norm = normalizationOf(exp);
  const openOpts = exp.data.open ?? {};
  const project = await open(root, { layout, open: openOpts });
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
  const depthOf = async (c: Case): Promise<number> => {
    const lc = await loadCase(project, c, { skipLabel: true });
    return lc.image.dims[2];
  };
  const labelled: string[] = [];
  const unlabelled: string[] = [];
  let channels = 0;
  for (const c of train) {
    const depth = await depthOf(c);
    if (!channels) channels = (await loadCase(project, c, { skipLabel: true })).image.channels;
    (chosen.has(c.id) ? labelled : unlabelled).push(...sliceIds(c, depth));
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
  });
  const withLabel = (s: string) => cases.filter((c) => c.split === s && c.status === 'labelled').map(asVolumeCase);
  return {
    layout: project.layout,
    source: { kind: 'dataset', path: root, layout: project.layout, normalization: norm, open: openOpts },
    labelled, unlabelled,
    validation: withLabel('val'),
    test: withLabel('test'),
    inChannels: channels, numClasses: classNames.length, classNames,
    imageResize: 'bilinear',
    budget: { labelledCases: n ?? 'all', labelledSlices: labelled.length, unlabelledSlices: unlabelled.length },
    preprocessing: { normalization: norm },
    protocols: ['labelwise'],
    splits: Object.fromEntries(['train', 'val', 'test'].map((s) => [s, cases.filter((c) => (c.split ?? 'train') === s).map((c) => c.id)])),
  };
}

/** Slice loader for DataLoader workers (see slice-source.ts). */
export async function loadDatasetSlices(root: string, layout?: string, normalization?: NormalizationConfig, openOpts?: Record<string, unknown>): Promise<(id: string) => Promise<LoadedSlice>> {
  const project = await open(root, { layout, open: openOpts });
  const norm = normalization ?? { scheme: 'zscore' as const };
  let cached: { id: string; image: torch.Tensor; label: torch.Tensor | null } | null = null;
  return async (id: string) => {
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
