// Writing results back where users look for them:
// - a segmentation as NIfTI in the INPUT's voxel grid (same dims, same
//   affine), undoing any crop, pad, axis permutation or flip done on the way
//   (deduced from the two affines, so no bookkeeping has to survive);
// - BIDS-derivative names and sidecars (derivatives/<pipeline>/sub-XX/...);
// - a whole project as an nnU-Net v2 raw dataset for interchange.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { type Affine, invert4, matmul4 } from '../io/affine.js';
import { writeFileAtomic } from '../io/atomic.js';
import { type NiftiStorage, isNiftiPath, readNiftiHeader, writeNifti } from '../io/nifti.js';
import { type Ornt, applyOrntToData } from '../io/orientation.js';
import { type VoxelArray, Volume } from '../io/volume.js';
import { type Case, type LabelMap, type Project, allCases, casePath, labelValues, loadCase } from './dataset.js';
import { toLabelVolume } from './case-readers.js';
import type { SplitSet } from './splits.js';

// ---------------------------------------------------------------- grid

/** The reference grid a result must land on: dims and affine (a Volume qualifies). */
export interface GridLike {
  dims: readonly number[];
  affine: Affine;
  meta?: Record<string, unknown>;
}

export interface ToReferenceOptions {
  /** Value outside the region the prediction covers (default 0 = background). */
  fill?: number;
  /** Tolerance on the voxel mapping being an integer permutation/shift (default 1e-3 voxel). */
  tolerance?: number;
}

/**
 * Puts `vol` onto `reference`'s voxel grid without interpolation. The map
 * from `vol` voxels to reference voxels (inv(ref.affine) · vol.affine) must
 * be an axis permutation with flips plus an integer shift — what cropping,
 * padding and reorientation produce. Voxels outside the reference grid are
 * dropped; reference voxels not covered get `fill`. A map that scales or
 * rotates (a resampled prediction) is an error: resample first.
 */
export function toReferenceGrid(vol: Volume, reference: GridLike, opts: ToReferenceOptions = {}): Volume {
  const tol = opts.tolerance ?? 1e-3;
  const refDims = [reference.dims[0] ?? 1, reference.dims[1] ?? 1, reference.dims[2] ?? 1];
  const m = matmul4(invert4(reference.affine), vol.affine);
  const ornt: Ornt = [];
  const offset = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    let hit = -1;
    for (let r = 0; r < 3; r++) {
      const v = m[r * 4 + c];
      if (Math.abs(Math.abs(v) - 1) <= tol) {
        if (hit >= 0) hit = -2;
        else hit = r;
      } else if (Math.abs(v) > tol) hit = -2;
      if (hit === -2) break;
    }
    if (hit < 0 || ornt.some(([r]) => r === hit)) {
      throw new Error(`toReferenceGrid: the volume's grid is not a crop/flip/permutation of the reference grid (voxel map column ${c}: [${[0, 1, 2].map((r) => +m[r * 4 + c].toFixed(4)).join(', ')}]); resample it to the reference first`);
    }
    ornt.push([hit, m[hit * 4 + c] > 0 ? 1 : -1]);
  }
  for (let c = 0; c < 3; c++) {
    const [r, s] = ornt[c];
    const t = m[r * 4 + 3];
    if (Math.abs(t - Math.round(t)) > tol) throw new Error(`toReferenceGrid: the volume is shifted by a non-integer ${t.toFixed(4)} voxel(s) along reference axis ${r}; resample it to the reference first`);
    offset[r] = Math.round(t) - (s < 0 ? vol.dims[c] - 1 : 0);
  }
  const identity = ornt.every(([r, s], c) => r === c && s === 1) && offset.every((o) => o === 0) && refDims.every((d, a) => d === vol.dims[a]);
  const meta = { ...vol.meta };
  if (identity) return new Volume({ data: vol.data, dims: refDims, channels: vol.channels, affine: reference.affine, meta });
  const { data: permuted, dims: pd } = applyOrntToData(vol.data, vol.dims, vol.channels, ornt);
  const nRef = refDims[0] * refDims[1] * refDims[2];
  const out = new (vol.data.constructor as new (n: number) => VoxelArray)(nRef * vol.channels);
  const fill = opts.fill ?? 0;
  if (fill !== 0) {
    if (out instanceof BigInt64Array || out instanceof BigUint64Array) out.fill(BigInt(fill));
    else out.fill(fill);
  }
  // Intersection of the permuted block [offset, offset + pd) with [0, refDims).
  const lo = offset.map((o) => Math.max(0, o));
  const hi = offset.map((o, a) => Math.min(refDims[a], o + pd[a]));
  const nPd = pd[0] * pd[1] * pd[2];
  if (hi.every((h, a) => h > lo[a])) {
    for (let ch = 0; ch < vol.channels; ch++) {
      for (let k = lo[2]; k < hi[2]; k++) {
        for (let j = lo[1]; j < hi[1]; j++) {
          const src = ch * nPd + ((k - offset[2]) * pd[1] + (j - offset[1])) * pd[0] + (lo[0] - offset[0]);
          const dst = ch * nRef + (k * refDims[1] + j) * refDims[0] + lo[0];
          out.set(permuted.subarray(src, src + (hi[0] - lo[0])) as never, dst);
        }
      }
    }
  }
  return new Volume({ data: out, dims: refDims, channels: vol.channels, affine: reference.affine, meta });
}

