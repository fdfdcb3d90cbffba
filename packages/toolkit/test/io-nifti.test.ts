// NIfTI reader/writer against nibabel: every NIfTI file in the shared samples
// matches nibabel's shape, affine, scaling and voxel values; every datatype
// round-trips (including big-endian inputs, 4D shapes and extensions); and
// nibabel reads back what we write with the same affine.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { type Affine, affineFromRows, composeAffine } from '../src/io/affine.js';
import { writeFileAtomic, writeFileAtomicAsync } from '../src/io/atomic.js';
import { type NiftiMeta, encodeNifti, parseNifti, readNifti, readNiftiAsync, readNiftiHeader, writeNifti } from '../src/io/nifti.js';
import { Volume, type VoxelType, allocVoxels } from '../src/io/volume.js';
import { FIXTURES, SAMPLES } from './shared-data.js';
import { Rng } from '../src/random/rng.js';

interface Probe { ijk: number[]; c: number; value: number | null }
interface Ref {
  file: string;
  kind: 'nifti' | 'not-nifti' | 'error';
  version?: number;
  shape?: number[];
  stored_dtype?: string;
  affine?: number[][];
  qform_code?: number;
  sform_code?: number;
  data_error?: string;
  scaled?: boolean;
  channels?: number;
  probes?: Probe[];
  nan_count?: number;
  sum?: number;
  mean?: number;
  wsum?: number;
}

