// evaluateCase / evaluateFolder: every protocol against re-implementations of
// the seeds' own scripts (fixtures/metrics_ref.py), every empty-mask branch,
// real masks (ACDC HDF5, BraTS NIfTI, M&Ms NIfTI), the ASSD formula of each
// protocol, geometry errors, summary.json + CSV.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as torch from '@labelwise/torch';
import { Volume } from '../src/io/volume.js';
import { affineFromRows } from '../src/io/affine.js';
import { readH5Case } from '../src/io/hdf5.js';
import { readNifti, writeNifti } from '../src/io/nifti.js';
import { evaluateCase, evaluateFolder, summarize, type CaseResult } from '../src/metrics/evaluate.js';
import type { ProtocolName } from '../src/metrics/protocols.js';
import { classesFromDatasetJson, parseClassList } from '../src/metrics/dataset-labels.js';
import { REF, assertClose, assertMetrics, u8, val } from './metrics-fixture.js';
import { SHARED_DATA } from './shared-data.js';

const P = REF.protocols;
const AFFINE = affineFromRows(P.affine);
const DIMS: number[] = P.shape;

function vol(b64: string, dims = DIMS, affine = AFFINE): Volume {
  return new Volume({ data: u8(b64), dims, affine });
}

function byKey(r: CaseResult): Record<string, CaseResult['classes'][number]> {
  return Object.fromEntries(r.classes.map((c) => [c.key, c]));
}

function runCases(protocol: ProtocolName, extra: Parameters<typeof evaluateCase>[2] = {}): CaseResult[] {
  return P.cases.map((c: { case: string; pred: string; gt: string }) =>
    evaluateCase(vol(c.pred), vol(c.gt), { protocol, caseId: c.case, classes: [1, 2, 3, 4, 5], ...extra }));
}

test('labelwise: per-class metrics in mm from the affine and the branch of every class', () => {
  const results = runCases('labelwise');
  results.forEach((r, i) => {
    const want = P.cases[i].labelwise;
    assert.deepEqual(r.spacing.map((v) => +v.toFixed(12)), [0.8, 1.2, 2.5], 'column norms of the permuted affine');
    const got = byKey(r);
    for (const key of Object.keys(want)) {
      assert.equal(got[key].branch, want[key].branch, `case ${r.caseId} class ${key} branch`);
      assertMetrics(got[key].metrics, want[key].metrics, `case ${r.caseId} class ${key}`, 1e-12);
    }
  });
  const s = summarize(results, { protocol: 'labelwise' });
  assert.deepEqual(s.branch_counts['3'], { both_present: 0, both_empty: 3, gt_empty: 0, pred_empty: 0 });
  assert.deepEqual(s.branch_counts['4'], { both_present: 1, both_empty: 1, gt_empty: 0, pred_empty: 1 });
  assert.deepEqual(s.branch_counts['5'], { both_present: 1, both_empty: 1, gt_empty: 1, pred_empty: 0 });
  assert.equal(s.n['2'].HD95, 3, 'nothing dropped under the default policy');
  const hd95 = P.cases.map((c: { labelwise: Record<string, { metrics: Record<string, number> }> }) => val(c.labelwise['2'].metrics.HD95));
  assertClose(s.mean['2'].HD95, hd95.reduce((a: number, b: number) => a + b, 0) / 3, 'mean HD95 class 2 (diagonal penalty included)', 1e-12);
});

test('bcp: voxel units, an empty prediction scores 0 on every metric, an empty reference gives NaN distances', () => {
  const results = runCases('bcp');
  results.forEach((r, i) => {
    assert.deepEqual(r.spacing, [1, 1, 1]);
    const got = byKey(r);
    for (const [key, want] of Object.entries(P.cases[i].bcp)) assertMetrics(got[key].metrics, want as Record<string, number>, `case ${r.caseId} class ${key}`, 1e-12);
  });
  assert.match(byKey(results[0])['5'].note ?? '', /original script stops/);
  const s = summarize(results.map((r) => ({ ...r, classes: r.classes.filter((c) => ['1', '2', '3'].includes(c.key)) })), { protocol: 'bcp' });
  for (const key of ['1', '2', '3']) assertMetrics(s.mean[key], P.aggregate.bcp[key], `bcp mean class ${key}`, 1e-12);
});

