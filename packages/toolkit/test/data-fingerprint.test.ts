// Dataset fingerprint against numpy re-computations of nnU-Net's rules
// (test/fixtures/data_fingerprint.py): per-case foreground statistics,
// crop boxes, label counts, and the dataset statistics over
// RandomState(1234)-sampled foreground voxels — plus the problems a
// fingerprint must report on real data.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type DatasetFingerprint, type IntensityStats, computeFingerprint, formatFingerprint, intensityStats, nonzeroBox,
  openDataset, percentileSorted, saveFingerprint,
} from '../src/data/index.js';
import { writeNifti } from '../src/io/nifti.js';
import { Volume } from '../src/io/volume.js';
import { FIXTURES, sample } from './shared-data.js';
import { buildMsdMr, buildNnunetBrats, tmpDir } from './data-dataset-fixtures.js';

interface RefCase {
  case: string; shape_ijk: number[]; spacing_ijk: number[]; box_start_ijk: number[]; box_end_ijk: number[];
  shape_after_crop_zyx: number[]; relative_size_after_crop: number;
  foreground: (Omit<IntensityStats, 'n'> & { n: number } | null)[];
  label_counts: Record<string, number>; image_mean: number[]; image_std: number[];
}
interface RefDataset {
  cases: RefCase[];
  foreground_intensity_properties_per_channel: DatasetFingerprint['foreground_intensity_properties_per_channel'];
  shapes_after_crop: number[][];
  median_relative_size_after_cropping: number;
}
const REF = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'data_fingerprint.json'), 'utf8')) as { brats: RefDataset; msd: RefDataset };

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

function compareDataset(fp: DatasetFingerprint, ref: RefDataset): void {
  for (const rc of ref.cases) {
    const c = fp.cases.find((x) => x.case === rc.case);
    assert.ok(c, rc.case);
    assert.deepEqual(c.shape, rc.shape_ijk);
    c.spacing.forEach((s, a) => close(s, rc.spacing_ijk[a], 1e-5, `${rc.case} spacing`));
    assert.deepEqual(c.cropBox, { start: rc.box_start_ijk, end: rc.box_end_ijk });
    assert.deepEqual([...c.shapeAfterCrop].reverse(), rc.shape_after_crop_zyx);
    close(c.relativeSizeAfterCrop, rc.relative_size_after_crop, 1e-12, 'relative size');
    assert.deepEqual(c.labelCounts, rc.label_counts);
    rc.foreground.forEach((rs, ch) => {
      const s = c.foreground?.[ch];
      assert.ok(s && rs, `${rc.case} channel ${ch} foreground`);
      assert.equal(s.n, rs.n);
      for (const k of ['mean', 'std', 'min', 'max', 'median', 'percentile_00_5', 'percentile_99_5'] as const) close(s[k], rs[k], 1e-9, `${rc.case} ch${ch} ${k}`);
      close(c.image[ch].mean, rc.image_mean[ch], 1e-9, 'image mean');
      close(c.image[ch].std, rc.image_std[ch], 1e-9, 'image std');
    });
  }
  for (const [ch, r] of Object.entries(ref.foreground_intensity_properties_per_channel)) {
    const s = fp.foreground_intensity_properties_per_channel[ch];
    for (const k of Object.keys(r) as (keyof typeof r)[]) close(s[k], r[k], 1e-9, `dataset ch${ch} ${k}`);
  }
  assert.deepEqual(fp.shapes_after_crop, ref.shapes_after_crop);
  close(fp.median_relative_size_after_cropping, ref.median_relative_size_after_cropping, 1e-12, 'median relative size');
}

