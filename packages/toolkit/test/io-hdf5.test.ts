// HDF5 reader/writer and the seed layouts (ACDC, LA, STDR) against h5py:
// real ACDC files match h5py's shapes, sums and voxel values; h5py-made files
// cover the dtypes and features (user block, big-endian, float16, groups);
// the literature's labelled-slice counts hold; each layout round-trips
// through our writer; bad files give errors naming the file, never a crash
// or a leaked descriptor; and h5py reads back what we write.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { type H5Array, castVoxels, listH5, readH5Case, readH5Dataset, readH5Datasets, readH5Volume, reverseAxes3, volumeToH5Array, writeH5, writeH5Case } from '../src/io/hdf5.js';
import { openAcdc, writeAcdcCase, writeAcdcLists } from '../src/io/layouts/acdc.js';
import { readListFile, sliceOf } from '../src/io/layouts/common.js';
import { openLa, writeLaCase, writeLaLists } from '../src/io/layouts/la.js';
import { openStdr, volumeToStdrLayout } from '../src/io/layouts/stdr.js';
import { Volume } from '../src/io/volume.js';
import { ACDC, FIXTURES } from './shared-data.js';

interface Described { shape: number[]; dtype: string; sum: number; points: { index: number[]; value: number }[]; counts?: Record<string, number> }
interface Ref {
  acdc: {
    volume: { id: string; image: Described; label: Described };
    slice: { id: string; image: Described; label: Described };
    counts: { train_slices: number; train: number; val: number; test: number; all_slices: number; patients: Record<string, number> };
    labelled: Record<string, number>;
  };
  files: {
    types: { b64: string; expect: Record<string, { shape: number[]; dtype: string; values: (number | string)[] }> };
    stdr: { b64: string };
    la: { b64: string };
  };
}

const REF = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'hdf5_ref.json'), 'utf8')) as Ref;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-hdf5-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function fixtureFile(name: keyof Ref['files']): string {
  const p = path.join(tmp, `${name}.h5`);
  if (!fs.existsSync(p)) fs.writeFileSync(p, Buffer.from(REF.files[name].b64, 'base64'));
  return p;
}

/** C-order flat index of an h5py index. */
function flat(shape: number[], idx: number[]): number {
  return idx.reduce((acc, v, d) => acc * shape[d] + v, 0);
}

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

function counts(a: ArrayLike<number>): Record<string, number> {
  const c: Record<string, number> = {};
  for (let i = 0; i < a.length; i++) c[a[i]] = (c[a[i]] ?? 0) + 1;
  return c;
}

function checkDescribed(arr: H5Array, d: Described, what: string): void {
  assert.deepEqual(arr.shape, d.shape, `${what} shape`);
  assert.equal(arr.dtype, d.dtype, `${what} dtype`);
  const data = arr.data as Float32Array | Uint8Array;
  assert.ok(Math.abs(sum(data) - d.sum) <= 1e-6 * Math.max(1, Math.abs(d.sum)), `${what} sum ${sum(data)} vs ${d.sum}`);
  for (const p of d.points) assert.equal(data[flat(d.shape, p.index)], p.value, `${what}${JSON.stringify(p.index)}`);
  if (d.counts) assert.deepEqual(counts(data), d.counts, `${what} label counts`);
}

const openFds = (): number => fs.readdirSync('/proc/self/fd').length;