const REF = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'nifti_ref.json'), 'utf8')) as { files: Ref[] };
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-nifti-'));
process.on('exit', () => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** Uniform [0, 1) numbers from the toolkit's seeded PRNG. */
function mulberry32(seed: number): () => number {
  const r = Rng.from(seed);
  return () => r.random();
}

function assertAffineClose(actual: Affine, expected: Affine | number[][], tol: number, what: string): void {
  const e = Array.isArray(expected) ? affineFromRows(expected) : expected;
  for (let i = 0; i < 16; i++) {
    const d = Math.abs(actual[i] - e[i]);
    assert.ok(d <= tol * Math.max(1, Math.abs(e[i])), `${what}: affine[${Math.floor(i / 4)}][${i % 4}] = ${actual[i]}, expected ${e[i]}`);
  }
}

function stats(v: Volume): { sum: number; abs: number; wsum: number; nan: number } {
  let sum = 0, abs = 0, wsum = 0, nan = 0;
  const d = v.data instanceof BigInt64Array || v.data instanceof BigUint64Array ? Float64Array.from(v.data, Number) : v.data;
  for (let i = 0, w = 1; i < d.length; i++, w = w === 13 ? 1 : w + 1) {
    const x = d[i];
    if (!Number.isFinite(x)) { nan++; continue; }
    sum += x; abs += Math.abs(x); wsum += x * w;
  }
  return { sum, abs, wsum, nan };
}

function expectedType(ref: Ref): VoxelType {
  const st = (ref.stored_dtype ?? '').replace(/^[<>|=]/, '');
  const map: Record<string, VoxelType> = { i1: 'int8', u1: 'uint8', i2: 'int16', u2: 'uint16', i4: 'int32', u4: 'uint32', i8: 'int64', u8: 'uint64', f4: 'float32', f8: 'float64' };
  const base = (map[st] ?? st) as VoxelType;
  if (st.startsWith('[')) return 'uint8'; // RGB24 structured dtype
  if (ref.scaled) return base === 'float64' ? 'float64' : 'float32';
  return base;
}

test('every NIfTI sample matches nibabel: shape, dtype, affine, codes, voxels, sums', () => {
  const nifti = REF.files.filter((r) => r.kind === 'nifti' && !r.data_error);
  assert.ok(nifti.length >= 50, `expected the reference to cover the samples, got ${nifti.length}`);
  for (const ref of nifti) {
    const file = path.join(SAMPLES, ref.file);
    const v = readNifti(file);
    const shape = ref.shape!;
    assert.deepEqual([...v.dims], [shape[0], shape[1] ?? 1, shape[2] ?? 1], `${ref.file}: dims`);
    assert.equal(v.channels, ref.channels, `${ref.file}: channels`);
    assert.equal(v.voxelType, expectedType(ref), `${ref.file}: voxel type`);
    assertAffineClose(v.affine, ref.affine!, 1e-6, ref.file);
    const meta = v.meta.nifti as NiftiMeta;
    assert.equal(meta.qformCode, ref.qform_code, `${ref.file}: qform_code`);
    assert.equal(meta.sformCode, ref.sform_code, `${ref.file}: sform_code`);
    assert.equal(meta.version, ref.version);
    assert.deepEqual(meta.dim.slice(1, meta.dim[0] + 1), shape, `${ref.file}: original dim kept in meta`);
    for (const p of ref.probes!) {
      const got = v.at(p.ijk[0], p.ijk[1], p.ijk[2], p.c);
      if (p.value === null) assert.ok(Number.isNaN(got), `${ref.file}: NaN at ${p.ijk}`);
      else assert.ok(Math.abs(got - p.value) <= 1e-6 * Math.max(1, Math.abs(p.value)), `${ref.file}: voxel ${p.ijk} c${p.c} = ${got}, nibabel ${p.value}`);
    }
    const s = stats(v);
    assert.equal(s.nan, ref.nan_count, `${ref.file}: NaN count`);
    // float32 rounding of scaled values: tolerance relative to the sum of magnitudes.
    const tol = 1e-6 * Math.max(1, s.abs) * 13;
    assert.ok(Math.abs(s.sum - ref.sum!) <= tol, `${ref.file}: sum ${s.sum} vs nibabel ${ref.sum}`);
    assert.ok(Math.abs(s.wsum - ref.wsum!) <= tol, `${ref.file}: position-weighted sum ${s.wsum} vs nibabel ${ref.wsum}`);
  }
});

test('header-only .hdr files: clear error naming the missing .img; header still readable', () => {
  const hdrOnly = REF.files.filter((r) => r.kind === 'nifti' && r.data_error);
  assert.ok(hdrOnly.length >= 2);
  for (const ref of hdrOnly) {
    const file = path.join(SAMPLES, ref.file);
    const img = file.replace(/\.hdr$/, '.img');
    assert.throws(() => readNifti(file), (e: Error) => e.message.includes(img) && /missing/.test(e.message));
    const h = readNiftiHeader(file);
    assert.deepEqual(h.shape, ref.shape);
    assertAffineClose(h.affine, ref.affine!, 1e-6, ref.file);
    assert.equal(h.header.version, ref.version);
  }
});

test('MGH and Analyze files: a clear "not NIfTI" error naming the file', () => {
  const others = REF.files.filter((r) => r.kind === 'not-nifti');
  assert.ok(others.some((r) => r.file.endsWith('.mgz')) && others.some((r) => r.file.endsWith('analyze.hdr')));
  for (const ref of others) {
    const file = path.join(SAMPLES, ref.file);
    assert.throws(() => readNifti(file), (e: Error) => e.message.includes(file) && /not (a )?NIfTI/.test(e.message), ref.file);
  }
});

test('readNiftiAsync gives the same volume as readNifti', async () => {
  for (const rel of ['nibabel_testdata/nifti/example4d.nii.gz', 'nibabel_testdata/nifti/anatomical.nii']) {
    const f = path.join(SAMPLES, rel);
    const a = readNifti(f);
    const b = await readNiftiAsync(f);
    assert.deepEqual(b.dims, a.dims);
    assert.deepEqual(Array.from(b.affine), Array.from(a.affine));
    assert.deepEqual(b.data, a.data);
  }
});

// ------------------------------------------------------------- round trips

const TYPES: VoxelType[] = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64'];

function randomVolume(type: VoxelType, dims: [number, number, number], channels: number, seed: number, affine: Affine): Volume {
  const rnd = mulberry32(seed);
  const n = dims[0] * dims[1] * dims[2] * channels;
  const data = allocVoxels(type, n);
  const ranges: Record<string, [number, number]> = {
    int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535], int32: [-2147483648, 2147483647], uint32: [0, 4294967295],
  };
  for (let i = 0; i < n; i++) {
    if (type === 'int64') (data as BigInt64Array)[i] = (BigInt(Math.floor(rnd() * 2 ** 32)) << 31n) - (1n << 62n);
    else if (type === 'uint64') (data as BigUint64Array)[i] = BigInt(Math.floor(rnd() * 2 ** 32)) << 32n | BigInt(Math.floor(rnd() * 2 ** 32));
    else if (type === 'float32' || type === 'float64') (data as Float64Array)[i] = (rnd() - 0.5) * 1e4;
    else { const [lo, hi] = ranges[type]; (data as Int32Array)[i] = lo + Math.floor(rnd() * (hi - lo + 1)); }
  }
  return new Volume({ data, dims, channels, affine });
}

