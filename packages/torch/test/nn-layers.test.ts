// Layer behaviour beyond the fixture models: argument checks and their
// messages, padding modes, ConvTranspose output sizes, batch norm variants,
// instance norm on unbatched input, pooling with indices, factory options.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../src/index.js';
import { F, nn, type Tensor } from '../src/index.js';

const close = (a: Tensor, b: Tensor, tol = 1e-5): boolean => {
  const x = a.toTypedArray() as Float32Array;
  const y = b.toTypedArray() as Float32Array;
  return x.length === y.length && x.every((v, i) => Math.abs(v - y[i]) <= tol);
};

test('conv constructors check their arguments like PyTorch', () => {
  assert.throws(() => new nn.Conv2d(3, 4, 3, { groups: 2 }), /Conv2d: in_channels \(3\) must be divisible by groups \(2\)/);
  assert.throws(() => new nn.Conv2d(4, 3, 3, { groups: 2 }), /out_channels \(3\) must be divisible by groups/);
  assert.throws(() => new nn.Conv2d(4, 4, 3, { groups: 0 }), /groups must be a positive integer/);
  assert.throws(() => new nn.Conv3d(1, 1, 3, { padding: 'same', stride: 2 }), /padding='same' is not supported for strided convolutions/);
  assert.throws(() => new nn.Conv1d(1, 1, 3, { padding: 'full' as 'same' }), /invalid padding string 'full'/);
  assert.throws(() => new nn.Conv1d(1, 1, 3, { paddingMode: 'mirror' as 'reflect' }), /paddingMode must be one of/);
  assert.throws(() => new nn.Conv2d(1, 1, [3, 3, 3]), /Conv2d: kernelSize must be an int or a list of 2 ints/);
  assert.throws(() => new nn.ConvTranspose2d(1, 1, 3, { paddingMode: 'reflect' as 'zeros' }), /only "zeros" padding mode is supported/);
});

test("padding 'same' keeps the size for even kernels and dilation; circular padding wraps around", () => {
  torch.tidy(() => {
    const conv = new nn.Conv2d(2, 3, [4, 3], { padding: 'same', dilation: [1, 2] });
    assert.deepEqual(conv.forward(torch.randn([1, 2, 7, 6])).shape, [1, 3, 7, 6]);
    const circ = new nn.Conv1d(1, 1, 3, { padding: 1, paddingMode: 'circular', bias: false });
    const x = torch.tensor([[[1, 2, 3, 4]]], { dtype: 'float32' });
    const wrapped = torch.tensor([[[4, 1, 2, 3, 4, 1]]], { dtype: 'float32' });
    assert.ok(close(circ.forward(x), F.conv1d(wrapped, circ.weight)));
    conv.dispose();
    circ.dispose();
  });
});

test('ConvTranspose forward(input, outputSize) picks the output padding, within PyTorch\'s range', () => {
  torch.tidy(() => {
    const up = new nn.ConvTranspose2d(2, 2, 3, { stride: 2, padding: 1 });
    const x = torch.randn([1, 2, 4, 4]);
    assert.deepEqual(up.forward(x).shape, [1, 2, 7, 7]);
    assert.deepEqual(up.forward(x, [8, 8]).shape, [1, 2, 8, 8]);
    assert.deepEqual(up.forward(x, [1, 2, 8, 7]).shape, [1, 2, 8, 7]);
    assert.throws(() => up.forward(x, [9, 9]), /requested an output size of \[9, 9\], but valid sizes range from \[7, 7\] to \[8, 8\] \(for an input of \[4, 4\]\)/);
    assert.throws(() => up.forward(x, [8]), /outputSize must have 2 or 4 elements \(got 1\)/);
    up.dispose();
  });
});

