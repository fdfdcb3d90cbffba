// Scoring predictions against references: one case (evaluateCase), a folder
// of cases (evaluateFolder, nnU-Net style summary.json + per-case CSV).
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '@labelwise/torch';
import { Volume } from '../io/volume.js';
import { type Affine, affineSpacing, affinesClose } from '../io/affine.js';
import { ioOrientation } from '../io/orientation.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readImage } from '../io/read.js';
import {
  type AssdFormula, type Branch, type Counts, type EmptyDistance, type MetricName, type Metrics,
  BRANCHES, branchOf, checkAssdFormula, emptyDistanceValue, imageDiagonal,
} from './binary.js';
import {
  type ClassSpec, type LabelArray, type LabelCoding,
  checkClassSpec, classBox, classCounts, classKey, classLabels, codeBoxes, codeConfusion, cropClassMask,
  encodeLabels, foregroundMembership, labelsPresent, makeCoding, membership,
} from './labels.js';
import { type Protocol, type ProtocolName, getProtocol } from './protocols.js';
import { type SurfaceDistances, boxDims, surfaceDistancesInBox, unionBox } from './surface.js';
import { meanStd } from './stats.js';

/**
 * A label map: a Volume (one channel), a tensor of integer labels ([Z, Y, X],
 * [Y, X], or with leading size-1 batch/channel dims), or raw voxels with their
 * dims listed fastest axis first (the Volume order).
 */
export type LabelInput = Volume | torch.Tensor | { data: LabelArray; dims: readonly number[] };

/** Classes as a list of labels/regions, or name → label/region (nnU-Net dataset.json style). */
export type ClassList = readonly ClassSpec[] | Readonly<Record<string, ClassSpec>>;

export interface EvaluateOptions {
  /**
   * Classes to score, each as its own binary mask: a label, or a region (the
   * union of several labels). Default: every nonzero label found in the
   * reference or prediction (protocols with fixed classes ignore this).
   */
  classes?: ClassList;
  /** Evaluation protocol (default 'labelwise'); see docs/metrics.md. */
  protocol?: ProtocolName;
  /**
   * Spacing override for protocols that use the image spacing, in the axis
   * order of the input you pass: fastest axis first for a Volume or raw data
   * (x, y, z), the tensor's dim order for tensors (z, y, x). Default: the
   * reference Volume's affine, or 1 for tensors and raw data.
   */
  spacing?: readonly number[];
  /** NSD tolerance in mm (default 1; protocols with a fixed tolerance ignore it). */
  toleranceMm?: number;
  /** Distance scores when exactly one mask is empty (labelwise protocol); default 'diagonal'. */
  emptyDistance?: EmptyDistance;
  /**
   * ASSD formula under the labelwise protocol: 'pooled' (default) or
   * 'medpy-0.4-mean-of-means' (to compare with numbers scored before the
   * change). Script protocols use their own code's formula and ignore it.
   */
  assd?: AssdFormula;
  /** Reference label whose voxels are left out of every score (nnU-Net's "ignore" label). */
  ignoreLabel?: number;
  /** Require equal affines between prediction and reference Volumes (default true). */
  checkAffine?: boolean;
  /** Names used in error messages and results (e.g. file paths). */
  names?: { pred?: string; gt?: string };
  caseId?: string;
}

export interface ClassResult {
  key: string;
  name?: string;
  branch: Branch;
  /** Confusion counts (ignored voxels excluded), whatever the protocol reports. */
  counts: Counts;
  metrics: Metrics;
  /** Set when the protocol removes the case from every mean; the reason. */
  dropped?: string;
  note?: string;
}

export interface CaseResult {
  caseId?: string;
  predFile?: string;
  gtFile?: string;
  /** Spatial dims scored, fastest axis first (trailing size-1 axes removed). */
  dims: number[];
  /** Spacing the distances used, fastest axis first. */
  spacing: number[];
  spacingSource: string;
  classes: ClassResult[];
  /** The reason the protocol dropped this case from every mean, when it did. */
  dropped?: string;
}

