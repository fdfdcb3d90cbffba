// Sliding-window and slice-wise inference, and connected-component post-processing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '@labelwise/torch';
import { connectedComponents, keepLargestComponent, keepLargestComponentTensor } from '../src/inference/postprocess.js';
import { predictSlices, zoomNearestIndex } from '../src/inference/slicewise.js';
import { gaussianImportance, slidingWindowInference, windowStarts } from '../src/inference/sliding-window.js';

function close(a: torch.Tensor, b: torch.Tensor, tol: number): void {
  const d = a.sub(b).abs().max().item();
  assert.ok(d <= tol, `max difference ${d} > ${tol}`);
}

test('window starts follow nnU-Net: evenly spread, first at 0, last flush with the end', () => {
  assert.deepEqual(windowStarts(100, 64, 0.5), [0, 18, 36]);
  assert.deepEqual(windowStarts(64, 64, 0.5), [0]);
  assert.deepEqual(windowStarts(40, 64, 0.5), [0]);
  assert.deepEqual(windowStarts(160, 32, 0.5), [0, 16, 32, 48, 64, 80, 96, 112, 128]);
  assert.deepEqual(windowStarts(10, 4, 0), [0, 3, 6]);
});

test('the Gaussian importance map peaks at the centre and stays positive at the corners', () => {
  const g = gaussianImportance([8, 16]);
  assert.deepEqual(g.shape, [8, 16]);
  assert.ok(Math.abs(g.max().item() - 1) < 1e-6);
  const corner = g.select(0, 0).select(0, 0).item();
  assert.ok(corner > 0 && corner < 1e-3, `corner weight ${corner}`);
  close(g, g.flip([0, 1]), 1e-7);
});

test('a pointwise network gives the same probabilities with windows as on the whole image (3D, padding, batching, mirroring)', () => {
  torch.manualSeed(0);
  const net = new torch.nn.Conv3d(2, 3, 1);
  const predict = (x: torch.Tensor) => net.forward(x);
  const image = torch.randn([2, 21, 30, 17]);
  const whole = torch.noGrad(() => torch.F.softmax(net.forward(image.unsqueeze(0)), 1).squeeze(0));
  for (const opts of [{ batchSize: 1 }, { batchSize: 5, mirrorAxes: [0, 1, 2] }, { batchSize: 3, gaussian: false }]) {
    const r = slidingWindowInference(image, predict, { patchSize: [8, 16, 24], overlap: 0.5, returnProbabilities: true, ...opts });
    assert.deepEqual(r.probabilities!.shape, [3, 21, 30, 17]);
    close(r.probabilities!, whole, 2e-5);
    assert.deepEqual(r.labels.tolist(), whole.argmax(0).to('uint8').tolist());
  }
});

test('one window covering the image equals whole-image inference for a network with context', () => {
  torch.manualSeed(1);
  const net = new torch.nn.Sequential(new torch.nn.Conv2d(1, 4, 3, { padding: 1 }), new torch.nn.ReLU(), new torch.nn.Conv2d(4, 3, 3, { padding: 1 }));
  net.eval();
  const image = torch.randn([1, 32, 32]);
  const r = slidingWindowInference(image, (x) => net.forward(x), { patchSize: [32, 32], returnProbabilities: true });
  const whole = torch.noGrad(() => torch.F.softmax(net.forward(image.unsqueeze(0)), 1).squeeze(0));
  close(r.probabilities!, whole, 1e-6);
});

test('slabs arrive in order, cover every plane once, and the accumulator spans one window depth', () => {
  const image = torch.randn([1, 40, 12, 12]);
  const seen: [number, number][] = [];
  let maxAlive = 0;
  const predict = (x: torch.Tensor) => torch.cat([x, x.neg()], 1);
  const r = slidingWindowInference(image, predict, {
    patchSize: [8, 12, 12], overlap: 0.5,
    onSlab: (start, labels) => { seen.push([start, labels.shape[0]]); maxAlive = Math.max(maxAlive, labels.shape[0]); },
  });
  let next = 0;
  for (const [s, n] of seen) { assert.equal(s, next); next += n; }
  assert.equal(next, 40);
  assert.ok(maxAlive <= 8, 'no slab larger than the window depth');
  assert.deepEqual(r.labels.tolist(), image.squeeze(0).lt(0).to('uint8').tolist());
});

test('a predictor returning the wrong shape is reported with the shapes', () => {
  assert.throws(() => slidingWindowInference(torch.zeros([1, 8, 8]), (x) => x.sum(1), { patchSize: [4, 4] }), /predictor returned shape \[1, 4, 4\] for a batch of 1 windows of \[4, 4\]/);
  assert.throws(() => slidingWindowInference(torch.zeros([8, 8]), (x) => x, { patchSize: [4, 4] }), /image must be \[C, Y, X\]/);
});

test('zoomNearestIndex reproduces scipy.ndimage.zoom(order=0)', () => {
  assert.deepEqual(zoomNearestIndex(5, 8).tolist(), [0, 1, 1, 2, 2, 3, 3, 4]);
  assert.deepEqual(zoomNearestIndex(7, 3).tolist(), [0, 3, 6]);
  assert.deepEqual((zoomNearestIndex(216, 256).tolist() as number[]).slice(0, 12), [0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 8, 9]);
});

test('slice-wise prediction with resizing maps labels back to each slice', () => {
  const vol = torch.zeros([1, 3, 10, 14]);
  vol.narrow(2, 2, 5).narrow(3, 3, 6).fill_(1);
  const predict = (x: torch.Tensor) => { assert.deepEqual(x.shape.slice(2), [32, 32]); return torch.cat([x.neg(), x], 1); };
  const r = predictSlices(vol, predict, { resizeTo: [32, 32], batchSize: 2, returnProbabilities: true });
  assert.deepEqual(r.labels.shape, [3, 10, 14]);
  assert.deepEqual(r.labels.tolist(), vol.squeeze(0).to('uint8').tolist());
  assert.deepEqual(r.probabilities!.shape, [2, 3, 10, 14]);
});

test('connected components: 8- vs 4-connectivity in 2D, sizes, 26-connectivity in 3D', () => {
  const m = [
    1, 0, 0, 1,
    0, 1, 0, 1,
    0, 0, 0, 0,
    1, 1, 0, 1,
  ];
  const full = connectedComponents(m, [4, 4], 'full');
  assert.deepEqual(full.sizes.slice(1), [2, 2, 2, 1]);
  const face = connectedComponents(m, [4, 4], 'face');
  assert.deepEqual(face.sizes.slice(1), [1, 2, 1, 2, 1]);
  const cube = new Uint8Array(27);
  cube[0] = 1; cube[13] = 1; cube[26] = 1; // a diagonal through the cube
  assert.equal(connectedComponents(cube, [3, 3, 3], 'full').sizes.length - 1, 1);
  assert.equal(connectedComponents(cube, [3, 3, 3], 'face').sizes.length - 1, 3);
});

test('keepLargestComponent keeps each class’s largest blob and clears the rest', () => {
  const lab = Uint8Array.from([
    1, 1, 0, 2,
    1, 0, 0, 0,
    0, 0, 1, 0,
    2, 2, 0, 0,
  ]);
  const out = keepLargestComponent(lab, [4, 4], { connectivity: 'face' });
  assert.deepEqual([...out], [1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0]);
  const t = keepLargestComponentTensor(torch.tensor([[...lab], [...lab]], { dtype: 'uint8' }).reshape([2, 4, 4]), { batchDims: 1, connectivity: 'face' });
  assert.deepEqual(t.select(0, 1).flatten().tolist(), [...out]);
});
