// Export: results land on the input's voxel grid (crop + reorientation
// undone exactly), BIDS-derivative names and sidecars, and whole projects
// written as nnU-Net v2 raw datasets that read back identically.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { allCases, findCase, kFoldSplits, loadCase, openDataset } from '../src/data/index.js';
import { affinesClose } from '../src/io/affine.js';
import { bidsDerivativePath, exportNnunetDataset, nnunetDatasetName, parseBidsName, toReferenceGrid, writeBidsDerivative, writeSegmentation } from '../src/data/export.js';
import { readNifti, readNiftiHeader, writeNifti } from '../src/io/nifti.js';
import { reorient } from '../src/io/orientation.js';
import { Volume } from '../src/io/volume.js';
import { SAMPLES, sample } from './shared-data.js';
import { buildMsd4d, buildNnunetBrats, tmpDir } from './data-dataset-fixtures.js';

let tmp: string;
before(() => { tmp = tmpDir('export'); });
after(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

const SPLEEN_CT = (): string => sample('ivadomed_testing', 'ct_scan', 'sub-spleen2', 'ct', 'sub-spleen2_ct.nii.gz');
const SPLEEN_SEG = (): string => sample('ivadomed_testing', 'ct_scan', 'derivatives', 'labels', 'sub-spleen2', 'ct', 'sub-spleen2_ct_seg-manual.nii.gz');

/** A box of a volume with the affine that keeps world positions (what a preprocessing crop records). */
function cropBox(v: Volume, start: number[], size: number[]): Volume {
  const out = new (v.data.constructor as new (n: number) => Uint8Array)(size[0] * size[1] * size[2]);
  let o = 0;
  for (let k = 0; k < size[2]; k++) for (let j = 0; j < size[1]; j++) for (let i = 0; i < size[0]; i++) out[o++] = Number(v.data[v.index(start[0] + i, start[1] + j, start[2] + k)]);
  return new Volume({ data: out, dims: size, affine: v.shiftedAffine(start) });
}

describe('back to the input grid', () => {
  test('a prediction made on a reoriented, cropped grid returns exactly onto the original grid', () => {
    const ref = readNifti(SPLEEN_CT());
    const seg = readNifti(SPLEEN_SEG());
    assert.equal(ref.orientation, 'RAS');
    const lps = reorient(seg, 'LPS').volume;
    assert.equal(lps.orientation, 'LPS');
    const start = [12, 20, 3];
    const size = [120, 110, 18];
    const pred = cropBox(lps, start, size);
    const back = toReferenceGrid(pred, ref);
    assert.deepEqual([...back.dims], [...ref.dims]);
    assert.ok(affinesClose(back.affine, ref.affine));
    // Where the crop covers the original grid the labels are the original ones; elsewhere background.
    const cover = toReferenceGrid(new Volume({ data: new Uint8Array(pred.data.length).fill(1), dims: size, affine: pred.affine }), ref);
    let covered = 0;
    for (let i = 0; i < seg.data.length; i++) {
      covered += cover.data[i] as number;
      assert.equal(back.data[i], cover.data[i] ? seg.data[i] : 0, `voxel ${i}`);
    }
    assert.equal(covered, size[0] * size[1] * size[2]);
    // A prediction larger than the grid (padding) is clipped back.
    const padded = new Volume({ data: new Uint8Array((ref.dims[0] + 4) * ref.dims[1] * ref.dims[2]).fill(1), dims: [ref.dims[0] + 4, ref.dims[1], ref.dims[2]], affine: ref.shiftedAffine([-2, 0, 0]) });
    assert.equal(Array.from(toReferenceGrid(padded, ref).data as Uint8Array).every((v) => v === 1), true);
  });

  test('a resampled or half-voxel-shifted prediction is refused', () => {
    const ref = readNifti(SPLEEN_CT());
    const half = new Volume({ data: new Uint8Array(8), dims: [2, 2, 2], affine: ref.shiftedAffine([0.5, 0, 0]) });
    assert.throws(() => toReferenceGrid(half, ref), /non-integer 0\.5000 voxel\(s\) along reference axis 0; resample/);
    const a = Float64Array.from(ref.affine);
    a[0] *= 2;
    assert.throws(() => toReferenceGrid(new Volume({ data: new Uint8Array(8), dims: [2, 2, 2], affine: a }), ref), /not a crop\/flip\/permutation of the reference grid/);
  });

  test('writeSegmentation: smallest integer type, reference affine and header codes', () => {
    const ref = readNifti(SPLEEN_CT());
    const seg = readNifti(SPLEEN_SEG());
    const asInt = seg.withData(Int32Array.from(seg.data as Uint8Array), 1, {});
    const file = path.join(tmp, 'pred.nii.gz');
    writeSegmentation(file, asInt, { reference: ref });
    const back = readNifti(file);
    assert.equal(back.voxelType, 'uint8');
    assert.deepEqual(back.data, seg.data);
    assert.ok(affinesClose(back.affine, ref.affine, 1e-6));
    const h = readNiftiHeader(file);
    const rh = readNiftiHeader(SPLEEN_CT());
    assert.equal(h.header.sformCode, rh.header.sformCode);
    const big = seg.withData(Int32Array.from(seg.data as Uint8Array, (v) => v * 300), 1, {});
    writeSegmentation(file, big, { reference: ref });
    assert.equal(readNifti(file).voxelType, 'int16');
  });
});

describe('BIDS derivatives', () => {
  test('names follow the entity order; the source suffix is optional', () => {
    assert.deepEqual(parseBidsName('/x/sub-unf01_ses-2_acq-ax_T2w.nii.gz'), { entities: { sub: 'unf01', ses: '2', acq: 'ax' }, suffix: 'T2w', extension: '.nii.gz' });
    assert.throws(() => parseBidsName('patient1.nii.gz'), /a BIDS file name starts with sub-<label>/);
    const p = bidsDerivativePath({ root: '/r', pipeline: 'labelwise', entities: { sub: '01', ses: '02', desc: 'tumor', run: '1' } });
    assert.equal(p, '/r/derivatives/labelwise/sub-01/ses-02/anat/sub-01_ses-02_run-1_desc-tumor_dseg.nii.gz');
    assert.equal(path.basename(bidsDerivativePath({ root: '/r', pipeline: 'p', entities: { sub: '01' }, sourceSuffix: 'T2w', kind: 'probseg' })), 'sub-01_T2w_probseg.nii.gz');
    assert.throws(() => bidsDerivativePath({ root: '/r', pipeline: 'p', entities: { sub: 'a_b' } }), /entity 'sub' must be alphanumeric/);
  });

  test('writeBidsDerivative writes image, sidecar, look-up table and dataset_description.json', () => {
    const src = sample('ivadomed_testing', 'sub-unf01', 'anat', 'sub-unf01_T2w.nii.gz');
    const ref = readNifti(src);
    const seg = readNifti(sample('ivadomed_testing', 'derivatives', 'labels', 'sub-unf01', 'anat', 'sub-unf01_T2w_seg-manual.nii.gz'));
    const root = path.join(tmp, 'bids');
    const out = writeBidsDerivative({ root, pipeline: 'labelwise', source: src, keepSourceSuffix: true, volume: seg, reference: ref, labels: { background: 0, spinal_cord: 1 }, description: 'spinal cord' });
    assert.equal(out.image, path.join(root, 'derivatives/labelwise/sub-unf01/anat/sub-unf01_T2w_dseg.nii.gz'));
    const back = readNifti(out.image);
    assert.ok(affinesClose(back.affine, ref.affine, 1e-6), 'oblique affine kept');
    assert.equal(back.voxelType, 'uint8');
    assert.deepEqual(Array.from(back.data as Uint8Array), Array.from(seg.data as Float32Array));
    const desc = JSON.parse(fs.readFileSync(path.join(root, 'derivatives/labelwise/dataset_description.json'), 'utf8'));
    assert.equal(desc.DatasetType, 'derivative');
    assert.equal(desc.GeneratedBy[0].Name, 'labelwise');
    assert.equal(fs.readFileSync(out.lookup as string, 'utf8'), 'index\tname\n0\tbackground\n1\tspinal_cord\n');
    const side = JSON.parse(fs.readFileSync(out.sidecar, 'utf8'));
    assert.deepEqual(side.Sources, [src]);
  });
});

describe('nnU-Net export', () => {
  test('a 4D MSD dataset becomes one file per channel and reads back identically, centre kept', async () => {
    const { root } = buildMsd4d(path.join(tmp, 'msd4d'));
    const src = await openDataset(root, { centre: 'siteA' });
    const out = path.join(tmp, 'nnraw', nnunetDatasetName(7, 'BraTS Crop'));
    assert.match(out, /Dataset007_BraTS_Crop$/);
    const res = await exportNnunetDataset(src, out, { splits: undefined });
    assert.equal(res.numTraining, 1);
    assert.deepEqual(fs.readdirSync(path.join(out, 'imagesTr')).sort(), ['BRATS_001_0000.nii.gz', 'BRATS_001_0001.nii.gz']);
    const back = await openDataset(out);
    assert.equal(back.layout, 'nnunet');
    assert.deepEqual(back.channelNames, ['FLAIR', 'T1c']);
    assert.equal(allCases(back)[0].centre, 'siteA');
    const a = await loadCase(src, allCases(src)[0]);
    const b = await loadCase(back, allCases(back)[0]);
    assert.deepEqual(b.image.data, a.image.data);
    assert.deepEqual(b.label?.data, a.label?.data);
    assert.ok(affinesClose(b.image.affine, a.image.affine, 1e-6));
  });

  test('2D multi-site PNGs with encoded masks: decoded labels, sanitised ids, test split, skipped unlabelled', async () => {
    const src = await openDataset(path.join(SAMPLES, 'ust_run_multidomain_2d', 'ProstateSlice'), { maskEncoding: 'prostateZeroIsOrgan' });
    const splits = kFoldSplits(src, { folds: 2 });
    const out = path.join(tmp, 'prostate_nn');
    const res = await exportNnunetDataset(src, out, { splits });
    assert.deepEqual(res.skipped, ['I2CVB/train/00_03']);
    assert.equal(res.idMap['BIDMC/train/00_00'], 'BIDMC_train_00_00');
    assert.equal(res.numTraining, 17);
    assert.equal(res.numTest, 18);
    const back = await openDataset(out);
    assert.deepEqual(back.labels, { background: 0, prostate: 1 });
    assert.deepEqual(back.centres.map((c) => c.id), ['BIDMC', 'BMC', 'HK', 'I2CVB', 'RUNMC', 'UCL']);
    const c = findCase(back, 'BIDMC_train_00_00');
    const orig = await loadCase(src, findCase(src, 'BIDMC/train/00_00'));
    const r = await loadCase(back, c);
    assert.deepEqual(r.label?.data, orig.label?.data);
    assert.deepEqual(r.image.data, orig.image.data);
    const written = JSON.parse(fs.readFileSync(path.join(out, 'splits_final.json'), 'utf8'));
    assert.equal(written.length, 2);
    assert.ok(written[0].val.every((id: string) => !id.includes('/')));
    assert.ok(fs.existsSync(path.join(out, 'labelsTs', 'BIDMC_test_00_00.nii.gz')));
  });

  test('non-consecutive labels are renumbered; single-channel NIfTI sources can be symlinked', async () => {
    const seg = readNifti(SPLEEN_SEG());
    const lab2 = path.join(tmp, 'spleen_2.nii.gz');
    writeNifti(lab2, seg.withData(Uint8Array.from(seg.data as Uint8Array, (v) => v * 2), 1, {}));
    const csv = path.join(tmp, 'spleen.json');
    fs.writeFileSync(csv, JSON.stringify({ name: 'spleen', labels: { background: 0, spleen: 2 }, channel_names: { 0: 'CT' }, cases: [{ case: 'spleen2', image: SPLEEN_CT(), label: lab2 }] }));
    const out = path.join(tmp, 'spleen_nn');
    const res = await exportNnunetDataset(await openDataset(csv), out, { mode: 'symlink' });
    assert.deepEqual(res.labelRemap, { 0: 0, 2: 1 });
    assert.ok(fs.lstatSync(path.join(out, 'imagesTr', 'spleen2_0000.nii.gz')).isSymbolicLink());
    const back = await openDataset(out);
    assert.deepEqual(back.labels, { background: 0, spleen: 1 });
    const r = await loadCase(back, allCases(back)[0]);
    assert.deepEqual(r.label?.data, seg.data);
    const brats = await openDataset(buildNnunetBrats(path.join(tmp, 'brats'), { train: ['brats_2013_pat0001_1'], test: [] }));
    await exportNnunetDataset(brats, path.join(tmp, 'brats_copy'), { mode: 'hardlink' });
    assert.equal(fs.statSync(path.join(tmp, 'brats_copy', 'labelsTr', 'brats_2013_pat0001_1.nii.gz')).size, fs.statSync(sample('brats2015_deepmedic', 'brats_2013_pat0001_1', 'OTMultiClass.nii.gz')).size, 'byte-for-byte copy');
  });
});
