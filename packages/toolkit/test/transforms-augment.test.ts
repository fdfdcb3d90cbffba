// Augmentation pipelines: seeded PRNG streams, JSON configs, recording and
// exact replay, presets, BCP copy-paste masks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import { AugmentConfigError } from '../src/transforms/augment-params.js';
import { acdcSsl4mis, nnunetDefault2d, nnunetDefault3d, strongPhotometric } from '../src/transforms/augment-presets.js';
import { type AugmentConfig, AugmentPipeline, type AugmentRecord, augmentOps } from '../src/transforms/compose.js';
import { copyPasteMask, mixCopyPaste, randomCopyPasteMask, sampleCopyPasteBox } from '../src/transforms/copy-paste.js';
import { Rng, normalTensor, uniformTensor } from '../src/random/rng.js';

// Small tensors: one libtorch thread avoids OpenMP wake-up latency (and oversubscription when suites run side by side).
torch.setNumThreads(1);

const same = (a: Tensor | undefined, b: Tensor | undefined): boolean => !!a && !!b && a.dtype === b.dtype && a.equal(b);

function volume(shape: number[], seed: number): { image: Tensor; label: Tensor } {
  return torch.tidy(() => {
    const g = new torch.Generator(seed);
    const image = torch.rand([1, ...shape], { generator: g });
    const label = image.gt(0.5).to('uint8').add_(image.gt(0.8).to('uint8')).squeeze(0);
    return { image, label };
  });
}

test('Rng: keyed streams are deterministic, fork does not depend on consumption, draws are in range', () => {
  const a = Rng.from(42, 'epoch', 3);
  const b = Rng.from(42, 'epoch', 3);
  const xs = Array.from({ length: 5 }, () => a.nextUint32());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.nextUint32()));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => Rng.from(42, 'epoch', 4).nextUint32()));
  assert.notEqual(Rng.from(1).random(), Rng.from('1').random());
  // fork names a child by key, whatever the parent has drawn
  const p = Rng.from(7);
  const c1 = p.fork('sample', 3).random();
  p.random();
  p.random();
  assert.equal(p.fork('sample', 3).random(), c1);
  assert.notEqual(p.fork('sample', 4).random(), c1);
  // state save / restore
  const s = Rng.from(9);
  s.random();
  const st = s.getState();
  const next = s.random();
  s.setState(st);
  assert.equal(s.random(), next);
  // ranges and rough uniformity
  const r = Rng.from(11);
  const counts = new Array<number>(6).fill(0);
  for (let i = 0; i < 6000; i++) counts[r.int(0, 6)]++;
  assert.ok(counts.every((n) => Math.abs(n - 1000) < 120), counts.join(','));
  for (let i = 0; i < 1000; i++) {
    const u = r.uniform(-2, 3);
    assert.ok(u >= -2 && u < 3);
    assert.ok(r.int(-3, -1) < -1);
  }
  const normals = Array.from({ length: 4000 }, () => r.normal(1, 2));
  const mean = normals.reduce((x, y) => x + y, 0) / normals.length;
  const sd = Math.sqrt(normals.reduce((x, y) => x + (y - mean) ** 2, 0) / normals.length);
  assert.ok(Math.abs(mean - 1) < 0.1 && Math.abs(sd - 2) < 0.1, `${mean} ${sd}`);
  assert.deepEqual(r.permutation(5).sort(), [0, 1, 2, 3, 4]);
  // tensor noise from keyed streams: deterministic, right moments, odd sizes
  torch.tidy(() => {
    const z = normalTensor(12, [101, 99]);
    assert.ok(z.equal(normalTensor(12, [101, 99])) && !z.equal(normalTensor(13, [101, 99])));
    assert.ok(Math.abs(z.mean().item()) < 0.02 && Math.abs(z.std().item() - 1) < 0.02);
    const u = uniformTensor(3, [7, 9, 11], -1, 1);
    assert.ok(u.min().item() >= -1 && u.max().item() < 1 && Math.abs(u.mean().item()) < 0.06);
  });
  assert.throws(() => Rng.from(1.5), /integers/);
  assert.throws(() => r.int(3, 3), /low < high/);
});

