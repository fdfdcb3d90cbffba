// Weak annotations as data: point annotations (PA-Seg's seven points, or a
// JSON point list) and scribble maps, read into typed values (LesionPoint, ScribbleAnnotation), validated
// against the image they annotate, and written back.
//
// Point map (NIfTI, PA-Seg's `*_7points.nii.gz`): a label volume on the
// image's grid. 0 = unlabelled; lesion l (0-based) uses 2l+2 for its
// foreground point and 2l+1 for its background points. So one tumour is
// {1 background, 2 foreground} and a second tumour {3 background, 4 foreground},
// exactly as PA-Seg's generate_geodesic_labels.py reads them (seed value 2,
// then 4); further lesions continue the pattern. The coding is binary: a
// point map cannot hold a foreground class other than 1.
//
// Point list (JSON), our format:
//   {
//     "coordinates": "world" | "voxel",
//     "points": [
//       { "position": [x, y, z], "label": "foreground" | "background" | <int>, "lesion": <int, optional> }
//     ]
//   }
// - "world": RAS millimetres (the Volume affine's space); "voxel": (i, j, k)
//   indices, NIfTI order. Either is mapped to the nearest voxel centre.
// - label: "background" = class 0, "foreground" = class 1, an integer ≥ 0 = that class.
// - lesion: which object the point belongs to (PA-Seg's tumour index), default 0.
// - At least one foreground (class ≥ 1) point is required.
// Unknown top-level or point keys are rejected so a typo is not silently ignored.
//
// Scribble map: a label volume with a declared "unlabelled" value (ACDC
// scribbles use 4), from NIfTI or from an HDF5 dataset (default "scribble",
// the WSL4MIS ACDC layout), checked to lie on the image's grid.
import fs from 'node:fs';
import { type Affine, type Vec3, affinesClose, applyAffine, invert4 } from '../io/affine.js';
import { writeFileAtomic } from '../io/atomic.js';
import { type H5Layout, h5ArrayToVolume, readH5Datasets } from '../io/hdf5.js';
import { readNifti, writeNifti } from '../io/nifti.js';
import { Volume } from '../io/volume.js';
import type { PointAnnotation } from './dataset.js';

/** What annotations are checked against: the image's grid (a Volume satisfies it). */
export interface ImageGeometry {
  readonly dims: readonly number[];
  readonly affine: Affine;
}

/**
 * A point on the image grid with both coordinates resolved and its lesion;
 * assignable to dataset.ts's PointAnnotation ({ class, ijk?, xyz? }).
 */
export interface LesionPoint extends PointAnnotation {
  /** 0 = background, ≥ 1 = foreground class. */
  class: number;
  /** Integer voxel index (i, j, k) on the image grid. */
  ijk: Vec3;
  /** RAS millimetres of the voxel centre. */
  xyz: Vec3;
  /** Object the point belongs to (PA-Seg's tumour index), 0-based. */
  lesion: number;
}

export interface ScribbleAnnotation {
  /** Label volume on the image grid; `unlabelled` marks voxels without a scribble. */
  labels: Volume;
  unlabelled: number;
  /** Classes that carry at least one scribbled voxel, ascending. */
  classes: number[];
}

export type PointCoordinates = 'world' | 'voxel';

export class AnnotationError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'AnnotationError';
  }
}

// Integers (to rounding noise from the inverse affine) print bare; others with 2 decimals.
const fmt = (v: readonly number[]): string => `(${v.map((x) => (Math.abs(x - Math.round(x)) < 1e-6 ? String(Math.round(x) + 0) : x.toFixed(2))).join(', ')})`;
const dimsOf = (g: ImageGeometry): Vec3 => [g.dims[0], g.dims[1] ?? 1, g.dims[2] ?? 1];

function insideDims(v: readonly number[], dims: Vec3): boolean {
  return v.every((x, a) => x >= 0 && x < dims[a]);
}

function pointAt(ref: ImageGeometry, voxel: Vec3, cls: number, lesion: number): LesionPoint {
  return { class: cls, ijk: voxel, xyz: applyAffine(ref.affine, voxel), lesion };
}