// Oblique, left-handed, anisotropic: exercises qfac and the quaternion.
const OBLIQUE = (() => {
  const c = Math.cos(0.3), s = Math.sin(0.3);
  return composeAffine([0.8, 1.25, 3], [-90.5, 102.25, -40], [c, -s, 0, s, c, 0, 0, 0, -1]);
})();

test('every datatype round-trips through .nii, .nii.gz and .hdr/.img (data and affine)', () => {
  let seed = 1;
  for (const type of TYPES) {
    const vol = randomVolume(type, [7, 5, 3], 2, seed++, OBLIQUE);
    for (const ext of ['.nii', '.nii.gz', '.hdr']) {
      const file = path.join(tmpRoot, `rt-${type}${ext}`);
      writeNifti(file, vol);
      const back = readNifti(file);
      assert.equal(back.voxelType, type, `${type}${ext}`);
      assert.deepEqual(back.dims, vol.dims);
      assert.equal(back.channels, 2);
      assert.deepEqual(back.data, vol.data, `${type}${ext}: data`);
      assertAffineClose(back.affine, vol.affine, 1e-6, `${type}${ext}`);
      assert.equal((back.meta.nifti as NiftiMeta).dim[0], 4, 'channels written as a 4th dimension');
    }
  }
});

test('gzipped pairs (.hdr.gz + .img.gz) read from either name', () => {
  const vol = randomVolume('int16', [5, 4, 3], 1, 21, OBLIQUE);
  const img = path.join(tmpRoot, 'gzpair.img.gz');
  writeNifti(img, vol);
  const hdr = path.join(tmpRoot, 'gzpair.hdr');
  fs.writeFileSync(`${hdr}.gz`, zlib.gzipSync(fs.readFileSync(hdr)));
  fs.rmSync(hdr);
  for (const name of [`${hdr}.gz`, img]) {
    const back = readNifti(name);
    assert.deepEqual(back.data, vol.data, name);
    assertAffineClose(back.affine, vol.affine, 1e-6, name);
  }
  assert.deepEqual(readNiftiHeader(img).shape, [5, 4, 3]);
});

test('RGB24 and RGBA32: planar channels in memory, interleaved in the file, round trip exact', () => {
  const rgb = readNifti(path.join(SAMPLES, 'ivadomed_testing/rgb_test_file.nii.gz'));
  assert.equal(rgb.channels, 3);
  const out = path.join(tmpRoot, 'rgb.nii.gz');
  writeNifti(out, rgb);
  const back = readNifti(out);
  assert.equal((back.meta.nifti as NiftiMeta).datatype, 'RGB24');
  assert.deepEqual(back.data, rgb.data);
  const rgba = randomVolume('uint8', [4, 3, 2], 8, 99, OBLIQUE); // 2 frames × RGBA
  const f = path.join(tmpRoot, 'rgba.nii');
  writeNifti(f, rgba, { datatype: 'RGBA32' });
  const b2 = readNifti(f);
  assert.equal((b2.meta.nifti as NiftiMeta).datatype, 'RGBA32');
  assert.equal(b2.channels, 8);
  assert.deepEqual(b2.data, rgba.data);
  // File layout really is interleaved: voxel 0 of frame 0 holds R,G,B,A of channels 0..3.
  const bytes = fs.readFileSync(f);
  const n = 4 * 3 * 2;
  assert.deepEqual([...bytes.subarray(352, 356)], [0, 1, 2, 3].map((c) => (rgba.data as Uint8Array)[c * n]));
});

