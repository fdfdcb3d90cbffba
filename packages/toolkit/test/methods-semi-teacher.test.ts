// Teachers and schedules of the semi-supervised recipes: EMA arithmetic
// (BCP's constant decay, SSL4MIS's warm-up, buffer handling), ramps, the mean
// teacher's loss, dual-teacher fusion and snapshots, exact resume of a BCP
// run with extensions, and the registered methods and protocols.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as torch from '@labelwise/torch';
import { type Tensor } from '@labelwise/torch';
import { DiceCELoss } from '../src/losses/index.js';
import { type MethodSession, getMethod, listMethods } from '../src/methods/index.js';
import { StaticTeacher, combineTeachers, dualTeacherParams } from '../src/methods/semi/dual-teacher.js';
import { cosineRampdown, linearRampup, rampedWeight, sigmoidRampup } from '../src/methods/semi/ramps.js';
import { EmaTeacher } from '../src/methods/semi/teacher.js';
import { listProtocols, resolveExperiment } from '../src/config/experiment.js';
import { Trainer } from '../src/training/trainer.js';
import { tinyNet } from './methods-semi-synthetic.js';

torch.setNumThreads(1);

const close = (a: number, b: number, tol = 1e-6, what = ''): void => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

function flatParams(m: torch.nn.Module): Float32Array[] {
  return m.parameters().map((p) => p.detach().toTypedArray() as Float32Array);
}

/** A conv + batch norm net, so buffers exist. */
function bnNet(seed: number): torch.nn.Module {
  const g = new torch.Generator(seed);
  const net = new torch.nn.Sequential(new torch.nn.Conv2d(1, 3, 3, { padding: 1 }), new torch.nn.BatchNorm2d(3), new torch.nn.ReLU(), new torch.nn.Conv2d(3, 2, 1));
  for (const p of net.parameters()) torch.noGrad(() => { torch.nn.init.uniform_(p, { a: -1, b: 1, generator: g }); });
  return net;
}

describe('EMA teacher', () => {
  test('starts as the student, frozen; BCP update: θ_t ← 0.99·θ_t + 0.01·θ_s with buffers averaged too', () => {
    const student = bnNet(1);
    const teacher = new EmaTeacher(student, () => bnNet(2), { decay: 0.99, warmup: false, buffers: 'ema', mode: 'train' });
    assert.deepEqual(flatParams(teacher.model), flatParams(student));
    assert.ok(teacher.model.parameters().every((p) => !p.requiresGrad));
    // Move the student and its batch-norm statistics.
    torch.noGrad(() => { for (const p of student.parameters()) p.add_(1); });
    student.train();
    student.forward(torch.randn([4, 1, 6, 6], { generator: new torch.Generator(3) }));
    const before = flatParams(teacher.model);
    const tMean = (teacher.model.getBuffer('1.running_mean').toTypedArray() as Float32Array).slice();
    const sMean = student.getBuffer('1.running_mean').toTypedArray() as Float32Array;
    const s = flatParams(student);
    assert.equal(teacher.update(7), 0.99);
    flatParams(teacher.model).forEach((after, k) => after.forEach((v, i) => close(v, Math.fround(0.99 * before[k][i] + 0.01 * s[k][i]), 1e-6, `param ${k}[${i}]`)));
    (teacher.model.getBuffer('1.running_mean').toTypedArray() as Float32Array).forEach((v, i) => close(v, 0.99 * tMean[i] + 0.01 * sMean[i], 1e-6, `running_mean[${i}]`));
  });

  test("SSL4MIS warm-up: decay min(1 − 1/(t+1), α), parameters only (the teacher's own statistics stay)", () => {
    const student = bnNet(4);
    const teacher = new EmaTeacher(student, () => bnNet(5), { decay: 0.99, warmup: true, buffers: 'none', mode: 'train' });
    assert.deepEqual([0, 1, 9, 98, 99, 5000].map((t) => teacher.decayAt(t)), [0, 0.5, 0.9, 1 - 1 / 99, 0.99, 0.99]);
    torch.noGrad(() => { for (const p of student.parameters()) p.mul_(-1); });
    student.forward(torch.randn([4, 1, 6, 6]));
    const tMean = (teacher.model.getBuffer('1.running_mean').toTypedArray() as Float32Array).slice();
    const s = flatParams(student);
    assert.equal(teacher.update(0), 0); // first update copies the student
    assert.deepEqual(flatParams(teacher.model), s);
    assert.deepEqual(teacher.model.getBuffer('1.running_mean').toTypedArray(), tMean);
  });

  test('predictions carry no gradient and leave the teacher in its mode', () => {
    const student = bnNet(6);
    const teacher = new EmaTeacher(student, () => bnNet(6), { decay: 0.99, warmup: false, buffers: 'ema', mode: 'eval' });
    teacher.model.train();
    const y = teacher.predict(torch.randn([2, 1, 6, 6]));
    assert.equal(y.requiresGrad, false);
    assert.equal(teacher.model.training, true);
  });
});

