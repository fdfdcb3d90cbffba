// Reorientation: matches nibabel's as_closest_canonical on real files
// (including oblique ones), keeps world positions of voxels, round-trips
// LPS → RAS → LPS exactly, and handles every voxel type and channel count.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { type Affine, affineFromRows, applyAffine, composeAffine } from '../src/io/affine.js';
import { readNifti } from '../src/io/nifti.js';
import {
  applyOrntToData, axcodesToOrnt, invertOrnt, ioOrientation, orientationCodes, orientationTransform, orntToAxcodes, reorient, undoReorient,
} from '../src/io/orientation.js';
import { Volume, type VoxelType, allocVoxels } from '../src/io/volume.js';
import { FIXTURES, SAMPLES } from './shared-data.js';

interface Ref { file: string; kind: string; data_error?: string; canonical?: { shape: number[]; affine: number[][]; axcodes: string; wsum: number } }
const REF = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'nifti_ref.json'), 'utf8')) as { files: Ref[]; random_affines: { rows: number[][]; axcodes: string }[] };

function close(a: Affine, b: Affine, tol: number, what: string): void {
  for (let i = 0; i < 16; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `${what}: [${i}] ${a[i]} vs ${b[i]}`);
}

function wsum(v: Volume): number {
  let s = 0;
  const d = v.data instanceof BigInt64Array || v.data instanceof BigUint64Array ? Float64Array.from(v.data, Number) : v.data;
  for (let i = 0, w = 1; i < d.length; i++, w = w === 13 ? 1 : w + 1) {
    const x = d[i];
    if (Number.isFinite(x)) s += x * w;
  }
  return s;
}

test('reorient to RAS matches nibabel as_closest_canonical on every sample (shape, affine, data order)', () => {
  // Skip the 240×240×155 BraTS copies beyond one case: same geometry, just slower.
  const refs = REF.files.filter((r) => r.canonical && (!r.file.startsWith('brats') || r.file.includes('pat0001_1/Flair')));
  assert.ok(refs.length >= 25);
  let oblique = 0;
  for (const ref of refs) {
    const c = ref.canonical!;
    const v = readNifti(path.join(SAMPLES, ref.file));
    assert.equal(orientationCodes(v.affine), c.axcodes, `${ref.file}: axcodes`);
    const { volume, transform } = reorient(v, 'RAS');
    assert.deepEqual([...volume.dims], c.shape, `${ref.file}: shape`);
    close(volume.affine, affineFromRows(c.affine), 1e-6, ref.file);
    const w = wsum(volume);
    assert.ok(Math.abs(w - c.wsum) <= 1e-6 * Math.max(1, Math.abs(c.wsum)), `${ref.file}: voxel order (weighted sum ${w} vs nibabel ${c.wsum})`);
    const back = undoReorient(volume, transform);
    assert.deepEqual(back.data, v.data, `${ref.file}: undo restores data`);
    close(back.affine, v.affine, 1e-9, `${ref.file}: undo restores affine`);
    if (/OBLIQUE/.test(ref.file) || ref.file.includes('sub-unf')) oblique++;
  }
  assert.ok(oblique > 0, 'oblique files covered');
});

test('LPS → RAS → LPS: world coordinates of every probed voxel unchanged, exact round trip', () => {
  const dims: [number, number, number] = [6, 5, 4];
  const aff = composeAffine([0.7, 0.8, 2], [10, -20, 30], [-1, 0, 0, 0, -1, 0, 0, 0, 1]);
  const data = Float32Array.from({ length: 6 * 5 * 4 * 2 }, (_, i) => i * 1.5);
  const v = new Volume({ data, dims, channels: 2, affine: aff });
  assert.equal(orientationCodes(v.affine), 'LPS');
  const r = reorient(v, 'RAS');
  assert.equal(orientationCodes(r.volume.affine), 'RAS');
  assert.equal(r.from, 'LPS');
  for (const [i, j, k] of [[0, 0, 0], [5, 4, 3], [2, 3, 1]]) {
    const world = v.voxelToWorld([i, j, k]);
    const ijk2 = r.volume.worldToVoxel(world).map((x) => Math.round(x));
    const again = r.volume.voxelToWorld(ijk2);
    for (let a = 0; a < 3; a++) assert.ok(Math.abs(again[a] - world[a]) < 1e-9);
    for (const c of [0, 1]) assert.equal(r.volume.at(ijk2[0], ijk2[1], ijk2[2], c), v.at(i, j, k, c));
  }
  const lps = reorient(r.volume, 'LPS');
  assert.deepEqual(lps.volume.data, v.data);
  close(lps.volume.affine, v.affine, 1e-12, 'LPS again');
});

