// 3D patch training end to end on real data: BraTS 2013 cases (deepmedic's
// samples) cropped around the tumour and written as a tiny nnU-Net raw
// dataset (FLAIR + T1c, labels 0-4) with per-case spacings and a zeroed
// border, so preprocessing really crops and resamples and the test
// predictions really have to be mapped back; and the same crops as an LA
// HDF5 dataset (FLAIR, whole tumour) trained with VNet under a label budget.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as torch from '@labelwise/torch';
import { DataLoader } from '../src/data/loader.js';
import { loadPredictor } from '../src/inference/predict.js';
import { affinesClose, identityAffine, matmul4 } from '../src/io/affine.js';
import { writeLaCase, writeLaLists } from '../src/io/layouts/la.js';
import { readNifti, writeNifti } from '../src/io/nifti.js';
import { Volume } from '../src/io/volume.js';
import '../src/methods/index.js';
import { readCheckpointMeta } from '../src/checkpoint/checkpoint.js';
import { resolveExperiment } from '../src/config/experiment.js';
import { trainExperiment } from '../src/experiment/experiment.js';
import { readLog } from '../src/training/log.js';
import { enlargedPatchSize, type PatchProducerOptions } from '../src/training/patch-producer.js';
import { loadCachedCase } from '../src/transforms/cache.js';
import { sample } from './shared-data.js';

const CASES = [1, 2, 3, 4, 5, 6].map((i) => `brats_2013_pat000${i}_1`);
/** Crop (i, j, k) and the k spacing each case is given, so cases differ in geometry. */
const CROP = [48, 48, 40];
const K_SPACING = [1.0, 1.5, 1.2, 0.9, 1.3, 1.1];

let tmp = '';
let nnunetRoot = '';
let laRoot = '';

interface Crop { flair: Volume; t1c: Volume; label: Volume }

