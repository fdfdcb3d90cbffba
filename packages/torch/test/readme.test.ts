// The README's usage example and porting table, executed, so the README stays true.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as torch from '../src/index.js';
import { F, nn, optim } from '../src/index.js';

test('README usage example trains and saves', () => {
  torch.manualSeed(0);
  const net = new nn.Sequential(new nn.Conv3d(1, 16, 3, { padding: 1 }), new nn.InstanceNorm3d(16, { affine: true }), new nn.LeakyReLU(0.01), new nn.Conv3d(16, 2, 1));
  const opt = new optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 });
  const x = torch.randn([2, 1, 8, 8, 8]);
  const y = torch.randint(0, 2, [2, 8, 8, 8]);
  const losses: number[] = [];
  for (let step = 0; step < 5; step++) {
    losses.push(torch.tidy(() => {
      opt.zeroGrad();
      const l = F.crossEntropy(net.forward(x), y);
      l.backward();
      opt.step();
      return l.item();
    }));
  }
  assert.ok(losses[4] < losses[0]);
  const dir = mkdtempSync(join(tmpdir(), 'lw-readme-'));
  try {
    torch.saveSafetensors(join(dir, 'model.safetensors'), net.stateDict());
    const back = torch.loadSafetensors(join(dir, 'model.safetensors'));
    assert.deepEqual([...back.keys()].sort(), [...net.stateDict().keys()].sort());
    net.loadStateDict(back);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('README porting table', () => {
  assert.equal(torch.zeros([2, 3], { dtype: 'float64' }).dtype, 'float64');
  const x = torch.arange(2 * 4 * 5).reshape([2, 4, 5]);
  const idx = torch.tensor([0, 4]);
  assert.deepEqual(x.index([':', '1:3', null, idx]).shape, [2, 2, 1, 2]);
  const m = x.gt(30);
  const z = x.clone();
  z.indexPut_([m], 0);
  assert.equal(z.gt(30).any().item(), 0);
  const img = torch.ones([1, 1, 2, 2, 2]);
  assert.deepEqual(F.interpolate(img, { scaleFactor: 2, mode: 'trilinear', alignCorners: false }).shape, [1, 1, 4, 4, 4]);
  const logits = torch.randn([2, 3, 4]);
  const target = torch.tensor([[0, 1, 255, 2], [2, 2, 1, 0]]);
  assert.ok(Number.isFinite(F.crossEntropy(logits, target, { ignoreIndex: 255, labelSmoothing: 0.1 }).item()));
  const w = torch.ones([3]);
  w.maskedFill_(torch.tensor([true, false, true]), 0);
  assert.deepEqual(w.tolist(), [0, 1, 0]);
  assert.equal(torch.noGrad(() => torch.ones([1], { requiresGrad: true }).mul(2)).requiresGrad, false);
  const a = torch.tensor([3], { dtype: 'float64', requiresGrad: true });
  const [g] = torch.autograd.grad(a.mul(a), a, { createGraph: true });
  assert.equal(g!.item(), 6);
  assert.equal(torch.full([1], { float: 2 }).dtype, 'float32');
  assert.deepEqual((torch.op('sum', 'dim_IntList')([x], { dim: [2], keepdim: true }) as torch.Tensor).shape, [2, 4, 1]);
});

test('README error example', () => {
  assert.throws(() => torch.zeros([2, 3]).add(torch.zeros([4, 5])), /^Error: aten::add\.Tensor\(self=float32\[2, 3\], other=float32\[4, 5\]\): The size of tensor a \(3\) must match the size of tensor b \(5\) at non-singleton dimension 1/);
});
