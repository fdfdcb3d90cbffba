// BCP's copy-paste mixing (which pixels and labels land where, 2D and 3D,
// both published pairings), its region-weighted loss against losses'
// BcpMixLoss, one full recipe step recomputed by hand, pseudo-label
// post-processing, and the dynamic mask.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as torch from '@labelwise/torch';
import { type Tensor } from '@labelwise/torch';
import { BcpMixLoss, DiceCELoss } from '../src/losses/index.js';
import { getMethod } from '../src/methods/index.js';
import { bidirectionalMixes, copyPasteSample, sharedMask, type MixSource } from '../src/methods/semi/bcp.js';
import { DynamicMask, dynamicMaskParams } from '../src/methods/semi/dynamic-mask.js';
import { pseudoLabels } from '../src/methods/semi/pseudo-labels.js';
import { mixRegionLoss } from '../src/methods/semi/region-loss.js';
import { sampleCopyPasteBox, type CopyPasteBox } from '../src/transforms/copy-paste.js';
import { Rng } from '../src/random/rng.js';
import { tinyNet } from './methods-semi-synthetic.js';

torch.setNumThreads(1);

const close = (a: number, b: number, tol = 1e-5, what = ''): void => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

function inBox(box: CopyPasteBox, coord: number[]): boolean {
  return coord.every((c, a) => c >= box.start[a] && c < box.start[a] + box.size[a]);
}

/** Unravels a flat C-order index over `shape`. */
function coords(i: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    out[a] = i % shape[a];
    i = Math.floor(i / shape[a]);
  }
  return out;
}

function source(seed: number, shape: number[], pseudo: boolean, classes: number): MixSource {
  const g = new torch.Generator(seed);
  return {
    image: torch.randn([shape[0], 1, ...shape.slice(1)], { generator: g }),
    label: torch.randint(0, classes, shape, { generator: g, dtype: 'int64' }),
    pseudo,
  };
}

/** Checks every voxel of a mixed image and label against the box, and the region maps and weights. */
function checkMix(mixed: ReturnType<typeof copyPasteSample>, outer: MixSource, inner: MixSource, box: CopyPasteBox): void {
  const spatial = outer.label.shape.slice(1);
  const img = mixed.image.toTypedArray() as Float32Array;
  const lab = mixed.label.toTypedArray() as BigInt64Array;
  const oi = outer.image.toTypedArray() as Float32Array;
  const ii = inner.image.toTypedArray() as Float32Array;
  const ol = outer.label.toTypedArray() as BigInt64Array;
  const il = inner.label.toTypedArray() as BigInt64Array;
  const m0 = mixed.regions[0].map.toTypedArray() as Float32Array;
  const m1 = mixed.regions[1].map.toTypedArray() as Float32Array;
  assert.equal(mixed.label.dtype, 'int64');
  for (let i = 0; i < lab.length; i++) {
    const c = coords(i, [outer.label.shape[0], ...spatial]);
    const inside = inBox(box, c.slice(1));
    assert.equal(img[i], inside ? ii[i] : oi[i], `image at [${c}]`);
    assert.equal(lab[i], inside ? il[i] : ol[i], `label at [${c}]`);
    assert.equal(m0[i], inside ? 0 : 1, `outer region at [${c}]`);
    assert.equal(m1[i], inside ? 1 : 0, `inner region at [${c}]`);
  }
}

