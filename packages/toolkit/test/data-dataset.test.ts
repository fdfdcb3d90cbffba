// Dataset model and sources on real data laid out at test time: nnU-Net v2
// raw, MSD (3D and 4D), nnU-Net v1, the ACDC HDF5 folder, LA/STDR written
// with the layout writers, 2D multi-site folders, manifests; splits against
// numpy's RandomState / sklearn KFold rules; project JSON round trips.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type Case, type Project, allCases, applyFold, checkProject, existingSplit, findCase, kFoldSplits, loadCase, loadProject,
  loadSplits, openDataset, projectFromJson, projectToJson, ratioSplit, saveProject, saveSplits, selectLabelled, unknownSplitIds,
  writeManifest, GeometryMismatchError, NumpyRandomState, parseCsv, detectLayout, openNnunetDataset,
} from '../src/data/index.js';
import { writeLaCase, writeLaLists, volumeToStdrLayout } from '../src/io/layouts/index.js';
import { Volume } from '../src/io/volume.js';
import { ACDC, FIXTURES, SAMPLES } from './shared-data.js';
import { BRATS_LABELS, CROP, TRAP_MISMATCHES, buildMsd4d, buildMsdMr, buildNnunetBrats, tmpDir, writeTrapManifest } from './data-dataset-fixtures.js';

const REF = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'data_fingerprint.json'), 'utf8')) as {
  brats: { cases: { case: string; label_counts: Record<string, number>; shape_ijk: number[] }[] };
  kfold13: { ids: string[]; folds: { train: string[]; val: string[] }[] };
  kfold7_seed3: { train: number[]; val: number[] }[];
  permutation_12345_17: number[];
  masks: Record<string, Record<string, number>>;
};

