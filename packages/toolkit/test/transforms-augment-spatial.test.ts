// Geometry of the fused spatial augmentation, against known answers:
// torch.rot90/flip (exact index ops), scipy.ndimage.map_coordinates of the
// analytic rotation+scale mapping (fixture), sequential resampling, points
// following image content, label value sets, elastic fields.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import { gaussianFilter } from '../src/transforms/augment-filters.js';
import {
  applySpatial,
  cropStep,
  elasticField,
  elasticLattice,
  elasticStep,
  flipStep,
  fuseChain,
  exactPermutation,
  resizeStep,
  rot90Step,
  rotateStep,
  scaleStep,
  translateStep,
} from '../src/transforms/spatial.js';
import { FIXTURES } from './shared-data.js';

// Small tensors: one libtorch thread avoids OpenMP wake-up latency (and oversubscription when suites run side by side).
torch.setNumThreads(1);

interface Ref {
  gaussian: { shape: number[]; x: number[]; sigma: number[][]; constant: number[]; reflect: number[] };
  affine2d: { shape: number[]; degrees: number[]; scale: number[]; x: number[]; expected: number[] };
  affine3d: { shape: number[]; degrees: number[]; scale: number[]; x: number[]; expected: number[] };
}
const REF = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'transforms_augment_ref.json'), 'utf8')) as Ref;

const maxAbs = (a: Tensor, b: Tensor): number => torch.tidy(() => a.to('float64').sub(b.to('float64')).abs().max().item());
const t64 = (v: number[], shape: number[]) => torch.tensor(v, { dtype: 'float64' }).reshape(shape);

/** Intensity-weighted centroid of x [1, 1, ...spatial]. */
function centroid(x: Tensor): number[] {
  return torch.tidy(() => {
    const d = x.ndim - 2;
    const tot = x.sum().item();
    return Array.from({ length: d }, (_, a) => {
      const other = Array.from({ length: x.ndim }, (_, i) => i).filter((i) => i !== a + 2);
      return x.sum(other).mul(torch.arange(0, x.shape[a + 2], { dtype: 'float32' })).sum().item() / tot;
    });
  });
}

/** Values of the coordinate image out [1, d, ...] (channel a = input coordinate a) at output points q, multilinearly. */
function sampleAt(out: Tensor, q: number[][]): number[][] {
  return torch.tidy(() => {
    const s = out.shape.slice(2);
    const d = s.length;
    const g = q.map((p) => Array.from({ length: d }, (_, r) => (2 * p[d - 1 - r] + 1) / s[d - 1 - r] - 1));
    const grid = torch.tensor(g, { dtype: 'float32' }).reshape([1, ...Array.from({ length: d - 1 }, () => 1), q.length, d]);
    const v = torch.F.gridSample(out, grid, { alignCorners: false });
    return v.reshape([d, q.length]).t().tolist() as number[][];
  });
}

function coordinateImage(shape: number[]): Tensor {
  return torch.tidy(() => {
    const axes = shape.map((n) => torch.arange(0, n, { dtype: 'float32' }));
    return torch.stack(torch.meshgrid(axes, { indexing: 'ij' }), 0).unsqueeze(0);
  });
}

test('rot90 steps reproduce torch.rot90 exactly (2D and 3D planes, non-square), and points follow', () => {
  torch.tidy(() => {
    const x = torch.arange(0, 12 * 7, { dtype: 'float32' }).reshape([1, 1, 12, 7]);
    for (const k of [1, 2, 3, -1]) {
      const out = applySpatial({ image: x, points: [[[2, 5]]] }, [[rot90Step([12, 7], k, [0, 1])]]);
      assert.ok(out.image.equal(x.rot90(k, [2, 3])), `k=${k}`);
      // the point's value is where the point went
      const [py, px] = out.points![0][0];
      assert.equal(out.image.index([0, 0, py, px]).item(), x.index([0, 0, 2, 5]).item());
    }
    const v = torch.arange(0, 5 * 6 * 4, { dtype: 'float32' }).reshape([1, 1, 5, 6, 4]);
    const out3 = applySpatial({ image: v }, [[rot90Step([5, 6, 4], 1, [0, 2])]]);
    assert.ok(out3.image.equal(v.rot90(1, [2, 4])));
  });
});

