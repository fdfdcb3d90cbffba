// Intensity and photometric augmentations against their formulas
// (batchgenerators gamma/contrast and skimage HSV from the fixture) and
// known answers.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import {
  addBrightness,
  addGaussianNoise,
  adjustContrast,
  adjustGamma,
  applyBiasField,
  eraseBoxes,
  gaussianBlur,
  multiplyBrightness,
  polynomialTerms,
  saltAndPepper,
  sampleBgContrast,
  sampleErasingBox,
  simulateLowResolution,
} from '../src/transforms/intensity.js';
import { colorJitter, hsvToRgb, rgbToGrayscale, rgbToHsv } from '../src/transforms/photometric.js';
import { Rng } from '../src/random/rng.js';
import { FIXTURES } from './shared-data.js';

// Small tensors: one libtorch thread avoids OpenMP wake-up latency (and oversubscription when suites run side by side).
torch.setNumThreads(1);

interface Ref {
  gamma: { shape: number[]; x: number[]; gamma: number[][]; invert: boolean[][]; retain: boolean[][]; expected: number[] };
  contrast: { shape: number[]; x: number[]; factor: number[][]; expected: number[] };
  hsv: { shape: number[]; rgb: number[]; hsv: number[] };
}
const REF = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'transforms_augment_ref.json'), 'utf8')) as Ref;
const t32 = (v: number[], shape: number[]) => torch.tensor(v, { dtype: 'float32' }).reshape(shape);
const maxAbs = (a: Tensor, b: Tensor): number => torch.tidy(() => a.to('float64').sub(b.to('float64')).abs().max().item());

test('gamma matches batchgenerators augment_gamma (invert, retain stats); null channels are untouched', () => {
  torch.tidy(() => {
    const g = REF.gamma;
    const x = t32(g.x, g.shape);
    const y = adjustGamma(x, g.gamma, { invert: g.invert, retainStats: g.retain });
    assert.ok(maxAbs(y, t32(g.expected, g.shape)) < 2e-5, `max diff ${maxAbs(y, t32(g.expected, g.shape))}`);
    const z = adjustGamma(x, [[null, 1.3], [null, null]]);
    assert.ok(z.narrow(0, 1, 1).equal(x.narrow(0, 1, 1)));
    assert.ok(z.narrow(1, 0, 1).equal(x.narrow(1, 0, 1)));
    assert.ok(!z.narrow(0, 0, 1).narrow(1, 1, 1).equal(x.narrow(0, 0, 1).narrow(1, 1, 1)));
  });
});

test('contrast matches batchgenerators augment_contrast(preserve_range=True); brightness is x·f and x + s', () => {
  torch.tidy(() => {
    const c = REF.contrast;
    const x = t32(c.x, c.shape);
    assert.ok(maxAbs(adjustContrast(x, c.factor), t32(c.expected, c.shape)) < 2e-5);
    const m = multiplyBrightness(x, [[2, null], [0.5, 1]]);
    assert.ok(maxAbs(m.narrow(0, 0, 1).narrow(1, 0, 1), x.narrow(0, 0, 1).narrow(1, 0, 1).mul(2)) === 0);
    assert.ok(m.narrow(0, 0, 1).narrow(1, 1, 1).equal(x.narrow(0, 0, 1).narrow(1, 1, 1)));
    const a = addBrightness(x, [[0.25, 0.25], [-1, 0]]);
    assert.ok(maxAbs(a.narrow(0, 1, 1).narrow(1, 0, 1), x.narrow(0, 1, 1).narrow(1, 0, 1).sub(1)) === 0);
  });
});

test('BGContrast sampling draws half below and half above 1', () => {
  const rng = Rng.from(1);
  const v = Array.from({ length: 4000 }, () => sampleBgContrast(rng, [0.75, 1.25]));
  const below = v.filter((f) => f < 1).length / v.length;
  assert.ok(Math.abs(below - 0.5) < 0.03, `fraction below 1: ${below}`);
  assert.ok(v.every((f) => f >= 0.75 && f <= 1.25));
});