test('big-endian inputs and 4D/NIfTI-2 files round-trip with their shape and affine', () => {
  for (const rel of ['nibabel_testdata/nifti/anatomical.nii', 'nibabel_testdata/nifti/reoriented_anat_moved.nii', 'nibabel_testdata/nifti/example4d.nii.gz', 'nibabel_testdata/nifti/example_nifti2.nii.gz']) {
    const v = readNifti(path.join(SAMPLES, rel));
    for (const ext of ['.nii', '.nii.gz']) {
      const out = path.join(tmpRoot, path.basename(rel).replace(/\.nii(\.gz)?$/, '') + ext);
      writeNifti(out, v);
      const back = readNifti(out);
      assert.deepEqual(back.data, v.data, rel);
      assertAffineClose(back.affine, v.affine, 1e-6, rel);
      const m0 = v.meta.nifti as NiftiMeta, m1 = back.meta.nifti as NiftiMeta;
      assert.deepEqual(m1.dim, m0.dim, `${rel}: dim restored`);
      assert.equal(m1.byteOrder, 'little');
      assert.equal(m1.version, m0.version);
      assert.equal(m1.xyztUnits, m0.xyztUnits);
      assert.deepEqual(m1.pixdim.slice(4), m0.pixdim.slice(4), `${rel}: TR etc. kept`);
    }
  }
});

test('5D shapes and NIfTI-2 for sizes beyond int16 round-trip', () => {
  const v5 = randomVolume('float32', [4, 3, 2], 6, 11, OBLIQUE);
  const m5 = { ...v5.meta, nifti: { dim: [5, 4, 3, 2, 1, 6, 1, 1], intentCode: 1007, intentName: 'vector' } };
  const vol5 = new Volume({ data: v5.data, dims: v5.dims, channels: 6, affine: v5.affine, meta: m5 });
  const f5 = path.join(tmpRoot, 'five.nii.gz');
  writeNifti(f5, vol5);
  const back5 = readNifti(f5);
  const nm = back5.meta.nifti as NiftiMeta;
  assert.deepEqual(nm.dim, [5, 4, 3, 2, 1, 6, 1, 1]);
  assert.equal(nm.intentCode, 1007);
  assert.equal(nm.intentName, 'vector');
  assert.equal(back5.channels, 6);
  assert.deepEqual(back5.data, vol5.data);
  // Stale meta (different channel count) falls back to a plain 4D shape.
  const other = new Volume({ data: new Float32Array(4 * 3 * 2 * 2), dims: [4, 3, 2], channels: 2, meta: m5 });
  const fo = path.join(tmpRoot, 'stale.nii');
  writeNifti(fo, other);
  assert.deepEqual((readNifti(fo).meta.nifti as NiftiMeta).dim, [4, 4, 3, 2, 2, 1, 1, 1]);
  const wide = new Volume({ data: Uint8Array.from({ length: 40000 }, (_, i) => i % 251), dims: [40000, 1, 1] });
  const fw = path.join(tmpRoot, 'wide.nii.gz');
  writeNifti(fw, wide);
  const bw = readNifti(fw);
  assert.equal((bw.meta.nifti as NiftiMeta).version, 2);
  assert.deepEqual(bw.data, wide.data);
  assert.throws(() => writeNifti(path.join(tmpRoot, 'wide1.nii'), wide, { version: 1 }), /32767/);
});

