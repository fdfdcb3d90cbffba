// Experiment config: defaults, protocol presets, overrides, and errors that
// name the key and the allowed values.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadExperiment, parseOverrides, registerProtocol, resolveExperiment } from '../src/config/experiment.js';
import { ConfigError } from '../src/config/schema.js';

test('a minimal config gets documented defaults', () => {
  const e = resolveExperiment({ data: { dataset: '/data/acdc' } });
  assert.equal(e.optimizer.name, 'sgd');
  assert.equal(e.optimizer.lr, 0.01);
  assert.equal(e.schedule.name, 'poly');
  assert.deepEqual(e.data.patchSize, [256, 256]);
  assert.equal(e.output, path.join('runs', 'experiment'));
  assert.deepEqual(e.network, { name: 'unet2d' });
});

test('every problem is reported by key, with the allowed values', () => {
  try {
    resolveExperiment({ data: { dataset: 'x', batchSize: 0, dims: '4d' }, optimizer: { name: 'sgdd' }, trainig: {} });
    assert.fail('expected a ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    const msg = (e as Error).message;
    assert.match(msg, /trainig: unknown key \(allowed: name, protocol, seed, output, device, data, network, loss, optimizer, schedule, training, validation, method\)/);
    assert.match(msg, /optimizer\.name: 'sgdd' is not one of sgd, adam, adamw/);
    assert.match(msg, /data\.batchSize: 0 is below the minimum 1/);
    assert.match(msg, /data\.dims: '4d' is not one of 2d, 3d/);
  }
  assert.throws(() => resolveExperiment({}), /data\.dataset: required \(string/);
  assert.throws(() => resolveExperiment({ data: { dataset: 'x', dims: '3d' } }), /data\.patchSize: 3d training needs 3 sizes, got \[256, 256\]/);
});

test('protocol presets sit under the config, and overrides on top of both', () => {
  registerProtocol('test-proto', { optimizer: { lr: 0.05 }, training: { iterations: 300 }, data: { batchSize: 12 } });
  const e = resolveExperiment({ protocol: 'test-proto', data: { dataset: 'd', batchSize: 6 } }, parseOverrides(['training.iterations=50', 'data.patchSize=[128, 128]']));
  assert.equal(e.optimizer.lr, 0.05);
  assert.equal(e.data.batchSize, 6, 'the config wins over the preset');
  assert.equal(e.training.iterations, 50, 'the override wins over both');
  assert.deepEqual(e.data.patchSize, [128, 128]);
  assert.throws(() => resolveExperiment({ protocol: 'nope', data: { dataset: 'd' } }), /protocol: 'nope' is not one of .*test-proto/);
  assert.throws(() => parseOverrides(['iterations']), /expected key=value/);
  // Another loss or method under a protocol does not inherit the preset's parameters for it; the same one does.
  registerProtocol('test-proto-loss', { loss: { name: 'dice_ce', preset: 'bcp_acdc' }, method: { name: 'bcp', pretrainIterations: 10 } });
  const other = resolveExperiment({ protocol: 'test-proto-loss', data: { dataset: 'd' }, loss: { name: 'partial_dice_ce' }, method: { name: 'supervised' } });
  assert.deepEqual(other.loss, { name: 'partial_dice_ce' });
  assert.deepEqual(other.method, { name: 'supervised' });
  const same = resolveExperiment({ protocol: 'test-proto-loss', data: { dataset: 'd' }, loss: { name: 'dice_ce' } });
  assert.equal((same.loss as Record<string, unknown>).preset, 'bcp_acdc');
});

test('YAML files load with paths relative to the file, and parse errors name the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-cfg-'));
  const f = path.join(dir, 'exp.yaml');
  fs.writeFileSync(f, 'name: acdc\ndata:\n  dataset: ../data/acdc\n  batchSize: 8\noptimizer:\n  lr: 0.001\n');
  const e = loadExperiment(f, ['seed=3']);
  assert.equal(e.data.dataset, path.resolve(dir, '../data/acdc'));
  assert.equal(e.seed, 3);
  fs.writeFileSync(f, 'data: [unclosed\n');
  assert.throws(() => loadExperiment(f), new RegExp(`config ${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not valid YAML/JSON`));
  fs.writeFileSync(f, 'data:\n  dataset: x\noptimizer:\n  lr: fast\n');
  assert.throws(() => loadExperiment(f), /exp\.yaml: invalid config:\n {2}optimizer\.lr: expected a number, got 'fast'/);
});
