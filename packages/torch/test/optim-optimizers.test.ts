import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as torch from '../src/index.js';
import { snakeToCamel } from '../src/optim/optimizer.js';

const { optim } = torch;
const fixtureDir = new URL('../../test/fixtures/', import.meta.url);

interface Case {
  name: string;
  cls: 'SGD' | 'Adam' | 'AdamW';
  defaults: Record<string, unknown>;
  group2: Record<string, unknown>;
  losses: number[];
  trajectory: { W: number[]; b: number[] }[];
  state_dict_step5: { state: Record<string, Record<string, unknown>>; param_groups: Record<string, unknown>[] };
}
const fx = JSON.parse(readFileSync(new URL('optim.json', fixtureDir), 'utf8')) as {
  optimizers: Case[];
  data: { X: number[]; Y: number[]; W0: number[]; B0: number[] };
};

const X = torch.keep(torch.tensor(new Float32Array(fx.data.X), { shape: [8, 4] }));
const Y = torch.keep(torch.tensor(new Float32Array(fx.data.Y), { shape: [8, 3] }));

function params(): { W: torch.Tensor; b: torch.Tensor } {
  return {
    W: torch.keep(torch.tensor(new Float32Array(fx.data.W0), { shape: [3, 4], requiresGrad: true })),
    b: torch.keep(torch.tensor(new Float32Array(fx.data.B0), { shape: [3], requiresGrad: true })),
  };
}

/** ((X Wᵀ + b − Y)²).mean(), written with the same aten ops as the Python reference. */
function loss(W: torch.Tensor, b: torch.Tensor): torch.Tensor {
  const pred = torch.callT(torch.op('mm'), [X, torch.callT(torch.op('t'), [W])]).add(b).sub(Y);
  return torch.callT(torch.op('pow', 'Tensor_Scalar'), [pred, 2]).mean();
}

function camel(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [snakeToCamel(k), v]));
}

function make(c: Case, W: torch.Tensor, b: torch.Tensor): torch.optim.Optimizer {
  const groups = [{ params: [W] }, { params: [b], ...camel(c.group2) }];
  const d = camel(c.defaults);
  if (c.cls === 'SGD') return new optim.SGD(groups, d as torch.optim.SGDOptions);
  if (c.cls === 'Adam') return new optim.Adam(groups, d);
  return new optim.AdamW(groups, d);
}

function assertClose(actual: ArrayLike<number>, expected: number[], what: string, rtol = 1e-5, atol = 1e-6): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    assert.ok(Math.abs(a - e) <= atol + rtol * Math.abs(e), `${what}[${i}]: got ${a}, expected ${e}`);
  }
}

function trainStep(opt: torch.optim.Optimizer, W: torch.Tensor, b: torch.Tensor): number {
  return torch.tidy(() => {
    opt.zeroGrad();
    const l = loss(W, b);
    l.backward();
    opt.step();
    return l.item();
  });
}

