import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as torch from '../src/index.js';

const { optim } = torch;
const fx = JSON.parse(readFileSync(new URL('../../test/fixtures/optim.json', import.meta.url), 'utf8')) as {
  clip: {
    g1: number[];
    g2: number[];
    norm: { norm_type: number | 'inf'; max_norm: number; total: number; g1: number[]; g2: number[] }[];
    value: { clip: number; g1: number[]; g2: number[] };
  };
};

function withGrads(): [torch.Tensor, torch.Tensor] {
  const p1 = torch.zeros([3, 4], { requiresGrad: true });
  const p2 = torch.zeros([5], { requiresGrad: true });
  p1.grad = torch.tensor(new Float32Array(fx.clip.g1), { shape: [3, 4] });
  p2.grad = torch.tensor(new Float32Array(fx.clip.g2), { shape: [5] });
  return [p1, p2];
}

function assertClose(actual: ArrayLike<number>, expected: number[], what: string): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= 1e-6 + 1e-5 * Math.abs(expected[i]), `${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
}

for (const c of fx.clip.norm) {
  test(`clipGradNorm_ normType=${c.norm_type} maxNorm=${c.max_norm} matches PyTorch`, () => {
    const [p1, p2] = withGrads();
    const normType = c.norm_type === 'inf' ? Infinity : c.norm_type;
    const total = optim.clipGradNorm_([p1, p2], c.max_norm, normType);
    assert.equal(total.ndim, 0);
    assertClose([total.item()], [c.total], 'total norm');
    assertClose(p1.grad!.toTypedArray() as Float32Array, c.g1, 'g1');
    assertClose(p2.grad!.toTypedArray() as Float32Array, c.g2, 'g2');
  });
}

test('clipGradValue_ clamps every gradient like PyTorch', () => {
  const [p1, p2] = withGrads();
  optim.clipGradValue_([p1, p2], fx.clip.value.clip);
  assertClose(p1.grad!.toTypedArray() as Float32Array, fx.clip.value.g1, 'g1');
  assertClose(p2.grad!.toTypedArray() as Float32Array, fx.clip.value.g2, 'g2');
});

test('clipping accepts a single tensor, skips parameters without gradients, and returns 0 for none', () => {
  const p = torch.zeros([2], { requiresGrad: true });
  p.grad = torch.tensor([3, 4], { dtype: 'float32' });
  const none = torch.zeros([2], { requiresGrad: true });
  const total = optim.clipGradNorm_([p, none], 1);
  assert.ok(Math.abs(total.item() - 5) < 1e-6);
  assertClose(p.grad!.toTypedArray() as Float32Array, [0.6, 0.8], 'clipped');
  assert.equal(none.grad, null);
  assert.equal(optim.clipGradNorm_([none], 1).item(), 0);
  optim.clipGradValue_(p, 0.7);
  assertClose(p.grad!.toTypedArray() as Float32Array, [0.6, 0.7], 'value-clipped');
});

test('errorIfNonfinite raises on an infinite or NaN norm, and scales by it otherwise', () => {
  const p = torch.zeros([2], { requiresGrad: true });
  p.grad = torch.tensor([Infinity, 1], { dtype: 'float32' });
  assert.throws(() => optim.clipGradNorm_([p], 1, 2, true), /total norm of order 2 of the gradients is Infinity, so they cannot be clipped/);
  assert.equal(optim.clipGradNorm_([p], 1).item(), Infinity);
  assert.throws(() => optim.clipGradNorm_([p], Number.NaN), /maxNorm must be a number/);
});
