// The experiment planner against nnU-Net v2's published plans for MSD
// datasets (Task04 Hippocampus, Task02 Heart, Task03 Liver, Task05 Prostate:
// patch, batch, pooling from their nnUNetPlans.json), plus the rules around
// it: anisotropic target spacing, transpose, mask-for-norm, memory budget,
// low-res cascade, 2-D datasets, plan files.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  type FingerprintLike, fingerprintFromJson, fullresTargetSpacing, loadPlans, percentileLinear, planExperiment, poolAndConvProps, preprocessConfigFromPlan, savePlans, unetFeatureMapVoxels,
} from '../src/transforms/plan.js';
import { validatePreprocessConfig } from '../src/transforms/preprocess.js';

const props = { mean: 100, std: 50, percentile_00_5: -50, percentile_99_5: 300, median: 90, min: -100, max: 500 };

function fingerprint(n: number, spacing: number[], shape: number[], channels: string[], labels: Record<string, number>, extra: Partial<FingerprintLike> = {}): FingerprintLike {
  return {
    spacings: Array.from({ length: n }, () => [...spacing]),
    shapesAfterCrop: Array.from({ length: n }, () => [...shape]),
    foregroundIntensityPropertiesPerChannel: Object.fromEntries(channels.map((_, i) => [String(i), props])),
    medianRelativeSizeAfterCropping: 1,
    channelNames: channels,
    labels,
    ...extra,
  };
}

test('reproduces nnU-Net v2 plans: Hippocampus, Heart, Liver, Prostate', () => {
  const hippo = planExperiment(fingerprint(260, [1, 1, 1], [36, 50, 35], ['MRI'], { background: 0, Anterior: 1, Posterior: 2 }));
  assert.deepEqual(hippo.configurations['3d_fullres'].patchSize, [40, 56, 40]);
  assert.equal(hippo.configurations['3d_fullres'].batchSize, 9);
  assert.deepEqual(hippo.configurations['3d_fullres'].network.poolOpsPerAxis, [3, 3, 3]);
  assert.deepEqual(hippo.configurations['2d'].patchSize, [56, 40]);
  assert.equal(hippo.configurations['2d'].batchSize, 366);
  assert.equal(hippo.configurations['3d_lowres'], undefined, 'small images need no cascade');

  const heart = planExperiment(fingerprint(20, [1.37, 1.25, 1.25], [115, 320, 232], ['MRI'], { background: 0, left_atrium: 1 }));
  const h3 = heart.configurations['3d_fullres'];
  assert.deepEqual(h3.patchSize, [80, 192, 160]);
  assert.equal(h3.batchSize, 2);
  assert.deepEqual(h3.network.strides, [[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2], [1, 2, 2]]);
  assert.deepEqual(h3.network.featuresPerStage, [32, 64, 128, 256, 320, 320]);
  assert.deepEqual(heart.configurations['2d'].patchSize, [320, 256]);

  const liver = planExperiment(fingerprint(131, [1, 0.767578125, 0.767578125], [432, 512, 512], ['CT'], { background: 0, liver: 1, cancer: 2 }));
  assert.deepEqual(liver.configurations['3d_fullres'].patchSize, [128, 128, 128]);
  assert.equal(liver.configurations['3d_fullres'].batchSize, 2);
  assert.deepEqual(liver.configurations['2d'].patchSize, [512, 512]);
  assert.equal(liver.configurations['2d'].batchSize, 12);
  const low = liver.configurations['3d_lowres'];
  assert.ok(low, 'a 512×512×432 median image gets a low-resolution stage');
  assert.ok(low.spacing.every((s, i) => s > liver.configurations['3d_fullres'].spacing[i]));
  assert.equal(liver.configurations['3d_fullres'].batchDice, true);
  assert.equal(low.batchDice, false);
  assert.deepEqual(liver.configurations['3d_fullres'].normalization, [{ scheme: 'ct', mean: 100, std: 50, lower: -50, upper: 300 }]);

  // Prostate: 3.6 mm slices, 0.625 mm in-plane (anisotropic, z first already).
  const prostate = planExperiment(fingerprint(32, [3.6, 0.625, 0.625], [20, 320, 320], ['T2', 'ADC'], { background: 0, PZ: 1, TZ: 2 }));
  const p3 = prostate.configurations['3d_fullres'];
  assert.deepEqual(p3.patchSize, [20, 320, 256]);
  assert.equal(p3.batchSize, 2);
  assert.deepEqual(p3.network.kernelSizes[0], [1, 3, 3], 'no convolution across 3.6 mm slices at full resolution');
  assert.deepEqual(p3.network.strides[1], [1, 2, 2], 'first pooling in-plane only');
});

