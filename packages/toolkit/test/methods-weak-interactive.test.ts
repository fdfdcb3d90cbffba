// Interactive segmentation from clicks (methods/weak/interactive.ts): an
// untrained tiny U-Net saved as a run folder, a synthetic image with a known
// object; the clicks must raise Dice, leave the run's weights alone, be
// deterministic, match `predict` without clicks, and reject bad points.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as torch from '@labelwise/torch';
import { Volume } from '../src/io/volume.js';
import { createNetwork, type NetworkConfig } from '../src/nn/registry.js';
import { saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import { loadPredictor } from '../src/inference/predict.js';
import { AnnotationError } from '../src/data/annotations.js';
import { type Click, PRIOR_UNLABELLED, buildClickPrior, loadInteractiveModel, readClicks, segmentInteractive } from '../src/methods/weak/interactive.js';

const NET2D: NetworkConfig = {
  name: 'plain_unet', dims: 2, inChannels: 1, numClasses: 2, kernelSizes: [[3, 3], [3, 3]], strides: [[1, 1], [2, 2]],
  featuresPerStage: [8, 16], nConvPerStage: [1, 1], nConvPerStageDecoder: [1], deepSupervision: false, seed: 3,
} as NetworkConfig;
const NET3D: NetworkConfig = {
  name: 'plain_unet', dims: 3, inChannels: 1, numClasses: 2, kernelSizes: [[3, 3, 3], [3, 3, 3]], strides: [[1, 1, 1], [2, 2, 2]],
  featuresPerStage: [4, 8], nConvPerStage: [1, 1], nConvPerStageDecoder: [1], deepSupervision: false, seed: 5,
} as NetworkConfig;

/** A run folder holding an untrained network as checkpoints/best. */
function makeRun(net: NetworkConfig, patchSize: number[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-interactive-'));
  saveCheckpoint(dir, 'best', { model: createNetwork(net) }, {
    step: 1, totalSteps: 1, metrics: {}, bestMetric: null, network: net as unknown as Record<string, unknown>, labels: { background: 0, object: 1 },
    preprocessing: { normalization: { scheme: 'zscore' }, patchSize },
  } as Parameters<typeof saveCheckpoint>[3]);
  return dir;
}

/** A bright ellipse/ellipsoid on a textured background (deterministic), and its mask. */
function phantom(dims: [number, number, number], centre: number[], radii: number[]): { image: Volume; truth: Uint8Array } {
  const n = dims[0] * dims[1] * dims[2];
  const data = new Float32Array(n);
  const truth = new Uint8Array(n);
  let p = 0;
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++, p++) {
        const r = ((i - centre[0]) / radii[0]) ** 2 + ((j - centre[1]) / radii[1]) ** 2 + (dims[2] > 1 ? ((k - centre[2]) / radii[2]) ** 2 : 0);
        const inside = r <= 1;
        truth[p] = inside ? 1 : 0;
        data[p] = (inside ? 100 : 40) + 10 * Math.sin(i * 1.7 + j * 0.9 + k * 2.3);
      }
    }
  }
  const affine = Float64Array.from([1.2, 0, 0, -20, 0, 1.2, 0, 10, 0, 0, 2, 5, 0, 0, 0, 1]);
  return { image: new Volume({ data, dims, affine, meta: { source: 'phantom' } }), truth };
}

/** Dice of class 1, over the whole image or only inside `roi` (network grid [z, y, x] = the image's k, j, i here: no resampling). */
function dice(labels: Volume, truth: Uint8Array, roi?: { start: number[]; end: number[] } | null): number {
  let inter = 0; let a = 0; let b = 0;
  const [nx, ny] = labels.dims;
  for (let p = 0; p < truth.length; p++) {
    if (roi) {
      const i = p % nx; const j = Math.floor(p / nx) % ny; const k = Math.floor(p / (nx * ny));
      if (k < roi.start[0] || k >= roi.end[0] || j < roi.start[1] || j >= roi.end[1] || i < roi.start[2] || i >= roi.end[2]) continue;
    }
    const x = Number(labels.data[p]) === 1 ? 1 : 0;
    inter += x * truth[p]; a += x; b += truth[p];
  }
  return (2 * inter) / Math.max(1, a + b);
}

