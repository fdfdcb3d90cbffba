import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as torch from '../src/index.js';

const { optim } = torch;
type Opt = torch.optim.Optimizer;
type Sched = torch.optim.Scheduler & { step(metric?: number): void };

interface SchedCase {
  name: string;
  lrs: number[][];
  state_dict_step12: Record<string, unknown>;
  metrics: number[] | null;
}
const fx = JSON.parse(readFileSync(new URL('../../test/fixtures/optim.json', import.meta.url), 'utf8')) as {
  schedulers: SchedCase[];
  poly: { max_epochs: number; exponent: number; lrs: number[][] };
};

function optimizer(): Opt {
  const p = torch.keep(torch.zeros([1], { requiresGrad: true }));
  const q = torch.keep(torch.zeros([1], { requiresGrad: true }));
  return new optim.SGD([{ params: [p] }, { params: [q], lr: 0.02 }], { lr: 0.1, momentum: 0.9 });
}

const makers: Record<string, (o: Opt) => Sched> = {
  LambdaLR: (o) => new optim.LambdaLR(o, [(e) => 0.95 ** e, (e) => 1 / (e + 1)]),
  MultiplicativeLR: (o) => new optim.MultiplicativeLR(o, () => 0.9),
  StepLR: (o) => new optim.StepLR(o, 4, { gamma: 0.5 }),
  MultiStepLR: (o) => new optim.MultiStepLR(o, [3, 7, 7, 15], { gamma: 0.3 }),
  ConstantLR: (o) => new optim.ConstantLR(o, { factor: 0.5, totalIters: 4 }),
  LinearLR: (o) => new optim.LinearLR(o, { startFactor: 0.1, endFactor: 1.0, totalIters: 6 }),
  ExponentialLR: (o) => new optim.ExponentialLR(o, 0.9),
  PolynomialLR: (o) => new optim.PolynomialLR(o, { totalIters: 20, power: 0.9 }),
  CosineAnnealingLR: (o) => new optim.CosineAnnealingLR(o, 10, { etaMin: 0.001 }),
  CosineAnnealingWarmRestarts: (o) => new optim.CosineAnnealingWarmRestarts(o, 5, { tMult: 2, etaMin: 0 }),
  SequentialLR_warmup_cosine: (o) => new optim.SequentialLR(o, [new optim.LinearLR(o, { startFactor: 0.1, totalIters: 5 }), new optim.CosineAnnealingLR(o, 20)], [5]),
  SequentialLR_constant_exponential: (o) => new optim.SequentialLR(o, [new optim.ConstantLR(o, { factor: 0.25, totalIters: 2 }), new optim.ExponentialLR(o, 0.8)], [3]),
  ChainedScheduler: (o) => new optim.ChainedScheduler([new optim.ConstantLR(o, { factor: 0.1, totalIters: 2 }), new optim.ExponentialLR(o, 0.9)]),
  ReduceLROnPlateau: (o) => new optim.ReduceLROnPlateau(o, { mode: 'min', factor: 0.5, patience: 2, cooldown: 1, minLr: [0, 0.004] }) as Sched,
};

function close(a: number, e: number, what: string): void {
  assert.ok(Math.abs(a - e) <= 1e-12 + 1e-10 * Math.abs(e), `${what}: got ${a}, expected ${e}`);
}

function closeDeep(actual: unknown, expected: unknown, what: string): void {
  if (expected === 'inf') return assert.equal(actual, Infinity, what);
  if (typeof expected === 'number') {
    assert.equal(typeof actual, 'number', `${what} is a number`);
    return close(actual as number, expected, what);
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${what} is an array`);
    assert.equal((actual as unknown[]).length, expected.length, `${what} length`);
    expected.forEach((e, i) => closeDeep((actual as unknown[])[i], e, `${what}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    assert.ok(actual !== null && typeof actual === 'object', `${what} is an object`);
    const keys = Object.keys(expected).filter((k) => k !== 'verbose' && k !== 'lr_lambdas' && k !== '_get_lr_called_within_step');
    assert.deepEqual(Object.keys(actual as object).filter((k) => k !== 'lr_lambdas').sort(), keys.sort(), `${what} keys`);
    for (const k of keys) closeDeep((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], `${what}.${k}`);
    return;
  }
  assert.equal(actual, expected, what);
}

