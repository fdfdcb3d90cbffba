// nn.init and the layers' default initialisation: seeded values equal
// PyTorch's (fixtures/nn_models.py), distribution bounds and statistics,
// fan computation, gains, generators and errors.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as torch from '../src/index.js';
import { nn, type Tensor } from '../src/index.js';

const { init } = nn;

interface Encoded {
  shape: number[];
  dtype: torch.DType;
  data: number[];
}

const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/nn_models.json', import.meta.url), 'utf8')) as {
  seeded_init: { name: string; state: (Encoded & { key: string })[] }[];
  init: (Encoded & { name: string; seed: number })[];
  gains: Record<string, number>;
};

function values(t: Tensor): number[] {
  return Array.from(t.toTypedArray() as Float32Array | BigInt64Array, Number);
}

function maxDiff(a: number[], b: number[]): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

test('default initialisation after manualSeed equals PyTorch, value for value', () => {
  torch.manualSeed(0);
  const mods: [string, nn.AnyModule][] = [
    ['linear', new nn.Linear(20, 10)],
    ['conv2d', new nn.Conv2d(3, 4, 3)],
    ['convT2d', new nn.ConvTranspose2d(4, 2, 3, { groups: 2 })],
    ['conv3d_nobias', new nn.Conv3d(2, 3, [1, 2, 3], { bias: false })],
    ['bn', new nn.BatchNorm1d(3)],
    ['prelu', new nn.PReLU(2)],
  ];
  assert.deepEqual(mods.map(([n]) => n), fixture.seeded_init.map((s) => s.name));
  mods.forEach(([name, m], i) => {
    torch.tidy(() => {
      const sd = m.stateDict();
      const ref = fixture.seeded_init[i].state;
      assert.deepEqual([...sd.keys()], ref.map((r) => r.key), name);
      for (const r of ref) {
        const t = sd.get(r.key)!;
        assert.deepEqual(t.shape, r.shape, `${name}.${r.key}`);
        assert.equal(maxDiff(values(t), r.data), 0, `${name}.${r.key} differs from PyTorch`);
      }
    });
    m.dispose();
  });
});

test('nn.init functions reproduce PyTorch under the same seed', () => {
  const calls: Record<string, (t: Tensor) => Tensor> = {
    uniform: (t) => init.uniform_(t, -0.3, 0.7),
    normal: (t) => init.normal_(t, { mean: 0.5, std: 2.0 }),
    trunc_normal: (t) => init.truncNormal_(t, { mean: 0.1, std: 0.5, a: -0.4, b: 0.8 }),
    xavier_uniform: (t) => init.xavierUniform_(t, init.calculateGain('tanh')),
    xavier_normal: (t) => init.xavierNormal_(t),
    kaiming_uniform: (t) => init.kaimingUniform_(t, { a: 0.2, mode: 'fan_out' }),
    kaiming_normal: (t) => init.kaimingNormal_(t, { mode: 'fan_out', nonlinearity: 'relu' }),
    orthogonal_wide: (t) => init.orthogonal_(t, 2.0),
    orthogonal_tall: (t) => init.orthogonal_(t),
    eye: (t) => init.eye_(t),
    dirac: (t) => init.dirac_(t, 2),
    constant: (t) => init.constant_(t, 0.25),
  };
  assert.deepEqual(Object.keys(calls), fixture.init.map((c) => c.name));
  for (const c of fixture.init) {
    torch.tidy(() => {
      torch.manualSeed(c.seed);
      const t = torch.empty(c.shape);
      assert.equal(calls[c.name](t), t, `${c.name} returns its tensor`);
      // QR goes through LAPACK, so allow rounding there; the rest is exact arithmetic.
      const tol = c.name.startsWith('orthogonal') || c.name === 'trunc_normal' ? 1e-6 : 0;
      assert.ok(maxDiff(values(t), c.data) <= tol, `${c.name}: ${maxDiff(values(t), c.data)}`);
    });
  }
});