test('oblique and permuted affines: closest axes, world positions kept', () => {
  const c = Math.cos(0.35), s = Math.sin(0.35);
  // Voxel i runs mostly along -z (I), j along +x rotated (R), k along y (A).
  const dir = [0, c, -s, 0, s, c, -1, 0, 0];
  const aff = composeAffine([1, 2, 3], [5, 6, 7], dir);
  const v = new Volume({ data: Int16Array.from({ length: 24 }, (_, i) => i), dims: [2, 3, 4], affine: aff });
  assert.equal(orientationCodes(aff), 'IRA');
  const r = reorient(v);
  assert.equal(orientationCodes(r.volume.affine), 'RAS');
  assert.deepEqual(r.transform, orientationTransform('IRA', 'RAS'));
  for (let k = 0; k < 4; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) {
    const ijk2 = r.volume.worldToVoxel(v.voxelToWorld([i, j, k])).map((x) => Math.round(x));
    const w2 = r.volume.voxelToWorld(ijk2);
    const w1 = v.voxelToWorld([i, j, k]);
    for (let a = 0; a < 3; a++) assert.ok(Math.abs(w1[a] - w2[a]) < 1e-9);
    assert.equal(r.volume.at(ijk2[0], ijk2[1], ijk2[2]), v.at(i, j, k));
  }
  assert.deepEqual(undoReorient(r.volume, r.transform).data, v.data);
});

test('orientation codes equal nibabel aff2axcodes on 150 sheared, oblique and permuted affines', () => {
  assert.ok(REF.random_affines.length >= 100);
  for (const { rows, axcodes } of REF.random_affines) {
    assert.equal(orientationCodes(affineFromRows(rows)), axcodes, JSON.stringify(rows));
  }
});

test('orientation codes ↔ ornt, transforms and inverses', () => {
  assert.deepEqual(orientationTransform('LPS', 'RAS'), [[0, -1], [1, -1], [2, 1]]);
  assert.deepEqual(orientationTransform('RAS', 'RAS'), [[0, 1], [1, 1], [2, 1]]);
  assert.deepEqual(orientationTransform('PSL', 'RAS'), [[1, -1], [2, 1], [0, -1]]);
  for (const codes of ['RAS', 'LPI', 'SAR', 'PLI']) assert.equal(orntToAxcodes(axcodesToOrnt(codes)), codes);
  const t = orientationTransform('ASL', 'RPI');
  const inv = invertOrnt(t);
  assert.deepEqual(invertOrnt(inv), t);
  assert.throws(() => axcodesToOrnt('RAR'), /same world axis/);
  assert.throws(() => axcodesToOrnt('RAX'), /invalid axis code/);
  assert.deepEqual(ioOrientation(composeAffine([1, 1, 1], [0, 0, 0], [0, 0, 1, -1, 0, 0, 0, 1, 0])), [[1, -1], [2, 1], [0, 1]]);
});

test('data reordering: every voxel type, several channels, equals a naive index mapping', () => {
  const types: VoxelType[] = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64'];
  const dims = [3, 4, 5];
  const n = 60;
  for (const type of types) {
    const data = allocVoxels(type, n * 3);
    for (let i = 0; i < n * 3; i++) data[i] = (typeof data[0] === 'bigint' ? BigInt(i) : i % 120) as never;
    for (const codes of ['LPS', 'SRA', 'IPL', 'RAS']) {
      const ornt = orientationTransform('RAS', codes);
      const { data: out, dims: od } = applyOrntToData(data, dims, 3, ornt);
      assert.equal(out.constructor, data.constructor);
      for (let c = 0; c < 3; c++) for (let k = 0; k < 5; k++) for (let j = 0; j < 4; j++) for (let i = 0; i < 3; i++) {
        const src = [i, j, k];
        const dst = [0, 0, 0];
        for (let a = 0; a < 3; a++) {
          const [o, f] = ornt[a];
          dst[o] = f === 1 ? src[a] : dims[a] - 1 - src[a];
        }
        const di = dst[0] + od[0] * (dst[1] + od[1] * (dst[2] + od[2] * c));
        assert.equal(out[di], data[i + 3 * (j + 4 * (k + 5 * c))], `${type} ${codes}`);
      }
    }
  }
});

test('world position of a voxel is unchanged for all 48 target orientations', () => {
  const aff = composeAffine([1.1, 0.9, 2.2], [3, -4, 5]);
  const v = new Volume({ data: Float32Array.from({ length: 4 * 3 * 2 }, (_, i) => i), dims: [4, 3, 2], affine: aff });
  const letters = [['R', 'L'], ['A', 'P'], ['S', 'I']];
  let count = 0;
  for (const perm of [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]) {
    for (let flips = 0; flips < 8; flips++) {
      const codes = perm.map((ax, i) => letters[ax][(flips >> i) & 1]).join('');
      const r = reorient(v, codes);
      assert.equal(orientationCodes(r.volume.affine), codes);
      for (let idx = 0; idx < v.data.length; idx += 5) {
        const i = idx % 4, j = Math.floor(idx / 4) % 3, k = Math.floor(idx / 12);
        const w = applyAffine(v.affine, [i, j, k]);
        const ijk = r.volume.worldToVoxel(w).map(Math.round);
        assert.equal(r.volume.at(ijk[0], ijk[1], ijk[2]), v.at(i, j, k));
      }
      count++;
    }
  }
  assert.equal(count, 48);
});
