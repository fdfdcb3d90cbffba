// Weak supervision end to end on real data: BraTS FLAIR crops with their
// whole-tumour masks as a manifest dataset, annotated by simulated seven
// points (expanded by the geodesic seed expansion into a partial label map
// cached beside the plain entries) and trained with PA-Seg's two stages; the
// weak-label maps themselves; and the SCM distillation loss.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as torch from '@labelwise/torch';
import { readCheckpointMeta } from '../src/checkpoint/checkpoint.js';
import { resolveExperiment } from '../src/config/experiment.js';
import { trainExperiment } from '../src/experiment/experiment.js';
import { readNifti, writeNifti } from '../src/io/nifti.js';
import { Volume } from '../src/io/volume.js';
import '../src/methods/index.js';
import { distillationLoss } from '../src/methods/weak/scm.js';
import { readLog } from '../src/training/log.js';
import { cachePaths, loadCachedCase } from '../src/transforms/cache.js';
import type { AugmentConfig } from '../src/transforms/compose.js';
import { weakLabelMap, type WeakLabelSpec } from '../src/transforms/weak-labels.js';
import { ACDC, sample } from './shared-data.js';

const CASES = [1, 2, 3, 4].map((i) => `brats_2013_pat000${i}_1`);
// Every second voxel (2 mm), then a SIZE³ crop: room for the seven points around a whole tumour.
const SIZE = 56;
let tmp = '';
let manifest = '';
const crops: { image: Volume; label: Volume }[] = [];

/** A SIZE³ crop at 2 mm of a case's FLAIR and whole tumour around the tumour centre. */
function crop(dir: string): { image: Volume; label: Volume } {
  const flair = readNifti(path.join(dir, 'Flair_subtrMeanDivStd.nii.gz'));
  const seg = readNifti(path.join(dir, 'OTMultiClass.nii.gz'));
  return torch.tidy(() => {
    const half = (t: torch.Tensor) => t.slice(-3, 0, null, 2).slice(-2, 0, null, 2).slice(-1, 0, null, 2).contiguous();
    const lab = half(seg.toTensor('float32').squeeze(0)).gt(0).to('uint8');
    const c = lab.nonzero().float().mean(0).round().to('int32').toTypedArray() as Int32Array; // (k, j, i)
    const start = [0, 1, 2].map((a) => Math.min(Math.max(c[a] - SIZE / 2, 0), lab.shape[a] - SIZE));
    const cut = (t: torch.Tensor) => t.narrow(-3, start[0], SIZE).narrow(-2, start[1], SIZE).narrow(-1, start[2], SIZE).contiguous();
    const affine = Float64Array.from(flair.affine);
    for (let r = 0; r < 3; r++) {
      for (let a = 0; a < 3; a++) affine[4 * r + a] *= 2;
      affine[4 * r + 3] += affine[4 * r] * start[2] + affine[4 * r + 1] * start[1] + affine[4 * r + 2] * start[0];
    }
    return { image: Volume.fromTensor(cut(half(flair.toTensor('float32'))), { affine }), label: Volume.fromTensor(cut(lab), { affine }) };
  });
}

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-weak-'));
  const rows = CASES.map((id, i) => {
    const c = crop(sample('brats2015_deepmedic', id));
    crops.push(c);
    writeNifti(path.join(tmp, `${id}_flair.nii.gz`), c.image);
    writeNifti(path.join(tmp, `${id}_wt.nii.gz`), c.label);
    return { case: id, image: `${id}_flair.nii.gz`, label: `${id}_wt.nii.gz`, split: i === 0 ? 'test' : i === 1 ? 'val' : 'train' };
  });
  manifest = path.join(tmp, 'manifest.json');
  fs.writeFileSync(manifest, JSON.stringify({ name: 'brats-wt-mini', labels: { background: 0, tumour: 1 }, channel_names: { 0: 'FLAIR' }, cases: rows }));
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const spec = (over: Partial<WeakLabelSpec> = {}): WeakLabelSpec => ({ kind: 'points', source: 'simulate', seed: 1, numClasses: 2, geodesic: { threshold: 0.2 }, ...over });