test('flips, rot90 and integer crops fuse to an exact index operation (no interpolation), padding outside', () => {
  torch.tidy(() => {
    const x = torch.rand([2, 1, 6, 7], { generator: new torch.Generator(3) });
    const chainA = [flipStep([6, 7], [1]), cropStep([6, 7], [1, 1], [4, 4])];
    const chainB = [cropStep([6, 7], [-1, -1], [4, 4]), rot90Step([4, 4], 2, [0, 1])];
    assert.ok(exactPermutation(fuseChain(chainA, [6, 7])));
    const out = applySpatial({ image: x, points: [[[1, 2]], [[0, 0]]] }, [chainA, chainB], { imagePad: -5 });
    const refA = x.select(0, 0).flip([2]).narrow(1, 1, 4).narrow(2, 1, 4);
    assert.ok(out.image.select(0, 0).equal(refA));
    // sample 1: crop starting at -1 pads one row/column of -5, then a half turn
    const padded = torch.F.pad(x.select(0, 1), [1, 0, 1, 0], { value: -5 }).narrow(1, 0, 4).narrow(2, 0, 4).rot90(2, [1, 2]);
    assert.ok(out.image.select(0, 1).equal(padded));
    assert.deepEqual(out.points![0][0], [0, 3]);
    assert.deepEqual(out.points![1][0], [2, 2]);
    // replicate border on the exact path = F.pad replicate
    const rep = applySpatial({ image: x }, [[cropStep([6, 7], [-2, 1], [9, 4])], [cropStep([6, 7], [-2, 1], [9, 4])]], { imageBorder: 'replicate' });
    assert.ok(rep.image.equal(torch.F.pad(x, [0, 0, 2, 1], { mode: 'replicate' }).narrow(3, 1, 4)));
    // a rotation by exactly 90° (general path) agrees with rot90 up to float rounding
    const sq = torch.rand([1, 1, 9, 9], { generator: new torch.Generator(4) });
    const r = applySpatial({ image: sq }, [[rotateStep([9, 9], [90])]]);
    assert.ok(maxAbs(r.image, sq.rot90(1, [2, 3])) < 1e-5);
  });
});

for (const key of ['affine2d', 'affine3d'] as const) {
  test(`rotation + scaling fuse to the analytic mapping (${key} vs scipy map_coordinates order 1)`, () => {
    torch.tidy(() => {
      const c = REF[key];
      const x = t64(c.x, [1, 1, ...c.shape]).to('float32');
      const chain = [rotateStep(c.shape, c.degrees), scaleStep(c.shape, c.scale)];
      const out = applySpatial({ image: x }, [chain]);
      assert.ok(maxAbs(out.image, t64(c.expected, [1, 1, ...c.shape])) < 2e-5, `max diff ${maxAbs(out.image, t64(c.expected, [1, 1, ...c.shape]))}`);
    });
  });
}

test('one fused resampling equals sequential application up to interpolation error', () => {
  torch.tidy(() => {
    const c = REF.affine2d;
    const x = t64(c.x, [1, 1, ...c.shape]).to('float32');
    const expected = t64(c.expected, [1, 1, ...c.shape]);
    const r1 = applySpatial({ image: x }, [[rotateStep(c.shape, c.degrees)]]);
    const seq = applySpatial({ image: r1.image }, [[scaleStep(c.shape, c.scale)]]);
    // compare away from the border (sequential loses data there)
    const inner = (t: Tensor) => t.narrow(2, 3, c.shape[0] - 6).narrow(3, 3, c.shape[1] - 6);
    const dSeq = maxAbs(inner(seq.image), inner(expected));
    assert.ok(dSeq > 1e-4, 'two interpolations blur more than one');
    assert.ok(dSeq < 0.1, `sequential stays close: ${dSeq}`);
    const fused = applySpatial({ image: x }, [[rotateStep(c.shape, c.degrees), scaleStep(c.shape, c.scale)]]);
    assert.ok(maxAbs(fused.image, expected) < 2e-5);
  });
});

