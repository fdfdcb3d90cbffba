import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../src/index.js';

test('tensor() infers dtypes like PyTorch and round-trips data', () => {
  const a = torch.tensor([[1, 2], [3, 4]]);
  assert.equal(a.dtype, 'int64');
  assert.deepEqual(a.shape, [2, 2]);
  assert.deepEqual(a.tolist(), [[1, 2], [3, 4]]);
  assert.equal(torch.tensor([1.5, 2]).dtype, 'float32');
  assert.equal(torch.tensor([true, false]).dtype, 'bool');
  const f = torch.tensor(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
  assert.deepEqual(f.shape, [2, 3]);
  assert.deepEqual(Array.from(f.toTypedArray() as Float32Array), [1, 2, 3, 4, 5, 6]);
  assert.throws(() => torch.tensor([[1, 2], [3]]), /ragged nested array at data\[1\]/);
});

test('scalars are wrapped numbers: int tensor * 2 stays int64, * 0.5 becomes float32', () => {
  const a = torch.tensor([1, 2, 3]);
  assert.equal(a.mul(2).dtype, 'int64');
  assert.equal(a.mul(0.5).dtype, 'float32');
  assert.equal(torch.tensor([1, 2], { dtype: 'float16' }).add(1).dtype, 'float16');
  assert.deepEqual(a.add(a, 3).tolist(), [4, 8, 12]);
});

test('native errors name the op and the input shapes, and never crash', () => {
  const x = torch.zeros([2, 3]);
  const y = torch.zeros([4, 5]);
  assert.throws(() => x.add(y), (e: Error) => /aten::add\.Tensor\(self=float32\[2, 3\], other=float32\[4, 5\]\)/.test(e.message) && /size of tensor a \(3\) must match/.test(e.message));
  assert.throws(() => torch.op('conv2d')([x]), /aten::conv2d: missing argument 'weight'/);
  assert.throws(() => torch.op('sum', 'dim_IntList')([x, 'a']), /argument 'dim' must be an array, got string/);
  assert.throws(() => torch.op('no_such_op'), /unknown operator aten::no_such_op/);
  assert.throws(() => torch.zeros([2], { dtype: 'float8' as torch.DType }), /unknown dtype 'float8'/);
  x.dispose();
  assert.throws(() => x.shape, /tensor used after dispose\(\)/);
});

test('keyword arguments take schema names and unknown ones are rejected', () => {
  const x = torch.tensor([[1, 2], [3, 4]], { dtype: 'float32' });
  const s = torch.op('sum', 'dim_IntList')([x], { dim: [1], keepdim: true }) as torch.Tensor;
  assert.deepEqual(s.tolist(), [[3], [7]]);
  assert.throws(() => torch.op('sum', 'dim_IntList')([x], { dims: [1] }), /unexpected keyword argument 'dims'/);
});

test('autograd: backward, accumulation, retainGraph and second-order grad', () => {
  const x = torch.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
  const y = x.mul(x).mul(x).sum(); // sum x^3
  y.backward(null, { retainGraph: true });
  assert.deepEqual(x.grad!.tolist(), [3, 12, 27]);
  y.backward();
  assert.deepEqual(x.grad!.tolist(), [6, 24, 54], 'gradients accumulate');
  x.grad = null;
  const z = x.mul(x).mul(x).sum();
  const [g] = torch.autograd.grad(z, x, { createGraph: true });
  const [gg] = torch.autograd.grad(g!.sum(), x);
  assert.deepEqual(gg!.tolist(), [6, 12, 18], 'd2/dx2 of x^3 is 6x');
  assert.throws(() => z.backward(), /backward of float64\[\]: .*(second time|already been freed)/s);
});

test('noGrad and enableGrad scopes', () => {
  const w = torch.ones([2], { requiresGrad: true });
  const a = torch.noGrad(() => w.mul(2));
  assert.equal(a.requiresGrad, false);
  const b = torch.noGrad(() => torch.enableGrad(() => w.mul(2)));
  assert.equal(b.requiresGrad, true);
  assert.equal(torch.isGradEnabled(), true);
});

test('tidy disposes intermediates and keeps results and kept tensors', () => {
  let inner: torch.Tensor | undefined;
  let kept: torch.Tensor | undefined;
  const out = torch.tidy(() => {
    inner = torch.ones([3]);
    kept = torch.keep(torch.zeros([1]));
    return { r: inner.add(1) };
  });
  assert.equal(inner!.isDisposed, true);
  assert.equal(kept!.isDisposed, false);
  assert.deepEqual(out.r.tolist(), [2, 2, 2]);
  assert.throws(() => torch.tidy(() => { torch.ones([1]); throw new Error('boom'); }), /boom/);
  assert.equal(torch.scopeDepth(), 0);
});

test('disposing one wrapper never frees data shared with another', () => {
  const w = torch.ones([2], { requiresGrad: true });
  w.mul(3).sum().backward();
  const g1 = w.grad!;
  g1.dispose();
  assert.deepEqual(w.grad!.tolist(), [3, 3]);
});

test('seeded generators are reproducible and their state can be restored', () => {
  torch.manualSeed(7);
  const a = torch.randn([5]).tolist();
  torch.manualSeed(7);
  assert.deepEqual(torch.randn([5]).tolist(), a);
  const g = new torch.Generator(3);
  const state = g.getState();
  const r1 = torch.rand([4], { generator: g }).tolist();
  g.setState(state);
  assert.deepEqual(torch.rand([4], { generator: g }).tolist(), r1);
  const p = torch.randperm(10, { generator: new torch.Generator(1) }).tolist() as number[];
  assert.deepEqual([...p].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('threads default to every core and can be set', () => {
  const n = torch.getNumThreads();
  assert.ok(n >= 1);
  torch.setNumThreads(1);
  assert.equal(torch.getNumThreads(), 1);
  torch.setNumThreads(n);
  assert.throws(() => torch.setNumThreads(0), /positive integer/);
});

test('gradcheck accepts a correct gradient and rejects a wrong one', () => {
  const x = torch.randn([3, 2], { dtype: 'float64', requiresGrad: true });
  assert.equal(torch.gradcheck((t) => t.mul(t).sum(1), [x]), true);
  // detach() hides the dependence: analytical grad 0, numerical not.
  assert.throws(() => torch.gradcheck((t) => t.detach().mul(t), [x]), /gradcheck: input 0 element 0/);
});

test('dataView is zero-copy and toTypedArray is a copy', () => {
  const t = torch.zeros([4]);
  const v = t.dataView();
  v[1] = 5;
  assert.deepEqual(t.tolist(), [0, 5, 0, 0]);
  const c = t.toTypedArray();
  c[2] = 9;
  assert.deepEqual(t.tolist(), [0, 5, 0, 0]);
});

test('Generator.manualSeed reseeds in place like a fresh generator', () => {
  const g = new torch.Generator(5);
  torch.rand([3], { generator: g });
  g.manualSeed(11);
  assert.deepEqual(torch.rand([4], { generator: g }).tolist(), torch.rand([4], { generator: new torch.Generator(11) }).tolist());
  assert.equal(g.initialSeed(), 11n);
});
