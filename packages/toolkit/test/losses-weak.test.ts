// PA-Seg's weak-supervision regularisers against fixtures/weak_losses_ref.py
// (the seed's unfold formulation in PyTorch, float64): gated CRF 2D and
// multi-view values and gradients, variance loss; plus a gradcheck, the
// float32 path, memory at PA-Seg's BraTS size, and shape errors.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as torch from '@labelwise/torch';
import { type Tensor, F } from '@labelwise/torch';
import { gatedCrfLoss2d, gatedCrfLoss3dMultiView, varianceLoss } from '../src/losses/index.js';
import { FIXTURES } from './shared-data.js';

interface Base { shape: number[]; imageShape: number[]; image: number[]; loss: number; grad: number[] }
interface Crf2dCase extends Base { radius: [number, number]; sigmaXY: number; sigmaRGB: number; probs: number[]; lossNoBorder: number }
interface MultiViewCase extends Base { radius: [number, number]; sigmaXY: number; sigmaRGB: number; downSize: number[] | null; logits: number[] }
interface VarianceCase extends Base { logits: number[] }
interface Fixture { crf2d: Crf2dCase[]; multiview: MultiViewCase[]; variance: VarianceCase[] }

const ref = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'weak_losses_ref.json'), 'utf8')) as Fixture;

const t64 = (v: number[], shape: number[]): Tensor => torch.tensor(Float64Array.from(v), { shape });

function close(actual: number, expected: number, rtol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= rtol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

function closeAll(actual: Tensor, expected: number[], rtol: number, what: string): void {
  const a = actual.toTypedArray() as Float64Array | Float32Array;
  assert.equal(a.length, expected.length, `${what}: length`);
  const scale = Math.max(1e-3, ...expected.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - expected[i]) / scale);
  assert.ok(worst <= rtol, `${what}: max error ${worst.toExponential(2)} relative to max |grad| ${scale.toExponential(2)}`);
}

/** Value and gradient w.r.t. the leaf `x` of f(x). */
function valueAndGrad(x: Tensor, f: (x: Tensor) => Tensor): { value: number; grad: Tensor } {
  x.requiresGrad_(true);
  const loss = f(x);
  loss.backward();
  const value = loss.item();
  loss.dispose();
  return { value, grad: x.grad! };
}