test('pipeline: same seed → same output, recorded params replay exactly (after a JSON round trip)', () => {
  torch.tidy(() => {
    const { image, label } = volume([20, 22, 24], 1);
    const points = [[5, 6, 7], [10.5, 11, 12]];
    const config: AugmentConfig = {
      spatialDims: 3,
      transforms: [
        { name: 'crop', params: { size: [16, 16, 16], mode: 'random' } },
        { name: 'rotate', p: 0.8, params: { degrees: [-30, 30] } },
        { name: 'scale', params: { range: [0.8, 1.2] } },
        { name: 'elastic', p: 0.7, params: { alpha: [50, 150], sigma: [4, 5] } },
        { name: 'gamma', p: 0.7 },
        { name: 'gaussianNoise', params: { std: [0.05, 0.1] } },
        { name: 'flip', params: { axes: [0, 1, 2] } },
      ],
    };
    const pipe = new AugmentPipeline(config);
    for (const seed of [0, 1, 2]) {
      const r1 = pipe.apply({ image, label, points }, { seed });
      const r2 = pipe.apply({ image, label, points }, { seed });
      assert.ok(same(r1.sample.image, r2.sample.image) && same(r1.sample.label, r2.sample.label));
      assert.deepEqual(r1.sample.image.shape, [1, 16, 16, 16]);
      assert.deepEqual(r1.sample.label!.shape, [16, 16, 16]);
      assert.equal(r1.sample.label!.dtype, 'uint8');
      const record = JSON.parse(JSON.stringify(r1.record)) as AugmentRecord;
      const r3 = pipe.replay({ image, label, points }, record);
      assert.ok(same(r1.sample.image, r3.sample.image) && same(r1.sample.label, r3.sample.label));
      assert.deepEqual(r3.sample.points, r1.sample.points);
      assert.deepEqual(r3.record, record);
    }
    const a = pipe.apply({ image }, { seed: 0 }).sample.image;
    const b = pipe.apply({ image }, { seed: 1 }).sample.image;
    assert.ok(!a.equal(b));
    // the input tensors are not modified and not aliased
    const { image: i0 } = volume([20, 22, 24], 1);
    assert.ok(image.equal(i0));
    const id = new AugmentPipeline({ spatialDims: 3, transforms: [{ name: 'flip', p: 0 }] }).apply({ image, label }, { seed: 0 });
    assert.ok(id.sample.image.equal(image) && !id.sample.image.sharesStorageWith(image));
  });
});

test('batched pipelines: per-sample streams (sample b = fork(b)), one record entry per sample, replay', () => {
  torch.tidy(() => {
    const { image, label } = volume([18, 18], 2);
    const img = torch.stack([image, image], 0);
    const lab = torch.stack([label, label], 0);
    const pipe = new AugmentPipeline(nnunetDefault2d({ patchSize: [16, 16] }));
    const root = Rng.from(5);
    const batch = pipe.apply({ image: img, label: lab, points: [[[3, 4]], [[8, 9]]] }, { seed: root });
    assert.deepEqual(batch.sample.image.shape, [2, 1, 16, 16]);
    assert.equal(batch.record.batch, 2);
    assert.ok(batch.record.ops.every((o) => o.params.length === 2));
    // sample 0 of the batch = the unbatched sample with the same root
    const single = pipe.apply({ image, label, points: [[3, 4]] }, { seed: Rng.from(5) });
    assert.ok(batch.sample.image.narrow(0, 0, 1).squeeze(0).equal(single.sample.image));
    assert.deepEqual((batch.sample.points as number[][][])[0], single.sample.points);
    const re = pipe.replay({ image: img, label: lab }, batch.record);
    assert.ok(re.sample.image.equal(batch.sample.image) && re.sample.label!.equal(batch.sample.label!));
  });
});

test('every registered op runs with default params in 2D and 3D and replays exactly', () => {
  const skip3d = new Set(['colorJitter']);
  torch.tidy(() => {
    for (const dims of [2, 3] as const) {
      const shape = dims === 2 ? [24, 20] : [12, 14, 10];
      const { image, label } = volume(shape, 3);
      const rgb = torch.rand([3, ...shape], { generator: new torch.Generator(3) });
      for (const op of augmentOps()) {
        if (dims === 3 && skip3d.has(op.name)) continue;
        const params: Record<string, unknown> = op.name === 'crop' || op.name === 'resize' ? { size: shape.map((n) => n - 2) } : {};
        const pipe = new AugmentPipeline({ spatialDims: dims, transforms: [{ name: op.name, params: params as never }] });
        const img = op.name === 'colorJitter' || op.name === 'grayscale' ? rgb : image;
        for (const seed of [1, 2]) {
          const r = pipe.apply({ image: img, label }, { seed });
          assert.equal(r.sample.image.ndim, dims + 1, op.name);
          assert.ok(r.sample.image.isfinite().all().item() === 1, `${op.name}: finite`);
          const re = pipe.replay({ image: img, label }, r.record);
          assert.ok(same(re.sample.image, r.sample.image) && same(re.sample.label, r.sample.label), `${op.name} replays`);
        }
      }
    }
  });
});

