// `labelwise convert` end to end: DICOM series → NIfTI identical to dcm2niix's
// (affine and voxels, from the toolkit's dicom_ref.json fixture), folder
// output naming, series selection, exit codes and messages.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { readNifti } from '@labelwise/toolkit/io';
import { runCli } from './run-cli.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '../../../..');
const SHARED = process.env.LABELWISE_SHARED_DATA ?? path.resolve(REPO, '../shared/data');
const SAMPLES = path.join(SHARED, 'samples');
const REF = JSON.parse(fs.readFileSync(path.join(REPO, 'packages/toolkit/test/fixtures/dicom_ref.json'), 'utf8')) as {
  series: Record<string, { affine: number[][]; shape: number[]; voxels: number[][] }>;
};

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-cli-convert-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs the verb in this process, capturing stdout and stderr. */
const run = (args: string[]) => runCli(['convert', ...args]);

test('DICOM CT series → .nii.gz identical to dcm2niix (affine, voxels) with a JSON sidecar', async () => {
  const out = path.join(tmp, 'ct.nii.gz');
  const r = await run([path.join(SAMPLES, 'totalsegmentator_examples/example_ct_dicom'), '-o', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /wrote .*ct\.nii\.gz \(512×512×20 int16, spacing 0\.9766×0\.9766×2 mm, LAS\)/);
  const vol = readNifti(out);
  const ref = REF.series.totalsegmentator_ct;
  assert.deepEqual([...vol.dims], ref.shape);
  vol.affine.forEach((v, i) => assert.ok(Math.abs(v - ref.affine[Math.floor(i / 4)][i % 4]) < 1e-4, `affine[${i}]`));
  for (const [i, j, k, , v] of ref.voxels) assert.equal(vol.at(i, j, k), v, `voxel [${i},${j},${k}]`);
  const side = JSON.parse(fs.readFileSync(path.join(tmp, 'ct.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(side.modality, 'CT');
  assert.equal(side.seriesDescription, 'CT Body 3.0');
  assert.equal(side.rescaleIntercept, -1024);
  assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-')), [], 'no temp files left behind');
});

test('a folder with several series → one file per series, dcm2niix-style names; --list and --series', async () => {
  const input = path.join(SAMPLES, 'pydicom_testfiles/dicomdirtests/98892001');
  const outDir = path.join(tmp, 'many');
  const r = await run([input, '-o', outDir, '--no-sidecar']);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(fs.readdirSync(outDir).sort(), ['4_Scout.nii.gz', '4_Scout_2.nii.gz', '5_SmartScore_-_Gated_0.5_sec.nii.gz']);
  assert.deepEqual([...readNifti(path.join(outDir, '5_SmartScore_-_Gated_0.5_sec.nii.gz')).dims], [16, 16, 5]);

  const list = await run([input, '--list']);
  assert.equal(list.code, 0);
  assert.equal(list.out.trim().split('\n').length, 3);
  assert.match(list.out, /#5 'SmartScore - Gated 0\.5 sec' CT 5 image\(s\) 16×16/);

  const one = await run([input, '-o', path.join(tmp, 'one.nii'), '--series', '1.3.6.1.4.1.5962.1.1.0.0.0.1194734704.16302.0.6']);
  assert.equal(one.code, 0, one.err);
  assert.deepEqual([...readNifti(path.join(tmp, 'one.nii')).dims], [16, 16, 5]);

  const ambiguous = await run([input, '-o', path.join(tmp, 'x.nii.gz')]);
  assert.equal(ambiguous.code, 2);
  assert.match(ambiguous.err, /holds 3 series but -o names one file; give a folder, or pick one with --series/);
  const named = await run([input, '-o', path.join(tmp, 'named'), '--name', '%m_%s', '--uncompressed', '--no-sidecar']);
  assert.equal(named.code, 0);
  assert.deepEqual(fs.readdirSync(path.join(tmp, 'named')).sort(), ['CT_4.nii', 'CT_4_2.nii', 'CT_5.nii']);
});

test('non-uniform slice spacing: exit 1 with the gaps; --non-uniform keep converts with a warning', async () => {
  const input = path.join(SAMPLES, 'monai_testing_data/CT_DICOM');
  const bad = await run([input, '-o', path.join(tmp, 'nu.nii.gz')]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /slice spacing is not uniform.*202\.5, 1\.25, 1\.25 mm.*--non-uniform keep\|resample/);
  const keep = await run([input, '-o', path.join(tmp, 'nu.nii.gz'), '--non-uniform', 'keep']);
  assert.equal(keep.code, 0, keep.err);
  assert.match(keep.err, /warning: slice spacing is not uniform/);
  const resample = await run([input, '-o', path.join(tmp, 'nu_eq.nii.gz'), '--non-uniform', 'resample', '--quiet']);
  assert.equal(resample.code, 0);
  assert.equal(resample.err, '');
  assert.deepEqual([...readNifti(path.join(tmp, 'nu_eq.nii.gz')).dims], [16, 16, 165]);
});

test('errors: non-image DICOM, unknown series, bad options, missing input', async () => {
  const rt = await run([path.join(SAMPLES, 'pydicom_testfiles/rtstruct.dcm'), '-o', path.join(tmp, 'rt.nii.gz')]);
  assert.equal(rt.code, 1);
  assert.match(rt.err, /rtstruct\.dcm: holds no image: SOP class RT Structure Set Storage .*Modality RTSTRUCT/);
  const unknown = await run([path.join(SAMPLES, 'pydicom_testfiles/dicomdirtests/98892001'), '-o', tmp, '--series', '9.9.9']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /--series 9\.9\.9: no such series/);
  assert.equal((await run([path.join(SAMPLES, 'nope'), '-o', tmp])).code, 2);
  assert.equal((await run([path.join(SAMPLES, 'monai_testing_data/CT_DICOM'), '-o', tmp, '--non-uniform', 'maybe'])).code, 2);
  assert.equal((await run([path.join(SAMPLES, 'monai_testing_data/CT_DICOM')])).code, 2);
});

test('DICOMDIR input and non-DICOM images', async () => {
  const dicomdir = path.join(SAMPLES, 'pydicom_testfiles/dicomdirtests/DICOMDIR');
  const list = await run([dicomdir, '--list']);
  assert.equal(list.code, 0);
  assert.match(list.out, /'Routine Brain' CT 4 image\(s\)/);
  const nii = path.join(SAMPLES, 'nibabel_testdata/nifti/anatomical.nii');
  const out = path.join(tmp, 'anat.nii.gz');
  const r = await run([nii, '-o', out]);
  assert.equal(r.code, 0, r.err);
  const a = readNifti(nii);
  const b = readNifti(out);
  assert.deepEqual([...b.dims], [...a.dims]);
  assert.deepEqual(Array.from(b.affine), Array.from(a.affine));
  assert.deepEqual(Array.from(b.data as Int16Array), Array.from(a.data as Int16Array));
});