test('calculateGain and fan computation are PyTorch\'s', () => {
  const g = fixture.gains;
  assert.equal(init.calculateGain('linear'), g.linear);
  assert.equal(init.calculateGain('conv3d'), 1);
  assert.equal(init.calculateGain('sigmoid'), g.sigmoid);
  assert.equal(init.calculateGain('tanh'), g.tanh);
  assert.equal(init.calculateGain('relu'), g.relu);
  assert.equal(init.calculateGain('leaky_relu'), g.leaky_relu);
  assert.equal(init.calculateGain('leaky_relu', 0.2), g['leaky_relu_0.2']);
  assert.equal(init.calculateGain('selu'), g.selu);
  assert.throws(() => init.calculateGain('swish' as nn.init.Nonlinearity), /unsupported nonlinearity 'swish'/);

  torch.tidy(() => {
    assert.deepEqual(init.calculateFanInAndFanOut(torch.empty([8, 3, 3, 3, 3])), [81, 216]);
    assert.deepEqual(init.calculateFanInAndFanOut(torch.empty([5, 7])), [7, 5]);
    // ConvTranspose weights are (in, out/groups, k...), so fan_in counts out/groups, as in PyTorch.
    assert.deepEqual(init.calculateFanInAndFanOut(new nn.ConvTranspose2d(6, 4, 3, { groups: 2 }).weight), [18, 54]);
    assert.equal(init.calculateCorrectFan(torch.empty([4, 2, 3]), 'fan_out'), 12);
    assert.throws(() => init.calculateFanInAndFanOut(torch.empty([5])), /fewer than 2 dimensions \(got shape \[5\]\)/);
    assert.throws(() => init.kaimingUniform_(torch.empty([3, 3]), { mode: 'fan_avg' as nn.init.FanMode }), /Mode fan_avg not supported/);
    assert.throws(() => init.eye_(torch.empty([2, 2, 2])), /only tensors with 2 dimensions/);
    assert.throws(() => init.dirac_(torch.empty([3, 2, 3]), 2), /dim 0 \(3\) must be divisible by groups \(2\)/);
  });
});

test('Conv3d default init: weights and bias within ±1/√fan_in, std of U(±bound)', () => {
  torch.manualSeed(3);
  const conv = new nn.Conv3d(16, 32, 3);
  const fanIn = 16 * 27;
  const bound = 1 / Math.sqrt(fanIn);
  const w = values(conv.weight);
  assert.ok(Math.max(...w.map(Math.abs)) <= bound, 'every weight within the bound');
  const mean = w.reduce((a, b) => a + b, 0) / w.length;
  const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
  assert.ok(Math.abs(std / (bound / Math.sqrt(3)) - 1) < 0.02, `std ${std} vs ${bound / Math.sqrt(3)}`);
  assert.ok(Math.abs(mean) < 0.01 * bound);
  const b = values(conv.bias!);
  assert.ok(Math.max(...b.map(Math.abs)) <= bound && b.some((v) => v !== 0));
  conv.dispose();

  torch.tidy(() => {
    const t = init.kaimingNormal_(torch.empty([256, 64, 3, 3]), { mode: 'fan_out', nonlinearity: 'relu' });
    const expected = Math.sqrt(2 / (256 * 9));
    const s = t.std().item();
    assert.ok(Math.abs(s / expected - 1) < 0.01, `kaiming_normal std ${s} vs ${expected}`);
    const tn = init.truncNormal_(torch.empty([10000]), { std: 1, a: -1, b: 1.5 });
    const v = values(tn);
    assert.ok(Math.min(...v) >= -1 && Math.max(...v) <= 1.5);
    assert.ok(Math.min(...v) < -0.99 && Math.max(...v) > 1.49, 'fills the whole interval');
  });
});

test('a Generator makes init reproducible without touching the global generator', () => {
  torch.tidy(() => {
    torch.manualSeed(11);
    const globalNext = values(torch.rand([3]));
    torch.manualSeed(11);
    const a = init.xavierUniform_(torch.empty([4, 6]), { generator: new torch.Generator(5) });
    const b = init.xavierUniform_(torch.empty([4, 6]), { generator: new torch.Generator(5) });
    const c = init.xavierUniform_(torch.empty([4, 6]), { generator: new torch.Generator(6) });
    assert.deepEqual(values(a), values(b));
    assert.notDeepEqual(values(a), values(c));
    assert.deepEqual(values(torch.rand([3])), globalNext, 'global stream unchanged');
    const g = new torch.Generator(9);
    const u1 = values(init.uniform_(torch.empty([5]), -1, 1, g));
    g.manualSeed(9);
    assert.deepEqual(values(init.uniform_(torch.empty([5]), { a: -1, b: 1, generator: g })), u1);
    const n1 = values(init.kaimingUniform_(torch.empty([3, 4]), 0, 'fan_in', 'relu', new torch.Generator(2)));
    assert.deepEqual(values(init.kaimingUniform_(torch.empty([3, 4]), { nonlinearity: 'relu', generator: new torch.Generator(2) })), n1);
  });
});

test('init works on parameters that require grad (noGrad) and records no history', () => {
  const lin = new nn.Linear(3, 2);
  init.normal_(lin.weight, 0, 0.01);
  init.zeros_(lin.bias!);
  assert.equal(lin.weight.gradFn, null);
  assert.equal(lin.weight.requiresGrad, true);
  assert.ok(lin.weight.isLeaf);
  assert.deepEqual(lin.bias!.tolist(), [0, 0]);
  init.ones_(lin.bias!);
  assert.deepEqual(lin.bias!.tolist(), [1, 1]);
  lin.dispose();
});