test('crop mode "given" centres the patch on the sampler-chosen voxel', () => {
  torch.tidy(() => {
    const image = torch.zeros([1, 30, 30, 30]);
    image.indexPut_([0, 21, 7, 12], 5);
    const pipe = new AugmentPipeline({ spatialDims: 3, transforms: [{ name: 'crop', params: { size: [9, 9, 9], mode: 'given' } }, { name: 'rotate', params: { degrees: [0, 0] } }] });
    const r = pipe.apply({ image, center: [21, 7, 12], points: [[21, 7, 12]] }, { seed: 1 });
    assert.equal(r.sample.image.index([0, 4, 4, 4]).item(), 5);
    assert.deepEqual(r.sample.points, [[4, 4, 4]]);
    assert.throws(() => pipe.apply({ image }, { seed: 1 }), /has no `center`/);
  });
});

test('config errors name the path, the field and what was expected', () => {
  const bad = (config: unknown, re: RegExp) => assert.throws(() => new AugmentPipeline(config as AugmentConfig), (e: unknown) => e instanceof AugmentConfigError && re.test(e.message));
  bad({ spatialDims: 4, transforms: [] }, /config.spatialDims: expected 2 or 3/);
  bad({ spatialDims: 2, transforms: [{ name: 'rotat' }] }, /transforms\[0\].name: unknown op "rotat"; known: oneOf, flip/);
  bad({ spatialDims: 2, transforms: [{ name: 'rotate', params: { degree: [1, 2] } }] }, /transforms\[0\].params.degree: unknown parameter; known: degrees, integer/);
  bad({ spatialDims: 2, transforms: [{ name: 'gamma', params: { range: [1.5, 0.7] } }] }, /transforms\[0\].params.range: expected \[low, high\]/);
  bad({ spatialDims: 2, transforms: [{ name: 'flip', p: 1.5 }] }, /transforms\[0\].p: expected a probability/);
  bad({ spatialDims: 3, transforms: [{ name: 'crop' }] }, /params.size: expected 3 positive integers/);
  bad({ spatialDims: 2, transforms: [{ name: 'oneOf', params: { choices: [[{ name: 'flip' }], [{ name: 'gamma' }]] } }] }, /mixes spatial and intensity/);
  bad({ spatialDims: 2, transforms: [{ name: 'oneOf', params: { choices: [[{ name: 'flip' }]], weights: [1.2] } }] }, /weights: expected 1 probabilities/);
  torch.tidy(() => {
    const pipe = new AugmentPipeline({ spatialDims: 2, transforms: [{ name: 'flip' }] });
    assert.throws(() => pipe.apply({ image: torch.rand([1, 4, 4, 4, 4]) }, { seed: 0 }), /sample.image: expected \[C, ...2 spatial\]/);
    assert.throws(() => pipe.apply({ image: torch.rand([1, 4, 4]), label: torch.zeros([4, 5]) }, { seed: 0 }), /sample.label: expected/);
    const r = pipe.apply({ image: torch.rand([1, 4, 4]) }, { seed: 0 });
    assert.throws(() => pipe.replay({ image: torch.rand([2, 1, 4, 4]) }, r.record), /record: does not match/);
  });
});

test('oneOf draws each choice with its weight (the rest: none); SSL4MIS preset gives 256² with the label set kept', () => {
  torch.tidy(() => {
    const pipe = new AugmentPipeline(acdcSsl4mis());
    const { image, label } = volume([24, 20], 4);
    const counts = [0, 0, 0];
    for (let s = 0; s < 400; s++) {
      const c = pipe.apply({ image: image.narrow(1, 0, 2).narrow(2, 0, 2) }, { seed: s }).record.ops[0].params[0]!.choice as number;
      counts[c === -1 ? 2 : c]++;
    }
    assert.ok(Math.abs(counts[0] - 200) < 40 && Math.abs(counts[1] - 100) < 35 && Math.abs(counts[2] - 100) < 35, counts.join(','));
    const r = pipe.apply({ image, label }, { seed: 3 });
    assert.deepEqual(r.sample.image.shape, [1, 256, 256]);
    assert.deepEqual(r.sample.label!.shape, [256, 256]);
    const vals = Array.from(r.sample.label!.unique().toTypedArray() as Uint8Array);
    assert.ok(vals.every((v) => [0, 1, 2].includes(v)));
    // nearest image interpolation: output values are input values
    const inVals = new Set(Array.from(image.toTypedArray() as Float32Array));
    assert.ok(Array.from(r.sample.image.toTypedArray() as Float32Array).every((v) => v === 0 || inVals.has(v)));
  });
});

