// Rebuilds examples/data/spleen-ct (the demo's bundled data) from the curated
// copy of ivadomed's test data in /work/shared/data (or the folder given as
// the first argument):
//   samples/ivadomed_testing/ct_scan/sub-spleen2/ct/sub-spleen2_ct.nii.gz
//   samples/ivadomed_testing/ct_scan/derivatives/labels/sub-spleen2/ct/sub-spleen2_ct_seg-manual.nii.gz
// which is MSD Task09 spleen_2 (CC BY-SA 4.0), cropped by ivadomed to
// 164×166×26 voxels of 0.795×0.795×5 mm.
//
// Each axial slice becomes its own single-slice NIfTI case (int16 HU, uint8
// mask) with the slice's true position in its affine, so training, metrics
// (HD95/ASSD in mm) and predictions keep the scanner geometry. manifest.csv
// fixes the split; training slices are listed in the order an annotator with
// a small budget would label them (spread over the organ first), so
// `--labelled N` takes N slices spread from top to bottom of the spleen.
//
// Usage (after `npm run build`): node scripts/make-spleen-ct-sample.mjs [/work/shared/data]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from '@labelwise/toolkit';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.argv[2] ?? '/work/shared/data';
const src = path.join(shared, 'samples', 'ivadomed_testing', 'ct_scan');
const imageFile = path.join(src, 'sub-spleen2', 'ct', 'sub-spleen2_ct.nii.gz');
const labelFile = path.join(src, 'derivatives', 'labels', 'sub-spleen2', 'ct', 'sub-spleen2_ct_seg-manual.nii.gz');
const out = path.join(repo, 'examples', 'data', 'spleen-ct');

// Slice indices (k, 0-based in the cropped volume) per split. The spleen
// shows on slices 3–22. Test and validation slices sit every 4th slice
// across the organ; every other slice (including the 6 without spleen,
// which teach the network what "no spleen" looks like) is training data.
const TEST = [5, 9, 13, 17, 21];
const VAL = [7, 11, 15, 19];
// Training slices in labelling order: middle, both ends, then halfway
// between, ... (a coarse-to-fine sweep), then the slices without spleen.
const TRAIN = [12, 4, 20, 8, 16, 3, 22, 10, 18, 6, 14, 2, 23, 0, 25, 1, 24];

const image = io.readNifti(imageFile);
const label = io.readNifti(labelFile);
const [ni, nj, nk] = image.dims;
if (label.dims.join() !== image.dims.join()) throw new Error(`${labelFile}: dims [${label.dims}] differ from the image's [${image.dims}]`);
const all = [...TEST, ...VAL, ...TRAIN].sort((a, b) => a - b);
if (all.length !== nk || all.some((k, i) => k !== i)) throw new Error(`split lists must cover slices 0..${nk - 1} exactly once`);

/** The affine of slice k: the volume's, moved to the slice's origin. */
function sliceAffine(k) {
  const a = Float64Array.from(image.affine);
  for (let r = 0; r < 3; r++) a[r * 4 + 3] += a[r * 4 + 2] * k;
  return a;
}

function slice(vol, k, Type) {
  const n = ni * nj;
  const data = new Type(n);
  for (let p = 0; p < n; p++) data[p] = Math.round(Number(vol.data[k * n + p]));
  return data;
}

fs.rmSync(path.join(out, 'images'), { recursive: true, force: true });
fs.rmSync(path.join(out, 'labels'), { recursive: true, force: true });
fs.mkdirSync(path.join(out, 'images'), { recursive: true });
fs.mkdirSync(path.join(out, 'labels'), { recursive: true });

const rows = ['case,image,label,split'];
const splitOf = (k) => (TEST.includes(k) ? 'test' : VAL.includes(k) ? 'val' : 'train');
const fg = []; // spleen HU values on training slices, for the CT normalisation
for (const k of [...TRAIN, ...VAL, ...TEST]) {
  const id = `spleen2_z${String(k).padStart(2, '0')}`;
  const affine = sliceAffine(k);
  const img = slice(image, k, Int16Array);
  const lab = slice(label, k, Uint8Array);
  io.writeNifti(path.join(out, 'images', `${id}.nii.gz`), new io.Volume({ data: img, dims: [ni, nj, 1], affine }), { compressLevel: 9 });
  io.writeNifti(path.join(out, 'labels', `${id}.nii.gz`), new io.Volume({ data: lab, dims: [ni, nj, 1], affine }), { compressLevel: 9 });
  rows.push(`${id},images/${id}.nii.gz,labels/${id}.nii.gz,${splitOf(k)}`);
  if (splitOf(k) === 'train') for (let p = 0; p < lab.length; p++) if (lab[p] > 0) fg.push(img[p]);
}
fs.writeFileSync(path.join(out, 'manifest.csv'), rows.join('\n') + '\n');
fs.writeFileSync(path.join(out, 'dataset.json'), JSON.stringify({ name: 'spleen-ct', channel_names: { 0: 'CT' }, labels: { background: 0, spleen: 1 } }, null, 2) + '\n');

// nnU-Net's CT normalisation statistics over the training foreground.
fg.sort((a, b) => a - b);
const q = (f) => fg[Math.min(fg.length - 1, Math.floor(f * (fg.length - 1)))];
const mean = fg.reduce((a, b) => a + b, 0) / fg.length;
const std = Math.sqrt(fg.reduce((a, b) => a + (b - mean) ** 2, 0) / fg.length);
process.stdout.write(`wrote ${nk} slices to ${path.relative(repo, out)} (${TRAIN.length} train, ${VAL.length} val, ${TEST.length} test)\n`);
process.stdout.write(`training foreground HU: mean ${mean.toFixed(1)}, std ${std.toFixed(1)}, 0.5th ${q(0.005)}, 99.5th ${q(0.995)} (n=${fg.length})\n`);
