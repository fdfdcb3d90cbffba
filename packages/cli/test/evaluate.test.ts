// `labelwise evaluate` end to end on real BraTS label maps: exit codes, the
// files it writes, and the same numbers as the toolkit API.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { evaluateFolder } from '@labelwise/toolkit/metrics';
import { main } from '../src/main.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.resolve(here, '../src/main.js');
const REPO = path.resolve(here, '../../../..');
const SHARED = process.env.LABELWISE_SHARED_DATA ?? path.resolve(REPO, '../shared/data');
const BRATS = path.join(SHARED, 'samples/brats2015_deepmedic');
const SPINE = path.join(SHARED, 'samples/ivadomed_testing/derivatives/labels/sub-unf01/anat/sub-unf01_T1w_seg-manual.nii.gz');

/** Runs the verb in this process (no node start-up), capturing stderr. */
async function inProcess(args: string[]): Promise<{ code: number; err: string }> {
  const write = process.stderr.write.bind(process.stderr);
  let err = '';
  process.stderr.write = ((chunk: string | Uint8Array) => { err += String(chunk); return true; }) as typeof process.stderr.write;
  try {
    return { code: await main(['evaluate', ...args]), err };
  } finally {
    process.stderr.write = write;
  }
}

function cli(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [MAIN, 'evaluate', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** pred/ and gt/ folders where each "prediction" is another patient's manual label (same grid). */
function setup(): { dir: string; pred: string; gt: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-cli-eval-'));
  const pred = path.join(dir, 'pred');
  const gt = path.join(dir, 'gt');
  fs.mkdirSync(pred); fs.mkdirSync(gt);
  const label = (p: string) => path.join(BRATS, `brats_2013_${p}_1/OTMultiClass.nii.gz`);
  fs.copyFileSync(label('pat0005'), path.join(gt, 'caseA.nii.gz'));
  fs.copyFileSync(label('pat0003'), path.join(pred, 'caseA.nii.gz'));
  fs.copyFileSync(label('pat0003'), path.join(gt, 'caseB.nii.gz'));
  fs.copyFileSync(label('pat0005'), path.join(pred, 'caseB.nii.gz'));
  return { dir, pred, gt };
}

test('--help documents every option and protocol', () => {
  const r = spawnSync(process.execPath, [MAIN, 'evaluate', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  for (const opt of ['--pred', '--gt', '--output', '--csv', '--labels', '--labels-json', '--protocol', '--tolerance-mm', '--empty-distance', '--spacing', '--ignore-label', '--only-predicted', '--no-affine-check', '--quiet']) {
    assert.ok(r.stdout.includes(opt), `help mentions ${opt}`);
  }
  for (const p of ['labelwise', 'bcp', 'stdr', 'pa-seg', 'uda-clr', 'nnunet', 'robustmedseg']) assert.ok(r.stdout.includes(p), `help lists protocol ${p}`);
});

test('scores BraTS regions, writes summary.json and CSV, and agrees with evaluateFolder', async () => {
  const { dir, pred, gt } = setup();
  try {
    const out = path.join(dir, 'res', 'summary.json');
    const r = cli(['--pred', pred, '--gt', gt, '--labels', '1+2+3+4,1+3+4,4', '--tolerance-mm', '2', '-o', out, '--quiet']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /protocol labelwise: 2 case\(s\), spacing: affine, NSD tolerance 2 mm/);
    assert.match(r.out, /\(1, 2, 3, 4\)/);
    const s = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.deepEqual(Object.keys(s.mean), ['4', '(1, 2, 3, 4)', '(1, 3, 4)']);
    // Whole-tumour Dice of pat0003's label against pat0005's (nibabel + numpy: 0.5145752327088489).
    assert.ok(Math.abs(s.metric_per_case[0].metrics['(1, 2, 3, 4)'].Dice - 0.5145752327088489) < 1e-12);
    assert.equal(s.metric_per_case[0].reference_file, path.join(gt, 'caseA.nii.gz'));
    assert.deepEqual(s.branch_counts['4'], { both_present: 2, both_empty: 0, gt_empty: 0, pred_empty: 0 });
    const api = await evaluateFolder(pred, gt, { classes: [[1, 2, 3, 4], [1, 3, 4], 4], toleranceMm: 2 });
    assert.deepEqual(s.mean, JSON.parse(JSON.stringify(api.mean)));
    const csv = fs.readFileSync(path.join(dir, 'res', 'summary.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, 1 + 2 * 3);
    // The old MedPy formula on request: the same cases, a different whole-tumour ASSD, recorded as such.
    const old = path.join(dir, 'res', 'old.json');
    assert.equal(cli(['--pred', pred, '--gt', gt, '--labels', '1+2+3+4,1+3+4,4', '--tolerance-mm', '2', '-o', old, '--quiet', '--assd', 'medpy-0.4-mean-of-means']).code, 0);
    const o = JSON.parse(fs.readFileSync(old, 'utf8'));
    assert.deepEqual([s.assd_formula, o.assd_formula], ['pooled', 'medpy-0.4-mean-of-means']);
    const oldApi = await evaluateFolder(pred, gt, { classes: [[1, 2, 3, 4], [1, 3, 4], 4], toleranceMm: 2, assd: 'medpy-0.4-mean-of-means' });
    assert.equal(o.mean['(1, 2, 3, 4)'].ASSD, oldApi.mean['(1, 2, 3, 4)'].ASSD);
    assert.notEqual(o.mean['(1, 2, 3, 4)'].ASSD, s.mean['(1, 2, 3, 4)'].ASSD);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--labels-json (nnU-Net dataset.json) with --protocol nnunet, and --csv elsewhere', () => {
  const { dir, pred, gt } = setup();
  try {
    const ds = path.join(dir, 'dataset.json');
    fs.writeFileSync(ds, JSON.stringify({ labels: { background: 0, necrosis: 1, edema: 2, 'non-enhancing': 3, enhancing: 4 }, file_ending: '.nii.gz' }));
    const out = path.join(dir, 'nn.json');
    const csvPath = path.join(dir, 'cases.csv');
    const r = cli(['--pred', pred, '--gt', gt, '--labels-json', ds, '--protocol', 'nnunet', '-o', out, '--csv', csvPath]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /\[1\/2\] caseA/);
    const s = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.equal(s.protocol, 'nnunet');
    assert.equal(s.classes['2'], 'edema');
    assert.deepEqual(s.metrics, ['Dice', 'IoU', 'FP', 'TP', 'FN', 'TN', 'n_pred', 'n_ref']);
    assert.ok(fs.existsSync(csvPath));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing prediction or a prediction on another grid exits 1 naming the file; bad options exit 2', async () => {
  const { dir, pred, gt } = setup();
  try {
    const out = path.join(dir, 's.json');
    fs.copyFileSync(path.join(gt, 'caseA.nii.gz'), path.join(gt, 'case0.nii.gz'));
    let r = await inProcess(['--pred', pred, '--gt', gt, '--labels', '1', '-o', out, '--quiet']);
    assert.equal(r.code, 1);
    assert.match(r.err, /1 reference case\(s\) have no prediction in .*: case0/);
    assert.ok(!fs.existsSync(out), 'nothing written on failure');
    fs.copyFileSync(SPINE, path.join(pred, 'case0.nii.gz'));
    const c = cli(['--pred', pred, '--gt', gt, '--labels', '1', '-o', out]);
    assert.equal(c.code, 1, 'the real binary exits 1');
    assert.match(c.err, /prediction .*case0\.nii\.gz has dims \[131, 141, 16\] but reference .*case0\.nii\.gz has \[240, 240, 155\]/);
    for (const bad of [
      ['--pred', pred, '--gt', gt, '-o', out, '--protocol', 'medpy'],
      ['--pred', pred, '--gt', gt, '-o', out, '--labels', '1,a'],
      ['--pred', pred, '--gt', gt],
      ['--pred', pred, '--gt', gt, '-o', out, '--bogus'],
      ['--pred', pred, '--gt', gt, '-o', out, '--tolerance-mm', '-1'],
      ['--pred', pred, '--gt', gt, '-o', out, '--assd', 'mean'],
      ['--pred', pred, '--gt', gt, '-o', out, '--labels', '1', '--labels-json', 'x.json'],
    ]) {
      r = await inProcess(bad);
      assert.equal(r.code, 2, `usage error for ${bad.slice(4).join(' ')}: ${r.err}`);
    }
    r = await inProcess(['--pred', path.join(dir, 'nope'), '--gt', gt, '-o', out]);
    assert.equal(r.code, 1);
    assert.match(r.err, /--pred: .*nope is not a folder/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