describe('ramps', () => {
  test('SSL4MIS sigmoid ramp-up exp(−5(1 − t/L)²), linear ramp-up, cosine ramp-down', () => {
    close(sigmoidRampup(0, 200), Math.exp(-5));
    close(sigmoidRampup(100, 200), Math.exp(-1.25));
    assert.equal(sigmoidRampup(200, 200), 1);
    assert.equal(sigmoidRampup(500, 200), 1);
    assert.equal(sigmoidRampup(3, 0), 1);
    assert.equal(linearRampup(50, 200), 0.25);
    close(cosineRampdown(50, 100), 0.5);
    // The consistency weight of train_mean_teacher_2D.py at iteration 15000: 0.1 · sigmoid_rampup(100, 200).
    close(rampedWeight(15000, { weight: 0.1, rampup: 200, unit: 150 }), 0.1 * Math.exp(-1.25));
    close(rampedWeight(15149, { weight: 0.1, rampup: 200, unit: 150 }), 0.1 * Math.exp(-1.25));
    assert.throws(() => sigmoidRampup(1, -1), /length must be ≥ 0/);
  });
});

describe('mean teacher', () => {
  test('loss = supervised(labelled part of one pass) + w(t)·MSE(softmax(student_u), softmax(teacher(u + clamp(N(0, 0.1²), ±0.2))))', () => {
    const make = () => tinyNet(2, 3, 8);
    const model = make();
    const loss = new DiceCELoss({ preset: 'ssl4mis' });
    const recipe = getMethod('mean_teacher').build({ model, makeNetwork: make, loss, numClasses: 3, spatialDims: 2, totalSteps: 100, seed: 1, params: {}, phase: 'train' });
    const g = new torch.Generator(2);
    const batch = { image: torch.randn([2, 1, 8, 8], { generator: g }), label: torch.randint(0, 3, [2, 8, 8], { generator: g, dtype: 'uint8' }), uimage: torch.randn([3, 1, 8, 8], { generator: g }) };
    // Move the teacher away from the student so the consistency term is not zero.
    torch.noGrad(() => { for (const p of (recipe.modules().teacher as torch.nn.Module).parameters()) p.mul_(0.5); });
    torch.manualSeed(11);
    const step = 30000;
    const r = recipe.step(batch, { step, totalSteps: 100, lr: 0.01 });
    torch.manualSeed(11);
    const out = model.forward(torch.cat([batch.image, batch.uimage], 0)) as Tensor;
    const sup = loss.forward(out.narrow(0, 0, 2), batch.label.long()).item();
    const noise = torch.randnLike(batch.uimage).mul(0.1).clamp(-0.2, 0.2);
    const t = torch.noGrad(() => (recipe.modules().teacher as torch.nn.Module).forward(batch.uimage.add(noise)) as Tensor);
    const cons = torch.F.softmax(out.narrow(0, 2, 3), 1).sub(torch.F.softmax(t, 1)).square().mean().item();
    assert.ok(cons > 1e-4);
    close(r.loss!.item(), sup + 0.1 * cons, 1e-5, 'loss');
    close(r.logs!.consistency_weight as number, 0.1, 1e-12, 'weight after the ramp-up');
    assert.throws(() => recipe.step({ image: batch.image, label: batch.label }, { step: 0, totalSteps: 100, lr: 0 }), /no 'uimage'/);
  });
});