test('stdr: binarised, spacing fixed to (z, y, x) = (3, 0.5, 0.5) mm, NSD at 2 mm, empty cases skipped', () => {
  const results = runCases('stdr');
  results.forEach((r, i) => {
    const want = P.cases[i].stdr;
    assert.deepEqual(r.spacing, [0.5, 0.5, 3]);
    assert.equal(r.classes.length, 1);
    assert.equal(r.classes[0].key, 'foreground');
    if (want === null) assert.match(r.dropped ?? '', /pred empty/);
    else assertMetrics(r.classes[0].metrics, want, `case ${r.caseId}`, 1e-12);
  });
  const s = summarize(results, { protocol: 'stdr' });
  assert.equal(s.dropped_cases.length, 1);
  assertMetrics(s.mean.foreground, P.aggregate.stdr, 'stdr means', 1e-12);
  assert.equal(s.tolerance_mm, 2);
});

test('pa-seg: spacing from the closest canonical affine, cases with an empty mask dropped from every metric', () => {
  const results = runCases('pa-seg');
  results.forEach((r, i) => {
    const want = P.cases[i]['pa-seg'];
    // as_closest_canonical of this affine: our axis i runs along y (0.8 mm), j along x (1.2), k along z (2.5).
    assert.deepEqual(r.spacing.map((v) => +v.toFixed(12)), [0.8, 1.2, 2.5]);
    if (want === null) assert.ok(r.dropped);
    else assertMetrics(r.classes[0].metrics, want, `case ${r.caseId}`, 1e-12);
  });
  const s = summarize(results, { protocol: 'pa-seg' });
  assertMetrics(s.mean.foreground, P.aggregate['pa-seg'], 'pa-seg means (case c dropped, Dice included)', 1e-12);
  assert.equal(s.n.foreground.Dice, 2);
});

test('nnunet: Dice NaN when both are empty, nanmean over cases, ignore label excluded from counts', () => {
  const results = runCases('nnunet');
  results.forEach((r, i) => {
    const got = byKey(r);
    for (const [key, want] of Object.entries(P.cases[i].nnunet)) assertMetrics(got[key].metrics, want as Record<string, number>, `case ${r.caseId} class ${key}`, 0);
  });
  const s = summarize(results, { protocol: 'nnunet' });
  for (const key of ['1', '2', '3', '4', '5']) assertClose(s.mean[key].Dice, val(P.aggregate.nnunet[key]), `nnunet mean Dice ${key}`, 1e-12);
  assert.ok(Number.isNaN(s.foreground_mean.Dice!), 'a class that is never present makes the foreground mean NaN, as np.mean does');
  const ign = runCases('nnunet', { classes: [1, 2, 3, 4], ignoreLabel: 5 });
  ign.forEach((r, i) => {
    const got = byKey(r);
    for (const [key, want] of Object.entries(P.cases[i].nnunet_ignore5)) assertMetrics(got[key].metrics, want as Record<string, number>, `ignore 5: case ${r.caseId} class ${key}`, 0);
  });
  assert.throws(() => runCases('nnunet', { classes: [1, 5], ignoreLabel: 5 }), /ignore label 5 is also part of class 5/);
});

test('robustmedseg: Dice and HD in voxels per label and foreground, HD infinite for an empty mask', () => {
  const results = runCases('robustmedseg');
  results.forEach((r, i) => {
    const got = byKey(r);
    assert.deepEqual(Object.keys(got), ['1', '2', '3', '4', '5', 'foreground']);
    for (const [key, want] of Object.entries(P.cases[i].robustmedseg)) assertMetrics(got[key].metrics, want as Record<string, number>, `case ${r.caseId} class ${key}`, 1e-12);
  });
  const s = summarize(results, { protocol: 'robustmedseg' });
  assert.equal(s.mean['3'].HD, Infinity);
  assert.match(JSON.stringify(s), /"HD":null/, 'Infinity is written as null in JSON');
});

