// F's calling conventions and semantics beyond the value fixtures: running
// statistics updated in place, optional arguments, return shapes, shared
// activations, warnings, and clear errors for bad arguments.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../src/index.js';
import { F } from '../src/index.js';

const close = (a: unknown, b: unknown, tol = 1e-6): void => {
  const fa = (a as number[]).flat(4) as number[];
  const fb = (b as number[]).flat(4) as number[];
  assert.equal(fa.length, fb.length);
  fa.forEach((v, i) => assert.ok(Math.abs(v - fb[i]) <= tol, `element ${i}: ${v} vs ${fb[i]}`));
};

test('F and functional are the same namespace, and activations are the shared implementation', () => {
  assert.equal(torch.F.conv2d, torch.functional.conv2d);
  assert.equal(F.relu, torch.relu);
  assert.equal(F.gelu, torch.gelu);
  assert.equal(F.sigmoid, torch.sigmoid);
  assert.deepEqual(F.relu(torch.tensor([-1, 2])).tolist(), [0, 2]);
});

test('the options object may take the place of an omitted bias', () => {
  torch.tidy(() => {
    const x = torch.randn([1, 2, 5, 5]);
    const w = torch.randn([3, 2, 3, 3]);
    const a = F.conv2d(x, w, { padding: 1, stride: 2 });
    const b = F.conv2d(x, w, null, { padding: 1, stride: 2 });
    const c = F.conv2d(x, w, undefined, { padding: 1, stride: 2 });
    assert.deepEqual(a.shape, [1, 3, 3, 3]);
    assert.deepEqual(a.tolist(), b.tolist());
    assert.deepEqual(a.tolist(), c.tolist());
    const t = F.convTranspose1d(torch.randn([1, 2, 4]), torch.randn([2, 1, 3]), { stride: 2, outputPadding: 1 });
    assert.deepEqual(t.shape, [1, 1, 10]);
  });
});

test('batchNorm updates the given running statistics in place in training mode only', () => {
  torch.tidy(() => {
    // Channel 0 holds 1 and 3, channel 1 holds 10 and 12: means 2 and 11, unbiased variances 2, biased 1.
    const x = torch.tensor([[1, 10], [3, 12]], { dtype: 'float32' });
    const mean = torch.zeros([2]);
    const variance = torch.ones([2]);
    const y = F.batchNorm(x, mean, variance, { training: true, momentum: 0.1 });
    close(mean.tolist(), [0.2, 1.1]);
    close(variance.tolist(), [1.1, 1.1]);
    const s = 1 / Math.sqrt(1 + 1e-5);
    close(y.tolist(), [[-s, -s], [s, s]], 1e-5);
    const before = mean.tolist();
    const z = F.batchNorm(x, mean, variance); // eval mode: running statistics, left unchanged
    assert.deepEqual(mean.tolist(), before);
    const d = Math.sqrt(1.1 + 1e-5);
    close(z.tolist(), [[0.8 / d, 8.9 / d], [2.8 / d, 10.9 / d]], 1e-5);
  });
});

test('instanceNorm updates running statistics averaged over the batch', () => {
  torch.tidy(() => {
    // Sample 0 channel 0: [0, 2] mean 1 var 2; sample 1 channel 0: [4, 4] mean 4 var 0.
    const x = torch.tensor([[[0, 2]], [[4, 4]]], { dtype: 'float32' });
    const rm = torch.zeros([1]);
    const rv = torch.ones([1]);
    F.instanceNorm(x, { runningMean: rm, runningVar: rv, momentum: 0.5 });
    close(rm.tolist(), [0.5 * 2.5]);
    close(rv.tolist(), [0.5 + 0.5 * 1]);
  });
});

test('max pooling with indices round-trips through maxUnpool', () => {
  torch.tidy(() => {
    const x = torch.tensor([[[[1, 5, 2, 0], [3, 4, 8, 7], [0, 0, 1, 1], [9, 0, 1, 2]]]], { dtype: 'float32' });
    const { output, indices } = F.maxPool2dWithIndices(x, 2);
    assert.deepEqual(output.tolist(), [[[[5, 8], [9, 2]]]]);
    assert.equal(indices.dtype, 'int64');
    assert.deepEqual(indices.tolist(), [[[[1, 6], [12, 15]]]]);
    assert.deepEqual(F.maxUnpool2d(output, indices, 2).tolist(), [[[[0, 5, 0, 0], [0, 0, 8, 0], [0, 0, 0, 0], [9, 0, 0, 2]]]]);
    const r = F.adaptiveMaxPool2dWithIndices(x, 1);
    assert.deepEqual(r.output.tolist(), [[[[9]]]]);
    assert.deepEqual(r.indices.tolist(), [[[[12]]]]);
    assert.deepEqual(F.maxPool2d(x, 3, { stride: 1, padding: 1 }).shape, [1, 1, 4, 4]);
  });
});

