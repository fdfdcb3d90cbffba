// Weak annotations: PA-Seg point maps, JSON point lists and scribble maps
// read, validated and written back; seven points and scribbles simulated
// from real BraTS and ACDC masks.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type LesionPoint, AnnotationError, pointMapVolume, readPointMap, readPointsJson, readScribbleH5, readScribbleNifti,
  writePointMap, writePointsJson, writeScribbleNifti,
} from '../src/data/annotations.js';
import type { PointAnnotation } from '../src/data/dataset.js';
import { composeAffine } from '../src/io/affine.js';
import { readH5Case, writeH5 } from '../src/io/hdf5.js';
import { readNifti, writeNifti } from '../src/io/nifti.js';
import { Volume } from '../src/io/volume.js';
import { Rng } from '../src/random/rng.js';
import { simulateScribbles, simulateSevenPoints } from '../src/transforms/simulate-annotations.js';
import { ACDC, sample } from './shared-data.js';

let tmp: string;
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-annotations-')); });
after(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

// An oblique grid: rotated 30° about z then 10° about x, anisotropic, shifted.
const DIMS = [20, 18, 12] as const;
const SPACING = [0.8, 1.2, 2.5];
const ORIGIN = [-10, 5, 30];
function obliqueDirection(): number[] {
  const a = Math.PI / 6;
  const b = Math.PI / 18;
  const rz = [Math.cos(a), -Math.sin(a), 0, Math.sin(a), Math.cos(a), 0, 0, 0, 1];
  const rx = [1, 0, 0, 0, Math.cos(b), -Math.sin(b), 0, Math.sin(b), Math.cos(b)];
  const out: number[] = [];
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) out.push(rx[r * 3] * rz[c] + rx[r * 3 + 1] * rz[3 + c] + rx[r * 3 + 2] * rz[6 + c]);
  return out;
}
const DIR = obliqueDirection();
const REF = new Volume({ data: new Float32Array(DIMS[0] * DIMS[1] * DIMS[2]), dims: [...DIMS], affine: composeAffine(SPACING, ORIGIN, DIR) });

/** World position computed by hand (R · diag(s) · ijk + o), independent of applyAffine. */
function worldOf(ijk: readonly number[]): number[] {
  return [0, 1, 2].map((r) => ORIGIN[r] + DIR[r * 3] * SPACING[0] * ijk[0] + DIR[r * 3 + 1] * SPACING[1] * ijk[1] + DIR[r * 3 + 2] * SPACING[2] * ijk[2]);
}

function pt(ijk: [number, number, number], cls: number, lesion: number): LesionPoint {
  return { class: cls, ijk, xyz: worldOf(ijk) as [number, number, number], lesion };
}

// Two lesions, PA-Seg style; listed in the order a point map reads back
// (per lesion: foreground, then background in i-fastest scan order).
const POINTS: LesionPoint[] = [
  pt([5, 6, 4], 1, 0), pt([5, 6, 1], 0, 0), pt([5, 2, 4], 0, 0), pt([1, 6, 4], 0, 0), pt([9, 6, 4], 0, 0), pt([5, 10, 4], 0, 0), pt([5, 6, 8], 0, 0),
  pt([15, 13, 9], 1, 1), pt([15, 13, 7], 0, 1), pt([13, 13, 9], 0, 1), pt([17, 13, 9], 0, 1),
];

const key = (p: LesionPoint): string => `${p.lesion}:${p.class}:${p.ijk.join(',')}`;
const sortedKeys = (ps: readonly LesionPoint[]): string[] => ps.map(key).sort();

function assertSamePoints(got: readonly LesionPoint[], want: readonly LesionPoint[]): void {
  assert.deepEqual(sortedKeys(got), sortedKeys(want));
  const byKey = new Map(want.map((p) => [key(p), p]));
  for (const p of got) {
    const w = byKey.get(key(p))!;
    for (let a = 0; a < 3; a++) assert.ok(Math.abs(p.xyz[a] - w.xyz[a]) < 1e-6, `world ${p.xyz} vs ${w.xyz}`);
  }
}