test('nnU-Net and strong photometric presets run and keep shapes; photometric keeps geometry and range', () => {
  torch.tidy(() => {
    const { image, label } = volume([20, 20, 20], 5);
    const r = new AugmentPipeline(nnunetDefault3d({ patchSize: [16, 16, 16] })).apply({ image, label }, { seed: 8 });
    assert.deepEqual(r.sample.image.shape, [1, 16, 16, 16]);
    const aniso = nnunetDefault3d({ patchSize: [4, 16, 16] });
    assert.deepEqual(aniso.transforms[1].params!.degrees, [[-180, 180], [0, 0], [0, 0]]);
    const rgb = torch.rand([4, 3, 16, 16], { generator: new torch.Generator(6) });
    const sp = new AugmentPipeline(strongPhotometric({ spatialDims: 2 })).apply({ image: rgb, label: torch.zeros([4, 16, 16], { dtype: 'int64' }) }, { seed: 2 });
    assert.ok(sp.sample.image.min().item() >= 0 && sp.sample.image.max().item() <= 1);
    assert.ok(sp.sample.label!.equal(torch.zeros([4, 16, 16], { dtype: 'int64' })));
  });
});

test('BCP copy-paste: mask is 1 outside and 0 inside a ⌊2/3⌋ box; mixing images and labels', () => {
  const rng = Rng.from(3);
  for (let i = 0; i < 200; i++) {
    const box = sampleCopyPasteBox(rng, [112, 112, 80]);
    assert.deepEqual(box.size, [74, 74, 53]);
    box.start.forEach((s, a) => assert.ok(s >= 0 && s + box.size[a] <= [112, 112, 80][a]));
    const bcp = sampleCopyPasteBox(rng, [256, 256], { position: 'bcp' });
    assert.ok(bcp.start.every((s, a) => s < 256 - bcp.size[a]), 'BCP randint never reaches the far border');
    const dyn = sampleCopyPasteBox(rng, [100, 60], { fraction: [0.3, 0.5], perAxis: true });
    assert.ok(dyn.size[0] >= 30 && dyn.size[0] <= 50 && dyn.size[1] >= 18 && dyn.size[1] <= 30);
  }
  torch.tidy(() => {
    const mask = copyPasteMask([6, 7], [{ start: [1, 2], size: [4, 4] }, [{ start: [0, 0], size: [2, 2] }, { start: [4, 5], size: [2, 2] }]]);
    assert.deepEqual(mask.shape, [2, 6, 7]);
    assert.equal(mask.select(0, 0).sum().item(), 42 - 16);
    assert.equal(mask.index([0, 1, 2]).item(), 0);
    assert.equal(mask.index([0, 0, 0]).item(), 1);
    assert.equal(mask.select(0, 1).sum().item(), 42 - 8);
    const a = torch.fullLike(torch.zeros([2, 1, 6, 7]), 1);
    const b = torch.fullLike(a, 2);
    const x = mixCopyPaste(a, b, mask);
    assert.equal(x.index([0, 0, 1, 2]).item(), 2); // inside the box: b
    assert.equal(x.index([0, 0, 0, 0]).item(), 1); // outside: a
    const la = torch.ones([2, 6, 7], { dtype: 'int64' });
    const lb = torch.full([2, 6, 7], 3, { dtype: 'int64' });
    const y = mixCopyPaste(la, lb, mask);
    assert.equal(y.dtype, 'int64');
    assert.equal(y.eq(3).sum().item(), 16 + 8);
    const { mask: m2, boxes } = randomCopyPasteMask(Rng.from(1), 3, [32, 32]);
    assert.deepEqual(m2.shape, [3, 32, 32]);
    assert.equal(boxes.length, 3);
    assert.equal(m2.select(0, 2).eq(0).sum().item(), 21 * 21);
    assert.throws(() => mixCopyPaste(a, b, torch.ones([2, 5, 7])), /does not fit/);
  });
});
