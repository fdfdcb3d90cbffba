// The seeds' HDF5 folders (ACDC, LA, STDR) as single-centre projects. Each
// HDF5 file is one case read through its layout (io/layouts); the splits
// the layouts publish (ACDC's lists, LA's train/test lists, STDR's folders)
// are recorded on the cases, and list order is kept because the literature
// cuts labelled subsets from it ("the first 3 patients of train_slices.list").
import path from 'node:path';
import { type H5Item, openAcdc, openLa, openStdr } from '../../io/layouts/index.js';
import { type Case, type CaseLoaderRef, type LabelMap, type Project, type SplitName, makeProject, validateLabelMap } from '../dataset.js';
import { type OpenDatasetOptions, applyPatterns, rel } from './common.js';

export type H5DatasetLayout = 'h5-acdc' | 'h5-la' | 'h5-stdr';

const DEFAULT_LABELS: Record<H5DatasetLayout, LabelMap> = {
  'h5-acdc': { background: 0, RV: 1, Myo: 2, LV: 3 },
  'h5-la': { background: 0, left_atrium: 1 },
  'h5-stdr': { background: 0, GTV: 1 },
};

function toCase(root: string, item: H5Item, split: SplitName, centre: string, layout: CaseLoaderRef['layout']): Case {
  const file = rel(root, item.path);
  return {
    id: item.id, centre, patient: item.patient, images: [file], label: file, status: 'labelled', split,
    loader: { kind: 'h5', layout }, meta: { kind: item.kind, volume: item.caseId },
  };
}

export async function openH5Dataset(root: string, layout: H5DatasetLayout, opts: OpenDatasetOptions = {}): Promise<Project> {
  const absRoot = path.resolve(root);
  const name = opts.name ?? path.basename(absRoot);
  const centre = opts.centre ?? name;
  const cases: Case[] = [];
  const meta: Record<string, unknown> = { spacing: 'ACDC and LA files store no spacing: 1 mm is used; STDR volumes store voxel_spacing' };
  if (layout === 'h5-acdc') {
    // The files hold per-volume min-max images; the semi-supervised seeds resize with order 0 and report their own metrics too.
    meta.training = { normalization: { scheme: 'none' }, imageResize: 'nearest', protocols: ['labelwise', 'bcp'] };
    const l = await openAcdc(absRoot);
    for (const s of l.trainSlices) if (s.available) cases.push(toCase(absRoot, s, 'train', centre, 'acdc'));
    // Training volumes only when their slices are absent: the literature trains on slices.
    if (cases.length === 0) for (const v of l.volumes.train) if (v.available) cases.push(toCase(absRoot, v, 'train', centre, 'acdc'));
    for (const split of ['val', 'test'] as const) for (const v of l.volumes[split]) if (v.available) cases.push(toCase(absRoot, v, split, centre, 'acdc'));
  } else if (layout === 'h5-la') {
    const l = await openLa(absRoot);
    for (const v of l.train) cases.push(toCase(absRoot, v, 'train', centre, 'la'));
    for (const v of l.test) cases.push(toCase(absRoot, v, 'test', centre, 'la'));
  } else {
    const l = await openStdr(absRoot);
    for (const s of l.trainSlices) cases.push(toCase(absRoot, s, 'train', centre, 'stdr'));
    for (const v of l.val) cases.push(toCase(absRoot, v, 'val', centre, 'stdr'));
    for (const v of l.test) cases.push(toCase(absRoot, v, 'test', centre, 'stdr'));
  }
  if (cases.length === 0) throw new Error(`${root}: the ${layout} layout lists no available case`);
  applyPatterns(cases, opts);
  const labels = opts.labels ? validateLabelMap(opts.labels, 'labels option') : DEFAULT_LABELS[layout];
  return makeProject({ name, root: absRoot, layout, channelNames: opts.channelNames ?? ['MRI'], labels, fileEnding: '.h5', cases, meta });
}
