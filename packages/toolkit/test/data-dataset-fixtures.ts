// Small datasets in the standard layouts, assembled at test time from the
// real shared samples (symlinked, never recompressed, never committed):
//   nnU-Net v2 raw  — BraTS 2015 FLAIR + T1c (2 channels), OTMultiClass labels
//   MSD             — PROMISE12 Case00 and ivadomed sub-unf01 T2w (1 channel)
//   MSD, 4D         — a BraTS crop stacked as one 2-channel NIfTI
//   manifest CSV    — pairings from the shared MANIFESTs, mismatched ones included
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readNifti, writeNifti } from '../src/io/nifti.js';
import { Volume } from '../src/io/volume.js';
import { sample } from './shared-data.js';

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `labelwise-${prefix}-`));
}

function link(src: string, dst: string): void {
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  fs.symlinkSync(src, dst);
}

export const BRATS_LABELS = { background: 0, necrosis: 1, edema: 2, non_enhancing: 3, enhancing: 4 };

/** DatasetXXX_BraTS: imagesTr/labelsTr for `train`, imagesTs for `test` (BraTS patient folders). */
export function buildNnunetBrats(parent: string, opts: { train?: string[]; test?: string[]; json?: Record<string, unknown> } = {}): string {
  const root = path.join(parent, 'Dataset501_BraTS');
  const train = opts.train ?? ['brats_2013_pat0001_1', 'brats_2013_pat0002_1', 'brats_2013_pat0003_1'];
  const test = opts.test ?? ['brats_2013_pat0004_1'];
  for (const [list, dir] of [[train, 'imagesTr'], [test, 'imagesTs']] as const) {
    for (const p of list) {
      link(sample('brats2015_deepmedic', p, 'Flair_subtrMeanDivStd.nii.gz'), path.join(root, dir, `${p}_0000.nii.gz`));
      link(sample('brats2015_deepmedic', p, 'T1c_subtrMeanDivStd.nii.gz'), path.join(root, dir, `${p}_0001.nii.gz`));
    }
  }
  for (const p of train) link(sample('brats2015_deepmedic', p, 'OTMultiClass.nii.gz'), path.join(root, 'labelsTr', `${p}.nii.gz`));
  const json = { name: 'BraTS2015', channel_names: { 0: 'FLAIR', 1: 'T1c' }, labels: BRATS_LABELS, numTraining: train.length, file_ending: '.nii.gz', ...opts.json };
  fs.writeFileSync(path.join(root, 'dataset.json'), JSON.stringify(json, null, 2));
  return root;
}

/** Task90_MR: two single-channel MR cases with binary labels, MSD dataset.json. */
export function buildMsdMr(parent: string): string {
  const root = path.join(parent, 'Task90_MR');
  link(sample('promise12_ndaugment', 'Case00.nii.gz'), path.join(root, 'imagesTr', 'Case00.nii.gz'));
  link(sample('promise12_ndaugment', 'Case00_segmentation.nii.gz'), path.join(root, 'labelsTr', 'Case00.nii.gz'));
  link(sample('ivadomed_testing', 'sub-unf01', 'anat', 'sub-unf01_T2w.nii.gz'), path.join(root, 'imagesTr', 'unf01_T2w.nii.gz'));
  link(sample('ivadomed_testing', 'derivatives', 'labels', 'sub-unf01', 'anat', 'sub-unf01_T2w_seg-manual.nii.gz'), path.join(root, 'labelsTr', 'unf01_T2w.nii.gz'));
  link(sample('ivadomed_testing', 'ct_scan', 'sub-spleen2', 'ct', 'sub-spleen2_ct.nii.gz'), path.join(root, 'imagesTs', 'spleen2.nii.gz'));
  fs.writeFileSync(path.join(root, 'dataset.json'), JSON.stringify({
    name: 'MR', description: 'two MR cases from the shared samples', modality: { 0: 'MRI' }, labels: { 0: 'background', 1: 'foreground' },
    numTraining: 2, numTest: 1,
    training: [
      { image: './imagesTr/Case00.nii.gz', label: './labelsTr/Case00.nii.gz' },
      { image: './imagesTr/unf01_T2w.nii.gz', label: './labelsTr/unf01_T2w.nii.gz' },
    ],
    test: ['./imagesTs/spleen2.nii.gz'],
  }, null, 2));
  return root;
}

/** The crop of BraTS pat0001 written as a 4D 2-channel NIfTI (MSD's multi-modal form), with its label. */
export const CROP = { start: [96, 110, 70] as const, size: [40, 36, 12] as const };

function crop(v: Volume): Volume {
  const [i0, j0, k0] = CROP.start;
  const [ni, nj, nk] = CROP.size;
  const out = new (v.data.constructor as new (n: number) => Float32Array)(ni * nj * nk * v.channels);
  let o = 0;
  for (let c = 0; c < v.channels; c++) for (let k = 0; k < nk; k++) for (let j = 0; j < nj; j++) for (let i = 0; i < ni; i++) out[o++] = Number(v.data[v.index(i0 + i, j0 + j, k0 + k, c)]);
  return new Volume({ data: out, dims: [ni, nj, nk], channels: v.channels, affine: v.shiftedAffine(CROP.start), meta: {} });
}

