// The multi-centre dataset model: a Project holds Centres (hospitals, sites,
// scanners, domains), each holding Cases. A case lists where its data lives;
// nothing is read until `loadCase`, so a project of thousands of cases opens
// instantly and can be written to JSON next to an experiment.
import fs from 'node:fs';
import path from 'node:path';
import type { Vec3 } from '../io/affine.js';
import { type MaskEncoding, parseMaskEncoding } from '../io/mask-encoding.js';
import { writeFileAtomic } from '../io/atomic.js';
import { type VoxelArray, Volume } from '../io/volume.js';
import { DEFAULT_GEOMETRY_TOLERANCE, GeometryMismatchError, type GeometryTolerance, describeDifferences, geometryDifferences } from './geometry.js';
import { readCaseImage, readCaseLabel, readCasePointsMap, readLoaderCase } from './case-readers.js';

export type CaseStatus = 'labelled' | 'points' | 'unlabelled';
export const CASE_STATUSES: readonly CaseStatus[] = ['labelled', 'points', 'unlabelled'];
export type SplitName = 'train' | 'val' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

/** How a project was found on disk ('memory': built in code). */
export type DatasetLayout = 'nnunet' | 'msd' | 'h5-acdc' | 'h5-la' | 'h5-stdr' | 'image2d' | 'manifest' | 'memory';
const LAYOUTS: readonly DatasetLayout[] = ['nnunet', 'msd', 'h5-acdc', 'h5-la', 'h5-stdr', 'image2d', 'manifest', 'memory'];

/** One click/point annotation. At least one of `ijk` / `xyz` is set. */
export interface PointAnnotation {
  /** Label value of the class the point marks (0 = background). */
  class: number;
  /** Voxel index (i, j, k) in the case's image grid (NIfTI order, like Volume). */
  ijk?: Vec3;
  /** World position (x, y, z) in RAS millimetres. */
  xyz?: Vec3;
}

/**
 * A case whose data sits inside a container a plain image reader cannot
 * address (an HDF5 file of the seeds' layouts): `images[0]` is the file and
 * the layout says which datasets hold image, label and spacing.
 */
export interface CaseLoaderRef {
  kind: 'h5';
  layout: 'acdc' | 'la' | 'stdr';
}

export interface Case {
  /** Unique within the project; used in splits, results and file names. */
  id: string;
  centre: string;
  /** Patient the case belongs to (several frames/slices of one patient must not straddle a split). */
  patient?: string;
  /**
   * Image files, one per channel in `Project.channelNames` order. A file may
   * hold several channels (a 4D MSD NIfTI, an RGB PNG); channels are stacked
   * in file order. Relative paths resolve against `Project.root`.
   */
  images: string[];
  label?: string;
  /** Mask encoding (a MASK_ENCODINGS name or an encoding object, see io/mask-encoding) for label files that are not class maps (2D PNG/JPEG masks). */
  labelEncoding?: string | MaskEncoding;
  points?: PointAnnotation[];
  /** A volume of point annotations on the image grid: 0 = none, value v = a point of class v - 1 (PA-Seg's convention). */
  pointsMap?: string;
  /** Voxel size (i, j, k) in mm when known without loading. */
  spacing?: Vec3;
  status: CaseStatus;
  split?: SplitName;
  loader?: CaseLoaderRef;
  meta?: Record<string, unknown>;
}

export interface Centre {
  id: string;
  cases: Case[];
  meta?: Record<string, unknown>;
}

/** A non-fatal problem found while opening or checking a dataset. */
export interface DatasetProblem {
  severity: 'error' | 'warning';
  /** Stable machine-readable code, e.g. 'shape-mismatch', 'unpaired-image'. */
  code: string;
  message: string;
  case?: string;
  centre?: string;
  file?: string;
}

/**
 * nnU-Net's `labels`: name → value, or name → list of values for a region
 * (region-based training, e.g. BraTS "whole tumour": [1, 2, 3]).
 */
export type LabelMap = Record<string, number | number[]>;

export interface Project {
  name: string;
  /** Directory relative case paths resolve against. */
  root: string;
  layout: DatasetLayout;
  description?: string;
  /** Channel names in stacking order (nnU-Net `channel_names`, MSD `modality`). */
  channelNames: string[];
  labels: LabelMap;
  /** nnU-Net `regions_class_order` for region-based label maps. */
  regionClassOrder?: number[];
  /** File ending of the source images (nnU-Net `file_ending`). */
  fileEnding?: string;
  centres: Centre[];
  problems: DatasetProblem[];
  meta: Record<string, unknown>;
}

