// The preprocessing cache: a real nnU-Net raw dataset (spleen CT) is
// preprocessed into safetensors + JSON sidecars, reused while the inputs and
// the config are unchanged, re-run when either changes, the same in worker
// threads as in-thread, and damaged entries are detected.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as torch from '@labelwise/torch';
import type { Project } from '../src/data/dataset.js';
import { openDataset } from '../src/data/sources/index.js';
import { cachePaths, isCacheValid, loadCachedCase, preprocessDataset, readCacheSidecar } from '../src/transforms/cache.js';
import type { PreprocessConfig } from '../src/transforms/preprocess.js';
import { SAMPLES } from './shared-data.js';

const CT = path.join(SAMPLES, 'ivadomed_testing/ct_scan/sub-spleen2/ct/sub-spleen2_ct.nii.gz');
const SEG = path.join(SAMPLES, 'ivadomed_testing/ct_scan/derivatives/labels/sub-spleen2/ct/sub-spleen2_ct_seg-manual.nii.gz');

let tmp: string;
let project: Project;
/** One cache folder the tests build on in order (each test states what it expects there). */
let dir: string;
const config: PreprocessConfig = {
  spacing: [5, 1.6, 1.6],
  normalization: { scheme: 'ct', mean: 85.6, std: 24.7, lower: -20.6, upper: 134 },
  foregroundLabels: [1],
};

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'labelwise-cache-'));
  const ds = path.join(tmp, 'Dataset900_Spleen');
  fs.mkdirSync(path.join(ds, 'imagesTr'), { recursive: true });
  fs.mkdirSync(path.join(ds, 'labelsTr'), { recursive: true });
  // Case a is a copy (so its mtime can change), case b links to the shared files.
  fs.copyFileSync(CT, path.join(ds, 'imagesTr', 'spleen_a_0000.nii.gz'));
  fs.copyFileSync(SEG, path.join(ds, 'labelsTr', 'spleen_a.nii.gz'));
  fs.symlinkSync(CT, path.join(ds, 'imagesTr', 'spleen_b_0000.nii.gz'));
  fs.symlinkSync(SEG, path.join(ds, 'labelsTr', 'spleen_b.nii.gz'));
  fs.writeFileSync(path.join(ds, 'dataset.json'), JSON.stringify({ channel_names: { 0: 'CT' }, labels: { background: 0, spleen: 1 }, numTraining: 2, file_ending: '.nii.gz' }));
  project = await openDataset(ds);
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('preprocessDataset writes safetensors + sidecars, then reuses them', async () => {
  dir = path.join(tmp, 'cache1');
  const progress: string[] = [];
  const first = await preprocessDataset(project, config, dir, { workers: 0, onProgress: (d, n, id, reused) => progress.push(`${d}/${n} ${id} ${reused}`) });
  assert.equal(first.computed, 2);
  assert.deepEqual(progress, ['1/2 spleen_a false', '2/2 spleen_b false']);
  const files = fs.readdirSync(dir).sort();
  assert.deepEqual(files, ['spleen_a.json', 'spleen_a.safetensors', 'spleen_b.json', 'spleen_b.safetensors'], 'no temporary files left behind');

  const c = loadCachedCase(dir, 'spleen_a');
  try {
    assert.equal(c.image.dtype, 'float32');
    assert.equal(c.label!.dtype, 'int8');
    assert.deepEqual(c.image.shape, [1, ...c.props.shapeAfterResampling]);
    assert.deepEqual(c.props.shapeAfterResampling, [26, 82, 81]);
    assert.equal(c.classLocations.get(1)!.length / 3, c.props.classLocationCounts['1']);
    assert.deepEqual(c.props.originalDims, [164, 166, 26]);
    assert.equal(c.sidecar.caseId, 'spleen_a');
    assert.equal((c.props.meta as Record<string, unknown>).centre, project.centres[0].id);
  } finally {
    torch.dispose([c.image, c.label]);
  }

  const second = await preprocessDataset(project, config, dir, { workers: 0 });
  assert.equal(second.reused, 2);
  assert.equal(second.computed, 0);
});

test('a changed config or a touched input re-runs exactly the affected cases', async () => {
  const changed = await preprocessDataset(project, { ...config, spacing: [5, 2, 2] }, dir, { workers: 0 });
  assert.equal(changed.computed, 2, 'new spacing → both cases again');
  assert.deepEqual(readCacheSidecar(dir, 'spleen_a')!.props.shapeAfterResampling, [26, 66, 65]);
  const later = new Date(Date.now() + 5000);
  fs.utimesSync(path.join(project.root, 'imagesTr', 'spleen_a_0000.nii.gz'), later, later);
  const touched = await preprocessDataset(project, { ...config, spacing: [5, 2, 2] }, dir, { workers: 0 });
  assert.deepEqual(touched.entries.map((e) => [e.caseId, e.reused]), [['spleen_a', false], ['spleen_b', true]]);
});

test('worker threads give the same tensors as the calling thread; damaged entries are detected', async () => {
  // The previous test left valid in-thread entries for spacing [5, 2, 2].
  const cfg = { ...config, spacing: [5, 2, 2] };
  const inThread = dir;
  const inWorkers = path.join(tmp, 'cache2');
  const r = await preprocessDataset(project, cfg, inWorkers, { workers: 2 });
  assert.equal(r.computed, 2);
  assert.deepEqual(r.entries.map((e) => e.caseId), ['spleen_a', 'spleen_b'], 'results in case order');
  for (const id of ['spleen_a', 'spleen_b']) {
    const a = loadCachedCase(inThread, id);
    const b = loadCachedCase(inWorkers, id);
    assert.ok(torch.equal(a.image, b.image) && torch.equal(a.label!, b.label!), id);
    assert.deepEqual([...a.classLocations.get(1)!], [...b.classLocations.get(1)!]);
    torch.dispose([a.image, a.label, b.image, b.label]);
  }

  // A tensor file from another run (key mismatch) invalidates the entry and is re-run.
  const p = cachePaths(inWorkers, 'spleen_b');
  const key = readCacheSidecar(inWorkers, 'spleen_b')!.cacheKey;
  fs.copyFileSync(cachePaths(inWorkers, 'spleen_a').tensors, p.tensors);
  assert.equal(isCacheValid(inWorkers, 'spleen_b', key), false);
  assert.throws(() => loadCachedCase(inWorkers, 'spleen_b'), /does not match its sidecar/);
  const again = await preprocessDataset(project, cfg, inWorkers, { workers: 0 });
  assert.deepEqual(again.entries.map((e) => e.reused), [true, false]);
  fs.writeFileSync(p.tensors, Buffer.from([1, 2, 3]));
  assert.throws(() => loadCachedCase(inWorkers, 'spleen_b'), /spleen_b\.safetensors/);
  assert.throws(() => loadCachedCase(inWorkers, 'nope'), /no valid sidecar .*nope\.json for case 'nope'/);

  // Errors inside a worker name the case and file.
  const broken = { ...config, normalization: { scheme: 'ct' } } as unknown as PreprocessConfig;
  await assert.rejects(preprocessDataset(project, broken, path.join(tmp, 'cache3'), { workers: 1 }), /preprocessing case 'spleen_a' .*spleen_a_0000\.nii\.gz.*mean: expected a finite number/);
});
