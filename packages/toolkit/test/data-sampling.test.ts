// Patch sampling: nnU-Net foreground oversampling (exactly ⌈B/3⌉ forced
// slots, each patch holding its class), padding, determinism in (seed, step,
// slot), multi-stream batches, centre weights, class balance, 2-D slices.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import { readNifti } from '../src/io/nifti.js';
import { type CaseData, type SamplingCase, type StreamSpec, choosePatch, extractPatch, foregroundSlotCount, planSlot, sampleBatch, sampleBatchPlan } from '../src/transforms/sampling.js';
import { sampleClassLocations } from '../src/transforms/preprocess.js';
import { SAMPLES } from './shared-data.js';

interface TestCase { info: SamplingCase; data: CaseData }

/** A case from a label tensor [1, Z, Y, X]: locations and foreground slices as preprocessing stores them. */
function makeCase(label: Tensor, centre = 'A', id = ''): TestCase {
  const values = Array.from(torch.unique(label).to('int32').toTypedArray() as Int32Array).filter((v) => v > 0);
  const locs = sampleClassLocations(label, values, { samples: 500 });
  const fgSlices = torch.tidy(() => Array.from(label.select(0, 0).gt(0).flatten(1).any(1).to('uint8').toTypedArray() as Uint8Array).flatMap((v, i) => (v ? [i] : [])));
  const shape = label.shape.slice(1);
  const image = torch.tidy(() => torch.arange(label.numel(), { dtype: 'float32' }).reshape([1, ...shape]).add(1));
  return { info: { id, shape, classes: values, foregroundSlices: fgSlices, centre }, data: { image, label, classLocations: locs } };
}

function blobCase(shape: number[], blobs: { cls: number; at: number[]; r: number }[], centre = 'A'): TestCase {
  const label = torch.zeros([1, ...shape], { dtype: 'int16' });
  for (const b of blobs) {
    label.narrow(1, b.at[0], b.r).narrow(2, b.at[1], b.r).narrow(3, b.at[2], b.r).fill_(b.cls);
  }
  return makeCase(label, centre);
}

const spleen = () => makeCase(readNifti(path.join(SAMPLES, 'ivadomed_testing/ct_scan/derivatives/labels/sub-spleen2/ct/sub-spleen2_ct_seg-manual.nii.gz')).toTensor('int16'), 'B', 'spleen');

test('foreground oversampling: exactly ⌈B/3⌉ forced slots, the last ones, each patch holds its class', () => {
  const cases = [spleen(), blobCase([40, 60, 50], [{ cls: 1, at: [30, 2, 40], r: 3 }, { cls: 2, at: [5, 50, 3], r: 4 }]), blobCase([20, 30, 30], [])];
  const stream: StreamSpec = { name: 'labelled', cases: cases.map((c) => c.info), batchSize: 0, patchSize: [16, 48, 40] };
  for (let b = 1; b <= 13; b++) assert.equal(foregroundSlotCount(b), Math.ceil(b / 3));
  for (const batchSize of [2, 3, 4, 5, 12]) {
    const s = { ...stream, batchSize };
    for (let step = 0; step < 6; step++) {
      const plan = sampleBatchPlan(11, step, [s]);
      const forced = plan.filter((p) => p.forceForeground);
      assert.equal(forced.length, Math.ceil(batchSize / 3));
      assert.deepEqual(forced.map((p) => p.index), Array.from({ length: forced.length }, (_, i) => batchSize - forced.length + i), 'forced slots are the last ones');
      for (const p of forced) {
        const c = cases[p.caseIndex];
        if (c.info.classes!.length === 0) {
          assert.equal(p.targetClass, null, 'a case without foreground falls back to a random patch');
          continue;
        }
        assert.ok(c.info.classes!.includes(p.targetClass!));
        const box = choosePatch(11, p, s, c.data.classLocations);
        const patch = extractPatch(c.data.label!, box, -1);
        assert.ok(torch.tidy(() => patch.eq(p.targetClass!).any().item()), `step ${step} slot ${p.index}: patch misses class ${p.targetClass}`);
        patch.dispose();
      }
    }
  }
});