test('seven points become a partial label map: foreground grown inside the lesion, unlabelled in the box, background outside', () => {
  const { image, label } = crops[2];
  const w = weakLabelMap(image, label, 'c', spec());
  assert.equal(w.points!.filter((p) => p.class > 0).length, 1);
  // Six background points, less any side where the lesion touches the image border.
  assert.ok(w.points!.filter((p) => p.class === 0).length >= 4);
  const d = w.label.data as Uint8Array;
  assert.deepEqual([...new Set(d)].sort(), [0, 1, 2]);
  const fg = w.points!.find((p) => p.class > 0)!;
  const at = (ijk: readonly number[]) => ijk[0] + SIZE * (ijk[1] + SIZE * ijk[2]);
  assert.equal(d[at(fg.ijk)], 1, 'the clicked voxel is foreground');
  // Every non-background voxel lies in the points' bounding box; outside it is background (PA-Seg).
  const lo = [0, 1, 2].map((a) => Math.min(...w.points!.map((p) => p.ijk[a])));
  const hi = [0, 1, 2].map((a) => Math.max(...w.points!.map((p) => p.ijk[a])));
  let precise = 0;
  let fgCount = 0;
  for (let k = 0; k < SIZE; k++) for (let j = 0; j < SIZE; j++) for (let i = 0; i < SIZE; i++) {
    const v = d[at([i, j, k])];
    const inside = i >= lo[0] && i <= hi[0] && j >= lo[1] && j <= hi[1] && k >= lo[2] && k <= hi[2];
    if (!inside) assert.equal(v, 0);
    if (v === 1) { fgCount++; if ((label.data as Uint8Array)[at([i, j, k])] === 1) precise++; }
  }
  assert.equal(w.counts[1], fgCount);
  // The expansion follows the tumour: most of what it calls foreground is tumour.
  assert.ok(precise / fgCount > 0.8, `precision of the expanded seeds ${precise}/${fgCount}`);
  // Seeded: the same case and seed give the same map; another seed moves the points.
  assert.deepEqual(weakLabelMap(image, label, 'c', spec()).label.data, w.label.data);
  assert.notDeepEqual(weakLabelMap(image, label, 'c', spec({ seed: 2 })).points, w.points);
});

test('scribbles: classes agree with the mask where scribbled, numClasses elsewhere; annotation errors name the problem', () => {
  const { image, label } = crops[3];
  const w = weakLabelMap(image, label, 'c', spec({ kind: 'scribbles' }));
  const d = w.label.data as Uint8Array;
  const m = label.data as Uint8Array;
  let scribbled = 0;
  for (let i = 0; i < d.length; i++) {
    if (d[i] === 2) continue;
    scribbled++;
    assert.equal(d[i], m[i], `voxel ${i}: a scribble of class ${d[i]} on class ${m[i]}`);
  }
  assert.ok(scribbled > 0 && scribbled < d.length / 4, `${scribbled} scribbled voxels`);
  assert.ok(w.counts[0] > 0 && w.counts[1] > 0, 'both classes scribbled');
  // Points mark one foreground class; a folder without the case's file; a points file without a foreground point.
  assert.throws(() => weakLabelMap(image, label, 'c', spec({ numClasses: 3 })), /one foreground class.*3 classes/);
  assert.throws(() => weakLabelMap(image, label, 'nope', spec({ source: tmp })), (e: Error) => e.message.includes(tmp) && e.message.includes('nope_7points.nii.gz or nope_points.json'));
  const pts = path.join(tmp, 'bg_points.json');
  fs.writeFileSync(pts, JSON.stringify({ coordinates: 'voxel', points: [{ position: [3, 3, 3], label: 0 }] }));
  assert.throws(() => weakLabelMap(image, undefined, 'bg', spec({ source: tmp })), (e: Error) => e.message.includes(pts) && /foreground/.test(e.message));
});

