// DICOM files and series → Volume: parsing edge cases, native pixel layouts,
// series assembly (sorting, spacing, duplicates, 4D, rescale types) and world
// geometry against dcm2niix (test/fixtures/dicom_ref.json from dicom_ref.py).
//
// How geometry is compared with dcm2niix: dcm2niix may store the voxels in a
// different order (it flips rows, and rotates 3D sagittal acquisitions), so
// affines are not compared entry by entry. Instead, for 64 voxels of
// dcm2niix's grid (the 8 corners and 56 seeded random ones) the voxel centre
// is mapped to patient space through dcm2niix's affine and back through the
// inverse of ours; it must land on one of our voxel centres (within 1e-3
// voxel) holding the same value. That checks shape, orientation, spacing,
// origin, slice order and rescale at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyAffine, invert4 } from '../src/io/affine.js';
import type { Volume } from '../src/io/volume.js';
import { DicomError, decodePixels, parseDicomBytes, readDicomFile, readDicomSeries, scanDicom, scanDicomFolder } from '../src/io/dicom/index.js';
import { type El, concat, ctSlice, encapsulate, encodeDicom, pixelBytes, writeTemp } from './io-dicom-synth.js';
import { FIXTURES, SAMPLES } from './shared-data.js';

interface SeriesRef {
  files: string[];
  shape: number[];
  affine: number[][];
  slope: number;
  inter: number;
  voxels: [number, number, number, number, number][];
  positions: number[][] | null;
}
const REF = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'dicom_ref.json'), 'utf8')) as {
  series: Record<string, SeriesRef>;
  totalsegmentatorSeg: { shape: number[]; affine: number[][] };
};

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'labelwise-dicom-'));
process.on('exit', () => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let tmpCount = 0;
function tmpDir(): string {
  const d = path.join(tmpRoot, String(tmpCount++));
  fs.mkdirSync(d, { recursive: true });
  return d;
}

const readCache = new Map<string, Volume>();

/** Reads a reference series (memoised): its single file, or its files copied into a folder of their own. */
function readRef(name: string, opts: Parameters<typeof readDicomSeries>[1] = {}): Volume {
  const key = `${name} ${JSON.stringify(opts)}`;
  const hit = readCache.get(key);
  if (hit) return hit;
  const vol = readRefUncached(name, opts);
  readCache.set(key, vol);
  return vol;
}

function readRefUncached(name: string, opts: Parameters<typeof readDicomSeries>[1]): Volume {
  const r = REF.series[name];
  if (r.files.length === 1) return readDicomSeries(path.join(SAMPLES, r.files[0]), opts);
  const dir = tmpDir();
  for (const f of r.files) fs.copyFileSync(path.join(SAMPLES, f), path.join(dir, path.basename(f)));
  return readDicomSeries(dir, opts);
}

/** Our voxel for a dcm2niix voxel, through both affines (see the header comment). */
function matchVoxel(vol: Volume, ref: SeriesRef, ijk: number[]): number[] {
  const world = applyAffine(Float64Array.from(ref.affine.flat()), ijk);
  const ours = applyAffine(invert4(vol.affine), world);
  const r = ours.map(Math.round);
  ours.forEach((v, q) => assert.ok(Math.abs(v - r[q]) < 1e-3, `voxel [${ijk}] maps to [${ours.map((x) => x.toFixed(4))}], not a voxel centre`));
  r.forEach((v, q) => assert.ok(v >= 0 && v < vol.dims[q], `voxel [${ijk}] maps outside our grid: [${r}] vs dims [${vol.dims}]`));
  return r;
}

function assertSameWorld(vol: Volume, ref: SeriesRef, opts: { scale?: number; keep?: (v: number[]) => boolean } = {}): void {
  const nRef = ref.shape.slice(0, 3).reduce((a, b) => a * b, 1);
  assert.equal(vol.numVoxels, nRef, `voxel count ${vol.dims} vs dcm2niix ${ref.shape}`);
  assert.equal(vol.channels, ref.shape[3] ?? 1, 'volumes (4th dimension)');
  for (const [i, j, k, t, v] of ref.voxels) {
    if (opts.keep && !opts.keep([i, j, k, t])) continue;
    const [a, b, c] = matchVoxel(vol, ref, [i, j, k]);
    const ours = vol.at(a, b, c, t) * (opts.scale ?? 1);
    assert.ok(Math.abs(ours - v) <= 1e-4 * Math.max(1, Math.abs(v)), `value at dcm2niix [${i},${j},${k},${t}] = ours [${a},${b},${c}]: ${ours} vs ${v}`);
  }
}

function warningsOf(vol: Volume): string[] {
  return vol.meta.warnings as string[];
}

// ---------------------------------------------------------------- geometry vs dcm2niix

for (const name of ['totalsegmentator_ct', 'ct5n', 'nibabel_dwi_mosaic', 'philips_enhanced', 'decimal_rescale', 'ct_small', 'seg_1bit']) {
  test(`series ${name}: same voxels at the same patient positions as dcm2niix`, () => {
    const vol = readRef(name);
    assertSameWorld(vol, REF.series[name]);
  });
}

test('totalsegmentator CT: dcm2niix layout, so its dcm2niix-based label map lines up voxel for voxel', () => {
  const vol = readRef('totalsegmentator_ct');
  const seg = REF.totalsegmentatorSeg;
  assert.deepEqual([...vol.dims], seg.shape);
  vol.affine.forEach((v, i) => assert.ok(Math.abs(v - seg.affine[Math.floor(i / 4)][i % 4]) < 1e-4, `affine[${i}] ${v} vs ${seg.affine[Math.floor(i / 4)][i % 4]}`));
  assert.equal(vol.orientation, 'LAS');
  assert.equal(vol.voxelType, 'int16');
  assert.equal(vol.meta.rescaleIntercept, -1024);
  assert.equal(vol.meta.modality, 'CT');
  assert.equal((vol.meta.files as string[]).length, 20);
  assert.deepEqual(vol.spacing.map((s) => Number(s.toFixed(4))), [0.9766, 0.9766, 2]);
});

test("layout 'dicom' keeps transmitted rows; every voxel stays at the same patient position", () => {
  const a = readRef('ct5n');
  const b = readRef('ct5n', { layout: 'dicom' });
  assert.equal(b.meta.layout, 'dicom');
  const [ni, nj, nk] = a.dims;
  for (const [i, j, k] of [[0, 0, 0], [3, 5, 2], [ni - 1, nj - 1, nk - 1]]) {
    const jb = nj - 1 - j;
    assert.equal(a.at(i, j, k), b.at(i, jb, k));
    a.voxelToWorld([i, j, k]).forEach((x, q) => assert.ok(Math.abs(x - b.voxelToWorld([i, jb, k])[q]) < 1e-9));
  }
});

test('non-uniform slice spacing (MONAI CT_DICOM: z -99.48, 103.02, 104.27, 105.52): error by default', () => {
  const err = (() => {
    try {
      readRef('monai_ct_nonuniform');
    } catch (e) {
      return e as Error;
    }
    return undefined;
  })();
  assert.ok(err instanceof DicomError);
  assert.match(err.message, /slice spacing is not uniform \(missing slices\?\): gaps along the slice normal are 202\.5, 1\.25, 1\.25 mm/);
  assert.match(err.message, /nonUniformSpacing: 'keep'.*'resample'/);
});

test("non-uniform spacing, 'keep': slices as acquired, first and last exactly placed, warning", () => {
  const ref = REF.series.monai_ct_nonuniform;
  const vol = readRef('monai_ct_nonuniform', { nonUniformSpacing: 'keep' });
  assert.ok(warningsOf(vol).some((w) => w.includes('mean step 68.3333 mm')));
  // Slice k of ours holds dcm2niix's slice k (dcm2niix keeps the first gap instead of the mean).
  for (const [i, j, k, t, v] of ref.voxels) {
    const [a, b] = matchVoxel(vol, ref, [i, j, 0]);
    assert.equal(vol.at(a, b, k, t), v);
  }
  const pos = ref.positions as number[][];
  const lps = (p: number[]): number[] => [-p[0], -p[1], p[2]];
  for (const [k, p] of [[0, pos[0]], [3, pos[3]]] as const) {
    // Centre of the first transmitted pixel = last row in dcm2niix layout.
    const w = vol.voxelToWorld([0, vol.dims[1] - 1, k]);
    lps(w).forEach((x, q) => assert.ok(Math.abs(x - p[q]) < 1e-3, `slice ${k}: ${lps(w)} vs IPP ${p}`));
  }
});

test("non-uniform spacing, 'resample': uniform 1.25 mm grid, original slices where the grid meets them", () => {
  const keep = readRef('monai_ct_nonuniform', { nonUniformSpacing: 'keep' });
  const vol = readRef('monai_ct_nonuniform', { nonUniformSpacing: 'resample' });
  assert.equal(vol.dims[2], 165); // (105.52 - -99.48) / 1.25 + 1
  assert.ok(Math.abs(vol.spacing[2] - 1.25) < 1e-9);
  assert.equal(vol.voxelType, 'float32');
  const slice = (v: Volume, k: number): number[] => Array.from({ length: 256 }, (_, n) => v.at(n % 16, Math.floor(n / 16), k));
  // Grid slices 0, 163 and 164 sit at z -99.48, 104.27 and 105.52: original slices 0, 2 and 3.
  for (const [k, orig] of [[0, 0], [163, 2], [164, 3]]) {
    slice(vol, k).forEach((x, n) => assert.ok(Math.abs(x - slice(keep, orig)[n]) < 1e-3, `grid slice ${k} vs original ${orig}`));
  }
  // Halfway between the first two originals: the mean of the two.
  const mid = slice(vol, 81); // z = -99.48 + 81 × 1.25 = 1.77, w = 101.25 / 202.5 = 0.5
  mid.forEach((x, n) => assert.ok(Math.abs(x - (slice(keep, 0)[n] + slice(keep, 1)[n]) / 2) < 1e-3));
});

test('RT Dose: slices from GridFrameOffsetVector (5 mm), Dose Grid Scaling applied (float32)', () => {
  const ref = REF.series.rtdose;
  const vol = readRef('rtdose');
  assert.equal(vol.voxelType, 'float32');
  assert.ok(Math.abs(vol.spacing[2] - 5) < 1e-9, `slice spacing ${vol.spacing[2]}`);
  const raw = readRef('rtdose', { rescale: false });
  // dcm2niix ignores GridFrameOffsetVector (it reports "unable to determine slice thickness"
  // and uses 1 mm), so compare the first slice's geometry and every slice's values.
  for (const [i, j, k, t, v] of ref.voxels) {
    const [a, b] = matchVoxel(raw, ref, [i, j, 0]);
    assert.equal(raw.at(a, b, k, t), v);
    assert.ok(Math.abs(vol.at(a, b, k, t) - v * 1e-6) < 1e-6 * Math.max(1, v) * 1e-3);
  }
});

test('Siemens mosaic with a non-whole tile grid (nibabel 0.dcm/1.dcm): geometry as dcm2niix, 4D, warnings', () => {
  const vol = readRef('nibabel_mosaic_4d');
  assert.deepEqual([...vol.dims, vol.channels], [36, 36, 48, 2]);
  // 256 px / 7 tiles: tile offsets are integers here, dcm2niix differs from grid row 2 on; compare the first grid row.
  assertSameWorld(vol, REF.series.nibabel_mosaic_4d, { keep: ([, , k]) => k < 7 });
  assert.ok(warningsOf(vol).some((w) => w.includes('not a whole 7 × 7 grid')));
  assert.ok(warningsOf(vol).some((w) => w.includes('mosaic volumes are not at the same position')));
});

test('MONOCHROME1 radiograph without patient geometry: centred, ImagerPixelSpacing, values as stored', () => {
  const ref = REF.series.cr_monochrome1;
  const vol = readRef('cr_monochrome1');
  assert.equal(vol.meta.photometricInterpretation, 'MONOCHROME1');
  assert.deepEqual(vol.spacing.map((s) => Number(s.toFixed(6))), [0.1, 0.1, 1]);
  assert.deepEqual(vol.voxelToWorld([7.5, 7.5, 0]).map((x) => Math.abs(Number(x.toFixed(9)))), [0, 0, 0]);
  // Same voxel order as dcm2niix (which uses 1 mm, ignoring ImagerPixelSpacing): compare by index.
  for (const [i, j, k, , v] of ref.voxels) assert.ok(Math.abs(vol.at(i, j, k) - v) < 1e-3, `[${i},${j},${k}] ${vol.at(i, j, k)} vs ${v}`);
  assert.ok(warningsOf(vol).some((w) => w.includes('centred on the origin')));
  const inv = readRef('cr_monochrome1', { invertMonochrome1: true, rescale: false });
  assert.equal(inv.meta.photometricInterpretation, 'MONOCHROME2');
});

test('single 2D image: slice thickness as third spacing; empty SliceThickness → 1 mm with a warning', () => {
  const ct = readDicomSeries(path.join(SAMPLES, 'pydicom_testfiles/CT_small.dcm'));
  assert.deepEqual([...ct.dims], [128, 128, 1]);
  assert.ok(Math.abs(ct.spacing[2] - 5) < 1e-9);
  const empty = readDicomSeries(path.join(SAMPLES, 'nibabel_testdata/dicom/slicethickness_empty_string.dcm'));
  assert.deepEqual([...empty.dims], [384, 384, 1]);
  assert.ok(Math.abs(empty.spacing[2] - 1) < 1e-9);
  assert.ok(warningsOf(empty).some((w) => w.includes('1 mm assumed for the slice axis')));
});

test('multi-frame colour cine without per-frame geometry: frames stacked, RGB as 3 channels, warning', () => {
  const vol = readDicomSeries(path.join(SAMPLES, 'pydicom_testfiles/examples_ybr_color.dcm'));
  assert.deepEqual([...vol.dims, vol.channels], [320, 240, 30, 3]);
  assert.equal(vol.voxelType, 'uint8');
  assert.equal(vol.meta.photometricInterpretation, 'RGB');
  assert.ok(warningsOf(vol).some((w) => w.includes('frames stacked along the slice normal')));
});

// ---------------------------------------------------------------- folders, DICOMDIR, selection

test('scanDicomFolder groups by SeriesInstanceUID, splits mixed stacks, skips non-images with a note', () => {
  const dir = path.join(SAMPLES, 'pydicom_testfiles/dicomdirtests');
  const skipped: string[] = [];
  const series = scanDicomFolder(dir, { onSkip: (f, why) => skipped.push(`${f}: ${why}`) });
  const ct5 = series.find((s) => s.files.some((f) => f.includes('CT5N')));
  assert.ok(ct5);
  assert.equal(ct5.files.length, 5);
  assert.equal(ct5.images, 5);
  assert.equal(ct5.modality, 'CT');
  // The two scouts of CT2N share a UID but not an orientation: two stacks.
  const scouts = series.filter((s) => s.files.some((f) => f.includes('CT2N')));
  assert.equal(scouts.length, 2);
  assert.ok(scouts.every((s) => /#\d$/.test(s.key)));
  assert.ok(skipped.some((s) => s.includes('DICOMDIR') && s.includes('media directory')));
  assert.ok(skipped.some((s) => s.includes('TINY_ALPHA/README') && s.includes('not a DICOM file')));
  assert.ok(skipped.some((s) => s.includes('IM000000') && s.includes('no Pixel Data')));
});

test('readDicomSeries on a folder with several series lists them; seriesUid picks one', () => {
  const dir = path.join(SAMPLES, 'pydicom_testfiles/dicomdirtests/98892001');
  assert.throws(() => readDicomSeries(dir), (e: Error) => e instanceof DicomError && /holds 3 DICOM series/.test(e.message) && e.message.includes("'SmartScore - Gated 0.5 sec'") && e.message.includes('--series'));
  const scan = scanDicom(dir);
  const ct5 = scan.series.find((s) => s.images === 5);
  assert.ok(ct5);
  const vol = readDicomSeries(dir, { seriesUid: ct5.seriesInstanceUid });
  assert.deepEqual([...vol.dims], [16, 16, 5]);
  assert.equal(vol.meta.seriesInstanceUid, ct5.seriesInstanceUid);
  const scout = scan.series.find((s) => s.key.endsWith('#1'));
  assert.ok(scout);
  assert.deepEqual([...readDicomSeries(dir, { seriesUid: scout.key }).dims], [16, 16, 1]);
  assert.throws(() => readDicomSeries(dir, { seriesUid: '1.2.3.4.5' }), /no series with SeriesInstanceUID 1\.2\.3\.4\.5/);
});

test('a DICOMDIR file is followed to the files it references', () => {
  const dicomdir = path.join(SAMPLES, 'pydicom_testfiles/dicomdirtests/DICOMDIR');
  assert.throws(() => readDicomSeries(dicomdir), /DICOM series; choose one/);
  const ct5 = scanDicom(path.join(SAMPLES, 'pydicom_testfiles/dicomdirtests/98892001')).series.find((s) => s.images === 5);
  assert.ok(ct5);
  const vol = readDicomSeries(dicomdir, { seriesUid: ct5.seriesInstanceUid });
  assert.deepEqual([...vol.dims], [16, 16, 5]);
  // TINY_ALPHA's images carry no pixel data.
  assert.throws(() => readDicomSeries(path.join(SAMPLES, 'pydicom_testfiles/dicomdirtests/TINY_ALPHA/DICOMDIR')), /no DICOM image series found.*no Pixel Data/s);
});

test('non-image objects and missing paths: errors name the file and what it holds', () => {
  const rtstruct = path.join(SAMPLES, 'pydicom_testfiles/rtstruct.dcm');
  assert.throws(() => readDicomSeries(rtstruct), (e: Error) => e.message.startsWith(rtstruct) && /holds no image: SOP class RT Structure Set Storage .*Modality RTSTRUCT/.test(e.message));
  assert.throws(() => readDicomSeries(path.join(SAMPLES, 'pydicom_testfiles/reportsi.dcm')), /Basic Text SR Storage.*Modality SR/);
  assert.throws(() => readDicomSeries(path.join(tmpRoot, 'nope')), /no such file or folder/);
  const empty = tmpDir();
  assert.throws(() => readDicomSeries(empty), /no DICOM image series found \(the folder holds no files\)/);
});

// ---------------------------------------------------------------- parsing edge cases

test('files without preamble/meta, missing transfer syntax, implicit data under an explicit syntax', () => {
  // pydicom's raw data set samples (RT Ion Plans): explicit VR, both byte orders.
  for (const f of ['ExplVR_BigEndNoMeta.dcm', 'ExplVR_LitEndNoMeta.dcm']) {
    const ds = readDicomFile(path.join(SAMPLES, 'pydicom_testfiles', f));
    assert.equal(ds.str('x00080060'), 'RTPLAN');
    assert.equal(ds.bigEndian, f.includes('Big'));
    assert.ok(ds.warnings.some((w) => w.includes('no file meta header')));
  }
  const values = [1, -2, 3, -4, 5, -6];
  for (const [opts, bigEndian] of [[{ part10: false }, false], [{ part10: false, transferSyntax: '1.2.840.10008.1.2' }, false], [{ part10: false, transferSyntax: '1.2.840.10008.1.2.2' }, true]] as const) {
    const els = ctSlice({ rows: 2, cols: 3, pixels: values, ipp: [0, 0, 0], extra: [[0x7fe00010, 'OW', pixelBytes(values, 16, true, bigEndian)]] });
    const ds = parseDicomBytes(encodeDicom(els, opts), 'raw.dcm');
    assert.equal(ds.bigEndian, bigEndian);
    assert.deepEqual(Array.from(decodePixels(ds).data), [1, -2, 3, -4, 5, -6]);
  }
  const els = ctSlice({ rows: 2, cols: 3, pixels: values, ipp: [0, 0, 0] });
  const noTs = parseDicomBytes(encodeDicom(els, { omitTransferSyntax: true, transferSyntax: '1.2.840.10008.1.2' }), 'nots.dcm');
  assert.equal(noTs.transferSyntax, '1.2.840.10008.1.2');
  assert.ok(noTs.warnings.some((w) => w.includes('lacks TransferSyntaxUID')));
  assert.deepEqual(Array.from(decodePixels(noTs).data), [1, -2, 3, -4, 5, -6]);
  const lie = readDicomFile(path.join(SAMPLES, 'pydicom_testfiles/SC_rgb_jpeg.dcm'));
  assert.ok(lie.warnings.some((w) => w.includes('encoded implicit VR')));
});

test('gzipped DICOM is read transparently (pydicom zipMR.gz = MR_small.dcm)', () => {
  const a = decodePixels(readDicomFile(path.join(SAMPLES, 'pydicom_testfiles/zipMR.gz')));
  const b = decodePixels(readDicomFile(path.join(SAMPLES, 'pydicom_testfiles/MR_small.dcm')));
  assert.deepEqual(Array.from(a.data), Array.from(b.data));
});

test('truncated and corrupted files raise DicomError naming the file, never crash', () => {
  const bytes = fs.readFileSync(path.join(SAMPLES, 'pydicom_testfiles/CT_small.dcm'));
  const name = 'cut.dcm';
  assert.throws(() => decodePixels(readDicomFile(path.join(SAMPLES, 'pydicom_testfiles/MR_truncated.dcm'))), /truncated.*PixelData \(7FE0,0010\)/);
  // Implicit VR does not check lengths in the parser: ours does.
  const implicit = encodeDicom(ctSlice({ rows: 4, cols: 4, pixels: Array(16).fill(7) }), { transferSyntax: '1.2.840.10008.1.2' });
  assert.throws(() => parseDicomBytes(implicit.subarray(0, implicit.length - 5), name), /PixelData \(7FE0,0010\) declares 32 bytes.*truncated/);
  let rng = 12345;
  const rand = (n: number): number => {
    rng = (rng * 1103515245 + 12345) % 2 ** 31;
    return rng % n;
  };
  for (let trial = 0; trial < 60; trial++) {
    const b = Uint8Array.from(bytes);
    const cutAt = trial < 30 ? rand(b.length) : b.length;
    if (trial >= 30) for (let k = 0; k < 4; k++) b[132 + rand(b.length - 132)] = rand(256);
    try {
      const ds = parseDicomBytes(b.subarray(0, cutAt), name);
      decodePixels(ds);
    } catch (e) {
      assert.ok(e instanceof DicomError, `trial ${trial}: ${String(e)}`);
      assert.ok(e.message.startsWith(name));
    }
  }
  assert.throws(() => readDicomFile(path.join(SAMPLES, 'pydicom_testfiles/dicomdirtests/TINY_ALPHA/README')), /not a DICOM file/);
});

test('declared sizes are checked before allocating', () => {
  const els = ctSlice({ rows: 2, cols: 2, pixels: [1, 2, 3, 4] }).map((e): El => (e[0] === 0x00280010 || e[0] === 0x00280011 ? [e[0], 'US', [65535]] : e));
  els.push([0x00280008, 'IS', '100000']);
  assert.throws(() => decodePixels(parseDicomBytes(encodeDicom(els), 'huge.dcm')), /over the \d+-byte limit/);
  const short = ctSlice({ rows: 2, cols: 2, pixels: [1, 2, 3, 4] }).map((e): El => (e[0] === 0x00280010 ? [e[0], 'US', [3]] : e));
  assert.throws(() => decodePixels(parseDicomBytes(encodeDicom(short), 'short.dcm')), /holds 8 bytes but 1 frame\(s\) of 3 × 2 × 1 samples at 16 bits need 12/);
  const frag = encodeDicom(ctSlice({ rows: 2, cols: 2, pixels: [] }).filter((e) => e[0] !== 0x7fe00010), { transferSyntax: '1.2.840.10008.1.2.5' }, encapsulate([Uint8Array.from([1, 2, 3])]).subarray(0, 30));
  assert.throws(() => decodePixels(parseDicomBytes(frag, 'frag.dcm')), DicomError);
});

// ---------------------------------------------------------------- native pixel layouts

function native(extra: El[], pixels: Uint8Array, ts?: string): ReturnType<typeof decodePixels> {
  const base = ctSlice({ rows: 2, cols: 2, pixels: [0, 0, 0, 0] }).filter((e) => e[0] !== 0x7fe00010);
  const els = base.filter((e) => !extra.some((x) => x[0] === e[0])).concat(extra, [[0x7fe00010, 'OB', pixels]]);
  return decodePixels(parseDicomBytes(encodeDicom(els, { transferSyntax: ts }), 'native.dcm'));
}

test('BitsStored masking, sign extension and HighBit shift', () => {
  // 12 of 16 bits, signed: garbage in the top nibble must be ignored.
  const px = native([[0x00280101, 'US', [12]], [0x00280102, 'US', [11]], [0x00280103, 'US', [1]]], pixelBytes([0xf800, 0x07ff, 0xa001, 0x0fff], 16));
  assert.deepEqual(Array.from(px.data), [-2048, 2047, 1, -1]);
  const unsigned = native([[0x00280101, 'US', [12]], [0x00280102, 'US', [11]], [0x00280103, 'US', [0]]], pixelBytes([0xf800, 0x07ff, 0xa001, 0x0fff], 16));
  assert.deepEqual(Array.from(unsigned.data), [0x800, 0x7ff, 1, 0xfff]);
  // High bit 15 with 12 bits stored: the value sits in the top 12 bits.
  const high = native([[0x00280101, 'US', [12]], [0x00280102, 'US', [15]], [0x00280103, 'US', [0]]], pixelBytes([0x0010, 0xfff0, 0x123f, 0], 16));
  assert.deepEqual(Array.from(high.data), [1, 0xfff, 0x123, 0]);
  const be = native([], pixelBytes([-3, 300, -32768, 32767], 16, true, true), '1.2.840.10008.1.2.2');
  assert.deepEqual(Array.from(be.data), [-3, 300, -32768, 32767]);
  const f32 = decodePixels(parseDicomBytes(encodeDicom(ctSlice({ rows: 1, cols: 2, pixels: [] }).filter((e) => e[0] !== 0x7fe00010 && e[0] !== 0x00280100 && e[0] !== 0x00280101).concat([[0x7fe00008, 'OF', new Uint8Array(Float32Array.from([1.5, -2.25]).buffer)]])), 'float.dcm'));
  assert.deepEqual(Array.from(f32.data), [1.5, -2.25]);
});

function rgbEls(pi: string, planar = 0): El[] {
  return [
    [0x00280002, 'US', [3]],
    [0x00280004, 'CS', pi],
    [0x00280006, 'US', [planar]],
    [0x00280100, 'US', [8]],
    [0x00280101, 'US', [8]],
    [0x00280102, 'US', [7]],
    [0x00280103, 'US', [0]],
  ];
}

test('planar RGB, native YBR_FULL and YBR_FULL_422 become pixel-interleaved RGB', () => {
  const planar = native(rgbEls('RGB', 1), Uint8Array.from([1, 2, 3, 4, 10, 20, 30, 40, 100, 200, 250, 255]));
  assert.deepEqual(Array.from(planar.data), [1, 10, 100, 2, 20, 200, 3, 30, 250, 4, 40, 255]);
  // Y=76, Cb=85, Cr=255 is pure red in pydicom's reference (SC_ybr_full: (254, 0, 0)).
  const ybr = native(rgbEls('YBR_FULL'), Uint8Array.from([76, 85, 255, 128, 128, 128, 255, 128, 128, 0, 128, 128]));
  assert.deepEqual(Array.from(ybr.data), [254, 0, 0, 128, 128, 128, 255, 255, 255, 0, 0, 0]);
  // 422: Y1 Y2 Cb Cr per pixel pair.
  const y422 = native(rgbEls('YBR_FULL_422'), Uint8Array.from([76, 76, 85, 255, 128, 0, 128, 128]));
  assert.deepEqual(Array.from(y422.data), [254, 0, 0, 254, 0, 0, 128, 128, 128, 0, 0, 0]);
});

test('PALETTE COLOR: standard and segmented lookup tables', () => {
  const desc = [4, 10, 16];
  const words = (v: number[]): Uint8Array => pixelBytes(v, 16);
  const els: El[] = [
    [0x00280004, 'CS', 'PALETTE COLOR'],
    [0x00280100, 'US', [8]],
    [0x00280101, 'US', [8]],
    [0x00280102, 'US', [7]],
    [0x00280103, 'US', [0]],
    [0x00281101, 'US', desc],
    [0x00281102, 'US', desc],
    [0x00281103, 'US', desc],
    [0x00281201, 'OW', words([0, 100, 200, 300])],
    [0x00281202, 'OW', words([1, 2, 3, 4])],
    // Segmented blue: discrete [1000], then linear to 4000 over 3 entries.
    [0x00281223, 'OW', words([0, 1, 1000, 1, 3, 4000])],
  ];
  const px = native(els, Uint8Array.from([9, 10, 12, 200]));
  // Index below the first mapped value clamps to entry 0, above to the last entry.
  assert.deepEqual(Array.from(px.data), [0, 1, 1000, 0, 1, 1000, 200, 3, 3000, 300, 4, 4000]);
  assert.equal(px.photometric, 'RGB');
});

// ---------------------------------------------------------------- series assembly (synthetic)

function writeSeries(dir: string, slices: { z: number; pixels: number[]; name?: string; instance?: number; slope?: string; intercept?: string; extra?: El[]; ipp?: number[] }[], common: Partial<Parameters<typeof ctSlice>[0]> = {}): string[] {
  return slices.map((s, n) =>
    writeTemp(dir, s.name ?? `s${n}.dcm`, encodeDicom(ctSlice({ rows: 2, cols: 3, ipp: s.ipp ?? [10, 20, s.z], instance: s.instance ?? n + 1, slope: s.slope, intercept: s.intercept, extra: s.extra, ...common, pixels: s.pixels }))),
  );
}

const px6 = (base: number): number[] => [0, 1, 2, 3, 4, 5].map((v) => v + base);

test('slices sorted along the normal, not by file name or instance; spacing from positions', () => {
  const dir = tmpDir();
  // Files in reverse z order and with misleading instance numbers; SliceThickness would say 9.
  writeSeries(dir, [{ z: 6, pixels: px6(60), instance: 1 }, { z: 0, pixels: px6(0), instance: 3 }, { z: 3, pixels: px6(30), instance: 2 }], { extra: [[0x00180050, 'DS', '9']] });
  const vol = readDicomSeries(dir);
  assert.deepEqual([...vol.dims], [3, 2, 3]);
  assert.ok(Math.abs(vol.spacing[2] - 3) < 1e-9);
  assert.deepEqual([0, 1, 2].map((k) => vol.at(0, 1, k)), [0, 30, 60]); // (0, 1) in dcm2niix layout = first transmitted pixel
  // LPS (10, 20, 0) → RAS (-10, -20, 0)
  assert.deepEqual(vol.voxelToWorld([0, 1, 0]).map((x) => Number(x.toFixed(6))), [-10, -20, 0]);
  assert.equal(vol.orientation, 'LAS');
});

test('copies of one instance (same SOPInstanceUID) count once, with a warning', () => {
  const dir = tmpDir();
  const files = writeSeries(dir, [{ z: 0, pixels: px6(0) }, { z: 1, pixels: px6(10) }]);
  fs.mkdirSync(path.join(dir, 'copy'));
  fs.copyFileSync(files[1], path.join(dir, 'copy', 'again.dcm'));
  const vol = readDicomSeries(dir);
  assert.deepEqual([...vol.dims, vol.channels], [3, 2, 2, 1]);
  assert.ok(warningsOf(vol).some((w) => w.includes('1 file(s) ignored as copies of another file with the same SOPInstanceUID')));
  const [info] = scanDicomFolder(dir);
  assert.equal(info.files.length, 2);
  assert.equal(info.duplicates.length, 1);
  assert.deepEqual([...info.files, ...info.duplicates].filter((f) => f === files[1] || f.endsWith('again.dcm')).length, 2);
});

test('duplicate positions: error naming both files; uniform repeats become a 4D volume', () => {
  const dup = tmpDir();
  writeSeries(dup, [{ z: 0, pixels: px6(0), name: 'a.dcm' }, { z: 2, pixels: px6(1), name: 'b.dcm' }, { z: 2, pixels: px6(2), name: 'c.dcm' }]);
  assert.throws(() => readDicomSeries(dup), (e: Error) => /duplicate slice position 2 mm/.test(e.message) && e.message.includes(path.join(dup, 'b.dcm')) && e.message.includes(path.join(dup, 'c.dcm')));
  const four = tmpDir();
  // Two time points (TemporalPositionIdentifier) at each of two positions.
  const tp = (t: number): El[] => [[0x00200100, 'IS', String(t)]];
  writeSeries(four, [
    { z: 0, pixels: px6(100), extra: tp(2) },
    { z: 0, pixels: px6(0), extra: tp(1) },
    { z: 1, pixels: px6(10), extra: tp(1) },
    { z: 1, pixels: px6(110), extra: tp(2) },
  ]);
  const vol = readDicomSeries(four);
  assert.deepEqual([...vol.dims, vol.channels], [3, 2, 2, 2]);
  assert.equal(vol.meta.volumes, 2);
  assert.deepEqual([vol.at(0, 1, 0, 0), vol.at(0, 1, 1, 0), vol.at(0, 1, 0, 1), vol.at(0, 1, 1, 1)], [0, 10, 100, 110]);
});

test('rescale: integer → narrowest integer type (not below the stored width), non-integer or per-slice → float32', () => {
  const cases: [string, string, string, number[], string][] = [
    ['1', '-1024', 'int16', [0, 3000], 'int16'],
    ['1', '0', 'int16', [0, 200], 'int16'],
    ['1', '0', 'uint8', [0, 200], 'uint8'],
    ['1', '-100', 'uint8', [0, 250], 'int16'],
    ['1', '-100', 'uint8', [0, 200], 'int8'],
    ['1', '-1024', 'uint16', [0, 65535], 'int32'],
    ['1', '0', 'uint16', [0, 65535], 'uint16'],
    ['0.5', '0', 'int16', [0, 3], 'float32'],
  ];
  for (const [slope, intercept, stored, values, want] of cases) {
    const dir = tmpDir();
    const signed = stored === 'int16';
    const bits = stored === 'uint8' ? 8 : 16;
    writeSeries(dir, [{ z: 0, pixels: [values[0], values[1], 0, 0, 0, 0], slope, intercept }, { z: 1, pixels: [values[0], 0, 0, 0, 0, 0], slope, intercept }], { signed, bits });
    const vol = readDicomSeries(dir);
    assert.equal(vol.voxelType, want, `slope ${slope} intercept ${intercept} ${stored} ${values}`);
    assert.equal(vol.at(1, 1, 0), values[1] * Number(slope) + Number(intercept));
    assert.equal(vol.at(0, 1, 0), values[0] * Number(slope) + Number(intercept));
  }
  const mixed = tmpDir();
  writeSeries(mixed, [{ z: 0, pixels: px6(0), slope: '1', intercept: '0' }, { z: 1, pixels: px6(0), slope: '2', intercept: '0' }]);
  const vol = readDicomSeries(mixed);
  assert.equal(vol.voxelType, 'float32');
  assert.equal(vol.meta.rescalePerSlice, true);
  assert.equal(vol.at(2, 0, 1), 2 * 5);
  assert.ok(warningsOf(vol).some((w) => w.includes('Rescale Slope differs')));
  const raw = readDicomSeries(mixed, { rescale: false });
  assert.equal(raw.at(2, 0, 1), 5);
});

test('gantry tilt: sheared stack keeps true slice positions in the affine, with a warning', () => {
  const dir = tmpDir();
  // Each slice 2 mm up and 1 mm posterior: 26.57° tilt.
  writeSeries(dir, [0, 1, 2].map((n) => ({ z: 2 * n, ipp: [10, 20 + n, 2 * n], pixels: px6(n) })));
  const vol = readDicomSeries(dir);
  assert.ok(warningsOf(vol).some((w) => w.includes('sheared relative to the slice normal by 26.5651°')));
  for (let k = 0; k < 3; k++) assert.deepEqual(vol.voxelToWorld([0, 1, k]).map((x) => Number(x.toFixed(6))), [-10, -(20 + k), 2 * k]);
});

test('inconsistent series: missing positions, orientation or size differences are errors naming files', () => {
  const d1 = tmpDir();
  writeSeries(d1, [{ z: 0, pixels: px6(0), name: 'a.dcm' }, { z: 1, pixels: px6(0), name: 'b.dcm' }]);
  // Orientation but no position.
  const bytes = encodeDicom(ctSlice({ rows: 2, cols: 3, pixels: px6(0), instance: 3, iop: [1, 0, 0, 0, 1, 0] }));
  writeTemp(d1, 'nogeom.dcm', bytes);
  assert.throws(() => readDicomSeries(d1), /nogeom\.dcm has no ImagePositionPatient/);
  const d2 = tmpDir();
  writeSeries(d2, [{ z: 0, pixels: px6(0), name: 'a.dcm' }, { z: 1, pixels: px6(0), name: 'b.dcm' }]);
  writeTemp(d2, 'c.dcm', encodeDicom(ctSlice({ rows: 2, cols: 3, pixels: px6(0), ipp: [10, 20, 2], spacing: [0.5, 0.8], instance: 3 })));
  assert.throws(() => readDicomSeries(d2), (e: Error) => /differ in PixelSpacing/.test(e.message) && e.message.includes('c.dcm'));
});

test('encapsulated uncompressed and RLE series decode like native', () => {
  const els = ctSlice({ rows: 2, cols: 3, pixels: [] }).filter((e) => e[0] !== 0x7fe00010);
  const pix = pixelBytes([-5, 6, 7, 8, 9, 1000], 16, true);
  const encUnc = parseDicomBytes(encodeDicom(els, { transferSyntax: '1.2.840.10008.1.2.1.98' }, encapsulate([pix], true)), 'enc.dcm');
  assert.deepEqual(Array.from(decodePixels(encUnc).data), [-5, 6, 7, 8, 9, 1000]);
  // Two frames, one fragment each, no offset table (frames told apart by fragment count).
  const two = els.concat([[0x00280008, 'IS', '2']]);
  const both = parseDicomBytes(encodeDicom(two, { transferSyntax: '1.2.840.10008.1.2.1.98' }, encapsulate([pix, pix])), 'enc2.dcm');
  assert.deepEqual(Array.from(decodePixels(both).data), [-5, 6, 7, 8, 9, 1000, -5, 6, 7, 8, 9, 1000]);
  assert.equal(concat([pix]).length, 12);
});