// ---------------------------------------------------------------- accessors

export function allCases(project: Project): Case[] {
  return project.centres.flatMap((c) => c.cases);
}

export function findCase(project: Project, id: string): Case {
  for (const c of project.centres) for (const k of c.cases) if (k.id === id) return k;
  throw new Error(`project '${project.name}': no case '${id}'`);
}

export function casePath(project: Project, p: string): string {
  return path.isAbsolute(p) ? p : path.join(project.root, p);
}

export function isRegionBased(labels: LabelMap): boolean {
  return Object.values(labels).some((v) => Array.isArray(v));
}

/** Every integer value a label file may contain (regions contribute their members). */
export function labelValues(labels: LabelMap): number[] {
  const s = new Set<number>();
  for (const v of Object.values(labels)) for (const x of Array.isArray(v) ? v : [v]) s.add(x);
  return [...s].sort((a, b) => a - b);
}

/** value → name for plain (non-region) labels. */
export function labelNames(labels: LabelMap): Map<number, string> {
  const m = new Map<number, string>();
  for (const [name, v] of Object.entries(labels)) if (!Array.isArray(v)) m.set(v, name);
  return m;
}

/**
 * Validates an nnU-Net style `labels` object: background 0 present, values
 * non-negative integers, plain values unique, an `ignore` label (if any) the
 * highest. `where` names the file/field for errors.
 */
export function validateLabelMap(labels: unknown, where: string): LabelMap {
  if (!labels || typeof labels !== 'object' || Array.isArray(labels)) throw new Error(`${where}: 'labels' must be an object mapping names to integer values, e.g. {"background": 0, "tumour": 1}`);
  const out: LabelMap = {};
  const seen = new Map<number, string>();
  for (const [name, raw] of Object.entries(labels as Record<string, unknown>)) {
    const vals = Array.isArray(raw) ? raw : [raw];
    if (vals.length === 0) throw new Error(`${where}: label '${name}' has an empty region list`);
    for (const v of vals) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`${where}: label '${name}' must be a non-negative integer or a list of them, got ${JSON.stringify(raw)}`);
    }
    if (!Array.isArray(raw)) {
      const prev = seen.get(raw as number);
      if (prev !== undefined) throw new Error(`${where}: labels '${prev}' and '${name}' both have value ${String(raw)}`);
      seen.set(raw as number, name);
    }
    out[name] = Array.isArray(raw) ? (raw as number[]).slice() : (raw as number);
  }
  if (!seen.has(0)) throw new Error(`${where}: 'labels' must contain background with value 0 (got ${JSON.stringify(labels)})`);
  const ignore = out.ignore;
  if (ignore !== undefined) {
    if (Array.isArray(ignore)) throw new Error(`${where}: the 'ignore' label must be a single integer, got ${JSON.stringify(ignore)}`);
    const max = Math.max(...labelValues(out));
    if (ignore !== max) throw new Error(`${where}: the 'ignore' label must have the highest value (${max}), got ${ignore}`);
  }
  return out;
}

/** Status implied by which annotations a case has. */
export function inferStatus(c: Pick<Case, 'label' | 'points' | 'pointsMap'>): CaseStatus {
  if (c.label) return 'labelled';
  if ((c.points && c.points.length > 0) || c.pointsMap) return 'points';
  return 'unlabelled';
}

/** Groups cases into centres (in first-seen order) and checks ids are unique. */
export function makeProject(init: Omit<Project, 'centres' | 'problems' | 'meta'> & { cases: Case[]; problems?: DatasetProblem[]; meta?: Record<string, unknown> }): Project {
  const centres = new Map<string, Centre>();
  const ids = new Set<string>();
  for (const c of init.cases) {
    if (ids.has(c.id)) throw new Error(`dataset '${init.name}': case id '${c.id}' appears twice (ids must be unique across centres)`);
    ids.add(c.id);
    let centre = centres.get(c.centre);
    if (!centre) centres.set(c.centre, (centre = { id: c.centre, cases: [] }));
    centre.cases.push(c);
  }
  const { cases: _cases, ...rest } = init;
  return { ...rest, centres: [...centres.values()], problems: init.problems ?? [], meta: init.meta ?? {} };
}

/** Counts per centre and status, for summaries. */
export function projectSummary(project: Project): { centre: string; labelled: number; points: number; unlabelled: number; train: number; val: number; test: number }[] {
  return project.centres.map((c) => {
    const n = { centre: c.id, labelled: 0, points: 0, unlabelled: 0, train: 0, val: 0, test: 0 };
    for (const k of c.cases) {
      n[k.status]++;
      if (k.split) n[k.split]++;
    }
    return n;
  });
}