for (const c of fx.optimizers) {
  test(`${c.name}: parameters follow PyTorch's trajectory at every step (two param groups)`, () => {
    const { W, b } = params();
    const opt = make(c, W, b);
    c.trajectory.forEach((expected, i) => {
      const l = trainStep(opt, W, b);
      assertClose([l], [c.losses[i]], `${c.name} loss before step ${i + 1}`);
      assertClose(W.toTypedArray() as Float32Array, expected.W, `${c.name} W after step ${i + 1}`);
      assertClose(b.toTypedArray() as Float32Array, expected.b, `${c.name} b after step ${i + 1}`);
    });
    opt.dispose();
  });

  test(`${c.name}: stateDict matches PyTorch's layout and values; loadStateDict resumes identically`, () => {
    const { W, b } = params();
    const opt = make(c, W, b);
    for (let i = 0; i < 5; i++) trainStep(opt, W, b);
    const sd = opt.stateDict();
    const ref = c.state_dict_step5;
    assert.deepEqual(Object.keys(sd.state).sort(), Object.keys(ref.state).sort());
    for (const [k, refState] of Object.entries(ref.state)) {
      const mine = sd.state[Number(k)];
      assert.deepEqual(Object.keys(mine).sort(), Object.keys(refState).sort(), `state[${k}] keys`);
      for (const [sk, rv] of Object.entries(refState)) {
        const v = mine[sk];
        if (rv === null) assert.equal(v, null);
        else {
          const r = rv as { tensor: number[]; shape: number[]; dtype: string };
          assert.ok(v instanceof torch.Tensor, `state[${k}].${sk} is a tensor`);
          assert.deepEqual(v.shape, r.shape, `state[${k}].${sk} shape`);
          assert.equal(v.dtype, r.dtype, `state[${k}].${sk} dtype`);
          assertClose(v.toTypedArray() as Float32Array, r.tensor, `state[${k}].${sk}`);
        }
      }
    }
    sd.param_groups.forEach((g, i) => {
      for (const [k, v] of Object.entries(g)) {
        assert.ok(k in ref.param_groups[i], `param_groups[${i}] key '${k}' is one PyTorch has`);
        assert.deepEqual(v, ref.param_groups[i][k], `param_groups[${i}].${k}`);
      }
      for (const k of ['lr', 'weight_decay', 'maximize', 'params']) assert.ok(k in g, `param_groups[${i}] has '${k}'`);
    });

    // A fresh optimizer over copies of the parameters continues identically.
    const W2 = torch.keep(W.detach().clone().requiresGrad_(true));
    const b2 = torch.keep(b.detach().clone().requiresGrad_(true));
    const opt2 = make({ ...c, defaults: { lr: 123 }, group2: {} }, W2, b2);
    opt2.loadStateDict(sd);
    assert.equal(opt2.paramGroups[1].lr, opt.paramGroups[1].lr, 'hyperparameters come from the state dict');
    for (let i = 5; i < c.trajectory.length; i++) {
      trainStep(opt2, W2, b2);
      assertClose(W2.toTypedArray() as Float32Array, c.trajectory[i].W, `${c.name} resumed W after step ${i + 1}`);
      assertClose(b2.toTypedArray() as Float32Array, c.trajectory[i].b, `${c.name} resumed b after step ${i + 1}`);
    }
    // The copies are independent of the original optimizer's state.
    for (const s of opt.state.values()) for (const v of Object.values(s)) if (v instanceof torch.Tensor) assert.equal(v.isDisposed, false);
    opt.dispose();
    opt2.dispose();
  });
}

test('Adam resumes from a state_dict saved by torch.save in PyTorch', () => {
  const c = fx.optimizers.find((x) => x.name === 'adam')!;
  const sd = torch.loadPth(new URL('optim_adam_state.pth', fixtureDir).pathname) as Map<string, unknown>;
  const W = torch.keep(torch.tensor(new Float32Array(c.trajectory[4].W), { shape: [3, 4], requiresGrad: true }));
  const b = torch.keep(torch.tensor(new Float32Array(c.trajectory[4].b), { shape: [3], requiresGrad: true }));
  const opt = new optim.Adam([{ params: [W] }, { params: [b] }], { lr: 1 });
  opt.loadStateDict(sd);
  assert.equal(opt.paramGroups[1].lr, 0.03);
  assert.deepEqual(opt.paramGroups[0].betas, [0.9, 0.999]);
  assert.equal(opt.state.get(W)!.step, 5);
  for (let i = 5; i < c.trajectory.length; i++) {
    trainStep(opt, W, b);
    assertClose(W.toTypedArray() as Float32Array, c.trajectory[i].W, `W after step ${i + 1}`);
    assertClose(b.toTypedArray() as Float32Array, c.trajectory[i].b, `b after step ${i + 1}`);
  }
  opt.dispose();
});

