// Recipes with several optimizers (adversarial training) and runs continued
// in rounds: each loss reaches only its own optimizer's parameters, all
// optimizers and schedules are checkpointed, kill-and-resume is bitwise
// exact, and run({ until }) continued later equals one uninterrupted run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as torch from '@labelwise/torch';
import { findCheckpoint, readCheckpointMeta } from '../src/checkpoint/checkpoint.js';
import { tinyAdversarialTrainer, tinyBatch, tinyTrainer } from './trainer-tiny.js';

const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `lw-${name}-`));
const flat = (m: torch.nn.Module) => m.parameters().flatMap((p) => Array.from(p.toTypedArray() as Float32Array));

test('two optimizers: each loss reaches only its own parameters', async () => {
  const run = tmp('adv-grads');
  const { trainer, model, discriminator } = tinyAdversarialTrainer(run, 1, { plot: false });
  // Expected gradients of step 0, from the same losses computed by hand.
  const segParams = model.parameters();
  const discParams = discriminator.parameters();
  torch.manualSeed(123);
  const rng = torch.getRngState();
  const expected = torch.tidy(() => {
    const batch = tinyBatch(0);
    const out = model.forward(batch.image);
    const src = out.narrow(0, 0, 2);
    const tgt = out.narrow(0, 2, 2);
    const bce = (x: torch.Tensor, y: number) => torch.F.binaryCrossEntropyWithLogits(x, torch.fullLike(x, y));
    const seg = torch.F.crossEntropy(src, batch.label.narrow(0, 0, 2)).add(bce(discriminator.forward(torch.F.softmax(tgt, 1)), 1).mul(0.01));
    const disc = bce(discriminator.forward(torch.F.softmax(src.detach(), 1)), 1).add(bce(discriminator.forward(torch.F.softmax(tgt.detach(), 1)), 0));
    const gs = torch.autograd.grad(seg, segParams, { retainGraph: true }).map((g) => torch.keep(g!));
    const gd = torch.autograd.grad(disc, discParams).map((g) => torch.keep(g!));
    return { gs, gd };
  });
  torch.setRngState(rng);
  const before = { seg: segParams.map((p) => torch.keep(p.detach().clone())), disc: discParams.map((p) => torch.keep(p.detach().clone())) };
  await trainer.run();
  // SGD without weight decay, first step (no momentum history): p1 = p0 − lr·g.
  segParams.forEach((p, i) => {
    const g = before.seg[i].sub(p.detach()).div(0.05);
    assert.ok(torch.allclose(g, expected.gs[i], { atol: 1e-5, rtol: 1e-4 }), `segmenter param ${i}: its gradient is the segmenter loss's`);
  });
  // Adam's first step moves each weight by lr·sign(g) (|m̂/√v̂| = 1): the discriminator loss's sign, not the adversarial term's.
  discParams.forEach((p, i) => {
    const moved = before.disc[i].sub(p.detach());
    const sign = expected.gd[i].sign().mul(1e-3);
    const nz = expected.gd[i].abs().gt(1e-4);
    assert.ok(torch.allclose(moved.mul(nz), sign.mul(nz), { atol: 1e-6 }), `discriminator param ${i}: stepped on the discriminator loss only`);
  });
  const meta = readCheckpointMeta(findCheckpoint(run, 'last')!) as unknown as { optimizers?: Record<string, { param_groups: unknown[] }>; modules: string[] };
  assert.deepEqual(Object.keys(meta.optimizers ?? {}), ['discriminator'], 'the second optimizer is in the checkpoint');
  assert.deepEqual(meta.modules, ['discriminator']);
});

test('two optimizers: a run killed mid-way and resumed ends bitwise equal to an uninterrupted one', async () => {
  const total = 10;
  const whole = tmp('adv-whole');
  const a = tinyAdversarialTrainer(whole, total, { plot: false });
  await a.trainer.run();

  const killed = tmp('adv-killed');
  const script = new URL('./trainer-tiny.js', import.meta.url).pathname;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [script, killed, String(total)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LABELWISE_TINY_TRAINER: 'adversarial' } });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/step 5\n/.test(out)) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => { clearTimeout(timer); if (signal === 'SIGKILL') resolve(); else reject(new Error(`child ended with ${code}/${signal} before being killed:\n${out}`)); });
  });
  const at = readCheckpointMeta(findCheckpoint(killed, 'last')!).step;
  assert.ok(at >= 2 && at < total, `killed run left a last checkpoint at step ${at}`);
  const b = tinyAdversarialTrainer(killed, total, { plot: false });
  const r = await b.trainer.run({ resume: true });
  assert.equal(r.step, total);
  assert.deepEqual(flat(b.model), flat(a.model), 'segmenter weights');
  assert.deepEqual(flat(b.discriminator), flat(a.discriminator), 'discriminator weights');
  const bytes = (d: string, f: string) => fs.readFileSync(path.join(findCheckpoint(d, 'last')!, f));
  assert.ok(bytes(killed, 'state.safetensors').equals(bytes(whole, 'state.safetensors')), 'optimizer, schedule and module state are bitwise equal');
});

test('run({ until }) in rounds, continued by later calls, equals one uninterrupted run', async () => {
  const a = tinyTrainer(tmp('whole'), 9, { plot: false });
  await a.trainer.run();
  const dir = tmp('rounds');
  const b = tinyTrainer(dir, 9, { plot: false });
  const r1 = await b.trainer.run({ until: 3 });
  assert.deepEqual([r1.step, r1.completed, r1.cancelled], [3, false, false]);
  assert.equal(readCheckpointMeta(findCheckpoint(dir, 'last')!).step, 3, 'a round ends with a last checkpoint');
  await b.trainer.run({ until: 7 });
  const r3 = await b.trainer.run();
  assert.deepEqual([r3.step, r3.completed], [9, true]);
  assert.deepEqual(flat(b.model), flat(a.model));
  await assert.rejects(() => b.trainer.run({ until: 10 }), /until must be an integer in \[1, 9\]/);
});