// ---------------------------------------------------------------- inputs

interface Grid {
  data: LabelArray;
  dims: number[];
  affine?: Affine;
  /** Tensor inputs: their rank before trimming (spacing override comes in tensor order). */
  tensorRank?: number;
}

/** Removes trailing size-1 axes (keeps at least one): a 2D image stored as [W, H, 1] is 2D. */
function trimDims(d: readonly number[]): number[] {
  const out = [...d];
  while (out.length > 1 && out[out.length - 1] === 1) out.pop();
  return out;
}

function asGrid(x: LabelInput, what: string): Grid {
  if (x instanceof Volume) {
    if (x.channels !== 1) throw new Error(`${what}: expected a label map with one channel, got ${x.channels} channels (take the argmax of probabilities first)`);
    return { data: x.data as LabelArray, dims: trimDims(x.dims), affine: x.affine };
  }
  if (x instanceof torch.Tensor) {
    const shape = x.shape;
    if (shape.length < 1) throw new Error(`${what}: a label tensor needs at least one dim`);
    if (x.dtype === 'float16' || x.dtype === 'bfloat16' || x.dtype.startsWith('complex')) throw new Error(`${what}: ${x.dtype} tensors are not label maps; convert to an integer dtype`);
    const src = x.device === 'cpu' ? x : x.cpu();
    const c = src.contiguous();
    const data = c.toTypedArray() as unknown as LabelArray;
    if (c !== src) c.dispose();
    if (src !== x) src.dispose();
    const dims = trimDims([...shape].reverse());
    if (dims.length > 3) throw new Error(`${what}: tensor of shape [${shape.join(', ')}] has more than 3 non-singleton dims; pass one label map [Z, Y, X]`);
    return { data, dims, tensorRank: shape.length };
  }
  if (!x || typeof x !== 'object' || !('data' in x) || !('dims' in x)) throw new Error(`${what}: expected a Volume, a tensor or { data, dims }`);
  let n = 1;
  for (const d of x.dims) {
    if (!Number.isInteger(d) || d < 1) throw new Error(`${what}: dims must be positive integers, got [${x.dims.join(', ')}]`);
    n *= d;
  }
  if (x.data.length !== n) throw new Error(`${what}: data has ${x.data.length} voxels, dims [${x.dims.join(', ')}] need ${n}`);
  return { data: x.data, dims: trimDims(x.dims) };
}

function checkGeometry(p: Grid, g: Grid, names: { pred: string; gt: string }, checkAffine: boolean): void {
  if (p.dims.join(',') !== g.dims.join(',')) {
    throw new Error(`geometry mismatch: prediction ${names.pred} has dims [${p.dims.join(', ')}] but reference ${names.gt} has [${g.dims.join(', ')}] (resample the prediction onto the reference grid)`);
  }
  if (checkAffine && p.affine && g.affine && !affinesClose(p.affine, g.affine, 1e-4)) {
    const fmt = (a: Affine) => `spacing [${affineSpacing(a).map((v) => +v.toFixed(4)).join(', ')}], origin [${[a[3], a[7], a[11]].map((v) => +v.toFixed(3)).join(', ')}]`;
    throw new Error(`geometry mismatch: prediction ${names.pred} affine (${fmt(p.affine)}) differs from reference ${names.gt} (${fmt(g.affine)}); the masks are not on the same grid`);
  }
}