function advance(o: Opt, s: Sched, c: SchedCase, i: number): void {
  o.step();
  if (c.metrics) s.step(c.metrics[i]);
  else s.step();
}

for (const c of fx.schedulers) {
  test(`${c.name}: learning rates match PyTorch at every step, and state restores mid-way`, () => {
    const o = optimizer();
    const s = makers[c.name](o);
    c.lrs[0].forEach((e, g) => close(s.getLastLr()[g], e, `${c.name} initial lr[${g}]`));
    let saved: { sched: Record<string, unknown>; opt: torch.optim.OptimizerStateDict } | undefined;
    for (let i = 0; i < c.lrs.length - 1; i++) {
      advance(o, s, c, i);
      c.lrs[i + 1].forEach((e, g) => {
        close(o.paramGroups[g].lr, e, `${c.name} group ${g} lr after step ${i + 1}`);
        close(s.getLastLr()[g], e, `${c.name} getLastLr()[${g}] after step ${i + 1}`);
      });
      if (i === 11) {
        closeDeep(s.stateDict(), c.state_dict_step12, `${c.name} stateDict`);
        saved = { sched: JSON.parse(JSON.stringify(s.stateDict(), (_, v) => (v === Infinity ? 'Infinity' : v)), (_, v) => (v === 'Infinity' ? Infinity : v)), opt: o.stateDict() };
      }
    }
    // Resume from the step-12 state: a fresh optimizer and scheduler continue identically.
    const o2 = optimizer();
    const s2 = makers[c.name](o2);
    o2.loadStateDict(saved!.opt);
    s2.loadStateDict(saved!.sched);
    for (let i = 12; i < c.lrs.length - 1; i++) {
      advance(o2, s2, c, i);
      c.lrs[i + 1].forEach((e, g) => close(o2.paramGroups[g].lr, e, `${c.name} resumed group ${g} lr after step ${i + 1}`));
    }
    o.dispose();
    o2.dispose();
  });
}

test("PolyLR follows nnU-Net's formula base·(1 − epoch/maxEpochs)^0.9 and stays at 0 afterwards", () => {
  const o = optimizer();
  const s = new optim.PolyLR(o, fx.poly.max_epochs);
  fx.poly.lrs.forEach((expected, e) => {
    if (e > 0) s.step();
    expected.forEach((v, g) => close(o.paramGroups[g].lr, v, `epoch ${e} group ${g}`));
  });
  s.step();
  assert.deepEqual(s.getLastLr(), [0, 0]);
  const sd = s.stateDict();
  assert.equal(sd.max_epochs, 20);
  assert.equal(sd.exponent, 0.9);
  assert.equal(sd.last_epoch, 21);
});

test('a scheduler records initialLr in the groups and stateDict shows it as initial_lr', () => {
  const o = optimizer();
  new optim.StepLR(o, 2);
  assert.equal(o.paramGroups[0].initialLr, 0.1);
  assert.equal(o.stateDict().param_groups[1].initial_lr, 0.02);
  assert.throws(() => new optim.StepLR(optimizer(), 2, { lastEpoch: 5 }), /paramGroups\[0\] has no initialLr, needed to resume at lastEpoch=5/);
  assert.throws(() => new optim.StepLR(o, 0), /stepSize must be a positive integer, got 0/);
  assert.throws(() => new optim.LambdaLR(o, [() => 1]), /expected 2 lrLambdas \(one per group\), got 1/);
  assert.throws(() => new optim.SequentialLR(o, [new optim.StepLR(o, 2)], [3]), /expected 0 milestones for 1 schedulers, got 1/);
  assert.throws(() => new optim.StepLR({} as Opt, 2), /StepLR: expected an Optimizer/);
});
