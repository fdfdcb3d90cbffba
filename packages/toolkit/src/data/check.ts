// `check`: does every case's data share one voxel grid? For each case the
// channel files are compared with the first one, and the label (and point
// map) with the image: shape, spacing, origin, direction and orientation
// within tolerances. NIfTI files are compared from their headers only, so
// a large dataset checks in seconds. Problems found when the dataset was
// opened (2D images and masks whose names do not pair) are included.
import type { Vec3 } from '../io/affine.js';
import { applyAffine, invert4 } from '../io/affine.js';
import { writeFileAtomic } from '../io/atomic.js';
import { type Case, type DatasetProblem, type Project, allCases, casePath } from './dataset.js';
import { type FileGeometry, readCaseGeometry, readLoaderCase } from './case-readers.js';
import { DEFAULT_GEOMETRY_TOLERANCE, type GeometryTolerance, geometryDifferences } from './geometry.js';
import { formatProblems, table } from './fingerprint.js';

/** Problem codes that mean "these files are not on one grid / not one pair". */
export const GEOMETRY_PROBLEM_CODES: ReadonlySet<string> = new Set([
  'shape-mismatch', 'spacing-mismatch', 'origin-mismatch', 'direction-mismatch', 'orientation-mismatch',
  'unpaired-image', 'unpaired-mask', 'pairing-mismatch', 'channel-count', 'point-outside',
]);

export interface CaseCheck {
  case: string;
  centre: string;
  ok: boolean;
  issues: DatasetProblem[];
}

export interface CheckReport {
  format: 'labelwise.check';
  version: 1;
  dataset: { name: string; layout: string; root: string; numCases: number };
  tolerance: GeometryTolerance;
  cases: CaseCheck[];
  /** Every problem: the dataset's own (from opening) and each case's. */
  problems: DatasetProblem[];
  geometryMismatches: number;
  errors: number;
  warnings: number;
}

export interface CheckOptions {
  tolerance?: Partial<GeometryTolerance>;
  cases?: readonly string[];
  onCase?: (index: number, total: number, result: CaseCheck) => void;
}

function issue(c: Case, code: string, message: string, file?: string): DatasetProblem {
  return { severity: 'error', code, case: c.id, centre: c.centre, message, ...(file ? { file } : {}) };
}

function compare(c: Case, a: FileGeometry, fa: string, b: FileGeometry, fb: string, what: string, tol: GeometryTolerance): DatasetProblem[] {
  return geometryDifferences(a, b, tol).map((d) => issue(c, `${d.kind}-mismatch`, `case '${c.id}': ${what} ${d.kind} differs: ${d.detail} (${fa} vs ${fb})`, fb));
}

function pointInside(g: FileGeometry, ijk: readonly number[]): boolean {
  return ijk.every((v, a) => v >= -0.5 && v <= g.dims[a] - 0.5);
}