/** Throws unless `vol` lies on the image grid (same dims, same affine). */
export function checkSameGrid(file: string, what: string, vol: ImageGeometry, ref: ImageGeometry): void {
  const a = dimsOf(vol);
  const b = dimsOf(ref);
  if (a.some((n, i) => n !== b[i])) {
    throw new AnnotationError(file, `${what} has dims [${a.join(', ')}] but the image has [${b.join(', ')}]; it must lie on the image's voxel grid`);
  }
  if (!affinesClose(vol.affine, ref.affine, 1e-4)) {
    let worst = 0;
    for (let i = 0; i < 16; i++) worst = Math.max(worst, Math.abs(vol.affine[i] - ref.affine[i]));
    throw new AnnotationError(file, `${what} has a different affine from the image (largest entry difference ${worst.toPrecision(3)}); resample it onto the image grid first`);
  }
}

function requireForeground(file: string, points: readonly LesionPoint[]): void {
  if (!points.some((p) => p.class >= 1)) throw new AnnotationError(file, 'has no foreground point; at least one is required');
}

// ------------------------------------------------------------ point maps

/** Points of a PA-Seg point map already in memory; `name` names it in errors. */
export function pointsFromPointMap(map: Volume, name: string, reference?: ImageGeometry): LesionPoint[] {
  if (reference) checkSameGrid(name, 'the point map', map, reference);
  if (map.channels !== 1) throw new AnnotationError(name, `a point map has one channel, this one has ${map.channels}`);
  const [ni, nj] = map.dims;
  const fg: LesionPoint[][] = [];
  const bg: LesionPoint[][] = [];
  const n = map.numVoxels;
  for (let idx = 0; idx < n; idx++) {
    const v = Number(map.data[idx]);
    if (v === 0) continue;
    const i = idx % ni;
    const j = Math.floor(idx / ni) % nj;
    const k = Math.floor(idx / (ni * nj));
    if (!Number.isInteger(v) || v < 0) {
      throw new AnnotationError(name, `voxel ${fmt([i, j, k])} holds ${v}; a PA-Seg point map holds 0 (unlabelled), 2l+1 (background of lesion l) or 2l+2 (foreground of lesion l)`);
    }
    const lesion = Math.floor((v - 1) / 2);
    const cls = v % 2 === 0 ? 1 : 0;
    const list = cls === 1 ? fg : bg;
    (list[lesion] ??= []).push(pointAt(map, [i, j, k], cls, lesion));
  }
  const out: LesionPoint[] = [];
  const lesions = Math.max(fg.length, bg.length);
  for (let l = 0; l < lesions; l++) {
    if (!fg[l]?.length) {
      const what = bg[l]?.length ? `has ${bg[l].length} background point(s) (value ${2 * l + 1}) but no foreground point (value ${2 * l + 2})` : `skips value ${2 * l + 2}: lesions must be numbered without gaps`;
      throw new AnnotationError(name, `lesion ${l} ${what}`);
    }
    out.push(...fg[l], ...(bg[l] ?? []));
  }
  requireForeground(name, out);
  return out;
}

/** Reads a PA-Seg `*_7points.nii.gz` map; with `reference`, checks it lies on the image grid. */
export function readPointMap(file: string, reference?: ImageGeometry): LesionPoint[] {
  return pointsFromPointMap(readNifti(file), file, reference);
}

/** The PA-Seg point map of `points` on the reference grid (uint8). */
export function pointMapVolume(points: readonly LesionPoint[], reference: ImageGeometry, name = 'point map'): Volume {
  const dims = dimsOf(reference);
  const lesions = Math.max(-1, ...points.map((p) => p.lesion)) + 1;
  if (2 * lesions > 255) throw new AnnotationError(name, `${lesions} lesions do not fit a uint8 point map (at most 127)`);
  const data = new Uint8Array(dims[0] * dims[1] * dims[2]);
  points.forEach((p, n) => {
    if (p.class !== 0 && p.class !== 1) throw new AnnotationError(name, `point ${n} has class ${p.class}; the PA-Seg coding holds background (0) and foreground (1) only`);
    if (!Number.isInteger(p.lesion) || p.lesion < 0) throw new AnnotationError(name, `point ${n} has lesion ${p.lesion}; expected an integer ≥ 0`);
    if (!p.ijk.every(Number.isInteger) || !insideDims(p.ijk, dims)) {
      throw new AnnotationError(name, `point ${n} at voxel ${fmt(p.ijk)} lies outside the image of dims [${dims.join(', ')}]`);
    }
    const idx = p.ijk[0] + dims[0] * (p.ijk[1] + dims[1] * p.ijk[2]);
    const value = 2 * p.lesion + 1 + p.class;
    if (data[idx] !== 0 && data[idx] !== value) {
      throw new AnnotationError(name, `point ${n} at voxel ${fmt(p.ijk)} collides with another point of a different class or lesion`);
    }
    data[idx] = value;
  });
  requireForeground(name, points);
  return new Volume({ data, dims, affine: reference.affine, meta: { annotation: 'pa-seg-points' } });
}

