// Creation beyond the PyTorch fixtures: typed arrays, 16-bit float bits,
// generator independence, options, and creation errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../src/index.js';

test('typed arrays keep their dtype, take a shape, and cast on request', () => {
  torch.tidy(() => {
    const f = torch.tensor(new Float64Array([1.5, 2, 3, 4]), { shape: [2, 2] });
    assert.equal(f.dtype, 'float64');
    assert.deepEqual(f.tolist(), [[1.5, 2], [3, 4]]);
    assert.equal(torch.tensor(new Int32Array([1, 2])).dtype, 'int32');
    assert.equal(torch.tensor(new Uint8Array([1, 2])).dtype, 'uint8');
    assert.deepEqual(torch.tensor(new BigInt64Array([5n, -7n])).tolist(), [5, -7]);
    const c = torch.tensor(new Float64Array([0.1, 2.5]), { dtype: 'float32' });
    assert.equal(c.dtype, 'float32');
    assert.deepEqual(Array.from(c.toTypedArray() as Float32Array), [Math.fround(0.1), 2.5]);
    assert.throws(() => torch.tensor(new Uint16Array([1])), /cannot infer a dtype from Uint16Array; pass \{ dtype \}/);
  });
});

test('float16 and bfloat16: raw bits in and out, values through tolist()', () => {
  torch.tidy(() => {
    // 0x3c00 = 1.0, 0xc000 = -2.0, 0x7bff = 65504 (max), 0x0001 = smallest subnormal.
    const bits = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]);
    const h = torch.tensor(bits, { dtype: 'float16' });
    assert.equal(h.dtype, 'float16');
    assert.deepEqual(h.tolist(), [1, -2, 65504, 2 ** -24]);
    assert.deepEqual(Array.from(h.toTypedArray() as Uint16Array), Array.from(bits));
    const again = torch.tensor(h.tolist() as number[], { dtype: 'float16' });
    assert.deepEqual(Array.from(again.toTypedArray() as Uint16Array), Array.from(bits));
    // 0x3f80 = 1.0 and 0x4049 = 3.140625 in bfloat16.
    const b = torch.tensor(new Uint16Array([0x3f80, 0x4049]), { dtype: 'bfloat16' });
    assert.deepEqual(b.tolist(), [1, 3.140625]);
    assert.deepEqual(Array.from(torch.tensor([1, 3.14159], { dtype: 'bfloat16' }).toTypedArray() as Uint16Array), [0x3f80, 0x4049]);
    // A float32 round trip through float16 rounds to the nearest half.
    assert.deepEqual(torch.tensor([0.1]).half().float().tolist(), [0.0999755859375]);
  });
});

test('tolist() and item() give JS numbers and booleans', () => {
  torch.tidy(() => {
    assert.deepEqual(torch.tensor([[true, false]]).tolist(), [[true, false]]);
    assert.equal(torch.tensor(3).tolist(), 3);
    assert.deepEqual(torch.zeros([2, 0]).tolist(), [[], []]);
    assert.equal(torch.tensor([2.5]).item(), 2.5);
    assert.equal(torch.tensor(7).item(), 7);
    assert.throws(() => torch.tensor([1, 2]).item(), /aten::item\(self=int64\[2\]\): a Tensor with 2 elements cannot be converted to Scalar/);
  });
});

test('requiresGrad, dtype and device options', () => {
  torch.tidy(() => {
    for (const t of [torch.tensor([1.5], { requiresGrad: true }), torch.zeros([2], { requiresGrad: true }), torch.randn([2], { requiresGrad: true }),
      torch.full([2], 0.5, { requiresGrad: true }), torch.arange(0, 1, 0.5, { requiresGrad: true }), torch.eye(2, { requiresGrad: true })]) {
      assert.equal(t.requiresGrad, true);
      assert.equal(t.isLeaf, true);
    }
    assert.equal(torch.zeros([1], { device: 'cpu' }).device, 'cpu');
    assert.equal(torch.linspace(0, 1, 3, { dtype: 'float64' }).dtype, 'float64');
    assert.throws(() => torch.tensor([1, 2], { requiresGrad: true }), /floating point|requires_grad|grad/i);
  });
});