function resolveSpacing(protocol: Protocol, g: Grid, opts: EvaluateOptions): { spacing: number[]; source: string } {
  const nd = g.dims.length;
  const ones = new Array<number>(nd).fill(1);
  const override = (): number[] | undefined => {
    const s = opts.spacing;
    if (!s) return undefined;
    for (const v of s) if (!(v > 0) || !Number.isFinite(v)) throw new Error(`evaluate: spacing must be positive numbers, got [${s.join(', ')}]`);
    if (g.tensorRank !== undefined) {
      if (s.length !== g.tensorRank && s.length !== nd) throw new Error(`evaluate: spacing has ${s.length} entries; give one per tensor dim (${g.tensorRank}) in tensor order`);
      return [...s].reverse().slice(0, nd);
    }
    if (s.length < nd) throw new Error(`evaluate: spacing has ${s.length} entries, the images have ${nd} axes (fastest first)`);
    return s.slice(0, nd);
  };
  switch (protocol.spacing) {
    case 'voxel':
      return { spacing: ones, source: 'voxel (protocol ignores spacing)' };
    case 'fixed': {
      const fs2 = protocol.fixedSpacing?.[nd as 2 | 3];
      if (!fs2) throw new Error(`evaluate: protocol '${protocol.name}' has a fixed spacing for 2D and 3D images only, got ${nd}D`);
      return { spacing: [...fs2], source: `fixed by protocol ${protocol.name}` };
    }
    case 'canonical-diagonal': {
      if (g.affine) {
        // as_closest_canonical permutes/flips axes; the canonical diagonal entry
        // for our axis a is the affine entry on the world row a maps to.
        const ornt = ioOrientation(g.affine);
        return { spacing: ones.map((_, a) => Math.abs(g.affine![ornt[a][0] * 4 + a])), source: 'affine (|diagonal| of the closest canonical affine, as PA-Seg)' };
      }
      const o = override();
      return o ? { spacing: o, source: 'option' } : { spacing: ones, source: 'default 1 (no affine)' };
    }
    case 'affine': {
      const o = override();
      if (o) return { spacing: o, source: 'option' };
      if (g.affine) return { spacing: affineSpacing(g.affine).slice(0, nd), source: 'affine' };
      return { spacing: ones, source: 'default 1 (no affine)' };
    }
  }
}

interface ResolvedClass {
  key: string;
  name?: string;
  /** null = the foreground (any nonzero label). */
  spec: ClassSpec | null;
}

export const DISC_CUP_CLASSES: Readonly<Record<string, ClassSpec>> = { disc: [1, 2], cup: [2] };

/** Normalises a ClassList to keyed classes (nnU-Net keys "1" / "(1, 2)"). */
export function normalizeClasses(list: ClassList, what = 'classes'): ResolvedClass[] {
  const entries: [string | undefined, ClassSpec][] = Array.isArray(list)
    ? (list as readonly ClassSpec[]).map((c) => [undefined, c])
    : Object.entries(list as Record<string, ClassSpec>);
  const out: ResolvedClass[] = [];
  const seen = new Set<string>();
  for (const [name, spec] of entries) {
    checkClassSpec(spec, what);
    if (classLabels(spec).includes(0)) throw new Error(`${what}: label 0 is the background and cannot be scored as a class${name ? ` (class '${name}')` : ''}`);
    const key = classKey(spec);
    if (seen.has(key)) throw new Error(`${what}: class ${key} is listed twice`);
    seen.add(key);
    out.push({ key, name, spec });
  }
  if (out.length === 0) throw new Error(`${what}: no class to score`);
  return out;
}

function resolveClasses(protocol: Protocol, opts: EvaluateOptions, g: Grid, p: Grid): ResolvedClass[] {
  const fg: ResolvedClass = { key: 'foreground', name: 'foreground (any nonzero label)', spec: null };
  const given = (): ResolvedClass[] => {
    if (opts.classes) return normalizeClasses(opts.classes);
    const found = [...new Set([...labelsPresent(g.data), ...labelsPresent(p.data)])].filter((l) => l !== opts.ignoreLabel).sort((a, b) => a - b);
    return found.map((l) => ({ key: String(l), spec: l }));
  };
  switch (protocol.classes) {
    case 'foreground': return [fg];
    case 'given+foreground': return [...given(), fg];
    case 'disc-cup': return normalizeClasses(opts.classes ?? DISC_CUP_CLASSES);
    case 'given': return given();
  }
}