test('real ACDC volume and slice match h5py (datasets, listing, Volume geometry)', async () => {
  const v = REF.acdc.volume;
  const file = path.join(ACDC, 'data', `${v.id}.h5`);
  const arrays = await readH5Datasets(file, ['image', 'label']);
  checkDescribed(arrays.image, v.image, 'volume image');
  checkDescribed(arrays.label, v.label, 'volume label');
  const listing = await listH5(file);
  assert.deepEqual(listing.datasets.map((d) => [d.path, d.dtype, d.shape.join('x'), d.filters.join()]), [
    ['/image', 'float32', v.image.shape.join('x'), 'deflate'],
    ['/label', 'uint8', v.label.shape.join('x'), 'deflate'],
  ]);
  // [Z, H, W] in C order is the Volume's memory order: dims [W, H, Z], same bytes.
  const c = await readH5Case(file);
  const [z, h, w] = v.image.shape;
  assert.deepEqual(c.image.dims, [w, h, z]);
  assert.equal(c.spacingSource, 'default');
  assert.deepEqual(c.spacing, [1, 1, 1]);
  for (const p of v.label.points) assert.equal(c.label?.at(p.index[2], p.index[1], p.index[0]), p.value);
  const vol = await readH5Volume(file);
  assert.equal(vol.meta.dataset, 'image');
  assert.deepEqual(Array.from(vol.data.subarray(0, 50) as Float32Array), Array.from(arrays.image.data.subarray(0, 50) as Float32Array));

  const s = REF.acdc.slice;
  const sfile = path.join(ACDC, 'data', `${s.id}.h5`);
  checkDescribed(await readH5Dataset(sfile, 'image'), s.image, 'slice image');
  const sc = await readH5Case(sfile);
  assert.deepEqual(sc.image.dims, [s.image.shape[1], s.image.shape[0], 1]);
});

test('h5py-made file: dtypes, user block, big-endian, float16, bool, groups, scalars', async () => {
  const file = fixtureFile('types');
  for (const [name, e] of Object.entries(REF.files.types.expect)) {
    const a = await readH5Dataset(file, name);
    assert.deepEqual(a.shape, e.shape, name);
    assert.equal(a.dtype, e.dtype, name);
    const got = Array.from(a.data as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? String(x) : x));
    if (name === 'gz' || name === 'half') got.forEach((x, i) => assert.ok(Math.abs((x as number) - (e.values[i] as number)) < 1e-6, `${name}[${i}]`));
    else assert.deepEqual(got, e.values, name);
  }
  const listing = await listH5(file);
  assert.deepEqual(listing.groups, ['/grp', '/grp/sub']);
  assert.ok(listing.datasets.some((d) => d.path === '/text' && d.dtype === 'string'));
  await assert.rejects(readH5Dataset(file, 'text'), /"text" of .*types\.h5 holds string data; only numeric/);
  await assert.rejects(readH5Dataset(file, 'grp'), /"grp" in .*types\.h5 is a group, expected a dataset/);
  await assert.rejects(readH5Volume(file, { dataset: 'float64' }), /dataset "float64" of .*types\.h5: a 'zyx' array must be \[H, W\], \[Z, H, W\] or \[C, Z, H, W\], got shape \[4\]/);
});

test('STDR-style case: voxel_spacing (x, y, z) becomes the Volume spacing; options override', async () => {
  const file = fixtureFile('stdr');
  const c = await readH5Case(file);
  assert.deepEqual(c.spacing, [0.5, 0.75, 3]);
  assert.equal(c.spacingSource, 'file');
  assert.deepEqual(c.image.dims, [5, 4, 3]);
  assert.deepEqual(c.image.spacing, [0.5, 0.75, 3]);
  // image[z, y, x] = (z*20 + y*5 + x - 20) / 3
  assert.ok(Math.abs(c.image.at(4, 3, 2) - (2 * 20 + 3 * 5 + 4 - 20) / 3) < 1e-6);
  assert.equal(c.label?.at(4, 3, 2), (2 * 20 + 3 * 5 + 4) % 3);
  const o = await readH5Case(file, { spacing: [0.5, 0.5, 3] });
  assert.equal(o.spacingSource, 'option');
  assert.deepEqual(o.image.spacing, [0.5, 0.5, 3]);
  await assert.rejects(readH5Case(file, { spacing: [1, 0, 1] }), /options\.spacing: values must be finite and > 0/);
});

test("LA-style [X, Y, Z] array: 'xyz' layout puts x fastest, as nibabel indexes it", async () => {
  const file = fixtureFile('la');
  const c = await readH5Case(file, { layout: 'xyz' });
  assert.deepEqual(c.image.dims, [5, 4, 3]);
  for (const [i, j, k] of [[0, 0, 0], [4, 0, 0], [1, 3, 2], [4, 3, 2], [2, 1, 1]]) {
    assert.equal(c.image.at(i, j, k), i + 10 * j + 100 * k);
    assert.equal(c.label?.at(i, j, k), (i + j + k) % 2);
  }
  // and back: writing 'xyz' reproduces h5py's array bytes
  const arr = volumeToH5Array(c.image, 'xyz');
  assert.deepEqual(arr.shape, [5, 4, 3]);
  const orig = await readH5Dataset(file, 'image');
  assert.deepEqual(Array.from(arr.data as Float32Array), Array.from(orig.data as Float32Array));
});