// ---------------------------------------------------------------- JSON

const PROJECT_FORMAT = 'labelwise.project';
const PROJECT_VERSION = 1;

/** A plain JSON object; relative paths stay relative to `root`. */
export function projectToJson(project: Project): Record<string, unknown> {
  return {
    format: PROJECT_FORMAT,
    version: PROJECT_VERSION,
    name: project.name,
    root: project.root,
    layout: project.layout,
    ...(project.description !== undefined ? { description: project.description } : {}),
    channelNames: project.channelNames,
    labels: project.labels,
    ...(project.regionClassOrder ? { regionClassOrder: project.regionClassOrder } : {}),
    ...(project.fileEnding ? { fileEnding: project.fileEnding } : {}),
    centres: project.centres.map((c) => ({
      id: c.id,
      ...(c.meta ? { meta: c.meta } : {}),
      cases: c.cases.map((k) => {
        const { centre: _centre, ...rest } = k;
        return rest;
      }),
    })),
    problems: project.problems,
    meta: project.meta,
  };
}

function vec3(v: unknown, where: string): Vec3 {
  if (!Array.isArray(v) || v.length !== 3 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) throw new Error(`${where}: expected 3 finite numbers, got ${JSON.stringify(v)}`);
  return [v[0], v[1], v[2]] as Vec3;
}

export function parsePoints(v: unknown, where: string): PointAnnotation[] {
  if (!Array.isArray(v)) throw new Error(`${where}: points must be a list of {class, ijk | xyz}, got ${JSON.stringify(v)}`);
  return v.map((p, i) => {
    const w = `${where}[${i}]`;
    if (!p || typeof p !== 'object') throw new Error(`${w}: expected {class, ijk | xyz}, got ${JSON.stringify(p)}`);
    const o = p as Record<string, unknown>;
    const cls = o.class;
    if (typeof cls !== 'number' || !Number.isInteger(cls) || cls < 0) throw new Error(`${w}.class: expected a non-negative integer label value, got ${JSON.stringify(cls)}`);
    if (o.ijk === undefined && o.xyz === undefined) throw new Error(`${w}: a point needs 'ijk' (voxel) or 'xyz' (world mm)`);
    const out: PointAnnotation = { class: cls };
    if (o.ijk !== undefined) out.ijk = vec3(o.ijk, `${w}.ijk`);
    if (o.xyz !== undefined) out.xyz = vec3(o.xyz, `${w}.xyz`);
    return out;
  });
}

