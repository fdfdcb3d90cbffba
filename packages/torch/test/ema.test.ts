// Weight EMA for mean teachers: arithmetic against hand-computed values,
// SSL4MIS's warm-up, buffer modes, in-place updates and mismatch errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../src/index.js';
import { ModelEma, emaUpdate, nn, type Tensor } from '../src/index.js';

function setLinear(m: nn.Linear, w: number[][], b: number[]): void {
  torch.tidy(() => m.loadStateDict({ weight: torch.tensor(w, { dtype: 'float32' }), bias: torch.tensor(b, { dtype: 'float32' }) }));
}

function assertValues(t: Tensor, expected: number[], what: string, tol = 1e-6): void {
  const v = Array.from(t.toTypedArray() as Float32Array);
  assert.equal(v.length, expected.length, what);
  v.forEach((x, i) => assert.ok(Math.abs(x - expected[i]) <= tol, `${what}[${i}]: ${x} vs ${expected[i]}`));
}

test('emaUpdate: teacher = decay·teacher + (1−decay)·student, in place', () => {
  const teacher = new nn.Linear(2, 2);
  const student = new nn.Linear(2, 2);
  setLinear(teacher, [[1, 2], [3, 4]], [0, -1]);
  setLinear(student, [[5, 6], [7, 8]], [1, 1]);
  const w = teacher.weight;
  const alias = torch.tidy(() => torch.keep(teacher.weight.detach()));
  emaUpdate(teacher, student, 0.9);
  assert.equal(teacher.weight, w);
  assert.ok(alias.sharesStorageWith(teacher.weight), 'updated in place');
  assertValues(teacher.weight, [1.4, 2.4, 3.4, 4.4], 'weight');
  assertValues(teacher.bias!, [0.1, -0.8], 'bias');
  assertValues(student.weight, [5, 6, 7, 8], 'student untouched');
  assert.equal(teacher.weight.gradFn, null, 'no autograd history');
  emaUpdate(teacher, student, 1);
  assertValues(teacher.weight, [1.4, 2.4, 3.4, 4.4], 'decay 1 keeps the teacher');
  emaUpdate(teacher, student, 0);
  assertValues(teacher.weight, [5, 6, 7, 8], 'decay 0 copies the student');
  assert.throws(() => emaUpdate(teacher, student, 1.5), /decay must be in \[0, 1\], got 1.5/);
  alias.dispose();
  teacher.dispose();
  student.dispose();
});

test('buffers: copied by default, averaged with "ema" (integers copied), left alone with "none"', () => {
  const make = (): nn.BatchNorm1d => new nn.BatchNorm1d(2);
  const student = make();
  torch.tidy(() => student.loadStateDict({
    weight: torch.tensor([1, 1], { dtype: 'float32' }),
    bias: torch.tensor([0, 0], { dtype: 'float32' }),
    running_mean: torch.tensor([10, 20], { dtype: 'float32' }),
    running_var: torch.tensor([3, 5], { dtype: 'float32' }),
    num_batches_tracked: torch.tensor(4),
  }));
  const copy = make();
  emaUpdate(copy, student, 0.5);
  assertValues(copy.runningMean!, [10, 20], 'copy: running_mean');
  assert.equal(copy.numBatchesTracked!.item(), 4);

  const avg = make();
  emaUpdate(avg, student, 0.5, { buffers: 'ema' });
  assertValues(avg.runningMean!, [5, 10], 'ema: running_mean');
  assertValues(avg.runningVar!, [2, 3], 'ema: running_var');
  assert.equal(avg.numBatchesTracked!.item(), 4, 'ema: integer buffer copied');

  const none = make();
  emaUpdate(none, student, 0.5, { buffers: 'none' });
  assertValues(none.runningMean!, [0, 0], 'none: running_mean');
  assert.equal(none.numBatchesTracked!.item(), 0);
  for (const m of [student, copy, avg, none]) m.dispose();
});

test('ModelEma warm-up: decay min(1 − 1/(step+1), decay), so early teachers average the students', () => {
  const student = new nn.Linear(1, 1);
  const teacher = new nn.Linear(1, 1);
  setLinear(teacher, [[100]], [100]);
  const ema = new ModelEma(teacher, student, { decay: 0.99, copyInitial: false });
  assert.equal(teacher.weight.requiresGrad, false, 'the teacher is frozen');
  assertValues(teacher.weight, [100], 'no initial copy when copyInitial is false');
  const seen: number[] = [];
  const students = [2, 4, 9];
  for (const v of students) {
    setLinear(student, [[v]], [-v]);
    seen.push(ema.update());
  }
  assert.deepEqual(seen, [0, 0.5, 1 - 1 / 3]);
  assert.equal(ema.step, 3);
  // With these decays the teacher is the running mean of the students it saw.
  assertValues(teacher.weight, [5], 'weight', 1e-5);
  assertValues(teacher.bias!, [-5], 'bias', 1e-5);
  ema.step = 99;
  assert.equal(ema.currentDecay, 0.99);
  ema.step = 50;
  assert.equal(ema.currentDecay, 1 - 1 / 51);
  student.dispose();
  teacher.dispose();
});

test('ModelEma without warm-up uses the fixed decay and copies the student first', () => {
  const student = new nn.Linear(1, 1);
  const teacher = new nn.Linear(1, 1);
  setLinear(student, [[2]], [0]);
  const ema = new ModelEma(teacher, student, { decay: 0.75, warmup: false });
  assertValues(teacher.weight, [2], 'copied at construction');
  setLinear(student, [[6]], [4]);
  assert.equal(ema.update(), 0.75);
  assertValues(teacher.weight, [3], 'weight');
  assertValues(teacher.bias!, [1], 'bias');
  assert.equal(ema.update(), 0.75);
  assertValues(teacher.weight, [3.75], 'weight after two updates');
  student.dispose();
  teacher.dispose();
});

test('a mean teacher through training steps: teacher tracks, student trains', () => {
  torch.manualSeed(4);
  const student = new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4), new nn.ReLU(), new nn.Linear(4, 1));
  const teacher = new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4), new nn.ReLU(), new nn.Linear(4, 1));
  const ema = new ModelEma(teacher, student, { decay: 0.9 });
  for (let i = 0; i < 3; i++) {
    torch.tidy(() => {
      student.zeroGrad();
      student.forward(torch.randn([8, 3])).pow(2).mean().backward();
      torch.noGrad(() => {
        for (const p of student.parameters()) p.sub_(p.grad!.mul(0.1));
      });
    });
    ema.update();
  }
  assert.ok(teacher.parameters().every((p) => p.grad === null), 'no gradients reach the teacher');
  assert.deepEqual(teacher.getBuffer('1.running_mean').tolist(), student.getBuffer('1.running_mean').tolist(), 'statistics copied');
  student.dispose();
  teacher.dispose();
});

test('mismatched teacher and student are reported by parameter name and shape', () => {
  const a = new nn.Sequential(new nn.Linear(2, 3));
  const b = new nn.Sequential(new nn.Linear(2, 4));
  const c = new nn.Sequential(new nn.Linear(2, 3, { bias: false }));
  assert.throws(() => emaUpdate(a, b, 0.9), /parameter '0.weight' has shape \[3, 2\] in the teacher but \[4, 2\] in the student/);
  assert.throws(() => new ModelEma(a, c), /teacher has 2 parameters and student 1 \(only in teacher: \[0.bias\]; only in student: \[\]\)/);
  for (const m of [a, b, c]) m.dispose();
});