test('anisotropic target spacing: 10th percentile of the coarse axis; transpose puts it first', () => {
  const zs = [2.5, 3, 3, 4, 5, 5, 5, 5, 5, 5, 5];
  const spacings = zs.map((z) => [0.8, 0.8, z]);
  const shapes = zs.map(() => [400, 400, 30]);
  const t = fullresTargetSpacing(spacings, shapes);
  assert.equal(t.anisotropic, true);
  assert.equal(t.axis, 2);
  assert.equal(t.spacing[2], percentileLinear(zs, 10));
  assert.equal(percentileLinear(zs, 10), 3);
  const plans = planExperiment({ ...fingerprint(11, [1, 1, 1], [1, 1, 1], ['MR'], { background: 0, tumour: 1 }), spacings, shapesAfterCrop: shapes });
  assert.deepEqual(plans.transposeForward, [2, 0, 1]);
  assert.deepEqual(plans.transposeBackward, [1, 2, 0]);
  assert.deepEqual(plans.configurations['3d_fullres'].spacing, [3, 0.8, 0.8]);
  assert.match(plans.why.targetSpacing, /10th percentile/);
  // A coarse axis that is not also short is not treated as anisotropic.
  assert.equal(fullresTargetSpacing(spacings, zs.map(() => [400, 400, 300])).anisotropic, false);
});

test('normalisation per channel: CT from the fingerprint, z-score within the mask after strong cropping', () => {
  const fp = fingerprint(10, [1, 1, 1], [100, 120, 110], ['CT', 'T1', 'noNorm'], { background: 0, a: 1 }, { medianRelativeSizeAfterCropping: 0.4 });
  const c = planExperiment(fp, { dims: '3d' }).configurations['3d_fullres'];
  assert.deepEqual(c.normalization, [{ scheme: 'ct', mean: 100, std: 50, lower: -50, upper: 300 }, { scheme: 'zscore', useMask: true }, { scheme: 'none' }]);
  assert.deepEqual(c.useMaskForNorm, [false, true, false]);
  const whole = planExperiment({ ...fp, medianRelativeSizeAfterCropping: 0.9 }, { dims: '3d' }).configurations['3d_fullres'];
  assert.deepEqual(whole.useMaskForNorm, [false, false, false]);
  const noStats = { ...fp, foregroundIntensityPropertiesPerChannel: { '0': { ...props, mean: Number.NaN } } };
  assert.throws(() => planExperiment(noStats), /channel 0 \('CT'\) is CT but the fingerprint has no finite/);
});