test('Gaussian noise: seeded, per-channel std, clipping at k·std', () => {
  torch.tidy(() => {
    const x = torch.zeros([2, 2, 64, 64]);
    const a = addGaussianNoise(x, [[0.1, 0], [1, 2]], [7, 8]);
    const b = addGaussianNoise(x, [[0.1, 0], [1, 2]], [7, 8]);
    assert.ok(a.equal(b));
    const std = (bb: number, c: number) => a.narrow(0, bb, 1).narrow(1, c, 1).std().item();
    assert.ok(Math.abs(std(0, 0) - 0.1) < 0.01 && std(0, 1) === 0 && Math.abs(std(1, 1) - 2) < 0.1);
    const clipped = addGaussianNoise(x, [[0.1, 0.1], [0.1, 0.1]], [1, 2], 2);
    assert.ok(clipped.abs().max().item() <= 0.2 + 1e-6);
  });
});

test('Gaussian blur: a delta becomes the normalised kernel; constants stay constant (reflect border); null channels skip', () => {
  torch.tidy(() => {
    const x = torch.zeros([1, 2, 21, 21]);
    x.indexPut_([0, 0, 10, 10], 1);
    x.narrow(1, 1, 1).fill_(3);
    const y = gaussianBlur(x, [[[1.5, 1.5], [2, 1]]]);
    const k = (i: number) => Math.exp((-i * i) / (2 * 1.5 * 1.5));
    let norm = 0;
    for (let i = -6; i <= 6; i++) norm += k(i);
    assert.ok(Math.abs(y.index([0, 0, 10, 12]).item() - (k(0) * k(2)) / (norm * norm)) < 1e-6);
    assert.ok(Math.abs(y.sum([2, 3]).index([0, 0]).item() - 1) < 1e-5);
    assert.ok(maxAbs(y.narrow(1, 1, 1), torch.fullLike(y.narrow(1, 1, 1), 3)) < 1e-5);
    const z = gaussianBlur(x, [[null, [1, 1]]]);
    assert.ok(z.narrow(1, 0, 1).equal(x.narrow(1, 0, 1)));
  });
});

test('simulated low resolution: zoom 1 keeps, a downsample of a piecewise constant image is blocky then smoothed back', () => {
  torch.tidy(() => {
    const x = torch.rand([1, 1, 16, 16, 16], { generator: new torch.Generator(1) });
    assert.ok(simulateLowResolution(x, [[[1, 1, 1]]]).equal(x));
    const c = torch.fullLike(x, 2);
    assert.ok(maxAbs(simulateLowResolution(c, [[[0.5, 0.5, 0.5]]]), c) < 1e-6);
    const y = simulateLowResolution(x, [[[0.5, 1, 0.5]]]);
    assert.deepEqual(y.shape, x.shape);
    assert.ok(maxAbs(y, x) > 0.05);
    assert.ok(simulateLowResolution(x, [[null]]).equal(x));
  });
});

test('bias field: TorchIO term count, zero coefficients keep, a constant term multiplies by exp(c)', () => {
  assert.equal(polynomialTerms(3, 3).length, 20);
  assert.equal(polynomialTerms(3, 2).length, 10);
  torch.tidy(() => {
    const x = torch.rand([2, 2, 8, 9, 10], { generator: new torch.Generator(2) });
    const zero = new Array<number>(20).fill(0);
    const c = [...zero];
    c[0] = 0.3; // the (0,0,0) term
    const y = applyBiasField(x, [zero, c], 3);
    assert.ok(maxAbs(y.narrow(0, 0, 1), x.narrow(0, 0, 1)) < 1e-6);
    assert.ok(maxAbs(y.narrow(0, 1, 1), x.narrow(0, 1, 1).mul(Math.exp(0.3))) < 1e-5);
    // a linear term along axis 2 (last): field exp(0.5·u), u ∈ [−1, 1]
    const lin = [...zero];
    lin[polynomialTerms(3, 3).findIndex((t) => t.join() === '0,0,1')] = 0.5;
    const ones = applyBiasField(torch.ones([1, 1, 3, 3, 5]), [lin], 3);
    assert.ok(Math.abs(ones.index([0, 0, 1, 1, 0]).item() - Math.exp(-0.5)) < 1e-6);
    assert.ok(Math.abs(ones.index([0, 0, 2, 0, 4]).item() - Math.exp(0.5)) < 1e-6);
  });
});