let tmp: string;
before(() => { tmp = tmpDir('dataset'); });
after(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

function countValues(v: Volume): Record<string, number> {
  const m: Record<string, number> = {};
  for (let i = 0; i < v.data.length; i++) { const k = String(Number(v.data[i])); m[k] = (m[k] ?? 0) + 1; }
  return m;
}

describe('nnU-Net v2 raw', () => {
  let root: string;
  let project: Project;
  before(async () => {
    root = buildNnunetBrats(path.join(tmp, 'nnunet'));
    project = await openDataset(root);
  });

  test('detects the layout and reads dataset.json', () => {
    assert.equal(detectLayout(root), 'nnunet');
    assert.equal(project.layout, 'nnunet');
    assert.equal(project.name, 'BraTS2015');
    assert.deepEqual(project.channelNames, ['FLAIR', 'T1c']);
    assert.deepEqual(project.labels, BRATS_LABELS);
    assert.equal(project.fileEnding, '.nii.gz');
    const cases = allCases(project);
    assert.deepEqual(cases.map((c) => [c.id, c.status, c.split ?? '']), [
      ['brats_2013_pat0001_1', 'labelled', ''], ['brats_2013_pat0002_1', 'labelled', ''], ['brats_2013_pat0003_1', 'labelled', ''],
      ['brats_2013_pat0004_1', 'unlabelled', 'test'],
    ]);
    assert.deepEqual(cases[0].images, ['imagesTr/brats_2013_pat0001_1_0000.nii.gz', 'imagesTr/brats_2013_pat0001_1_0001.nii.gz']);
    assert.equal(cases[0].label, 'labelsTr/brats_2013_pat0001_1.nii.gz');
  });

  test('loadCase stacks the channels and returns an integer label matching nibabel', async () => {
    const c = findCase(project, 'brats_2013_pat0002_1');
    const r = await loadCase(project, c);
    assert.equal(r.image.channels, 2);
    assert.deepEqual([...r.image.dims], [240, 240, 155]);
    assert.equal(r.image.orientation, 'LPS');
    assert.ok(r.label);
    assert.equal(r.label.voxelType, 'uint8', 'the float32 BraTS label becomes uint8');
    assert.deepEqual(countValues(r.label), REF.brats.cases[1].label_counts);
    // Channel 1 is the T1c file, voxel for voxel.
    const t1c = await loadCase({ ...project, channelNames: [] }, { ...c, images: [c.images[1]] });
    assert.deepEqual(r.image.channel(1).data, t1c.image.data);
  });

  test('the project survives JSON (relative paths, root override)', async () => {
    const file = path.join(tmp, 'project.json');
    saveProject(file, project);
    const back = loadProject(file);
    assert.deepEqual(projectToJson(back), projectToJson(project));
    const moved = projectFromJson(JSON.parse(fs.readFileSync(file, 'utf8')), { root: '/elsewhere' });
    assert.equal(moved.root, '/elsewhere');
    assert.equal((await openDataset(file)).centres[0].cases.length, 4, 'openDataset reads a project JSON');
  });

  test('bad layouts fail naming the file, field and expected value (synchronous source)', () => {
    const bad = (name: string, edit: (r: string) => void): string => {
      const r = buildNnunetBrats(path.join(tmp, `bad-${name}`), { train: ['brats_2013_pat0001_1', 'brats_2013_pat0002_1'], test: [] });
      edit(r);
      return r;
    };
    const noLabels = bad('labels', (r) => {
      const j = JSON.parse(fs.readFileSync(path.join(r, 'dataset.json'), 'utf8'));
      delete j.labels;
      fs.writeFileSync(path.join(r, 'dataset.json'), JSON.stringify(j));
    });
    assert.throws(() => openNnunetDataset(noLabels), /dataset\.json: missing 'labels'/);
    const noSuffix = bad('suffix', (r) => fs.renameSync(path.join(r, 'imagesTr', 'brats_2013_pat0001_1_0001.nii.gz'), path.join(r, 'imagesTr', 'brats_2013_pat0001_1.nii.gz')));
    assert.throws(() => openNnunetDataset(noSuffix), /brats_2013_pat0001_1\.nii\.gz: image file names must end with _XXXX\.nii\.gz/);
    const noLabel = bad('label', (r) => fs.rmSync(path.join(r, 'labelsTr', 'brats_2013_pat0002_1.nii.gz')));
    assert.throws(() => openNnunetDataset(noLabel), /label missing for training case 'brats_2013_pat0002_1': expected .*labelsTr\/brats_2013_pat0002_1\.nii\.gz/);
    const noChannel = bad('channel', (r) => fs.rmSync(path.join(r, 'imagesTr', 'brats_2013_pat0002_1_0001.nii.gz')));
    assert.throws(() => openNnunetDataset(noChannel), /case 'brats_2013_pat0002_1' is missing channel 1: expected .*brats_2013_pat0002_1_0001\.nii\.gz/);
    const count = bad('count', (r) => {
      const j = JSON.parse(fs.readFileSync(path.join(r, 'dataset.json'), 'utf8'));
      j.numTraining = 5;
      fs.writeFileSync(path.join(r, 'dataset.json'), JSON.stringify(j));
    });
    assert.throws(() => openNnunetDataset(count), /'numTraining' is 5 but 2 training case\(s\) were found/);
    const noBg = bad('bg', (r) => {
      const j = JSON.parse(fs.readFileSync(path.join(r, 'dataset.json'), 'utf8'));
      j.labels = { tumour: 1 };
      fs.writeFileSync(path.join(r, 'dataset.json'), JSON.stringify(j));
    });
    assert.throws(() => openNnunetDataset(noBg), /must contain background with value 0/);
  });

  test('region-based labels need regions_class_order; centres from a pattern', async () => {
    const r = buildNnunetBrats(path.join(tmp, 'regions'), {
      json: { labels: { background: 0, whole_tumour: [1, 2, 3, 4], tumour_core: [1, 3, 4], enhancing: 4 } },
    });
    await assert.rejects(openDataset(r), /region-based 'labels' need 'regions_class_order'/);
    const j = JSON.parse(fs.readFileSync(path.join(r, 'dataset.json'), 'utf8'));
    j.regions_class_order = [1, 2, 3];
    fs.writeFileSync(path.join(r, 'dataset.json'), JSON.stringify(j));
    const p = await openDataset(r, { centrePattern: '_pat000(\\d)_', patientPattern: '^(brats_2013_pat\\d+)' });
    assert.deepEqual(p.regionClassOrder, [1, 2, 3]);
    assert.deepEqual(p.centres.map((c) => c.id), ['1', '2', '3', '4']);
    assert.equal(allCases(p)[0].patient, 'brats_2013_pat0001');
  });
});


describe('MSD', () => {
  test('3D MSD dataset.json: training/test lists, MSD label order, test cases', async () => {
    const root = buildMsdMr(path.join(tmp, 'msd'));
    assert.equal(detectLayout(root), 'msd');
    const p = await openDataset(root);
    assert.equal(p.layout, 'msd');
    assert.deepEqual(p.labels, { background: 0, foreground: 1 });
    assert.deepEqual(p.channelNames, ['MRI']);
    assert.deepEqual(allCases(p).map((c) => [c.id, c.status, c.split ?? '']), [['Case00', 'labelled', ''], ['unf01_T2w', 'labelled', ''], ['spleen2', 'unlabelled', 'test']]);
    const r = await loadCase(p, findCase(p, 'Case00'));
    assert.deepEqual([...r.image.dims], [128, 128, 64]);
    assert.equal(r.image.voxelType, 'float64', 'PROMISE12 Case00 is stored as float64');
  });

  test('4D multi-modal images load as channels, identical to the source crop', async () => {
    const { root, flair, t1c, label } = buildMsd4d(path.join(tmp, 'msd4d'));
    const p = await openDataset(root);
    assert.deepEqual(p.channelNames, ['FLAIR', 'T1c']);
    const r = await loadCase(p, allCases(p)[0]);
    assert.equal(r.image.channels, 2);
    assert.deepEqual([...r.image.dims], [...CROP.size]);
    assert.deepEqual(r.image.channel(0).data, flair.data);
    assert.deepEqual(r.image.channel(1).data, t1c.data);
    assert.deepEqual(Array.from(r.label?.data as Uint8Array), Array.from(label.data as Float32Array));
    assert.ok(r.image.voxelToWorld([0, 0, 0]).every((v, a) => Math.abs(v - flair.voxelToWorld([0, 0, 0])[a]) < 1e-4));
  });

  test('nnU-Net v1 (MSD json, _0000 files) and a wrong channel count', async () => {
    const root = path.join(tmp, 'v1');
    const src = buildNnunetBrats(path.join(tmp, 'v1src'), { train: ['brats_2013_pat0001_1'], test: [] });
    fs.mkdirSync(root);
    fs.cpSync(path.join(src, 'imagesTr'), path.join(root, 'imagesTr'), { recursive: true, verbatimSymlinks: true });
    fs.cpSync(path.join(src, 'labelsTr'), path.join(root, 'labelsTr'), { recursive: true, verbatimSymlinks: true });
    const json = { name: 'v1', modality: { 0: 'FLAIR', 1: 'T1c' }, labels: { 0: 'background', 1: 'a', 2: 'b', 3: 'c', 4: 'd' }, numTraining: 1, training: [{ image: './imagesTr/brats_2013_pat0001_1.nii.gz', label: './labelsTr/brats_2013_pat0001_1.nii.gz' }], test: [] };
    fs.writeFileSync(path.join(root, 'dataset.json'), JSON.stringify(json));
    const p = await openDataset(root);
    assert.deepEqual(allCases(p)[0].images, ['imagesTr/brats_2013_pat0001_1_0000.nii.gz', 'imagesTr/brats_2013_pat0001_1_0001.nii.gz']);
    fs.writeFileSync(path.join(root, 'dataset.json'), JSON.stringify({ ...json, modality: { 0: 'FLAIR', 1: 'T1c', 2: 'T2' } }));
    await assert.rejects(openDataset(root), /channel 2 of \.\/imagesTr\/brats_2013_pat0001_1\.nii\.gz missing: expected .*_0002\.nii\.gz/);
    fs.writeFileSync(path.join(root, 'dataset.json'), JSON.stringify({ ...json, training: [{ image: './imagesTr/nope.nii.gz', label: './labelsTr/nope.nii.gz' }] }));
    await assert.rejects(openDataset(root), /training\[0\]: image \.\/imagesTr\/nope\.nii\.gz does not exist/);
  });
});

describe('HDF5 seed layouts', () => {
  test('ACDC: lists become splits; "N labelled patients" matches the literature (68 / 136 slices)', async () => {
    const p = await openDataset(ACDC);
    assert.equal(p.layout, 'h5-acdc');
    const cases = allCases(p);
    const by = (s: string): Case[] => cases.filter((c) => c.split === s);
    assert.equal(by('train').length, 1312);
    assert.equal(by('val').length, 20);
    assert.equal(by('test').length, 40);
    const train = by('train');
    assert.equal(selectLabelled(train, { count: 3 }).labelled.length, 68);
    assert.equal(selectLabelled(train, { count: 7 }).labelled.length, 136);
    const fold = existingSplit(p);
    assert.equal(fold.folds[0].val.length, 20);
    assert.equal(fold.test.length, 40);
    const v = await loadCase(p, by('val')[0]);
    assert.equal(v.image.dims[2] > 1, true, 'val cases are volumes');
    assert.ok(Object.keys(countValues(v.label as Volume)).every((k) => ['0', '1', '2', '3'].includes(k)));
  });

  test('LA and STDR folders written with the layout writers open and load', async () => {
    const img = new Volume({ data: Float32Array.from({ length: 6 * 5 * 4 }, (_, i) => i / 10), dims: [6, 5, 4] });
    const lab = img.withData(Uint8Array.from({ length: 120 }, (_, i) => (i % 7 === 0 ? 1 : 0)));
    const la = path.join(tmp, 'LA');
    for (const id of ['c1', 'c2', 'c3']) await writeLaCase(la, id, { image: img, label: lab });
    await writeLaLists(la, { train: ['c1', 'c2'], test: ['c3'] });
    const pl = await openDataset(la);
    assert.equal(pl.layout, 'h5-la');
    assert.deepEqual(allCases(pl).map((c) => `${c.id}:${c.split}`), ['c1:train', 'c2:train', 'c3:test']);
    const r = await loadCase(pl, allCases(pl)[0]);
    assert.deepEqual(r.image.data, img.data);
    assert.deepEqual(r.label?.data, lab.data);
    const stdr = path.join(tmp, 'STDR');
    const spaced = new Volume({ data: img.data, dims: img.dims, affine: Float64Array.from([0.5, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1]) });
    await volumeToStdrLayout(stdr, 'p1', 'train', { image: spaced, label: lab });
    await volumeToStdrLayout(stdr, 'p2', 'val', { image: spaced, label: lab });
    const ps = await openDataset(stdr);
    assert.equal(ps.layout, 'h5-stdr');
    const cs = allCases(ps);
    assert.equal(cs.filter((c) => c.split === 'train').length, 4, 'one case per training slice');
    assert.ok(cs.filter((c) => c.split === 'train').every((c) => c.patient === 'p1'));
    const v = await loadCase(ps, cs.find((c) => c.split === 'val') as Case);
    assert.deepEqual(v.image.spacing, [0.5, 0.5, 3], 'STDR volumes keep voxel_spacing');
  });
});

describe('2D image folders', () => {
  test('six prostate sites become six centres; the I2CVB off-by-one names are reported', async () => {
    const p = await openDataset(path.join(SAMPLES, 'ust_run_multidomain_2d', 'ProstateSlice'), { maskEncoding: 'prostateZeroIsOrgan' });
    assert.equal(p.layout, 'image2d');
    assert.deepEqual(p.centres.map((c) => c.id), ['BIDMC', 'BMC', 'HK', 'I2CVB', 'RUNMC', 'UCL']);
    assert.deepEqual(p.labels, { background: 0, prostate: 1 });
    const codes = p.problems.map((x) => `${x.code}:${x.centre}`).sort();
    assert.deepEqual(codes, ['pairing-mismatch:I2CVB', 'unpaired-image:I2CVB', 'unpaired-mask:I2CVB']);
    assert.match(p.problems.find((x) => x.code === 'unpaired-mask')?.message ?? '', /I2CVB\/train\/mask\/00_00\.png has no image/);
    const c = findCase(p, 'BIDMC/train/00_00');
    assert.equal(c.split, 'train');
    const r = await loadCase(p, c);
    assert.deepEqual(countValues(r.label as Volume), REF.masks.prostate_BIDMC_train_00_00, 'inverted mask decoded: 0 = prostate');
  });

  test('fundus domains with a declared rim/cup encoding', async () => {
    const p = await openDataset(path.join(SAMPLES, 'ust_run_multidomain_2d'), { maskEncoding: { 'Fundus/': 'fundusRimCup', 'ProstateSlice/': 'prostateZeroIsOrgan' }, labels: { background: 0, rim: 1, cup: 2 } });
    assert.deepEqual(p.centres.map((c) => c.id).slice(0, 4), ['Fundus/Domain1', 'Fundus/Domain2', 'Fundus/Domain3', 'Fundus/Domain4']);
    const c = findCase(p, 'Fundus/Domain1/train/ROIs/gdrishtiGS_002');
    assert.equal(c.labelEncoding, 'fundusRimCup');
    const r = await loadCase(p, c);
    assert.equal(r.image.channels, 3);
    assert.deepEqual(countValues(r.label as Volume), REF.masks.fundus_gdrishtiGS_002_rimcup);
    // Mixed encodings without explicit labels cannot share one label map.
    await assert.rejects(openDataset(path.join(SAMPLES, 'ust_run_multidomain_2d'), { maskEncoding: { 'Fundus/': 'fundusRimCup', 'ProstateSlice/': 'prostateZeroIsOrgan' } }), /different label values/);
  });
});

describe('manifests', () => {
  test('CSV with channels, points, centres; geometry traps raise GeometryMismatchError on load', async () => {
    const file = writeTrapManifest(tmp);
    const p = await openDataset(file);
    assert.equal(p.layout, 'manifest');
    assert.deepEqual(p.centres.map((c) => c.id), ['promise', 'ts', 'ivadomed', 'brats', 'monai', 'spleen']);
    const pts = findCase(p, 'spleen_points');
    assert.equal(pts.status, 'points');
    const r = await loadCase(p, pts);
    assert.equal(r.points?.length, 2);
    assert.deepEqual(r.points?.[0].ijk, [80, 90, 12]);
    const back = r.image.worldToVoxel(r.points?.[1].xyz as [number, number, number]);
    assert.ok(back.every((v, a) => Math.abs(v - (r.points?.[1].ijk as number[])[a]) < 1e-9));
    for (const id of TRAP_MISMATCHES) await assert.rejects(loadCase(p, findCase(p, id)), (e: unknown) => e instanceof GeometryMismatchError && /shape/.test((e as Error).message));
    const ok = await loadCase(p, findCase(p, 'brats_codes'));
    assert.equal(ok.label?.dims[2], 155);
  });

  test('check flags exactly the mismatched pairs (and accepts header-code and float32-rounding differences)', async () => {
    const p = await openDataset(writeTrapManifest(path.join(tmp)));
    const report = await checkProject(p);
    const bad = report.cases.filter((c) => !c.ok).map((c) => c.case).sort();
    assert.deepEqual(bad, [...TRAP_MISMATCHES].sort());
    const promise = report.cases.find((c) => c.case === 'promise_large');
    assert.match(promise?.issues[0].message ?? '', /label shape differs: \[128, 128, 64\] vs \[512, 512, 47\]/);
    assert.ok(report.cases.find((c) => c.case === 'ts_full')?.issues.some((i) => i.code === 'shape-mismatch'));
    assert.ok(report.geometryMismatches >= 4);
  });

  test('writeManifest round-trips (CSV and JSON); bad rows name line and column', async () => {
    const p = await openDataset(writeTrapManifest(tmp));
    for (const ext of ['csv', 'json']) {
      const f = path.join(tmp, `out.${ext}`);
      writeManifest(f, p);
      const q = await openDataset(f);
      const norm = (x: Project): unknown => allCases(x).map((c) => ({ ...c, images: c.images.map((i) => path.resolve(x.root, i)), label: c.label && path.resolve(x.root, c.label) }));
      assert.deepEqual(norm(q), norm(p));
    }
    const badCsv = path.join(tmp, 'bad.csv');
    fs.writeFileSync(badCsv, `case,image,status\nx,${path.join(SAMPLES, 'promise12_ndaugment', 'Case00.nii.gz')},labelled\n`);
    await assert.rejects(openDataset(badCsv), /bad\.csv: line 2 \(case 'x'\): status 'labelled' but no 'label' file/);
    fs.writeFileSync(badCsv, 'case,image\ny,missing.nii.gz\n');
    await assert.rejects(openDataset(badCsv), /line 2 \(case 'y'\): image .*missing\.nii\.gz does not exist/);
    assert.deepEqual(parseCsv('a,"b,""c"""\r\n1,2\n'), [['a', 'b,"c"'], ['1', '2']]);
  });
});

describe('splits', () => {
  const mk = (id: string, centre = 'A', extra: Partial<Case> = {}): Case => ({ id, centre, images: [`${id}.nii.gz`], label: `${id}_seg.nii.gz`, status: 'labelled', ...extra });

  test('NumpyRandomState reproduces numpy', () => {
    assert.deepEqual(new NumpyRandomState(12345).permutation(17), REF.permutation_12345_17);
  });

  test('k-fold equals sklearn KFold(5, shuffle, 12345) on sorted ids (nnU-Net splits_final.json)', () => {
    const ids = [...REF.kfold13.ids].reverse();
    const s = kFoldSplits(ids.map((id) => mk(id)));
    assert.deepEqual(s.folds, REF.kfold13.folds);
    const s3 = kFoldSplits(Array.from({ length: 7 }, (_, i) => mk(`c${i}`)), { folds: 3, seed: 3 });
    assert.deepEqual(s3.folds.map((f) => f.val), REF.kfold7_seed3.map((f) => f.val.map((i) => `c${i}`)));
  });

  test('stratified by centre, grouped by patient, test held out, unlabelled always trained on', () => {
    const cases: Case[] = [];
    for (const centre of ['H1', 'H2']) for (let p = 0; p < 5; p++) for (const f of [1, 2]) cases.push(mk(`${centre}_p${p}_f${f}`, centre, { patient: `${centre}_p${p}` }));
    cases.push(mk('H1_test', 'H1', { split: 'test' }));
    cases.push({ id: 'H2_unl', centre: 'H2', images: ['u.nii.gz'], status: 'unlabelled' });
    const s = kFoldSplits(cases);
    assert.equal(s.folds.length, 5);
    assert.deepEqual(s.test, ['H1_test']);
    for (const f of s.folds) {
      assert.equal(f.val.length, 4, 'one patient (2 frames) per centre per fold');
      assert.deepEqual(new Set(f.val.map((id) => id.slice(0, 2))), new Set(['H1', 'H2']));
      const valPatients = new Set(f.val.map((id) => id.replace(/_f\d$/, '')));
      assert.ok(f.train.every((id) => !valPatients.has(id.replace(/_f\d$/, ''))), 'no patient straddles train/val');
      assert.ok(f.train.includes('H2_unl'));
    }
    const allVal = s.folds.flatMap((f) => f.val).sort();
    assert.deepEqual(allVal, cases.filter((c) => c.status === 'labelled' && !c.split).map((c) => c.id).sort(), 'every labelled case validated exactly once');
    assert.throws(() => kFoldSplits(cases.filter((c) => c.centre === 'H1').slice(0, 6)), /centre 'H1' has 3 labelled patient\(s\)\/case\(s\), fewer than 5 folds/);
  });

  test('ratio split respects recorded splits; files round-trip; applyFold', async () => {
    const cases = Array.from({ length: 20 }, (_, i) => mk(`c${String(i).padStart(2, '0')}`, i < 10 ? 'A' : 'B'));
    cases[0].split = 'test';
    const s = ratioSplit(cases, { train: 0.6, val: 0.2, test: 0.2, seed: 1 });
    assert.ok(s.test.includes('c00'));
    assert.equal(s.folds[0].train.length + s.folds[0].val.length + s.test.length, 20);
    assert.deepEqual(ratioSplit(cases, { train: 0.6, val: 0.2, test: 0.2, seed: 1 }), s, 'deterministic');
    const file = path.join(tmp, 'splits_final.json');
    saveSplits(file, s);
    const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.deepEqual(Object.keys(raw[0]), ['train', 'val'], 'plain nnU-Net list');
    assert.deepEqual(loadSplits(file), s);
    const p = await openDataset(buildNnunetBrats(path.join(tmp, 'applyfold')));
    const ks = kFoldSplits(p, { folds: 3 });
    applyFold(p, ks, 1);
    assert.deepEqual(allCases(p).filter((c) => c.split === 'val').map((c) => c.id), ks.folds[1].val);
    assert.deepEqual(unknownSplitIds(p, s).sort(), cases.map((c) => c.id), 'the BraTS project knows none of these ids');
    fs.writeFileSync(file, JSON.stringify([{ train: ['a'], val: ['a'] }]));
    assert.throws(() => loadSplits(file), /fold 0 has case\(s\) in both train and val: a/);
  });

  test('labelled subsets: listed (literature) and seeded random, per centre', () => {
    const cases = ['p3_a', 'p3_b', 'p1_a', 'p2_a', 'p2_b', 'p4_a'].map((id) => mk(id, 'A', { patient: id.slice(0, 2) }));
    assert.deepEqual(selectLabelled(cases, { count: 2 }), { labelled: ['p3_a', 'p3_b', 'p1_a'], unlabelled: ['p2_a', 'p2_b', 'p4_a'], chosen: ['p3', 'p1'] });
    const r1 = selectLabelled(cases, { count: 2, order: 'random', seed: 5 });
    assert.deepEqual(selectLabelled(cases, { count: 2, order: 'random', seed: 5 }), r1);
    assert.deepEqual(r1.chosen, new NumpyRandomState(5).shuffle(['p3', 'p1', 'p2', 'p4']).slice(0, 2));
    assert.equal(selectLabelled(cases, { count: 3, unit: 'cases' }).labelled.length, 3);
    assert.throws(() => selectLabelled(cases, { count: 9 }), /asked for 9 patients but the pool has 4 labelled/);
  });
});