test('memory budget and feature-map estimate', () => {
  const fp = fingerprint(50, [1, 1, 1], [200, 220, 210], ['MR'], { background: 0, a: 1 });
  const small = planExperiment(fp, { memoryGb: 4, dims: '3d' }).configurations['3d_fullres'];
  const big = planExperiment(fp, { memoryGb: 40, dims: '3d' }).configurations['3d_fullres'];
  const vox = (p: number[]) => p.reduce((a, b) => a * b, 1);
  assert.ok(vox(big.patchSize) * big.batchSize > vox(small.patchSize) * small.batchSize);
  for (const c of [small, big]) {
    assert.ok(c.memory.featureMapVoxels <= c.memory.budgetFeatureMapVoxels, 'the chosen patch fits the budget');
    assert.ok(c.batchSize >= 2);
    c.patchSize.forEach((p, i) => assert.equal(p % c.network.shapeMustBeDivisibleBy[i], 0));
  }
  // Hand-checked feature-map count: a 2-stage 2-D U-Net on 8×8, 4 classes.
  const topo = { featuresPerStage: [32, 64], strides: [[1, 1], [2, 2]], nConvPerStage: [2, 2], nConvPerStageDecoder: [2] };
  // encoder 2·32·64 + 2·64·16, decoder 2·32·64 + transposed conv 32·64 + output 4·64
  assert.equal(unetFeatureMapVoxels([8, 8], topo, 4), 4096 + 2048 + 4096 + 2048 + 256);
  // Pooling needs ≥ 8 voxels (feature maps stay ≥ 4), and ≥ 12 when only one axis can still pool;
  // the patch is padded to a multiple of 2^pools.
  const pc = poolAndConvProps([1, 1], [37, 20], 4);
  assert.deepEqual(pc.poolOpsPerAxis, [2, 2], '37, 20 → 19, 10 → 10, 5: one axis left with 10 < 12');
  assert.deepEqual(pc.patchSize, [40, 20]);
  const single = poolAndConvProps([1, 1], [48, 20], 4);
  assert.deepEqual(single.poolOpsPerAxis, [3, 2], '48, 20 → 24, 10 → 12, 5 → 6, 5');
  assert.deepEqual(single.strides, [[1, 1], [2, 2], [2, 2], [2, 1]]);
});

test('2-D data, plan files, preprocessing config from a plan, fingerprint JSON forms', () => {
  const flat = fingerprint(40, [999, 0.5, 0.5], [1, 512, 480], ['R', 'G', 'B'], { background: 0, polyp: 1 });
  const p2 = planExperiment(flat);
  assert.deepEqual(Object.keys(p2.configurations), ['2d']);
  assert.throws(() => planExperiment(flat, { dims: '3d' }), /median image has a single slice/);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelwise-plan-'));
  try {
    const plans = planExperiment(fingerprint(12, [2, 1, 1], [60, 180, 170], ['CT'], { background: 0, organ: 1, tumour: 2 }));
    const file = path.join(dir, 'plans.json');
    savePlans(file, plans);
    const back = loadPlans(file);
    assert.deepEqual(back, JSON.parse(JSON.stringify(plans)));
    const cfg = preprocessConfigFromPlan(back, '3d_fullres');
    assert.deepEqual(cfg.foregroundLabels, [1, 2]);
    assert.deepEqual(cfg.spacing, back.configurations['3d_fullres'].spacing);
    validatePreprocessConfig(cfg, 1);
    assert.throws(() => preprocessConfigFromPlan(back, '3d_cascade'), /no configuration '3d_cascade' \(the plan has: 3d_fullres, 2d\)/);
    // Hand edits are checked.
    const edited = JSON.parse(fs.readFileSync(file, 'utf8'));
    edited.configurations['2d'].batchSize = 0;
    fs.writeFileSync(file, JSON.stringify(edited));
    assert.throws(() => loadPlans(file), /configurations\.2d\.batchSize: expected a positive integer, got 0/);
    edited.configurations['2d'].batchSize = 8;
    edited.configurations['2d'].normalization = [{ scheme: 'ct', mean: 1 }];
    fs.writeFileSync(file, JSON.stringify(edited));
    assert.throws(() => loadPlans(file), /normalization\[0\]\.std: expected a finite number/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // nnU-Net's dataset_fingerprint.json + dataset.json; MSD-style labels (value → name).
  const nn = { spacings: [[1, 1, 1]], shapes_after_crop: [[30, 40, 50]], foreground_intensity_properties_per_channel: { 0: props }, median_relative_size_after_cropping: 0.8 };
  const fp = fingerprintFromJson(nn, { channel_names: { 0: 'MRI' }, labels: { 0: 'background', 1: 'a' }, numTraining: 1, name: 'X' });
  assert.deepEqual(fp.labels, { background: 0, a: 1 });
  assert.deepEqual(fp.channelNames, ['MRI']);
  assert.equal(fp.datasetName, 'X');
  assert.throws(() => fingerprintFromJson({ ...nn, shapes_after_crop: [[30, 40]] }, { channel_names: { 0: 'MRI' }, labels: { background: 0, a: 1 } }), /shapes_after_crop\[0\]: expected 3 positive integers/);
  assert.throws(() => fingerprintFromJson(nn), /channel_names: expected at least one channel name/);
});
