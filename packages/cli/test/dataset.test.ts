// `labelwise dataset inspect|check|split` on small datasets assembled from
// the shared samples (symlinks): output, written files and exit codes of
// the real executable (node packages/cli/dist/src/main.js).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { UsageError } from '../src/command.js';
import { command } from '../src/commands/dataset.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SHARED = process.env.LABELWISE_SHARED_DATA ?? path.resolve(here, '../../../../../shared/data');
const S = (...p: string[]): string => path.join(SHARED, 'samples', ...p);

const MAIN = path.resolve(here, '../src/main.js');

/**
 * Runs the CLI in a child process: the test runner reports through this
 * process's stdout, so capturing it in-process would swallow test results.
 */
function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [MAIN, ...args], { maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code, out: stdout, err: stderr });
    });
  });
}

let tmp: string;
let nnunet: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'labelwise-cli-dataset-'));
  nnunet = path.join(tmp, 'Dataset501_BraTS');
  const ids = ['brats_2013_pat0001_1', 'brats_2013_pat0002_1'];
  for (const d of ['imagesTr', 'labelsTr']) fs.mkdirSync(path.join(nnunet, d), { recursive: true });
  for (const id of ids) {
    fs.symlinkSync(S('brats2015_deepmedic', id, 'Flair_subtrMeanDivStd.nii.gz'), path.join(nnunet, 'imagesTr', `${id}_0000.nii.gz`));
    fs.symlinkSync(S('brats2015_deepmedic', id, 'OTMultiClass.nii.gz'), path.join(nnunet, 'labelsTr', `${id}.nii.gz`));
  }
  fs.writeFileSync(path.join(nnunet, 'dataset.json'), JSON.stringify({
    name: 'BraTS', channel_names: { 0: 'FLAIR' }, labels: { background: 0, necrosis: 1, edema: 2, non_enhancing: 3, enhancing: 4 }, numTraining: 2, file_ending: '.nii.gz',
  }));
});
after(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

describe('labelwise dataset', () => {
  test('--help documents every subcommand and option', () => {
    for (const word of ['inspect <path>', 'check <path>', 'split <path>', 'export <path>', '--mode', '--layout', '--json', '--mask-encoding', '--samples', '--spacing-tol', '--folds', 'examples:']) assert.ok(command.help.includes(word), word);
  });

  test('inspect prints the fingerprint table and writes dataset_fingerprint.json', async () => {
    const json = path.join(tmp, 'fp', 'dataset_fingerprint.json');
    const r = await run(['dataset', 'inspect', nnunet, '--json', json, '--samples', '1000']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Dataset BraTS \(nnunet, 2 case\(s\), 1 centre\(s\)\)/);
    assert.match(r.out, /brats_2013_pat0001_1 +BraTS +labelled +240×240×155/);
    assert.match(r.out, /foreground intensities \(1000 samples per labelled case, seed 1234\)/);
    assert.match(r.out, /problems: none/);
    assert.match(r.err, /\[2\/2\] brats_2013_pat0002_1/);
    const fp = JSON.parse(fs.readFileSync(json, 'utf8'));
    assert.equal(fp.format, 'labelwise.fingerprint');
    assert.deepEqual(fp.spacings, [[1, 1, 1], [1, 1, 1]]);
    assert.deepEqual(Object.keys(fp.foreground_intensity_properties_per_channel), ['0']);
    assert.deepEqual(fs.readdirSync(path.dirname(json)), ['dataset_fingerprint.json'], 'no temp file left behind');
  });

  test('check exits 0 on a clean dataset and 1 on mismatched geometry, naming the files', async () => {
    const ok = await run(['dataset', 'check', nnunet]);
    assert.equal(ok.code, 0, ok.out + ok.err);
    assert.match(ok.out, /every image\/label pair shares one voxel grid/);
    const csv = path.join(tmp, 'traps.csv');
    fs.writeFileSync(csv, [
      'case,image,label',
      `promise,${S('promise12_ndaugment', 'Case00.nii.gz')},${S('promise12_ndaugment', 'Case00_large_segmentation.nii.gz')}`,
      `promise_ok,${S('promise12_ndaugment', 'Case00.nii.gz')},${S('promise12_ndaugment', 'Case00_segmentation.nii.gz')}`,
    ].join('\n') + '\n');
    const report = path.join(tmp, 'check.json');
    const bad = await run(['dataset', 'check', csv, '--json', report]);
    assert.equal(bad.code, 1, bad.err);
    assert.match(bad.out, /ERROR \[shape-mismatch\] case 'promise': label shape differs: \[128, 128, 64\] vs \[512, 512, 47\] \(.*Case00\.nii\.gz vs .*Case00_large_segmentation\.nii\.gz\)/);
    assert.match(bad.out, /2 case\(s\) checked, 1 OK, 1 with errors/);
    const written = JSON.parse(fs.readFileSync(report, 'utf8'));
    assert.deepEqual(written.problems.map((p: { code: string }) => p.code), ['shape-mismatch', 'spacing-mismatch']);
    assert.equal(written.geometryMismatches, 2);
  });

  test('split writes nnU-Net splits_final.json and its recipe', async () => {
    const out = path.join(tmp, 'splits_final.json');
    const r = await run(['dataset', 'split', nnunet, '--folds', '2', '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /fold 0: 1 train, 1 val/);
    const folds = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.equal(folds.length, 2);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(tmp, 'splits_final.recipe.json'), 'utf8')).recipe, { method: 'kfold', seed: 12345, folds: 2, stratifiedByCentre: true, groupBy: 'case' });
  });

  test('export writes an nnU-Net raw dataset that inspect reads back', async () => {
    const out = path.join(tmp, 'Dataset502_Copy');
    const r = await run(['dataset', 'export', nnunet, '--out', out, '--mode', 'symlink', '--splits', path.join(tmp, 'splits_final.json')]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /exported 2 training and 0 test case\(s\)/);
    assert.deepEqual(fs.readdirSync(path.join(out, 'imagesTr')).sort(), ['brats_2013_pat0001_1_0000.nii.gz', 'brats_2013_pat0002_1_0000.nii.gz']);
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'splits_final.json'), 'utf8')).length, 2);
    await assert.rejects(command.run(['export', nnunet]), /--out <dir> is required/);
  });

  test('usage errors are UsageErrors (exit 2) with a clear message; bad data is an Error (exit 1)', async () => {
    // In-process: the verb throws before printing anything; main() maps UsageError to exit 2.
    const cases: [string[], RegExp][] = [
      [[], /missing subcommand/],
      [['inspect'], /inspect: missing <path>/],
      [['inspect', path.join(tmp, 'nope')], /no such file or folder/],
      [['frobnicate', nnunet], /unknown subcommand 'frobnicate'/],
      [['inspect', nnunet, '--layout', 'zip'], /--layout must be one of nnunet, msd/],
      [['inspect', nnunet, '--samples', 'many'], /--samples expects an integer ≥ 1, got 'many'/],
    ];
    for (const [args, re] of cases) await assert.rejects(command.run(args), (e: unknown) => e instanceof UsageError && re.test((e as Error).message), args.join(' '));
    await assert.rejects(command.run(['inspect', nnunet, '--bogus']), (e: unknown) => (e as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION');
    const broken = path.join(tmp, 'broken');
    fs.mkdirSync(broken);
    fs.writeFileSync(path.join(broken, 'dataset.json'), JSON.stringify({ channel_names: { 0: 'CT' }, file_ending: '.nii.gz', numTraining: 0 }));
    await assert.rejects(command.run(['check', broken]), (e: unknown) => !(e instanceof UsageError) && /dataset\.json: missing 'labels'/.test((e as Error).message));
    // Through the executable: exit codes 1 and 2.
    const r = await run(['dataset', 'check', broken]);
    assert.equal(r.code, 1);
    assert.match(r.err, /labelwise dataset: .*dataset\.json: missing 'labels'/);
    const u = await run(['dataset', 'inspect']);
    assert.equal(u.code, 2);
    assert.match(u.err, /labelwise dataset: inspect: missing <path>/);
  });
});