// ---------------------------------------------------------------- one case

/** The ASSD formula a protocol scores with: the caller's under labelwise, the protocol's own otherwise. */
function resolveAssd(protocol: Protocol, requested: AssdFormula | undefined): AssdFormula {
  if (requested !== undefined) checkAssdFormula(requested, 'evaluate: assd');
  if (protocol.usesEmptyPolicy) return requested ?? protocol.assd ?? 'pooled';
  return protocol.assd ?? 'pooled';
}

/**
 * Scores one prediction against its reference under a protocol (default
 * 'labelwise'). Every class gets its branch (which masks are empty) and the
 * protocol's metric values; distances are in mm unless the protocol says
 * otherwise.
 */
export function evaluateCase(pred: LabelInput, gt: LabelInput, opts: EvaluateOptions = {}): CaseResult {
  const protocol = getProtocol(opts.protocol ?? 'labelwise');
  const names = { pred: opts.names?.pred ?? 'prediction', gt: opts.names?.gt ?? 'reference' };
  const p = asGrid(pred, `evaluate: ${names.pred}`);
  const g = asGrid(gt, `evaluate: ${names.gt}`);
  checkGeometry(p, g, names, opts.checkAffine !== false);
  if (g.dims.length > 3) throw new Error(`evaluate: ${names.gt} has ${g.dims.length} spatial axes; 1 to 3 are supported`);
  if (opts.ignoreLabel !== undefined && (!Number.isInteger(opts.ignoreLabel) || opts.ignoreLabel <= 0)) {
    throw new Error(`evaluate: ignoreLabel must be a positive integer, got ${opts.ignoreLabel}`);
  }
  const toleranceMm = protocol.toleranceMm ?? opts.toleranceMm ?? 1;
  if (!(toleranceMm >= 0) || !Number.isFinite(toleranceMm)) throw new Error(`evaluate: toleranceMm must be a non-negative number, got ${toleranceMm}`);
  const { spacing, source } = resolveSpacing(protocol, g, opts);
  const classes = resolveClasses(protocol, opts, g, p);
  if (opts.ignoreLabel !== undefined) {
    for (const c of classes) {
      if (c.spec !== null && classLabels(c.spec).includes(opts.ignoreLabel)) throw new Error(`evaluate: the ignore label ${opts.ignoreLabel} is also part of class ${c.key}`);
    }
  }
  const specs = classes.flatMap((c) => (c.spec === null ? [] : [c.spec]));
  if (opts.ignoreLabel !== undefined) specs.push(opts.ignoreLabel);
  const coding: LabelCoding = makeCoding(specs);
  const pc = encodeLabels(p.data, coding);
  const gc = encodeLabels(g.data, coding);
  const nc = coding.numCodes;
  const ignoreCode = opts.ignoreLabel !== undefined ? coding.codeOf.get(opts.ignoreLabel) : undefined;
  const conf = codeConfusion(pc, gc, nc);
  if (ignoreCode !== undefined) {
    // Ignored reference voxels leave every count (nnU-Net's use_mask) and every
    // mask: no class contains the ignore label, so zeroing its column is exact.
    for (let q = 0; q < nc; q++) conf[q * nc + ignoreCode] = 0;
    for (let i = 0; i < gc.length; i++) if (gc[i] === ignoreCode) { gc[i] = 0; pc[i] = 0; }
  }
  const nd = g.dims.length;
  const predBoxes = codeBoxes(pc, g.dims, nc);
  const refBoxes = codeBoxes(gc, g.dims, nc);
  const emptyDistance = protocol.usesEmptyPolicy ? emptyDistanceValue(opts.emptyDistance ?? 'diagonal', imageDiagonal(g.dims, spacing)) : NaN;
  const assd = resolveAssd(protocol, opts.assd);

  const results: ClassResult[] = [];
  let dropped: string | undefined;
  for (const c of classes) {
    const member = c.spec === null ? foregroundMembership(coding) : membership(c.spec, coding);
    const counts = classCounts(conf, nc, member, member);
    const branch = branchOf(counts);
    let cache: SurfaceDistances | undefined;
    const distances = (): SurfaceDistances => {
      if (cache) return cache;
      if (branch !== 'both_present') throw new Error(`evaluate: internal error, surface distances requested for class ${c.key} with an empty mask`);
      const box = unionBox(classBox(predBoxes, member, nd), classBox(refBoxes, member, nd));
      cache = surfaceDistancesInBox(cropClassMask(pc, g.dims, box, member), cropClassMask(gc, g.dims, box, member), boxDims(box), spacing);
      return cache;
    };
    const s = protocol.score({ counts, branch, distances, toleranceMm, emptyDistance, assd });
    const r: ClassResult = { key: c.key, branch, counts, metrics: s.metrics };
    if (c.name !== undefined) r.name = c.name;
    if (s.dropCase) { r.dropped = s.dropCase; dropped ??= `class ${c.key}: ${s.dropCase}`; }
    if (s.note) r.note = s.note;
    results.push(r);
  }
  const out: CaseResult = { dims: g.dims, spacing, spacingSource: source, classes: results };
  if (opts.caseId !== undefined) out.caseId = opts.caseId;
  if (dropped) out.dropped = dropped;
  return out;
}

