// Medical Segmentation Decathlon (and nnU-Net v1 raw) datasets:
// TaskXX_Name/{dataset.json, imagesTr/, labelsTr/, imagesTs/} where
// dataset.json lists `training: [{image, label}]` and `test: [image]`,
// `modality` maps channel index → name, `labels` maps value → name (the
// reverse of nnU-Net v2), and multi-modal images are single 4D NIfTI files.
//
// nnU-Net v1 wrote the same dataset.json but split channels into
// `<case>_XXXX.nii.gz` files while still listing `<case>.nii.gz`; when a
// listed image is absent and its `_0000` sibling exists we read that form.
import path from 'node:path';
import { type Case, type LabelMap, type Project, makeProject, validateLabelMap } from '../dataset.js';
import { type OpenDatasetOptions, applyPatterns, isFile, readJsonFile, rel, stripImageExt } from './common.js';
import { parseChannelNames } from './nnunet.js';

/** MSD `labels` ({"0": "background", "1": "tumour"}) → nnU-Net form ({"background": 0, "tumour": 1}). */
export function msdLabelsToMap(raw: unknown, where: string): LabelMap {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${where}: 'labels' must map values to names, e.g. {"0": "background", "1": "tumour"}`);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!/^\d+$/.test(k)) throw new Error(`${where}: 'labels' keys must be integer values as strings ("0", "1", ...), got "${k}"`);
    if (typeof v !== 'string' || !v) throw new Error(`${where}: label ${k} needs a non-empty name, got ${JSON.stringify(v)}`);
    if (out[v] !== undefined) throw new Error(`${where}: label name '${v}' is used for both ${out[v]} and ${k}`);
    out[v] = Number(k);
  }
  // MSD names value 0 anything ("background", "bg"); nnU-Net needs it called background.
  const zero = Object.entries(out).find(([, v]) => v === 0);
  if (zero && zero[0] !== 'background') {
    delete out[zero[0]];
    out.background = 0;
  }
  return validateLabelMap(out, where);
}

/** Resolves a listed image to its channel files: the file itself, or v1's `_XXXX` files. */
function resolveImages(root: string, listed: string, nChannels: number, where: string): string[] {
  const p = path.resolve(root, listed);
  if (isFile(p)) return [p];
  const m = /(\.nii\.gz|\.nii)$/i.exec(p);
  const stem = m ? p.slice(0, m.index) : p;
  const ext = m ? m[0] : '';
  const first = `${stem}_0000${ext}`;
  if (isFile(first)) {
    const files: string[] = [];
    for (let c = 0; c < nChannels; c++) {
      const f = `${stem}_${String(c).padStart(4, '0')}${ext}`;
      if (!isFile(f)) throw new Error(`${where}: channel ${c} of ${listed} missing: expected ${f}`);
      files.push(f);
    }
    return files;
  }
  throw new Error(`${where}: image ${listed} does not exist (looked for ${p} and ${first})`);
}

export function openMsdDataset(root: string, opts: OpenDatasetOptions = {}): Project {
  const jsonPath = path.join(root, 'dataset.json');
  const json = readJsonFile(jsonPath) as Record<string, unknown>;
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${jsonPath}: expected a JSON object`);
  if (json.modality === undefined) throw new Error(`${jsonPath}: missing 'modality' (e.g. {"0": "CT"})`);
  const channelNames = parseChannelNames(json.modality, `${jsonPath} 'modality'`);
  if (json.labels === undefined) throw new Error(`${jsonPath}: missing 'labels' (e.g. {"0": "background", "1": "tumour"})`);
  const labels = msdLabelsToMap(json.labels, jsonPath);
  if (!Array.isArray(json.training)) throw new Error(`${jsonPath}: 'training' must be a list of {"image": ..., "label": ...}`);
  const name = opts.name ?? (typeof json.name === 'string' && json.name ? json.name : path.basename(path.resolve(root)));
  const centre = opts.centre ?? name;
  const cases: Case[] = [];
  const seen = new Set<string>();
  json.training.forEach((e: unknown, i: number) => {
    const where = `${jsonPath} training[${i}]`;
    const o = e as Record<string, unknown>;
    if (!o || typeof o.image !== 'string') throw new Error(`${where}: 'image' must be a path, got ${JSON.stringify(o?.image)}`);
    if (typeof o.label !== 'string') throw new Error(`${where}: 'label' must be a path (training cases need labels), got ${JSON.stringify(o.label)}`);
    const images = resolveImages(root, o.image, channelNames.length, where);
    const label = path.resolve(root, o.label);
    if (!isFile(label)) throw new Error(`${where}: label ${o.label} does not exist (${label})`);
    const id = stripImageExt(path.basename(o.image));
    if (seen.has(id)) throw new Error(`${where}: case '${id}' listed twice`);
    seen.add(id);
    cases.push({ id, centre, images: images.map((p) => rel(root, p)), label: rel(root, label), status: 'labelled' });
  });
  const test = json.test ?? [];
  if (!Array.isArray(test)) throw new Error(`${jsonPath}: 'test' must be a list of image paths`);
  test.forEach((e: unknown, i: number) => {
    const where = `${jsonPath} test[${i}]`;
    // Some derived datasets list test cases as {"image": ...}.
    const img = typeof e === 'string' ? e : (e as Record<string, unknown>)?.image;
    if (typeof img !== 'string') throw new Error(`${where}: expected an image path, got ${JSON.stringify(e)}`);
    const images = resolveImages(root, img, channelNames.length, where);
    const id = stripImageExt(path.basename(img));
    if (seen.has(id)) throw new Error(`${where}: case '${id}' also listed in 'training' (ids must be unique)`);
    seen.add(id);
    const c: Case = { id, centre, images: images.map((p) => rel(root, p)), status: 'unlabelled', split: 'test' };
    const lab = typeof e === 'object' && e ? (e as Record<string, unknown>).label : undefined;
    if (typeof lab === 'string') {
      const lp = path.resolve(root, lab);
      if (!isFile(lp)) throw new Error(`${where}: label ${lab} does not exist (${lp})`);
      c.label = rel(root, lp);
      c.status = 'labelled';
    }
    cases.push(c);
  });
  if (typeof json.numTraining === 'number' && json.numTraining !== json.training.length) {
    throw new Error(`${jsonPath}: 'numTraining' is ${json.numTraining} but 'training' lists ${json.training.length} case(s)`);
  }
  applyPatterns(cases, opts);
  const project = makeProject({ name, root: path.resolve(root), layout: 'msd', channelNames, labels, fileEnding: '.nii.gz', cases, meta: { datasetJson: jsonPath } });
  if (typeof json.description === 'string') project.description = json.description;
  return project;
}