test('SCM distillation: T²·KL(softmax(t/T) ‖ softmax(s/T)) averaged over voxels', () => {
  torch.tidy(() => {
    const s = torch.tensor([[[0.5, -1]], [[2, 0.3]]], { dtype: 'float64' }).permute([1, 0, 2]).contiguous(); // [1, 2, 2]: 2 classes, 2 voxels
    const t = torch.tensor([[[1, 0]], [[-1, 2]]], { dtype: 'float64' }).permute([1, 0, 2]).contiguous();
    const T = 4;
    const sm = (a: number, b: number) => [Math.exp(a / T) / (Math.exp(a / T) + Math.exp(b / T)), Math.exp(b / T) / (Math.exp(a / T) + Math.exp(b / T))];
    const sv = s.toTypedArray() as Float64Array;
    const tv = t.toTypedArray() as Float64Array;
    let kl = 0;
    for (let v = 0; v < 2; v++) {
      const ps = sm(sv[v], sv[2 + v]);
      const pt = sm(tv[v], tv[2 + v]);
      kl += pt[0] * Math.log(pt[0] / ps[0]) + pt[1] * Math.log(pt[1] / ps[1]);
    }
    assert.ok(Math.abs(distillationLoss(s, t, T).item() - (T * T * kl) / 2) < 1e-12);
    assert.equal(distillationLoss(t, t, T).item(), 0);
  });
});

test('PA-Seg end to end: points stream from the cache, stage 1 with both networks and regularisers, SCM, both test protocols', async () => {
  const out = path.join(tmp, 'run');
  const exp = resolveExperiment({
    name: 'pa-seg-mini', seed: 2, output: out, protocol: 'pa-seg-brats',
    data: { dataset: manifest, patchSize: [32, 32, 32], workers: 0 },
    network: { name: 'attention_unet3d', channels: [2, 4, 8, 16, 32], attentionChannels: [8, 4, 2, 1] },
    training: { iterations: 2, validateEvery: 2, checkpointEvery: 2, logEvery: 1, progress: false },
    method: { stage1Iterations: 2, rampup: 1, refreshEvery: 1, crfDownSize: [16, 16, 16], auxiliaryNetwork: { name: 'unet3d', channels: [2, 4, 8, 16, 32] } },
  });
  const r = await trainExperiment(exp);
  assert.equal(r.completed, true);
  const dp = JSON.parse(fs.readFileSync(path.join(out, 'data_plan.json'), 'utf8'));
  assert.deepEqual(dp.labelled, [], 'no full mask in the label budget');
  assert.deepEqual(dp.weak.points, CASES.slice(2).map((id) => `${id}~points`));
  for (const id of CASES.slice(2)) {
    const plain = loadCachedCase(dp.cacheDir, id);
    assert.equal(plain.label, null, `${id}: its full mask is not cached for training`);
    plain.image.dispose();
    const weak = loadCachedCase(dp.cacheDir, `${id}~points`);
    const values = torch.tidy(() => [...(torch.unique(weak.label!).to('int32').toTypedArray() as Int32Array)]);
    assert.ok(values.every((v) => v >= -1 && v <= 2) && values.includes(1) && values.includes(2), `${id}~points holds ${values}`);
    assert.deepEqual([...weak.classLocations.keys()], [1], 'foreground oversampling draws expanded foreground only');
    assert.ok(fs.existsSync(cachePaths(dp.cacheDir, `${id}~points`).sidecar.replace(/\.json$/, '.points.json')));
    weak.image.dispose();
    weak.label!.dispose();
  }
  const s1 = readLog(path.join(out, '1-stage1', 'log.jsonl')).filter((x) => x.kind === 'train');
  assert.equal(s1.length, 2);
  for (const k of ['partial', 'crf', 'variance', 'aux_partial', 'aux_crf', 'aux_variance']) assert.ok(Number.isFinite(s1[1][k] as number) && (s1[1][k] as number) > 0, `stage 1 logs ${k}`);
  assert.deepEqual(readCheckpointMeta(path.join(out, '1-stage1', 'checkpoints', 'last')).modules, ['auxiliary']);
  const s2 = readLog(path.join(out, '2-stage2', 'log.jsonl')).filter((x) => x.kind === 'train');
  for (const k of ['self', 'kd', 'aux_self', 'aux_kd']) assert.ok(Number.isFinite(s2[1][k] as number), `SCM logs ${k}`);
  assert.deepEqual(readCheckpointMeta(path.join(out, '2-stage2', 'checkpoints', 'last')).modules.sort(), ['auxiliary', 'pseudo1', 'pseudo2']);
  const t = r.test as Record<string, unknown>;
  assert.ok(t.labelwise && t['pa-seg'], 'weak runs report the labelwise and PA-Seg protocols');
  assert.deepEqual(readNifti(path.join(out, 'test', 'predictions', `${CASES[0]}.nii.gz`)).dims, [SIZE, SIZE, SIZE]);
});

