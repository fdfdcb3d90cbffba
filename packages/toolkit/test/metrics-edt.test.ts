// Exact anisotropic EDT: equal to scipy.ndimage.distance_transform_edt on the
// fixture masks, to brute force on random ones, and the query-only variant
// equal to the full transform.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { distanceTransformEdt, squaredDistanceToFeatures, squaredDistancesAt } from '../src/metrics/edt.js';
import { meanStd, percentileLinear, mean } from '../src/metrics/stats.js';
import { REF, assertClose, f64, u8 } from './metrics-fixture.js';
import { Rng } from '../src/random/rng.js';

/** Uniform [0, 1) numbers from the toolkit's seeded PRNG. */
function rng(seed: number): () => number {
  const r = Rng.from(seed);
  return () => r.random();
}

test('distanceTransformEdt equals scipy distance_transform_edt(sampling=...) in 1D, 2D and 3D', () => {
  for (const c of REF.edt as { shape: number[]; sampling: number[]; input: string; edt: string }[]) {
    // numpy C order (Z, Y, X) is dims [X, Y, Z], fastest first; spacing reversed likewise.
    const dims = [...c.shape].reverse();
    const sampling = [...c.sampling].reverse();
    const got = distanceTransformEdt(u8(c.input), dims, { sampling });
    const want = f64(c.edt);
    assert.equal(got.length, want.length);
    for (let i = 0; i < want.length; i++) assertClose(got[i], want[i], `shape [${c.shape}] voxel ${i}`, 1e-12);
    const sq = distanceTransformEdt(u8(c.input), dims, { sampling, squared: true });
    for (let i = 0; i < want.length; i += 7) assertClose(sq[i], want[i] * want[i], `squared, voxel ${i}`, 1e-12);
  }
});

test('squared distances equal brute force on random anisotropic masks, including size-1 axes', () => {
  const r = rng(11);
  for (const dims of [[1], [9], [7, 6], [1, 8], [6, 5, 4], [5, 1, 7], [1, 1, 6], [4, 6, 1]]) {
    const n = dims.reduce((a, b) => a * b, 1);
    const sp = dims.map(() => 0.25 + r() * 3);
    const feat = new Uint8Array(n);
    for (let i = 0; i < n; i++) feat[i] = r() < 0.15 ? 1 : 0;
    const g = squaredDistanceToFeatures(feat, dims, sp);
    const coord = (idx: number) => dims.map((d) => { const c = idx % d; idx = Math.floor(idx / d); return c; });
    for (let i = 0; i < n; i++) {
      let best = Infinity;
      const ci = coord(i);
      for (let j = 0; j < n; j++) {
        if (!feat[j]) continue;
        const cj = coord(j);
        let s = 0;
        for (let a = 0; a < dims.length; a++) s += ((ci[a] - cj[a]) * sp[a]) ** 2;
        if (s < best) best = s;
      }
      assertClose(g[i], best, `dims [${dims}] voxel ${i}`, 1e-12);
    }
  }
});

test('squaredDistancesAt returns the full transform at the query voxels, in memory order', () => {
  const r = rng(5);
  for (const dims of [[40], [23, 31], [17, 13, 11], [30, 20, 1], [9, 1, 12]]) {
    const n = dims.reduce((a, b) => a * b, 1);
    const sp = dims.map(() => 0.3 + r() * 2);
    const feat = new Uint8Array(n);
    const q = new Uint8Array(n);
    for (let i = 0; i < n; i++) { feat[i] = r() < 0.03 ? 1 : 0; q[i] = r() < 0.2 ? 1 : 0; }
    const full = squaredDistanceToFeatures(feat, dims, sp);
    const at = squaredDistancesAt(feat, q, dims, sp);
    const want = full.filter((_, i) => q[i] === 1);
    assert.equal(at.length, want.length);
    for (let i = 0; i < want.length; i++) assert.equal(at[i], want[i], `dims [${dims}] query ${i}`);
  }
});

test('degenerate inputs: no feature gives Infinity, all features give 0, bad grids are named errors', () => {
  const ones = new Uint8Array(24).fill(1);
  assert.ok(distanceTransformEdt(ones, [2, 3, 4]).every((v) => v === Infinity), 'no zero element: no finite distance');
  assert.ok(distanceTransformEdt(new Uint8Array(24), [2, 3, 4]).every((v) => v === 0));
  assert.ok(squaredDistancesAt(new Uint8Array(24), ones, [2, 3, 4]).every((v) => v === Infinity));
  assert.equal(squaredDistancesAt(ones, new Uint8Array(24), [2, 3, 4]).length, 0);
  assert.throws(() => distanceTransformEdt(ones, [2, 3, 4], { sampling: [1, 1] }), /spacing has 2 entries but dims has 3/);
  assert.throws(() => distanceTransformEdt(ones, [2, 3, 4], { sampling: [1, 0, 1] }), /positive finite/);
  assert.throws(() => distanceTransformEdt(ones, [2, 3, 5]), /input has 24 elements, dims \[2, 3, 5\] need 30/);
  assert.throws(() => distanceTransformEdt(ones, [2, 3.5, 4]), /positive integers/);
});

test('percentileLinear matches numpy.percentile (linear) and mean is compensated', () => {
  // numpy: np.percentile([1, 2, 3, 4], 95) = 3.85; np.percentile([5], 95) = 5; [0, 10] → 9.5
  assertClose(percentileLinear([4, 1, 3, 2], 95), 3.85, 'p95 of 1..4', 1e-15);
  assert.equal(percentileLinear([5], 95), 5);
  assertClose(percentileLinear([10, 0], 95), 9.5, 'p95 of [0, 10]', 1e-15);
  assert.ok(Number.isNaN(percentileLinear([], 95)));
  const r = rng(3);
  for (const n of [2, 3, 17, 100, 1001, 4096]) {
    const v = Array.from({ length: n }, () => Math.floor(r() * 50) / 4); // many ties, like voxel distances
    const s = [...v].sort((a, b) => a - b);
    for (const q of [0, 5, 50, 95, 100]) {
      const x = (n - 1) * (q / 100);
      const lo = Math.floor(x);
      const hi = Math.min(lo + 1, n - 1);
      const t = x - lo;
      const want = t >= 0.5 ? s[hi] - (s[hi] - s[lo]) * (1 - t) : s[lo] + (s[hi] - s[lo]) * t;
      assert.equal(percentileLinear(v, q), want, `n ${n} q ${q}`);
    }
  }
  assert.equal(mean([1e16, 1, -1e16, 1]), 0.5);
});

test('meanStd: population (ddof 0) and sample (ddof 1) deviation as numpy.std, NaN-free, n counted', () => {
  // numpy: np.std([2, 4, 4, 4, 5, 5, 7, 9]) = 2.0; ddof=1 → 2.138089935299395
  const v = [2, 4, 4, 4, 5, 5, 7, 9, NaN];
  assert.deepEqual(meanStd(v), { mean: 5, std: 2, n: 8 });
  const s = meanStd(v, 1);
  assert.equal(s.mean, 5);
  assert.ok(Math.abs(s.std - 2.138089935299395) < 1e-12, `sample std ${s.std}`);
  assert.ok(Number.isNaN(meanStd([3], 1).std), 'one value has no sample deviation');
  assert.equal(meanStd([3]).std, 0);
});