test('scaling: nibabel semantics, { scale: false } keeps raw ints and writes the factors back', () => {
  const f = path.join(SAMPLES, 'nibabel_testdata/nifti/functional.nii');
  const scaled = readNifti(f);
  const raw = readNifti(f, { scale: false });
  assert.equal(raw.voxelType, 'int16');
  assert.equal(scaled.voxelType, 'float32');
  const m = raw.meta.nifti as NiftiMeta;
  assert.equal(m.scaled, false);
  for (const i of [0, 17, 5000]) assert.ok(Math.abs(scaled.data[i] as number - Math.fround((raw.data[i] as number) * m.sclSlope + m.sclInter)) < 1e-3);
  const out = path.join(tmpRoot, 'functional-raw.nii');
  writeNifti(out, raw);
  const again = readNifti(out);
  assert.deepEqual(again.data, scaled.data, 'raw ints + factors written back read as the same scaled values');
  // Writing the scaled float volume stores float32 with identity scaling.
  const out2 = path.join(tmpRoot, 'functional-float.nii.gz');
  writeNifti(out2, scaled);
  const m2 = readNifti(out2, { scale: false }).meta.nifti as NiftiMeta;
  assert.equal(m2.datatype, 'float32');
  assert.equal(m2.sclSlope, 1);
});

test('casting on write: float → int rounds half to even and clips, or fits slope/intercept', () => {
  const data = Float32Array.from([0.5, 1.5, 2.5, -0.5, -1.5, 300, -7, Number.NaN]);
  const v = new Volume({ data, dims: [8, 1, 1] });
  const f = path.join(tmpRoot, 'cast.nii');
  writeNifti(f, v, { datatype: 'uint8' });
  assert.deepEqual([...(readNifti(f).data as Uint8Array)], [0, 2, 2, 0, 0, 255, 0, 0]);
  const g = Float64Array.from({ length: 100 }, (_, i) => Math.sin(i) * 1000.25);
  const vg = new Volume({ data: g, dims: [10, 10, 1] });
  const fg = path.join(tmpRoot, 'cast-scaled.nii.gz');
  writeNifti(fg, vg, { datatype: 'int16', scale: true });
  const back = readNifti(fg);
  const m = back.meta.nifti as NiftiMeta;
  assert.equal(m.datatype, 'int16');
  assert.notEqual(m.sclSlope, 1);
  for (let i = 0; i < 100; i++) assert.ok(Math.abs((back.data[i] as number) - g[i]) <= m.sclSlope, `voxel ${i}`);
});

test('header fields and extensions survive a round trip', () => {
  const src = path.join(SAMPLES, 'totalsegmentator_examples/example_seg.nii.gz');
  const v = readNifti(src);
  const exts = v.meta.niftiExtensions as { code: number; data: Uint8Array }[];
  assert.ok(exts.length >= 1, 'the TotalSegmentator label file carries a label-table extension');
  assert.equal((v.meta.nifti as NiftiMeta).voxOffset, 13168);
  const out = path.join(tmpRoot, 'seg-ext.nii.gz');
  writeNifti(out, v);
  const back = readNifti(out);
  const exts2 = back.meta.niftiExtensions as { code: number; data: Uint8Array }[];
  assert.equal(exts2.length, exts.length);
  for (let i = 0; i < exts.length; i++) {
    assert.equal(exts2[i].code, exts[i].code);
    assert.deepEqual(exts2[i].data, exts[i].data);
  }
  assert.deepEqual(back.data, v.data);
  const vd = readNifti(path.join(SAMPLES, 'nibabel_testdata/nifti/example4d.nii.gz'));
  const m = vd.meta.nifti as NiftiMeta;
  const out2 = path.join(tmpRoot, 'meta.nii');
  writeNifti(out2, vd);
  const m2 = readNifti(out2).meta.nifti as NiftiMeta;
  for (const k of ['descrip', 'intentCode', 'intentName', 'dimInfo', 'xyztUnits', 'sliceCode', 'sliceStart', 'sliceEnd', 'qformCode', 'sformCode'] as const) {
    assert.deepEqual(m2[k], m[k], k);
  }
  assert.ok(Math.abs(m2.calMax - m.calMax) < 1e-6 && Math.abs(m2.sliceDuration - m.sliceDuration) < 1e-6);
});