const weights = (m: torch.nn.Module<[torch.Tensor], torch.Tensor>): Float32Array[] => m.parameters().map((t) => Float32Array.from(t.toTypedArray() as Float32Array));

/** PA-Seg style: one click inside, background clicks just outside along ±i, ±j (and ±k). */
function sevenPoints(centre: number[], radii: number[], is3d: boolean): Click[] {
  const out: Click[] = [{ ijk: centre, class: 1 }];
  for (let a = 0; a < (is3d ? 3 : 2); a++) {
    for (const s of [-1, 1]) {
      const q = [...centre];
      q[a] += s * (radii[a] + 2);
      out.push({ ijk: q, class: 0 });
    }
  }
  return out;
}

test('2D: no clicks is the plain prediction; clicks raise Dice, leave the weights, and are deterministic', () => {
  const run = makeRun(NET2D, [64, 64]);
  try {
    const { image, truth } = phantom([64, 64, 1], [30, 34, 0], [12, 9, 1]);
    const predictor = loadPredictor(run);
    const before = weights(predictor.model);
    const plain = predictor.predict(image);
    const none = segmentInteractive(image, predictor, []);
    assert.deepEqual(Array.from(none.labels.data as Uint8Array), Array.from(plain.labels.data as Uint8Array));
    assert.equal(none.priorKind, 'none');

    const clicks = sevenPoints([30, 34, 0], [12, 9, 1], false);
    const r = segmentInteractive(image, predictor, clicks, { steps: 20, lr: 1e-2, seed: 1 });
    assert.equal(r.priorKind, 'pa-seg');
    assert.deepEqual(r.labels.dims, image.dims);
    assert.deepEqual(Array.from(r.initial.data as Uint8Array), Array.from(plain.labels.data as Uint8Array), 'initial = predict');
    // Only the ROI is refined: score there.
    const d0 = dice(plain.labels, truth, r.roi);
    const d1 = dice(r.labels, truth, r.roi);
    console.log(`2D dice ${d0.toFixed(3)} -> ${d1.toFixed(3)}; timings ${JSON.stringify(r.timings)}; loss ${r.losses[0].toFixed(3)} -> ${r.losses.at(-1)!.toFixed(3)}`);
    assert.ok(d1 > d0 + 0.4 && d1 > 0.85, `clicks improve Dice: ${d0} -> ${d1}`);
    assert.ok(r.losses.at(-1)! < r.losses[0]);
    // The original network is unchanged.
    const after = weights(predictor.model);
    after.forEach((w, i) => assert.deepEqual(w, before[i]));
    assert.deepEqual(Array.from(predictor.predict(image).labels.data as Uint8Array), Array.from(plain.labels.data as Uint8Array));
    // Same seed, same result.
    const again = segmentInteractive(image, predictor, clicks, { steps: 20, lr: 1e-2, seed: 1 });
    assert.deepEqual(again.losses, r.losses);
    assert.deepEqual(Array.from(again.labels.data as Uint8Array), Array.from(r.labels.data as Uint8Array));
    // Outside the ROI the prediction is untouched.
    const [z0, y0, x0] = r.roi!.start;
    const [z1, y1, x1] = r.roi!.end;
    assert.equal(z0, 0); assert.equal(z1, 1);
    for (let j = 0; j < 64; j++) {
      for (let i = 0; i < 64; i++) {
        if (j >= y0 && j < y1 && i >= x0 && i < x1) continue;
        assert.equal(r.labels.data[i + 64 * j], plain.labels.data[i + 64 * j], `voxel (${i}, ${j}) outside the ROI`);
      }
    }
  } finally {
    fs.rmSync(run, { recursive: true, force: true });
  }
});