function writeJson(name: string, json: unknown): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, JSON.stringify(json));
  return f;
}

describe('point annotations round trip on an oblique affine', () => {
  test('the grid is oblique and world positions come from the affine', () => {
    const pts = readPointsJson(writeJson('one.json', { coordinates: 'voxel', points: [{ position: [3, 4, 5], label: 'foreground' }] }), REF);
    assert.deepEqual(pts[0].ijk, [3, 4, 5]);
    const w = worldOf([3, 4, 5]);
    for (let a = 0; a < 3; a++) assert.ok(Math.abs(pts[0].xyz[a] - w[a]) < 1e-9);
    // Not a signed permutation: the voxel and world axes really differ.
    assert.ok(Math.abs(DIR[1]) > 0.4 && Math.abs(DIR[5]) > 0.1);
  });

  test('NIfTI point map → points → map keeps PA-Seg coding (1/2 first lesion, 3/4 second)', () => {
    const f = path.join(tmp, 'case_7points.nii.gz');
    writePointMap(f, POINTS, REF);
    const map = readNifti(f);
    const at = (p: LesionPoint): number => map.at(...p.ijk);
    assert.equal(at(POINTS[0]), 2);
    assert.equal(at(POINTS[1]), 1);
    assert.equal(at(POINTS[7]), 4);
    assert.equal(at(POINTS[8]), 3);
    let nonzero = 0;
    for (let i = 0; i < map.numVoxels; i++) if (map.data[i] !== 0) nonzero++;
    assert.equal(nonzero, POINTS.length);
    const back = readPointMap(f, REF);
    assertSamePoints(back, POINTS);
    assert.equal(back[0].class, 1, 'each lesion lists its foreground point first');
    // LesionPoint is usable where the project model wants a PointAnnotation.
    const asProject: PointAnnotation[] = back;
    assert.equal(asProject.length, POINTS.length);
  });

  for (const coordinates of ['world', 'voxel'] as const) {
    test(`JSON (${coordinates}) → points → NIfTI map → points → JSON`, () => {
      const j1 = path.join(tmp, `pts-${coordinates}.json`);
      writePointsJson(j1, POINTS, coordinates);
      const written = JSON.parse(fs.readFileSync(j1, 'utf8'));
      assert.equal(written.coordinates, coordinates);
      assert.equal(written.points[0].label, 'foreground');
      assert.equal(written.points[1].label, 'background');
      if (coordinates === 'world') assert.ok(Math.abs(written.points[0].position[0] - worldOf([5, 6, 4])[0]) < 1e-9);
      else assert.deepEqual(written.points[0].position, [5, 6, 4]);
      const fromJson = readPointsJson(j1, REF);
      assertSamePoints(fromJson, POINTS);
      const m = path.join(tmp, `pts-${coordinates}.nii.gz`);
      writePointMap(m, fromJson, REF);
      const fromMap = readPointMap(m, REF);
      assertSamePoints(fromMap, POINTS);
      const j2 = path.join(tmp, `pts-${coordinates}-2.json`);
      writePointsJson(j2, fromMap, coordinates);
      assertSamePoints(readPointsJson(j2, REF), POINTS);
    });
  }

  test('world positions off the voxel centre snap to the nearest voxel', () => {
    const w = worldOf([7.3, 2.6, 9.45]);
    const pts = readPointsJson(writeJson('snap.json', { coordinates: 'world', points: [{ position: w, label: 1 }, { position: worldOf([0, 0, 0]), label: 0 }] }), REF);
    assert.deepEqual(pts[0].ijk, [7, 3, 9]);
    assert.deepEqual(pts[1].ijk, [0, 0, 0]);
  });
});