test('batch norm: input rank checks, cumulative average with momentum null, no tracking', () => {
  torch.tidy(() => {
    assert.throws(() => new nn.BatchNorm2d(3).forward(torch.zeros([2, 3, 4])), /BatchNorm2d: expected 4D input \(got 3D input\)/);
    assert.throws(() => new nn.BatchNorm1d(3).forward(torch.zeros([2, 3, 4, 4])), /expected 2D or 3D input \(got 4D input\)/);
    assert.throws(() => new nn.BatchNorm3d(3).forward(torch.zeros([2, 3, 4, 4])), /expected 5D input \(got 4D input\)/);

    const bn = new nn.BatchNorm1d(2, { momentum: null });
    const a = torch.tensor([[1, 2], [3, 6]], { dtype: 'float32' });
    const b = torch.tensor([[5, 0], [7, 0]], { dtype: 'float32' });
    bn.forward(a);
    bn.forward(b);
    // Cumulative average of the batch means: ((2, 4) + (6, 0)) / 2.
    assert.deepEqual(bn.runningMean!.tolist(), [4, 2]);
    assert.equal(bn.numBatchesTracked!.item(), 2);

    const free = new nn.BatchNorm1d(2, { trackRunningStats: false, affine: false });
    assert.equal(free.runningMean, null);
    assert.deepEqual(free.parameters(), []);
    assert.deepEqual([...free.stateDict().keys()], []);
    free.eval();
    const y = free.forward(a).tolist() as number[][];
    assert.ok(Math.abs(y[0][0] + 1) < 1e-4 && Math.abs(y[1][1] - 1) < 1e-4, 'batch statistics even in eval without running stats');

    const half = new nn.BatchNorm2d(4, { dtype: 'float64' });
    assert.equal(half.weight!.dtype, 'float64');
    assert.equal(half.runningVar!.dtype, 'float64');
    assert.equal(half.numBatchesTracked!.dtype, 'int64');
    bn.resetRunningStats();
    assert.deepEqual(bn.runningMean!.tolist(), [0, 0]);
    assert.equal(bn.numBatchesTracked!.item(), 0);
  });
});