test('uda-clr: +1-smoothed Dice of the nested disc and cup regions on 2D images', () => {
  P.cases.forEach((c: { case: string; slice_k3_pred: string; slice_k3_gt: string; 'uda-clr': Record<string, Record<string, number>> }) => {
    const dims = [DIMS[0], DIMS[1]];
    const r = evaluateCase({ data: u8(c.slice_k3_pred), dims }, { data: u8(c.slice_k3_gt), dims }, { protocol: 'uda-clr' });
    // nnU-Net keys for the regions, the names alongside.
    assert.deepEqual(r.classes.map((x) => [x.key, x.name]), [['(1, 2)', 'disc'], ['2', 'cup']]);
    const got = Object.fromEntries(r.classes.map((x) => [x.name, x]));
    for (const k of ['disc', 'cup']) assertMetrics(got[k].metrics, c['uda-clr'][k], `case ${c.case} ${k}`, 1e-12);
  });
});

test('tensors and raw arrays give the same result as Volumes; spacing follows the input’s axis order', () => {
  const c = P.cases[0];
  const a = evaluateCase(vol(c.pred), vol(c.gt), { classes: [1, 2], spacing: [0.8, 1.2, 2.5] });
  const shape = [...DIMS].reverse();
  const tp = torch.fromTypedArray(u8(c.pred), shape);
  const tg = torch.fromTypedArray(u8(c.gt), [1, ...shape]);
  const b = evaluateCase(tp, tg, { classes: [1, 2], spacing: [2.5, 1.2, 0.8] });
  const t64 = tg.to('int64');
  const e = evaluateCase(tp, t64, { classes: [1, 2], spacing: [2.5, 1.2, 0.8] });
  tp.dispose(); tg.dispose(); t64.dispose();
  assert.deepEqual(e.classes, a.classes, 'int64 labels (BigInt64Array) score the same');
  const d = evaluateCase({ data: u8(c.pred), dims: DIMS }, { data: u8(c.gt), dims: DIMS }, { classes: [1, 2], spacing: [0.8, 1.2, 2.5] });
  assert.deepEqual(b.spacing, a.spacing);
  assert.deepEqual(b.classes, a.classes);
  assert.deepEqual(d.classes, a.classes);
});

test('geometry mismatches and bad options are errors that name the inputs', () => {
  const c = P.cases[0];
  const other = new Volume({ data: new Uint8Array(20 * 18 * 5), dims: [20, 18, 5], affine: AFFINE });
  assert.throws(() => evaluateCase(other, vol(c.gt), { names: { pred: 'p.nii.gz', gt: 'g.nii.gz' } }),
    /prediction p\.nii\.gz has dims \[20, 18, 5\] but reference g\.nii\.gz has \[20, 18, 6\]/);
  const shifted = affineFromRows([[0, 1.2, 0, -9], [-0.8, 0, 0, 20], [0, 0, 2.5, 5], [0, 0, 0, 1]]);
  assert.throws(() => evaluateCase(vol(c.pred, DIMS, shifted), vol(c.gt), { names: { pred: 'p.nii.gz', gt: 'g.nii.gz' } }), /p\.nii\.gz affine .* differs from reference g\.nii\.gz/);
  assert.doesNotThrow(() => evaluateCase(vol(c.pred, DIMS, shifted), vol(c.gt), { checkAffine: false, classes: [1] }));
  assert.throws(() => evaluateCase(vol(c.pred), vol(c.gt), { classes: [0, 1] }), /label 0 is the background/);
  assert.throws(() => evaluateCase(vol(c.pred), vol(c.gt), { protocol: 'medpy' as ProtocolName }), /unknown evaluation protocol 'medpy'/);
  const two = new Volume({ data: new Uint8Array(20 * 18 * 6 * 2), dims: DIMS, channels: 2, affine: AFFINE });
  assert.throws(() => evaluateCase(two, vol(c.gt)), /one channel, got 2 channels/);
});

/** The ACDC perturbation of metrics_ref.py (acdc_prediction), on dims [X, Y, Z]. */
function acdcPrediction(gt: ArrayLike<number>, [nx, ny, nz]: number[]): Uint8Array {
  const out = new Uint8Array(gt.length);
  const at = (x: number, y: number, z: number) => x + nx * (y + ny * z);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) if (gt[at(x, y, z)] === 1 && x + 2 < nx) out[at(x + 2, y, z)] = 1;
  for (let z = 0; z < nz; z++) for (let y = 1; y < ny; y++) for (let x = 0; x < nx; x++) if (gt[at(x, y, z)] === 2) out[at(x, y - 1, z)] = 2;
  for (let z = 2; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) if (gt[at(x, y, z)] === 3) out[at(x, y, z)] = 3;
  for (let y = 100; y < 106; y++) for (let x = 30; x < 37; x++) out[at(x, y, 4)] = 3;
  return out;
}