test('determinism: every slot is a pure function of (seed, step, stream, slot)', () => {
  const cases = [spleen(), blobCase([30, 40, 40], [{ cls: 1, at: [3, 3, 3], r: 5 }])];
  const streams: StreamSpec[] = [{ name: 'l', cases: cases.map((c) => c.info), batchSize: 6, patchSize: [8, 32, 32], foregroundJitter: 0.5 }];
  const boxesOf = (seed: number, step: number) => sampleBatchPlan(seed, step, streams).map((p) => ({ p, box: choosePatch(seed, p, streams[0], cases[p.caseIndex].data.classLocations) }));
  const a = boxesOf(5, 17);
  assert.deepEqual(boxesOf(5, 17), a, 'same seed and step → same batch');
  // Slot 4 alone (as a worker that builds only that sample would) is the same slot 4.
  assert.deepEqual(planSlot(5, 17, streams, 0, 4), a[4].p);
  // Steps in reverse order give the same batches as in forward order.
  const forward = [0, 1, 2, 3].map((t) => boxesOf(5, t));
  const backward = [3, 2, 1, 0].map((t) => boxesOf(5, t)).reverse();
  assert.deepEqual(backward, forward);
  assert.notDeepEqual(boxesOf(5, 18), a, 'another step differs');
  assert.notDeepEqual(boxesOf(6, 17), a, 'another seed differs');
  // Jittered forced patches still contain the voxel they were centred on.
  for (const { p, box } of a) {
    if (!box.centre) continue;
    for (let ax = 0; ax < 3; ax++) assert.ok(box.centre[ax] >= box.start[ax] && box.centre[ax] < box.start[ax] + box.size[ax], `slot ${p.index}`);
  }
});

test('patches larger than the volume are padded: image 0, label -1', () => {
  const c = blobCase([4, 6, 5], [{ cls: 1, at: [1, 1, 1], r: 2 }]);
  const s: StreamSpec = { name: 's', cases: [c.info], batchSize: 3, patchSize: [8, 10, 9] };
  const [batch] = sampleBatch(3, 0, [s], () => c.data);
  assert.deepEqual(batch.image.shape, [3, 1, 8, 10, 9]);
  assert.deepEqual(batch.label!.shape, [3, 1, 8, 10, 9]);
  for (let i = 0; i < 3; i++) {
    const img = batch.image.select(0, i);
    const lab = batch.label!.select(0, i);
    // The whole volume is inside (arange + 1 > 0), everything else is padding.
    assert.equal(img.gt(0).sum().item(), 4 * 6 * 5);
    assert.equal(img.sum().item(), (120 * 121) / 2);
    assert.equal(lab.eq(-1).sum().item(), 8 * 10 * 9 - 4 * 6 * 5);
    assert.equal(lab.eq(1).sum().item(), 8);
  }
  // A box entirely outside gives pure padding.
  const out = extractPatch(c.data.image, { start: [10, 0, 0], size: [2, 2, 2], centre: null }, 7);
  assert.deepEqual(Array.from(out.flatten().toTypedArray() as Float32Array), Array(8).fill(7));
});