test('instance norm: unbatched input, rank and channel checks, running stats when tracked', () => {
  torch.tidy(() => {
    const inorm = new nn.InstanceNorm2d(3, { affine: true });
    torch.noGrad(() => nn.init.uniform_(inorm.weight!));
    const x = torch.randn([3, 4, 5]);
    const unbatched = inorm.forward(x);
    const batched = inorm.forward(x.unsqueeze(0));
    assert.deepEqual(unbatched.shape, [3, 4, 5]);
    assert.ok(close(unbatched, batched.squeeze(0)));
    assert.throws(() => inorm.forward(torch.zeros([4, 5])), /InstanceNorm2d: expected 3D or 4D input \(got 2D input\)/);
    assert.throws(() => inorm.forward(torch.zeros([1, 2, 4, 5])), /expected input's size at dim=1 to match num_features \(3\), but got: 2\./);

    assert.throws(() => new nn.InstanceNorm3d(2, { momentum: null }), /InstanceNorm3d: momentum must be a number/);
    const tracked = new nn.InstanceNorm1d(2, { trackRunningStats: true, momentum: 1 });
    const xs = torch.tensor([[[1, 3], [2, 2]], [[3, 5], [4, 4]]], { dtype: 'float32' });
    tracked.forward(xs);
    // momentum 1: running mean = mean over the batch of the per-instance means.
    assert.deepEqual(tracked.runningMean!.tolist(), [3, 3]);
    tracked.eval();
    const ye = tracked.forward(xs).tolist() as number[][][];
    const rv = tracked.runningVar!.tolist() as number[];
    assert.ok(Math.abs(ye[0][0][0] - (1 - 3) / Math.sqrt(rv[0] + 1e-5)) < 1e-5, 'eval uses running stats');
  });
});

test('group and layer norm: arguments, shapes, parameters', () => {
  assert.throws(() => new nn.GroupNorm(3, 4), /GroupNorm: num_channels \(4\) must be divisible by num_groups \(3\)/);
  const gn = new nn.GroupNorm(2, 4);
  assert.deepEqual(gn.weight!.tolist(), [1, 1, 1, 1]);
  assert.deepEqual(gn.bias!.tolist(), [0, 0, 0, 0]);
  const ln = new nn.LayerNorm([2, 3], { elementwiseAffine: false });
  assert.equal(ln.weight, null);
  torch.tidy(() => {
    const y = ln.forward(torch.randn([4, 2, 3]));
    const m = y.mean([1, 2]).tolist() as number[];
    assert.ok(m.every((v) => Math.abs(v) < 1e-6));
  });
  gn.dispose();
});

test('max pooling with returnIndices gives output and indices; stride may be positional', () => {
  torch.tidy(() => {
    const x = torch.arange(16, { dtype: 'float32' }).reshape([1, 1, 4, 4]);
    const pool = new nn.MaxPool2d(2, { returnIndices: true });
    const { output, indices } = pool.forward(x);
    assert.deepEqual(output.tolist(), [[[[5, 7], [13, 15]]]]);
    assert.deepEqual(indices.tolist(), [[[[5, 7], [13, 15]]]]);
    const overlap = new nn.MaxPool2d(3, 1);
    assert.deepEqual(overlap.stride, 1);
    assert.deepEqual(overlap.forward(x).shape, [1, 1, 2, 2]);
    const amp = new nn.AdaptiveMaxPool2d([1, null], true);
    const r = amp.forward(x);
    assert.deepEqual(r.output.tolist(), [[[[12, 13, 14, 15]]]]);
    assert.deepEqual(new nn.AdaptiveMaxPool2d(1).forward(x).tolist(), [[[[15]]]]);
    assert.deepEqual(new nn.AvgPool2d(2, 2).forward(x).tolist(), [[[[2.5, 4.5], [10.5, 12.5]]]]);
    assert.deepEqual(new nn.AvgPool2d(3, { stride: 1, divisorOverride: 1 }).forward(x).tolist(), [[[[45, 54], [81, 90]]]]);
    assert.deepEqual(new nn.AdaptiveAvgPool3d([1, 2, 1]).forward(x).shape, [1, 1, 2, 1]);
    assert.throws(() => new nn.AvgPool1d(2, { divisorOverride: 2 } as nn.AvgPoolLayerOptions), /divisorOverride is not supported for 1-D pooling/);
  });
});

test('dropout, softmax, upsample, flatten: arguments and shapes', () => {
  assert.throws(() => new nn.Dropout(1.5), /Dropout: dropout probability has to be between 0 and 1, but got 1.5/);
  assert.throws(() => new nn.Dropout3d({ p: -0.1 }), /Dropout3d: dropout probability/);
  torch.tidy(() => {
    const x = torch.randn([2, 3, 4]);
    // PyTorch's implicit dim for 3-D input is 0.
    assert.ok(close(new nn.Softmax().forward(x), F.softmax(x, 0)));
    assert.ok(close(new nn.LogSoftmax(-1).forward(x), F.logSoftmax(x, -1)));
    const img = torch.randn([1, 2, 3, 5]);
    assert.deepEqual(new nn.Upsample({ size: [6, 4], mode: 'bilinear', alignCorners: true }).forward(img).shape, [1, 2, 6, 4]);
    assert.deepEqual(new nn.Upsample({ scaleFactor: [2, 1] }).forward(img).shape, [1, 2, 6, 5]);
    assert.deepEqual(new nn.Flatten().forward(img).shape, [1, 30]);
    assert.deepEqual(new nn.Flatten(0, -2).forward(img).shape, [6, 5]);
    assert.deepEqual(new nn.Unflatten(1, [2, 1]).forward(img).shape, [1, 2, 1, 3, 5]);
    const d2 = new nn.Dropout2d(0.5);
    const y = d2.forward(torch.ones([4, 8, 3, 3]));
    const perChannel = (y.reshape([32, 9]).tolist() as number[][]).map((r) => new Set(r).size);
    assert.ok(perChannel.every((n) => n === 1), 'whole channels are zeroed or kept');
  });
});

test('activation modules compute the functional activations, in place when asked', () => {
  torch.tidy(() => {
    const x = torch.tensor([-2, -0.5, 0, 1.5], { dtype: 'float32' });
    assert.deepEqual(new nn.ReLU().forward(x).tolist(), [0, 0, 0, 1.5]);
    assert.deepEqual(new nn.LeakyReLU(0.5).forward(x).tolist(), [-1, -0.25, 0, 1.5]);
    assert.deepEqual(new nn.ReLU6().forward(torch.tensor([-1, 3, 9], { dtype: 'float32' })).tolist(), [0, 3, 6]);
    assert.ok(close(new nn.ELU({ alpha: 2 }).forward(x), F.elu(x, 2)));
    assert.ok(close(new nn.GELU('tanh').forward(x), F.gelu(x, 'tanh')));
    assert.ok(close(new nn.SiLU().forward(x), x.mul(F.sigmoid(x))));
    assert.ok(close(new nn.Mish().forward(x), F.mish(x)));
    assert.ok(close(new nn.SELU().forward(x), F.selu(x)));
    assert.ok(close(new nn.Softplus(2, 1).forward(x), F.softplus(x, 2, 1)));
    assert.deepEqual(new nn.PReLU().forward(x).tolist(), [-0.5, -0.125, 0, 1.5]);
    const y = torch.tensor([-1, 2], { dtype: 'float32' });
    const out = new nn.ReLU(true).forward(y);
    assert.equal(out, y, 'inplace returns the input');
    assert.deepEqual(y.tolist(), [0, 2]);
  });
});

test('layers take device and dtype factory options', () => {
  const lin = new nn.Linear(2, 3, { dtype: 'float64', bias: false });
  assert.equal(lin.weight.dtype, 'float64');
  assert.equal(lin.bias, null);
  assert.deepEqual([...torch.tidy(() => lin.stateDict()).keys()], ['weight']);
  const conv = new nn.Conv3d(1, 2, 1, { device: 'cpu', dtype: 'float64' });
  assert.equal(conv.bias!.dtype, 'float64');
  assert.equal(conv.weight.device, 'cpu');
  lin.dispose();
  conv.dispose();
});