describe('bad annotation inputs are named and nothing is written', () => {
  test('a voxel point outside the image names the file, point index, voxel and dims', () => {
    const f = writeJson('outside.json', { coordinates: 'voxel', points: [{ position: [1, 1, 1], label: 'foreground' }, { position: [25, 3, 4], label: 'background' }] });
    assert.throws(() => readPointsJson(f, REF), (e: Error) => {
      assert.ok(e instanceof AnnotationError);
      assert.match(e.message, /outside\.json/);
      assert.match(e.message, /point 1 at voxel \(25, 3, 4\)/);
      assert.match(e.message, /dims \[20, 18, 12\]/);
      return true;
    });
  });

  test('a world point outside the image gives its voxel position', () => {
    const f = writeJson('outside-world.json', { coordinates: 'world', points: [{ position: worldOf([3, -4, 2]), label: 'foreground' }] });
    assert.throws(() => readPointsJson(f, REF), /point 0 at voxel \(3, -4, 2\) \(world .*\) lies outside the image of dims \[20, 18, 12\]/);
  });

  test('a points file without a foreground point', () => {
    const f = writeJson('nofg.json', { coordinates: 'voxel', points: [{ position: [1, 1, 1], label: 'background' }] });
    assert.throws(() => readPointsJson(f, REF), /nofg\.json: has no foreground point/);
  });

  test('an unknown label name, coordinate system or key', () => {
    assert.throws(() => readPointsJson(writeJson('lab.json', { coordinates: 'voxel', points: [{ position: [1, 1, 1], label: 'tumour' }] }), REF),
      /lab\.json: points\[0\]\.label is "tumour"; expected "foreground", "background" or an integer ≥ 0/);
    assert.throws(() => readPointsJson(writeJson('crd.json', { coordinates: 'mm', points: [] }), REF), /crd\.json: "coordinates" is "mm"; expected "world" or "voxel"/);
    assert.throws(() => readPointsJson(writeJson('key.json', { coordinates: 'voxel', points: [{ position: [1, 1, 1], label: 1, colour: 'red' }] }), REF), /points\[0\] has unknown key "colour"/);
    assert.throws(() => readPointsJson(writeJson('pos.json', { coordinates: 'voxel', points: [{ position: [1, 1], label: 1 }] }), REF), /points\[0\]\.position must be 3 finite numbers/);
  });

  test('a point map whose lesion has background points but no foreground point', () => {
    const data = new Uint8Array(REF.numVoxels);
    data[REF.index(2, 2, 2)] = 2;
    data[REF.index(4, 4, 4)] = 3; // lesion 1 background, no value 4
    const f = path.join(tmp, 'bad_7points.nii.gz');
    writeNifti(f, new Volume({ data, dims: [...DIMS], affine: REF.affine }));
    assert.throws(() => readPointMap(f, REF), /bad_7points\.nii\.gz: lesion 1 has 1 background point\(s\) \(value 3\) but no foreground point \(value 4\)/);
  });

  test('a point map on another grid', () => {
    const f = path.join(tmp, 'shifted_7points.nii.gz');
    const data = new Uint8Array(REF.numVoxels);
    data[0] = 2;
    writeNifti(f, new Volume({ data, dims: [...DIMS], affine: composeAffine(SPACING, [ORIGIN[0] + 3, ORIGIN[1], ORIGIN[2]], DIR) }));
    assert.throws(() => readPointMap(f, REF), /shifted_7points\.nii\.gz: the point map has a different affine from the image \(largest entry difference 3\.00\)/);
  });

  test('a scribble map whose shape or affine differs from the image', () => {
    const small = path.join(tmp, 'scrib-small.nii.gz');
    writeNifti(small, new Volume({ data: new Uint8Array(20 * 18 * 11), dims: [20, 18, 11], affine: REF.affine }));
    assert.throws(() => readScribbleNifti(small, { unlabelled: 4, reference: REF }), /scrib-small\.nii\.gz: the scribble map has dims \[20, 18, 11\] but the image has \[20, 18, 12\]/);
    const tilted = path.join(tmp, 'scrib-tilted.nii.gz');
    writeNifti(tilted, new Volume({ data: new Uint8Array(REF.numVoxels), dims: [...DIMS], affine: composeAffine(SPACING, ORIGIN) }));
    assert.throws(() => readScribbleNifti(tilted, { unlabelled: 4, reference: REF }), /scrib-tilted\.nii\.gz: the scribble map has a different affine/);
  });

  test('a scribble map with nothing scribbled, or no declared unlabelled value', () => {
    const f = path.join(tmp, 'scrib-empty.nii.gz');
    writeNifti(f, new Volume({ data: new Uint8Array(REF.numVoxels).fill(4), dims: [...DIMS], affine: REF.affine }));
    assert.throws(() => readScribbleNifti(f, { unlabelled: 4 }), /scrib-empty\.nii\.gz: has no scribbled voxel/);
    assert.throws(() => readScribbleNifti(f, { unlabelled: undefined as unknown as number }), /the "unlabelled" value must be declared/);
  });

  test('writers validate first and leave no file behind', () => {
    const outside = [pt([1, 1, 1], 1, 0), { ...pt([1, 1, 1], 0, 0), ijk: [1, 30, 1] as [number, number, number] }];
    const m = path.join(tmp, 'never_7points.nii.gz');
    assert.throws(() => writePointMap(m, outside, REF), /never_7points\.nii\.gz: point 1 at voxel \(1, 30, 1\) lies outside the image of dims \[20, 18, 12\]/);
    assert.throws(() => writePointMap(m, [pt([1, 1, 1], 2, 0)], REF), /point 0 has class 2; the PA-Seg coding holds background \(0\) and foreground \(1\) only/);
    assert.throws(() => writePointMap(m, [pt([1, 1, 1], 1, 0), pt([1, 1, 1], 0, 0)], REF), /collides/);
    const j = path.join(tmp, 'never.json');
    assert.throws(() => writePointsJson(j, [pt([1, 1, 1], 0, 0)]), /never\.json: has no foreground point/);
    assert.ok(!fs.existsSync(m) && !fs.existsSync(j));
    assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.includes('.tmp-')), [], 'no temp leftovers');
  });
});