describe('gatedCrfLoss2d', () => {
  for (const c of ref.crf2d) {
    test(`matches the seed's unfold form: ${c.shape.join('×')}, image ${c.imageShape[1]} ch, radius ${c.radius.join('/')}, σ ${c.sigmaXY}/${c.sigmaRGB}`, () => {
      torch.tidy(() => {
        const image = t64(c.image, c.imageShape);
        const opts = { radius: c.radius, sigmaXY: c.sigmaXY, sigmaRGB: c.sigmaRGB };
        const { value, grad } = valueAndGrad(t64(c.probs, c.shape), (p) => gatedCrfLoss2d(p, image, opts));
        close(value, c.loss, 1e-9, 'loss');
        closeAll(grad, c.grad, 1e-9, 'd loss / d probs');
        // Without the seed's padded-neighbour term: another constant, same gradient.
        const { value: v2, grad: g2 } = valueAndGrad(t64(c.probs, c.shape), (p) => gatedCrfLoss2d(p, image, { ...opts, border: 'none' }));
        close(v2, c.lossNoBorder, 1e-9, 'loss, border none');
        closeAll(g2, c.grad, 1e-9, 'd loss / d probs, border none');
      });
    });
  }

  test('float32 stays float32 and within 1e-4 of the float64 reference', () => {
    const c = ref.crf2d[1];
    torch.tidy(() => {
      const image = t64(c.image, c.imageShape).float();
      const { value, grad } = valueAndGrad(t64(c.probs, c.shape).float(), (p) => {
        const l = gatedCrfLoss2d(p, image, { radius: c.radius, sigmaXY: c.sigmaXY, sigmaRGB: c.sigmaRGB });
        assert.equal(l.dtype, 'float32');
        assert.deepEqual(l.shape, []);
        return l;
      });
      close(value, c.loss, 1e-4, 'loss');
      closeAll(grad, c.grad, 1e-4, 'grad');
    });
  });

  test('passes gradcheck (the detached-message gradient is the true one)', () => {
    torch.tidy(() => {
      torch.manualSeed(3);
      const p = F.softmax(torch.randn([1, 3, 5, 6], { dtype: 'float64' }), 1).requiresGrad_(true);
      const image = torch.randn([1, 1, 5, 6], { dtype: 'float64' });
      assert.ok(torch.gradcheck((x: Tensor) => gatedCrfLoss2d(x, image, { radius: 2, sigmaXY: 2, sigmaRGB: 0.7 }), [p]));
    });
  });

  test('one class everywhere costs nothing (Potts, border none)', () => {
    torch.tidy(() => {
      // Potts: a single class everywhere gives Σk − Σk·1 = 0 (border 'none').
      const p = torch.zeros([1, 2, 8, 8], { dtype: 'float64' });
      p.narrow(1, 0, 1).fill_(1);
      const image = torch.randn([1, 1, 8, 8], { dtype: 'float64' });
      close(gatedCrfLoss2d(p, image, { border: 'none' }).item(), 0, 1e-12, 'constant labels');
    });
  });

  test('errors name the argument and the expected shape', () => {
    torch.tidy(() => {
      const p = torch.zeros([2, 2, 6, 7]);
      assert.throws(() => gatedCrfLoss2d(torch.zeros([2, 6, 7]), torch.zeros([2, 1, 6, 7])), /gatedCrfLoss2d: probs must be \[B, C, H, W\], got shape \[2, 6, 7\]/);
      assert.throws(() => gatedCrfLoss2d(p, torch.zeros([2, 6, 7])), /gatedCrfLoss2d: image must be \[B, Ci, H, W\] matching probs, i\.e\. \[2, Ci, 6, 7\]; got shape \[2, 6, 7\]/);
      assert.throws(() => gatedCrfLoss2d(p, torch.zeros([2, 1, 6, 8])), /image shape \[2, 1, 6, 8\] does not match probs \[2, 2, 6, 7\]; expected \[2, Ci, 6, 7\]/);
      assert.throws(() => gatedCrfLoss2d(p, torch.zeros([1, 1, 6, 7])), /does not match probs/);
      assert.throws(() => gatedCrfLoss2d(p, torch.zeros([2, 1, 6, 7]), { radius: 0 }), /radius must be an integer ≥ 1/);
      assert.throws(() => gatedCrfLoss2d(p, torch.zeros([2, 1, 6, 7]), { sigmaRGB: 0 }), /sigmaRGB must be a positive number/);
    });
  });
});

