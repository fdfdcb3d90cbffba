// Whole models against PyTorch 1.13 (fixtures/nn_models.py): the state dict
// keys in order with shapes and dtypes, loading PyTorch's weights, eval-mode
// and seeded train-mode outputs, running statistics after training forwards,
// and the printed module tree.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import * as torch from '../src/index.js';
import { nn, type Tensor } from '../src/index.js';

interface Encoded {
  shape: number[];
  dtype: torch.DType;
  data: number[];
}

interface Case {
  name: string;
  state: (Encoded & { key: string })[];
  input: Encoded;
  eval: Encoded;
  train: Encoded[];
  after: (Encoded & { key: string })[];
  repr: string;
}

const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/nn_models.json', import.meta.url), 'utf8')) as {
  cases: Case[];
  reprs: Record<string, string>;
};

function decode(e: Encoded): Tensor {
  if (e.dtype === 'int64') return torch.tensor(BigInt64Array.from(e.data, (v) => BigInt(v)), { shape: e.shape });
  return torch.tensor(Float32Array.from(e.data), { shape: e.shape });
}

function assertClose(actual: Tensor, expected: Encoded, what: string, atol = 2e-5, rtol = 1e-4): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  const a = Array.from(actual.toTypedArray() as Float32Array, Number);
  let worst = 0;
  let at = -1;
  a.forEach((v, i) => {
    const err = Math.abs(v - expected.data[i]) - rtol * Math.abs(expected.data[i]);
    if (err > worst) {
      worst = err;
      at = i;
    }
  });
  assert.ok(worst <= atol, `${what}: element ${at} is ${a[at]}, PyTorch has ${expected.data[at]}`);
}

// ---- the same models as nn_models.py ---------------------------------------

function model3d(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv3d(1, 4, 3, { padding: 1 }),
    new nn.InstanceNorm3d(4, { affine: true }),
    new nn.LeakyReLU(0.01, true),
    new nn.ConvTranspose3d(4, 2, 2, { stride: 2 }),
    new nn.InstanceNorm3d(2, { trackRunningStats: true }),
    new nn.Conv3d(2, 3, 3, { padding: 'same', paddingMode: 'replicate', bias: false }),
    new nn.Upsample({ scaleFactor: 0.5, mode: 'trilinear', alignCorners: false }),
  );
}

function model2d(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(3, 6, 3, { padding: 1 }),
    new nn.BatchNorm2d(6),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Dropout(0.5),
    new nn.Conv2d(6, 4, 3, { stride: 2, padding: 1, bias: false, paddingMode: 'reflect' }),
    new nn.BatchNorm2d(4, { momentum: null }),
    new nn.GELU(),
    new nn.Dropout2d(0.25),
    new nn.AdaptiveAvgPool2d(1),
    new nn.Flatten(),
    new nn.Linear(4, 3),
    new nn.LogSoftmax(1),
  );
}

class Nested extends nn.Module {
  declare scale: Tensor;
  declare blocks: nn.ModuleDict;
  declare pool: nn.AvgPool1d;
  declare act: nn.ELU;

  constructor() {
    super();
    this.registerBuffer('scale', torch.tensor([1.5, 0.5, 2.0]));
    this.registerBuffer('scratch', torch.zeros([2]), false);
    this.addModule(
      'blocks',
      new nn.ModuleDict({
        enc: new nn.Sequential(new nn.Conv1d(3, 4, 3, { padding: 1, groups: 1 }), new nn.GroupNorm(2, 4), new nn.SiLU()),
        head: new nn.ModuleList([new nn.Linear(4 * 18, 8), new nn.LayerNorm(8), new nn.BatchNorm1d(8)]),
      }),
    );
    this.addModule('pool', new nn.AvgPool1d(2));
    this.addModule('act', new nn.ELU());
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      let h = this.blocks.get('enc').forward(x.mul(this.scale.view([1, 3, 1])));
      h = torch.cat([h, this.pool.forward(h)], 2).flatten(1);
      for (const m of this.blocks.get('head') as nn.ModuleList) h = m.forward(h);
      return this.act.forward(h);
    });
  }
}

function modelTranspose(): nn.Sequential {
  return new nn.Sequential(
    new nn.ConvTranspose2d(2, 4, 3, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }),
    new nn.BatchNorm2d(4, { affine: false }),
    new nn.Tanh(),
    new nn.Identity(),
    new nn.AvgPool2d(2, { stride: 1, padding: 1, countIncludePad: false }),
    new nn.Softplus({ beta: 2 }),
    new nn.Conv2d(4, 2, [3, 1], { dilation: [2, 1] }),
    new nn.Sigmoid(),
  );
}