test('interpolate: size/scale handling and PyTorch-shaped outputs', () => {
  torch.tidy(() => {
    const x = torch.arange(0, 4, 1, { dtype: 'float32' }).reshape([1, 1, 4]);
    assert.deepEqual(F.interpolate(x, { scaleFactor: 2 }).tolist(), [[[0, 0, 1, 1, 2, 2, 3, 3]]]);
    assert.deepEqual(F.interpolate(x, { size: 7, mode: 'linear', alignCorners: true }).tolist(), [[[0, 0.5, 1, 1.5, 2, 2.5, 3]]]);
    assert.deepEqual(F.interpolate(x, { size: 2, mode: 'area' }).tolist(), [[[0.5, 2.5]]]);
    const y = torch.zeros([2, 3, 5, 7]);
    assert.deepEqual(F.interpolate(y, { scaleFactor: [0.5, 1.5], mode: 'bilinear' }).shape, [2, 3, 2, 10]);
    assert.deepEqual(F.interpolate(y, { size: [4, 4], mode: 'bicubic', alignCorners: true }).shape, [2, 3, 4, 4]);
    assert.deepEqual(F.interpolate(torch.zeros([1, 1, 2, 3, 4]), { scaleFactor: 2, mode: 'trilinear' }).shape, [1, 1, 4, 6, 8]);
    assert.deepEqual(F.upsample(y, { scaleFactor: 2 }).shape, [2, 3, 10, 14]);
  });
});

test('crossEntropy: class indices of any spatial rank and class probabilities', () => {
  torch.tidy(() => {
    const logits = torch.zeros([2, 4, 3, 2, 2]);
    const target = torch.zeros([2, 3, 2, 2], { dtype: 'int64' });
    const none = F.crossEntropy(logits, target, { reduction: 'none' });
    assert.deepEqual(none.shape, [2, 3, 2, 2]);
    close([F.crossEntropy(logits, target).item()], [Math.log(4)]);
    close([F.crossEntropy(logits, target, { reduction: 'sum' }).item()], [24 * Math.log(4)], 1e-4);
    const probs = torch.full([2, 4], 0.25);
    close([F.crossEntropy(torch.zeros([2, 4]), probs).item()], [Math.log(4)]);
    const uint8 = torch.tensor([1, 0], { dtype: 'uint8' });
    close([F.crossEntropy(torch.zeros([2, 3]), uint8).item()], [Math.log(3)]);
  });
});

test('klDiv batchmean divides the summed loss by the batch size only', () => {
  torch.tidy(() => {
    const input = F.logSoftmax(torch.randn([4, 5]), 1);
    const target = F.softmax(torch.randn([4, 5]), 1);
    const sum = F.klDiv(input, target, { reduction: 'sum' }).item();
    close([F.klDiv(input, target, { reduction: 'batchmean' }).item()], [sum / 4], 1e-6);
    close([F.klDiv(input, target, { reduction: 'mean' }).item()], [sum / 20], 1e-6);
  });
});

test('broadcasting regression losses warn once, like PyTorch', async () => {
  const seen: string[] = [];
  const onWarning = (w: Error): void => {
    seen.push(w.message);
  };
  process.on('warning', onWarning);
  try {
    for (let k = 0; k < 2; k++) {
      torch.tidy(() => assert.equal(F.mseLoss(torch.zeros([3, 4]), torch.ones([4])).item(), 1));
    }
    await new Promise((resolve) => setImmediate(resolve)); // warnings arrive on a later tick
  } finally {
    process.off('warning', onWarning);
  }
  const hits = seen.filter((m) => /mseLoss: using a target size \[4\] that is different to the input size \[3, 4\]/.test(m));
  assert.equal(hits.length, 1, seen.join('\n'));
});

test('pad follows the last-dimension-first ordering', () => {
  torch.tidy(() => {
    const x = torch.tensor([[1, 2], [3, 4]], { dtype: 'float32' }).reshape([1, 2, 2]);
    assert.deepEqual(F.pad(x, [1, 0]).tolist(), [[[0, 1, 2], [0, 3, 4]]]);
    assert.deepEqual(F.pad(x, [0, 0, 0, 1], { value: 9 }).tolist(), [[[1, 2], [3, 4], [9, 9]]]);
    assert.deepEqual(F.pad(x, [1, 1], { mode: 'reflect' }).tolist(), [[[2, 1, 2, 1], [4, 3, 4, 3]]]);
    assert.deepEqual(F.pad(x, [1, 0], { mode: 'replicate' }).tolist(), [[[1, 1, 2], [3, 3, 4]]]);
    assert.deepEqual(F.pad(x, [0, 1], { mode: 'circular' }).tolist(), [[[1, 2, 1], [3, 4, 3]]]);
  });
});