test('real ACDC volume (HDF5): labelwise in mm, BCP in voxels and nnU-Net against the reference scripts', async () => {
  const A = REF.acdc;
  const c = await readH5Case(path.join(SHARED_DATA, A.file));
  const gt = c.label!;
  const pred = gt.withData(acdcPrediction(gt.data as Uint8Array, gt.dims));
  const lw = byKey(evaluateCase(pred, gt, { classes: [1, 2, 3], spacing: [...A.spacing_zyx].reverse() }));
  for (const key of ['1', '2', '3']) {
    assert.equal(lw[key].branch, A.labelwise[key].branch);
    assertMetrics(lw[key].metrics, A.labelwise[key].metrics, `ACDC labelwise class ${key}`, 1e-12);
    assert.ok(lw[key].metrics.Dice! < 1 && lw[key].metrics.HD95! > 0, 'the perturbation is visible');
  }
  const bcp = byKey(evaluateCase(pred, gt, { classes: [1, 2, 3], protocol: 'bcp' }));
  for (const key of ['1', '2', '3']) assertMetrics(bcp[key].metrics, A.bcp[key], `ACDC bcp class ${key}`, 1e-12);
  const nn = byKey(evaluateCase(pred, gt, { classes: [1, 2, 3], protocol: 'nnunet' }));
  for (const key of ['1', '2', '3']) assertMetrics(nn[key].metrics, A.nnunet[key], `ACDC nnunet class ${key}`, 0);
});

/** The BraTS perturbation of metrics_ref.py (brats_prediction), on dims [I, J, K]. */
function bratsPrediction(gt: ArrayLike<number>, [ni, nj, nk]: number[]): Float32Array {
  const out = new Float32Array(gt.length);
  for (const lab of [1, 2, 4]) {
    for (let k = 0; k < nk; k++) for (let j = 0; j < nj; j++) {
      const row = ni * (j + nj * k);
      for (let i = 0; i + 2 < ni; i++) if (gt[row + i] === lab) out[row + i + 2] = lab;
    }
  }
  for (let k = 5; k < 8; k++) for (let j = 10; j < 13; j++) for (let i = 10; i < 14; i++) out[i + ni * (j + nj * k)] = 5;
  return out;
}

test('real BraTS labels (NIfTI): labels and regions in every branch, nnU-Net, RobustMedSeg and PA-Seg protocols', () => {
  const B = REF.brats;
  const gt = readNifti(path.join(SHARED_DATA, B.file));
  const pred = gt.withData(bratsPrediction(gt.data as Float32Array, gt.dims));
  const classes = [1, 2, 3, 4, 5, 6, [1, 2, 3, 4], [1, 3, 4]];
  const lw = byKey(evaluateCase(pred, gt, { classes, toleranceMm: 2 }));
  assert.deepEqual(lw['1'].metrics.TP !== undefined, true);
  for (const [key, want] of Object.entries(B.labelwise_tol2) as [string, { branch: string; metrics: Record<string, number> }][]) {
    assert.equal(lw[key].branch, want.branch, `BraTS class ${key} branch`);
    assertMetrics(lw[key].metrics, want.metrics, `BraTS labelwise class ${key}`, 1e-12);
  }
  const nn = byKey(evaluateCase(pred, gt, { classes, protocol: 'nnunet' }));
  for (const [key, want] of Object.entries(B.nnunet)) assertMetrics(nn[key].metrics, want as Record<string, number>, `BraTS nnunet ${key}`, 0);
  const rb = byKey(evaluateCase(pred, gt, { classes: [1, 2, 3, 4, 5, 6], protocol: 'robustmedseg' }));
  for (const [key, want] of Object.entries(B.robustmedseg)) assertMetrics(rb[key].metrics, want as Record<string, number>, `BraTS robustmedseg ${key}`, 1e-12);
  const pa = evaluateCase(pred, gt, { protocol: 'pa-seg' });
  assertMetrics(pa.classes[0].metrics, B['pa-seg'], 'BraTS pa-seg whole tumour', 1e-12);
});