test('parameters without a gradient are skipped and get no state', () => {
  const a = torch.keep(torch.ones([2], { requiresGrad: true }));
  const unused = torch.keep(torch.ones([3], { requiresGrad: true }));
  const opt = new optim.Adam([a, unused], { lr: 0.1 });
  torch.tidy(() => a.mul(a).sum().backward());
  opt.step();
  assert.equal(opt.state.has(unused), false);
  assert.deepEqual(unused.tolist(), [1, 1, 1]);
  assert.ok((a.tolist() as number[])[0] < 1);
  assert.deepEqual(Object.keys(opt.stateDict().state), ['0']);
  opt.dispose();
});

test('zeroGrad: null by default, zeros in place with setToNone=false', () => {
  const a = torch.keep(torch.ones([2], { requiresGrad: true }));
  const opt = new optim.SGD([a], { lr: 0.1 });
  torch.tidy(() => a.mul(3).sum().backward());
  opt.zeroGrad(false);
  assert.deepEqual(a.grad!.tolist(), [0, 0]);
  opt.zeroGrad();
  assert.equal(a.grad, null);
});

test('step(closure) evaluates the loss with gradients on and returns it', () => {
  const a = torch.keep(torch.tensor([2], { dtype: 'float32', requiresGrad: true }));
  const opt = new optim.SGD([a], { lr: 0.25 });
  const l = torch.noGrad(() => opt.step(() => {
    opt.zeroGrad();
    const out = a.mul(a).sum();
    out.backward();
    return out.item();
  }));
  assert.equal(l, 4);
  assert.deepEqual(a.tolist(), [1]); // 2 - 0.25 * 4
});

test('optimizer state survives tidy scopes; the step leaves no tensors behind in the caller scope', () => {
  const a = torch.keep(torch.ones([4], { requiresGrad: true }));
  const opt = new optim.SGD([a], { lr: 0.1, momentum: 0.9 });
  torch.tidy(() => {
    a.mul(a).sum().backward();
    opt.step();
  });
  const buf = opt.state.get(a)!.momentumBuffer as torch.Tensor;
  assert.equal(buf.isDisposed, false);
  assert.deepEqual(buf.tolist(), [2, 2, 2, 2]);
});

test('addParamGroup adds hyperparameters from the defaults and rejects duplicates', () => {
  const a = torch.keep(torch.ones([1], { requiresGrad: true }));
  const c = torch.keep(torch.ones([1], { requiresGrad: true }));
  const opt = new optim.SGD([a], { lr: 0.1, momentum: 0.9 });
  opt.addParamGroup({ params: [c], lr: 0.5 });
  assert.equal(opt.paramGroups[1].lr, 0.5);
  assert.equal(opt.paramGroups[1].momentum, 0.9);
  assert.throws(() => opt.addParamGroup({ params: [a] }), /some parameters appear in more than one parameter group/);
});

test('bad arguments give clear errors', () => {
  const a = torch.keep(torch.ones([1], { requiresGrad: true }));
  assert.throws(() => new optim.SGD([a], { lr: -1 }), /SGD: invalid lr -1: expected a number >= 0/);
  assert.throws(() => new optim.SGD([a], { lr: 0.1, nesterov: true }), /nesterov momentum requires momentum > 0 and dampening = 0/);
  assert.throws(() => new optim.Adam([a], { betas: [0.9, 1.0] }), /Adam: invalid beta parameter at index 1: 1/);
  assert.throws(() => new optim.AdamW([], {}), /AdamW: got an empty parameter list/);
  assert.throws(() => new optim.SGD(a, { lr: 0.1 }), /got a single Tensor/);
  assert.throws(() => new optim.SGD([a.mul(2)], { lr: 0.1 }), /params\[0\] is not a leaf tensor/);
  const opt = new optim.SGD([a], { lr: 0.1 });
  assert.throws(() => opt.loadStateDict({ state: {}, param_groups: [] }), /loaded state dict has 0 parameter groups, the optimizer has 1/);
  assert.throws(() => opt.loadStateDict({ state: {}, param_groups: [{ params: [0, 1], lr: 0.1 }] }), /param_groups\[0\] has 2 parameters, the optimizer's group has 1/);
});