// ---------------------------------------------------------------- summary

export interface Summary {
  protocol: ProtocolName;
  protocol_title: string;
  protocol_source: string;
  empty_rule: string;
  /** Where the spacing came from (per case in metric_per_case). */
  spacing_rule: string;
  tolerance_mm: number | null;
  empty_distance: EmptyDistance | null;
  /** How ASSD was computed (null when the protocol reports no ASSD); see AssdFormula. */
  assd_formula: AssdFormula | null;
  /** The MedPy version the protocol's original code used, and where that is pinned. */
  medpy: string;
  ignore_label: number | null;
  metrics: MetricName[];
  /** Class key → name (when known). */
  classes: Record<string, string>;
  n_cases: number;
  metric_per_case: {
    case: string;
    prediction_file?: string;
    reference_file?: string;
    spacing: number[];
    spacing_source: string;
    dropped?: string;
    branches: Record<string, Branch>;
    metrics: Record<string, Metrics>;
    /** Confusion counts per class (ignored voxels excluded). */
    counts: Record<string, { TP: number; FP: number; FN: number; TN: number }>;
    notes?: Record<string, string>;
  }[];
  /** Per class, the mean over the cases the protocol keeps (NaN values left out; see n). */
  mean: Record<string, Metrics>;
  std: Record<string, Metrics>;
  /** Per class and metric, how many cases entered the mean. */
  n: Record<string, Partial<Record<MetricName, number>>>;
  /** Mean over classes of the class means (nnU-Net's foreground_mean). */
  foreground_mean: Metrics;
  /** Dice over all voxels of all kept cases at once (global Dice; +1 smoothed for uda-clr). */
  pooled_dice: Record<string, number>;
  /** Per class: how many cases fell in each empty-mask branch (all cases, dropped ones included). */
  branch_counts: Record<string, Record<Branch, number>>;
  dropped_cases: { case: string; reason: string }[];
  notes: string[];
}

export interface SummaryContext {
  protocol: ProtocolName;
  toleranceMm?: number;
  emptyDistance?: EmptyDistance;
  /** The ASSD formula the cases were scored with (labelwise; default 'pooled'). */
  assd?: AssdFormula;
  ignoreLabel?: number;
  notes?: string[];
}

