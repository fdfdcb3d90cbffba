// Finite-difference gradient checks in float64 for every differentiable
// function of F, on tiny inputs (gradcheck is O(numel) forward passes).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../src/index.js';
import { F, type Tensor } from '../src/index.js';

// Tiny tensors: one thread avoids OpenMP start-up and spinning on a busy machine.
torch.setNumThreads(1);

const r = (shape: number[]): Tensor => torch.randn(shape, { dtype: 'float64', requiresGrad: true });
/** Values in (0.1, 0.9), away from the kinks of probability losses. */
const prob = (shape: number[]): Tensor => torch.rand(shape, { dtype: 'float64' }).mul(0.8).add(0.1).detach().requiresGrad_(true);
const pos = (shape: number[]): Tensor => torch.rand(shape, { dtype: 'float64' }).add(0.5).detach().requiresGrad_(true);
const f64 = (values: number[] | number[][]): Tensor => torch.tensor(values, { dtype: 'float64' });
const idx = (values: number[], shape: number[]): Tensor => torch.tensor(values, { dtype: 'int64', shape });

interface Check {
  name: string;
  inputs: () => Tensor[];
  fn: (...x: Tensor[]) => Tensor | Tensor[];
}

const checks: Check[] = [
  // linear maps and convolutions
  { name: 'linear', inputs: () => [r([2, 3]), r([4, 3]), r([4])], fn: (x, w, b) => F.linear(x, w, b) },
  { name: 'bilinear', inputs: () => [r([2, 2]), r([2, 3]), r([2, 2, 3]), r([2])], fn: (a, b, w, bias) => F.bilinear(a, b, w, bias) },
  { name: 'conv1d stride/dilation', inputs: () => [r([1, 2, 7]), r([2, 2, 3]), r([2])], fn: (x, w, b) => F.conv1d(x, w, b, { stride: 2, padding: 1, dilation: 2 }) },
  { name: 'conv2d groups', inputs: () => [r([1, 2, 4, 4]), r([2, 1, 3, 3]), r([2])], fn: (x, w, b) => F.conv2d(x, w, b, { groups: 2, padding: 1 }) },
  { name: "conv2d padding 'same'", inputs: () => [r([1, 1, 4, 4]), r([1, 1, 2, 3])], fn: (x, w) => F.conv2d(x, w, { padding: 'same' }) },
  { name: 'conv3d', inputs: () => [r([1, 1, 3, 3, 3]), r([1, 1, 2, 2, 2]), r([1])], fn: (x, w, b) => F.conv3d(x, w, b, { padding: 1, stride: 2 }) },
  { name: 'convTranspose1d', inputs: () => [r([1, 2, 3]), r([2, 1, 3]), r([1])], fn: (x, w, b) => F.convTranspose1d(x, w, b, { stride: 2, outputPadding: 1 }) },
  { name: 'convTranspose2d', inputs: () => [r([1, 2, 2, 2]), r([2, 1, 3, 3]), r([1])], fn: (x, w, b) => F.convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1 }) },
  { name: 'convTranspose3d', inputs: () => [r([1, 1, 2, 2, 2]), r([1, 1, 2, 2, 2])], fn: (x, w) => F.convTranspose3d(x, w, null, { stride: 2 }) },
  // pooling
  { name: 'maxPool1d', inputs: () => [r([1, 2, 7])], fn: (x) => F.maxPool1d(x, 3, { stride: 2, padding: 1, ceilMode: true }) },
  { name: 'maxPool2d', inputs: () => [r([1, 1, 5, 5])], fn: (x) => F.maxPool2d(x, 2, { ceilMode: true }) },
  { name: 'maxPool3d', inputs: () => [r([1, 1, 3, 3, 3])], fn: (x) => F.maxPool3d(x, 2, { stride: 1 }) },
  { name: 'maxPool2dWithIndices', inputs: () => [r([1, 1, 4, 4])], fn: (x) => F.maxPool2dWithIndices(x, 2).output },
  { name: 'avgPool1d', inputs: () => [r([1, 2, 6])], fn: (x) => F.avgPool1d(x, 3, { stride: 2, padding: 1, countIncludePad: false }) },
  { name: 'avgPool2d', inputs: () => [r([1, 1, 5, 5])], fn: (x) => F.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }) },
  { name: 'avgPool2d divisorOverride', inputs: () => [r([1, 1, 4, 4])], fn: (x) => F.avgPool2d(x, 2, { divisorOverride: 3 }) },
  { name: 'avgPool3d', inputs: () => [r([1, 1, 3, 3, 3])], fn: (x) => F.avgPool3d(x, 2, { stride: 1 }) },
  { name: 'adaptiveAvgPool1d', inputs: () => [r([1, 2, 5])], fn: (x) => F.adaptiveAvgPool1d(x, 3) },
  { name: 'adaptiveAvgPool2d', inputs: () => [r([1, 1, 5, 4])], fn: (x) => F.adaptiveAvgPool2d(x, [3, 2]) },
  { name: 'adaptiveAvgPool3d', inputs: () => [r([1, 1, 3, 3, 2])], fn: (x) => F.adaptiveAvgPool3d(x, 2) },
  { name: 'adaptiveMaxPool1d', inputs: () => [r([1, 2, 5])], fn: (x) => F.adaptiveMaxPool1d(x, 3) },
  { name: 'adaptiveMaxPool2d', inputs: () => [r([1, 1, 5, 4])], fn: (x) => F.adaptiveMaxPool2d(x, [3, 2]) },
  { name: 'adaptiveMaxPool3d', inputs: () => [r([1, 1, 3, 3, 2])], fn: (x) => F.adaptiveMaxPool3d(x, 2) },
  { name: 'maxUnpool2d', inputs: () => [r([1, 1, 2, 2])], fn: (x) => F.maxUnpool2d(x, idx([0, 3, 9, 14], [1, 1, 2, 2]), 2) },
  { name: 'maxUnpool1d', inputs: () => [r([1, 1, 3])], fn: (x) => F.maxUnpool1d(x, idx([1, 2, 5], [1, 1, 3]), 2) },
  { name: 'maxUnpool3d', inputs: () => [r([1, 1, 1, 1, 2])], fn: (x) => F.maxUnpool3d(x, idx([0, 11], [1, 1, 1, 1, 2]), 2) },
  // interpolate, every mode
  { name: 'interpolate nearest', inputs: () => [r([1, 1, 3, 3])], fn: (x) => F.interpolate(x, { scaleFactor: 1.5 }) },
  { name: 'interpolate nearest-exact', inputs: () => [r([1, 1, 4])], fn: (x) => F.interpolate(x, { size: 7, mode: 'nearest-exact' }) },
  { name: 'interpolate linear', inputs: () => [r([1, 2, 4])], fn: (x) => F.interpolate(x, { size: 7, mode: 'linear', alignCorners: true }) },
  { name: 'interpolate bilinear', inputs: () => [r([1, 1, 3, 3])], fn: (x) => F.interpolate(x, { scaleFactor: 1.7, mode: 'bilinear' }) },
  { name: 'interpolate bilinear antialias', inputs: () => [r([1, 1, 5, 5])], fn: (x) => F.interpolate(x, { size: [2, 3], mode: 'bilinear', antialias: true }) },
  { name: 'interpolate bicubic', inputs: () => [r([1, 1, 3, 3])], fn: (x) => F.interpolate(x, { size: [4, 5], mode: 'bicubic', alignCorners: true }) },
  { name: 'interpolate trilinear', inputs: () => [r([1, 1, 2, 2, 3])], fn: (x) => F.interpolate(x, { scaleFactor: 1.5, mode: 'trilinear' }) },
  { name: 'interpolate area', inputs: () => [r([1, 1, 5, 4])], fn: (x) => F.interpolate(x, { size: [2, 3], mode: 'area' }) },
  // normalization
  {
    name: 'batchNorm training',
    inputs: () => [r([3, 2, 2]), r([2]), r([2])],
    fn: (x, w, b) => F.batchNorm(x, torch.zeros([2], { dtype: 'float64' }), torch.ones([2], { dtype: 'float64' }), { weight: w, bias: b, training: true }),
  },
  { name: 'batchNorm eval', inputs: () => [r([3, 2, 2]), r([2]), r([2])], fn: (x, w, b) => F.batchNorm(x, torch.tensor([0.1, -0.2], { dtype: 'float64' }), torch.tensor([0.5, 2], { dtype: 'float64' }), { weight: w, bias: b }) },
  { name: 'instanceNorm', inputs: () => [r([2, 2, 4]), r([2]), r([2])], fn: (x, w, b) => F.instanceNorm(x, { weight: w, bias: b }) },
  { name: 'layerNorm', inputs: () => [r([2, 3, 2]), r([3, 2]), r([3, 2])], fn: (x, w, b) => F.layerNorm(x, [3, 2], { weight: w, bias: b }) },
  { name: 'groupNorm', inputs: () => [r([2, 4, 2]), r([4]), r([4])], fn: (x, w, b) => F.groupNorm(x, 2, { weight: w, bias: b }) },
  { name: 'localResponseNorm', inputs: () => [r([1, 4, 3])], fn: (x) => F.localResponseNorm(x, 3, { alpha: 0.5 }) },
  { name: 'localResponseNorm 4-D', inputs: () => [r([1, 3, 2, 2])], fn: (x) => F.localResponseNorm(x, 2, { alpha: 0.5, k: 1.5 }) },
  // losses
  { name: 'crossEntropy class indices, weight, ignoreIndex, smoothing', inputs: () => [r([4, 3])], fn: (x) => F.crossEntropy(x, idx([0, 2, -100, 1], [4]), { weight: f64([0.5, 2, 1.5]), labelSmoothing: 0.2 }) },
  { name: 'crossEntropy spatial', inputs: () => [r([1, 3, 2, 2])], fn: (x) => F.crossEntropy(x, idx([0, 2, 1, 1], [1, 2, 2]), { reduction: 'none' }) },
  { name: 'crossEntropy probabilities', inputs: () => [r([2, 3]), prob([2, 3])], fn: (x, t) => F.crossEntropy(x, t, { labelSmoothing: 0.1 }) },
  { name: 'nllLoss', inputs: () => [r([3, 4])], fn: (x) => F.nllLoss(x, idx([3, 0, 1], [3]), { weight: f64([0.5, 2, 1.5, 3]), reduction: 'sum' }) },
  { name: 'binaryCrossEntropy', inputs: () => [prob([2, 3]), prob([2, 3])], fn: (x, t) => F.binaryCrossEntropy(x, t, { weight: f64([0.5, 2, 1.5]) }) },
  { name: 'binaryCrossEntropyWithLogits', inputs: () => [r([2, 3]), prob([2, 3])], fn: (x, t) => F.binaryCrossEntropyWithLogits(x, t, { weight: f64([[1, 2, 0.5], [0.3, 1, 1.2]]), posWeight: f64([0.7, 1.5, 3]) }) },
  { name: 'mseLoss', inputs: () => [r([2, 3]), r([2, 3])], fn: (x, t) => F.mseLoss(x, t, { reduction: 'sum' }) },
  { name: 'l1Loss', inputs: () => [r([2, 3]), r([2, 3])], fn: (x, t) => F.l1Loss(x, t) },
  { name: 'smoothL1Loss', inputs: () => [r([2, 3]), r([2, 3])], fn: (x, t) => F.smoothL1Loss(x, t, { beta: 0.7, reduction: 'none' }) },
  { name: 'huberLoss', inputs: () => [r([2, 3]), r([2, 3])], fn: (x, t) => F.huberLoss(x, t, { delta: 0.6 }) },
  { name: 'klDiv batchmean', inputs: () => [r([2, 3]), prob([2, 3])], fn: (x, t) => F.klDiv(x, t, { reduction: 'batchmean' }) },
  { name: 'klDiv logTarget', inputs: () => [r([2, 3]), r([2, 3])], fn: (x, t) => F.klDiv(x, t, { reduction: 'sum', logTarget: true }) },
  { name: 'marginRankingLoss', inputs: () => [r([4]), r([4])], fn: (a, b) => F.marginRankingLoss(a, b, torch.tensor([1, -1, 1, -1], { dtype: 'float64' }), { margin: 0.1 }) },
  { name: 'hingeEmbeddingLoss', inputs: () => [pos([4])], fn: (x) => F.hingeEmbeddingLoss(x, torch.tensor([1, -1, 1, -1], { dtype: 'float64' }), { margin: 3 }) },
  { name: 'cosineEmbeddingLoss', inputs: () => [r([2, 3]), r([2, 3])], fn: (a, b) => F.cosineEmbeddingLoss(a, b, torch.tensor([1, -1], { dtype: 'float64' }), { margin: -1 }) },
  { name: 'softMarginLoss', inputs: () => [r([4])], fn: (x) => F.softMarginLoss(x, torch.tensor([1, -1, -1, 1], { dtype: 'float64' })) },
  { name: 'poissonNllLoss', inputs: () => [r([4]), pos([4])], fn: (x, t) => F.poissonNllLoss(x, t, { full: true }) },
  { name: 'tripletMarginLoss', inputs: () => [r([2, 3]), r([2, 3]), r([2, 3])], fn: (a, p, n) => F.tripletMarginLoss(a, p, n, { margin: 5 }) },
  // sampling
  { name: 'gridSample 2-D bilinear', inputs: () => [r([1, 2, 3, 3]), r([1, 2, 2, 2]).detach().mul(0.6).requiresGrad_(true)], fn: (x, g) => F.gridSample(x, g, { paddingMode: 'border' }) },
  { name: 'gridSample 2-D bicubic', inputs: () => [r([1, 1, 3, 3]), r([1, 2, 2, 2]).detach().mul(0.6).requiresGrad_(true)], fn: (x, g) => F.gridSample(x, g, { mode: 'bicubic', alignCorners: true }) },
  { name: 'gridSample 2-D nearest (input)', inputs: () => [r([1, 1, 3, 3])], fn: (x) => F.gridSample(x, torch.tensor([[[[0.3, -0.7], [0.9, 0.2]]]], { dtype: 'float64' }), { mode: 'nearest', paddingMode: 'reflection' }) },
  { name: 'gridSample 3-D bilinear', inputs: () => [r([1, 1, 2, 3, 3]), r([1, 1, 2, 2, 3]).detach().mul(0.6).requiresGrad_(true)], fn: (x, g) => F.gridSample(x, g, { paddingMode: 'reflection' }) },
  { name: 'affineGrid 2-D', inputs: () => [r([1, 2, 3])], fn: (t) => F.affineGrid(t, [1, 1, 2, 3]) },
  { name: 'affineGrid 3-D', inputs: () => [r([1, 3, 4])], fn: (t) => F.affineGrid(t, [1, 1, 2, 2, 2], { alignCorners: true }) },
  // padding
  { name: 'pad constant', inputs: () => [r([1, 2, 3])], fn: (x) => F.pad(x, [1, -1, 2, 0], { value: 3 }) },
  { name: 'pad reflect', inputs: () => [r([1, 1, 3, 4])], fn: (x) => F.pad(x, [2, 1, 1, 2], { mode: 'reflect' }) },
  { name: 'pad replicate', inputs: () => [r([1, 1, 2, 2, 3])], fn: (x) => F.pad(x, [1, 1, 1, 0, 0, 1], { mode: 'replicate' }) },
  { name: 'pad circular', inputs: () => [r([1, 1, 3, 3])], fn: (x) => F.pad(x, [1, 2, 2, 1], { mode: 'circular' }) },
  // softmax family, distances, layout ops
  { name: 'softmax', inputs: () => [r([2, 3])], fn: (x) => F.softmax(x, 1) },
  { name: 'logSoftmax', inputs: () => [r([2, 3])], fn: (x) => F.logSoftmax(x, 0) },
  { name: 'softmin', inputs: () => [r([2, 3])], fn: (x) => F.softmin(x, -1) },
  { name: 'normalize', inputs: () => [r([2, 3])], fn: (x) => F.normalize(x, { p: 3 }) },
  { name: 'cosineSimilarity', inputs: () => [r([2, 3]), r([2, 3])], fn: (a, b) => F.cosineSimilarity(a, b) },
  { name: 'pairwiseDistance', inputs: () => [r([2, 3]), r([2, 3])], fn: (a, b) => F.pairwiseDistance(a, b, { p: 1.5 }) },
  { name: 'pdist', inputs: () => [r([3, 2])], fn: (x) => F.pdist(x) },
  { name: 'unfold', inputs: () => [r([1, 2, 3, 4])], fn: (x) => F.unfold(x, [2, 3], { padding: 1, stride: 2 }) },
  { name: 'fold', inputs: () => [r([1, 4, 6])], fn: (x) => F.fold(x, [3, 4], 2) },
  { name: 'pixelShuffle', inputs: () => [r([1, 4, 1, 2])], fn: (x) => F.pixelShuffle(x, 2) },
  { name: 'pixelUnshuffle', inputs: () => [r([1, 1, 2, 4])], fn: (x) => F.pixelUnshuffle(x, 2) },
  { name: 'embedding', inputs: () => [r([4, 2])], fn: (w) => F.embedding(idx([0, 2, 2, 3], [2, 2]), w) },
  // dropout with the mask held fixed by reseeding before each forward pass
  { name: 'dropout', inputs: () => [r([8])], fn: (x) => (torch.manualSeed(1), F.dropout(x, { p: 0.4 })) },
  { name: 'dropout2d', inputs: () => [r([1, 4, 2, 1])], fn: (x) => (torch.manualSeed(2), F.dropout2d(x, { p: 0.5 })) },
  { name: 'alphaDropout', inputs: () => [r([8])], fn: (x) => (torch.manualSeed(3), F.alphaDropout(x, { p: 0.3, training: true })) },
];

for (const ch of checks) {
  test(`gradcheck F.${ch.name}`, () => {
    torch.manualSeed(1234);
    torch.tidy(() => {
      const inputs = ch.inputs();
      assert.ok(inputs.every((t) => t.dtype === 'float64' && t.requiresGrad));
      assert.equal(torch.gradcheck(ch.fn, inputs), true);
    });
  });
}

test('F.embedding sends no gradient to the paddingIdx row', () => {
  torch.tidy(() => {
    const w = torch.randn([3, 2], { dtype: 'float64', requiresGrad: true });
    const out = F.embedding(idx([0, 1, 1], [3]), w, { paddingIdx: 1 });
    out.sum().backward();
    assert.deepEqual(w.grad!.tolist(), [[1, 1], [0, 0], [0, 0]]);
  });
});
