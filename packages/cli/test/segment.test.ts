// `labelwise segment` end to end: a run folder with an untrained tiny 2D
// U-Net, a synthetic NIfTI slice, clicks as JSON and as a PA-Seg point map;
// bad points and a missing model exit 2 and write nothing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Volume, affinesClose, readNifti, writeNifti } from '@labelwise/toolkit/io';
import { createNetwork } from '@labelwise/toolkit/nn';
import { saveCheckpoint } from '@labelwise/toolkit/checkpoint';
import { runCli } from './run-cli.js';

const NET = {
  name: 'plain_unet', dims: 2, inChannels: 1, numClasses: 2, kernelSizes: [[3, 3], [3, 3]], strides: [[1, 1], [2, 2]],
  featuresPerStage: [4, 8], nConvPerStage: [1, 1], nConvPerStageDecoder: [1], deepSupervision: false, seed: 3,
};

function setup(): { dir: string; run: string; image: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-cli-segment-'));
  const run = path.join(dir, 'run');
  saveCheckpoint(run, 'best', { model: createNetwork(NET) }, {
    step: 1, totalSteps: 1, metrics: {}, bestMetric: null, network: NET, labels: { background: 0, object: 1 },
    preprocessing: { normalization: { scheme: 'zscore' }, patchSize: [32, 32] },
  });
  const data = new Float32Array(32 * 32);
  for (let j = 0; j < 32; j++) for (let i = 0; i < 32; i++) data[i + 32 * j] = ((i - 15) ** 2 + (j - 16) ** 2 <= 36 ? 100 : 40) + 5 * Math.sin(i + 2 * j);
  const image = path.join(dir, 'img.nii.gz');
  writeNifti(image, new Volume({ data, dims: [32, 32, 1], affine: Float64Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]) }));
  return { dir, run, image };
}

const points = (dir: string, name: string, pts: unknown[]): string => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, JSON.stringify({ coordinates: 'voxel', points: pts }));
  return f;
};

test('segments from JSON clicks and from a PA-Seg point map; output on the image grid', async () => {
  const s = setup();
  try {
    const pts = points(s.dir, 'clicks.json', [
      { position: [15, 16, 0], label: 'foreground' }, { position: [7, 16, 0], label: 'background' }, { position: [23, 16, 0], label: 'background' },
      { position: [15, 8, 0], label: 'background' }, { position: [15, 24, 0], label: 'background' },
    ]);
    const out = path.join(s.dir, 'seg.nii.gz');
    const r = await runCli(['segment', '--image', s.image, '--points', pts, '-m', s.run, '-o', out, '--steps', '5', '--seed', '1']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /prior pa-seg; predict .* fine-tune 5 steps/);
    const src = readNifti(s.image);
    const seg = readNifti(out);
    assert.deepEqual(seg.dims, src.dims);
    assert.ok(affinesClose(seg.affine, src.affine, 1e-6));
    assert.equal(seg.voxelType, 'uint8');
    // The same clicks as a point map (1 background, 2 foreground).
    const map = new Uint8Array(32 * 32);
    map[15 + 32 * 16] = 2;
    for (const [i, j] of [[7, 16], [23, 16], [15, 8], [15, 24]]) map[i + 32 * j] = 1;
    const mapFile = path.join(s.dir, 'img_7points.nii.gz');
    writeNifti(mapFile, new Volume({ data: map, dims: [32, 32, 1], affine: src.affine }));
    const out2 = path.join(s.dir, 'seg2.nii.gz');
    const r2 = await runCli(['segment', '--image', s.image, '--points', mapFile, '-m', s.run, '-o', out2, '--steps', '5', '--seed', '1', '--quiet']);
    assert.equal(r2.code, 0, r2.err);
    assert.deepEqual(Array.from(readNifti(out2).data as Uint8Array), Array.from(seg.data as Uint8Array), 'same clicks, same seed, same result');
  } finally {
    fs.rmSync(s.dir, { recursive: true, force: true });
  }
});

test('bad input exits 2, names the file and the problem, writes nothing', async () => {
  const s = setup();
  try {
    const out = path.join(s.dir, 'seg.nii.gz');
    const outside = points(s.dir, 'outside.json', [{ position: [40, 3, 0], label: 'foreground' }]);
    let r = await runCli(['segment', '--image', s.image, '--points', outside, '-m', s.run, '-o', out]);
    assert.equal(r.code, 2);
    assert.ok(r.err.includes(`${outside}: point 0 at voxel (40, 3, 0) lies outside the image`), r.err);
    const nofg = points(s.dir, 'nofg.json', [{ position: [4, 3, 0], label: 'background' }]);
    r = await runCli(['segment', '--image', s.image, '--points', nofg, '-m', s.run, '-o', out]);
    assert.equal(r.code, 2);
    assert.ok(r.err.includes(`${nofg}: has no foreground point`), r.err);
    const ok = points(s.dir, 'ok.json', [{ position: [15, 16, 0], label: 'foreground' }]);
    r = await runCli(['segment', '--image', s.image, '--points', ok, '-m', path.join(s.dir, 'no-run'), '-o', out]);
    assert.equal(r.code, 2);
    assert.match(r.err, /--model .*no-run: no such file or folder/);
    assert.equal(fs.existsSync(out), false, 'nothing written');
  } finally {
    fs.rmSync(s.dir, { recursive: true, force: true });
  }
});
