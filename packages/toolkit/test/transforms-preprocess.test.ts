// Preprocessing against numpy/scipy/skimage references on real files
// (fixtures/preprocess_ref.py → preprocess_ref.json): normalisation schemes,
// crop to non-zero, nnU-Net's separate-z resampling and label resampling,
// class-location draws, world-coordinate consistency, end-to-end and back.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import { readNifti } from '../src/io/nifti.js';
import { Volume } from '../src/io/volume.js';
import { bboxOfMask, cropToNonzero, fillHoles, uncrop } from '../src/transforms/crop.js';
import { cdfThreshold, normalize, normalizeChannel, validateNormalization } from '../src/transforms/normalize.js';
import { computeNewShape, resampleData, resampleMatrix1d, resampleSeg, resampleToSpacing, resampleVolume, roundHalfEven, separateZAxis } from '../src/transforms/resample.js';
import { preprocessCase, preprocessedVolume, revertPreprocessing, revertedVolume, sampleClassLocations } from '../src/transforms/preprocess.js';
import { FIXTURES, SAMPLES } from './shared-data.js';

interface Summary { shape: number[]; sum: number; mean: number; std: number; min: number; max: number; idx: number[]; values: number[] }
const REF = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'preprocess_ref.json'), 'utf8')) as {
  spleen: {
    ct: string; seg: string;
    fgProps: { mean: number; std: number; percentile_00_5: number; percentile_99_5: number };
    ctNorm: Summary; stdrFloat: Summary & { watershed: number };
    resample: { spacing: number[]; target: number[]; newShape: number[]; data: Summary; seg: { counts: Record<string, number>; idx: number[]; values: number[] } };
    classLocations: { count: number; first: number[][] };
  };
  brats: {
    dir: string; bbox: [number, number][]; rawMaskVoxels: number; filledMaskVoxels: number; segCounts: Record<string, number>;
    flairMaskedMean: number; flairMaskedStd: number; flairZscoreMask: Summary; t1cZscore: Summary; t1cMinmax: Summary;
  };
  stdrInt: Summary & { path: string; watershed: number };
  small: { input: number[]; shape: number[]; newShape: number[]; orders: Record<string, number[]> };
};

const flat = (t: Tensor): Float64Array => torch.tidy(() => t.reshape([-1]).to('float64').contiguous().toTypedArray() as Float64Array);