test('writes sform and qform; qform equals the affine for rigid affines (incl. left-handed)', () => {
  const lps = composeAffine([0.9, 0.9, 2.5], [120, 130, -60], [-1, 0, 0, 0, -1, 0, 0, 0, 1]);
  for (const aff of [OBLIQUE, lps, composeAffine([1, 2, 3], [0, 0, 0])]) {
    const vol = randomVolume('int16', [4, 4, 4], 1, 5, aff);
    const bytes = encodeNifti(vol);
    const v = parseNifti(bytes, 'mem.nii');
    const m = v.meta.nifti as NiftiMeta;
    assert.equal(m.sformCode, 1);
    assert.equal(m.qformCode, 1);
    // Drop the sform: the qform alone must give the same affine.
    const b2 = new Uint8Array(bytes);
    new DataView(b2.buffer).setInt16(254, 0, true);
    const q = parseNifti(b2, 'mem-qonly.nii');
    assert.equal((q.meta.nifti as NiftiMeta).affineSource, 'qform');
    assertAffineClose(q.affine, aff, 1e-5, 'qform');
  }
});

test('errors: unsupported datatypes, truncation and corrupt gzip name the file and the field', () => {
  const vol = randomVolume('float32', [8, 8, 4], 1, 3, OBLIQUE);
  const good = encodeNifti(vol);
  for (const [code, name] of [[32, 'complex64'], [1536, 'float128'], [1792, 'complex128']] as const) {
    const b = new Uint8Array(good);
    new DataView(b.buffer).setInt16(70, code, true);
    assert.throws(() => parseNifti(b, 'weird.nii'), (e: Error) => e.message.includes('weird.nii') && e.message.includes(`'datatype' = ${code}`) && e.message.includes(name) && e.message.includes('16 (float32)'));
  }
  const cut = good.subarray(0, good.byteLength - 100);
  assert.throws(() => parseNifti(cut, 'cut.nii'), (e: Error) => e.message.includes('cut.nii') && e.message.includes(String(352 + 8 * 8 * 4 * 4)) && e.message.includes(String(cut.byteLength)));
  const gz = zlib.gzipSync(good);
  const gzCut = gz.subarray(0, gz.byteLength - 40);
  assert.throws(() => parseNifti(gzCut, 'cut.nii.gz'), (e: Error) => e.message.includes('cut.nii.gz') && /truncated/.test(e.message));
  const gzBad = Buffer.from(gz);
  for (let i = 40; i < 60; i++) gzBad[i] ^= 0x5a;
  assert.throws(() => parseNifti(gzBad, 'bad.nii.gz'), (e: Error) => e.message.includes('bad.nii.gz') && /gzip|truncated|corrupt/.test(e.message));
  const huge = new Uint8Array(good);
  new DataView(huge.buffer).setInt16(42, 32767, true);
  new DataView(huge.buffer).setInt16(44, 32767, true);
  assert.throws(() => parseNifti(huge, 'huge.nii'), (e: Error) => e.message.includes('huge.nii') && /needs|declares|truncated/.test(e.message));
});