let tmp: string;
before(() => { tmp = tmpDir('fingerprint'); });
after(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

describe('fingerprint', () => {
  test('BraTS (2 channels, 5 classes) matches nnU-Net rules computed with numpy', async () => {
    const root = buildNnunetBrats(path.join(tmp, 'brats'));
    const project = await openDataset(root);
    const seen: string[] = [];
    const fp = await computeFingerprint(project, { onCase: (i, n, f) => seen.push(`${i + 1}/${n} ${f.case}`) });
    assert.equal(seen.length, 4);
    compareDataset(fp, REF.brats);
    assert.equal(fp.spacings.length, 3, 'the test case is not part of the planning statistics');
    assert.deepEqual(fp.medianSpacing, [1, 1, 1]);
    assert.deepEqual(fp.medianShape, [240, 240, 155]);
    assert.deepEqual(Object.keys(fp.classes), ['0', '1', '2', '3', '4']);
    assert.equal(fp.classes['4'].name, 'enhancing');
    assert.equal(fp.classes['2'].voxels, REF.brats.cases.reduce((s, c) => s + c.label_counts['2'], 0));
    assert.deepEqual(fp.orientations, { LPS: 4 });
    const test = fp.cases.find((c) => c.case === 'brats_2013_pat0004_1');
    assert.equal(test?.foreground, null, 'an unlabelled case has no foreground statistics');
    assert.deepEqual(fp.problems, []);
    const file = path.join(tmp, 'dataset_fingerprint.json');
    saveFingerprint(file, fp);
    const back = JSON.parse(fs.readFileSync(file, 'utf8')) as DatasetFingerprint;
    assert.deepEqual(back.foreground_intensity_properties_per_channel, fp.foreground_intensity_properties_per_channel);
    const text = formatFingerprint(fp);
    assert.match(text, /Dataset BraTS2015 \(nnunet, 4 case\(s\), 1 centre\(s\)\)/);
    assert.match(text, /0 FLAIR/);
    assert.match(text, /brats_2013_pat0001_1 +BraTS2015 +labelled +240×240×155 +1×1×1 +LPS/);
  });

  test('MSD MR cases: crop to non-zero, float64 images; spleen CT test case adds spacing/orientation warnings', async () => {
    const project = await openDataset(buildMsdMr(path.join(tmp, 'msd')));
    const fp = await computeFingerprint(project);
    compareDataset(fp, REF.msd);
    const codes = fp.problems.map((p) => `${p.code}${p.case ? `:${p.case}` : ''}`).sort();
    // spleen2 (test split) is 0.79×0.79×5 mm RAS; the two training cases are LPS (PROMISE12) and RAS (ivadomed).
    assert.ok(codes.includes('mixed-orientations'), codes.join(', '));
    assert.ok(codes.includes('spacing-outlier:spleen2'), codes.join(', '));
  });

  test('problems: undeclared label values, NaN voxels, empty labels, anisotropy', async () => {
    const root = buildNnunetBrats(path.join(tmp, 'problems'), { train: ['brats_2013_pat0001_1'], test: [], json: { labels: { background: 0, necrosis: 1, edema: 2, non_enhancing: 3 } } });
    // A second case: a NaN voxel and an empty label.
    const affine = Float64Array.from([-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1]); // LPS like BraTS
    const img = new Float32Array(8 * 8 * 4).fill(1);
    img[5] = NaN;
    writeNifti(path.join(root, 'imagesTr', 'odd_0000.nii.gz'), new Volume({ data: img, dims: [8, 8, 4], affine }));
    writeNifti(path.join(root, 'imagesTr', 'odd_0001.nii.gz'), new Volume({ data: new Float32Array(256).fill(2), dims: [8, 8, 4], affine }));
    writeNifti(path.join(root, 'labelsTr', 'odd.nii.gz'), new Volume({ data: new Uint8Array(256), dims: [8, 8, 4], affine }));
    const j = JSON.parse(fs.readFileSync(path.join(root, 'dataset.json'), 'utf8'));
    j.numTraining = 2;
    fs.writeFileSync(path.join(root, 'dataset.json'), JSON.stringify(j));
    const fp = await computeFingerprint(await openDataset(root), { samplesPerCase: 500 });
    const codes = fp.problems.map((p) => `${p.severity}:${p.code}${p.case ? `:${p.case}` : ''}`).sort();
    assert.deepEqual(codes, [
      'error:non-finite-image:odd',
      'error:unknown-label-value:brats_2013_pat0001_1',
      'warning:empty-label:odd',
    ]);
    assert.match(fp.problems.find((p) => p.code === 'unknown-label-value')?.message ?? '', /label value\(s\) 4 not declared/);
    assert.equal(fp.cases.find((c) => c.case === 'odd')?.image[0].nonFinite, 1);
    // Anisotropy is judged on the median spacing: the spleen CT alone (0.79 × 0.79 × 5 mm).
    const spleen = path.join(tmp, 'spleen.csv');
    fs.writeFileSync(spleen, `case,image,label\nspleen2,${sample('ivadomed_testing', 'ct_scan', 'sub-spleen2', 'ct', 'sub-spleen2_ct.nii.gz')},${sample('ivadomed_testing', 'ct_scan', 'derivatives', 'labels', 'sub-spleen2', 'ct', 'sub-spleen2_ct_seg-manual.nii.gz')}\n`);
    const fs2 = await computeFingerprint(await openDataset(spleen));
    assert.ok(fs2.problems.some((p) => p.code === 'anisotropy'));
    close(fs2.anisotropy, 5 / 0.79492, 1e-4, 'anisotropy');
    assert.equal(fs2.classes['1'].name, null, 'labels undeclared in a bare manifest');
  });

  test('a case that fails to load is reported, the rest still fingerprinted', async () => {
    const root = buildNnunetBrats(path.join(tmp, 'broken'), { train: ['brats_2013_pat0001_1', 'brats_2013_pat0002_1'], test: [] });
    fs.rmSync(path.join(root, 'labelsTr', 'brats_2013_pat0002_1.nii.gz'));
    fs.symlinkSync(sample('promise12_ndaugment', 'Case00_segmentation.nii.gz'), path.join(root, 'labelsTr', 'brats_2013_pat0002_1.nii.gz'));
    const fp = await computeFingerprint(await openDataset(root), { samplesPerCase: 100 });
    const bad = fp.problems.find((p) => p.case === 'brats_2013_pat0002_1');
    assert.equal(bad?.code, 'shape-mismatch');
    assert.match(bad?.message ?? '', /does not share the image grid: shape \[240, 240, 155\] vs \[128, 128, 64\]/);
    assert.ok(fp.cases.find((c) => c.case === 'brats_2013_pat0002_1')?.error);
    assert.equal(fp.spacings.length, 1);
  });

  test('statistics helpers follow numpy', () => {
    const s = Float64Array.from([5, 1, 4, 2, 3]);
    assert.equal(percentileSorted(Float64Array.from([1, 2, 3, 4, 5]), 0.5), 1.02);
    const st = intensityStats(s);
    assert.deepEqual([st.mean, st.median, st.min, st.max], [3, 3, 1, 5]);
    close(st.std, Math.sqrt(2), 1e-15, 'population std');
    const v = new Volume({ data: new Float32Array(4 * 3 * 2), dims: [4, 3, 2], channels: 1 });
    assert.deepEqual(nonzeroBox(v), { start: [0, 0, 0], end: [4, 3, 2] }, 'all-zero image: whole grid');
    (v.data as Float32Array)[v.index(2, 1, 1)] = 3;
    assert.deepEqual(nonzeroBox(v), { start: [2, 1, 1], end: [3, 2, 2] });
  });
});