describe('dual teacher', () => {
  const pd = torch.tensor([0.9, 0.6, 0.1, 0.4]).view([1, 2, 1, 2]); // dynamic says 0, 0
  const ps = torch.tensor([[[[0.7, 0.2]], [[0.3, 0.8]]]]); // static says 0, 1

  test("'agreement' averages and zeroes (or down-weights) voxels where the argmaxes differ", () => {
    const a = combineTeachers(pd, ps, 'agreement');
    assert.deepEqual(Array.from(a.probs.toTypedArray() as Float32Array, (v) => Math.round(v * 1e6) / 1e6), [0.8, 0.4, 0.2, 0.6]);
    assert.deepEqual(Array.from(a.weight!.toTypedArray() as Float32Array), [1, 0]);
    assert.equal(a.agreement, 0.5);
    assert.deepEqual(Array.from(combineTeachers(pd, ps, 'agreement', 0.25).weight!.toTypedArray() as Float32Array), [1, 0.25]);
  });

  test("'confidence' weights each teacher by its max-probability per voxel; 'mean' is the plain average", () => {
    const c = combineTeachers(pd, ps, 'confidence');
    // voxel 2: c_d = 0.6, c_s = 0.8 → p0 = (0.6·0.6 + 0.8·0.2)/1.4
    const p = c.probs.toTypedArray() as Float32Array;
    close(p[0], (0.9 * 0.9 + 0.7 * 0.7) / 1.6, 1e-6, 'voxel 1');
    close(p[1], (0.6 * 0.6 + 0.8 * 0.2) / 1.4, 1e-6, 'voxel 2');
    assert.equal(c.weight, null);
    const m = combineTeachers(pd, ps, 'mean').probs.toTypedArray() as Float32Array;
    close(m[1], 0.4, 1e-6, 'mean');
  });

  test('the static teacher is replaced by a snapshot every `period` steps', () => {
    const student = tinyNet(2, 2, 1);
    const dynamic = new EmaTeacher(student, () => tinyNet(2, 2, 2), { decay: 0.5, warmup: false, buffers: 'ema', mode: 'train' });
    const st = new StaticTeacher(dualTeacherParams.check({ period: 3 }, 'method.dualTeacher', []), dynamic, student, () => tinyNet(2, 2, 3));
    const initial = flatParams(st.model);
    assert.deepEqual(initial, flatParams(student));
    const snapshots: number[] = [];
    for (let step = 0; step < 7; step++) {
      torch.noGrad(() => { for (const p of student.parameters()) p.add_(0.1); });
      dynamic.update(step);
      if (st.maybeSnapshot(step)) {
        snapshots.push(step);
        assert.deepEqual(flatParams(st.model), flatParams(dynamic.model));
      } else if (step < 2) {
        assert.deepEqual(flatParams(st.model), initial);
      }
    }
    assert.deepEqual(snapshots, [2, 5]);
  });
});