test('atomic writes: a failure mid-write leaves neither the final file nor a temp file', async () => {
  const dir = path.join(tmpRoot, 'atomic');
  const target = path.join(dir, 'sub', 'x.bin');
  writeFileAtomic(target, 'hello');
  assert.equal(fs.readFileSync(target, 'utf8'), 'hello');
  await writeFileAtomicAsync(target, new Uint8Array([1, 2, 3]));
  assert.deepEqual([...fs.readFileSync(target)], [1, 2, 3]);
  // Rename onto a directory fails after the data was written: temp must be gone.
  const dirTarget = path.join(dir, 'is-a-dir');
  fs.mkdirSync(dirTarget, { recursive: true });
  assert.throws(() => writeFileAtomic(dirTarget, new Uint8Array(1000)));
  await assert.rejects(writeFileAtomicAsync(dirTarget, new Uint8Array(1000)));
  // Encoding that throws (RGB24 needs uint8) writes nothing.
  const bad = path.join(dir, 'bad.nii.gz');
  assert.throws(() => writeNifti(bad, randomVolume('float32', [3, 3, 3], 3, 1, OBLIQUE), { datatype: 'RGB24' }), /uint8/);
  assert.equal(fs.existsSync(bad), false);
  // A write that throws midway through the data.
  const fsMod = fs as unknown as { writeSync: typeof fs.writeSync };
  const orig = fsMod.writeSync;
  let calls = 0;
  fsMod.writeSync = ((...args: Parameters<typeof fs.writeSync>) => {
    if (++calls === 2) throw new Error('disk full (simulated)');
    return (orig as (...a: unknown[]) => number)(...args);
  }) as typeof fs.writeSync;
  const mid = path.join(dir, 'mid.nii');
  try {
    assert.throws(() => writeNifti(mid, randomVolume('float32', [16, 16, 16], 1, 2, OBLIQUE)), /disk full/);
  } finally {
    fsMod.writeSync = orig;
  }
  assert.equal(fs.existsSync(mid), false);
  const left = fs.readdirSync(dir).filter((n) => n.includes('.tmp-'));
  assert.deepEqual(left, [], 'no temp files left behind');
});

// ------------------------------------------------------- nibabel reads ours

/** Codes we write: the source's (each falling back to the other), else 1 = scanner. */
function expectedCodes(vol: Volume): [number, number] {
  const m = vol.meta.nifti as NiftiMeta | undefined;
  const q = m?.qformCode ?? 0, s = m?.sformCode ?? 0;
  return [q || s || 1, s || q || 1];
}

function nibabelAvailable(): boolean {
  if (!fs.existsSync('/usr/bin/python3')) return false;
  const r = spawnSync('/usr/bin/python3', ['-c', 'import nibabel'], { encoding: 'utf8' });
  return r.status === 0;
}