// ------------------------------------------------------------ simulation on real masks

function bratsLabel(): Volume {
  return readNifti(sample('brats2015_deepmedic', 'brats_2013_pat0001_1', 'OTMultiClass.nii.gz'));
}

/** Voxel count and bounding box of the 26-connected tumour component holding `seed`. */
function floodExtent(label: Volume, seed: readonly number[]): { lo: number[]; hi: number[]; count: number } {
  const [ni, nj, nk] = label.dims;
  const seen = new Uint8Array(label.numVoxels);
  const queue = [label.index(seed[0], seed[1], seed[2])];
  seen[queue[0]] = 1;
  const lo = [...seed];
  const hi = [...seed];
  for (let q = 0; q < queue.length; q++) {
    const idx = queue[q];
    const p = [idx % ni, Math.floor(idx / ni) % nj, Math.floor(idx / (ni * nj))];
    for (let a = 0; a < 3; a++) { lo[a] = Math.min(lo[a], p[a]); hi[a] = Math.max(hi[a], p[a]); }
    for (let dk = -1; dk <= 1; dk++) for (let dj = -1; dj <= 1; dj++) for (let di = -1; di <= 1; di++) {
      const [i, j, k] = [p[0] + di, p[1] + dj, p[2] + dk];
      if (i < 0 || j < 0 || k < 0 || i >= ni || j >= nj || k >= nk) continue;
      const n = label.index(i, j, k);
      if (!seen[n] && label.at(i, j, k) > 0) { seen[n] = 1; queue.push(n); }
    }
  }
  return { lo, hi, count: queue.length };
}

