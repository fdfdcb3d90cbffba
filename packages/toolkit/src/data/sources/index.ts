// `openDataset(path)`: recognise a dataset's layout and read it into a
// Project. Detection, in order:
//   a project JSON (format "labelwise.project")          → the recorded project
//   a .csv/.tsv/.json manifest file                       → manifest
//   a folder with dataset.json + channel_names/file_ending → nnU-Net v2 raw
//   a folder with dataset.json + training list             → MSD (and nnU-Net v1)
//   data/ + train_slices.list                              → ACDC HDF5
//   train.list + test.list + <case>/mri_norm2.h5           → LA HDF5
//   training_set/ | val_set/ | test_set/                   → STDR HDF5
//   manifest.csv / manifest.json / cases.csv in the folder → manifest
//   folders of images/ (+ masks/)                          → 2D image folders
// `layout` skips detection.
import fs from 'node:fs';
import path from 'node:path';
import { type DatasetLayout, type Project, loadProject } from '../dataset.js';
import { openManifestDataset } from '../manifest.js';
import { type OpenDatasetOptions, isDir, isFile, listDirs, readJsonFile } from './common.js';
import { openH5Dataset } from './h5.js';
import { findPairDirs, openImage2dDataset } from './image2d.js';
import { openMsdDataset } from './msd.js';
import { openNnunetDataset } from './nnunet.js';

export type { OpenDatasetOptions } from './common.js';
export { openNnunetDataset, parseChannelNames } from './nnunet.js';
export { openMsdDataset, msdLabelsToMap } from './msd.js';
export { openH5Dataset, type H5DatasetLayout } from './h5.js';
export { openImage2dDataset, findPairDirs, encodingForCentre, IMAGE_DIR_NAMES, MASK_DIR_NAMES } from './image2d.js';

export const DATASET_LAYOUTS: readonly DatasetLayout[] = ['nnunet', 'msd', 'h5-acdc', 'h5-la', 'h5-stdr', 'image2d', 'manifest'];
const MANIFEST_NAMES = ['manifest.csv', 'manifest.tsv', 'manifest.json', 'cases.csv', 'cases.json'];

function isProjectJson(file: string): boolean {
  if (!file.toLowerCase().endsWith('.json')) return false;
  const j = readJsonFile(file) as Record<string, unknown>;
  return !!j && typeof j === 'object' && j.format === 'labelwise.project';
}

/** The layout of `p`, or an error listing what was looked for. */
export function detectLayout(p: string): DatasetLayout | 'project' {
  if (isFile(p)) {
    const base = path.basename(p).toLowerCase();
    if (base === 'dataset.json') return detectLayout(path.dirname(p));
    if (isProjectJson(p)) return 'project';
    if (/\.(csv|tsv|json)$/i.test(p)) return 'manifest';
    throw new Error(`${p}: not a dataset folder, dataset.json, project JSON or .csv/.tsv/.json manifest`);
  }
  if (!isDir(p)) throw new Error(`${p}: no such file or folder`);
  const dj = path.join(p, 'dataset.json');
  if (isFile(dj)) {
    const j = readJsonFile(dj) as Record<string, unknown>;
    if (j && typeof j === 'object') {
      if (j.channel_names !== undefined || j.file_ending !== undefined) return 'nnunet';
      if (Array.isArray(j.training)) return 'msd';
    }
    throw new Error(`${dj}: neither nnU-Net v2 (needs 'channel_names' and 'file_ending') nor MSD (needs a 'training' list)`);
  }
  if (isDir(path.join(p, 'data')) && isFile(path.join(p, 'train_slices.list'))) return 'h5-acdc';
  if (isFile(path.join(p, 'train.list')) && isFile(path.join(p, 'test.list'))) {
    const casesDir = isDir(path.join(p, '2018LA_Seg_Training Set')) ? path.join(p, '2018LA_Seg_Training Set') : p;
    if (listDirs(casesDir).some((d) => isFile(path.join(casesDir, d, 'mri_norm2.h5')))) return 'h5-la';
  }
  if (['training_set', 'val_set', 'test_set'].some((d) => isDir(path.join(p, d)) && fs.readdirSync(path.join(p, d)).some((f) => f.endsWith('.h5')))) return 'h5-stdr';
  if (MANIFEST_NAMES.some((n) => isFile(path.join(p, n)))) return 'manifest';
  if (findPairDirs(p).length > 0) return 'image2d';
  throw new Error(`${p}: unrecognised dataset layout. Expected one of: nnU-Net v2 raw (dataset.json + imagesTr/), MSD (dataset.json with 'training'), ACDC HDF5 (data/ + train_slices.list), LA HDF5 (train.list, test.list, <case>/mri_norm2.h5), STDR HDF5 (training_set/, val_set/, test_set/), a manifest (${MANIFEST_NAMES.join(', ')}), or 2D folders with images/ and masks/. Pass a layout to force one.`);
}

/** Opens a dataset folder or file as a Project (see the file header for detection). */
export async function openDataset(p: string, opts: OpenDatasetOptions = {}): Promise<Project> {
  let target = p;
  if (isFile(p) && path.basename(p).toLowerCase() === 'dataset.json') target = path.dirname(p);
  const layout = opts.layout ?? detectLayout(target);
  if (opts.layout && !DATASET_LAYOUTS.includes(opts.layout)) throw new Error(`layout must be one of ${DATASET_LAYOUTS.join(', ')}, got '${opts.layout}'`);
  switch (layout) {
    case 'project': return loadProject(target);
    case 'nnunet': return openNnunetDataset(target, opts);
    case 'msd': return openMsdDataset(target, opts);
    case 'h5-acdc':
    case 'h5-la':
    case 'h5-stdr': return openH5Dataset(target, layout, opts);
    case 'image2d': return openImage2dDataset(target, opts);
    case 'manifest': {
      if (isFile(target)) return openManifestDataset(target, opts);
      const m = MANIFEST_NAMES.map((n) => path.join(target, n)).find(isFile);
      if (!m) throw new Error(`${target}: layout 'manifest' needs a manifest file (${MANIFEST_NAMES.join(', ')}) or the path of one`);
      return openManifestDataset(m, opts);
    }
    case 'memory': throw new Error("layout 'memory' cannot be opened from disk");
  }
}
