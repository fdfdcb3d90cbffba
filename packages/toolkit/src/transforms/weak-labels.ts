// Weak labels of a training case, as a partial label map on the image's own
// grid that the preprocessing then treats like any label (crop, resample,
// cache). Values 0..K−1 are classes; K (= numClasses) marks voxels nobody
// annotated, which the losses ignore.
//   points     PA-Seg's seven points per lesion (a *_7points.nii.gz map or a
//              JSON point list, or simulated from the full mask), expanded by
//              the geodesic seed expansion (expandSeeds) on the raw image, as
//              PA-Seg's generate_geodesic_labels.py does before training;
//   scribbles  a scribble map (NIfTI, unlabelled value given or K), or
//              skeleton scribbles simulated from the full mask.
// Simulation is seeded per (seed, case id), so every run and every worker
// derives the same annotation; the points used are written beside the cache
// entry (<id>~points.points.json) for inspection.
import fs from 'node:fs';
import path from 'node:path';
import { type LesionPoint, readPointMap, readPointsJson, readScribbleNifti, writePointsJson } from '../data/annotations.js';
import { Volume } from '../io/volume.js';
import { Rng } from '../random/rng.js';
import { type ExpandSeedsOptions, SEED_UNLABELLED, expandSeeds } from './geodesic.js';
import { simulateScribbles, simulateSevenPoints } from './simulate-annotations.js';

export type WeakKind = 'points' | 'scribbles';

export interface WeakLabelSpec {
  kind: WeakKind;
  /** 'simulate', or a folder holding <case>_7points.nii.gz / <case>_points.json (points) or <case>_scribble.nii.gz (scribbles). */
  source: string;
  seed: number;
  numClasses: number;
  /** Geodesic expansion of points (PA-Seg: λ 0.5, 4 iterations, threshold 0.2; BraTS: air is background). */
  geodesic: ExpandSeedsOptions;
  /** Value of unscribbled voxels in scribble files (default numClasses). */
  scribbleUnlabelled?: number;
}

/** Cache id of a case's weak-label entry. */
export function weakCaseId(caseId: string, kind: WeakKind): string {
  return `${caseId}~${kind}`;
}

/** The annotation files a case's weak labels are read from (empty when simulated). */
export function weakSourceFiles(spec: WeakLabelSpec, caseId: string): string[] {
  if (spec.source === 'simulate') return [];
  const candidates = spec.kind === 'points' ? [`${caseId}_7points.nii.gz`, `${caseId}_points.json`] : [`${caseId}_scribble.nii.gz`];
  for (const name of candidates) {
    const f = path.join(spec.source, name);
    if (fs.existsSync(f)) return [f];
  }
  throw new Error(`data.weak.source: no ${spec.kind} annotation for case '${caseId}' in ${spec.source} (expected ${candidates.join(' or ')})`);
}

export interface WeakLabelResult {
  /** Partial label map on the image grid (uint8; numClasses = unannotated). */
  label: Volume;
  /** The points (points kind), for the record. */
  points?: LesionPoint[];
  /** Annotated voxels per value (0..numClasses), for the record. */
  counts: number[];
}

/** The weak label map of one case. `fullLabel` is needed only when simulating. */
export function weakLabelMap(image: Volume, fullLabel: Volume | undefined, caseId: string, spec: WeakLabelSpec): WeakLabelResult {
  const k = spec.numClasses;
  let data: Uint8Array;
  let points: LesionPoint[] | undefined;
  if (spec.kind === 'points') {
    if (k !== 2) throw new Error(`data.weak: seven-point annotation marks one foreground class (PA-Seg); this dataset has ${k} classes — use kind: scribbles`);
    if (spec.source === 'simulate') {
      if (!fullLabel) throw new Error(`data.weak: simulating points for case '${caseId}' needs its full label, and the case has none`);
      points = simulateSevenPoints(fullLabel, Rng.from(spec.seed, 'seven-points', caseId)).points;
    } else {
      const file = weakSourceFiles(spec, caseId)[0];
      points = file.endsWith('.json') ? readPointsJson(file, image) : readPointMap(file, image);
      if (!points.some((p) => p.class > 0)) throw new Error(`${file}: no foreground point (PA-Seg needs one inside each lesion)`);
    }
    // PA-Seg expands on the raw first channel (FLAIR for BraTS, T2 for VS).
    const ch0 = Float32Array.from(image.data.subarray(0, image.numVoxels) as ArrayLike<number>);
    // expandSeeds codes 0 / 1 / 2 = background / foreground / unlabelled, which is 0..K−1 / K for K = 2.
    data = expandSeeds({ data: ch0, dims: image.dims }, points.map((p) => ({ class: p.class > 0 ? 1 : 0, ijk: p.ijk, lesion: p.lesion })), image.spacing, spec.geodesic);
    if (SEED_UNLABELLED !== k) throw new Error('weakLabelMap: expandSeeds codes unlabelled as 2');
  } else {
    let labels: Volume;
    let unlabelled: number;
    if (spec.source === 'simulate') {
      if (!fullLabel) throw new Error(`data.weak: simulating scribbles for case '${caseId}' needs its full label, and the case has none`);
      const s = simulateScribbles(fullLabel, Rng.from(spec.seed, 'scribbles', caseId), { unlabelled: k });
      labels = s.labels;
      unlabelled = s.unlabelled;
    } else {
      const file = weakSourceFiles(spec, caseId)[0];
      const s = readScribbleNifti(file, { unlabelled: spec.scribbleUnlabelled ?? k, reference: image });
      labels = s.labels;
      unlabelled = s.unlabelled;
    }
    data = new Uint8Array(labels.numVoxels);
    for (let i = 0; i < data.length; i++) {
      const v = Number(labels.data[i]);
      if (v === unlabelled) data[i] = k;
      else if (Number.isInteger(v) && v >= 0 && v < k) data[i] = v;
      else throw new Error(`data.weak: scribble of case '${caseId}' has value ${v}; expected 0..${k - 1} or ${unlabelled} (unlabelled)`);
    }
  }
  const counts = new Array<number>(k + 1).fill(0);
  for (const v of data) counts[v]++;
  const label = new Volume({ data, dims: image.dims, affine: image.affine, meta: { source: `${spec.kind} of ${caseId}` } });
  return { label, points, counts };
}

/** Writes the points of a weak entry next to it (world and voxel coordinates). */
export function recordWeakPoints(file: string, points: readonly LesionPoint[]): void {
  writePointsJson(file, points, 'voxel');
}