test('unfold and fold are adjoint layouts (fold(unfold(x)) counts overlaps)', () => {
  torch.tidy(() => {
    const x = torch.ones([1, 1, 3, 3]);
    const cols = F.unfold(x, 2);
    assert.deepEqual(cols.shape, [1, 4, 4]);
    assert.deepEqual(F.fold(cols, 3, 2).tolist(), [[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]]);
  });
});

test('affineGrid with the identity samples the input unchanged through gridSample', () => {
  torch.tidy(() => {
    const x = torch.randn([1, 2, 3, 4]);
    const theta = torch.tensor([[[1, 0, 0], [0, 1, 0]]], { dtype: 'float32' });
    for (const alignCorners of [false, true]) {
      const grid = F.affineGrid(theta, [1, 2, 3, 4], { alignCorners });
      assert.deepEqual(grid.shape, [1, 3, 4, 2]);
      close(F.gridSample(x, grid, { alignCorners }).tolist(), x.tolist(), 1e-5);
    }
    const theta3 = torch.tensor([[[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]], { dtype: 'float32' });
    const v = torch.randn([1, 1, 2, 3, 2]);
    close(F.gridSample(v, F.affineGrid(theta3, [1, 1, 2, 3, 2]), { mode: 'nearest' }).tolist(), v.tolist(), 1e-6);
  });
});

test('embedding maxNorm renormalizes looked-up rows of the weight in place', () => {
  torch.tidy(() => {
    const w = torch.tensor([[3, 4], [0.3, 0.4], [6, 8]], { dtype: 'float32' });
    const out = F.embedding(torch.tensor([0, 1]), w, { maxNorm: 1 });
    close(w.tolist(), [[0.6, 0.8], [0.3, 0.4], [6, 8]], 1e-5);
    close(out.tolist(), [[0.6, 0.8], [0.3, 0.4]], 1e-5);
  });
});

test('oneHot infers the class count and is int64', () => {
  const y = F.oneHot(torch.tensor([2, 0]));
  assert.equal(y.dtype, 'int64');
  assert.deepEqual(y.tolist(), [[0, 0, 1], [1, 0, 0]]);
});

test('bad arguments give clear errors naming the argument', () => {
  const x4 = torch.randn([1, 4, 5, 5]);
  const cases: [() => unknown, RegExp][] = [
    // convolutions: ATen's own checks come through with the op and shapes
    [() => F.conv2d(x4, torch.randn([3, 2, 3, 3])), /aten::conv2d\(input=float32\[1, 4, 5, 5\], weight=float32\[3, 2, 3, 3\]\): Given groups=1, weight of size \[3, 2, 3, 3\], expected input\[1, 4, 5, 5\] to have 2 channels, but got 4 channels instead/],
    [() => F.conv2d(x4, torch.randn([3, 4, 3, 3]), { padding: 'full' as 'same' }), /conv2d: padding must be a number, a list of numbers, 'same' or 'valid'; got 'full'/],
    [() => F.conv2d(x4, torch.randn([3, 4, 3, 3]), { padding: 'same', stride: 2 }), /padding='same' is not supported for strided convolutions/],
    [() => F.conv1d(x4, torch.randn([3, 4, 3])), /Expected 2D \(unbatched\) or 3D \(batched\) input to conv1d/],
    [() => F.convTranspose2d(x4, torch.randn([4, 1, 3, 3]), { padding: 'same' as unknown as number }), /convTranspose2d: padding must be a number or a list of numbers/],
    // interpolate
    [() => F.interpolate(x4, { size: 3, scaleFactor: 2 }), /interpolate: only one of size or scaleFactor should be defined/],
    [() => F.interpolate(x4, {}), /interpolate: either size or scaleFactor should be defined/],
    [() => F.interpolate(x4, { size: 3, mode: 'cubic' as 'bicubic' }), /interpolate: mode must be one of 'nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area'; got 'cubic'/],
    [() => F.interpolate(x4, { size: 3, alignCorners: true }), /alignCorners can only be set with the interpolating modes/],
    [() => F.interpolate(x4, { size: 3, mode: 'trilinear' }), /interpolate: got 4-D input, but trilinear mode needs 5-D input/],
    [() => F.interpolate(torch.randn([1, 1, 4]), { size: 3, mode: 'bilinear' }), /got 3-D input, but bilinear mode needs 4-D input/],
    [() => F.interpolate(x4, { size: [3, 3, 3] }), /input and output must have the same number of spatial dimensions/],
    [() => F.interpolate(x4, { scaleFactor: [2] }), /input and scaleFactor must have the same number of spatial dimensions/],
    [() => F.interpolate(x4, { size: 3, recomputeScaleFactor: true }), /recomputeScaleFactor is not meaningful with an explicit size/],
    [() => F.interpolate(x4, { size: 3, antialias: true }), /antialias option is only supported for bilinear and bicubic/],
    [() => F.interpolate(torch.randn([4, 4]), { size: 3 }), /only 3-D, 4-D and 5-D input tensors are supported \(got 2-D\)/],
    // losses
    [() => F.crossEntropy(torch.randn([2, 3]), torch.tensor([0.5, 1])), /crossEntropy: class-index target must have dtype int64, got float32 with shape \[2\]; for class probabilities/],
    [() => F.crossEntropy(torch.randn([2, 3]), torch.tensor([0, 1], { dtype: 'int32' })), /class-index target must have dtype int64, got int32/],
    [() => F.crossEntropy(torch.randn([2, 3]), torch.zeros([2, 3], { dtype: 'int64' })), /holds class probabilities and must be floating point, got int64/],
    [() => F.crossEntropy(torch.randn([2, 3]), torch.tensor([0, 1]), { reduction: 'avg' as 'mean' }), /crossEntropy: reduction must be one of 'none', 'mean', 'sum'; got 'avg'/],
    [() => F.crossEntropy(torch.randn([2, 3]), torch.tensor([0, 1]), { labelSmoothing: 1.5 }), /labelSmoothing must be between 0.0 and 1.0, got 1.5/],
    [() => F.crossEntropy(torch.randn([2, 3]), torch.tensor([0, 5])), /Target 5 is out of bounds/],
    [() => F.nllLoss(torch.randn([2, 3]), torch.tensor([0.0, 1.5])), /nllLoss: class-index target must have dtype int64, got float32/],
    [() => F.binaryCrossEntropy(torch.rand([2, 3]), torch.rand([3])), /binaryCrossEntropy: target size \[3\] must be the same as the input size \[2, 3\]/],
    [() => F.binaryCrossEntropy(torch.rand([2, 3]), torch.rand([2, 3]), { weight: torch.ones([4]) }), /binaryCrossEntropy: shapes \[2, 3\] and \[4\] are not broadcastable/],
    [() => F.binaryCrossEntropyWithLogits(torch.rand([2, 3]), torch.rand([2, 1])), /binaryCrossEntropyWithLogits: target size \[2, 1\] must be the same as the input size \[2, 3\]/],
    [() => F.mseLoss(torch.rand([2]), torch.rand([2]), { reduction: 'batchmean' as 'mean' }), /mseLoss: reduction must be one of/],
    [() => F.klDiv(torch.rand([2]), torch.rand([2]), { reduction: 'avg' as 'sum' }), /klDiv: reduction must be one of 'none', 'mean', 'batchmean', 'sum'; got 'avg'/],
    [() => F.smoothL1Loss(torch.rand([2]), torch.rand([2]), { beta: -1 }), /smoothL1Loss: beta must be non-negative/],
    [() => F.marginRankingLoss(torch.rand([2]), torch.rand([2]), torch.ones([1, 2])), /marginRankingLoss: all input tensors should have the same number of dims/],
    // sampling
    [() => F.gridSample(x4, torch.zeros([1, 2, 2, 2]), { mode: 'linear' as 'bilinear' }), /gridSample: mode must be one of 'bilinear', 'nearest', 'bicubic'; got 'linear'/],
    [() => F.gridSample(x4, torch.zeros([1, 2, 2, 2]), { paddingMode: 'wrap' as 'zeros' }), /gridSample: paddingMode must be one of 'zeros', 'border', 'reflection'; got 'wrap'/],
    [() => F.gridSample(torch.randn([1, 1, 2, 2, 2]), torch.zeros([1, 1, 1, 1, 3]), { mode: 'bicubic' }), /bicubic interpolation only supports 4D input/],
    [() => F.affineGrid(torch.randn([1, 2, 3]), [1, 1, 2, 2, 2]), /affineGrid: expected a batch of 3-D affine matrices of shape \(N, 3, 4\) for size \[1, 1, 2, 2, 2\], got \[1, 2, 3\]/],
    [() => F.affineGrid(torch.zeros([1, 2, 3], { dtype: 'int64' }), [1, 1, 2, 2]), /affineGrid: expected theta to have a floating point dtype, got int64/],
    [() => F.affineGrid(torch.randn([1, 2, 3]), [1, 2, 2]), /affineGrid: only 4-D and 5-D sizes are supported/],
    [() => F.affineGrid(torch.randn([1, 2, 3]), [1, 1, 0, 2]), /affineGrid: expected a non-zero, positive output size/],
    // pad
    [() => F.pad(x4, [1, 1], { mode: 'wrap' as 'constant' }), /pad: mode must be one of 'constant', 'reflect', 'replicate', 'circular'; got 'wrap'/],
    [() => F.pad(x4, [1, 1, 1]), /pad: padding length must be divisible by 2/],
    [() => F.pad(x4, [1, 1], { mode: 'reflect', value: 1 }), /pad: value is only allowed with mode 'constant'/],
    [() => F.pad(torch.randn([1, 2, 3]), [3, 0], { mode: 'reflect' }), /Padding size should be less than the corresponding input dimension/],
    [() => F.pad(torch.randn([2, 4, 5]), [1, 1, 1, 1], { mode: 'circular' }), /Invalid padding size, expected 2 but got 4/],
    // normalization
    [() => F.batchNorm(torch.randn([2, 3]), null, null), /batchNorm: runningMean and runningVar must be tensors when training is false/],
    [() => F.batchNorm(torch.randn([1, 3]), null, null, { training: true }), /batchNorm: expected more than 1 value per channel when training, got input size \[1, 3\]/],
    [() => F.batchNorm(torch.randn([2, 3]), torch.zeros([4]), torch.ones([4]), { training: true }), /running_mean should contain 3 elements not 4/],
    [() => F.instanceNorm(torch.randn([2, 3, 1, 1])), /instanceNorm: expected more than 1 spatial element when training, got input size \[2, 3, 1, 1\]/],
    [() => F.groupNorm(torch.randn([2, 3, 4]), 2), /Expected number of channels in input to be divisible by num_groups/],
    [() => F.groupNorm(torch.randn([2, 4, 4]), 0), /groupNorm: numGroups must be a positive integer, got 0/],
    [() => F.layerNorm(torch.randn([2, 3]), [4]), /Given normalized_shape=\[4\], expected input with shape \[\*, 4\]/],
    [() => F.localResponseNorm(torch.randn([2, 3]), 2), /localResponseNorm: expected 3D or higher dimensionality input \(got 2 dimensions\)/],
    // pooling and misc
    [() => F.maxPool2d(torch.randn([1, 1, 2, 2]), 3), /Output size is too small/],
    [() => F.avgPool1d(torch.randn([1, 1, 4]), 2, { divisorOverride: 2 } as object), /avgPool1d: divisorOverride is not supported for 1-D pooling/],
    [() => F.adaptiveAvgPool2d(torch.randn([4, 4]), [2, 2]), /adaptiveAvgPool2d: input must have more than 2 dimensions for outputSize \[2, 2\]/],
    [() => F.maxUnpool2d(torch.randn([1, 1, 2, 2]), torch.zeros([1, 1, 2, 2], { dtype: 'int64' }), 2, { outputSize: [9, 4] }), /maxUnpool2d: invalid outputSize \[9, 4\] \(dim 0 must be between 2 and 6\)/],
    [() => F.maxUnpool2d(torch.randn([1, 1, 2, 2]), torch.zeros([1, 1, 2, 2], { dtype: 'int64' }), [2, 2, 2]), /maxUnpool2d: kernelSize must be an int or a list of 2 ints/],
    [() => F.embedding(torch.tensor([0]), torch.randn([3, 2]), { paddingIdx: 3 }), /embedding: paddingIdx must be within num_embeddings \(3\), got 3/],
    [() => F.softmax(torch.randn([2, 3]), 2), /Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)/],
    [() => F.oneHot(torch.randn([3])), /one_hot is only applicable to index tensor/],
    [() => F.unfold(torch.randn([1, 1, 2, 2, 2]), 2), /Expected 3D or 4D \(batch mode\) tensor/],
    [() => F.linear(torch.randn([2, 3]), torch.randn([4, 5])), /mat1 and mat2 shapes cannot be multiplied \(2x3 and 5x4\)/],
  ];
  cases.forEach(([fn, re], i) => assert.throws(fn, re, `error case ${i}`));
  // An error leaves the engine usable.
  assert.deepEqual(F.softmax(torch.zeros([2]), 0).tolist(), [0.5, 0.5]);
});