test('weak configs fail early and clearly', async () => {
  const base = { name: 'x', output: path.join(tmp, 'bad'), data: { dataset: manifest, dims: '3d', patchSize: [32, 32, 32], workers: 0 }, training: { iterations: 1, progress: false } };
  // pa_seg without its second network.
  await assert.rejects(trainExperiment(resolveExperiment({ ...base, data: { ...base.data, weak: { kind: 'points' }, labelled: 0 }, method: { name: 'pa_seg' } })), /auxiliaryNetwork/);
  // The points stream without data.weak.
  await assert.rejects(trainExperiment(resolveExperiment({ ...base, output: path.join(tmp, 'bad2'), method: { name: 'weak' } })), /no points annotations; set data.weak/);
});

test('2D scribbles stream: slices of the seeds\' ACDC layout carry simulated scribbles (value 4 = unscribbled), augmentation pads with 4', async () => {
  const { sliceProducer } = await import('../src/training/slice-producer.js');
  const { loadSliceSource } = await import('../src/training/slice-source.js');
  const ids = [fs.readFileSync(path.join(ACDC, 'train_slices.list'), 'utf8').trim().split('\n')[0].trim()];
  const source = { kind: 'dataset' as const, path: ACDC, layout: 'h5-acdc', normalization: { scheme: 'none' as const } };
  const load = await loadSliceSource(source);
  const s = await load(ids[0]);
  const mask = s.label!.toTypedArray() as Uint8Array;
  const size = s.label!.shape as [number, number];
  s.image.dispose();
  s.label!.dispose();
  const weak = { kind: 'scribbles' as const, seed: 4, numClasses: 4 };
  // No augmentation (a resize to the slice's own size): the scribbles come out on the mask's grid.
  const produce = await sliceProducer({ source, patchSize: size, augmentation: null, seed: 4, streams: [{ prefix: 'scribbles_', ids, batchSize: 2, withLabels: true, weak }] });
  const b = await produce(0);
  assert.deepEqual(b.scribbles_label.shape, [2, ...size]);
  const lab = (b.scribbles_label.data as Uint8Array).subarray(0, mask.length);
  let scribbled = 0;
  const classes = new Set<number>();
  for (let i = 0; i < lab.length; i++) {
    if (lab[i] === 4) continue;
    scribbled++;
    classes.add(lab[i]);
    assert.equal(lab[i], mask[i], `pixel ${i}: scribble ${lab[i]} on class ${mask[i]}`);
  }
  assert.ok(scribbled > 0 && scribbled < 0.2 * mask.length, `${scribbled} scribbled pixels`);
  assert.ok(classes.size >= 2, `scribbled classes ${[...classes]}`);
  // Seeded per slice: a second producer gives the same scribbles.
  const again = await (await sliceProducer({ source, patchSize: size, augmentation: null, seed: 4, streams: [{ prefix: 'scribbles_', ids, batchSize: 1, withLabels: true, weak }] }))(0);
  assert.deepEqual((again.scribbles_label.data as Uint8Array).subarray(0, mask.length), lab);
  const aug: AugmentConfig = { spatialDims: 2, resample: { image: 'linear', label: 'nearest', imagePad: 0, labelPad: 0 }, transforms: [{ name: 'rotate', params: { degrees: [45, 45] } }, { name: 'resize', params: { size: [64, 64], alignCorners: true } }] };
  // A rotation brings in padding: unscribbled (4), never background.
  const rot = await sliceProducer({ source, patchSize: [64, 64], augmentation: aug, seed: 4, streams: [{ prefix: 's_', ids, batchSize: 1, withLabels: true, weak }] });
  const corner = ((await rot(0)).s_label.data as Uint8Array)[0];
  assert.equal(corner, 4);
});