/** Aggregates case results nnU-Net style, plus branch counts, std and pooled Dice. */
export function summarize(cases: readonly CaseResult[], ctx: SummaryContext): Summary {
  const protocol = getProtocol(ctx.protocol);
  const keys: string[] = [];
  const names: Record<string, string> = {};
  for (const c of cases) for (const r of c.classes) {
    if (!keys.includes(r.key)) keys.push(r.key);
    if (r.name !== undefined) names[r.key] = r.name;
  }
  const mean: Record<string, Metrics> = {};
  const std: Record<string, Metrics> = {};
  const n: Record<string, Partial<Record<MetricName, number>>> = {};
  const branchCounts: Record<string, Record<Branch, number>> = {};
  const pooled: Record<string, number> = {};
  const kept = cases.filter((c) => !c.dropped);
  for (const key of keys) {
    mean[key] = {}; std[key] = {}; n[key] = {};
    branchCounts[key] = Object.fromEntries(BRANCHES.map((b) => [b, 0])) as Record<Branch, number>;
    for (const c of cases) {
      const r = c.classes.find((x) => x.key === key);
      if (r) branchCounts[key][r.branch]++;
    }
    for (const m of protocol.metrics) {
      const vals: number[] = [];
      for (const c of kept) {
        const v = c.classes.find((x) => x.key === key)?.metrics[m];
        if (v !== undefined) vals.push(v);
      }
      const s = meanStd(vals);
      mean[key][m] = s.mean; std[key][m] = s.std; n[key][m] = s.n;
    }
    let tp = 0; let fpfn = 0;
    for (const c of kept) {
      const r = c.classes.find((x) => x.key === key);
      if (r) { tp += r.counts.tp; fpfn += r.counts.fp + r.counts.fn; }
    }
    const sm = protocol.pooledSmooth;
    pooled[key] = (2 * tp + sm) / (2 * tp + fpfn + sm);
    if (2 * tp + fpfn + sm === 0) pooled[key] = NaN;
  }
  const foreground: Metrics = {};
  for (const m of protocol.metrics) {
    const vals = keys.map((k) => mean[k][m] ?? NaN);
    // Like nnU-Net's np.mean over class means: a NaN class mean makes it NaN.
    foreground[m] = vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : NaN;
  }
  const ruleText = (() => {
    const s = new Set(cases.map((c) => c.spacingSource));
    return s.size ? [...s].join('; ') : protocol.spacing;
  })();
  return {
    protocol: protocol.name,
    protocol_title: protocol.title,
    protocol_source: protocol.source,
    empty_rule: protocol.emptyRule,
    spacing_rule: ruleText,
    tolerance_mm: protocol.metrics.includes('NSD') ? (protocol.toleranceMm ?? ctx.toleranceMm ?? 1) : null,
    empty_distance: protocol.usesEmptyPolicy ? (ctx.emptyDistance ?? 'diagonal') : null,
    assd_formula: protocol.metrics.includes('ASSD') ? resolveAssd(protocol, ctx.assd) : null,
    medpy: protocol.medpy,
    ignore_label: ctx.ignoreLabel ?? null,
    metrics: [...protocol.metrics],
    classes: names,
    n_cases: cases.length,
    metric_per_case: cases.map((c, i) => {
      const e: Summary['metric_per_case'][number] = {
        case: c.caseId ?? String(i),
        spacing: c.spacing,
        spacing_source: c.spacingSource,
        branches: Object.fromEntries(c.classes.map((r) => [r.key, r.branch])),
        metrics: Object.fromEntries(c.classes.map((r) => [r.key, r.metrics])),
        counts: Object.fromEntries(c.classes.map((r) => [r.key, { TP: r.counts.tp, FP: r.counts.fp, FN: r.counts.fn, TN: r.counts.tn }])),
      };
      if (c.predFile) e.prediction_file = c.predFile;
      if (c.gtFile) e.reference_file = c.gtFile;
      if (c.dropped) e.dropped = c.dropped;
      const notes = c.classes.filter((r) => r.note).map((r) => [r.key, r.note!] as const);
      if (notes.length) e.notes = Object.fromEntries(notes);
      return e;
    }),
    mean, std, n,
    foreground_mean: foreground,
    pooled_dice: pooled,
    branch_counts: branchCounts,
    dropped_cases: cases.filter((c) => c.dropped).map((c, i) => ({ case: c.caseId ?? String(i), reason: c.dropped! })),
    notes: ctx.notes ?? [],
  };
}