async function checkCase(project: Project, c: Case, tol: GeometryTolerance): Promise<DatasetProblem[]> {
  const out: DatasetProblem[] = [];
  let ref: FileGeometry;
  let refFile: string;
  if (c.loader) {
    refFile = casePath(project, c.images[0]);
    try {
      const r = await readLoaderCase(refFile, c.loader, c.status === 'labelled');
      ref = { dims: [...r.image.dims] as Vec3, channels: r.image.channels, affine: r.image.affine };
    } catch (e) {
      const msg = (e as Error).message;
      return [issue(c, /shape/.test(msg) ? 'shape-mismatch' : 'unreadable', `case '${c.id}': ${msg}`, refFile)];
    }
  } else {
    const files = c.images.map((p) => casePath(project, p));
    const geoms: FileGeometry[] = [];
    for (const f of files) {
      try {
        geoms.push(await readCaseGeometry(f));
      } catch (e) {
        return [issue(c, 'unreadable', `case '${c.id}': cannot read ${f}: ${(e as Error).message}`, f)];
      }
    }
    ref = geoms[0];
    refFile = files[0];
    for (let i = 1; i < geoms.length; i++) out.push(...compare(c, ref, refFile, geoms[i], files[i], `channel file ${i}`, tol));
    const nCh = geoms.reduce((s, g) => s + g.channels, 0);
    if (project.channelNames.length && nCh !== project.channelNames.length) {
      out.push(issue(c, 'channel-count', `case '${c.id}': ${nCh} channel(s) in ${files.length} file(s), the dataset declares ${project.channelNames.length} (${project.channelNames.join(', ')})`, refFile));
    }
    if (c.label) {
      const lf = casePath(project, c.label);
      try {
        out.push(...compare(c, ref, refFile, await readCaseGeometry(lf), lf, 'label', tol));
      } catch (e) {
        out.push(issue(c, 'unreadable', `case '${c.id}': cannot read label ${lf}: ${(e as Error).message}`, lf));
      }
    }
  }
  if (c.pointsMap) {
    const pf = casePath(project, c.pointsMap);
    try {
      out.push(...compare(c, ref, refFile, await readCaseGeometry(pf), pf, 'points map', tol));
    } catch (e) {
      out.push(issue(c, 'unreadable', `case '${c.id}': cannot read points map ${pf}: ${(e as Error).message}`, pf));
    }
  }
  if (c.points) {
    const inv = invert4(ref.affine);
    c.points.forEach((p, i) => {
      const ijk = p.ijk ?? applyAffine(inv, p.xyz as Vec3);
      if (!pointInside(ref, ijk)) out.push(issue(c, 'point-outside', `case '${c.id}': point ${i} (class ${p.class}) at voxel [${ijk.map((v) => +v.toFixed(2)).join(', ')}] lies outside the image grid [${ref.dims.join(', ')}]`));
    });
  }
  return out;
}

/** Checks every case (or `opts.cases`); never throws for bad data, reports it. */
export async function checkProject(project: Project, opts: CheckOptions = {}): Promise<CheckReport> {
  const tol = { ...DEFAULT_GEOMETRY_TOLERANCE, ...opts.tolerance };
  let cases = allCases(project);
  if (opts.cases) {
    const want = new Set(opts.cases);
    cases = cases.filter((c) => want.has(c.id));
  }
  const results: CaseCheck[] = [];
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    const issues = await checkCase(project, c, tol);
    const r: CaseCheck = { case: c.id, centre: c.centre, ok: !issues.some((p) => p.severity === 'error'), issues };
    results.push(r);
    opts.onCase?.(i, cases.length, r);
  }
  const problems = [...project.problems, ...results.flatMap((r) => r.issues)];
  return {
    format: 'labelwise.check',
    version: 1,
    dataset: { name: project.name, layout: project.layout, root: project.root, numCases: cases.length },
    tolerance: tol,
    cases: results,
    problems,
    geometryMismatches: problems.filter((p) => GEOMETRY_PROBLEM_CODES.has(p.code)).length,
    errors: problems.filter((p) => p.severity === 'error').length,
    warnings: problems.filter((p) => p.severity === 'warning').length,
  };
}

/** What `labelwise dataset check` prints. */
export function formatCheckReport(r: CheckReport): string {
  const out: string[] = [];
  const bad = r.cases.filter((c) => !c.ok);
  out.push(`Dataset ${r.dataset.name} (${r.dataset.layout}): ${r.dataset.numCases} case(s) checked, ${r.dataset.numCases - bad.length} OK, ${bad.length} with errors`);
  out.push(`tolerances: spacing ${r.tolerance.spacing} (relative), origin ${r.tolerance.origin} × voxel size, direction ${r.tolerance.direction}`);
  if (bad.length) {
    out.push('');
    out.push(table(bad.map((c) => [c.case, c.centre, [...new Set(c.issues.map((p) => p.code))].join(', ')]), ['case', 'centre', 'issues']));
  }
  out.push('');
  out.push(formatProblems(r.problems));
  out.push('');
  out.push(r.geometryMismatches ? `${r.geometryMismatches} geometry mismatch(es): images and labels must share one voxel grid before training` : 'geometry: every image/label pair shares one voxel grid');
  return out.join('\n');
}

export function saveCheckReport(file: string, report: CheckReport): void {
  writeFileAtomic(file, JSON.stringify(report, null, 2) + '\n');
}