export function buildMsd4d(parent: string): { root: string; flair: Volume; t1c: Volume; label: Volume } {
  const root = path.join(parent, 'Task91_BraTSCrop');
  const dir = sample('brats2015_deepmedic', 'brats_2013_pat0001_1');
  const flair = crop(readNifti(path.join(dir, 'Flair_subtrMeanDivStd.nii.gz')));
  const t1c = crop(readNifti(path.join(dir, 'T1c_subtrMeanDivStd.nii.gz')));
  const label = crop(readNifti(path.join(dir, 'OTMultiClass.nii.gz')));
  const both = new Float32Array(flair.data.length * 2);
  both.set(flair.data as Float32Array, 0);
  both.set(t1c.data as Float32Array, flair.data.length);
  fs.mkdirSync(path.join(root, 'imagesTr'), { recursive: true });
  writeNifti(path.join(root, 'imagesTr', 'BRATS_001.nii.gz'), new Volume({ data: both, dims: flair.dims, channels: 2, affine: flair.affine }));
  writeNifti(path.join(root, 'labelsTr', 'BRATS_001.nii.gz'), label, { datatype: 'uint8' });
  fs.writeFileSync(path.join(root, 'dataset.json'), JSON.stringify({
    name: 'BraTSCrop', modality: { 0: 'FLAIR', 1: 'T1c' }, labels: { 0: 'background', 1: 'necrosis', 2: 'edema', 3: 'non-enhancing', 4: 'enhancing' },
    numTraining: 1, training: [{ image: './imagesTr/BRATS_001.nii.gz', label: './labelsTr/BRATS_001.nii.gz' }], test: [],
  }));
  return { root, flair, t1c, label };
}

/**
 * A manifest pairing shared files, including the MANIFESTs' geometry traps:
 *   promise_large  PROMISE12 Case00 with Case00_large_segmentation (512×512×47 vs 128×128×64)
 *   ts_full        TotalSegmentator example_ct (112 slices) with example_seg (made on example_ct_sm, 30 slices)
 *   unf_mixed      ivadomed sub-unf01 T1w + sub-unf02 T2star as two channels (different grids)
 *   unf02_seg      sub-unf02 T2star with sub-unf01's T2w mask
 * and pairs that must pass although their headers differ:
 *   brats_codes    OTMultiClass has qform 2 / sform 1, the images qform 0 / sform 2 — same affine
 *   monai_qform    MONAI's qform-only label (float32 rounding, ~2e-6 mm) on a big-endian image
 *   ts_small       example_ct_sm with example_seg (same grid)
 *   spleen_points  CT without label, with point annotations (ijk and xyz)
 */
export function writeTrapManifest(parent: string): string {
  const s = (...p: string[]): string => sample(...p);
  const rows: string[][] = [
    ['promise_large', 'promise', s('promise12_ndaugment', 'Case00.nii.gz'), '', s('promise12_ndaugment', 'Case00_large_segmentation.nii.gz'), ''],
    ['ts_full', 'ts', s('totalsegmentator_examples', 'example_ct.nii.gz'), '', s('totalsegmentator_examples', 'example_seg.nii.gz'), ''],
    ['ts_small', 'ts', s('totalsegmentator_examples', 'example_ct_sm.nii.gz'), '', s('totalsegmentator_examples', 'example_seg.nii.gz'), ''],
    ['unf_mixed', 'ivadomed', s('ivadomed_testing', 'sub-unf01', 'anat', 'sub-unf01_T1w.nii.gz'), s('ivadomed_testing', 'sub-unf02', 'anat', 'sub-unf02_T2star.nii.gz'), '', ''],
    ['unf02_seg', 'ivadomed', s('ivadomed_testing', 'sub-unf02', 'anat', 'sub-unf02_T2star.nii.gz'), '', s('ivadomed_testing', 'derivatives', 'labels', 'sub-unf01', 'anat', 'sub-unf01_T2w_seg-manual.nii.gz'), ''],
    ['brats_codes', 'brats', s('brats2015_deepmedic', 'brats_2013_pat0005_1', 'Flair_subtrMeanDivStd.nii.gz'), '', s('brats2015_deepmedic', 'brats_2013_pat0005_1', 'OTMultiClass.nii.gz'), ''],
    ['monai_qform', 'monai', s('monai_testing_data', 'reoriented_anat_moved.nii'), '', s('monai_testing_data', 'reoriented_anat_moved_label.nii.gz'), ''],
    ['spleen_points', 'spleen', s('ivadomed_testing', 'ct_scan', 'sub-spleen2', 'ct', 'sub-spleen2_ct.nii.gz'), '', '', '[{"class": 1, "ijk": [80, 90, 12]}, {"class": 0, "xyz": [-380.0, -350.0, 40.0]}]'],
  ];
  const q = (v: string): string => (/[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const csv = ['case,centre,image_0000,image_0001,label,points', ...rows.map((r) => r.map(q).join(','))].join('\n') + '\n';
  const file = path.join(parent, 'traps.csv');
  fs.writeFileSync(file, csv);
  return file;
}

export const TRAP_MISMATCHES = ['promise_large', 'ts_full', 'unf_mixed', 'unf02_seg'];
