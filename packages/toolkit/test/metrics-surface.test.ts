// Surfaces and surface metrics: MedPy's definitions (border = mask XOR
// face-connected erosion, EDT with spacing), checked against the fixture's
// scipy/MedPy values, the two ASSD formulas (pooled default, MedPy 0.4's mean
// of means), plus Labelwise's empty-mask branches.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { binaryBorder, surfaceDistances, maskBox, cropMask } from '../src/metrics/surface.js';
import { assdMeanOfMeans, assdPooled, binaryMetrics, surfaceMetrics, imageDiagonal } from '../src/metrics/binary.js';
import { accurateSum } from '../src/metrics/stats.js';
import { REF, assertClose, u8, val } from './metrics-fixture.js';

test('binaryBorder is mask XOR erosion with face connectivity and a zero outside', () => {
  // A 3×3×3 cube inside a 5×5×5 grid: only the centre voxel survives erosion.
  const dims = [5, 5, 5];
  const m = new Uint8Array(125);
  for (let k = 1; k < 4; k++) for (let j = 1; j < 4; j++) for (let i = 1; i < 4; i++) m[i + 5 * (j + 5 * k)] = 1;
  const b = binaryBorder(m, dims);
  assert.equal(b.reduce((a, x) => a + x, 0), 26);
  assert.equal(b[2 + 5 * (2 + 5 * 2)], 0);
  // A full grid: every voxel on the image boundary is border (border_value 0), the interior is not.
  const full = binaryBorder(new Uint8Array(125).fill(1), dims);
  assert.equal(full.reduce((a, x) => a + x, 0), 125 - 27);
  // 2D plus: the centre has all 4 face neighbours, diagonal holes do not matter.
  const plus = Uint8Array.from([0, 1, 0, 1, 1, 1, 0, 1, 0]);
  assert.deepEqual([...binaryBorder(plus, [3, 3])], [0, 1, 0, 1, 0, 1, 0, 1, 0], 'the centre has its 4 face neighbours: interior');
  const plus5 = new Uint8Array(25);
  for (const [i, j] of [[2, 1], [1, 2], [2, 2], [3, 2], [2, 3]]) plus5[i + 5 * j] = 1;
  assert.equal(binaryBorder(plus5, [5, 5])[2 + 5 * 2], 0, 'a voxel with all four face neighbours set is interior');
  // An axis of size 1 is a real axis: every voxel of a [n, m, 1] volume is border (scipy does the same).
  assert.ok(binaryBorder(new Uint8Array(12).fill(1), [4, 3, 1]).every((x) => x === 1));
});

test('surface distances and HD / HD95 / ASSD / ASD / NSD equal the MedPy formulas with anisotropic spacing', () => {
  for (const c of REF.surface) {
    const dims = [...c.shape as number[]].reverse();
    const spacing = [...c.spacing as number[]].reverse();
    const pred = u8(c.pred);
    const ref = u8(c.ref);
    const d = surfaceDistances(pred, ref, dims, spacing);
    assert.ok(d);
    const what = `shape [${c.shape}]`;
    assert.equal(d.predToRef.length, c.n_pred_border, `${what} prediction border voxels`);
    assert.equal(d.refToPred.length, c.n_ref_border, `${what} reference border voxels`);
    assertClose(accurateSum(d.predToRef), c.sum_pred_to_ref, `${what} Σ pred→ref`, 1e-12);
    assertClose(accurateSum(d.refToPred), c.sum_ref_to_pred, `${what} Σ ref→pred`, 1e-12);
    const m1 = surfaceMetrics(d, 1);
    const m2 = surfaceMetrics(d, 2);
    for (const k of ['HD', 'HD95', 'ASSD', 'ASD'] as const) assertClose(m1[k], val(c[k]), `${what} ${k}`, 1e-12);
    // ASSD in the fixture is scipy's pooled mean; MedPy 0.4's formula on request.
    assertClose(surfaceMetrics(d, 1, 'medpy-0.4-mean-of-means').ASSD, val(c.ASSD_medpy04), `${what} ASSD (MedPy 0.4)`, 1e-12);
    assertClose(binaryMetrics(pred, ref, dims, { spacing, assd: 'medpy-0.4-mean-of-means' }).ASSD, val(c.ASSD_medpy04), `${what} binaryMetrics ASSD (MedPy 0.4)`, 1e-12);
    assertClose(m1.NSD, val(c.NSD_1), `${what} NSD@1mm`, 1e-12);
    assertClose(m2.NSD, val(c.NSD_2), `${what} NSD@2mm`, 1e-12);
    // Same values through the full binary API (which crops to the masks' box).
    const all = binaryMetrics(pred, ref, dims, { spacing, toleranceMm: 2 });
    assert.equal(all.branch, 'both_present');
    assertClose(all.HD95, val(c.HD95), `${what} binaryMetrics HD95`, 1e-12);
    assertClose(all.NSD, val(c.NSD_2), `${what} binaryMetrics NSD`, 1e-12);
    assertClose(all.ASSD, val(c.ASSD), `${what} binaryMetrics ASSD (pooled by default)`, 1e-12);
  }
});