describe('seven points simulated on a BraTS whole tumour', () => {
  let label: Volume;
  before(() => { label = bratsLabel(); });
  const tumour = (ijk: readonly number[]): boolean => label.at(ijk[0], ijk[1], ijk[2]) > 0;

  test('one foreground point inside, six background points outside and beyond the extent', () => {
    const r = simulateSevenPoints(label, Rng.from(11));
    assert.equal(r.lesions.length, 1, 'the 2-voxel speck is below 10% of the main tumour');
    assert.equal(r.points.length, 7);
    assert.deepEqual(r.skipped, []);
    const fg = r.points.filter((p) => p.class === 1);
    assert.equal(fg.length, 1);
    assert.ok(tumour(fg[0].ijk), `foreground point ${fg[0].ijk} is in the tumour`);
    // The lesion's extent, measured here by a flood fill from the foreground point.
    const { lo, hi, count } = floodExtent(label, fg[0].ijk);
    const les = r.lesions[0];
    assert.equal(les.voxels, count);
    assert.deepEqual(les.bboxMin, lo);
    assert.deepEqual(les.bboxMax, hi);
    // Near the centre: within a quarter of the extent of the centroid on each axis.
    for (let a = 0; a < 3; a++) assert.ok(Math.abs(fg[0].ijk[a] - les.centroid[a]) <= (les.bboxMax[a] - les.bboxMin[a]) / 4 + 1);
    assert.equal(r.sides.length, 6);
    assert.deepEqual(r.sides.map((s) => `${s.axis}${s.direction}`).sort(), ['0-1', '01', '1-1', '11', '2-1', '21']);
    for (const s of r.sides) {
      const p = r.points[s.point];
      assert.equal(p.class, 0);
      assert.ok(!tumour(p.ijk), `background point ${p.ijk} is outside the tumour`);
      const beyond = s.direction > 0 ? p.ijk[s.axis] - les.bboxMax[s.axis] : les.bboxMin[s.axis] - p.ijk[s.axis];
      assert.ok(beyond >= 1 && beyond <= 3, `side ${s.axis}/${s.direction}: ${beyond} voxels beyond the extent`);
      // World coordinates follow the (LPS) affine.
      const w = label.voxelToWorld(p.ijk);
      assert.deepEqual(p.xyz, w);
    }
  });

  test('same seed ⇒ same points; another seed ⇒ other jitter', () => {
    const a = simulateSevenPoints(label, Rng.from(11)).points;
    const b = simulateSevenPoints(label, Rng.from(11)).points;
    assert.deepEqual(a, b);
    const c = simulateSevenPoints(label, Rng.from(12)).points;
    const moved = a.filter((p, i) => p.ijk.join() !== c[i].ijk.join()).length;
    assert.ok(moved >= 3, `${moved} of 7 points moved with another seed`);
  });

  test('a second lesion is annotated with {3, 4} and survives the NIfTI round trip', () => {
    const r = simulateSevenPoints(label, Rng.from(3), { minLesionFraction: 0 });
    assert.equal(r.lesions.length, 2);
    const second = r.points.filter((p) => p.lesion === 1);
    const fg2 = second.filter((p) => p.class === 1);
    assert.equal(fg2.length, 1);
    assert.ok(tumour(fg2[0].ijk));
    for (const p of second.filter((q) => q.class === 0)) assert.ok(!tumour(p.ijk));
    const map = pointMapVolume(r.points, label);
    assert.equal(map.at(...fg2[0].ijk), 4);
    const f = path.join(tmp, 'brats_7points.nii.gz');
    writePointMap(f, r.points, label);
    assertSamePoints(readPointMap(f, label), r.points);
  });
});