test('reverseAxes3 is a tiled transpose: involution, matches the index formula on odd sizes', () => {
  const [a, b, c] = [37, 5, 70];
  const src = Int32Array.from({ length: a * b * c }, (_, i) => i * 7 - 3);
  const t = reverseAxes3(src, a, b, c);
  for (const [i0, i1, i2] of [[0, 0, 0], [36, 4, 69], [33, 2, 31], [1, 3, 64]]) {
    assert.equal(t[(i2 * b + i1) * a + i0], src[(i0 * b + i1) * c + i2]);
  }
  assert.deepEqual(reverseAxes3(t, c, b, a), src);
});

test('ACDC layout: list counts, the literature labelled-slice rule (3 → 68, 7 → 136), lazy loads', async () => {
  const acdc = await openAcdc(ACDC);
  const k = REF.acdc.counts;
  assert.equal(acdc.trainSlices.length, k.train_slices);
  assert.equal(acdc.volumes.val.length, k.val);
  assert.equal(acdc.volumes.test.length, k.test);
  assert.equal(acdc.volumes.train.length, k.train);
  assert.equal(acdc.allSlices.length, k.all_slices);
  // the released copy has train slices and val/test volumes, not the train volumes
  assert.ok(acdc.trainSlices.every((s) => s.available));
  assert.ok(acdc.volumes.train.every((v) => !v.available));
  assert.ok([...acdc.volumes.val, ...acdc.volumes.test].every((v) => v.available));
  for (const s of ['train', 'val', 'test'] as const) assert.equal(acdc.patients(s).length, k.patients[s]);
  assert.equal(acdc.labelledSlices(3).length, 68);
  assert.equal(acdc.labelledSlices(7).length, 136);
  for (const [n, count] of Object.entries(REF.acdc.labelled)) assert.equal(acdc.labelledSlices(Number(n)).length, count, `${n} patients`);
  assert.equal(new Set(acdc.labelledSlices(3).map((s) => s.patient)).size, 3);
  assert.equal(acdc.unlabelledSlices(3).length, k.train_slices - 68);
  assert.ok(!acdc.unlabelledSlices(3).some((s) => acdc.labelledSlices(3).some((l) => l.patient === s.patient)), 'labelled and unlabelled patients are disjoint');
  assert.throws(() => acdc.labelledSlices(71), /integer in \[0, 70\], got 71/);
  const first = acdc.trainSlices[0];
  assert.equal(first.id, REF.acdc.slice.id);
  assert.deepEqual([first.patient, first.frame, first.slice, first.caseId], ['patient099', 1, 15, 'patient099_frame01']);
  const c = await first.load();
  assert.deepEqual(c.image.dims, [REF.acdc.slice.image.shape[1], REF.acdc.slice.image.shape[0], 1]);
  await assert.rejects(acdc.volumes.train[0].load(), /file not found/);
});

test('ACDC layout round trip: writeAcdcCase (volume + 1-based slices) and lists, read back identical', async () => {
  const src = await readH5Case(path.join(ACDC, 'data', `${REF.acdc.volume.id}.h5`));
  const root = path.join(tmp, 'acdc');
  const id = 'patient900_frame01';
  const names = await writeAcdcCase(root, id, { image: src.image, label: src.label }, { slices: true });
  assert.equal(names.length, src.image.dims[2]);
  assert.equal(names[0], `${id}_slice_1`);
  await writeAcdcLists(root, { train_slices: names, val: [id], test: [] });
  const acdc = await openAcdc(root);
  assert.equal(acdc.trainSlices.length, names.length);
  assert.equal(acdc.labelledSlices(1).length, names.length);
  const back = await acdc.volumes.val[0].load();
  assert.deepEqual(back.image.dims, src.image.dims);
  assert.deepEqual(back.image.data, src.image.data);
  assert.deepEqual(back.label?.data, src.label?.data);
  const k = 4;
  const sl = await acdc.trainSlices[k].load();
  assert.equal(acdc.trainSlices[k].slice, k + 1);
  assert.deepEqual(sl.image.data, sliceOf(src.image, k).data);
  assert.deepEqual(sl.label?.data, sliceOf(src.label as Volume, k).data);
  assert.equal((await readH5Dataset(acdc.trainSlices[k].path, 'image')).shape.length, 2, 'slices are stored 2D, as in the released data');
  assert.deepEqual(await readListFile(path.join(root, 'val.list')), [id]);
  // strict open reports a missing listed file
  fs.rmSync(acdc.trainSlices[2].path);
  await assert.rejects(openAcdc(root), /ACDC train slices at .*: 1 listed file\(s\) missing, e\.g\. .*_slice_3\.h5/);
  assert.equal((await openAcdc(root, { strict: false })).trainSlices.filter((s) => !s.available).length, 1);
});

