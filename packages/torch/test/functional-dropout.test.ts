// Dropout: statistics of the mask, scaling, channel-wise zeroing, the
// training switch, in-place variants and reproducibility under manualSeed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../src/index.js';
import { F, type Tensor } from '../src/index.js';

const values = (t: Tensor): number[] => Array.from(t.toTypedArray() as Float32Array);

test('dropout zeroes about p of the elements and scales the rest by 1/(1-p)', () => {
  torch.tidy(() => {
    torch.manualSeed(0);
    for (const p of [0.1, 0.5, 0.8]) {
      const x = torch.ones([20000]);
      const y = values(F.dropout(x, { p }));
      const zeros = y.filter((v) => v === 0).length / y.length;
      // Binomial standard deviation is below 0.0036 here; allow 5 sigma.
      assert.ok(Math.abs(zeros - p) < 0.018, `p=${p}: zeroed fraction ${zeros}`);
      const kept = y.filter((v) => v !== 0);
      for (const v of kept) assert.ok(Math.abs(v - 1 / (1 - p)) < 1e-5, `kept value ${v} for p=${p}`);
      assert.deepEqual(values(x).slice(0, 3), [1, 1, 1], 'the input is untouched');
    }
  });
});

test('dropout with p=0 and p=1, and identity when training is false', () => {
  torch.tidy(() => {
    const x = torch.randn([4, 5]);
    assert.deepEqual(F.dropout(x, { p: 0 }).tolist(), x.tolist());
    assert.ok(values(F.dropout(x, { p: 1 })).every((v) => v === 0));
    for (const fn of [F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alphaDropout, F.featureAlphaDropout]) {
      const input = fn === F.dropout1d ? torch.randn([2, 3, 4]) : fn === F.dropout2d ? torch.randn([2, 3, 4, 2]) : torch.randn([2, 3, 4, 2, 2]);
      assert.deepEqual(fn(input, { p: 0.5, training: false }).tolist(), input.tolist(), `${fn.name} with training false`);
    }
    // alpha dropout is off unless asked for, as in PyTorch.
    assert.deepEqual(F.alphaDropout(x, { p: 0.5 }).tolist(), x.tolist());
  });
});

function channelsZeroedWhole(y: Tensor, channelSize: number): { zeroed: number; total: number } {
  const v = values(y);
  let zeroed = 0;
  for (let c = 0; c < v.length / channelSize; c++) {
    const ch = v.slice(c * channelSize, (c + 1) * channelSize);
    const zeros = ch.filter((x) => x === 0).length;
    assert.ok(zeros === 0 || zeros === channelSize, `channel ${c} is zeroed entirely or not at all`);
    if (zeros === channelSize) zeroed++;
    else assert.ok(ch.every((x) => Math.abs(x - 2) < 1e-6), 'kept channels are scaled by 1/(1-p)');
  }
  return { zeroed, total: v.length / channelSize };
}

test('dropout1d/2d/3d zero whole channels, batched and unbatched', () => {
  torch.tidy(() => {
    torch.manualSeed(1);
    const cases: [string, Tensor, number][] = [
      ['dropout1d batched', F.dropout1d(torch.ones([50, 40, 3])), 3],
      ['dropout1d unbatched', F.dropout1d(torch.ones([400, 3])), 3],
      ['dropout2d', F.dropout2d(torch.ones([50, 40, 2, 3])), 6],
      ['dropout3d batched', F.dropout3d(torch.ones([50, 40, 2, 1, 2])), 4],
      ['dropout3d unbatched', F.dropout3d(torch.ones([400, 2, 1, 2])), 4],
    ];
    for (const [name, y, size] of cases) {
      const { zeroed, total } = channelsZeroedWhole(y, size);
      assert.ok(Math.abs(zeroed / total - 0.5) < 0.1, `${name}: ${zeroed}/${total} channels zeroed`);
    }
    assert.deepEqual(F.dropout1d(torch.ones([4, 3])).shape, [4, 3], 'unbatched shape is kept');
    assert.deepEqual(F.dropout3d(torch.ones([4, 1, 1, 3])).shape, [4, 1, 1, 3]);
  });
});

test('in-place dropout overwrites and returns its input', () => {
  torch.tidy(() => {
    torch.manualSeed(2);
    const x = torch.ones([1000]);
    const y = F.dropout(x, { p: 0.5, inplace: true });
    assert.equal(y, x);
    const v = values(x);
    assert.ok(v.some((e) => e === 0) && v.some((e) => e === 2));
    const u = torch.ones([6, 5]);
    assert.equal(F.dropout1d(u, { inplace: true }), u);
    assert.deepEqual(u.shape, [6, 5], 'the unbatched in-place path restores the shape');
    channelsZeroedWhole(u, 5);
  });
});

test('dropout is reproducible under manualSeed and differs without reseeding', () => {
  torch.tidy(() => {
    const x = torch.ones([256]);
    torch.manualSeed(42);
    const a = values(F.dropout(x));
    const b = values(F.dropout(x));
    torch.manualSeed(42);
    assert.deepEqual(values(F.dropout(x)), a);
    assert.notDeepEqual(a, b);
    torch.manualSeed(42);
    const c2 = values(F.dropout2d(torch.ones([4, 16, 2, 2])));
    torch.manualSeed(42);
    assert.deepEqual(values(F.dropout2d(torch.ones([4, 16, 2, 2]))), c2);
  });
});

test('alpha dropout keeps zero mean and unit variance of a standard normal input', () => {
  torch.tidy(() => {
    torch.manualSeed(3);
    const x = torch.randn([40000]);
    const y = values(F.alphaDropout(x, { p: 0.3, training: true }));
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    const variance = y.reduce((a, b) => a + (b - mean) ** 2, 0) / y.length;
    assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
  });
});

test('dropout gradients flow only through kept elements, scaled by 1/(1-p)', () => {
  torch.tidy(() => {
    torch.manualSeed(4);
    const x = torch.ones([500], { requiresGrad: true });
    const y = F.dropout(x, { p: 0.25 });
    y.sum().backward();
    const g = values(x.grad!);
    const out = values(y);
    g.forEach((v, i) => assert.ok(Math.abs(v - out[i]) < 1e-6, 'd(sum y)/dx equals the mask times 1/(1-p)'));
  });
});

test('dropout rejects a probability outside [0, 1]', () => {
  const x = torch.ones([3]);
  for (const fn of [F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alphaDropout, F.featureAlphaDropout]) {
    assert.throws(() => fn(x, { p: 1.5 }), /dropout probability p has to be between 0 and 1, but got 1\.5/);
    assert.throws(() => fn(x, { p: -0.1 }), /between 0 and 1/);
  }
  assert.throws(() => F.dropout1d(torch.ones([2, 3, 4, 5])), /dropout1d: expected 2-D or 3-D input.*received a 4-D input/);
});