function str(o: Record<string, unknown>, key: string, where: string, optional = false): string | undefined {
  const v = o[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new Error(`${where}.${key}: expected a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

/** Inverse of {@link projectToJson}; `root` overrides the recorded root (data moved). */
export function projectFromJson(json: unknown, opts: { root?: string; source?: string } = {}): Project {
  const where = opts.source ?? 'project JSON';
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${where}: expected an object`);
  const o = json as Record<string, unknown>;
  if (o.format !== PROJECT_FORMAT) throw new Error(`${where}: 'format' must be '${PROJECT_FORMAT}', got ${JSON.stringify(o.format)}`);
  if (o.version !== PROJECT_VERSION) throw new Error(`${where}: unsupported 'version' ${JSON.stringify(o.version)} (this build reads ${PROJECT_VERSION})`);
  const channelNames = o.channelNames;
  if (!Array.isArray(channelNames) || channelNames.some((c) => typeof c !== 'string')) throw new Error(`${where}.channelNames: expected a list of strings`);
  if (!Array.isArray(o.centres)) throw new Error(`${where}.centres: expected a list`);
  if (!LAYOUTS.includes(o.layout as DatasetLayout)) throw new Error(`${where}.layout: expected one of ${LAYOUTS.join(', ')}, got ${JSON.stringify(o.layout)}`);
  const cases: Case[] = [];
  const centreMeta = new Map<string, Record<string, unknown>>();
  o.centres.forEach((cRaw: unknown, ci: number) => {
    const cw = `${where}.centres[${ci}]`;
    if (!cRaw || typeof cRaw !== 'object') throw new Error(`${cw}: expected an object`);
    const c = cRaw as Record<string, unknown>;
    const centre = str(c, 'id', cw) as string;
    if (c.meta) centreMeta.set(centre, c.meta as Record<string, unknown>);
    if (!Array.isArray(c.cases)) throw new Error(`${cw}.cases: expected a list`);
    c.cases.forEach((kRaw: unknown, ki: number) => {
      const kw = `${cw}.cases[${ki}]`;
      if (!kRaw || typeof kRaw !== 'object') throw new Error(`${kw}: expected an object`);
      const k = kRaw as Record<string, unknown>;
      const images = k.images;
      if (!Array.isArray(images) || images.length === 0 || images.some((p) => typeof p !== 'string')) throw new Error(`${kw}.images: expected a non-empty list of paths`);
      const status = k.status as CaseStatus;
      if (!CASE_STATUSES.includes(status)) throw new Error(`${kw}.status: expected one of ${CASE_STATUSES.join(', ')}, got ${JSON.stringify(k.status)}`);
      if (k.split !== undefined && !SPLIT_NAMES.includes(k.split as SplitName)) throw new Error(`${kw}.split: expected one of ${SPLIT_NAMES.join(', ')}, got ${JSON.stringify(k.split)}`);
      const out: Case = { id: str(k, 'id', kw) as string, centre, images: images as string[], status };
      const patient = str(k, 'patient', kw, true);
      if (patient) out.patient = patient;
      const label = str(k, 'label', kw, true);
      if (label) out.label = label;
      if (k.labelEncoding !== undefined) {
        parseMaskEncoding(k.labelEncoding, `${kw}.labelEncoding`);
        out.labelEncoding = k.labelEncoding as string | MaskEncoding;
      }
      if (k.points !== undefined) out.points = parsePoints(k.points, `${kw}.points`);
      const pm = str(k, 'pointsMap', kw, true);
      if (pm) out.pointsMap = pm;
      if (k.spacing !== undefined) out.spacing = vec3(k.spacing, `${kw}.spacing`);
      if (k.split !== undefined) out.split = k.split as SplitName;
      if (k.loader !== undefined) {
        const l = k.loader as Record<string, unknown>;
        if (l?.kind !== 'h5' || !['acdc', 'la', 'stdr'].includes(l.layout as string)) throw new Error(`${kw}.loader: expected {kind: 'h5', layout: 'acdc' | 'la' | 'stdr'}, got ${JSON.stringify(k.loader)}`);
        out.loader = { kind: 'h5', layout: l.layout as CaseLoaderRef['layout'] };
      }
      if (k.meta !== undefined) out.meta = k.meta as Record<string, unknown>;
      if (out.status === 'labelled' && !out.label) throw new Error(`${kw}: status 'labelled' but no 'label'`);
      cases.push(out);
    });
  });
  const project = makeProject({
    name: str(o, 'name', where) as string,
    root: opts.root ?? (str(o, 'root', where) as string),
    layout: str(o, 'layout', where) as DatasetLayout,
    channelNames: channelNames as string[],
    labels: validateLabelMap(o.labels, `${where}.labels`),
    cases,
    problems: Array.isArray(o.problems) ? (o.problems as DatasetProblem[]) : [],
    meta: (o.meta as Record<string, unknown>) ?? {},
  });
  if (typeof o.description === 'string') project.description = o.description;
  if (Array.isArray(o.regionClassOrder)) project.regionClassOrder = o.regionClassOrder as number[];
  if (typeof o.fileEnding === 'string') project.fileEnding = o.fileEnding;
  for (const c of project.centres) {
    const m = centreMeta.get(c.id);
    if (m) c.meta = m;
  }
  return project;
}

export function saveProject(file: string, project: Project): void {
  writeFileAtomic(file, JSON.stringify(projectToJson(project), null, 2) + '\n');
}

export function loadProject(file: string, opts: { root?: string } = {}): Project {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read project JSON: ${(e as Error).message}`);
  }
  return projectFromJson(json, { ...opts, source: file });
}

// ---------------------------------------------------------------- loading

export interface LoadCaseOptions {
  /** Tolerances for channel/label agreement. */
  tolerance?: Partial<GeometryTolerance>;
  /** Skip reading the label (inference). */
  skipLabel?: boolean;
}

export interface LoadedCase {
  case: Case;
  /** All channels stacked (channel count = sum over image files). */
  image: Volume;
  /** Integer class map on the image grid (uint8 when values fit, else int16/int32). */
  label?: Volume;
  /** Points with both `ijk` and `xyz` filled in. */
  points?: PointAnnotation[];
}

/**
 * Reads a case: every channel file, stacked; the label as an integer map.
 * Throws, naming the files, when channels or label do not share one voxel
 * grid (shape, spacing, origin, direction within `tolerance`).
 */
export async function loadCase(project: Project, c: Case, opts: LoadCaseOptions = {}): Promise<LoadedCase> {
  const tol = { ...DEFAULT_GEOMETRY_TOLERANCE, ...opts.tolerance };
  let image: Volume;
  let label: Volume | undefined;
  if (c.loader) {
    const r = await readLoaderCase(casePath(project, c.images[0]), c.loader, !opts.skipLabel && c.status === 'labelled');
    image = r.image;
    label = r.label;
  } else {
    const files = c.images.map((p) => casePath(project, p));
    const vols: Volume[] = [];
    for (const f of files) vols.push(await readCaseImage(f));
    for (let i = 1; i < vols.length; i++) {
      const d = geometryDifferences(vols[0], vols[i], tol);
      if (d.length) throw new GeometryMismatchError(`case '${c.id}': channel file ${files[i]} does not share the grid of ${files[0]}: ${describeDifferences(d)}`, d, [files[0], files[i]]);
    }
    image = stackChannels(vols);
    image.meta.sources = files;
    if (c.label && !opts.skipLabel) label = await readCaseLabel(casePath(project, c.label), c.labelEncoding);
  }
  const expected = project.channelNames.length;
  if (expected > 0 && image.channels !== expected) {
    throw new Error(`case '${c.id}': ${image.channels} image channel(s) but the project declares ${expected} (${project.channelNames.join(', ')})`);
  }
  if (label) {
    const d = geometryDifferences(image, label, tol);
    if (d.length) {
      const lf = casePath(project, c.label ?? c.images[0]);
      throw new GeometryMismatchError(`case '${c.id}': label ${lf} does not share the image grid: ${describeDifferences(d)}`, d, [casePath(project, c.images[0]), lf]);
    }
  }
  const out: LoadedCase = { case: c, image };
  if (label) out.label = label;
  const points: PointAnnotation[] = [];
  if (c.points) points.push(...c.points);
  if (c.pointsMap) {
    const file = casePath(project, c.pointsMap);
    const map = await readCasePointsMap(file);
    const d = geometryDifferences(image, map, tol);
    if (d.length) throw new GeometryMismatchError(`case '${c.id}': points map ${file} does not share the image grid: ${describeDifferences(d)}`, d, [casePath(project, c.images[0]), file]);
    points.push(...pointsFromMap(map));
  }
  if (points.length) out.points = points.map((p) => completePoint(p, image));
  return out;
}

/** Fills in the missing one of `ijk` / `xyz` from the image affine. */
export function completePoint(p: PointAnnotation, grid: Volume): PointAnnotation {
  const ijk = p.ijk ?? grid.worldToVoxel(p.xyz as Vec3);
  const xyz = p.xyz ?? grid.voxelToWorld(p.ijk as Vec3);
  return { class: p.class, ijk, xyz };
}

/** Points from a point-map volume: value v > 0 at (i, j, k) is a point of class v - 1. */
export function pointsFromMap(map: Volume): PointAnnotation[] {
  const out: PointAnnotation[] = [];
  const [ni, nj] = map.dims;
  const n = map.numVoxels;
  for (let idx = 0; idx < n; idx++) {
    const v = Number(map.data[idx]);
    if (v === 0 || Number.isNaN(v)) continue;
    if (!Number.isInteger(v) || v < 0) throw new Error(`points map: value ${v} at voxel index ${idx} is not a non-negative integer`);
    const i = idx % ni;
    const j = Math.floor(idx / ni) % nj;
    const k = Math.floor(idx / (ni * nj));
    out.push({ class: v - 1, ijk: [i, j, k] });
  }
  return out;
}

/** Concatenates volumes on one grid along the channel axis (first volume's geometry). */
export function stackChannels(vols: readonly Volume[]): Volume {
  if (vols.length === 0) throw new Error('stackChannels: no volumes');
  if (vols.length === 1) return vols[0];
  const type = vols[0].voxelType;
  const same = vols.every((v) => v.voxelType === type);
  const total = vols.reduce((s, v) => s + v.data.length, 0);
  // Mixed types widen to float32 (what nnU-Net feeds networks anyway).
  const data: VoxelArray = same ? new (vols[0].data.constructor as new (n: number) => VoxelArray)(total) : new Float32Array(total);
  let off = 0;
  for (const v of vols) {
    if (same) (data as Float32Array).set(v.data as Float32Array, off);
    else for (let i = 0; i < v.data.length; i++) (data as Float32Array)[off + i] = Number(v.data[i]);
    off += v.data.length;
  }
  const channels = vols.reduce((s, v) => s + v.channels, 0);
  return new Volume({ data, dims: vols[0].dims, channels, affine: vols[0].affine, meta: { ...vols[0].meta } });
}