describe('gatedCrfLoss3dMultiView', () => {
  for (const c of ref.multiview) {
    test(`matches the seed's three views: ${c.shape.join('×')}, downSize ${c.downSize?.join('×') ?? 'none'}, radius ${c.radius.join('/')}`, () => {
      torch.tidy(() => {
        const image = t64(c.image, c.imageShape);
        const opts = { radius: c.radius, sigmaXY: c.sigmaXY, sigmaRGB: c.sigmaRGB, downSize: c.downSize };
        const { value, grad } = valueAndGrad(t64(c.logits, c.shape), (x) => gatedCrfLoss3dMultiView(x, image, opts));
        close(value, c.loss, 1e-9, 'loss');
        closeAll(grad, c.grad, 1e-9, 'd loss / d logits');
      });
    });
  }

  test('at PA-Seg\'s BraTS size (64³, radius 5) forward+backward needs far less memory than the seed\'s unfold', () => {
    // The seed's unfold holds [64, 3, 121, 4096] features (~380 MB in float32)
    // per view; a dense per-slice kernel 192 × 4096² (~12 GB). Ours: O(N·C).
    torch.tidy(() => {
      torch.manualSeed(7);
      const logits = torch.randn([1, 2, 64, 64, 64]).requiresGrad_(true);
      const image = torch.randn([1, 1, 64, 64, 64]);
      const peakBefore = process.resourceUsage().maxRSS / 1024;
      const rssBefore = process.memoryUsage.rss() / 2 ** 20;
      const t0 = performance.now();
      const loss = gatedCrfLoss3dMultiView(logits, image, { downSize: [64, 64, 64], radius: 5 });
      loss.backward();
      const ms = performance.now() - t0;
      const peakGrowth = process.resourceUsage().maxRSS / 1024 - Math.max(peakBefore, rssBefore);
      assert.ok(Number.isFinite(loss.item()) && loss.item() > 0);
      assert.deepEqual(logits.grad!.shape, [1, 2, 64, 64, 64]);
      assert.ok(peakGrowth < 256, `peak RSS grew by ${peakGrowth.toFixed(0)} MiB (${ms.toFixed(0)} ms)`);
    });
  });

  test('errors name the argument and the expected shape', () => {
    torch.tidy(() => {
      const x = torch.zeros([1, 2, 4, 5, 6]);
      assert.throws(() => gatedCrfLoss3dMultiView(torch.zeros([1, 2, 4, 5]), torch.zeros([1, 1, 4, 5])), /gatedCrfLoss3dMultiView: logits must be \[B, C, D, H, W\], got shape \[1, 2, 4, 5\]/);
      assert.throws(() => gatedCrfLoss3dMultiView(x, torch.zeros([1, 1, 4, 5])), /image must be \[B, Ci, D, H, W\] matching logits, i\.e\. \[1, Ci, 4, 5, 6\]/);
      assert.throws(() => gatedCrfLoss3dMultiView(x, torch.zeros([1, 1, 4, 5, 7])), /image shape \[1, 1, 4, 5, 7\] does not match logits \[1, 2, 4, 5, 6\]/);
      assert.throws(() => gatedCrfLoss3dMultiView(x, torch.zeros([1, 1, 4, 5, 6]), { downSize: [4, 4] }), /downSize must be three positive integers/);
    });
  });
});

describe('varianceLoss', () => {
  for (const c of ref.variance) {
    test(`matches the seed (softmax of logits, background above the minimum): ${c.shape.join('×')}`, () => {
      torch.tidy(() => {
        const image = t64(c.image, c.imageShape);
        const { value, grad } = valueAndGrad(t64(c.logits, c.shape), (x) => varianceLoss(F.softmax(x, 1), image));
        close(value, c.loss, 1e-9, 'loss');
        closeAll(grad, c.grad, 1e-9, 'd loss / d logits');
      });
    });
  }

  test('float32 input gives a float32 loss within 1e-4', () => {
    const c = ref.variance[1];
    torch.tidy(() => {
      const image = t64(c.image, c.imageShape).float();
      const { value, grad } = valueAndGrad(t64(c.logits, c.shape).float(), (x) => varianceLoss(F.softmax(x, 1), image));
      close(value, c.loss, 1e-4, 'loss');
      closeAll(grad, c.grad, 1e-4, 'grad');
    });
  });

  test('a background with no voxel above the minimum adds 0, not NaN', () => {
    torch.tidy(() => {
      const p = torch.full([1, 2, 3, 3], 0.5, { dtype: 'float64' });
      const image = torch.zeros([1, 1, 3, 3], { dtype: 'float64' });
      assert.equal(varianceLoss(p, image).item(), 0);
    });
  });

  test('errors name the argument and the expected shape', () => {
    torch.tidy(() => {
      assert.throws(() => varianceLoss(torch.zeros([2, 3]), torch.zeros([2, 1])), /varianceLoss: probs must be \[B, C, \*spatial\] with 1-3 spatial dims, got shape \[2, 3\]/);
      assert.throws(() => varianceLoss(torch.zeros([2, 3, 4, 5]), torch.zeros([2, 2, 4, 5])), /varianceLoss: image must be \[B, 1, \*spatial\] matching probs \[2, 3, 4, 5\], i\.e\. \[2, 1, 4, 5\]; got shape \[2, 2, 4, 5\]/);
    });
  });
});