/** Smallest integer NIfTI type holding every value of a label volume. */
export function labelStorage(vol: Volume): NiftiStorage {
  let min = 0;
  let max = 0;
  for (let i = 0; i < vol.data.length; i++) {
    const v = Number(vol.data[i]);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min >= 0 && max <= 255) return 'uint8';
  if (min >= -32768 && max <= 32767) return 'int16';
  return 'int32';
}

export interface WriteSegmentationOptions extends ToReferenceOptions {
  /** Input image whose grid the file must have (recommended); default: the volume's own grid. */
  reference?: GridLike;
  /** Storage type; default the smallest integer type for the values ('float32' for probabilities). */
  datatype?: NiftiStorage;
  descrip?: string;
}

/**
 * Writes a segmentation (or probability map) as NIfTI, atomically, in the
 * reference's grid with the reference's qform/sform codes.
 */
export function writeSegmentation(file: string, vol: Volume, opts: WriteSegmentationOptions = {}): Volume {
  const out = opts.reference ? toReferenceGrid(vol, opts.reference, opts) : vol;
  const isFloat = out.voxelType === 'float32' || out.voxelType === 'float64';
  const datatype = opts.datatype ?? (isFloat ? 'float32' : labelStorage(out));
  // Header codes follow the reference; nothing else of a source image's header
  // (scaling, 4D dims, extensions) may leak into a label file.
  const refNifti = ((opts.reference ?? vol).meta?.nifti ?? {}) as { qformCode?: number; sformCode?: number };
  const clean = new Volume({ data: out.data, dims: out.dims, channels: out.channels, affine: out.affine, meta: {} });
  writeNifti(file, clean, { datatype, qformCode: refNifti.qformCode || undefined, sformCode: refNifti.sformCode || undefined, descrip: opts.descrip ?? 'labelwise' });
  return out;
}

// ---------------------------------------------------------------- BIDS

export interface BidsEntities {
  sub: string;
  ses?: string;
  [entity: string]: string | undefined;
}

/** BIDS entity order in file names (the spec's entity table, the ones used for derivatives). */
const ENTITY_ORDER = ['sub', 'ses', 'sample', 'task', 'acq', 'ce', 'trc', 'stain', 'rec', 'dir', 'run', 'mod', 'echo', 'flip', 'inv', 'mt', 'part', 'chunk', 'hemi', 'space', 'res', 'den', 'label', 'seg', 'desc'];

/** Entities and suffix of a BIDS file name: "sub-01_ses-2_T2w.nii.gz" → {sub: '01', ses: '2'}, 'T2w'. */
export function parseBidsName(file: string): { entities: BidsEntities; suffix?: string; extension: string } {
  const base = path.basename(file);
  const dot = base.indexOf('.');
  const stem = dot >= 0 ? base.slice(0, dot) : base;
  const extension = dot >= 0 ? base.slice(dot) : '';
  const parts = stem.split('_');
  const entities: Record<string, string> = {};
  let suffix: string | undefined;
  parts.forEach((p, i) => {
    const m = /^([a-zA-Z]+)-([a-zA-Z0-9]+)$/.exec(p);
    if (m) entities[m[1]] = m[2];
    else if (i === parts.length - 1) suffix = p;
    else throw new Error(`${file}: '${p}' is not a BIDS key-value entity (expected key-value, e.g. sub-01)`);
  });
  if (!entities.sub) throw new Error(`${file}: a BIDS file name starts with sub-<label>`);
  return { entities: entities as BidsEntities, suffix, extension };
}

