// The training log's resume behaviour: the log window survives a checkpoint
// round trip (JSON) exactly, and reopening at a step drops what a killed run
// wrote after it, torn last line included.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { LogWindow, TrainingLog, readLog } from '../src/training/log.js';

test('a log window restored from its JSON state gives the same means as one never interrupted', () => {
  const steps: Record<string, number>[] = [{ loss: 0.1 + 0.2, dice: 0.7 }, { loss: 1 / 3, dice: NaN }, { loss: 2 ** -30, dice: Infinity }, { loss: 0.7 }];
  const whole = new LogWindow();
  for (const s of steps) whole.push(s);
  const first = new LogWindow();
  for (const s of steps.slice(0, 3)) first.push(s);
  const resumed = LogWindow.from(JSON.parse(JSON.stringify(first.state())), 'checkpoint.json recipe.logWindow');
  resumed.push(steps[3]);
  assert.equal(resumed.size, 4);
  const m = resumed.means();
  assert.deepEqual(m, whole.means());
  assert.equal(m.loss, (0.1 + 0.2 + 1 / 3 + 2 ** -30 + 0.7) / 4);
  assert.ok(Number.isNaN(m.dice), 'a NaN step makes the mean NaN, as without the round trip');
  resumed.clear();
  assert.equal(resumed.size, 0);
  assert.deepEqual(resumed.means(), {});
  assert.equal(LogWindow.from(undefined).size, 0, 'checkpoints written before the window was saved');
  assert.throws(() => LogWindow.from({ loss: [1, 'x'] }, 'ck/checkpoint.json recipe.logWindow'), /ck\/checkpoint\.json recipe\.logWindow: field 'loss\[1\]' must be a number, got "x"/);
  assert.throws(() => LogWindow.from([1, 2], 'w'), /w: expected an object of number lists/);
});

test('reopening a log at the resume step drops the lines a killed run wrote after it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-log-'));
  try {
    const file = path.join(dir, 'log.jsonl');
    const log = new TrainingLog(file, 0);
    for (const step of [5, 10, 15]) log.write({ step, kind: 'train', loss: step });
    log.write({ step: 10, kind: 'validation', score: 0.5 });
    log.close();
    fs.appendFileSync(file, '{"step":20,"kind":"tra'); // torn by the kill
    const resumed = new TrainingLog(file, 10);
    resumed.write({ step: 15, kind: 'train', loss: 15.5 });
    resumed.close();
    assert.deepEqual(readLog(file).map((r) => [r.step, r.kind, r.loss ?? r.score]), [[5, 'train', 5], [10, 'train', 10], [10, 'validation', 0.5], [15, 'train', 15.5]]);
    assert.deepEqual(fs.readdirSync(dir), ['log.jsonl'], 'the rewrite leaves no temporary file');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