function synthetic(dims: [number, number, number], seed: number, spacing: [number, number, number] = [1, 1, 1]): { image: Volume; label: Volume } {
  const n = dims[0] * dims[1] * dims[2];
  const img = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 3 + (i % 11) * 0.1);
  const lab = Uint8Array.from({ length: n }, (_, i) => ((i * 7 + seed) % 13 === 0 ? 1 : 0));
  return { image: Volume.fromGeometry(img, dims, spacing), label: Volume.fromGeometry(lab, dims, spacing) };
}

test('LA layout round trip: writeLaCase ([X, Y, Z] arrays), lists, labelled(n) = first n of train.list', async () => {
  const root = path.join(tmp, 'la');
  const cases = ['0RZDK210BSMWAA6467LU', '1D7CUD1955YZPGK8XHJX', '1GU15S0GJ6PFNARO469W', '23X6SY44VT9KFHR7S7OC'];
  const vols = cases.map((_, s) => synthetic([9, 7, 5], s));
  for (let i = 0; i < cases.length; i++) await writeLaCase(root, cases[i], vols[i], { casesDir: '2018LA_Seg_Training Set' });
  await writeLaLists(root, { train: cases.slice(0, 3), test: cases.slice(3) });
  const la = await openLa(root);
  assert.equal(la.casesDir, path.join(root, '2018LA_Seg_Training Set'));
  assert.deepEqual(la.labelled(2).map((c) => c.id), cases.slice(0, 2));
  assert.deepEqual(la.unlabelled(2).map((c) => c.id), [cases[2]]);
  assert.deepEqual(la.test.map((c) => c.id), [cases[3]]);
  const raw = await readH5Dataset(la.train[1].path, 'image');
  assert.deepEqual(raw.shape, [9, 7, 5], 'stored as [X, Y, Z]');
  assert.equal((raw.data as Float32Array)[flat([9, 7, 5], [8, 6, 4])], vols[1].image.at(8, 6, 4));
  const back = await la.train[1].load();
  assert.deepEqual(back.image.data, vols[1].image.data);
  assert.deepEqual(back.label?.data, vols[1].label.data);
  assert.equal(back.spacingSource, 'default');
  const withSpacing = await openLa(root, { spacing: [0.625, 0.625, 0.625] });
  assert.deepEqual((await withSpacing.test[0].load()).image.spacing, [0.625, 0.625, 0.625]);
  assert.throws(() => la.labelled(4), /integer in \[0, 3\], got 4/);
});