describe('BCP with extensions on the trainer', () => {
  test('an interrupted run resumes exactly: teachers, static snapshot and the dynamic mask state are checkpointed', async () => {
    const make = () => tinyNet(2, 2, 21);
    const batchAt = (step: number) => torch.tidy(() => {
      const g = new torch.Generator(500 + step);
      const image = torch.randn([2, 1, 16, 16], { generator: g });
      return { image: torch.keep(image), label: torch.keep(image.gt(0.2).squeeze(1).to('uint8')), uimage: torch.keep(torch.randn([2, 1, 16, 16], { generator: g })) };
    });
    const params = { dynamicMask: { mode: 'confidence', confidenceLow: 0.5, confidenceHigh: 0.9 }, dualTeacher: { period: 2, combine: 'agreement' } };
    const run = async (dir: string, stopAt: number | null) => {
      torch.manualSeed(3);
      const model = make();
      const recipe = getMethod('bcp').build({ model, makeNetwork: make, loss: new DiceCELoss(), numClasses: 2, spatialDims: 2, totalSteps: 6, seed: 4, params, phase: 'selftrain' });
      const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
      const controller = new AbortController();
      const trainer = new Trainer({
        runDir: dir, model, recipe, optimizer, totalSteps: 6, plot: false, logEvery: 1, checkpointEvery: 100,
        data: (start) => { let s = start; return { next: () => Promise.resolve(batchAt(s++)), close: () => Promise.resolve() }; },
        describe: { network: { name: 'tiny' } },
        signal: controller.signal,
        onEvent: (e) => { if (e.kind === 'step' && e.step === stopAt) controller.abort(); },
      });
      await trainer.run({ resume: true });
      const mods = recipe.modules();
      return { student: flatParams(model), teacher: flatParams(mods.teacher), static: flatParams(mods.static_teacher), state: recipe.state!() };
    };
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'semi-resume-'));
    try {
      const whole = await run(path.join(root, 'whole'), null);
      const cut = path.join(root, 'cut');
      const first = await run(cut, 3);
      assert.notDeepEqual(first.student, whole.student);
      const resumed = await run(cut, null);
      assert.deepEqual(resumed.student, whole.student);
      assert.deepEqual(resumed.teacher, whole.teacher);
      assert.deepEqual(resumed.static, whole.static);
      assert.deepEqual(resumed.state, whole.state);
      assert.equal(typeof whole.state.maskConfidence, 'number');
      const log = fs.readFileSync(path.join(root, 'whole', 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const last = log.filter((l) => l.kind === 'train').at(-1);
      for (const k of ['mix_0', 'mix_1', 'mask_fraction', 'mask_progress', 'pseudo_fg', 'teacher_agreement', 'teacher_confidence']) assert.ok(Number.isFinite(last[k]), `log has ${k}`);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('registered methods and protocols', () => {
  test('mean_teacher, bcp and bcp_hsu_hua consume labelled and unlabelled streams; BCP runs pre-training then self-training', async () => {
    const names = listMethods().map((m) => m.name);
    for (const n of ['mean_teacher', 'bcp', 'bcp_hsu_hua']) assert.ok(names.includes(n), n);
    assert.deepEqual(getMethod('bcp').streams, ['labelled', 'unlabelled']);
    // BCP's program, run over a session that only records what it is asked to train.
    const phasesOf = async (params: Record<string, unknown>, iterations: number) => {
      const calls: { phase: string; steps: number }[] = [];
      const session = {
        exp: { seed: 1, training: { iterations } }, methodParams: params,
        train: (p: { phase: string; steps: number }) => { calls.push({ phase: p.phase, steps: p.steps }); return Promise.resolve({}); },
      } as unknown as MethodSession;
      await getMethod('bcp').run!(session);
      return calls;
    };
    assert.deepEqual(await phasesOf({ pretrainIterations: 10000 }, 30000), [{ phase: 'pretrain', steps: 10000 }, { phase: 'selftrain', steps: 30000 }]);
    assert.deepEqual(await phasesOf({ pretrainIterations: 0 }, 300), [{ phase: 'selftrain', steps: 300 }]);
    assert.deepEqual(await phasesOf({}, 300), [{ phase: 'pretrain', steps: 100 }, { phase: 'selftrain', steps: 300 }]);
    await assert.rejects(() => phasesOf({ pretrainIterations: -1 }, 300), /method\.pretrainIterations: -1 is below the minimum 0/);
  });

  test('bcp-acdc / bcp-la fill in the published hyperparameters under the user config, selecting on the validation split', () => {
    for (const p of ['bcp-acdc', 'bcp-la', 'hsu-hua-acdc', 'hsu-hua-la']) assert.ok(listProtocols().includes(p), p);
    const acdc = resolveExperiment({ protocol: 'bcp-acdc', data: { dataset: '/data/acdc', labelled: 3 } });
    assert.deepEqual([acdc.data.batchSize, acdc.data.unlabelledBatchSize, acdc.data.labelled, acdc.data.patchSize], [12, 12, 3, [256, 256]]);
    assert.deepEqual([acdc.optimizer.name, acdc.optimizer.lr, acdc.optimizer.momentum, acdc.optimizer.weightDecay, acdc.schedule.name], ['sgd', 0.01, 0.9, 1e-4, 'constant']);
    assert.deepEqual([acdc.training.iterations, acdc.method.name, acdc.method.pretrainIterations, acdc.network.name, acdc.validation.split], [30000, 'bcp', 10000, 'unet2d', 'val']);
    const la = resolveExperiment({ protocol: 'bcp-la', data: { dataset: '/data/la' } });
    assert.deepEqual([la.data.dims, la.data.patchSize, la.data.batchSize, la.data.unlabelledBatchSize, la.data.labelled], ['3d', [80, 112, 112], 4, 4, 8]);
    assert.deepEqual([la.schedule.name, la.schedule.stepSize, la.schedule.gamma, la.training.iterations, la.method.pretrainIterations, la.validation.mode], ['step', 2500, 0.1, 15000, 2000, 'sliding3d']);
    assert.equal(resolveExperiment({ protocol: 'hsu-hua-acdc', data: { dataset: '/x' } }).method.name, 'bcp_hsu_hua');
  });
});
