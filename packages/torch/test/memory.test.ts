// Native memory is released deterministically: a training loop keeps a flat
// resident-memory profile, with scopes and, as a safety net, without them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as torch from '../src/index.js';
import { F, nn, optim } from '../src/index.js';

function rssMiB(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

// Sampling after a full GC separates native memory from JS garbage that V8
// has simply not collected yet.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function makeNet(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 8, 3, { padding: 1 }),
    new nn.InstanceNorm2d(8, { affine: true }),
    new nn.LeakyReLU(0.01),
    new nn.Conv2d(8, 2, 1),
  );
}

test('2000 training steps inside tidy() keep resident memory flat', () => {
  torch.manualSeed(0);
  const net = makeNet();
  const opt = new optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.9, nesterov: true });
  const x = torch.keep(torch.randn([4, 1, 32, 32]));
  const y = torch.keep(torch.randint(0, 2, [4, 32, 32]));
  const samples: number[] = [];
  let first = 0;
  let last = 0;
  for (let step = 0; step < 2000; step++) {
    const loss = torch.tidy(() => {
      opt.zeroGrad();
      const l = F.crossEntropy(net.forward(x), y);
      l.backward();
      opt.step();
      return l.item();
    });
    if (step === 0) first = loss;
    last = loss;
    if (step % 100 === 99) {
      gc();
      samples.push(rssMiB());
    }
  }
  assert.ok(last < first, `the network trains (loss ${first} -> ${last})`);
  // Allocator warm-up happens early; after that the profile must be flat.
  // A leak is a trend: compare the medians of the first and last samples, so
  // one transient allocator spike (a few MiB with several threads) is not one.
  const settled = samples.slice(3);
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
  const growth = median(settled.slice(-4)) - median(settled.slice(0, 4));
  assert.ok(growth < 4, `RSS grew ${growth.toFixed(1)} MiB over ${settled.length * 100} steps: ${settled.map((v) => v.toFixed(0)).join(', ')}`);
  net.dispose();
});

test('without scopes or dispose(), the finalizer safety net frees memory once the event loop turns', async () => {
  // Each step drops four 2 MiB tensors on the floor: 600 steps would leak
  // 4.8 GiB if garbage-collected wrappers did not free native memory. When
  // the GC runs is V8's choice, and glibc keeps some freed memory, so the
  // bound is a fraction of the leak rather than a tight one.
  // Finalizers (JS or Node-API alike) run between event-loop turns, so the
  // loop yields now and then, as an async training loop in a server does.
  // Synchronous code must use tidy() or dispose(): that is the mechanism.
  const before = rssMiB();
  let peak = before;
  for (let step = 0; step < 600; step++) {
    const a = torch.randn([8, 16, 64, 64]);
    a.mul(2).add(1).relu();
    if (step % 10 === 9) {
      await new Promise((resolve) => setImmediate(resolve));
      peak = Math.max(peak, rssMiB());
    }
  }
  assert.ok(peak - before < 1200, `RSS rose ${(peak - before).toFixed(0)} MiB (a leak would be about 4800 MiB)`);
});

test('dispose() frees native memory immediately', () => {
  const big = () => torch.zeros([64, 1024, 1024]); // 256 MiB
  const before = rssMiB();
  for (let i = 0; i < 8; i++) big().dispose();
  assert.ok(rssMiB() - before < 300, 'eight 256 MiB tensors were not all resident at once');
});

test('parameters built outside any scope survive garbage collection of their temporaries', async () => {
  // Regression: Parameter took over the native handle of a temporary whose
  // GC finalizer stayed armed, so collecting the temporary freed the
  // parameter's tensor. Finalizers are armed in batches of 256, so vary the
  // number of unscoped tensors made before each Parameter to hit the boundary.
  await new Promise((resolve) => setImmediate(resolve));
  const params: nn.Parameter[] = [];
  for (let k = 250; k < 262; k++) {
    for (let i = 0; i < k; i++) torch.zeros([1]);
    params.push(new nn.Parameter(torch.full([1000], 7, { dtype: 'float32' })));
    await new Promise((resolve) => setImmediate(resolve));
  }
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const reuse = Array.from({ length: 50 }, () => torch.full([1000], -1, { dtype: 'float32' }));
  for (const p of params) assert.equal(p.sum().item(), 7000);
  torch.dispose(reuse);
});