/** Writes points as a PA-Seg point map (NIfTI, atomic). */
export function writePointMap(file: string, points: readonly LesionPoint[], reference: ImageGeometry): void {
  writeNifti(file, pointMapVolume(points, reference, file));
}

// ------------------------------------------------------------ JSON point lists

const TOP_KEYS = new Set(['coordinates', 'points']);
const POINT_KEYS = new Set(['position', 'label', 'lesion']);

function labelClass(file: string, n: number, label: unknown): number {
  if (label === 'foreground') return 1;
  if (label === 'background') return 0;
  if (typeof label === 'number' && Number.isInteger(label) && label >= 0) return label;
  throw new AnnotationError(file, `points[${n}].label is ${JSON.stringify(label)}; expected "foreground", "background" or an integer ≥ 0`);
}

/** Points of a parsed JSON point list; `name` names it in errors. */
export function pointsFromJson(json: unknown, reference: ImageGeometry, name: string): LesionPoint[] {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new AnnotationError(name, 'expected a JSON object { "coordinates", "points" }');
  const obj = json as Record<string, unknown>;
  for (const k of Object.keys(obj)) if (!TOP_KEYS.has(k)) throw new AnnotationError(name, `unknown key "${k}"; expected "coordinates" and "points"`);
  const coords = obj.coordinates;
  if (coords !== 'world' && coords !== 'voxel') throw new AnnotationError(name, `"coordinates" is ${JSON.stringify(coords)}; expected "world" or "voxel"`);
  if (!Array.isArray(obj.points)) throw new AnnotationError(name, '"points" must be an array of { "position", "label" }');
  const dims = dimsOf(reference);
  const toVoxel = invert4(reference.affine);
  const out = obj.points.map((raw: unknown, n: number): LesionPoint => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new AnnotationError(name, `points[${n}] must be an object { "position", "label" }`);
    const p = raw as Record<string, unknown>;
    for (const k of Object.keys(p)) if (!POINT_KEYS.has(k)) throw new AnnotationError(name, `points[${n}] has unknown key "${k}"; expected "position", "label", "lesion"`);
    const pos = p.position;
    if (!Array.isArray(pos) || pos.length !== 3 || !pos.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw new AnnotationError(name, `points[${n}].position must be 3 finite numbers, got ${JSON.stringify(pos)}`);
    }
    const cls = labelClass(name, n, p.label);
    const lesion = p.lesion ?? 0;
    if (typeof lesion !== 'number' || !Number.isInteger(lesion) || lesion < 0) throw new AnnotationError(name, `points[${n}].lesion is ${JSON.stringify(lesion)}; expected an integer ≥ 0`);
    const continuous = coords === 'world' ? applyAffine(toVoxel, pos as number[]) : (pos as number[]);
    const voxel = continuous.map((x) => Math.round(x) + 0) as Vec3; // + 0: no -0
    if (!insideDims(voxel, dims)) {
      const where = coords === 'world' ? ` (world ${fmt(pos as number[])})` : '';
      throw new AnnotationError(name, `point ${n} at voxel ${fmt(continuous)}${where} lies outside the image of dims [${dims.join(', ')}]`);
    }
    return pointAt(reference, voxel, cls, lesion);
  });
  requireForeground(name, out);
  return out;
}

/** Reads a JSON point list (format in the file header) against the image grid. */
export function readPointsJson(file: string, reference: ImageGeometry): LesionPoint[] {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new AnnotationError(file, `not valid JSON: ${(e as Error).message}`);
  }
  return pointsFromJson(json, reference, file);
}

