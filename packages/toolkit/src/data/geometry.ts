// Geometry agreement between two images of one case (channels, image vs
// label): the test every loader, `check` and the fingerprint share, so a
// mismatch is described the same way everywhere.
import { type Affine, type Vec3, affineDirection, affineOrigin, affineSpacing } from '../io/affine.js';
import { orientationCodes } from '../io/orientation.js';

/** What a geometry comparison needs: a Volume or a header summary. */
export interface GeometryLike {
  dims: readonly number[];
  affine: Affine;
}

/**
 * Tolerances. Spacing is relative (1e-4 → 0.01 %); origin is in millimetres
 * scaled by the largest voxel size (so 1e-3 on a 5 mm grid is 5 µm);
 * direction is on the cosines. Defaults accept float32 rounding of headers
 * (qform-only files differ from sform ones by ~1e-6) and nothing a
 * resampling would produce.
 */
export interface GeometryTolerance {
  spacing: number;
  origin: number;
  direction: number;
}

export const DEFAULT_GEOMETRY_TOLERANCE: Readonly<GeometryTolerance> = Object.freeze({ spacing: 1e-4, origin: 1e-3, direction: 1e-4 });

export type GeometryDifferenceKind = 'shape' | 'spacing' | 'origin' | 'direction' | 'orientation';

export interface GeometryDifference {
  kind: GeometryDifferenceKind;
  /** Human-readable: "[240, 240, 155] vs [240, 240, 154]". */
  detail: string;
}

const fmt = (v: readonly number[], digits = 4): string => `[${v.map((x) => Number(x.toFixed(digits))).join(', ')}]`;

/** Spatial dims as 3 numbers (a 2D image has nk = 1). */
export function dims3(d: readonly number[]): Vec3 {
  return [d[0] ?? 1, d[1] ?? 1, d[2] ?? 1];
}

/**
 * The ways `b` differs from `a`. Empty when they share one voxel grid.
 * Orientation is reported on its own (besides direction) because a flipped
 * axis is the mismatch users most need to see named.
 */
export function geometryDifferences(a: GeometryLike, b: GeometryLike, tol: Partial<GeometryTolerance> = {}): GeometryDifference[] {
  const t = { ...DEFAULT_GEOMETRY_TOLERANCE, ...tol };
  const out: GeometryDifference[] = [];
  const da = dims3(a.dims);
  const db = dims3(b.dims);
  if (da.some((v, i) => v !== db[i])) out.push({ kind: 'shape', detail: `${fmt(da)} vs ${fmt(db)}` });
  const sa = affineSpacing(a.affine);
  const sb = affineSpacing(b.affine);
  if (sa.some((v, i) => Math.abs(v - sb[i]) > t.spacing * Math.max(Math.abs(v), Math.abs(sb[i]), 1e-12))) {
    out.push({ kind: 'spacing', detail: `${fmt(sa, 6)} vs ${fmt(sb, 6)} mm` });
  }
  const oa = affineOrigin(a.affine);
  const ob = affineOrigin(b.affine);
  const scale = Math.max(...sa, ...sb, 1);
  if (oa.some((v, i) => Math.abs(v - ob[i]) > t.origin * scale)) out.push({ kind: 'origin', detail: `${fmt(oa)} vs ${fmt(ob)} mm` });
  const ca = orientationCodes(a.affine);
  const cb = orientationCodes(b.affine);
  if (ca !== cb) out.push({ kind: 'orientation', detail: `${ca} vs ${cb}` });
  const ra = affineDirection(a.affine);
  const rb = affineDirection(b.affine);
  const dmax = Math.max(...ra.map((v, i) => Math.abs(v - rb[i])));
  if (dmax > t.direction) out.push({ kind: 'direction', detail: `direction cosines differ by up to ${dmax.toPrecision(3)}` });
  return out;
}

export function describeDifferences(diffs: readonly GeometryDifference[]): string {
  return diffs.map((d) => `${d.kind} ${d.detail}`).join('; ');
}

/** Thrown when files of one case do not share a voxel grid; carries what differs. */
export class GeometryMismatchError extends Error {
  override name = 'GeometryMismatchError';
  constructor(message: string, readonly differences: GeometryDifference[], readonly files: string[]) {
    super(message);
  }
}