test('3D: foreground-only clicks grow geodesic balls; the result improves on the untrained model within seconds', () => {
  const run = makeRun(NET3D, [16, 32, 32]);
  try {
    const dims: [number, number, number] = [40, 40, 20];
    const { image, truth } = phantom(dims, [20, 18, 10], [8, 7, 5]);
    const predictor = loadInteractiveModel(run);
    const plain = predictor.predict(image);
    const clicks: Click[] = [{ ijk: [20, 18, 10], class: 1 }, { ijk: [16, 20, 9], class: 1 }, { ijk: [9, 18, 10], class: 0 }, { ijk: [31, 18, 10], class: 0 }, { ijk: [20, 18, 3], class: 0 }];
    const prior = buildClickPrior(image, clicks);
    assert.equal(prior.kind, 'balls');
    // The ball stays inside the object: every voxel it labels foreground is in the truth.
    let fg = 0;
    prior.labels.forEach((v, p) => { if (v === 1) { fg++; assert.equal(truth[p], 1, `prior foreground voxel ${p} is outside the object`); } });
    assert.ok(fg > 20, `the balls grew (${fg} voxels)`);
    assert.ok(prior.labels.some((v) => v === PRIOR_UNLABELLED));
    const r = segmentInteractive(image, predictor, clicks, { steps: 20, lr: 1e-2, seed: 0 });
    const d0 = dice(plain.labels, truth, r.roi);
    const d1 = dice(r.labels, truth, r.roi);
    console.log(`3D dice ${d0.toFixed(3)} -> ${d1.toFixed(3)}; timings ${JSON.stringify(r.timings)}`);
    assert.ok(d1 > d0 + 0.4 && d1 > 0.6, `clicks improve Dice: ${d0} -> ${d1}`);
    assert.ok(r.timings.totalMs < 20000);
  } finally {
    fs.rmSync(run, { recursive: true, force: true });
  }
});

test('bad clicks: outside the image, no foreground, missing model; errors name the file', () => {
  const run = makeRun(NET2D, [64, 64]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-interactive-pts-'));
  try {
    const { image } = phantom([64, 64, 1], [30, 34, 0], [12, 9, 1]);
    const predictor = loadPredictor(run);
    assert.throws(() => segmentInteractive(image, predictor, [{ ijk: [70, 3, 0], class: 1 }], {}, 'pts.json'),
      (e: Error) => e instanceof AnnotationError && /^pts\.json: click 0 at voxel \(70, 3, 0\) lies outside the image of dims \[64, 64, 1\]/.test(e.message));
    assert.throws(() => segmentInteractive(image, predictor, [{ ijk: [1, 3, 0], class: 0 }], {}, 'pts.json'), /pts\.json: has no foreground point/);
    assert.throws(() => segmentInteractive(image, predictor, [{ ijk: [1, 3, 0], class: 2 }], {}, 'pts.json'), /pts\.json: click 0 has class 2; the model has classes 0\.\.1/);
    const outside = path.join(dir, 'outside.json');
    fs.writeFileSync(outside, JSON.stringify({ coordinates: 'voxel', points: [{ position: [10, 80, 0], label: 'foreground' }] }));
    assert.throws(() => readClicks(outside, image), (e: Error) => e.message.startsWith(`${outside}: point 0 at voxel (10, 80, 0) lies outside the image`));
    const nofg = path.join(dir, 'nofg.json');
    fs.writeFileSync(nofg, JSON.stringify({ coordinates: 'voxel', points: [{ position: [10, 8, 0], label: 'background' }] }));
    assert.throws(() => readClicks(nofg, image), (e: Error) => e.message.startsWith(`${nofg}: has no foreground point`));
    assert.throws(() => readClicks(path.join(dir, 'absent.json'), image), /absent\.json: no such file/);
    assert.throws(() => loadInteractiveModel(path.join(dir, 'no-run')), /no-run: no such file or folder/);
  } finally {
    fs.rmSync(run, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
