// predictVolume and loadPredictor on a real CT NIfTI (MSD spleen crop,
// 164×166×26, 0.79×0.79×5 mm): output geometry, agreement of windowed and
// whole-volume prediction, mirroring, largest-component post-processing,
// nnU-Net preprocessing and its inverse, and a checkpoint round trip.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as torch from '@labelwise/torch';
import { affinesClose } from '../src/io/affine.js';
import { readNifti } from '../src/io/nifti.js';
import { Volume } from '../src/io/volume.js';
import { createNetwork, type NetworkConfig } from '../src/nn/registry.js';
import { checkpointInference, loadPredictor, normalizationFunction, predictTensor, predictVolume, resolveCheckpointDir } from '../src/inference/predict.js';
import { saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import { sample } from './shared-data.js';

const CT = sample('ivadomed_testing/ct_scan/sub-spleen2/ct/sub-spleen2_ct.nii.gz');
const CT_NORM = { scheme: 'ct' as const, mean: 50, std: 200, lower: -1000, upper: 1000 };
const TINY: NetworkConfig = {
  name: 'plain_unet', dims: 3, inChannels: 1, numClasses: 3, kernelSizes: [[3, 3, 3], [3, 3, 3]], strides: [[1, 1, 1], [2, 2, 2]],
  featuresPerStage: [2, 4], nConvPerStage: [1, 1], nConvPerStageDecoder: [1], deepSupervision: false, seed: 3,
};

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A box of a volume (i, j ranges; all k) with the matching affine. */
function crop(vol: Volume, i0: number, i1: number, j0: number, j1: number): Volume {
  const [ni, nj, nk] = vol.dims;
  const out = new Float32Array((i1 - i0) * (j1 - j0) * nk);
  let o = 0;
  for (let k = 0; k < nk; k++) for (let j = j0; j < j1; j++) for (let i = i0; i < i1; i++) out[o++] = Number(vol.data[i + ni * (j + nj * k)]);
  return new Volume({ data: out, dims: [i1 - i0, j1 - j0, nk], affine: vol.shiftedAffine([i0, j0, 0]) });
}

function sameGeometry(out: Volume, like: Volume): void {
  assert.deepEqual(out.dims, like.dims);
  assert.ok(affinesClose(out.affine, like.affine, 0), 'affine copied exactly');
}

/** Softmax probabilities and argmax of a network applied to the whole image [C, Z, Y, X]. */
function whole(image: torch.Tensor, f: (x: torch.Tensor) => torch.Tensor): { probs: Float32Array; labels: Uint8Array } {
  return torch.noGrad(() => torch.tidy(() => {
    const p = torch.F.softmax(f(image.unsqueeze(0)), 1).squeeze(0);
    return { probs: p.contiguous().toTypedArray() as Float32Array, labels: p.argmax(0).to('uint8').contiguous().toTypedArray() as Uint8Array };
  }));
}

test('a tiny PlainConvUNet on a real CT: labels and probabilities on the input grid', () => {
  const vol = readNifti(CT);
  const net = createNetwork(TINY);
  net.eval();
  // Windows deeper than the 26 slices (padding) and 4 windows in-plane.
  const r = predictVolume(vol, net, { mode: 'sliding3d', patchSize: [32, 128, 128], normalize: normalizationFunction(CT_NORM), probabilities: true, batchSize: 4 });
  sameGeometry(r.labels, vol);
  assert.equal(r.labels.channels, 1);
  assert.ok(r.labels.data instanceof Uint8Array);
  assert.ok((r.labels.data as Uint8Array).every((v) => v < 3));
  const p = r.probabilities!;
  sameGeometry(p, vol);
  assert.equal(p.channels, 3);
  // Per voxel the class probabilities sum to 1 and the label is their argmax.
  const n = vol.numVoxels;
  const pd = p.data as Float32Array;
  for (const i of [0, 1234, 20000, n - 1]) {
    const ps = [pd[i], pd[n + i], pd[2 * n + i]];
    assert.ok(Math.abs(ps[0] + ps[1] + ps[2] - 1) < 1e-5);
    assert.equal(r.labels.data[i], ps.indexOf(Math.max(...ps)));
  }
  // Only orientation codes travel to the label map, not the CT's scaling or datatype.
  assert.deepEqual(Object.keys(r.labels.meta.nifti as object).sort(), ['qformCode', 'sformCode', 'xyztUnits']);
});

test('windows (3D, and 2D per slice) give the whole-volume prediction of a pointwise network; mirroring changes nothing for it', () => {
  const vol = readNifti(CT);
  torch.manualSeed(11);
  const conv3 = new torch.nn.Conv3d(1, 3, 1);
  const norm = normalizationFunction(CT_NORM);
  const image = norm(vol.toTensor('float32'));
  const ref3 = whole(image, (x) => conv3.forward(x));
  for (const opts of [{ batchSize: 1 }, { batchSize: 3, mirror: [0, 2] }, { batchSize: 2, gaussian: false, overlap: 0.25 }]) {
    const r = predictVolume(vol, conv3, { mode: 'sliding3d', patchSize: [16, 96, 80], normalize: norm, probabilities: true, ...opts });
    assert.ok(maxDiff(r.probabilities!.data as Float32Array, ref3.probs) < 2e-5, JSON.stringify(opts));
    assert.deepEqual(r.labels.data, ref3.labels);
  }
  const conv2 = new torch.nn.Conv2d(1, 3, 1);
  const ref2 = whole(image, (x) => conv2.forward(x.squeeze(0).transpose(0, 1)).transpose(0, 1).unsqueeze(0));
  for (const opts of [{}, { patchSize: [96, 96] }, { mirror: [1] }]) {
    const r = predictVolume(vol, conv2, { mode: 'slices2d', normalize: norm, probabilities: true, batchSize: 5, ...opts });
    assert.ok(maxDiff(r.probabilities!.data as Float32Array, ref2.probs) < 2e-5, JSON.stringify(opts));
    assert.deepEqual(r.labels.data, ref2.labels);
  }
});

test('slices2d pads slices to what the network divides by, and resizeTo maps labels back to each slice', () => {
  const vol = readNifti(CT);
  const net = createNetwork({ name: 'plain_unet', dims: 2, inChannels: 1, numClasses: 2, kernelSizes: [[3, 3], [3, 3], [3, 3]], strides: [[1, 1], [2, 2], [2, 2]], featuresPerStage: [2, 4, 4], deepSupervision: false, seed: 2 });
  net.eval();
  // 166 × 164 slices are not multiples of 4: padded internally.
  const padded = predictVolume(vol, net, { normalize: normalizationFunction(CT_NORM) });
  sameGeometry(padded.labels, vol);
  const resized = predictVolume(vol, net, { normalize: normalizationFunction(CT_NORM), resizeTo: [64, 64] });
  sameGeometry(resized.labels, vol);
  assert.throws(() => predictVolume(vol, net, { mode: 'sliding3d', patchSize: [8, 64, 64] }), /mode 'sliding3d' needs a 3D network, 'plain_unet' is 2D/);
});

test('largestComponent keeps each class’s biggest blob', () => {
  const dims = [20, 16, 6];
  const data = new Float32Array(20 * 16 * 6).fill(-1);
  const vol = new Volume({ data, dims });
  const box = (i0: number, i1: number, j0: number, j1: number, k0: number, k1: number) => {
    for (let k = k0; k < k1; k++) for (let j = j0; j < j1; j++) for (let i = i0; i < i1; i++) data[vol.index(i, j, k)] = 1;
  };
  box(1, 8, 1, 8, 1, 5); // 196 voxels
  box(12, 15, 10, 13, 2, 4); // 18 voxels, apart
  const threshold = (x: torch.Tensor) => torch.cat([x.neg(), x], 1);
  const plain = predictVolume(vol, threshold, { mode: 'sliding3d', patchSize: [4, 8, 8] });
  const kept = predictVolume(vol, threshold, { mode: 'sliding3d', patchSize: [4, 8, 8], largestComponent: true });
  const count = (v: Volume) => (v.data as Uint8Array).reduce((s, x) => s + x, 0);
  assert.equal(count(plain.labels), 196 + 18);
  assert.equal(count(kept.labels), 196);
  assert.equal(kept.labels.at(13, 11, 3), 0);
  assert.equal(count(predictVolume(vol, threshold, { mode: 'sliding3d', patchSize: [4, 8, 8], largestComponent: [2] }).labels), 196 + 18);
});

test('nnU-Net preprocessing: predicted at the target spacing, returned on the input grid', () => {
  const vol = readNifti(CT);
  torch.manualSeed(12);
  const conv3 = new torch.nn.Conv3d(1, 2, 1);
  const preprocess = { normalization: CT_NORM, spacing: [5, 1.6, 1.6], cropToNonzero: false };
  const r = predictVolume(vol, conv3, { mode: 'sliding3d', patchSize: [8, 32, 32], preprocess, probabilities: true });
  sameGeometry(r.labels, vol);
  assert.equal(r.probabilities!.channels, 2);
  // A pointwise net is (almost) resampling-invariant: the labels match direct prediction away from edges.
  const direct = whole(normalizationFunction(CT_NORM)(vol.toTensor('float32')), (x) => conv3.forward(x)).labels;
  let same = 0;
  direct.forEach((v, i) => { if (v === r.labels.data[i]) same++; });
  assert.ok(same / direct.length > 0.97, `agreement ${same / direct.length}`);
});

/** Peak RSS (MiB) of running fn, via VmHWM reset by /proc/self/clear_refs (Linux); null where unsupported. */
function peakGrowth(fn: () => void): number | null {
  const hwm = () => Number(/^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    return null;
  }
  const before = process.memoryUsage.rss() / 2 ** 20;
  fn();
  return hwm() - before;
}

test('sliding-window memory stays bounded by one slab of accumulators, not the volume', (t) => {
  // [1, 160, 256, 256]: a full float accumulator (2 classes + weights) would be 126 MiB.
  const image = torch.rand([1, 160, 256, 256], { generator: new torch.Generator(5) });
  torch.manualSeed(5);
  const conv = new torch.nn.Conv3d(1, 2, 1);
  const grew = peakGrowth(() => { predictTensor(image, conv, { patchSize: [16, 128, 128] }).labels.dispose(); });
  if (grew === null) return t.skip('no /proc/self/clear_refs');
  // Labels (10 MiB) + a 16-plane slab (12 MiB) + window temporaries: ~60 MiB; keeping every slab alive grew ~280.
  assert.ok(grew < 100, `peak RSS grew by ${grew.toFixed(0)} MiB`);
});

test('bad inputs are reported with what was expected', () => {
  const vol = readNifti(CT);
  const net = createNetwork({ ...TINY, inChannels: 2 });
  assert.throws(() => predictVolume(vol, net, { patchSize: [32, 128, 128] }), /expects 2 input channel\(s\), the image has 1/);
  const one = createNetwork(TINY);
  assert.throws(() => predictVolume(vol, one, {}), /sliding3d needs patchSize/);
  assert.throws(() => predictVolume(vol, one, { patchSize: [15, 64, 64] }), /patchSize \[15, 64, 64\] must be divisible by \[2, 2, 2\]/);
  assert.throws(() => predictVolume(vol, one, { patchSize: [32, 128, 128], mirror: [3] }), /mirror axes must be in \[0, 3\)/);
});

test('a checkpoint saved by saveCheckpoint loads into an eval-mode predictor with its settings', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-predict-ckpt-'));
  try {
    const vol = crop(readNifti(CT), 50, 114, 40, 120);
    const net = createNetwork(TINY);
    const meta = {
      step: 10, totalSteps: 10, metrics: { dice: 0.5 }, bestMetric: 0.5, network: TINY as Record<string, unknown>, labels: { background: 0, spleen: 1, other: 2 },
      preprocessing: { normalization: CT_NORM, patchSize: [16, 48, 48] },
    };
    saveCheckpoint(dir, 'best', { model: net }, meta);
    saveCheckpoint(dir, 'last', { model: createNetwork({ ...TINY, seed: 99 }) }, meta);
    assert.equal(resolveCheckpointDir(dir), path.join(dir, 'checkpoints', 'best'));
    const p = loadPredictor(dir);
    assert.equal(p.dir, path.join(dir, 'checkpoints', 'best'));
    assert.equal(p.model.training, false);
    assert.deepEqual(p.labels, meta.labels);
    assert.deepEqual(p.options.patchSize, [16, 48, 48]);
    assert.equal(p.options.mode, undefined);
    net.eval();
    const expected = predictVolume(vol, net, { patchSize: [16, 48, 48], normalize: normalizationFunction(CT_NORM), probabilities: true });
    const got = p.predict(vol, { probabilities: true });
    assert.deepEqual(got.labels.data, expected.labels.data);
    assert.equal(maxDiff(got.probabilities!.data as Float32Array, expected.probabilities!.data as Float32Array), 0);
    // The 'last' checkpoint differs (other weights) and loads by its folder.
    const last = loadPredictor(path.join(dir, 'checkpoints', 'last'));
    assert.notDeepEqual(last.predict(vol, { probabilities: true }).probabilities!.data, got.probabilities!.data);
    // A modified weights file is refused.
    const weights = path.join(dir, 'checkpoints', 'last', 'model.safetensors');
    const bytes = fs.readFileSync(weights);
    bytes[bytes.length - 1] ^= 1;
    fs.writeFileSync(weights, bytes);
    assert.throws(() => loadPredictor(path.join(dir, 'checkpoints', 'last')), /does not match checkpoint\.json/);
    assert.throws(() => loadPredictor(path.join(dir, 'nothing')), /no such file or folder/);
    fs.mkdirSync(path.join(dir, 'empty'));
    assert.throws(() => loadPredictor(path.join(dir, 'empty')), /neither a checkpoint folder \(no checkpoint\.json\) nor a run folder/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('checkpointInference reads preprocessing first, then the experiment config, and validates both', () => {
  const base = { format: 'labelwise-checkpoint/1', step: 1, totalSteps: 1, metrics: {}, bestMetric: null, network: { name: 'unet2d' }, codeVersion: '0', createdAt: '', modules: [], modelSha256: '' };
  const fromConfig = checkpointInference({ ...base, config: { data: { patchSize: [256, 256], normalization: { scheme: 'minmax' } }, validation: { mode: 'slices2d', overlap: 0.5 } } });
  assert.deepEqual(fromConfig, { mode: 'slices2d', patchSize: [256, 256], overlap: 0.5, normalization: { scheme: 'minmax' } });
  const nn = checkpointInference({ ...base, preprocessing: { normalization: [{ scheme: 'zscore', useMask: true }], spacing: [1, 1, 1], patchSize: [128, 128, 128] } });
  assert.deepEqual(nn.preprocess?.spacing, [1, 1, 1]);
  // What `labelwise train` writes for 2D runs: slices were resized to the patch size.
  const trained2d = checkpointInference({ ...base, preprocessing: { normalization: 'minmax', patchSize: [256, 256], mode: 'slices2d', imageResize: 'nearest' } });
  assert.deepEqual(trained2d, { mode: 'slices2d', patchSize: [256, 256], imageResize: 'nearest', resizeTo: [256, 256], normalization: { scheme: 'minmax' } });
  assert.throws(() => checkpointInference({ ...base, preprocessing: { normalization: 'per-volume min-max to [0, 1]' } }), /normalization: "per-volume min-max to \[0, 1\]" is not a normalisation config/);
  assert.throws(() => checkpointInference({ ...base, preprocessing: { mode: 'sliding' } }), /preprocessing\.mode: expected one of sliding3d, slices2d, got "sliding"/);
  assert.throws(() => checkpointInference({ ...base, preprocessing: { normalization: { scheme: 'zz' } } }), /normalization\.scheme: expected one of/);
});