/** Crops a case around its tumour's centre, zeroes a border slab, and rescales k. */
function cropCase(dir: string, index: number): Crop {
  const flair = readNifti(path.join(dir, 'Flair_subtrMeanDivStd.nii.gz'));
  const t1c = readNifti(path.join(dir, 'T1c_subtrMeanDivStd.nii.gz'));
  const seg = readNifti(path.join(dir, 'OTMultiClass.nii.gz'));
  return torch.tidy(() => {
    const lab = seg.toTensor('float32').squeeze(0);
    const fg = lab.gt(0).nonzero().float().mean(0).round().to('int32').toTypedArray() as Int32Array; // (k, j, i)
    const size = [CROP[2], CROP[1], CROP[0]];
    const start = [0, 1, 2].map((a) => Math.min(Math.max(fg[a] - (size[a] >> 1), 0), lab.shape[a] - size[a]));
    const cut = (t: torch.Tensor) => t.narrow(-3, start[0], size[0]).narrow(-2, start[1], size[1]).narrow(-1, start[2], size[2]).contiguous();
    const border = 2 + index; // outside-the-scan slab along i: cropped by preprocessing, -1 in its labels
    const img = (v: Volume) => {
      const t = cut(v.toTensor('float32')).clone();
      t.narrow(-1, 0, border).zero_();
      return t;
    };
    const l = cut(lab).clone();
    l.narrow(-1, 0, border).zero_();
    const shifted = flair.shiftedAffine([start[2], start[1], start[0]]);
    const scale = identityAffine();
    scale[10] = K_SPACING[index];
    const affine = matmul4(shifted, scale);
    return {
      flair: Volume.fromTensor(img(flair), { affine }),
      t1c: Volume.fromTensor(img(t1c), { affine }),
      label: Volume.fromTensor(l.to('uint8'), { affine }),
    };
  });
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-train3d-'));
  nnunetRoot = path.join(tmp, 'Dataset001_BraTSmini');
  laRoot = path.join(tmp, 'LA');
  for (const d of ['imagesTr', 'labelsTr']) fs.mkdirSync(path.join(nnunetRoot, d), { recursive: true });
  const ids: string[] = [];
  for (let i = 0; i < CASES.length; i++) {
    const c = cropCase(sample('brats2015_deepmedic', CASES[i]), i);
    const id = `brats_${String(i + 1).padStart(3, '0')}`;
    ids.push(id);
    writeNifti(path.join(nnunetRoot, 'imagesTr', `${id}_0000.nii.gz`), c.flair);
    writeNifti(path.join(nnunetRoot, 'imagesTr', `${id}_0001.nii.gz`), c.t1c);
    writeNifti(path.join(nnunetRoot, 'labelsTr', `${id}.nii.gz`), c.label);
    // LA: FLAIR (already z-scored, like LA's mri_norm2.h5) and the whole tumour; LA stores no spacing.
    const whole = c.label.withData(Uint8Array.from(c.label.data as Uint8Array, (v) => (v > 0 ? 1 : 0)), 1);
    await writeLaCase(laRoot, id, { image: c.flair, label: whole });
  }
  fs.writeFileSync(path.join(nnunetRoot, 'dataset.json'), JSON.stringify({
    name: 'BraTSmini', channel_names: { 0: 'FLAIR', 1: 'T1c' },
    labels: { background: 0, necrosis: 1, edema: 2, non_enhancing: 3, enhancing: 4 },
    numTraining: ids.length, file_ending: '.nii.gz',
  }));
  await writeLaLists(laRoot, { train: ids.slice(0, 5), test: ids.slice(5) });
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function bratsExperiment(output: string, workers: number, extra: Record<string, unknown> = {}) {
  return resolveExperiment({
    name: 'brats3d', seed: 3, output,
    data: { dataset: nnunetRoot, dims: '3d', patchSize: [32, 32, 32], batchSize: 2, workers, prefetch: 2 },
    network: { name: 'plain_unet', featuresPerStage: [4, 8, 16] },
    loss: { name: 'dice_ce' },
    optimizer: { name: 'sgd', lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 },
    training: { iterations: 3, validateEvery: 2, checkpointEvery: 2, logEvery: 1, progress: false },
    validation: { overlap: 0.5 },
    ...extra,
  });
}

const losses = (dir: string) => readLog(path.join(dir, 'log.jsonl')).filter((r) => r.kind === 'train').map((r) => r.loss as number);

test("nnU-Net's enlarged sampling patch (get_patch_size with ±30°, scale 0.85; dummy 2D keeps axis 0)", () => {
  assert.deepEqual(enlargedPatchSize([128, 128, 128]), [205, 205, 205]);
  assert.deepEqual(enlargedPatchSize([32, 32, 32]), [51, 51, 51]);
  // 20 × 192 × 160 is "dummy 2D" (max/first > 3): in-plane rotation up to 90°, axis 0 untouched.
  assert.deepEqual(enlargedPatchSize([20, 192, 160]), [20, 225, 225]);
});

test('3D plain U-Net on an nnU-Net raw dataset: plan, cache, sliding-window validation, test in original geometry, same losses with 0 and 2 workers', async () => {
  const cacheDir = path.join(tmp, 'cache-brats');
  const dirA = path.join(tmp, 'run-w0');
  const dirB = path.join(tmp, 'run-w2');
  const events: { kind?: string }[] = [];
  const a = await trainExperiment(bratsExperiment(dirA, 0), { preprocessedDir: cacheDir, emit: (e) => events.push(e as { kind?: string }) });
  assert.equal(a.completed, true);
  assert.equal(a.step, 3);
  assert.ok(events.some((e) => e.kind === 'preprocess'), 'preprocessing reports progress');

  // The data plan: 4 train / 1 val / 1 test (60/20/20 of 6), nnU-Net's target spacing = the median.
  const dp = JSON.parse(fs.readFileSync(path.join(dirA, 'data_plan.json'), 'utf8'));
  assert.deepEqual([dp.splits.train.length, dp.splits.val.length, dp.splits.test.length], [4, 1, 1]);
  assert.equal(dp.numClasses, 5);
  assert.deepEqual(dp.channelNames, ['FLAIR', 'T1c']);
  const trainK = [...dp.splits.train, ...dp.splits.val].map((id: string) => K_SPACING[Number(id.slice(-3)) - 1]).sort((x: number, y: number) => x - y);
  assert.ok(Math.abs(dp.preprocessing.spacing[0] - (trainK[2])) < 1e-6, `target z spacing ${dp.preprocessing.spacing[0]} is the median of [${trainK}]`);
  assert.ok(fs.readdirSync(cacheDir).some((f) => f.startsWith('plans-') && fs.existsSync(path.join(cacheDir, f, 'plans.json'))), 'fingerprint and plans kept in the cache');
  assert.equal(path.dirname(dp.cacheDir), cacheDir);

  // Checkpoints describe the network and the preprocessing inference must redo.
  const meta = readCheckpointMeta(path.join(dirA, 'checkpoints', 'last'));
  assert.equal(meta.step, 3);
  const net = meta.network as Record<string, unknown>;
  assert.equal(net.name, 'plain_unet');
  assert.equal(net.dims, 3);
  assert.equal(net.inChannels, 2);
  assert.equal(net.numClasses, 5);
  assert.deepEqual(net.featuresPerStage, [4, 8, 16]);
  assert.deepEqual(net.strides, [[1, 1, 1], [2, 2, 2], [2, 2, 2]]);
  assert.equal((net.kernelSizes as number[][]).length, 3);
  const pre = meta.preprocessing as Record<string, unknown>;
  assert.equal(pre.mode, 'sliding3d');
  assert.deepEqual(pre.patchSize, [32, 32, 32]);
  assert.equal((pre.normalization as unknown[]).length, 2);
  assert.ok(fs.existsSync(path.join(dirA, 'checkpoints', 'best', 'model.safetensors')));

  // Validation ran (sliding window on the preprocessed val case) at step 2 and at the end.
  const val = readLog(path.join(dirA, 'log.jsonl')).filter((r) => r.kind === 'validation');
  assert.deepEqual(val.map((r) => r.step), [2, 3]);
  for (const r of val) for (const k of ['dice_necrosis', 'dice_edema', 'dice_non_enhancing', 'dice_enhancing', 'dice_mean']) assert.ok(Number.isFinite(r[k] as number) && (r[k] as number) >= 0 && (r[k] as number) <= 1, `${k} = ${r[k]}`);

  // Test predictions are on the original image grid: dims and affine of the raw image.
  const testId = dp.splits.test[0] as string;
  const predFile = path.join(dirA, 'test', 'predictions', `${testId}.nii.gz`);
  const pred = readNifti(predFile);
  const image = readNifti(path.join(nnunetRoot, 'imagesTr', `${testId}_0000.nii.gz`));
  assert.deepEqual(pred.dims, image.dims);
  assert.ok(affinesClose(pred.affine, image.affine, 1e-5), 'prediction affine = image affine');
  const cached = loadCachedCase(dp.cacheDir, testId, { withLabel: false });
  assert.notDeepEqual(cached.props.shapeAfterResampling, [CROP[2], CROP[1], CROP[0]], 'the test case was cropped/resampled, so the revert is not a no-op');
  assert.equal(cached.label, null, 'test labels never enter the cache');
  cached.image.dispose();
  // The checkpoint alone reproduces that prediction from the raw image (inference redoes the preprocessing).
  const predictor = loadPredictor(dirA, { prefer: ['best'] });
  const imageT1c = readNifti(path.join(nnunetRoot, 'imagesTr', `${testId}_0001.nii.gz`));
  const both = new Volume({ data: Float32Array.from([...(image.data as Float32Array), ...(imageT1c.data as Float32Array)]), dims: image.dims, channels: 2, affine: image.affine });
  assert.deepEqual(predictor.predict(both).labels.data, pred.data);
  const summary = JSON.parse(fs.readFileSync(path.join(dirA, 'test', 'labelwise', 'summary.json'), 'utf8'));
  assert.ok(summary.mean, 'labelwise summary written');
  assert.ok(a.test && (a.test as Record<string, unknown>).labelwise);

  // Same seed, 2 loader workers: the same loss at every step (cache reused).
  const b = await trainExperiment(bratsExperiment(dirB, 2), { preprocessedDir: cacheDir });
  assert.equal(b.completed, true);
  const la = losses(dirA);
  assert.equal(la.length, 3);
  assert.ok(la.every((v) => Number.isFinite(v) && v > 0));
  assert.deepEqual(losses(dirB), la);
});

test('the patch producer: shapes, dtypes, forced foreground, -1 mapped to 0, identical batches in workers', async () => {
  const dp = JSON.parse(fs.readFileSync(path.join(tmp, 'run-w0', 'data_plan.json'), 'utf8'));
  const options: PatchProducerOptions = {
    cacheDir: dp.cacheDir,
    streams: [
      { name: 'labelled', prefix: '', caseIds: dp.labelled, batchSize: 3, withLabels: true, oversampleForeground: 1 / 3 },
      { name: 'unlabelled', prefix: 'u', caseIds: dp.labelled, batchSize: 2, withLabels: false, oversampleForeground: 0 },
    ],
    patchSize: [24, 32, 32],
    augmentation: null,
    seed: 11,
  };
  const module = new URL('../src/training/patch-producer.js', import.meta.url).href;
  const run = async (numWorkers: number) => {
    const loader = new DataLoader({ producer: { module, export: 'patchProducer', options }, numWorkers, numSteps: 3 });
    const out = [];
    for (let b = await loader.nextArrays(); b; b = await loader.nextArrays()) out.push(b);
    await loader.close();
    return out;
  };
  const [w0, w2] = [await run(0), await run(2)];
  assert.deepEqual(w2, w0);
  for (const b of w0) {
    assert.deepEqual(b.image.shape, [3, 2, 24, 32, 32]);
    assert.equal(b.image.dtype, 'float32');
    assert.deepEqual(b.label.shape, [3, 24, 32, 32]);
    assert.equal(b.label.dtype, 'uint8');
    assert.deepEqual(b.uimage.shape, [2, 2, 24, 32, 32]);
    assert.equal(b.ulabel, undefined, 'no labels for the unlabelled stream');
    const lab = b.label.data as Uint8Array;
    assert.ok(lab.every((v) => v <= 4), 'labels in 0..4 (the -1 of outside/padding became 0)');
    const per = 24 * 32 * 32;
    assert.ok(lab.subarray(2 * per, 3 * per).some((v) => v > 0), 'the last slot (⌈3/3⌉ forced) holds foreground');
  }
});

test('LA HDF5 layout: BCP (pre-training + self-training) with VNet under a 2-case label budget; unlabelled cases cached without labels', async () => {
  const out = path.join(tmp, 'run-la');
  const exp = resolveExperiment({
    name: 'la-bcp', seed: 5, output: out,
    data: { dataset: laRoot, dims: '3d', patchSize: [16, 32, 32], batchSize: 2, unlabelledBatchSize: 2, workers: 0, labelled: 2 },
    network: { name: 'vnet', nFilters: 2, hasDropout: false },
    loss: { name: 'dice_ce' },
    method: { name: 'bcp', pretrainIterations: 1 },
    training: { iterations: 2, validateEvery: 2, checkpointEvery: 2, logEvery: 1, progress: false },
  });
  const r = await trainExperiment(exp);
  assert.equal(r.completed, true);
  const dp = JSON.parse(fs.readFileSync(path.join(out, 'data_plan.json'), 'utf8'));
  assert.equal(dp.layout, 'h5-la');
  assert.deepEqual(dp.preprocessing.normalization, { scheme: 'none' }, 'LA volumes are z-scored already');
  assert.deepEqual(dp.preprocessing.spacing, [1, 1, 1]);
  assert.equal(dp.labelled.length, 2);
  assert.equal(dp.unlabelled.length, 2, 'the rest of the training fold feeds the unlabelled stream');
  assert.deepEqual(dp.splits.test, ['brats_006'], 'test.list is the test split');
  for (const id of dp.unlabelled as string[]) {
    const c = loadCachedCase(dp.cacheDir, id);
    assert.equal(c.label, null, `${id}: outside the budget, no label cached`);
    c.image.dispose();
  }
  // Self-training read 'uimage' batches: its log has BCP's losses for the mixed images.
  const self = path.join(out, '2-selftrain');
  assert.equal(losses(self).length, 2);
  const meta = readCheckpointMeta(path.join(self, 'checkpoints', 'last'));
  assert.equal((meta.network as Record<string, unknown>).name, 'vnet');
  assert.equal((meta.network as Record<string, unknown>).nFilters, 2);
  assert.deepEqual(meta.modules, ['teacher'], 'the EMA teacher is checkpointed');
  const test = r.test as Record<string, unknown>;
  assert.ok(test.labelwise && test.bcp, 'LA reports the labelwise and BCP protocols');
  // The run's final model is published in the run folder; the test split is scored from it, as `labelwise predict -m` would.
  assert.equal(readCheckpointMeta(path.join(out, 'checkpoints', 'best')).modelSha256, readCheckpointMeta(path.join(self, 'checkpoints', 'best')).modelSha256);
  const pred = readNifti(path.join(out, 'test', 'predictions', 'brats_006.nii.gz'));
  assert.deepEqual(pred.dims, CROP);
});

test('3D config errors name the field', async () => {
  await assert.rejects(trainExperiment(bratsExperiment(path.join(tmp, 'bad1'), 0, { network: { name: 'unet2d', inChannels: 2 } }), { preprocessedDir: path.join(tmp, 'cache-brats') }), /network\.name: 'unet2d' is a 2D network/);
  await assert.rejects(trainExperiment(resolveExperiment({
    output: path.join(tmp, 'bad2'),
    data: { dataset: nnunetRoot, dims: '3d', patchSize: [30, 32, 32], workers: 0 },
  }), { preprocessedDir: path.join(tmp, 'cache-brats') }), /data\.patchSize: \[30, 32, 32\] is not divisible/);
});

test('bad network, loss and method keys are reported together before any preprocessing', async () => {
  const out = path.join(tmp, 'bad3');
  const cache = path.join(tmp, 'cache-bad3');
  const t0 = performance.now();
  await assert.rejects(trainExperiment(resolveExperiment({
    output: out,
    data: { dataset: nnunetRoot, dims: '3d', patchSize: [32, 32, 32], workers: 0 },
    network: { name: 'plain_unet', featuresPerStag: [4, 8] },
    loss: { name: 'dice_ce', smoth: 1 },
    method: { name: 'bcp', emaDeacy: 0.9 },
  }), { preprocessedDir: cache }), (e: Error) => {
    for (const key of ['network.featuresPerStag: unknown key', 'loss.smoth: unknown key', 'method.emaDeacy: unknown key']) assert.ok(e.message.includes(key), `${key} in:\n${e.message}`);
    return true;
  });
  const ms = performance.now() - t0;
  assert.ok(ms < 1000, `rejected after ${ms.toFixed(0)} ms (must be before fingerprinting: under a second)`);
  assert.ok(!fs.existsSync(cache), 'nothing was preprocessed');
  assert.ok(!fs.existsSync(path.join(out, 'data_plan.json')), 'no data plan was written');
});