test('real M&Ms labels: pooled ASSD by default, MedPy 0.4 ASSD on request and under pa-seg (medpy==0.4.0)', () => {
  const M = REF.mnms;
  const gt = readNifti(path.join(SHARED_DATA, M.gt));
  const pred = readNifti(path.join(SHARED_DATA, M.pred));
  const classes = { LV: 1, MYO: 2, RV: 3 }; // M&Ms label values, not ACDC's
  // The fixture's spacing is the header's pixdim; the affine's float32 column norms differ in the 8th digit.
  const spacing: number[] = M.spacing;
  const pooled = evaluateCase(pred, gt, { classes, spacing });
  const old = evaluateCase(pred, gt, { classes, spacing, assd: 'medpy-0.4-mean-of-means' });
  for (const key of ['1', '2', '3']) {
    const want = M.classes[key];
    const p = byKey(pooled)[key].metrics;
    const o = byKey(old)[key].metrics;
    assertClose(p.ASSD, val(want.ASSD_pooled), `M&Ms class ${key} pooled ASSD`, 1e-9);
    assertClose(o.ASSD, val(want.ASSD_medpy04), `M&Ms class ${key} MedPy 0.4 ASSD`, 1e-9);
    assertClose(p.ASD, val(want.ASD), `M&Ms class ${key} ASD`, 1e-9);
    assertClose(p.HD95, val(want.HD95), `M&Ms class ${key} HD95`, 1e-9);
    assert.equal(o.HD95, p.HD95, 'only ASSD depends on the formula');
    assert.ok(Math.abs(p.ASSD! - o.ASSD!) > 0.1, `class ${key}: the ES/ED surfaces differ in size, so the formulas disagree`);
  }
  const s = summarize([pooled], { protocol: 'labelwise' });
  assert.equal(s.assd_formula, 'pooled');
  assert.equal(summarize([old], { protocol: 'labelwise', assd: 'medpy-0.4-mean-of-means' }).assd_formula, 'medpy-0.4-mean-of-means');
  // PA-Seg reproduces medpy==0.4.0 whatever the caller asks for.
  for (const assd of [undefined, 'pooled'] as const) {
    const pa = evaluateCase(pred, gt, { protocol: 'pa-seg', assd });
    assertMetrics(pa.classes[0].metrics, M['pa-seg'], `M&Ms pa-seg (assd option ${assd})`, 1e-9);
  }
  const ps = summarize([evaluateCase(pred, gt, { protocol: 'pa-seg' })], { protocol: 'pa-seg', assd: 'pooled' });
  assert.equal(ps.assd_formula, 'medpy-0.4-mean-of-means');
  assert.match(ps.medpy, /medpy==0\.4\.0/);
  assert.equal(summarize([evaluateCase(pred, gt, { protocol: 'bcp', classes })], { protocol: 'bcp' }).assd_formula, null, 'BCP reports ASD, no ASSD');
  assert.throws(() => evaluateCase(pred, gt, { classes, assd: 'medpy' as never }), /evaluate: assd must be one of 'pooled', 'medpy-0.4-mean-of-means', got "medpy"/);
});