function assertSummary(t: Tensor, ref: Summary, tol: number, what: string): void {
  assert.deepEqual(t.shape, ref.shape, `${what}: shape`);
  const v = flat(t);
  let sum = 0, min = Infinity, max = -Infinity;
  for (const x of v) { sum += x; if (x < min) min = x; if (x > max) max = x; }
  const mean = sum / v.length;
  let ss = 0;
  for (const x of v) ss += (x - mean) ** 2;
  const std = Math.sqrt(ss / v.length);
  const close = (a: number, b: number, name: string) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${name} ${a} vs numpy ${b}`);
  close(mean, ref.mean, 'mean');
  close(std, ref.std, 'std');
  close(min, ref.min, 'min');
  close(max, ref.max, 'max');
  ref.idx.forEach((i, k) => close(v[i], ref.values[k], `value at flat index ${i}`));
}

/** Value → voxel count of an integer tensor. */
function valueCounts(t: Tensor): Record<string, number> {
  return torch.tidy(() => {
    const u = torch.unique(t, { returnCounts: true });
    const v = u.values.to('float64').toTypedArray() as Float64Array;
    const c = u.counts!.to('float64').toTypedArray() as Float64Array;
    return Object.fromEntries(Array.from(v, (x, i) => [String(x), c[i]]));
  });
}

/** A NIfTI as a [C, Z, Y, X] tensor. */
const load = (p: string, dtype?: torch.DType) => readNifti(path.join(SAMPLES, p)).toTensor(dtype);

test('normalize ct: clip to foreground percentiles then foreground mean/std (spleen CT vs numpy)', () => {
  torch.tidy(() => {
    const ct = load(REF.spleen.ct);
    const p = REF.spleen.fgProps;
    const out = normalizeChannel(ct.select(0, 0), validateNormalization({ scheme: 'ct', mean: p.mean, std: p.std, lower: p.percentile_00_5, upper: p.percentile_99_5 }));
    assert.equal(out.dtype, 'float32');
    assertSummary(out, REF.spleen.ctNorm, 1e-5, 'ct');
  });
});

test('normalize percentile-zscore: STDR clip at the CDF 0.99 bin, then z-score (float CT and int16 MR vs skimage)', () => {
  torch.tidy(() => {
    const ct = load(REF.spleen.ct).select(0, 0);
    assert.equal(cdfThreshold(ct, 0.99), REF.spleen.stdrFloat.watershed);
    assertSummary(normalizeChannel(ct, { scheme: 'percentile-zscore' }), REF.spleen.stdrFloat, 1e-5, 'stdr float');
    const mr = load(REF.stdrInt.path);
    assert.equal(mr.dtype, 'int16', 'the MR sample is stored as int16: skimage bins it one bin per integer');
    assert.equal(cdfThreshold(mr, 0.99), REF.stdrInt.watershed);
    assertSummary(normalizeChannel(mr.select(0, 0), { scheme: 'percentile-zscore', percentile: 0.99 }), REF.stdrInt, 1e-5, 'stdr int');
  });
});

test('crop to non-zero with holes filled; zscore inside the mask; minmax (BraTS vs nnU-Net in numpy)', () => {
  torch.tidy(() => {
    const dir = REF.brats.dir;
    const brain = load(`${dir}/brainmask.nii.gz`).gt(0.5);
    const image = torch.cat([load(`${dir}/Flair_subtrMeanDivStd.nii.gz`), load(`${dir}/T1c_subtrMeanDivStd.nii.gz`)], 0).mul(brain);
    const label = load(`${dir}/OTMultiClass.nii.gz`).round().to('uint8');
    const c = cropToNonzero(image, label);
    assert.deepEqual(c.bbox, REF.brats.bbox);
    assert.deepEqual(c.shapeBefore, [155, 240, 240]);
    assert.equal(c.mask.reduce((a, b) => a + b, 0), REF.brats.filledMaskVoxels, 'mask voxels after filling holes');
    assert.deepEqual(valueCounts(c.label!), REF.brats.segCounts, 'label values after crop (-1 = background outside the mask)');
    const nnunetMask = c.label!.select(0, 0).ge(0);
    const flair = normalizeChannel(c.image.select(0, 0), { scheme: 'zscore', useMask: true }, nnunetMask);
    assertSummary(flair, REF.brats.flairZscoreMask, 2e-5, 'flair zscore with mask');
    const both = normalize(c.image, [{ scheme: 'zscore', useMask: true }, { scheme: 'zscore' }], nnunetMask);
    assertSummary(both.select(0, 1), REF.brats.t1cZscore, 2e-5, 't1c zscore');
    assertSummary(normalizeChannel(c.image.select(0, 1), { scheme: 'minmax' }), REF.brats.t1cMinmax, 2e-5, 't1c minmax');
    // Outside the mask the values are untouched (0 after cropping).
    assert.equal(flair.maskedSelect(nnunetMask.logicalNot()).abs().max().item(), 0);
    // uncrop puts the box back where it was.
    const back = uncrop(c.image, c.bbox, c.shapeBefore);
    assert.ok(torch.equal(back, image), 'uncrop(crop(x)) == x when x is zero outside the box');
  });
});

test('fillHoles and bboxOfMask on a hollow cube', () => {
  const shape = [7, 8, 9];
  const m = new Uint8Array(7 * 8 * 9);
  const at = (z: number, y: number, x: number) => (z * 8 + y) * 9 + x;
  for (let z = 1; z <= 5; z++) for (let y = 2; y <= 6; y++) for (let x = 2; x <= 7; x++) {
    const shell = z === 1 || z === 5 || y === 2 || y === 6 || x === 2 || x === 7;
    if (shell) m[at(z, y, x)] = 1;
  }
  assert.deepEqual(bboxOfMask(m, shape), [[1, 6], [2, 7], [2, 8]]);
  const filled = fillHoles(Uint8Array.from(m), shape);
  assert.equal(filled.reduce((a, b) => a + b, 0), 5 * 5 * 6, 'the cavity is filled');
  m[at(3, 4, 2)] = 0; // open the shell: the cavity now touches the outside
  assert.equal(fillHoles(Uint8Array.from(m), shape).reduce((a, b) => a + b, 0), m.reduce((a, b) => a + b, 0));
  assert.equal(bboxOfMask(new Uint8Array(7 * 8 * 9), shape), null);
});

test('resampling operators equal skimage.transform.resize (orders 0, 1, 3, edge mode, clipped)', () => {
  torch.tidy(() => {
    const s = REF.small;
    const x = torch.tensor(s.input, { dtype: 'float64' }).reshape([1, ...s.shape]);
    for (const order of [0, 1, 3] as const) {
      const y = flat(resampleData(x, s.newShape, { order, computeDtype: 'float64' }));
      const ref = s.orders[String(order)];
      let worst = 0;
      ref.forEach((v, i) => { worst = Math.max(worst, Math.abs(y[i] - v)); });
      assert.ok(worst < 1e-9, `order ${order}: max |ours − skimage| = ${worst}`);
    }
    // Rows of every operator sum to 1 (a constant stays constant).
    for (const order of [1, 3] as const) {
      const m = resampleMatrix1d(13, 29, order);
      for (let o = 0; o < 29; o++) {
        let sum = 0;
        for (let j = 0; j < 13; j++) sum += m[o * 13 + j];
        assert.ok(Math.abs(sum - 1) < 1e-12);
      }
    }
  });
});

test('separate-z resampling of the spleen CT (5 mm slices) matches nnU-Net: images and labels', () => {
  torch.tidy(() => {
    const r = REF.spleen.resample;
    assert.equal(separateZAxis(r.spacing, r.target), 0);
    assert.deepEqual(computeNewShape([26, 166, 164], r.spacing, r.target), r.newShape);
    const p = REF.spleen.fgProps;
    const ct = normalize(load(REF.spleen.ct), { scheme: 'ct', mean: p.mean, std: p.std, lower: p.percentile_00_5, upper: p.percentile_99_5 });
    const out = resampleToSpacing(ct, r.spacing, r.target);
    assertSummary(out.select(0, 0), { ...r.data, shape: r.newShape }, 2e-5, 'resampled CT');

    const seg = load(REF.spleen.seg).to('int16');
    const nn = resampleToSpacing(seg, r.spacing, r.target, { isSeg: true, rule: 'nnunet' });
    assert.equal(nn.dtype, 'int16');
    const v = flat(nn);
    const counts = valueCounts(nn);
    // Float32 vs float64 arithmetic may flip a voxel sitting exactly on 0.5; allow a handful.
    for (const [k, n] of Object.entries(r.seg.counts)) assert.ok(Math.abs((counts[k] ?? 0) - n) <= 5, `class ${k}: ${counts[k]} voxels vs nnU-Net ${n}`);
    const mismatches = r.seg.idx.filter((i, k) => v[i] !== r.seg.values[k]).length;
    assert.ok(mismatches <= 1, `${mismatches} sampled label voxels differ from nnU-Net`);
    // The default argmax rule agrees with nnU-Net's for two classes up to the same ties.
    const am = flat(resampleToSpacing(seg, r.spacing, r.target, { isSeg: true }));
    let diff = 0;
    for (let i = 0; i < v.length; i++) if (am[i] !== v[i]) diff++;
    assert.ok(diff <= 5, `argmax vs nnunet rule differ at ${diff} voxels`);
  });
});

test('labels: integers, in range, no class bleeding between non-adjacent values', () => {
  torch.tidy(() => {
    // Classes 0 and 2 touching: linear interpolation of the values would create 1 along the edge.
    const lab = torch.zeros([1, 6, 10, 12], { dtype: 'int16' });
    lab.narrow(3, 6, 6).fill_(2);
    lab.narrow(2, 0, 3).narrow(3, 0, 4).fill_(3);
    for (const rule of ['argmax', 'nnunet'] as const) {
      for (const shape of [[15, 23, 29], [4, 7, 5]]) {
        const out = resampleSeg(lab, shape, { order: 1, rule });
        const values = new Set(flat(out));
        assert.ok(!values.has(1), `rule ${rule} → [${shape.join(', ')}]: value 1 appeared between 0 and 2`);
        for (const x of values) assert.ok([0, 2, 3].includes(x), `unexpected value ${x}`);
      }
    }
    // The windowed per-class computation equals brute force (every one-hot channel over the whole volume, argmax).
    const gen = new torch.Generator(3);
    const rnd = torch.randint(0, 4, [1, 5, 7, 6], { generator: gen }).to('int16');
    const blocky = resampleSeg(rnd, [9, 13, 11], { order: 0 });
    const target = [14, 8, 17];
    const fast = flat(resampleSeg(blocky, target, { order: 1 }));
    const onehot = torch.cat([0, 1, 2, 3].map((v) => blocky.eq(v).to('float64')), 0);
    const probs = resampleData(onehot, target, { order: 1, computeDtype: 'float64' });
    const sorted = torch.sort(probs, 0, true).values;
    const gap = flat(sorted.select(0, 0).sub(sorted.select(0, 1)));
    // Ties go to the higher label: argmax over the reversed class order.
    const brute = flat(torch.rsub(probs.flip([0]).argmax(0), 3));
    let unexplained = 0;
    for (let i = 0; i < fast.length; i++) if (fast[i] !== brute[i] && gap[i] > 1e-6) unexplained++;
    assert.equal(unexplained, 0, 'windowed argmax differs from brute force away from ties');

    // A real multi-class map (BraTS, labels 0..4) down to 1.7 mm: values stay a subset, each class survives.
    const vol = readNifti(path.join(SAMPLES, REF.brats.dir, 'OTMultiClass.nii.gz'));
    const res = resampleVolume(vol, [1.7, 1.7, 1.7], { kind: 'label' });
    assert.deepEqual(res.dims, [141, 141, 91]);
    const seen = new Set<number>();
    for (const x of res.data) seen.add(Number(x));
    assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4]);
    assert.ok(!(res.data instanceof Float32Array) && !(res.data instanceof Float64Array), 'labels stay an integer type');
  });
});

test('resampleVolume keeps the field of view and world positions (oblique affine, linear ramp)', () => {
  // sub-unf01's oblique geometry, filled with a linear function of the world position.
  const geo = readNifti(path.join(SAMPLES, 'ivadomed_testing/sub-unf01/anat/sub-unf01_T1w.nii.gz'));
  const ramp = (p: readonly number[]) => 0.5 * p[0] - 0.25 * p[1] + 2 * p[2] + 100;
  const data = new Float32Array(geo.numVoxels);
  const [ni, nj, nk] = geo.dims;
  for (let k = 0; k < nk; k++) for (let j = 0; j < nj; j++) for (let i = 0; i < ni; i++) data[geo.index(i, j, k)] = ramp(geo.voxelToWorld([i, j, k]));
  const vol = new Volume({ data, dims: geo.dims, affine: geo.affine });
  for (const order of [1, 3] as const) {
    const out = resampleVolume(vol, [0.7, 1.3, 0.45], { order });
    assert.deepEqual(out.dims, [187, 108, 36]);
    // Same field of view: the outer voxel corners coincide in world space.
    for (const corner of [[-0.5, -0.5, -0.5], [ni - 0.5, nj - 0.5, nk - 0.5]]) {
      const c2 = corner.map((v, a) => (v === -0.5 ? -0.5 : out.dims[a] - 0.5));
      const w1 = vol.voxelToWorld(corner);
      const w2 = out.voxelToWorld(c2);
      for (let a = 0; a < 3; a++) assert.ok(Math.abs(w1[a] - w2[a]) < 1e-6, `corner ${corner} moved: ${w1} vs ${w2}`);
    }
    // Interior voxels hold the ramp at their own world position: the affine and the data agree.
    // (Edge padding bends splines near the border; 6 source voxels in, its effect is < 0.268^6.)
    const inside = (v: number, a: number) => {
      const src = (v + 0.5) * (vol.dims[a] / out.dims[a]) - 0.5;
      return src >= 6 && src <= vol.dims[a] - 7;
    };
    let worst = 0, checked = 0;
    for (let k = 0; k < out.dims[2]; k++) for (let j = 0; j < out.dims[1]; j += 3) for (let i = 0; i < out.dims[0]; i += 5) {
      if (!inside(i, 0) || !inside(j, 1) || !inside(k, 2)) continue;
      worst = Math.max(worst, Math.abs(out.at(i, j, k) - ramp(out.voxelToWorld([i, j, k]))));
      checked++;
    }
    assert.ok(checked > 500);
    assert.ok(worst < 2e-3, `order ${order}: ramp off by ${worst} at interior voxels`);
  }
  // Upsampling a 1-D ramp with linear interpolation stays exactly linear inside.
  torch.tidy(() => {
    const x = torch.arange(10, { dtype: 'float64' }).reshape([1, 1, 1, 10]);
    const y = flat(resampleData(x, [1, 1, 25], { order: 1, computeDtype: 'float64' }));
    for (let o = 2; o < 23; o++) assert.ok(Math.abs(y[o] - ((o + 0.5) * (10 / 25) - 0.5)) < 1e-12);
  });
});

test('class locations: the same voxels as nnU-Net\'s RandomState(1234) draws', () => {
  torch.tidy(() => {
    const seg = load(REF.spleen.seg).to('int16');
    const locs = sampleClassLocations(seg, [1, 2]);
    const l1 = locs.get(1)!;
    assert.equal(l1.length / 3, REF.spleen.classLocations.count);
    const first = Array.from({ length: 20 }, (_, q) => [l1[3 * q], l1[3 * q + 1], l1[3 * q + 2]]);
    assert.deepEqual(first, REF.spleen.classLocations.first);
    assert.equal(locs.get(2)!.length, 0, 'an absent class has no locations');
  });
});

test('preprocessCase: spleen CT end to end, geometry exact, and back to the original grid', () => {
  const image = readNifti(path.join(SAMPLES, REF.spleen.ct));
  const label = readNifti(path.join(SAMPLES, REF.spleen.seg));
  const p = REF.spleen.fgProps;
  const cfg = { spacing: [2.5, 1.2, 1.2], normalization: { scheme: 'ct' as const, mean: p.mean, std: p.std, lower: p.percentile_00_5, upper: p.percentile_99_5 } };
  const pre = preprocessCase(image, label, cfg);
  try {
    const pr = pre.props;
    assert.deepEqual(pr.originalSpacing.map((v) => +v.toFixed(4)), [5, 0.7949, 0.7949]);
    assert.deepEqual(pr.shapeAfterResampling, computeNewShape(pr.shapeAfterCroppingBeforeResampling, pr.originalSpacing, [2.5, 1.2, 1.2]));
    assert.deepEqual(pre.image.shape, [1, ...pr.shapeAfterResampling]);
    assert.equal(pre.image.dtype, 'float32');
    assert.equal(pre.label!.dtype, 'int16');
    // The preprocessed grid's corner is the crop box's corner in world space.
    const outVol = preprocessedVolume(pre.image, pr);
    const lo = pr.bboxUsedForCropping.map((r) => r[0] - 0.5);
    const wOrig = image.voxelToWorld([lo[2], lo[1], lo[0]]);
    const wPre = outVol.voxelToWorld([-0.5, -0.5, -0.5]);
    for (let a = 0; a < 3; a++) assert.ok(Math.abs(wOrig[a] - wPre[a]) < 1e-6);
    assert.deepEqual(outVol.spacing.map((v) => +v.toFixed(3)).reverse(), pr.effectiveSpacing.map((v) => +v.toFixed(3)));
    // Stored class locations point at voxels of their class; foreground slices hold foreground.
    const lab = flat(pre.label!);
    const [, ny, nx] = pr.shapeAfterResampling;
    const l1 = pre.classLocations.get(1)!;
    for (let q = 0; q < l1.length / 3; q += 97) assert.equal(lab[(l1[3 * q] * ny + l1[3 * q + 1]) * nx + l1[3 * q + 2]], 1);
    assert.ok(pr.foregroundSlices.length > 0 && pr.foregroundSlices.length < pr.shapeAfterResampling[0]);
    assert.equal(pr.classLocationCounts['1'], l1.length / 3);

    // Back: one-hot probabilities on the preprocessed grid → original grid, argmax ≈ the original label.
    const back = torch.tidy(() => {
      const l = pre.label!.select(0, 0).clampMin(0).to('int64');
      const probs = torch.stack([l.eq(0), l.eq(1)], 0).to('float32');
      return revertPreprocessing(probs, pr, { backgroundOne: true }).argmax(0).to('uint8');
    });
    assert.deepEqual(back.shape, [26, 166, 164]);
    const seg = revertedVolume(back.unsqueeze(0), pr);
    assert.deepEqual(seg.dims, label.dims);
    assert.ok(Array.from(seg.affine).every((v, i) => Math.abs(v - label.affine[i]) < 1e-9));
    let inter = 0, a = 0, b = 0;
    for (let i = 0; i < label.data.length; i++) {
      const x = Number(label.data[i]) > 0, y = Number(seg.data[i]) > 0;
      if (x) a++;
      if (y) b++;
      if (x && y) inter++;
    }
    const dice = (2 * inter) / (a + b);
    assert.ok(dice > 0.95, `Dice after preprocessing and back = ${dice.toFixed(4)}`);
    back.dispose();
  } finally {
    pre.image.dispose();
    pre.label?.dispose();
  }
});

test('preprocessCase without resampling is exactly invertible; bad input names the problem', () => {
  const image = readNifti(path.join(SAMPLES, REF.brats.dir, 'Flair_subtrMeanDivStd.nii.gz'));
  const brain = readNifti(path.join(SAMPLES, REF.brats.dir, 'brainmask.nii.gz'));
  const src = image.data as Float32Array;
  const data = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) data[i] = (brain.data[i] as number) > 0.5 ? src[i] : 0;
  const masked = image.withData(data);
  const label = readNifti(path.join(SAMPLES, REF.brats.dir, 'OTMultiClass.nii.gz'));
  const pre = preprocessCase(masked, label, { normalization: { scheme: 'zscore', useMask: true }, transposeForward: [2, 0, 1] });
  try {
    assert.deepEqual(pre.props.shapeAfterResampling, [141, 138, 169], 'transposed (x, z, y) crop');
    const back = torch.tidy(() => revertPreprocessing(pre.label!.clampMin(0), pre.props, { kind: 'labels' }));
    const orig = label.toTensor('int16');
    assert.ok(torch.equal(back, orig), 'labels come back voxel for voxel');
    back.dispose();
    orig.dispose();
    assert.deepEqual(pre.props.labelsPresent, [-1, 0, 1, 2, 3, 4]);
  } finally {
    pre.image.dispose();
    pre.label?.dispose();
  }
  assert.throws(() => preprocessCase(masked, label, { normalization: [{ scheme: 'zscore' }, { scheme: 'ct', mean: 0, std: 1, lower: 0, upper: 1 }] }), /normalization: 2 entries for 1 image channel/);
  assert.throws(() => preprocessCase(masked, label, { normalization: { scheme: 'ct', mean: 0, std: 1, lower: 5 } as never }), /normalization\[0\]\.upper: expected a finite number/);
  assert.throws(() => preprocessCase(masked, label, { normalization: { scheme: 'zscore' }, spacing: [1, 0, 1] }), /spacing: expected 2 or 3 positive numbers/);
  assert.throws(() => validateNormalization({ scheme: 'bogus' }), /scheme: expected one of ct, zscore, minmax/);
});

test('small helpers: Python rounding, spacing-based separate-z decisions', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -2.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, -2, 2, 3]);
  assert.equal(separateZAxis([3, 1, 1], [1, 1, 1]), null, 'ratio 3 is not > 3');
  assert.equal(separateZAxis([1, 1, 1], [1, 4, 1]), 1, 'anisotropic target');
  assert.equal(separateZAxis([4, 4, 1], [1, 1, 1]), null, 'two equally coarse axes: joint resampling');
  assert.equal(separateZAxis([1, 1, 1], [1, 1, 1], { forceSeparateZ: true }), null);
  assert.equal(separateZAxis([5, 1, 1], [1, 1, 1], { forceSeparateZ: false }), null);
  const v = Volume.fromGeometry(new Float32Array(8), [2, 2, 2], [1, 1, 1], [0, 0, 0]);
  assert.throws(() => resampleVolume(v, [1, 1]), /target spacing must have 3 entries/);
  assert.throws(() => resampleData(v.toTensor(), [2, 2], {}), /new shape must be 3 positive integers/);
  assert.throws(() => resampleSeg(v.toTensor(), [3, 3, 3]), /labels must be an integer tensor/);
});