test('STDR layout round trip: volumeToStdrLayout slices training cases, keeps val/test 3D with voxel_spacing', async () => {
  const root = path.join(tmp, 'stdr');
  const a = synthetic([6, 5, 4], 1, [0.5, 0.5, 3]);
  const b = synthetic([6, 5, 3], 2, [0.45, 0.45, 3.3]);
  const c = synthetic([6, 5, 2], 3, [0.5, 0.5, 3]);
  const written = await volumeToStdrLayout(root, 'caseA', 'train', a);
  assert.equal(written.length, 4);
  await volumeToStdrLayout(root, 'caseB', 'train', b);
  await volumeToStdrLayout(root, 'caseV', 'val', c);
  await volumeToStdrLayout(root, 'caseT', 'test', b);
  const st = await openStdr(root);
  assert.deepEqual(st.cases('train'), ['caseA', 'caseB']);
  assert.deepEqual(st.slicesOf('caseA').map((s) => s.slice), [0, 1, 2, 3]);
  assert.equal(st.trainSlices.length, 7);
  assert.deepEqual(st.val.map((v) => v.id), ['caseV']);
  const s2 = await st.slicesOf('caseA')[2].load();
  assert.deepEqual(s2.image.data, sliceOf(a.image, 2).data);
  assert.deepEqual(s2.label?.data, sliceOf(a.label, 2).data);
  assert.equal(s2.spacingSource, 'default');
  const t = await st.test[0].load();
  assert.equal(t.spacingSource, 'file');
  t.spacing.forEach((x, i) => assert.ok(Math.abs(x - [0.45, 0.45, 3.3][i]) < 1e-12));
  assert.deepEqual(t.image.data, b.image.data);
  assert.deepEqual((await readH5Dataset(st.val[0].path, 'voxel_spacing')).data, Float64Array.from([0.5, 0.5, 3]));
  await assert.rejects(openStdr(path.join(tmp, 'acdc')), /STDR layout: .* has none of training_set, val_set, test_set/);
});