const builders: Record<string, () => nn.AnyModule> = { '3d': model3d, '2d': model2d, nested: () => new Nested(), transpose: modelTranspose };

describe('models match PyTorch', () => {
  for (const c of fixture.cases) {
    test(`${c.name}: state dict keys, shapes and dtypes in PyTorch's order`, () => {
      const m = builders[c.name]();
      const sd = torch.tidy(() => [...m.stateDict()].map(([k, v]) => ({ key: k, shape: v.shape, dtype: v.dtype })));
      assert.deepEqual(sd, c.state.map((s) => ({ key: s.key, shape: s.shape, dtype: s.dtype })));
      assert.equal(m.toString(), c.repr);
      m.dispose();
    });

    test(`${c.name}: PyTorch's weights give PyTorch's outputs in eval and train mode`, () => {
      const m = builders[c.name]();
      torch.tidy(() => {
        const weights = new Map(c.state.map((s) => [s.key, decode(s)] as [string, Tensor]));
        const res = m.loadStateDict(weights);
        assert.deepEqual(res, { missingKeys: [], unexpectedKeys: [] });
        const x = decode(c.input);
        m.eval();
        torch.noGrad(() => assertClose(m.forward(x), c.eval, `${c.name} eval output`));
        m.train();
        torch.manualSeed(1234);
        c.train.forEach((expected, i) => torch.noGrad(() => assertClose(m.forward(x), expected, `${c.name} train output ${i}`)));
        const after = m.stateDict();
        for (const s of c.after) {
          const t = after.get(s.key);
          assert.ok(t, `missing ${s.key} after training`);
          if (s.dtype === 'int64') assert.deepEqual(t.tolist(), s.data[0], `${s.key}`);
          else assertClose(t, s, `${c.name} ${s.key} after ${c.train.length} train forward(s)`);
        }
      });
      m.dispose();
    });
  }

});

test('module reprs match PyTorch', () => {
  const made: Record<string, nn.AnyModule> = {
    'Linear(3, 4, bias=False)': new nn.Linear(3, 4, { bias: false }),
    'Conv2d(2, 4, 3, padding=same, dilation=2)': new nn.Conv2d(2, 4, 3, { padding: 'same', dilation: 2 }),
    'Conv1d(4, 4, 3, groups=2, padding_mode=circular, padding=1)': new nn.Conv1d(4, 4, 3, { groups: 2, paddingMode: 'circular', padding: 1 }),
    'ConvTranspose3d(4, 2, 2, stride=2, output_padding=1)': new nn.ConvTranspose3d(4, 2, 2, { stride: 2, outputPadding: 1 }),
    'BatchNorm3d(5, momentum=None, eps=1e-3)': new nn.BatchNorm3d(5, { momentum: null, eps: 1e-3 }),
    'InstanceNorm2d(3)': new nn.InstanceNorm2d(3),
    'GroupNorm(2, 4, affine=False)': new nn.GroupNorm(2, 4, { affine: false }),
    'LayerNorm([4, 5])': new nn.LayerNorm([4, 5]),
    'Dropout3d(0.2)': new nn.Dropout3d(0.2),
    'ReLU(inplace=True)': new nn.ReLU(true),
    'LeakyReLU(0.2)': new nn.LeakyReLU(0.2),
    'GELU(tanh)': new nn.GELU('tanh'),
    'Softplus()': new nn.Softplus(),
    'ELU(alpha=0.5)': new nn.ELU({ alpha: 0.5 }),
    'Softmax(dim=1)': new nn.Softmax(1),
    'MaxPool3d(2, stride=1, padding=1)': new nn.MaxPool3d(2, { stride: 1, padding: 1 }),
    'MaxPool2d((2, 3))': new nn.MaxPool2d([2, 3]),
    'AvgPool1d(3)': new nn.AvgPool1d(3),
    'AvgPool3d(2)': new nn.AvgPool3d(2),
    'AdaptiveAvgPool2d((4, None))': new nn.AdaptiveAvgPool2d([4, null]),
    'AdaptiveMaxPool3d(1)': new nn.AdaptiveMaxPool3d(1),
    'Upsample(scale_factor=2, mode=bilinear)': new nn.Upsample({ scaleFactor: 2, mode: 'bilinear' }),
    'Upsample(size=[4, 6])': new nn.Upsample({ size: [4, 6] }),
    'Identity()': new nn.Identity(),
    'Flatten(0, 2)': new nn.Flatten(0, 2),
    'PReLU(3)': new nn.PReLU(3),
  };
  assert.deepEqual(Object.keys(made).sort(), Object.keys(fixture.reprs).sort());
  for (const [k, m] of Object.entries(made)) {
    assert.equal(m.toString(), fixture.reprs[k], k);
    m.dispose();
  }
});
