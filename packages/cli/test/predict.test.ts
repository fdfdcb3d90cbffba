// `labelwise predict` end to end: a checkpoint written by saveCheckpoint, a
// real CT NIfTI in, label maps (and probabilities) out on the input's grid;
// exit codes for bad paths (2) and failing cases (1).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Volume, affinesClose, readNifti, writeNifti } from '@labelwise/toolkit/io';
import { createNetwork } from '@labelwise/toolkit/nn';
import { saveCheckpoint } from '@labelwise/toolkit/checkpoint';
import { discoverCases } from '../src/commands/predict.js';
import { runCli } from './run-cli.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.resolve(here, '../src/main.js');
const REPO = path.resolve(here, '../../../..');
const SHARED = process.env.LABELWISE_SHARED_DATA ?? path.resolve(REPO, '../shared/data');
const CT = path.join(SHARED, 'samples/ivadomed_testing/ct_scan/sub-spleen2/ct/sub-spleen2_ct.nii.gz');
const NET = {
  name: 'plain_unet', dims: 3, inChannels: 1, numClasses: 2, kernelSizes: [[3, 3, 3], [3, 3, 3]], strides: [[1, 1, 1], [2, 2, 2]],
  featuresPerStage: [2, 4], nConvPerStage: [1, 1], nConvPerStageDecoder: [1], deepSupervision: false, seed: 4,
};

/** Runs the verb in this process (no node start-up), capturing its output. */
const inProcess = (args: string[]) => runCli(['predict', ...args]);

/** A run folder with a 'best' checkpoint of a tiny 3D PlainConvUNet, and an input folder with a real CT. */
function setup(): { dir: string; run: string; input: string; out: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-cli-predict-'));
  const run = path.join(dir, 'run');
  const net = createNetwork(NET);
  saveCheckpoint(run, 'best', { model: net }, {
    step: 1, totalSteps: 1, metrics: {}, bestMetric: null, network: NET, labels: { background: 0, spleen: 1 },
    preprocessing: { normalization: { scheme: 'ct', mean: 50, std: 200, lower: -1000, upper: 1000 }, patchSize: [32, 128, 128] },
  });
  const input = path.join(dir, 'in');
  fs.mkdirSync(input);
  fs.copyFileSync(CT, path.join(input, 'spleen2_0000.nii.gz'));
  return { dir, run, input, out: path.join(dir, 'out') };
}

test('--help documents every option and the exit codes', () => {
  const r = spawnSync(process.execPath, [MAIN, 'predict', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  for (const opt of ['--model', '--checkpoint', '--input', '--output', '--mode', '--patch-size', '--overlap', '--batch-size', '--no-gaussian', '--mirror', '--mirror-axes', '--resize', '--probabilities', '--lcc', '--lcc-classes', '--threads', '--skip-existing', '--quiet', 'exit codes']) {
    assert.ok(r.stdout.includes(opt), `help mentions ${opt}`);
  }
});

test('predicts a real CT into a label map and probabilities on the input grid', async () => {
  const s = setup();
  try {
    const r = await inProcess(['-m', s.run, '-i', s.input, '-o', s.out, '--probabilities', '--lcc', '--quiet']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /wrote 1 label map\(s\)/);
    const src = readNifti(CT);
    const labels = readNifti(path.join(s.out, 'spleen2.nii.gz'));
    assert.deepEqual(labels.dims, src.dims);
    assert.ok(affinesClose(labels.affine, src.affine, 1e-6));
    assert.equal(labels.voxelType, 'uint8');
    assert.ok((labels.data as Uint8Array).every((v) => v <= 1));
    const probs = readNifti(path.join(s.out, 'spleen2_probabilities.nii.gz'));
    assert.deepEqual(probs.dims, src.dims);
    assert.equal(probs.channels, 2);
    assert.deepEqual(fs.readdirSync(s.out).sort(), ['spleen2.nii.gz', 'spleen2_probabilities.nii.gz'], 'no temporary files left');
    // --skip-existing leaves the finished case alone.
    const again = await inProcess(['-m', s.run, '-i', s.input, '-o', s.out, '--probabilities', '--skip-existing', '--quiet']);
    assert.equal(again.code, 0);
    assert.match(again.out, /wrote 0 label map\(s\) .*\(1 skipped\)/);
  } finally {
    fs.rmSync(s.dir, { recursive: true, force: true });
  }
});

test('exit code 2 for bad paths and options, 1 when a case fails', async () => {
  const s = setup();
  try {
    const missingModel = await inProcess(['-m', path.join(s.dir, 'nope'), '-i', s.input, '-o', s.out]);
    assert.equal(missingModel.code, 2);
    assert.match(missingModel.err, /--model .*nope: no such file or folder/);
    const notACheckpoint = await inProcess(['-m', s.input, '-i', s.input, '-o', s.out]);
    assert.equal(notACheckpoint.code, 2);
    assert.match(notACheckpoint.err, /neither a checkpoint folder/);
    const missingInput = await inProcess(['-m', s.run, '-i', path.join(s.dir, 'missing.nii.gz'), '-o', s.out]);
    assert.equal(missingInput.code, 2);
    assert.match(missingInput.err, /--input .*missing\.nii\.gz: no such file or folder/);
    assert.equal((await inProcess(['-m', s.run, '-i', s.input, '-o', s.out, '--overlap', '1.5'])).code, 2);
    assert.equal((await inProcess(['-m', s.run, '-i', s.input, '-o', s.out, '--mode', 'volume'])).code, 2);
    assert.equal((await inProcess(['-m', s.run, '-i', s.input])).code, 2);
    // A 2-channel case for a 1-channel network fails (exit 1) and names the case; nothing is written for it.
    fs.copyFileSync(CT, path.join(s.input, 'spleen2_0001.nii.gz'));
    const bad = await inProcess(['-m', s.run, '-i', s.input, '-o', s.out, '--quiet']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /case 'spleen2' .*expects 1 input channel\(s\), the image has 2/);
    assert.ok(!fs.existsSync(path.join(s.out, 'spleen2.nii.gz')));
    // The spawned binary reports the same way.
    const r = spawnSync(process.execPath, [MAIN, 'predict', '-m', path.join(s.dir, 'nope'), '-i', s.input, '-o', s.out], { encoding: 'utf8' });
    assert.equal(r.status, 2);
  } finally {
    fs.rmSync(s.dir, { recursive: true, force: true });
  }
});

test('case discovery groups nnU-Net channel files and rejects gaps and clashes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-cli-cases-'));
  try {
    const vol = new Volume({ data: new Float32Array(8), dims: [2, 2, 2] });
    for (const f of ['a_0000.nii.gz', 'a_0001.nii.gz', 'b.nii', 'c_0000.nii.gz']) writeNifti(path.join(dir, f), vol);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not an image');
    const cases = discoverCases([dir]);
    assert.deepEqual(cases.map((c) => [c.id, c.files.map((f) => path.basename(f))]), [['a', ['a_0000.nii.gz', 'a_0001.nii.gz']], ['b', ['b.nii']], ['c', ['c_0000.nii.gz']]]);
    writeNifti(path.join(dir, 'c_0002.nii.gz'), vol);
    assert.throws(() => discoverCases([dir]), /case 'c': channel files must be numbered _0000, _0001, \.\.\. without gaps, got _0000, _0002/);
    fs.rmSync(path.join(dir, 'c_0002.nii.gz'));
    assert.throws(() => discoverCases([dir, path.join(dir, 'b.nii')]), /two inputs give the case name 'b'/);
    assert.throws(() => discoverCases([path.join(dir, 'notes.txt')]), /not a readable image/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