export interface BidsDerivativeNameOptions {
  /** BIDS root; files go to <root>/derivatives/<pipeline>/. */
  root: string;
  pipeline: string;
  entities: BidsEntities;
  /** 'dseg' (discrete labels), 'probseg' (probabilities), 'mask' (binary). */
  kind?: 'dseg' | 'probseg' | 'mask';
  /** Source modality kept before the kind, e.g. 'T2w' → sub-01_T2w_dseg.nii.gz. */
  sourceSuffix?: string;
  datatype?: string;
  extension?: string;
}

const safeLabel = (v: string, what: string): string => {
  if (!/^[a-zA-Z0-9]+$/.test(v)) throw new Error(`BIDS ${what} must be alphanumeric, got '${v}'`);
  return v;
};

/** derivatives/<pipeline>/sub-XX/[ses-YY/]<datatype>/sub-XX[_ses-YY][_...][_<sourceSuffix>]_<kind>.nii.gz */
export function bidsDerivativePath(o: BidsDerivativeNameOptions): string {
  const e = o.entities;
  const keys = Object.keys(e).filter((k) => e[k] !== undefined);
  const ordered = [...ENTITY_ORDER.filter((k) => keys.includes(k)), ...keys.filter((k) => !ENTITY_ORDER.includes(k)).sort()];
  const name = [...ordered.map((k) => `${safeLabel(k, 'entity key')}-${safeLabel(e[k] as string, `entity '${k}'`)}`), ...(o.sourceSuffix ? [safeLabel(o.sourceSuffix, 'suffix')] : []), o.kind ?? 'dseg'].join('_');
  const dir = path.join(o.root, 'derivatives', o.pipeline, `sub-${e.sub}`, ...(e.ses ? [`ses-${e.ses}`] : []), o.datatype ?? 'anat');
  return path.join(dir, name + (o.extension ?? '.nii.gz'));
}

export interface WriteBidsDerivativeOptions extends Omit<BidsDerivativeNameOptions, 'entities'> {
  /** Entities, or a BIDS source file to take them (and, with sourceSuffix: true, its suffix) from. */
  source: BidsEntities | string;
  /** true: keep the source file's suffix (T2w) in the name; a string: use it. */
  sourceSuffix?: string;
  keepSourceSuffix?: boolean;
  volume: Volume;
  reference?: GridLike;
  /** value → name, written as the dseg.tsv look-up table. */
  labels?: LabelMap;
  description?: string;
  pipelineVersion?: string;
}

/**
 * Writes a BIDS derivative: the image, its JSON sidecar, a dseg.tsv look-up
 * table for discrete segmentations, and the pipeline's
 * dataset_description.json (created once).
 */
export function writeBidsDerivative(o: WriteBidsDerivativeOptions): { image: string; sidecar: string; lookup?: string } {
  const src = typeof o.source === 'string' ? parseBidsName(o.source) : { entities: o.source, suffix: undefined };
  const sourceSuffix = o.sourceSuffix ?? (o.keepSourceSuffix ? src.suffix : undefined);
  const image = bidsDerivativePath({ ...o, entities: src.entities, sourceSuffix });
  const pipeDir = path.join(o.root, 'derivatives', o.pipeline);
  const descFile = path.join(pipeDir, 'dataset_description.json');
  if (!fs.existsSync(descFile)) {
    writeFileAtomic(descFile, JSON.stringify({
      Name: o.pipeline, BIDSVersion: '1.9.0', DatasetType: 'derivative',
      GeneratedBy: [{ Name: 'labelwise', Version: o.pipelineVersion ?? '0.1.0', Description: o.description ?? `${o.pipeline} segmentations` }],
    }, null, 2) + '\n');
  }
  const kind = o.kind ?? 'dseg';
  // Discrete results are checked to be integral and stored as integers, whatever type the network produced.
  const vol = kind === 'probseg' ? o.volume : toLabelVolume(o.volume, image);
  writeSegmentation(image, vol, { reference: o.reference, datatype: kind === 'probseg' ? 'float32' : undefined });
  const stem = image.replace(/\.nii(\.gz)?$/, '');
  const sidecar = `${stem}.json`;
  // BIDS URIs are relative to the dataset root; a source elsewhere is recorded by its path.
  const relSource = typeof o.source === 'string' ? path.relative(path.resolve(o.root), path.resolve(o.source)) : undefined;
  const sources = relSource === undefined ? undefined : [relSource.startsWith('..') || path.isAbsolute(relSource) ? path.resolve(o.source as string) : `bids::${relSource.split(path.sep).join('/')}`];
  writeFileAtomic(sidecar, JSON.stringify({ ...(o.description ? { Description: o.description } : {}), ...(sources ? { Sources: sources } : {}), Manual: false }, null, 2) + '\n');
  let lookup: string | undefined;
  if (kind === 'dseg' && o.labels) {
    lookup = `${stem}.tsv`;
    const rows = Object.entries(o.labels).filter(([, v]) => !Array.isArray(v)).sort((a, b) => (a[1] as number) - (b[1] as number));
    writeFileAtomic(lookup, ['index\tname', ...rows.map(([n, v]) => `${String(v)}\t${n}`)].join('\n') + '\n');
  }
  return { image, sidecar, ...(lookup ? { lookup } : {}) };
}