test('writeH5: dtype conversion with range checks, nested groups, atomic replace, options validated', async () => {
  const file = path.join(tmp, 'w', 'a.h5');
  await writeH5(file, {
    'g/x': { data: Float64Array.from([1, 2, 3, 4, 5, 6]), shape: [2, 3], dtype: 'int16' },
    y: { data: Uint8Array.from([9]), shape: [], compression: false },
  });
  const x = await readH5Dataset(file, 'g/x');
  assert.equal(x.dtype, 'int16');
  assert.deepEqual(Array.from(x.data as Int16Array), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual((await readH5Dataset(file, 'y')).shape, []);
  await assert.rejects(writeH5(file, { l: { data: Float32Array.from([0, 1.5]), shape: [2], dtype: 'uint8' } }), /value 1\.5 at index 1 does not fit uint8/);
  await assert.rejects(writeH5(file, { l: { data: Uint8Array.from([1, 2]), shape: [3] } }), /shape \[3\] holds 3 values, data has 2/);
  await assert.rejects(writeH5(file, { l: { data: Uint8Array.from([1]), shape: [1], compression: 12 } }), /gzip level 0-9/);
  // a failed write leaves the previous file intact and no temp files behind
  assert.deepEqual(Array.from((await readH5Dataset(file, 'g/x')).data as Int16Array), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['a.h5']);
  assert.throws(() => castVoxels(Int32Array.from([300]), 'uint8', 'label'), /label: value 300 at index 0 does not fit uint8/);
  const lab = Volume.fromGeometry(Float32Array.from([0, 1, 256, 0]), [2, 2, 1], [1, 1, 1]);
  await assert.rejects(writeH5Case(file, { image: lab, label: lab }), /value 256 at index 2 does not fit uint8/);
});

test('errors name the file and the problem; bad files never crash or leak descriptors', async () => {
  const acdcVol = path.join(ACDC, 'data', `${REF.acdc.volume.id}.h5`);
  await assert.rejects(readH5Dataset(acdcVol, 'images'), (e: Error) => {
    assert.match(e.message, /patient028_frame01\.h5 has no dataset "images"; datasets in the file: image, label/);
    return true;
  });
  await assert.rejects(readH5Case(acdcVol, { label: 'mask' }), /has no dataset "mask"/);
  await assert.rejects(readH5Dataset(path.join(ACDC, 'README.md'), 'image'), /README\.md is not an HDF5 file/);
  await assert.rejects(readH5Dataset(path.join(tmp, 'nope.h5'), 'image'), /HDF5: file not found: .*nope\.h5/);
  await assert.rejects(readH5Dataset(tmp, 'image'), /is a directory, expected an \.h5 file/);
  const bytes = fs.readFileSync(acdcVol);
  const truncated = path.join(tmp, 'truncated.h5');
  fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  const corrupt = path.join(tmp, 'corrupt.h5');
  const c = Buffer.from(bytes);
  for (let i = 60000; i < 60200; i++) c[i] ^= 0x5a;
  fs.writeFileSync(corrupt, c);
  const empty = path.join(tmp, 'empty.h5');
  fs.writeFileSync(empty, '');
  await assert.rejects(readH5Dataset(truncated, 'image'), /HDF5: cannot open .*truncated\.h5: truncated file/);
  await assert.rejects(readH5Dataset(corrupt, 'image'), /HDF5: reading dataset "image" of .*corrupt\.h5: .*filter/);
  await assert.rejects(readH5Dataset(empty, 'image'), /empty\.h5 is not an HDF5 file \(0 bytes/);
  const before = openFds();
  for (let i = 0; i < 20; i++) {
    await assert.rejects(readH5Dataset(truncated, 'image'));
    await assert.rejects(readH5Dataset(corrupt, 'image'));
  }
  assert.equal(openFds(), before, 'no descriptor leaked by failed opens or reads');
  // the wasm instance is still healthy
  checkDescribed(await readH5Dataset(acdcVol, 'label'), REF.acdc.volume.label, 'label after errors');
});

test('h5py reads what we write (when Debian python with h5py is available)', async (t) => {
  const py = '/usr/bin/python3';
  if (!fs.existsSync(py)) return t.skip('no /usr/bin/python3');
  const file = path.join(tmp, 'interop.h5');
  const { image, label } = synthetic([6, 5, 4], 5);
  await writeH5Case(file, { image, label, spacing: [0.5, 0.6, 3] });
  const la = path.join(tmp, 'interop_la.h5');
  await writeH5Case(la, { image, label }, 'xyz');
  const script = [
    'import h5py, numpy as np, sys, json',
    'f = h5py.File(sys.argv[1], "r"); g = h5py.File(sys.argv[2], "r")',
    'print(json.dumps({"shape": list(f["image"].shape), "dtype": [str(f["image"].dtype), str(f["label"].dtype)],',
    ' "comp": f["image"].compression, "sp": f["voxel_spacing"][()].tolist(), "v": float(f["image"][3, 4, 5]),',
    ' "same": bool(np.array_equal(g["image"][()], f["image"][()].transpose(2, 1, 0))), "lsum": int(f["label"][()].sum())}))',
  ].join('\n');
  const r = spawnSync(py, ['-c', script, file, la], { encoding: 'utf8' });
  if (r.status !== 0 && /No module named/.test(r.stderr)) return t.skip('h5py not installed');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { shape: number[]; dtype: string[]; comp: string; sp: number[]; v: number; same: boolean; lsum: number };
  assert.deepEqual(out.shape, [4, 5, 6]);
  assert.deepEqual(out.dtype, ['float32', 'uint8']);
  assert.equal(out.comp, 'gzip');
  assert.deepEqual(out.sp, [0.5, 0.6, 3]);
  assert.ok(Math.abs(out.v - image.at(5, 4, 3)) < 1e-6);
  assert.ok(out.same);
  assert.equal(out.lsum, sum(label.data as Uint8Array));
});

test('fuzz: damaged h5py files (seeded byte mutations) read or fail with an Error, never crash or leak', async () => {
  const bases = [Buffer.from(REF.files.stdr.b64, 'base64'), Buffer.from(REF.files.types.b64, 'base64')];
  let seed = 12345;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const file = path.join(tmp, 'fuzz.h5');
  const before = openFds();
  let failed = 0;
  for (let it = 0; it < 150; it++) {
    const b = Buffer.from(bases[it % 2]);
    const k = 1 + Math.floor(rnd() * 8);
    for (let j = 0; j < k; j++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    fs.writeFileSync(file, b);
    try {
      await listH5(file);
      await readH5Case(file, { image: it % 2 ? 'gz' : 'image', label: null });
    } catch (e) {
      assert.ok(e instanceof Error && /HDF5/.test(e.message), String(e));
      failed++;
    }
  }
  assert.ok(failed > 20, `${failed} of 150 mutations were rejected`);
  assert.equal(openFds(), before);
  checkDescribed(await readH5Dataset(path.join(ACDC, 'data', `${REF.acdc.volume.id}.h5`), 'label'), REF.acdc.volume.label, 'label after fuzz');
});