test('ASSD formulas on a hand-made asymmetric pair: a 3×3 square against its centre voxel', () => {
  // 2D, 1 mm: the prediction is a 3×3 square (border = the 8 ring voxels),
  // the reference its single centre voxel (border = itself).
  const dims = [7, 7];
  const pred = new Uint8Array(49);
  for (let y = 2; y <= 4; y++) for (let x = 2; x <= 4; x++) pred[x + 7 * y] = 1;
  const ref = new Uint8Array(49);
  ref[3 + 7 * 3] = 1;
  const d = surfaceDistances(pred, ref, dims)!;
  // pred → ref: 4 face neighbours at 1, 4 corners at √2; ref → pred: 1.
  assert.deepEqual([...d.predToRef].sort(), [1, 1, 1, 1, Math.SQRT2, Math.SQRT2, Math.SQRT2, Math.SQRT2]);
  assert.deepEqual([...d.refToPred], [1]);
  const pooled = (4 + 4 * Math.SQRT2 + 1) / 9; // 9 border voxels, each once
  const meanOfMeans = ((1 + Math.SQRT2) / 2 + 1) / 2; // each direction weighs ½
  assertClose(assdPooled(d), pooled, 'pooled ASSD', 1e-15);
  assertClose(assdMeanOfMeans(d), meanOfMeans, 'MedPy 0.4 ASSD', 1e-15);
  // They differ by 7(√2 − 1)/36 ≈ 0.0805 mm: the 8-voxel ring outweighs the single voxel when pooled.
  assertClose(pooled - meanOfMeans, 7 * (Math.SQRT2 - 1) / 36, 'difference', 1e-15);
  assertClose(binaryMetrics(pred, ref, dims).ASSD, pooled, 'binaryMetrics default', 1e-15);
  assertClose(binaryMetrics(pred, ref, dims, { assd: 'medpy-0.4-mean-of-means' }).ASSD, meanOfMeans, 'binaryMetrics MedPy 0.4', 1e-15);
  // Swapping the roles leaves both symmetric formulas unchanged (ASD is directed and does change).
  const swapped = binaryMetrics(ref, pred, dims);
  assertClose(swapped.ASSD, pooled, 'pooled ASSD, roles swapped', 1e-15);
  assert.equal(swapped.ASD, 1);
  assert.throws(() => binaryMetrics(pred, ref, dims, { assd: 'mean' as never }), /binaryMetrics: assd must be one of 'pooled', 'medpy-0.4-mean-of-means', got "mean"/);
});

test('pooled − mean-of-means = (n_pred − n_ref)(mean_pred − mean_ref) / (2(n_pred + n_ref)) on every fixture pair', () => {
  // The identity says when the formulas agree: equal border sizes or equal
  // directed means. Checked on the fixture's random anisotropic pairs.
  let differ = 0;
  for (const c of REF.surface) {
    const d = surfaceDistances(u8(c.pred), u8(c.ref), [...c.shape].reverse(), [...c.spacing].reverse())!;
    const na = d.predToRef.length; const nb = d.refToPred.length;
    const ma = c.sum_pred_to_ref / na; const mb = c.sum_ref_to_pred / nb;
    const delta = val(c.ASSD) - val(c.ASSD_medpy04);
    assertClose(delta, (na - nb) * (ma - mb) / (2 * (na + nb)), `shape [${c.shape}] ASSD difference`, 1e-12);
    if (Math.abs(delta) > 1e-3) differ++;
  }
  assert.ok(differ >= 3, `the fixture pairs exercise the difference (${differ} differ by > 1e-3 mm)`);
});