describe('scribbles simulated from full masks', () => {
  function checkInside(label: Volume, s: ReturnType<typeof simulateScribbles>): Map<number, number> {
    const counts = new Map<number, number>();
    for (let i = 0; i < label.numVoxels; i++) {
      const v = Number(s.labels.data[i]);
      if (v === s.unlabelled) continue;
      assert.equal(v, Number(label.data[i]), `scribble voxel ${i} of class ${v} lies in class ${Number(label.data[i])}`);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    return counts;
  }
  const present = (label: Volume): number[] => [...new Set(Array.from(label.data as ArrayLike<number>, Number))].sort((a, b) => a - b);

  test('BraTS: every class present gets scribbles inside it, thin and deterministic', () => {
    const label = bratsLabel();
    const s = simulateScribbles(label, Rng.from(5));
    const classes = present(label);
    assert.deepEqual(classes, [0, 1, 2, 3, 4]);
    assert.equal(s.unlabelled, 5);
    assert.deepEqual(s.classes, classes);
    const counts = checkInside(label, s);
    for (const c of classes) assert.ok((counts.get(c) ?? 0) > 0, `class ${c} has a scribble`);
    // Skeletons, not filled regions: far fewer voxels than the class.
    const tumourVoxels = Array.from(label.data as ArrayLike<number>).filter((v) => v > 0).length;
    const tumourScribbles = [1, 2, 3, 4].reduce((t, c) => t + (counts.get(c) ?? 0), 0);
    assert.ok(tumourScribbles < 0.1 * tumourVoxels, `${tumourScribbles} scribbled of ${tumourVoxels}`);
    const again = simulateScribbles(label, Rng.from(5), { sliceFraction: 0.3, keepFraction: 0.5 });
    const again2 = simulateScribbles(label, Rng.from(5), { sliceFraction: 0.3, keepFraction: 0.5 });
    assert.deepEqual(again.labels.data, again2.labels.data, 'same seed, same scribbles');
    const other = simulateScribbles(label, Rng.from(6), { sliceFraction: 0.3, keepFraction: 0.5 });
    assert.notDeepEqual(again.labels.data, other.labels.data);
    const sub = checkInside(label, again);
    for (const c of classes) assert.ok((sub.get(c) ?? 0) > 0 && (sub.get(c) ?? 0) < (counts.get(c) ?? 0), `class ${c}: subsampled ${sub.get(c)} < ${counts.get(c)}`);
  });

  test('ACDC slice: RV, Myo, LV and background each get a scribble; HDF5 round trip', async () => {
    const file = path.join(ACDC, 'data', 'patient003_frame01_slice_5.h5');
    const c = await readH5Case(file);
    const label = c.label!;
    assert.deepEqual(present(label), [0, 1, 2, 3]);
    const s = simulateScribbles(label, Rng.from(1));
    assert.equal(s.unlabelled, 4, 'the ACDC scribble convention');
    assert.deepEqual(s.classes, [0, 1, 2, 3]);
    const counts = checkInside(label, s);
    for (const cls of [0, 1, 2, 3]) assert.ok((counts.get(cls) ?? 0) >= 3, `class ${cls}: ${counts.get(cls)} voxels`);
    // Background scribbles ring the heart: each lies within the 10-voxel band around a labelled voxel.
    const [bw, bh] = label.dims;
    for (let i = 0; i < label.numVoxels; i++) {
      if (Number(s.labels.data[i]) !== 0) continue;
      const x = i % bw;
      const y = Math.floor(i / bw);
      let near = false;
      for (let dy = -10; dy <= 10 && !near; dy++) for (let dx = -10; dx <= 10 && !near; dx++) {
        const xx = x + dx;
        const yy = y + dy;
        if (xx >= 0 && yy >= 0 && xx < bw && yy < bh && label.at(xx, yy, 0) > 0) near = true;
      }
      assert.ok(near, `background scribble at (${x}, ${y}) is more than 10 voxels from the heart`);
    }
    const h5 = path.join(tmp, 'acdc_scribble.h5');
    const [w, h] = label.dims;
    await writeH5(h5, { image: { data: c.image.data, shape: [h, w] }, scribble: { data: s.labels.data, shape: [h, w] } });
    const back = await readScribbleH5(h5, { unlabelled: 4, reference: label });
    assert.deepEqual(back.classes, [0, 1, 2, 3]);
    assert.deepEqual(Array.from(back.labels.data as Uint8Array), Array.from(s.labels.data as Uint8Array));
    const nii = path.join(tmp, 'acdc_scribble.nii.gz');
    writeScribbleNifti(nii, s);
    assert.deepEqual(readScribbleNifti(nii, { unlabelled: 4, reference: label }).classes, [0, 1, 2, 3]);
    const bad = path.join(tmp, 'acdc_bad.h5');
    await writeH5(bad, { image: { data: c.image.data, shape: [h, w] }, scribble: { data: new Uint8Array(w * (h - 1)), shape: [h - 1, w] } });
    await assert.rejects(readScribbleH5(bad, { unlabelled: 4 }), /acdc_bad\.h5: dataset "scribble" has shape \[\d+, \d+\] but "image" has/);
  });
});