// ---------------------------------------------------------------- nnU-Net

export interface ExportNnunetOptions {
  /** How source NIfTI files that need no conversion reach the new folder (default 'copy'). */
  mode?: 'copy' | 'symlink' | 'hardlink';
  /** Cases that are neither labelled nor test: skipped (default) or put in imagesTs. */
  unlabelled?: 'skip' | 'imagesTs';
  /** Written as splits_final.json when given. */
  splits?: SplitSet;
  name?: string;
  description?: string;
}

export interface ExportNnunetResult {
  datasetJson: string;
  numTraining: number;
  numTest: number;
  skipped: string[];
  /** Project case id → nnU-Net case id (differs when the id had '/' or other unsafe characters). */
  idMap: Record<string, string>;
  /** Original label value → exported value, when labels had to be made consecutive. */
  labelRemap?: Record<string, number>;
}

/** nnU-Net's folder name: Dataset004_Hippocampus. */
export function nnunetDatasetName(id: number, name: string): string {
  if (!Number.isInteger(id) || id < 1 || id > 999) throw new Error(`nnU-Net dataset id must be an integer in 1..999, got ${id}`);
  return `Dataset${String(id).padStart(3, '0')}_${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

function safeId(id: string): string {
  return id.replace(/[^A-Za-z0-9_.-]/g, '_');
}

function placeFile(src: string, dst: string, mode: ExportNnunetOptions['mode']): void {
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  const tmp = `${dst}.tmp-${process.pid}-${crypto.randomBytes(6).toString('hex')}`;
  try {
    if (mode === 'symlink') fs.symlinkSync(path.resolve(src), tmp);
    else if (mode === 'hardlink') {
      try { fs.linkSync(src, tmp); } catch { fs.copyFileSync(src, tmp); }
    } else fs.copyFileSync(src, tmp);
    fs.renameSync(tmp, dst);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Single-channel .nii.gz files can be placed as they are. */
function singleChannelNiftiGz(file: string): boolean {
  if (!file.toLowerCase().endsWith('.nii.gz') || !isNiftiPath(file)) return false;
  const h = readNiftiHeader(file);
  return h.shape.slice(3).every((n) => n === 1) && h.datatype !== 'RGB24' && h.datatype !== 'RGBA32';
}

/**
 * Writes `project` as an nnU-Net v2 raw dataset in `outDir` (use
 * nnunetDatasetName for the folder name): labelled cases → imagesTr/
 * labelsTr, test cases → imagesTs (+ labelsTs when labelled), one file per
 * channel. Single-channel .nii.gz sources are copied (or linked) byte for
 * byte; anything else (4D, HDF5, 2D, encoded masks) is read and written as
 * NIfTI. Labels are renumbered to consecutive values when they are not
 * (nnU-Net requires 0..N). Centres and patients go into dataset.json's
 * `labelwise` key, which openNnunetDataset reads back.
 */
export async function exportNnunetDataset(project: Project, outDir: string, opts: ExportNnunetOptions = {}): Promise<ExportNnunetResult> {
  const mode = opts.mode ?? 'copy';
  const values = labelValues(project.labels);
  const consecutive = values.every((v, i) => v === i);
  const remap = new Map<number, number>();
  let labels: LabelMap = project.labels;
  if (!consecutive) {
    values.forEach((v, i) => remap.set(v, i));
    labels = Object.fromEntries(Object.entries(project.labels).map(([n, v]) => [n, Array.isArray(v) ? v.map((x) => remap.get(x) as number) : (remap.get(v) as number)]));
  }
  const idMap: Record<string, string> = {};
  const used = new Map<string, string>();
  const centres: Record<string, string> = {};
  const patients: Record<string, string> = {};
  const skipped: string[] = [];
  let numTraining = 0;
  let numTest = 0;
  let nChannels = project.channelNames.length;
  for (const c of allCases(project)) {
    const isTest = c.split === 'test';
    const labelled = c.status === 'labelled';
    if (!isTest && !labelled && (opts.unlabelled ?? 'skip') === 'skip') { skipped.push(c.id); continue; }
    const id = safeId(c.id);
    const clash = used.get(id);
    if (clash) throw new Error(`exportNnunetDataset: case ids '${clash}' and '${c.id}' both become '${id}' in file names`);
    used.set(id, c.id);
    idMap[c.id] = id;
    centres[id] = c.centre;
    if (c.patient) patients[id] = c.patient;
    const imgDir = path.join(outDir, isTest || !labelled ? 'imagesTs' : 'imagesTr');
    const labDir = path.join(outDir, isTest ? 'labelsTs' : 'labelsTr');
    const chFile = (ch: number): string => path.join(imgDir, `${id}_${String(ch).padStart(4, '0')}.nii.gz`);
    const files = c.images.map((p) => casePath(project, p));
    const canPlaceImages = !c.loader && files.every(singleChannelNiftiGz);
    const labelFile = c.label && !c.loader ? casePath(project, c.label) : undefined;
    const canPlaceLabel = !!labelFile && consecutive && !c.labelEncoding && singleChannelNiftiGz(labelFile);
    let loaded: Awaited<ReturnType<typeof loadCase>> | undefined;
    if (!canPlaceImages || (labelled && !canPlaceLabel)) loaded = await loadCase(project, c, { skipLabel: !labelled });
    if (canPlaceImages) files.forEach((f, ch) => placeFile(f, chFile(ch), mode));
    else {
      const img = (loaded as NonNullable<typeof loaded>).image;
      for (let ch = 0; ch < img.channels; ch++) {
        const one = img.channel(ch);
        // A fresh header: the source's 4D dims or scaling must not describe a single channel.
        writeNifti(chFile(ch), new Volume({ data: one.data, dims: one.dims, affine: one.affine, meta: {} }));
      }
    }
    const count = canPlaceImages ? files.length : (loaded as NonNullable<typeof loaded>).image.channels;
    if (nChannels === 0) nChannels = count;
    else if (count !== nChannels) throw new Error(`exportNnunetDataset: case '${c.id}' has ${count} channel(s), expected ${nChannels}`);
    if (labelled) {
      const dst = path.join(labDir, `${id}.nii.gz`);
      if (canPlaceLabel) placeFile(labelFile as string, dst, mode);
      else {
        let lab = (loaded as NonNullable<typeof loaded>).label as Volume;
        if (!consecutive) lab = remapLabel(lab, remap, c);
        writeSegmentation(dst, lab, { reference: (loaded as NonNullable<typeof loaded>).image });
      }
    }
    if (isTest || !labelled) numTest++;
    else numTraining++;
  }
  if (numTraining === 0) throw new Error(`exportNnunetDataset: project '${project.name}' has no labelled training case to export`);
  const channelNames = project.channelNames.length ? project.channelNames : Array.from({ length: nChannels }, (_, i) => `channel${i}`);
  const json: Record<string, unknown> = {
    name: opts.name ?? project.name,
    ...(opts.description ?? project.description ? { description: opts.description ?? project.description } : {}),
    channel_names: Object.fromEntries(channelNames.map((n, i) => [String(i), n])),
    labels,
    ...(project.regionClassOrder ? { regions_class_order: project.regionClassOrder.map((v) => remap.get(v) ?? v) } : {}),
    numTraining,
    file_ending: '.nii.gz',
    labelwise: { centres, patients, sourceLayout: project.layout, ...(consecutive ? {} : { labelRemap: Object.fromEntries(remap) }) },
  };
  const datasetJson = path.join(outDir, 'dataset.json');
  writeFileAtomic(datasetJson, JSON.stringify(json, null, 2) + '\n');
  if (opts.splits) {
    const map = (ids: string[]): string[] => ids.filter((i) => idMap[i]).map((i) => idMap[i]);
    writeFileAtomic(path.join(outDir, 'splits_final.json'), JSON.stringify(opts.splits.folds.map((f) => ({ train: map(f.train), val: map(f.val) })), null, 2) + '\n');
  }
  return { datasetJson, numTraining, numTest, skipped, idMap, ...(consecutive ? {} : { labelRemap: Object.fromEntries([...remap].map(([k, v]) => [String(k), v])) }) };
}

function remapLabel(lab: Volume, remap: Map<number, number>, c: Case): Volume {
  const out = new Int32Array(lab.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = Number(lab.data[i]);
    const r = remap.get(v);
    if (r === undefined) throw new Error(`exportNnunetDataset: case '${c.id}' has label value ${v} that the project's labels do not declare`);
    out[i] = r;
  }
  return toLabelVolume(lab.withData(out), c.id);
}