test('evaluateFolder: matches cases by file name, writes summary.json and a per-case CSV atomically, names missing files', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-eval-'));
  try {
    const predDir = path.join(dir, 'pred');
    const gtDir = path.join(dir, 'gt');
    fs.mkdirSync(predDir); fs.mkdirSync(gtDir);
    for (const c of P.cases) {
      writeNifti(path.join(predDir, `case_${c.case}.nii.gz`), vol(c.pred));
      writeNifti(path.join(gtDir, `case_${c.case}.nii.gz`), vol(c.gt));
    }
    fs.writeFileSync(path.join(predDir, 'notes.txt'), 'not a label file');
    const out = path.join(dir, 'res', 'summary.json');
    const s = await evaluateFolder(predDir, gtDir, { output: out, classes: { a: 1, b: 2, c: 3, d: 4, e: 5 } });
    assert.equal(s.n_cases, 3);
    assert.deepEqual(s.metric_per_case.map((e) => e.case), ['case_a', 'case_b', 'case_c']);
    assert.equal(s.classes['2'], 'b');
    const direct = runCases('labelwise');
    // NIfTI stores the affine in float32, so spacings differ in the 8th digit.
    for (let i = 0; i < 3; i++) {
      for (const c of direct[i].classes) assertMetrics(s.metric_per_case[i].metrics[c.key], c.metrics as Record<string, number>, `folder case ${i} class ${c.key}`, 1e-6);
    }
    const json = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.equal(json.protocol, 'labelwise');
    assert.equal(json.spacing_rule, 'affine');
    assert.equal(json.assd_formula, 'pooled');
    assert.deepEqual(json.branch_counts['4'], { both_present: 1, both_empty: 1, gt_empty: 0, pred_empty: 1 });
    assert.ok(json.foreground_mean.Dice > 0 && json.mean['1'].HD95 > 0);
    const csv = fs.readFileSync(path.join(dir, 'res', 'summary.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, 1 + 3 * 5);
    assert.match(csv[0], /^case,class,class_name,branch,dropped,Dice,IoU,HD,HD95/);
    assert.match(csv[1], /^case_a,1,a,both_present,,/);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'res')).sort(), ['summary.csv', 'summary.json'], 'no temp files left');

    // Auto classes: every label in the references.
    const auto = await evaluateFolder(predDir, gtDir, { protocol: 'nnunet' });
    assert.deepEqual(Object.keys(auto.mean), ['1', '2', '4', '5']);
    assert.match(auto.notes.join(' '), /classes not given/);

    fs.rmSync(path.join(predDir, 'case_b.nii.gz'));
    await assert.rejects(evaluateFolder(predDir, gtDir, { classes: [1] }), /1 reference case\(s\) have no prediction in .*pred: case_b/);
    const partial = await evaluateFolder(predDir, gtDir, { classes: [1], onlyPredicted: true });
    assert.equal(partial.n_cases, 2);
    assert.match(partial.notes[0], /case_b/);
    writeNifti(path.join(predDir, 'case_z.nii.gz'), vol(P.cases[0].pred));
    await assert.rejects(evaluateFolder(predDir, gtDir, { classes: [1], onlyPredicted: true }), /have no reference in .*gt: .*case_z\.nii\.gz/);
    fs.rmSync(path.join(predDir, 'case_z.nii.gz'));
    writeNifti(path.join(predDir, 'case_a.nii.gz'), new Volume({ data: new Uint8Array(20 * 18 * 5), dims: [20, 18, 5], affine: AFFINE }));
    await assert.rejects(evaluateFolder(predDir, gtDir, { classes: [1], onlyPredicted: true }), /prediction .*case_a\.nii\.gz has dims \[20, 18, 5\] but reference .*gt\/case_a\.nii\.gz/);
    fs.writeFileSync(path.join(predDir, 'case_a.nii'), '');
    await assert.rejects(evaluateFolder(predDir, gtDir, { classes: [1] }), /two files for case 'case_a'/);
    await assert.rejects(evaluateFolder(path.join(dir, 'nope'), gtDir), /cannot read the prediction folder/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('classes from nnU-Net and MSD dataset.json files and from "1+2,3" lists', () => {
  assert.deepEqual(classesFromDatasetJson({ labels: { background: 0, RV: 1, MLV: 2, LVC: 3 } }), { classes: { RV: 1, MLV: 2, LVC: 3 } });
  assert.deepEqual(classesFromDatasetJson({ labels: { background: 0, whole: [1, 2, 3], core: [2, 3], enh: 3, ignore: 4 } }),
    { classes: { whole: [1, 2, 3], core: [2, 3], enh: 3 }, ignoreLabel: 4 });
  assert.deepEqual(classesFromDatasetJson({ labels: { 0: 'background', 1: 'edema', 2: 'tumour' } }), { classes: { edema: 1, tumour: 2 } });
  assert.throws(() => classesFromDatasetJson({ name: 'x' }, 'ds.json'), /ds\.json: field "labels" is missing/);
  assert.throws(() => classesFromDatasetJson({ labels: { background: 0, a: 'x' } }, 'ds.json'), /labels\.a must be an integer label or a list/);
  assert.throws(() => classesFromDatasetJson({ labels: { background: 0 } }, 'ds.json'), /no foreground class/);
  assert.deepEqual(parseClassList('1+2+3, 2+3,3'), [[1, 2, 3], [2, 3], 3]);
  assert.throws(() => parseClassList('1,x'), /'x' is not a label/);
});
