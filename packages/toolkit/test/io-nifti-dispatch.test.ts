// readImage / writeImage: the format follows the path (extension, folder,
// DICM preamble), unknown formats get an error listing what is supported.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { composeAffine } from '../src/io/affine.js';
import { readNifti } from '../src/io/nifti.js';
import { READABLE_EXTENSIONS, imageFormatOf, readImage, writeImage } from '../src/io/read.js';
import { Volume } from '../src/io/volume.js';
import { ACDC, SAMPLES } from './shared-data.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-dispatch-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

test('formats by extension, folder and DICM preamble', () => {
  assert.equal(imageFormatOf('a/b.nii.gz'), 'nifti');
  assert.equal(imageFormatOf('a/b.NII'), 'nifti');
  assert.equal(imageFormatOf('a/b.hdr'), 'nifti');
  assert.equal(imageFormatOf('a/b.h5'), 'hdf5');
  assert.equal(imageFormatOf('a/b.jpeg'), 'image2d');
  assert.equal(imageFormatOf('a/b.dcm'), 'dicom');
  assert.equal(imageFormatOf('a/b.mgz'), undefined);
  const dir = path.join(SAMPLES, 'totalsegmentator_examples/example_ct_dicom');
  assert.equal(imageFormatOf(dir), 'dicom');
  const first = path.join(dir, fs.readdirSync(dir).sort()[0]);
  assert.equal(imageFormatOf(first), 'dicom', 'extension-less file with a DICM preamble');
});

test('readImage/writeImage NIfTI: same as readNifti, round trip through .nii.gz', async () => {
  const f = path.join(SAMPLES, 'nibabel_testdata/nifti/example4d.nii.gz');
  const v = await readImage(f);
  const ref = readNifti(f);
  assert.deepEqual(v.data, ref.data);
  const out = path.join(tmp, 'x.nii.gz');
  await writeImage(out, v);
  assert.deepEqual((await readImage(out)).data, v.data);
});

test('unknown formats: errors list the supported extensions and name the file', async () => {
  const mgz = path.join(SAMPLES, 'nibabel_testdata/nifti/test.mgz');
  await assert.rejects(readImage(mgz), (e: Error) => e.message.includes(mgz) && READABLE_EXTENSIONS.every((x) => e.message.includes(x)));
  await assert.rejects(readImage(path.join(tmp, 'missing.nii.gz')), /not found/);
  const v = new Volume({ data: new Uint8Array(8), dims: [2, 2, 2] });
  await assert.rejects(writeImage(path.join(tmp, 'x.dcm'), v), /DICOM is not supported/);
  await assert.rejects(writeImage(path.join(tmp, 'x.tiff'), v), (e: Error) => e.message.includes('x.tiff') && e.message.includes('.nii.gz'));
});

test('readImage dispatches .h5, .png and .dcm to their readers', async () => {
  const h5 = path.join(ACDC, 'data', 'patient001_frame01.h5');
  if (fs.existsSync(h5)) {
    const v = await readImage(h5);
    assert.equal(v.meta.format, 'hdf5');
    const out = path.join(tmp, 'v.h5');
    await writeImage(out, v);
    const back = await readImage(out);
    assert.deepEqual(back.data, v.data);
    assert.deepEqual(back.dims, v.dims);
  }
  const img = new Volume({ data: Uint8Array.from({ length: 12 }, (_, i) => i * 20), dims: [4, 3, 1], affine: composeAffine([1, 1, 1], [0, 0, 0]) });
  const png = path.join(tmp, 'p.png');
  await writeImage(png, img);
  assert.deepEqual(Array.from((await readImage(png)).data as Uint8Array), Array.from(img.data as Uint8Array));
  const ct = await readImage(path.join(SAMPLES, 'pydicom_testfiles/CT_small.dcm'));
  assert.deepEqual([...ct.dims], [128, 128, 1]);
  assert.equal(ct.meta.format, 'dicom');
});