// ---------------------------------------------------------------- folders

/** Label file extensions evaluateFolder matches (longest first). JPEG is lossy, so not a label format. */
export const LABEL_EXTENSIONS = ['.nii.gz', '.nii', '.hdr', '.png', '.bmp'] as const;

/** Case id of a label file name (the name without its extension), or null when not a label file. */
export function caseIdOf(file: string): string | null {
  const base = path.basename(file);
  const lower = base.toLowerCase();
  for (const ext of LABEL_EXTENSIONS) if (lower.endsWith(ext) && base.length > ext.length) return base.slice(0, -ext.length);
  return null;
}

/** Case id → file for the label files directly inside `dir`; two files of one case are an error. */
export function listLabelFiles(dir: string, what: string): Map<string, string> {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new Error(`evaluate: cannot read the ${what} folder ${dir}: ${(e as Error).message}`);
  }
  const out = new Map<string, string>();
  for (const e of entries) {
    if (!e.isFile() && !e.isSymbolicLink()) continue;
    const id = caseIdOf(e.name);
    if (id === null) continue;
    const file = path.join(dir, e.name);
    const prev = out.get(id);
    if (prev) throw new Error(`evaluate: the ${what} folder has two files for case '${id}': ${prev} and ${file}`);
    out.set(id, file);
  }
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export interface EvaluateFolderOptions extends Omit<EvaluateOptions, 'names' | 'caseId'> {
  /**
   * Score only the cases that have a prediction (nnU-Net's behaviour, e.g. one
   * cross-validation fold against a full labelsTr). Default false: every
   * reference needs a prediction, since silently skipping a missing one
   * flatters the means.
   */
  onlyPredicted?: boolean;
  /** Where to write summary.json (atomically); nothing written when absent. */
  output?: string;
  /** Where to write the per-case CSV; default `<output minus .json>.csv` when output is set. */
  csv?: string | null;
  /** Reader for label files (default: readImage from io/read). */
  read?: (file: string) => Volume | Promise<Volume>;
  /** Progress callback after each case. */
  onCase?: (result: CaseResult, index: number, total: number) => void;
}

/**
 * Scores every prediction in `predDir` against the reference of the same
 * case id in `gtDir` (file name without extension: `case.nii.gz` ↔
 * `case.nii.gz`), then aggregates nnU-Net style. A prediction without a
 * reference, a reference without a prediction (unless onlyPredicted), or a
 * geometry mismatch is an error naming the files.
 */