test('cropping to the masks’ bounding box does not change any distance', () => {
  const c = REF.surface[0];
  const dims = [...c.shape as number[]].reverse();
  const spacing = [...c.spacing as number[]].reverse();
  const pred = u8(c.pred);
  const ref = u8(c.ref);
  // Embed both masks in a larger zero-padded grid, off-centre.
  const big = [dims[0] + 9, dims[1] + 4, dims[2] + 6];
  const pad = (m: Uint8Array) => {
    const out = new Uint8Array(big[0] * big[1] * big[2]);
    for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) {
      out[(i + 5) + big[0] * ((j + 1) + big[1] * (k + 3))] = m[i + dims[0] * (j + dims[1] * k)];
    }
    return out;
  };
  const a = surfaceDistances(pred, ref, dims, spacing)!;
  const b = surfaceDistances(pad(pred), pad(ref), big, spacing)!;
  assert.deepEqual([...b.predToRef], [...a.predToRef]);
  assert.deepEqual([...b.refToPred], [...a.refToPred]);
  const box = maskBox(pad(pred), big);
  assert.deepEqual(cropMask(pad(pred), big, box).reduce((s, x) => s + x, 0), pred.reduce((s, x) => s + x, 0));
});

test('Labelwise empty-mask policy: every branch, and the emptyDistance options', () => {
  const dims = [6, 5, 4];
  const spacing = [0.5, 1, 2];
  const empty = new Uint8Array(120);
  const blob = new Uint8Array(120);
  for (let k = 1; k < 3; k++) for (let j = 1; j < 4; j++) for (let i = 2; i < 5; i++) blob[i + 6 * (j + 5 * k)] = 1;
  const diag = imageDiagonal(dims, spacing);
  assertClose(diag, Math.sqrt(3 * 3 + 5 * 5 + 8 * 8), 'diagonal', 1e-15);

  const both = binaryMetrics(empty, empty, dims, { spacing });
  assert.equal(both.branch, 'both_empty');
  assert.deepEqual([both.Dice, both.IoU, both.NSD, both.Precision, both.Recall, both.VolumeSimilarity], [1, 1, 1, 1, 1, 1]);
  assert.deepEqual([both.HD, both.HD95, both.ASSD, both.ASD], [0, 0, 0, 0]);
  assert.equal(both.Specificity, 1);

  const gtEmpty = binaryMetrics(blob, empty, dims, { spacing });
  assert.equal(gtEmpty.branch, 'gt_empty');
  assert.deepEqual([gtEmpty.Dice, gtEmpty.IoU, gtEmpty.NSD, gtEmpty.Precision, gtEmpty.Recall], [0, 0, 0, 0, 0]);
  assert.deepEqual([gtEmpty.HD, gtEmpty.HD95, gtEmpty.ASSD, gtEmpty.ASD], [diag, diag, diag, diag]);
  assert.equal(gtEmpty.FP, 18);
  assertClose(gtEmpty.Specificity, 102 / 120, 'specificity');

  const predEmpty = binaryMetrics(empty, blob, dims, { spacing, emptyDistance: 'nan' });
  assert.equal(predEmpty.branch, 'pred_empty');
  assert.equal(predEmpty.Dice, 0);
  assert.ok(Number.isNaN(predEmpty.HD95!) && Number.isNaN(predEmpty.ASSD!));
  assert.equal(binaryMetrics(empty, blob, dims, { spacing, emptyDistance: 50 }).HD, 50);
  assert.throws(() => binaryMetrics(empty, blob, dims, { spacing, emptyDistance: -1 }), /emptyDistance must be/);

  const same = binaryMetrics(blob, blob, dims, { spacing });
  assert.deepEqual([same.Dice, same.HD, same.HD95, same.ASSD, same.NSD], [1, 0, 0, 0, 1]);
});