/** The JSON form of `points`: world positions are voxel centres, voxel positions integers. */
export function pointsToJson(points: readonly LesionPoint[], coordinates: PointCoordinates = 'world'): { coordinates: PointCoordinates; points: { position: number[]; label: string | number; lesion: number }[] } {
  return {
    coordinates,
    points: points.map((p) => ({
      position: coordinates === 'world' ? [...p.xyz] : [...p.ijk],
      label: p.class === 0 ? 'background' : p.class === 1 ? 'foreground' : p.class,
      lesion: p.lesion,
    })),
  };
}

/** Writes points as a JSON point list (atomic). */
export function writePointsJson(file: string, points: readonly LesionPoint[], coordinates: PointCoordinates = 'world'): void {
  requireForeground(file, points);
  writeFileAtomic(file, `${JSON.stringify(pointsToJson(points, coordinates), null, 2)}\n`);
}

// ------------------------------------------------------------ scribbles

export interface ScribbleOptions {
  /** The value that marks voxels without a scribble (ACDC: 4). Required: there is no safe default. */
  unlabelled: number;
  /** With it, the map must lie on this image's grid. */
  reference?: ImageGeometry;
}

/** Validates a scribble label volume already in memory; `name` names it in errors. */
export function scribbleFromVolume(labels: Volume, name: string, opts: ScribbleOptions): ScribbleAnnotation {
  const { unlabelled } = opts;
  if (typeof unlabelled !== 'number' || !Number.isInteger(unlabelled)) throw new AnnotationError(name, `the "unlabelled" value must be declared as an integer, got ${JSON.stringify(unlabelled)}`);
  if (opts.reference) checkSameGrid(name, 'the scribble map', labels, opts.reference);
  if (labels.channels !== 1) throw new AnnotationError(name, `a scribble map has one channel, this one has ${labels.channels}`);
  const seen = new Set<number>();
  for (let idx = 0; idx < labels.numVoxels; idx++) {
    const v = Number(labels.data[idx]);
    if (v === unlabelled) continue;
    if (!Number.isInteger(v) || v < 0) throw new AnnotationError(name, `voxel index ${idx} holds ${v}; scribble classes are integers ≥ 0 (unlabelled = ${unlabelled})`);
    seen.add(v);
  }
  if (seen.size === 0) throw new AnnotationError(name, `has no scribbled voxel: every voxel equals the unlabelled value ${unlabelled}`);
  return { labels, unlabelled, classes: [...seen].sort((a, b) => a - b) };
}

/** Reads a NIfTI scribble map. */
export function readScribbleNifti(file: string, opts: ScribbleOptions): ScribbleAnnotation {
  return scribbleFromVolume(readNifti(file), file, opts);
}

export interface H5ScribbleOptions extends ScribbleOptions {
  /** Dataset holding the scribbles; default "scribble". */
  dataset?: string;
  /** Dataset whose shape it must match when present; default "image", null to skip. */
  image?: string | null;
  layout?: H5Layout;
  /** x, y, z mm; default 1 mm (the ACDC files store none). */
  spacing?: readonly number[];
}

/** Reads a scribble dataset from an HDF5 case (WSL4MIS ACDC: "scribble", unlabelled 4). */
export async function readScribbleH5(file: string, opts: H5ScribbleOptions): Promise<ScribbleAnnotation> {
  const name = opts.dataset ?? 'scribble';
  const imageName = opts.image === undefined ? 'image' : opts.image;
  const arrays = await readH5Datasets(file, [name], imageName === null ? [] : [imageName]);
  const s = arrays[name];
  const img = imageName === null ? undefined : arrays[imageName];
  if (img && img.shape.join(',') !== s.shape.join(',')) {
    throw new AnnotationError(file, `dataset "${name}" has shape [${s.shape.join(', ')}] but "${imageName}" has [${img.shape.join(', ')}]`);
  }
  const vol = h5ArrayToVolume(s, opts.layout ?? 'zyx', opts.spacing ?? [1, 1, 1], { source: file, format: 'hdf5', dataset: name });
  return scribbleFromVolume(vol, `${file} (dataset "${name}")`, opts);
}

/** Writes a scribble map as NIfTI (atomic). */
export function writeScribbleNifti(file: string, s: ScribbleAnnotation): void {
  writeNifti(file, s.labels);
}