test('nibabel reads what we write: same affine, shape, dtype, values, qform', (t) => {
  if (!nibabelAvailable()) {
    t.skip('SKIPPED: /usr/bin/python3 with nibabel not available; nibabel cross-check not run');
    return;
  }
  const cases: { file: string; vol: Volume }[] = [];
  let seed = 50;
  for (const type of TYPES) {
    const vol = randomVolume(type, [5, 4, 3], type === 'int16' ? 3 : 1, seed++, OBLIQUE);
    const file = path.join(tmpRoot, `nib-${type}.nii.gz`);
    writeNifti(file, vol);
    cases.push({ file, vol });
  }
  for (const rel of ['nibabel_testdata/nifti/anatomical.nii', 'nibabel_testdata/nifti/example_nifti2.nii.gz', 'totalsegmentator_examples/example_seg.nii.gz']) {
    const vol = readNifti(path.join(SAMPLES, rel));
    const file = path.join(tmpRoot, `nib-${path.basename(rel).replace(/\.nii(\.gz)?$/, '')}.nii.gz`);
    writeNifti(file, vol);
    cases.push({ file, vol });
  }
  // A sheared affine: the qform is nibabel's nearest rigid approximation, the sform exact.
  const sheared = Float64Array.from(OBLIQUE);
  sheared[1] += 0.3; sheared[6] -= 0.2;
  const sv = randomVolume('uint8', [4, 4, 4], 1, 78, sheared);
  const sf = path.join(tmpRoot, 'nib-sheared.nii');
  writeNifti(sf, sv);
  cases.push({ file: sf, vol: sv });
  const v5 = randomVolume('int16', [3, 2, 2], 6, 79, OBLIQUE);
  const vol5 = new Volume({ data: v5.data, dims: v5.dims, channels: 6, affine: v5.affine, meta: { nifti: { dim: [5, 3, 2, 2, 1, 6, 1, 1] } } });
  const f5 = path.join(tmpRoot, 'nib-5d.nii.gz');
  writeNifti(f5, vol5);
  cases.push({ file: f5, vol: vol5 });
  const pair = path.join(tmpRoot, 'nib-pair.hdr');
  const pv = randomVolume('float32', [6, 5, 4], 1, 77, OBLIQUE);
  writeNifti(pair, pv);
  cases.push({ file: pair, vol: pv });
  const script = `
import json, sys, numpy as np, nibabel as nib
def qform_nib(img):
    h = type(img.header)()  # same precision as the file (NIfTI-2 stores doubles)
    # nibabel's own set_qform → get_qform of a half-turn can land a few ulps past
    # its NIfTI-2 threshold (3ε), depending on the CPU's summation; loosen it here only.
    h.quaternion_threshold = min(h.quaternion_threshold, -1e-12)
    h.set_qform(img.affine)
    return h.get_qform().tolist()
out = []
for p in sys.argv[1:]:
    img = nib.load(p)
    raw = np.asanyarray(img.dataobj)
    flat = raw.reshape(raw.shape[:3] + (-1,), order='F').reshape(-1, order='F').astype(np.float64)
    out.append({'shape': list(img.shape), 'dtype': str(img.get_data_dtype()), 'affine': img.affine.tolist(),
                'qform': img.header.get_qform().tolist(), 'qform_nib': qform_nib(img), 'codes': [int(img.header['qform_code']), int(img.header['sform_code'])],
                'first': flat[:6].tolist(), 'sum': float(flat.sum()), 'next': len(img.header.extensions)})
print(json.dumps(out))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', script, ...cases.map((c) => c.file)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { shape: number[]; dtype: string; affine: number[][]; qform: number[][]; qform_nib: number[][]; codes: number[]; first: number[]; sum: number; next: number }[];
  res.forEach((nb, idx) => {
    const { file, vol } = cases[idx];
    assertAffineClose(affineFromRows(nb.affine), vol.affine, 1e-6, `nibabel affine of ${file}`);
    // Our quaternion equals nibabel's set_qform of the same affine (nearest rotation, qfac).
    assertAffineClose(affineFromRows(nb.qform), affineFromRows(nb.qform_nib), 1e-5, `qform of ${file} vs nibabel set_qform`);
    if (vol !== sv) assertAffineClose(affineFromRows(nb.qform), vol.affine, 1e-5, `nibabel qform of ${file}`);
    assert.deepEqual(nb.codes, expectedCodes(vol), `${file}: qform/sform codes`);
    assert.deepEqual(nb.shape.slice(0, 3), [...vol.dims], file);
    if (vol === vol5) assert.deepEqual(nb.shape, [3, 2, 2, 1, 6], '5D shape as nibabel sees it');
    const first = Array.from(vol.data.subarray(0, 6) as ArrayLike<number | bigint>, Number);
    for (let i = 0; i < 6; i++) assert.ok(Math.abs(nb.first[i] - first[i]) <= 1e-9 * Math.max(1, Math.abs(first[i])), `${file}: voxel ${i}`);
    if (!(vol.data instanceof BigInt64Array || vol.data instanceof BigUint64Array)) {
      let s = 0;
      for (let i = 0; i < vol.data.length; i++) s += vol.data[i] as number;
      assert.ok(Math.abs(nb.sum - s) <= 1e-6 * Math.max(1, Math.abs(s)), `${file}: sum`);
    }
    const exts = vol.meta.niftiExtensions as unknown[] | undefined;
    assert.equal(nb.next, exts?.length ?? 0);
  });
});