export async function evaluateFolder(predDir: string, gtDir: string, opts: EvaluateFolderOptions = {}): Promise<Summary> {
  const protocol = getProtocol(opts.protocol ?? 'labelwise');
  const preds = listLabelFiles(predDir, 'prediction');
  const refs = listLabelFiles(gtDir, 'reference');
  if (refs.size === 0) throw new Error(`evaluate: no label files (${LABEL_EXTENSIONS.join(', ')}) in the reference folder ${gtDir}`);
  if (preds.size === 0) throw new Error(`evaluate: no label files (${LABEL_EXTENSIONS.join(', ')}) in the prediction folder ${predDir}`);
  const orphans = [...preds.keys()].filter((id) => !refs.has(id));
  if (orphans.length) {
    throw new Error(`evaluate: ${orphans.length} prediction(s) have no reference in ${gtDir}: ${orphans.slice(0, 10).map((id) => preds.get(id)).join(', ')}${orphans.length > 10 ? ', ...' : ''}`);
  }
  const missing = [...refs.keys()].filter((id) => !preds.has(id));
  if (missing.length && !opts.onlyPredicted) {
    throw new Error(`evaluate: ${missing.length} reference case(s) have no prediction in ${predDir}: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''} (score only the predicted cases with onlyPredicted / --only-predicted)`);
  }
  const ids = [...preds.keys()];
  const read = opts.read ?? ((f: string) => readImage(f));
  const notes: string[] = [];
  if (opts.classes && protocol.classes === 'foreground') notes.push(`protocol ${protocol.name} scores the binarised foreground (any nonzero label); the classes given were not used`);
  if (missing.length) notes.push(`${missing.length} reference case(s) without a prediction were not scored (onlyPredicted): ${missing.join(', ')}`);

  let classes = opts.classes;
  if (!classes && (protocol.classes === 'given' || protocol.classes === 'given+foreground')) {
    // One consistent class list for all cases: every label in the scored references.
    const found = new Set<number>();
    for (const id of ids) {
      const v = await read(refs.get(id)!);
      for (const l of labelsPresent(v.data as LabelArray)) if (l !== opts.ignoreLabel) found.add(l);
    }
    classes = [...found].sort((a, b) => a - b);
    if (classes.length === 0) throw new Error(`evaluate: the references in ${gtDir} contain no nonzero label; pass the classes to score`);
    notes.push(`classes not given: scored every label found in the references (${classes.join(', ')})`);
  }

  const results: CaseResult[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    const predFile = preds.get(id)!;
    const gtFile = refs.get(id)!;
    const [pv, gv] = [await read(predFile), await read(gtFile)];
    const r = evaluateCase(pv, gv, { ...opts, classes, caseId: id, names: { pred: predFile, gt: gtFile } });
    r.predFile = predFile;
    r.gtFile = gtFile;
    results.push(r);
    opts.onCase?.(r, i, ids.length);
  }
  const summary = summarize(results, { protocol: protocol.name, toleranceMm: opts.toleranceMm, emptyDistance: opts.emptyDistance, assd: opts.assd, ignoreLabel: opts.ignoreLabel, notes });
  if (opts.output) {
    writeSummaryJson(opts.output, summary);
    const csv = opts.csv === undefined ? opts.output.replace(/\.json$/i, '') + '.csv' : opts.csv;
    if (csv) writeFileAtomic(csv, perCaseCsv(summary));
  } else if (opts.csv) {
    writeFileAtomic(opts.csv, perCaseCsv(summary));
  }
  return summary;
}

/** summary.json text: 2-space JSON; NaN and ±Infinity (not JSON) are written as null. */
export function summaryJson(summary: Summary): string {
  return JSON.stringify(summary, null, 2) + '\n';
}

export function writeSummaryJson(file: string, summary: Summary): void {
  writeFileAtomic(file, summaryJson(summary));
}

function csvCell(v: string | number | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (v === Infinity) return 'inf';
    if (v === -Infinity) return '-inf';
    return String(v);
  }
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** One row per case and class: case, class, name, branch, dropped, the protocol's metrics, then the counts. */
export function perCaseCsv(summary: Summary): string {
  const metrics = summary.metrics.filter((m) => !['TP', 'FP', 'FN', 'TN'].includes(m));
  const header = ['case', 'class', 'class_name', 'branch', 'dropped', ...metrics, 'TP', 'FP', 'FN', 'TN'];
  const lines = [header.join(',')];
  for (const c of summary.metric_per_case) {
    for (const key of Object.keys(c.metrics)) {
      const m = c.metrics[key];
      lines.push([
        csvCell(c.case), csvCell(key), csvCell(summary.classes[key]), csvCell(c.branches[key]), csvCell(c.dropped),
        ...metrics.map((k) => csvCell(m[k])),
        ...(['TP', 'FP', 'FN', 'TN'] as const).map((k) => csvCell(c.counts[key]?.[k])),
      ].join(','));
    }
  }
  return lines.join('\n') + '\n';
}