test('labelled + unlabelled streams (12 + 12), per-centre weights, class-balanced draws', () => {
  const lab = [blobCase([20, 30, 30], [{ cls: 1, at: [5, 5, 5], r: 4 }], 'A'), blobCase([20, 30, 30], [{ cls: 1, at: [9, 9, 9], r: 4 }, { cls: 2, at: [1, 20, 20], r: 3 }], 'B')];
  for (let i = 0; i < 8; i++) lab.push(blobCase([20, 30, 30], [{ cls: 1, at: [i, i, i], r: 3 }], i % 2 ? 'A' : 'C'));
  const unl = [blobCase([20, 30, 30], [], 'A'), blobCase([20, 30, 30], [], 'C')].map((c) => ({ ...c.info, classes: [] }));
  const streams: StreamSpec[] = [
    { name: 'labelled', cases: lab.map((c) => c.info), batchSize: 12, patchSize: [8, 16, 16] },
    { name: 'unlabelled', cases: unl, batchSize: 12, patchSize: [8, 16, 16], oversampleForeground: 0 },
  ];
  const plan = sampleBatchPlan(1, 0, streams);
  assert.equal(plan.length, 24);
  assert.deepEqual(plan.map((p) => p.slot), Array.from({ length: 24 }, (_, i) => i));
  assert.deepEqual(plan.map((p) => p.stream), [...Array(12).fill('labelled'), ...Array(12).fill('unlabelled')]);
  assert.equal(plan.filter((p) => p.forceForeground).length, 4);
  assert.ok(plan.slice(12).every((p) => !p.forceForeground && p.targetClass === null));

  // Centre weights: A 0.6, B 0.3, C 0.1 (A has 5 cases, B 1, C 4: weights are per centre, not per case).
  const weighted: StreamSpec = { ...streams[0], batchSize: 30, centreWeights: { A: 0.6, B: 0.3, C: 0.1 } };
  const freq: Record<string, number> = { A: 0, B: 0, C: 0 };
  let n = 0;
  for (let step = 0; step < 100; step++) {
    for (const p of sampleBatchPlan(2, step, [weighted])) {
      if (p.forceForeground) continue;
      freq[lab[p.caseIndex].info.centre!]++;
      n++;
    }
  }
  for (const [c, w] of Object.entries({ A: 0.6, B: 0.3, C: 0.1 })) assert.ok(Math.abs(freq[c] / n - w) < 0.03, `centre ${c}: ${(freq[c] / n).toFixed(3)} vs ${w}`);
  assert.throws(() => sampleBatchPlan(2, 0, [{ ...weighted, centreWeights: { D: 1 } }]), /centreWeights names centre 'D'/);

  // Class 2 lives in one case of ten: uniform draws rarely force it, class-balanced half the time.
  const share = (caseSampling: 'uniform' | 'class-balanced') => {
    let two = 0, forced = 0;
    for (let step = 0; step < 200; step++) {
      for (const p of sampleBatchPlan(3, step, [{ ...streams[0], caseSampling }])) {
        if (p.targetClass === null) continue;
        forced++;
        if (p.targetClass === 2) two++;
      }
    }
    return two / forced;
  };
  const uniform = share('uniform');
  const balanced = share('class-balanced');
  assert.ok(uniform < 0.12, `uniform: class 2 in ${uniform.toFixed(3)} of forced patches`);
  assert.ok(Math.abs(balanced - 0.5) < 0.07, `class-balanced: class 2 in ${balanced.toFixed(3)} of forced patches`);
});

test('2-D slices from 3-D volumes: foreground slices at rate p, forced slices on the class', () => {
  const c = blobCase([30, 24, 24], [{ cls: 1, at: [10, 4, 4], r: 3 }, { cls: 2, at: [20, 10, 10], r: 2 }]);
  const s: StreamSpec = { name: '2d', cases: [c.info], batchSize: 9, patchSize: [16, 16], foregroundSliceProbability: 1 };
  const fg = new Set(c.info.foregroundSlices);
  assert.deepEqual([...fg].sort((a, b) => a - b), [10, 11, 12, 20, 21]);
  for (let step = 0; step < 20; step++) {
    const batches = sampleBatch(4, step, [s], () => c.data);
    const b = batches[0];
    assert.deepEqual(b.image.shape, [9, 1, 16, 16]);
    assert.deepEqual(b.label!.shape, [9, 1, 16, 16]);
    b.slots.forEach((p, i) => {
      assert.ok(fg.has(b.boxes[i].start[0]), `slot ${i}: slice ${b.boxes[i].start[0]} has no foreground`);
      if (p.targetClass !== null) assert.ok(torch.tidy(() => b.label!.select(0, i).eq(p.targetClass!).any().item()));
    });
    torch.dispose(batches);
  }
  // With p = 0, slices are uniform over the volume: background slices appear.
  let bgSlices = 0;
  for (let step = 0; step < 10; step++) {
    for (const p of sampleBatchPlan(4, step, [{ ...s, foregroundSliceProbability: 0, oversampleForeground: 0 }])) if (!fg.has(p.sliceIndex!)) bgSlices++;
  }
  assert.ok(bgSlices > 50);
});

test('bad stream specs are rejected with the field named', () => {
  const c = blobCase([4, 4, 4], []);
  const base: StreamSpec = { name: 'x', cases: [c.info], batchSize: 2, patchSize: [2, 2, 2] };
  assert.throws(() => sampleBatchPlan(0, 0, [{ ...base, batchSize: 1.5 }]), /batchSize must be an integer/);
  assert.throws(() => sampleBatchPlan(0, 0, [{ ...base, patchSize: [2, 2, 2, 2] }]), /patchSize must have 2 \(y, x\) or 3/);
  assert.throws(() => sampleBatchPlan(0, 0, [{ ...base, cases: [] }]), /no cases to sample from/);
  assert.throws(() => sampleBatchPlan(0, -1, [base]), /step must be an integer ≥ 0/);
  assert.throws(() => sampleBatchPlan(0, 0, [{ ...base, oversampleForeground: 2 }]), /oversampleForeground must be in \[0, 1\]/);
});
