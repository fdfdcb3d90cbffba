// nnU-Net v2 raw datasets: DatasetXXX_Name/{dataset.json, imagesTr/,
// labelsTr/, imagesTs/[, labelsTs/]}, images `<case>_<XXXX><file_ending>`
// (one file per channel), labels `<case><file_ending>`.
//
// Also read: dataset.json's optional `dataset` key (explicit per-case file
// lists, nnU-Net's alternative to the folder convention) and our own
// optional `labelwise` key ({centres: {case: centre}, patients: {case:
// patient}}) that exportNnunetDataset writes, so centres survive a round
// trip through the nnU-Net layout.
import path from 'node:path';
import { type Case, type Project, inferStatus, makeProject, validateLabelMap } from '../dataset.js';
import { type OpenDatasetOptions, applyPatterns, isDir, isFile, listFiles, readJsonFile, rel } from './common.js';

interface ParsedName { caseId: string; channel: number }

function parseImageName(name: string, ending: string): ParsedName | undefined {
  if (!name.endsWith(ending)) return undefined;
  const stem = name.slice(0, name.length - ending.length);
  const m = /^(.+)_(\d{4})$/.exec(stem);
  if (!m) return undefined;
  return { caseId: m[1], channel: Number(m[2]) };
}

/** `channel_names` (v2) or `modality` (v1): {"0": "FLAIR", "1": "T1c"} → ordered list. */
export function parseChannelNames(raw: unknown, where: string): string[] {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${where}: expected an object mapping channel indices to names, e.g. {"0": "CT"}`);
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0) throw new Error(`${where}: needs at least one channel, e.g. {"0": "CT"}`);
  const names: string[] = new Array<string>(entries.length);
  for (const [k, v] of entries) {
    const idx = Number(k);
    if (!/^\d+$/.test(k) || idx >= entries.length) throw new Error(`${where}: keys must be the channel indices 0..${entries.length - 1}, got "${k}"`);
    if (typeof v !== 'string' || !v) throw new Error(`${where}: channel "${k}" needs a non-empty name, got ${JSON.stringify(v)}`);
    names[idx] = v;
  }
  return names;
}

function scanImages(dir: string, ending: string, nChannels: number, where: string): Map<string, string[]> {
  const cases = new Map<string, string[]>();
  const otherEnding: string[] = [];
  for (const name of listFiles(dir)) {
    const p = parseImageName(name, ending);
    if (!p) {
      if (name.endsWith(ending)) {
        throw new Error(`${path.join(dir, name)}: image file names must end with _XXXX${ending} (a 4-digit channel index), e.g. ${name.slice(0, -ending.length)}_0000${ending}`);
      }
      otherEnding.push(name);
      continue;
    }
    if (p.channel >= nChannels) throw new Error(`${path.join(dir, name)}: channel index ${p.channel} but ${where} declares ${nChannels} channel(s) in 'channel_names'`);
    let files = cases.get(p.caseId);
    if (!files) cases.set(p.caseId, (files = new Array<string>(nChannels)));
    files[p.channel] = path.join(dir, name);
  }
  for (const [id, files] of cases) {
    for (let c = 0; c < nChannels; c++) {
      if (!files[c]) throw new Error(`${dir}: case '${id}' is missing channel ${c}: expected ${path.join(dir, `${id}_${String(c).padStart(4, '0')}${ending}`)}`);
    }
  }
  if (cases.size === 0 && otherEnding.length > 0) {
    throw new Error(`${dir}: no file ends with file_ending '${ending}' from ${where} (found e.g. ${otherEnding.slice(0, 3).join(', ')})`);
  }
  return cases;
}

export function openNnunetDataset(root: string, opts: OpenDatasetOptions = {}): Project {
  const jsonPath = path.join(root, 'dataset.json');
  const json = readJsonFile(jsonPath) as Record<string, unknown>;
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${jsonPath}: expected a JSON object`);
  const channelRaw = json.channel_names ?? json.modality;
  if (channelRaw === undefined) throw new Error(`${jsonPath}: missing 'channel_names' (e.g. {"0": "CT"})`);
  const channelNames = parseChannelNames(channelRaw, `${jsonPath} 'channel_names'`);
  if (json.labels === undefined) throw new Error(`${jsonPath}: missing 'labels' (e.g. {"background": 0, "tumour": 1})`);
  const labels = validateLabelMap(json.labels, `${jsonPath}`);
  const ending = json.file_ending;
  if (typeof ending !== 'string' || !ending.startsWith('.')) throw new Error(`${jsonPath}: 'file_ending' must be a string like ".nii.gz", got ${JSON.stringify(ending)}`);
  const numTraining = json.numTraining;
  if (typeof numTraining !== 'number' || !Number.isInteger(numTraining) || numTraining < 0) throw new Error(`${jsonPath}: 'numTraining' must be a non-negative integer, got ${JSON.stringify(numTraining)}`);
  let regionClassOrder: number[] | undefined;
  if (Object.values(labels).some((v) => Array.isArray(v))) {
    const rco = json.regions_class_order;
    if (!Array.isArray(rco) || rco.some((v) => typeof v !== 'number')) throw new Error(`${jsonPath}: region-based 'labels' need 'regions_class_order' (a list of integers, one per region)`);
    regionClassOrder = rco as number[];
  }
  const name = opts.name ?? (typeof json.name === 'string' && json.name ? json.name : path.basename(path.resolve(root)));
  const centre = opts.centre ?? name;
  const lw = (json.labelwise ?? {}) as { centres?: Record<string, string>; patients?: Record<string, string> };
  const cases: Case[] = [];

  if (json.dataset !== undefined) {
    // nnU-Net's explicit form: {"case": {"images": [...], "label": "..."}}, paths relative to the dataset folder.
    const ds = json.dataset as Record<string, { images?: unknown; label?: unknown }>;
    if (!ds || typeof ds !== 'object') throw new Error(`${jsonPath}: 'dataset' must map case ids to {"images": [...], "label": "..."}`);
    for (const [id, entry] of Object.entries(ds)) {
      const imgs = entry?.images;
      if (!Array.isArray(imgs) || imgs.length !== channelNames.length || imgs.some((p) => typeof p !== 'string')) {
        throw new Error(`${jsonPath}: dataset['${id}'].images must list ${channelNames.length} file(s), one per channel`);
      }
      const images = (imgs as string[]).map((p) => path.resolve(root, p));
      for (const f of images) if (!isFile(f)) throw new Error(`${jsonPath}: dataset['${id}'] image ${f} does not exist`);
      if (typeof entry.label !== 'string') throw new Error(`${jsonPath}: dataset['${id}'].label must be a path`);
      const label = path.resolve(root, entry.label);
      if (!isFile(label)) throw new Error(`${jsonPath}: dataset['${id}'] label ${label} does not exist`);
      cases.push({ id, centre, images: images.map((p) => rel(root, p)), label: rel(root, label), status: 'labelled' });
    }
  } else {
    const imagesTr = path.join(root, 'imagesTr');
    const labelsTr = path.join(root, 'labelsTr');
    if (!isDir(imagesTr)) throw new Error(`${root}: nnU-Net dataset has no imagesTr/ folder`);
    const tr = scanImages(imagesTr, ending, channelNames.length, jsonPath);
    const labelFiles = isDir(labelsTr) ? listFiles(labelsTr).filter((n) => n.endsWith(ending)) : [];
    const labelIds = new Set(labelFiles.map((n) => n.slice(0, -ending.length)));
    for (const id of [...tr.keys()].sort()) {
      if (!labelIds.has(id)) throw new Error(`${root}: label missing for training case '${id}': expected ${path.join(labelsTr, id + ending)}`);
      cases.push({ id, centre, images: (tr.get(id) as string[]).map((p) => rel(root, p)), label: rel(root, path.join(labelsTr, id + ending)), status: 'labelled' });
    }
    const orphans = [...labelIds].filter((id) => !tr.has(id));
    if (orphans.length) throw new Error(`${labelsTr}: label(s) without images in imagesTr: ${orphans.slice(0, 5).map((id) => id + ending).join(', ')}${orphans.length > 5 ? ', ...' : ''} (expected e.g. ${path.join(imagesTr, `${orphans[0]}_0000${ending}`)})`);
    const imagesTs = path.join(root, 'imagesTs');
    if (isDir(imagesTs)) {
      const ts = scanImages(imagesTs, ending, channelNames.length, jsonPath);
      const labelsTs = path.join(root, 'labelsTs');
      for (const id of [...ts.keys()].sort()) {
        if (tr.has(id)) throw new Error(`${imagesTs}: case '${id}' also exists in imagesTr (case ids must be unique)`);
        const lab = path.join(labelsTs, id + ending);
        const c: Case = { id, centre, images: (ts.get(id) as string[]).map((p) => rel(root, p)), status: 'unlabelled', split: 'test' };
        if (isFile(lab)) c.label = rel(root, lab);
        c.status = inferStatus(c);
        cases.push(c);
      }
    }
  }
  const nTrain = cases.filter((c) => c.split !== 'test').length;
  if (nTrain !== numTraining) throw new Error(`${jsonPath}: 'numTraining' is ${numTraining} but ${nTrain} training case(s) were found in ${json.dataset !== undefined ? "'dataset'" : 'imagesTr/'}`);
  applyPatterns(cases, opts);
  for (const c of cases) {
    if (lw.centres?.[c.id] && opts.centrePattern === undefined && opts.centre === undefined) c.centre = lw.centres[c.id];
    if (lw.patients?.[c.id] && opts.patientPattern === undefined) c.patient = lw.patients[c.id];
  }
  const project = makeProject({ name, root: path.resolve(root), layout: 'nnunet', channelNames, labels, fileEnding: ending, cases, meta: { datasetJson: jsonPath } });
  if (regionClassOrder) project.regionClassOrder = regionClassOrder;
  if (typeof json.description === 'string') project.description = json.description;
  return project;
}