describe('copy-paste mixing', () => {
  for (const [dims, shape, box] of [
    ['2D', [3, 12, 14], { start: [2, 5], size: [8, 9] }],
    ['3D', [2, 6, 8, 10], { start: [1, 0, 3], size: [4, 5, 6] }],
  ] as const) {
    test(`${dims}: the box holds the inner image and labels, the rest the outer; regions and weights follow the label source`, () => {
      const b: CopyPasteBox = { start: [...box.start], size: [...box.size] };
      const mask = sharedMask(b, shape[0], shape.slice(1));
      const outer = source(1, [...shape], true, 4);
      const inner = source(2, [...shape], false, 4);
      const mixed = copyPasteSample(outer, inner, mask, { lWeight: 1, uWeight: 0.5 });
      checkMix(mixed, outer, inner, b);
      assert.deepEqual(mixed.regions.map((r) => [r.source, r.weight]), [['unlabelled', 0.5], ['labelled', 1]]);
    });
  }

  test('BCP pairings: ACDC puts unlabelled a outside / labelled a inside then labelled b outside / unlabelled b inside; LA the reverse', () => {
    const shape = [2, 6, 6, 8];
    const b: CopyPasteBox = { start: [1, 1, 2], size: [4, 4, 5] };
    const mask = sharedMask(b, 2, shape.slice(1));
    const L: [MixSource, MixSource] = [source(11, shape, false, 2), source(12, shape, false, 2)];
    const U: [MixSource, MixSource] = [source(13, shape, true, 2), source(14, shape, true, 2)];
    const w = { lWeight: 1, uWeight: 0.5 };
    const acdc = bidirectionalMixes(L, U, mask, 'acdc', w);
    checkMix(acdc[0], U[0], L[0], b);
    checkMix(acdc[1], L[1], U[1], b);
    assert.deepEqual(acdc.map((m) => m.regions.map((r) => r.weight)), [[0.5, 1], [1, 0.5]]);
    const la = bidirectionalMixes(L, U, mask, 'la', w);
    checkMix(la[0], L[0], U[0], b);
    checkMix(la[1], U[1], L[1], b);
    assert.deepEqual(la.map((m) => m.regions.map((r) => r.weight)), [[1, 0.5], [0.5, 1]]);
  });

  test('pseudo-label voxel weights multiply the unlabelled region only', () => {
    const shape = [1, 4, 4];
    const b: CopyPasteBox = { start: [0, 0], size: [2, 2] };
    const mask = sharedMask(b, 1, shape.slice(1));
    const weight = torch.tensor([[[0, 1, 1, 1], [1, 1, 1, 1], [1, 1, 0, 1], [1, 1, 1, 1]]], { dtype: 'float32' });
    const u = { ...source(3, shape, true, 2), voxelWeight: weight };
    const l = source(4, shape, false, 2);
    const m = copyPasteSample(u, l, mask, { lWeight: 1, uWeight: 0.5 });
    // Outer (unlabelled) region: mask · weight; the labelled box keeps weight 1.
    assert.deepEqual(m.regions[0].map.toTypedArray(), Float32Array.from([0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1]));
    assert.deepEqual(m.regions[1].map.toTypedArray(), Float32Array.from([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  });

  test("BCP's mask sizes: ⌊2/3⌋ of each side (256² → 170², LA 80×112×112 → 53×74×74), numpy randint positions", () => {
    for (const [shape, size] of [[[256, 256], [170, 170]], [[80, 112, 112], [53, 74, 74]]] as const) {
      for (let k = 0; k < 20; k++) {
        const box = sampleCopyPasteBox(Rng.from(1, k), shape, { fraction: 2 / 3, position: 'bcp' });
        assert.deepEqual(box.size, size);
        box.start.forEach((s, a) => assert.ok(s >= 0 && s < shape[a] - size[a], `start ${s} on axis ${a}`));
      }
    }
  });
});

describe('region-weighted mix loss', () => {
  const g = new torch.Generator(3);
  for (const preset of ['bcp_acdc', 'bcp_la'] as const) {
    test(`${preset}: equals BcpMixLoss for the labelled-image and unlabelled-image mixes`, () => {
      const logits = torch.randn([2, 4, 10, 12], { generator: g });
      const target = torch.randint(0, 4, [2, 10, 12], { generator: g, dtype: 'int64' });
      const mask = sharedMask({ start: [2, 3], size: [6, 8] }, 2, [10, 12]);
      const inv = torch.rsub(mask, 1);
      const ours = mixRegionLoss(logits, target, [{ map: mask, weight: 1, source: 'labelled' }, { map: inv, weight: 0.5, source: 'unlabelled' }], preset).item();
      close(ours, new BcpMixLoss({ preset }).forward(logits, target, mask).item(), 1e-6, 'labelled image');
      const theirs = new BcpMixLoss({ preset, unlabelledImage: true }).forward(logits, target, mask).item();
      close(mixRegionLoss(logits, target, [{ map: mask, weight: 0.5, source: 'unlabelled' }, { map: inv, weight: 1, source: 'labelled' }], preset).item(), theirs, 1e-6, 'unlabelled image');
    });
  }

  test('each region contributes its weight times its own Dice + CE (linear in the weights)', () => {
    const logits = torch.randn([2, 3, 8, 8], { generator: g });
    const target = torch.randint(0, 3, [2, 8, 8], { generator: g, dtype: 'int64' });
    const mask = sharedMask({ start: [1, 1], size: [5, 5] }, 2, [8, 8]);
    const inv = torch.rsub(mask, 1);
    const L = (w0: number, w1: number) => mixRegionLoss(logits, target, [{ map: mask, weight: w0, source: 'labelled' }, { map: inv, weight: w1, source: 'unlabelled' }], 'bcp_acdc').item();
    close(L(1, 0.5), L(1, 0) + 0.5 * L(0, 1), 1e-6, 'linearity');
    close(L(0.3, 0.7), 0.3 * L(1, 0) + 0.7 * L(0, 1), 1e-6, 'linearity');
    // A prediction that is right in the box and wrong outside it: only the outer region's weight matters.
    const perfect = torch.F.oneHot(target, 3).permute([0, 3, 1, 2]).float().mul(40);
    const wrongOutside = torch.where(mask.unsqueeze(1).gt(0.5), perfect.roll(1, 1), perfect);
    const l = (w0: number, w1: number) => mixRegionLoss(wrongOutside, target, [{ map: mask, weight: w0, source: 'labelled' }, { map: inv, weight: w1, source: 'unlabelled' }], 'bcp_acdc').item();
    assert.ok(l(1, 0) > 10, `outer region loss ${l(1, 0)}`);
    assert.ok(l(0, 1) < 1e-3, `inner region loss ${l(0, 1)}`);
  });
});

/** Runs one BCP step on a tiny network and recomputes it from the parts. */
function recipeStepMatches(dims: 2 | 3): void {
  const spatial = dims === 2 ? [16, 16] : [8, 8, 8];
  const numClasses = dims === 2 ? 4 : 2;
  const make = () => tinyNet(dims, numClasses, 5);
  const model = make();
  const g = new torch.Generator(9);
  const batch = {
    image: torch.randn([4, 1, ...spatial], { generator: g }),
    label: torch.randint(0, numClasses, [4, ...spatial], { generator: g, dtype: 'uint8' }),
    uimage: torch.randn([4, 1, ...spatial], { generator: g }),
  };
  const recipe = getMethod('bcp').build({ model, makeNetwork: make, loss: new DiceCELoss(), numClasses, spatialDims: dims, totalSteps: 10, seed: 3, params: {}, phase: 'selftrain' });
  assert.deepEqual(Object.keys(recipe.modules()), ['teacher']);
  const step = 4;
  const r = recipe.step(batch, { step, totalSteps: 10, lr: 0.01 });
  // By hand: the teacher equals the student at the start; ACDC (2D) argmax / LA (3D) p ≥ 0.5, then largest component.
  const half = (t: Tensor, k: number) => t.narrow(0, 2 * k, 2);
  const probs = (x: Tensor) => torch.noGrad(() => torch.F.softmax(model.forward(x) as Tensor, 1));
  const opts = { threshold: dims === 3 ? 0.5 : null, largestComponent: true };
  const box = sampleCopyPasteBox(Rng.from(3, 'bcp-mask', 'selftrain', step), spatial, { fraction: 2 / 3, position: 'bcp' });
  const mask = sharedMask(box, 2, spatial);
  const label = batch.label.long();
  const mixes = bidirectionalMixes(
    [{ image: half(batch.image, 0), label: half(label, 0), pseudo: false }, { image: half(batch.image, 1), label: half(label, 1), pseudo: false }],
    [{ image: half(batch.uimage, 0), label: pseudoLabels(probs(half(batch.uimage, 0)), opts), pseudo: true }, { image: half(batch.uimage, 1), label: pseudoLabels(probs(half(batch.uimage, 1)), opts), pseudo: true }],
    mask, dims === 2 ? 'acdc' : 'la', { lWeight: 1, uWeight: 0.5 },
  );
  const expected = mixes.map((m) => mixRegionLoss(model.forward(m.image) as Tensor, m.label, m.regions, dims === 2 ? 'bcp_acdc' : 'bcp_la').item());
  close(r.loss!.item(), expected[0] + expected[1], 1e-5, `${dims}D step loss`);
  const mix0 = r.logs!.mix_0;
  close(typeof mix0 === 'number' ? mix0 : mix0.item(), expected[0], 1e-5, 'mix_0');
}

describe('BCP recipe', () => {
  test('2D self-training step = the sum of the two mix losses, recomputed from teacher pseudo-labels, the seeded mask and the ACDC pairing', () => recipeStepMatches(2));
  test('3D self-training step on [B, 1, Z, Y, X] (LA variant: thresholded pseudo-labels, LA pairing, plain Dice)', () => recipeStepMatches(3));

  test('pre-training mixes the labelled halves: ACDC region loss with both weights 1; LA ½(CE + Dice) on the whole image', () => {
    for (const dims of [2, 3] as const) {
      const spatial = dims === 2 ? [16, 16] : [8, 8, 8];
      const numClasses = 2;
      const make = () => tinyNet(dims, numClasses, 6);
      const model = make();
      const g = new torch.Generator(1);
      const batch = { image: torch.randn([2, 1, ...spatial], { generator: g }), label: torch.randint(0, 2, [2, ...spatial], { generator: g, dtype: 'uint8' }) };
      const recipe = getMethod('bcp').build({ model, makeNetwork: make, loss: new DiceCELoss(), numClasses, spatialDims: dims, totalSteps: 5, seed: 2, params: {}, phase: 'pretrain' });
      assert.deepEqual(recipe.inputs, ['image', 'label']);
      const r = recipe.step(batch, { step: 1, totalSteps: 5, lr: 0.01 });
      const box = sampleCopyPasteBox(Rng.from(2, 'bcp-mask', 'pretrain', 1), spatial, { fraction: 2 / 3, position: 'bcp' });
      const mask = sharedMask(box, 1, spatial);
      const y = batch.label.long();
      const m = copyPasteSample({ image: batch.image.narrow(0, 0, 1), label: y.narrow(0, 0, 1), pseudo: false }, { image: batch.image.narrow(0, 1, 1), label: y.narrow(0, 1, 1), pseudo: false }, mask, { lWeight: 1, uWeight: 1 });
      const out = model.forward(m.image) as Tensor;
      const expected = dims === 2 ? mixRegionLoss(out, m.label, m.regions, 'bcp_acdc').item() : new DiceCELoss({ preset: 'bcp_la' }).forward(out, m.label).item();
      close(r.loss!.item(), expected, 1e-5, `${dims}D pre-training loss`);
    }
  });

  test('bad batches and parameters fail with the method and field named', () => {
    const model = tinyNet(2, 2, 1);
    const build = (params: Record<string, unknown>) => getMethod('bcp').build({ model, makeNetwork: () => tinyNet(2, 2, 1), loss: new DiceCELoss(), numClasses: 2, spatialDims: 2, totalSteps: 5, seed: 1, params, phase: 'selftrain' });
    assert.throws(() => build({ uWeigth: 0.5 }), /method\.uWeigth: unknown key/);
    assert.throws(() => build({ dynamicMask: { mode: 'sometimes' } }), /method\.dynamicMask\.mode: 'sometimes' is not one of fixed, schedule, confidence/);
    assert.throws(() => build({ edgeWeight: 1 }), /needs an edge-guided network \(network.name: unet2d_egm or vnet_egm\)/);
    const r = build({});
    const odd = { image: torch.zeros([3, 1, 16, 16]), label: torch.zeros([3, 16, 16], { dtype: 'uint8' }), uimage: torch.zeros([3, 1, 16, 16]) };
    assert.throws(() => r.step(odd, { step: 0, totalSteps: 5, lr: 0 }), /labelled batch must have an even size/);
    const bad = { image: torch.zeros([2, 1, 16, 16]), label: torch.full([2, 16, 16], 7, { dtype: 'uint8' }), uimage: torch.zeros([2, 1, 16, 16]) };
    assert.throws(() => r.step(bad, { step: 0, totalSteps: 5, lr: 0 }), /labels must be in \[0, 2\)/);
    assert.throws(() => getMethod('bcp').build({ model, makeNetwork: () => tinyNet(2, 4, 1), loss: new DiceCELoss(), numClasses: 4, spatialDims: 2, totalSteps: 5, seed: 1, params: { variant: 'la' }, phase: 'selftrain' }), /pseudoThreshold: a foreground threshold needs 2 classes/);
  });
});

describe('pseudo-labels', () => {
  /** Probabilities that put `labels` (a 2D/3D class map) at 0.9. */
  function probsOf(labels: number[], shape: number[], classes: number): Tensor {
    const t = torch.tensor(labels, { dtype: 'int64' }).view([1, ...shape]);
    return torch.F.oneHot(t, classes).movedim(-1, 1).float().mul(0.9 - 0.1 / (classes - 1)).add(0.1 / (classes - 1));
  }

  test('argmax, then the largest connected component of each class (8-connected, as skimage)', () => {
    // class 1: a 3-pixel L (diagonal link) and a 2-pixel bar; class 2: one pixel and a 2×2 block.
    const map = [
      1, 0, 0, 0, 2, 0,
      0, 1, 1, 0, 0, 0,
      0, 0, 0, 0, 0, 0,
      0, 1, 1, 0, 2, 2,
      0, 0, 0, 0, 2, 2,
    ];
    const kept = pseudoLabels(probsOf(map, [5, 6], 3)).toTypedArray();
    assert.deepEqual(Array.from(kept, Number), [
      1, 0, 0, 0, 0, 0,
      0, 1, 1, 0, 0, 0,
      0, 0, 0, 0, 0, 0,
      0, 0, 0, 0, 2, 2,
      0, 0, 0, 0, 2, 2,
    ]);
    // Without the component step the argmax is returned as is; 'face' connectivity splits the diagonal link.
    assert.deepEqual(Array.from(pseudoLabels(probsOf(map, [5, 6], 3), { largestComponent: false }).toTypedArray(), Number), map);
    const face = Array.from(pseudoLabels(probsOf(map, [5, 6], 3), { connectivity: 'face' }).toTypedArray(), Number);
    assert.equal(face.filter((v) => v === 1).length, 2);
  });

  test('3D: foreground where p ≥ threshold, largest 26-connected component per sample', () => {
    const shape = [3, 5, 5];
    const at = (z: number, y: number, x: number) => z * 25 + y * 5 + x;
    const small = [at(0, 0, 0), at(0, 0, 1)];
    // Four voxels joined by faces and one edge-diagonal (1,4,4)–(2,3,4); (1,4,4) sits exactly at p = 0.5.
    const large = [at(1, 4, 4), at(2, 3, 3), at(2, 3, 4), at(2, 4, 3)];
    const p1 = new Array<number>(75).fill(0.2);
    for (const i of [...small, ...large]) p1[i] = i === at(1, 4, 4) ? 0.5 : 0.8;
    const probs = torch.stack([torch.tensor(p1.map((v) => 1 - v)), torch.tensor(p1)], 0).view([1, 2, ...shape]);
    const out = Array.from(pseudoLabels(probs, { threshold: 0.5 }).toTypedArray(), Number);
    assert.deepEqual(out.map((v, i) => (v ? i : -1)).filter((i) => i >= 0), [...large].sort((a, b) => a - b));
    // With 6-connectivity the diagonal voxel is cut off and the 3-voxel part is the largest.
    const face = Array.from(pseudoLabels(probs, { threshold: 0.5, connectivity: 'face' }).toTypedArray(), Number);
    assert.deepEqual(face.map((v, i) => (v ? i : -1)).filter((i) => i >= 0), [at(2, 3, 3), at(2, 3, 4), at(2, 4, 3)]);
    assert.throws(() => pseudoLabels(torch.ones([1, 3, 2, 2]), { threshold: 0.5 }), /needs 2-class probabilities/);
  });
});

describe('dynamic mask', () => {
  const params = (o: Record<string, unknown>) => dynamicMaskParams.check(o, 'method.dynamicMask', []);

  test("'fixed' is BCP's 2/3 box at every step", () => {
    const d = new DynamicMask(params({}), 2 / 3);
    assert.deepEqual(d.boxOptions(d.progress(500, 1000)), { fraction: 2 / 3 });
  });

  test("'schedule' starts at BCP's box and widens the side range to [1/2, 5/6] with per-axis draws by the last step", () => {
    const d = new DynamicMask(params({ mode: 'schedule' }), 2 / 3);
    assert.equal(d.progress(0, 101), 0);
    assert.equal(d.progress(100, 101), 1);
    assert.deepEqual(d.boxOptions(0), { fraction: 2 / 3 });
    const mid = d.boxOptions(0.5);
    assert.ok(Array.isArray(mid.fraction));
    close((mid.fraction as number[])[0], (2 / 3 + 1 / 2) / 2, 1e-12, 'low');
    close((mid.fraction as number[])[1], (2 / 3 + 5 / 6) / 2, 1e-12, 'high');
    assert.equal(mid.perAxis, true);
    // Boxes drawn at the end of the schedule vary in size and aspect ratio, within the range.
    const end = d.boxOptions(1);
    const sizes = Array.from({ length: 50 }, (_, k) => sampleCopyPasteBox(Rng.from(4, k), [96, 96], { ...end, position: 'bcp' }).size);
    assert.ok(sizes.every(([a, b]) => a >= 48 && a <= 80 && b >= 48 && b <= 80));
    assert.ok(sizes.some(([a, b]) => a !== b));
  });

  test("'confidence' maps the running teacher confidence from [low, high] to progress, and saves it", () => {
    const d = new DynamicMask(params({ mode: 'confidence', confidenceLow: 0.6, confidenceHigh: 0.9, smoothing: 0.5 }), 2 / 3);
    assert.equal(d.needsConfidence, true);
    assert.equal(d.progress(0, 10), 0);
    d.observe(0.6);
    d.observe(0.9); // running: 0.5·0.6 + 0.5·0.9 = 0.75
    close(d.confidence!, 0.75, 1e-12, 'running confidence');
    close(d.progress(0, 10), 0.5, 1e-12, 'progress');
    const e = new DynamicMask(params({ mode: 'confidence' }), 2 / 3);
    e.loadState(d.state());
    assert.equal(e.confidence, d.confidence);
    assert.throws(() => new DynamicMask(params({ mode: 'schedule', end: [0.8, 0.5] }), 2 / 3), /low ≤ high/);
  });
});