test('a point at voxel p lands where the image content at p lands (affine and elastic chains)', () => {
  torch.tidy(() => {
    const n = [36, 38, 40];
    const p = [14, 20, 23];
    const v = torch.zeros([1, 1, ...n]);
    v.indexPut_([0, 0, ...p], 1000);
    const blob = gaussianFilter(v, [[1.5, 1.5, 1.5]]);
    const chain = [rotateStep(n, [20, -10, 35]), scaleStep(n, [0.9, 0.8, 1.1]), translateStep(n, [1.5, -2, 0.25]), cropStep(n, [3, 2, 5], [30, 30, 30])];
    const out = applySpatial({ image: blob, points: [[p]] }, [chain]);
    const com = centroid(out.image);
    out.points![0][0].forEach((q, a) => assert.ok(Math.abs(q - com[a]) < 0.02, `axis ${a}: point ${q}, content ${com[a]}`));

    // Elastic: map the coordinate image; at the point's new position it must read the old position.
    const coord = coordinateImage(n);
    const pts = [[10.3, 12.7, 20.1], [15, 17, 19], [20.5, 25.25, 8]];
    for (const ch of [
      [rotateStep(n, [20, -10, 35]), scaleStep(n, [0.9, 0.9, 0.9]), elasticStep(n, 300, 6, 123, 2)],
      [flipStep(n, [1]), elasticStep(n, 200, 5, 9, 1), rot90Step(n, 1, [1, 2]), cropStep([36, 40, 38], [2, 2, 2], [30, 30, 30])],
    ]) {
      const o = applySpatial({ image: coord, points: [pts] }, [ch]);
      const os = o.image.shape.slice(2);
      const inside = o.points![0].map((q, i) => [q, i] as const).filter(([q]) => q.every((v, a) => v > 1 && v < os[a] - 2));
      assert.ok(inside.length >= 2, 'most points stay inside the patch');
      sampleAt(o.image, inside.map(([q]) => q)).forEach((got, k) => {
        const i = inside[k][1];
        got.forEach((g, a) => assert.ok(Math.abs(g - pts[i][a]) < 0.1, `point ${i} axis ${a}: ${g} vs ${pts[i][a]}`));
      });
    }
  });
});

test('labels stay integer and in the allowed set; pad value outside; linear (one-hot) label mode', () => {
  torch.tidy(() => {
    const n = [24, 26, 20];
    const label = torch.randint(0, 3, [1, 1, ...n], { generator: new torch.Generator(5) }).to('uint8').mul_(2); // {0, 2, 4}
    const image = torch.rand([1, 1, ...n], { generator: new torch.Generator(6) });
    const chain = [rotateStep(n, [30, 10, -20]), scaleStep(n, [1.3, 1.3, 1.3]), elasticStep(n, 200, 6, 11)];
    for (const mode of ['nearest', 'linear'] as const) {
      const out = applySpatial({ image, label }, [chain], { label: mode, labelPad: 255 });
      assert.equal(out.label!.dtype, 'uint8');
      const vals = Array.from(out.label!.unique().toTypedArray() as Uint8Array);
      assert.ok(vals.every((v) => [0, 2, 4, 255].includes(v)), `${mode}: ${vals.join(',')}`);
      assert.ok(vals.includes(255), 'zoomed-out corners are outside the input: pad value');
      assert.ok(vals.includes(2) && vals.includes(4));
    }
    // int64 labels and an exact path keep dtype and values
    const l64 = label.to('int64');
    const o2 = applySpatial({ image, label: l64 }, [[flipStep(n, [0, 2])]]);
    assert.equal(o2.label!.dtype, 'int64');
    assert.ok(o2.label!.equal(l64.flip([2, 4])));
  });
});

