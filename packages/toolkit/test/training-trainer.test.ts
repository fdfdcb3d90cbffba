// Trainer: kill-and-resume equivalence, atomic checkpoints, logs, cancel.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as torch from '@labelwise/torch';
import { findCheckpoint, loadCheckpoint, readCheckpointMeta } from '../src/checkpoint/checkpoint.js';
import { readLog } from '../src/training/log.js';
import { tinyTrainer } from './trainer-tiny.js';

const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `lw-${name}-`));

function weights(model: torch.nn.Module): number[] {
  return model.parameters().flatMap((p) => Array.from(p.toTypedArray() as Float32Array));
}

test('a run killed mid-way and resumed ends with the same weights as an uninterrupted run', async () => {
  const total = 12;
  const whole = tmp('whole');
  const a = tinyTrainer(whole, total, { validate: async () => ({ metrics: {}, score: 0 }), validateEvery: 1 });
  const ra = await a.trainer.run();
  assert.equal(ra.step, total);
  assert.ok(ra.completed);

  const killed = tmp('killed');
  const script = new URL('./trainer-tiny.js', import.meta.url).pathname;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [script, killed, String(total)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LABELWISE_TINY_TRAINER: '1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/checkpoint 6\n/.test(out)) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child ended with ${code}/${signal} before being killed:\n${out}`))));
  });
  const lastStep = readCheckpointMeta(findCheckpoint(killed, 'last')!).step;
  assert.ok(lastStep >= 6 && lastStep < total, `killed run left a last checkpoint at step ${lastStep}`);

  const b = tinyTrainer(killed, total, { validate: async () => ({ metrics: {}, score: 0 }), validateEvery: 1 });
  const rb = await b.trainer.run({ resume: true });
  assert.equal(rb.step, total);
  assert.deepEqual(weights(b.model), weights(a.model), 'resumed weights equal uninterrupted weights exactly');
  const steps = readLog(path.join(killed, 'log.jsonl')).filter((r) => r.kind === 'train').map((r) => r.step);
  assert.deepEqual(steps, Array.from({ length: total }, (_, i) => i + 1), 'the log has each step once');
});

test('checkpoints are self-describing, load strictly, and detect tampering', async () => {
  const run = tmp('ckpt');
  const { trainer, model } = tinyTrainer(run, 4);
  await trainer.run();
  const dir = findCheckpoint(run, 'last')!;
  const meta = readCheckpointMeta(dir);
  assert.equal(meta.step, 4);
  assert.deepEqual(meta.network, { name: 'tiny' });
  assert.match(meta.codeVersion, /^0\.1\.0/);
  const header = torch.safetensorsHeader(path.join(dir, 'model.safetensors'));
  assert.deepEqual([...header.tensors.keys()].sort(), ['0.bias', '0.weight', '3.bias', '3.weight'], 'PyTorch state-dict names');
  const fresh = tinyTrainer(tmp('fresh'), 4).model;
  loadCheckpoint(dir, { model: fresh }, { restoreRng: false });
  assert.deepEqual(weights(fresh), weights(model));
  const f = path.join(dir, 'model.safetensors');
  const bytes = fs.readFileSync(f);
  bytes[bytes.length - 1] ^= 0xff;
  fs.writeFileSync(f, bytes);
  assert.throws(() => loadCheckpoint(dir, { model: fresh }), /model\.safetensors does not match checkpoint\.json/);
  assert.deepEqual(fs.readdirSync(path.join(run, 'checkpoints')).sort(), ['last'], 'no temporary folders left behind');
});

test('cancelling stops after the current step and leaves a resumable last checkpoint', async () => {
  const run = tmp('cancel');
  const ac = new AbortController();
  const { trainer } = tinyTrainer(run, 10, { onEvent: (e) => { if (e.kind === 'step' && e.step === 3) ac.abort(); }, signal: ac.signal });
  const r = await trainer.run();
  assert.equal(r.completed, false);
  assert.equal(r.step, 3);
  assert.equal(readCheckpointMeta(findCheckpoint(run, 'last')!).step, 3);
  const again = tinyTrainer(run, 10);
  const r2 = await again.trainer.run({ resume: true });
  assert.equal(r2.step, 10);
});

test('resuming with a different step count is refused with the reason', async () => {
  const run = tmp('mismatch');
  await tinyTrainer(run, 4).trainer.run();
  await assert.rejects(tinyTrainer(run, 8).trainer.run({ resume: true }), /written for 4 steps, this run is configured for 8/);
});

test('the run folder gets a JSONL log and a PNG of the curves', async () => {
  const run = tmp('plot');
  const { trainer } = tinyTrainer(run, 6, { validate: async (_m, step) => ({ metrics: { dice_mean: step / 10 }, score: step / 10 }), validateEvery: 3 });
  const r = await trainer.run();
  assert.equal(r.bestStep, 6);
  const log = readLog(path.join(run, 'log.jsonl'));
  assert.deepEqual(log.filter((x) => x.kind === 'validation').map((x) => x.dice_mean), [0.3, 0.6]);
  const png = fs.readFileSync(path.join(run, 'curves.png'));
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG signature');
  assert.ok(png.length > 2000);
  assert.equal(readCheckpointMeta(findCheckpoint(run, 'best')!).step, 6);
});

test('training runs as a job in a worker thread, streams events, and cancels cleanly', async () => {
  const { startJob } = await import('../src/training/job.js');
  const run = tmp('job');
  const steps: number[] = [];
  const job = startJob<{ step: number; completed: boolean }>(
    { module: new URL('./trainer-tiny.js', import.meta.url).href, export: 'tinyTrainingJob', options: { runDir: run, steps: 200, stepDelayMs: 20 } },
    (e) => { const ev = e as { kind: string; step: number }; if (ev.kind === 'step') { steps.push(ev.step); if (ev.step === 3) job.cancel(); } },
  );
  const r = await job.result;
  assert.equal(r.completed, false);
  assert.ok(r.step >= 3 && r.step < 200, `stopped at step ${r.step}`);
  assert.equal(readCheckpointMeta(findCheckpoint(run, 'last')!).step, r.step);
  const bad = startJob({ module: new URL('./trainer-tiny.js', import.meta.url).href, export: 'missing' });
  await assert.rejects(bad.result, /has no function export 'missing'/);
});