test('generators are independent of the global stream and restorable', () => {
  torch.tidy(() => {
    torch.manualSeed(9);
    const expected = torch.rand([4]).tolist();
    torch.manualSeed(9);
    const g = new torch.Generator(123);
    torch.randn([10], { generator: g });
    torch.randint(0, 5, [6], { generator: g });
    torch.zeros([4]).uniform_(0, 1, { generator: g });
    assert.deepEqual(torch.rand([4]).tolist(), expected, 'drawing from g leaves the global stream alone');

    const state = g.getState();
    const a = torch.randperm(20, { generator: g }).tolist();
    g.setState(state);
    assert.deepEqual(torch.randperm(20, { generator: g }).tolist(), a);
    g.manualSeed(123);
    const b = torch.randn([10], { generator: g }).tolist();
    assert.deepEqual(torch.randn([10], { generator: new torch.Generator(123) }).tolist(), b);
    assert.equal(g.initialSeed(), 123n);
  });
});

test('random fills and samplers keep their ranges', () => {
  torch.tidy(() => {
    const g = new torch.Generator(5);
    const u = torch.empty([1000]).uniform_(-2, 3, { generator: g });
    assert.ok(u.min().item() >= -2 && u.max().item() < 3);
    const r = torch.zeros([1000], { dtype: 'int64' }).random_(3, 7, { generator: g });
    assert.deepEqual(torch.unique(r).tolist(), [3, 4, 5, 6]);
    const e = torch.empty([1000]).exponential_(2, { generator: g });
    assert.ok(e.min().item() >= 0 && Math.abs(e.mean().item() - 0.5) < 0.1);
    const bern = torch.bernoulli(torch.full([1000], 0.3), 0.9, { generator: g });
    assert.ok(Math.abs(bern.mean().item() - 0.9) < 0.05);
    const n = torch.randn([2000], { generator: g });
    assert.ok(Math.abs(n.mean().item()) < 0.1 && Math.abs(n.std().item() - 1) < 0.1);
    const ri = torch.randint(-3, 3, [500], { generator: g });
    assert.equal(ri.dtype, 'int64');
    assert.ok(ri.min().item() >= -3 && ri.max().item() <= 2);
    assert.deepEqual(torch.randint(4, 2, { generator: g }).shape, [2]);
    const rl = torch.randintLike(ri, 2, 4).unique().tolist() as number[];
    assert.ok(rl.every((v) => v === 2 || v === 3), `randintLike values ${rl}`);
  });
});

test('creation errors are clear', () => {
  assert.throws(() => torch.tensor([[1, 2], [3]]), /tensor\(\): ragged nested array at data\[1\]: shape \[1\] differs from \[2\]/);
  assert.throws(() => torch.tensor([300], { dtype: 'uint8' }), /tensor\(\): value 300 cannot be converted to type uint8 without overflow/);
  assert.throws(() => torch.tensor([-0.5], { dtype: 'uint8' }), /value -0.5 cannot be converted to type uint8/);
  assert.throws(() => torch.tensor([128], { dtype: 'int8' }), /value 128 cannot be converted to type int8/);
  assert.throws(() => torch.tensor([NaN], { dtype: 'int64' }), /value NaN cannot be converted to type int64/);
  assert.throws(() => torch.tensor([1e10], { dtype: 'int32' }), /value 10000000000 cannot be converted to type int32/);
  assert.throws(() => torch.tensor([1, 'a' as never]), /tensor\(\): expected numbers or booleans, got string/);
  assert.throws(() => torch.arange(0, 5, 0), /arange\(\): step must be nonzero/);
  assert.throws(() => torch.zeros([2, -1]), /aten::zeros.*negative/);
  assert.throws(() => torch.randint(5, 2, [3]), /aten::randint\.low.*(from|low).*(to|high)/);
  assert.throws(() => torch.full([2], 1, { dtype: 'float8' as never }), /unknown dtype 'float8'/);
});
