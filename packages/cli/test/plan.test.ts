// `labelwise plan` end to end: from a dataset folder (fingerprinted on the
// way, real spleen CT), from nnU-Net's dataset_fingerprint.json + dataset.json,
// and the usage errors (exit code 2).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { loadPlans } from '@labelwise/toolkit/transforms';
import { runCli } from './run-cli.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SHARED = process.env.LABELWISE_SHARED_DATA ?? path.resolve(here, '../../../../../shared/data');
const S = (...p: string[]): string => path.join(SHARED, 'samples', ...p);

const run = runCli;

let tmp: string;
let dataset: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'labelwise-cli-plan-'));
  dataset = path.join(tmp, 'Dataset901_Spleen');
  for (const d of ['imagesTr', 'labelsTr']) fs.mkdirSync(path.join(dataset, d), { recursive: true });
  for (const id of ['spleen_a', 'spleen_b']) {
    fs.symlinkSync(S('ivadomed_testing/ct_scan/sub-spleen2/ct/sub-spleen2_ct.nii.gz'), path.join(dataset, 'imagesTr', `${id}_0000.nii.gz`));
    fs.symlinkSync(S('ivadomed_testing/ct_scan/derivatives/labels/sub-spleen2/ct/sub-spleen2_ct_seg-manual.nii.gz'), path.join(dataset, 'labelsTr', `${id}.nii.gz`));
  }
  fs.writeFileSync(path.join(dataset, 'dataset.json'), JSON.stringify({ channel_names: { 0: 'CT' }, labels: { background: 0, spleen: 1 }, numTraining: 2, file_ending: '.nii.gz' }));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('plan a dataset folder: fingerprint, CT normalisation, anisotropic spacing, plans file', async () => {
  const out = path.join(tmp, 'plans.json');
  const r = await run(['plan', dataset, '-o', out, '--memory-gb', '12', '--quiet']);
  assert.equal(r.code, 0, r.err);
  const plans = loadPlans(out);
  assert.equal(plans.memoryGb, 12);
  assert.deepEqual(plans.channelNames, ['CT']);
  const full = plans.configurations['3d_fullres'];
  // 5 mm slices vs 0.795 mm in-plane on a 26-slice volume: anisotropic, z stays first.
  assert.deepEqual(plans.transposeForward, [0, 1, 2]);
  assert.deepEqual(full.spacing.map((s) => +s.toFixed(4)), [5, 0.7949, 0.7949]);
  assert.equal(full.normalization[0].scheme, 'ct');
  const ct = full.normalization[0] as { mean: number; std: number; lower: number; upper: number };
  assert.ok(ct.lower < ct.mean && ct.mean < ct.upper && ct.std > 0, JSON.stringify(ct));
  assert.ok(full.batchSize >= 2);
  assert.equal(typeof full.why.patchSize, 'string');
  assert.ok(plans.configurations['2d']);
});

test('plan from nnU-Net\'s dataset_fingerprint.json with dataset.json beside it', async () => {
  const dir = path.join(tmp, 'nnunet_preprocessed');
  fs.mkdirSync(dir);
  const n = 260;
  fs.writeFileSync(path.join(dir, 'dataset_fingerprint.json'), JSON.stringify({
    spacings: Array(n).fill([1, 1, 1]),
    shapes_after_crop: Array(n).fill([36, 50, 35]),
    foreground_intensity_properties_per_channel: { 0: { mean: 1, std: 1, median: 1, min: 0, max: 2, percentile_00_5: 0, percentile_99_5: 2 } },
    median_relative_size_after_cropping: 1,
  }));
  fs.writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify({ channel_names: { 0: 'MRI' }, labels: { background: 0, Anterior: 1, Posterior: 2 }, numTraining: n, file_ending: '.nii.gz' }));
  const out = path.join(tmp, 'hippo.json');
  const r = await run(['plan', path.join(dir, 'dataset_fingerprint.json'), '-o', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /3d_fullres .*patch \[40,56,40\]\s+batch 9/);
  assert.match(r.out, /2d .*patch \[56,40\]\s+batch 366/);
  const plans = loadPlans(out);
  assert.deepEqual(Object.keys(plans.configurations), ['3d_fullres', '2d']);

  const only2d = await run(['plan', path.join(dir, 'dataset_fingerprint.json'), '-o', out, '--dims', '2d', '--quiet']);
  assert.equal(only2d.code, 0);
  assert.deepEqual(Object.keys(loadPlans(out).configurations), ['2d']);
});

test('usage errors exit with code 2 and say what is wrong', async () => {
  const missing = await run(['plan', path.join(tmp, 'nope.json')]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /input not found/);
  const dims = await run(['plan', dataset, '--dims', '4d']);
  assert.equal(dims.code, 2);
  assert.match(dims.err, /--dims: expected 2d, 3d or both, got '4d'/);
  const mem = await run(['plan', dataset, '--memory-gb', '-3']);
  assert.equal(mem.code, 2);
  const lonely = path.join(tmp, 'lonely');
  fs.mkdirSync(lonely);
  fs.writeFileSync(path.join(lonely, 'fp.json'), JSON.stringify({ spacings: [[1, 1, 1]], shapes_after_crop: [[9, 9, 9]], median_relative_size_after_cropping: 1 }));
  const noDs = await run(['plan', path.join(lonely, 'fp.json')]);
  assert.equal(noDs.code, 2);
  assert.match(noDs.err, /no dataset\.json beside it; pass --dataset-json/);
  const help = await run(['plan', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /usage: labelwise plan/);
});