test('salt and pepper sets about `amount` of values to the channel max / min', () => {
  torch.tidy(() => {
    const x = torch.rand([1, 1, 128, 128], { generator: new torch.Generator(3) });
    const mx = x.max().item();
    const mn = x.min().item();
    const y = saltAndPepper(x, [0.05], [0.2], [11]);
    const changed = y.ne(x);
    const frac = changed.to('float32').mean().item();
    assert.ok(Math.abs(frac - 0.05) < 0.01, `changed ${frac}`);
    const salt = y.eq(mx).logicalAnd(changed).to('float32').mean().item();
    assert.ok(Math.abs(salt - 0.01) < 0.005, `salt ${salt}`);
    assert.ok(y.maskedSelect(changed).eq(mn).logicalOr(y.maskedSelect(changed).eq(mx)).all().item() === 1);
  });
});

test('random erasing: box search stays inside; erased box takes the value, the rest is untouched', () => {
  const rng = Rng.from(5);
  for (let i = 0; i < 50; i++) {
    const b = sampleErasingBox(rng, [20, 30, 40], [0.02, 0.33], [0.3, 3.3]);
    if (!b) continue;
    b.size.forEach((s, a) => assert.ok(b.start[a] >= 0 && b.start[a] + s <= [20, 30, 40][a]));
  }
  torch.tidy(() => {
    const x = torch.rand([2, 1, 10, 12], { generator: new torch.Generator(4) });
    const y = eraseBoxes(x, [[{ start: [2, 3], size: [4, 5] }], []], -1);
    assert.ok(y.narrow(0, 0, 1).narrow(2, 2, 4).narrow(3, 3, 5).eq(-1).all().item() === 1);
    assert.equal(y.eq(-1).sum().item(), 20);
    assert.ok(y.narrow(0, 1, 1).equal(x.narrow(0, 1, 1)));
  });
});

test('RGB ↔ HSV matches skimage and round-trips; greyscale and colour jitter follow torchvision formulas', () => {
  torch.tidy(() => {
    const h = REF.hsv;
    const rgb = t32(h.rgb, h.shape);
    assert.ok(maxAbs(rgbToHsv(rgb), t32(h.hsv, h.shape)) < 1e-5);
    assert.ok(maxAbs(hsvToRgb(rgbToHsv(rgb)), rgb) < 1e-5);
    const g = rgbToGrayscale(rgb);
    assert.ok(Math.abs(g.index([0, 0, 0, 0]).item() - 0.2989) < 1e-6); // pure red
    const id = colorJitter(rgb, { order: [0, 1, 2, 3], brightness: 1, contrast: 1, saturation: 1, hue: 0 });
    assert.ok(maxAbs(id, rgb) < 1e-6);
    const b = colorJitter(rgb, { order: [0, 1, 2, 3], brightness: 1.5, contrast: null, saturation: null, hue: null });
    assert.ok(maxAbs(b, rgb.mul(1.5).clamp(0, 1)) < 1e-6);
    const s0 = colorJitter(rgb, { order: [2, 0, 1, 3], brightness: null, contrast: null, saturation: 0, hue: null });
    assert.ok(maxAbs(s0, g.expand([1, 3, 4, 5])) < 1e-6);
    const c = colorJitter(rgb, { order: [1, 0, 2, 3], brightness: null, contrast: 0.5, saturation: null, hue: null });
    assert.ok(maxAbs(c, rgb.mul(0.5).add(g.mean().mul(0.5)).clamp(0, 1)) < 1e-6);
    // a hue shift of 1/3 turns pure red into pure green
    const h3 = colorJitter(rgb, { order: [3, 0, 1, 2], brightness: null, contrast: null, saturation: null, hue: 1 / 3 });
    assert.deepEqual((h3.index([0, ':', 0, 0]).tolist() as number[]).map((v) => Math.round(v * 1e5) / 1e5), [0, 1, 0]);
    // greyscale images: hue and saturation are no-ops
    const grey = rgb.narrow(1, 0, 1);
    assert.ok(colorJitter(grey, { order: [2, 3, 0, 1], brightness: null, contrast: null, saturation: 0.2, hue: 0.3 }).equal(grey));
  });
});