test('elastic: the fast (field on the output grid) and general routes agree; coarse lattice keeps the field variance', () => {
  torch.tidy(() => {
    const n = [30, 34, 38];
    const img = torch.rand([1, 1, ...n], { generator: new torch.Generator(2) });
    const base = [rotateStep(n, [20, -10, 35]), scaleStep(n, [0.9, 0.8, 1.1]), elasticStep(n, 300, 6, 123, 2)];
    const a = applySpatial({ image: img }, [base]).image;
    const b = applySpatial({ image: img }, [[...base, cropStep(n, [1, 2, 3], [n[0] - 2, n[1] - 4, n[2] - 6])]]).image;
    assert.ok(maxAbs(a.narrow(2, 1, n[0] - 2).narrow(3, 2, n[1] - 4).narrow(4, 3, n[2] - 6), b) < 1e-4);

    // Field statistics: the interior std of the interpolated coarse field matches the full-resolution one.
    const shape = [96, 96];
    const std = (step: number) => {
      const vals: number[] = [];
      for (let seed = 0; seed < 6; seed++) {
        const s = elasticStep(shape, 100, 8, seed, step);
        const f = elasticField(s);
        const full = torch.F.interpolate(f, { size: shape, mode: 'bilinear', alignCorners: true });
        vals.push(full.narrow(2, 24, 48).narrow(3, 24, 48).std().item());
      }
      return vals.reduce((x, y) => x + y, 0) / vals.length;
    };
    const s1 = std(1);
    const s3 = std(3);
    // batchgenerators' field: alpha × std(U[-1,1]) × sqrt(Σw²) per axis ≈ 100 / √3 / (2√π·8)
    assert.ok(Math.abs(s1 / (100 / Math.sqrt(3) / (2 * Math.sqrt(Math.PI) * 8)) - 1) < 0.25, `full-res std ${s1}`);
    assert.ok(Math.abs(s3 / s1 - 1) < 0.2, `coarse ${s3} vs full ${s1}`);
    assert.deepEqual(elasticLattice([97, 1], 3), { nodes: [33, 1], spacing: [3, 1] });
  });
});

test('resize (half-pixel and corner-aligned) matches F.interpolate; imagePad / imageBorder outside', () => {
  torch.tidy(() => {
    const x = torch.rand([1, 1, 10, 13], { generator: new torch.Generator(8) });
    for (const alignCorners of [false, true]) {
      // F.interpolate clamps at the border, which is the 'replicate' border here.
      const r = applySpatial({ image: x }, [[resizeStep([10, 13], [17, 9], alignCorners)]], { imageBorder: 'replicate' });
      const ref = torch.F.interpolate(x, { size: [17, 9], mode: 'bilinear', alignCorners });
      assert.ok(maxAbs(r.image, ref) < 1e-5, `alignCorners ${alignCorners}`);
    }
    // with the default constant border the half-pixel rim blends towards the pad value; the interior is the same
    const r0 = applySpatial({ image: x }, [[resizeStep([10, 13], [17, 9])]]);
    const ref0 = torch.F.interpolate(x, { size: [17, 9], mode: 'bilinear', alignCorners: false });
    assert.ok(maxAbs(r0.image.narrow(2, 1, 15).narrow(3, 1, 7), ref0.narrow(2, 1, 15).narrow(3, 1, 7)) < 1e-5);
    const z = applySpatial({ image: torch.onesLike(x) }, [[scaleStep([10, 13], [3, 3])]], { imagePad: 7 });
    assert.equal(z.image.index([0, 0, 0, 0]).item(), 7);
    assert.equal(z.image.index([0, 0, 5, 6]).item(), 1);
  });
});

test('gaussianFilter matches scipy.ndimage.gaussian_filter (constant and reflect borders)', () => {
  torch.tidy(() => {
    const g = REF.gaussian;
    const x = t64(g.x, g.shape).to('float32');
    for (const mode of ['constant', 'reflect'] as const) {
      const y = gaussianFilter(x, g.sigma, { mode });
      assert.ok(maxAbs(y, t64(g[mode], g.shape)) < 1e-5, mode);
    }
  });
});

test('bad chains fail with clear errors', () => {
  const n = [8, 8];
  assert.throws(() => fuseChain([cropStep(n, [0, 0], [4, 4]), flipStep(n, [0])], n), /expects input shape \[8, 8\]/);
  assert.throws(() => fuseChain([elasticStep(n, 1, 2, 1), elasticStep(n, 1, 2, 2)], n), /at most one elastic step/);
  assert.throws(() => scaleStep(n, [0, 1]), /factors > 0/);
  torch.tidy(() => {
    const x = torch.rand([2, 1, 5, 7]);
    assert.throws(() => applySpatial({ image: x }, [[rot90Step([5, 7], 1, [0, 1])], []]), /add a crop or resize/);
    assert.throws(() => applySpatial({ image: torch.rand([1, 1, 4, 4, 4]) }, [[rotateStep([4, 4, 4], [1, 2, 3])]], { image: 'cubic' }), /only available for 2D/);
  });
});
