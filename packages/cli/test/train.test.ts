// `labelwise train`: usage errors exit 2 naming the key; a tiny real run on
// the bundled NPC sample writes a complete run folder; --resume continues it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { runCli } from './run-cli.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../../..');
const config = path.join(repo, 'examples', 'npc-t2wi.yaml');

test('usage errors exit 2 and name the problem', async () => {
  let r = await runCli(['train']);
  assert.equal(r.code, 2);
  assert.match(r.err, /give an experiment config \(-c FILE\) or a --protocol/);
  r = await runCli(['train', '-c', '/nonexistent/exp.yaml']);
  assert.equal(r.code, 2);
  assert.match(r.err, /config \/nonexistent\/exp\.yaml: cannot read/);
  r = await runCli(['train', '-c', config, '--set', 'optimizer.name=rmsprop', '--set', 'training.iteratons=3']);
  assert.equal(r.code, 2);
  assert.match(r.err, /optimizer\.name: 'rmsprop' is not one of sgd, adam, adamw/);
  assert.match(r.err, /training\.iteratons: unknown key \(allowed: iterations, validateEvery/);
  r = await runCli(['train', '-c', config, '--labelled', 'three']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--labelled: expected a non-negative integer, got 'three'/);
  r = await runCli(['train', '-c', config, '--method', 'bcp', '--set', 'method.emaDeacy=0.9', '--set', 'network.featureChanels=[4,8]', '--set', 'loss.name=dice_cee']);
  assert.equal(r.code, 2, 'method, network and loss parameters are usage errors, found before any data is read');
  assert.match(r.err, /method\.emaDeacy: unknown key/);
  assert.match(r.err, /network\.featureChanels: unknown key/);
  assert.match(r.err, /loss\.name: "dice_cee" is not one of/);
  r = await runCli(['train', '--protocol', 'no-such-protocol']);
  assert.equal(r.code, 2);
  assert.match(r.err, /protocol: 'no-such-protocol' is not one of/);
});

test('a tiny run on the bundled sample writes the run folder, and --resume extends nothing once complete', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-cli-train-'));
  const args = ['train', '-c', config, '--output', out, '--iterations', '3', '--no-progress',
    '--set', 'data.patchSize=[64, 64]', '--set', 'data.batchSize=2', '--set', 'data.workers=0', '--set', 'training.validateEvery=3'];
  const r = await runCli(args);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /best validation dice: [0-9.]+ at step 3/);
  for (const f of ['config.json', 'data_plan.json', 'log.jsonl', 'curves.png', 'curves.svg', 'checkpoints/best/model.safetensors', 'checkpoints/last/checkpoint.json', 'test/labelwise/summary.json', 'test/labelwise/per_case.csv', 'test/labelwise/per_case_dice.png', 'test/labelwise/per_case_dice.svg', 'test_results.json']) {
    assert.ok(fs.existsSync(path.join(out, f)), `${f} exists`);
  }
  const plan = JSON.parse(fs.readFileSync(path.join(out, 'data_plan.json'), 'utf8')) as { splits: Record<string, string[]> };
  assert.deepEqual([plan.splits.train.length, plan.splits.val.length, plan.splits.test.length], [15, 5, 5], '60/20/20 of 25 slices');
  const meta = JSON.parse(fs.readFileSync(path.join(out, 'checkpoints/last/checkpoint.json'), 'utf8')) as { step: number; network: { name: string; inChannels: number; numClasses: number } };
  assert.equal(meta.step, 3);
  assert.deepEqual([meta.network.name, meta.network.inChannels, meta.network.numClasses], ['unet2d', 1, 2]);
  const again = await runCli([...args, '--resume']);
  assert.equal(again.code, 0, again.err);
  const steps = fs.readFileSync(path.join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; step: number }).filter((x) => x.kind === 'train').map((x) => x.step);
  assert.deepEqual(steps, [3], 'the resumed complete run adds no steps');
});

test('a phased method (BCP) publishes its final model in the run folder, and labelwise predict -m uses it', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-cli-bcp-'));
  try {
    const r = await runCli(['train', '-c', config, '--output', out, '--method', 'bcp', '--labelled', '5', '--iterations', '2', '--no-progress',
      '--set', 'method.pretrainIterations=2', '--set', 'data.patchSize=[32, 32]', '--set', 'data.batchSize=2', '--set', 'data.unlabelledBatchSize=2',
      '--set', 'data.workers=0', '--set', 'training.validateEvery=1']);
    assert.equal(r.code, 0, r.err);
    for (const f of ['1-pretrain/log.jsonl', '2-selftrain/curves.png', '2-selftrain/curves.svg', 'checkpoints/best/model.safetensors', 'checkpoints/last/checkpoint.json', 'program.json', 'test/labelwise/summary.json', 'test/predictions']) {
      assert.ok(fs.existsSync(path.join(out, f)), `${f} exists`);
    }
    const images = path.join(repo, 'examples', 'data', 'npc-t2wi', 'images');
    const p = await runCli(['predict', '-m', out, '-i', path.join(images, fs.readdirSync(images).sort()[0]), '-o', path.join(out, 'pred')]);
    assert.equal(p.code, 0, p.err);
    assert.equal(fs.readdirSync(path.join(out, 'pred')).filter((f) => f.endsWith('.nii.gz')).length, 1);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
