// What a 3D (patch-based, nnU-Net-style) experiment trains and evaluates on,
// resolved from data.dataset: the dataset is opened (nnU-Net raw, MSD,
// manifest, project JSON, or the seeds' LA HDF5 layout), split (its own
// split, else a seeded k-fold / ratio split as for 2D), cut to the label
// budget by cases, fingerprinted and planned (nnU-Net's planner: target
// spacing, transpose, per-channel normalisation, U-Net topology), and every
// case is preprocessed once into a validated on-disk cache. Training patches
// are then sampled from that cache (patch-producer.ts); validation predicts
// preprocessed volumes; the test split is predicted on the preprocessed grid
// and mapped back to each image's own grid before it is scored.
//
// Label-budget honesty: cases outside the budget, and the test cases, are
// preprocessed WITHOUT their labels, so neither the planner's intensity
// statistics nor anything cached for training can see them. Test labels are
// read from the original files only at the final evaluation.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '@labelwise/torch';
import { type Case, type Project, allCases, isRegionBased, labelNames, labelValues, loadCase } from '../data/dataset.js';
import { computeFingerprint, saveFingerprint } from '../data/fingerprint.js';
import { openDataset } from '../data/sources/index.js';
import { applyFold, kFoldSplits, ratioSplit, selectLabelled } from '../data/splits.js';
import type { Volume } from '../io/volume.js';
import { caseSourceFiles, loadCachedCase, preprocessDataset, readCacheSidecar, statSources } from '../transforms/cache.js';
import { type NormalizationConfig, validateNormalization } from '../transforms/normalize.js';
import { PLANNER_DEFAULTS, type Plans, fingerprintFromJson, loadPlans, planExperiment, poolAndConvProps, preprocessConfigFromPlan, savePlans } from '../transforms/plan.js';
import type { CaseProperties, PreprocessConfig } from '../transforms/preprocess.js';
import type { WeakLabelSpec } from '../transforms/weak-labels.js';
import { type Experiment, datasetLayout } from '../config/experiment.js';

/** A validation case on the preprocessed grid. */
export interface PatchVolumeCase {
  id: string;
  /** image float32 [C, Z, Y, X] and label [Z, Y, X] (classes; outside the non-zero region is 0), preprocessed. */
  load(): Promise<{ image: torch.Tensor; label: torch.Tensor; props: CaseProperties }>;
}

/** A test case in its original geometry: the image as a user would give it to `labelwise predict`, and its label. */
export interface PatchTestCase {
  id: string;
  loadVolumes(): Promise<{ image: Volume; label: Volume }>;
}

export interface PatchPlan {
  layout: string;
  root: string;
  /** Where the preprocessed cases (and the fingerprint and plans) live. */
  cacheDir: string;
  /** The preprocessing every case went through (also what inference must redo). */
  preprocess: PreprocessConfig;
  /** The planner's output the preprocessing and the default network come from. */
  plans: Plans;
  /** Case ids of the training streams (their cache entries hold labels only when labelled). */
  labelled: string[];
  unlabelled: string[];
  /** Cache ids of the weak-label entries (<case>~points / <case>~scribbles) of the training cases, when data.weak is set. */
  weak: { points?: string[]; scribbles?: string[] };
  validation: PatchVolumeCase[];
  test: PatchTestCase[];
  inChannels: number;
  numClasses: number;
  /** Class names by value (index = label value). */
  classNames: string[];
  /** The dataset's 'ignore' label (left out of the loss and the scores), if any. */
  ignoreLabel: number | null;
  channelNames: string[];
  budget: { labelledCases: number | 'all'; unlabelledCases: number };
  protocols: string[];
  splits: Record<string, string[]>;
  /** Cases computed vs reused from the cache by this resolution. */
  cache: { computed: number; reused: number };
}

export interface PatchPlanOptions {
  /** Preprocessed cache folder (default <runDir>/preprocessed); safe to share between runs (entries are keyed). */
  cacheDir?: string;
  /** Use these plans instead of fingerprinting and planning (e.g. `labelwise plan` output, hand-edited). */
  plans?: Plans | string;
  /** Called per preprocessed case. */
  onProgress?: (done: number, total: number, caseId: string, reused: boolean) => void;
}

const PLAN_KEY_VERSION = 1;


function hashJson(v: unknown): string {
  return crypto.createHash('sha256').update(JSON.stringify(v)).digest('hex');
}

/** The label map's classes as 0..K-1 (what a softmax network predicts). */
function classesOf(project: Project, where: string): { names: string[]; ignore: number | null } {
  if (isRegionBased(project.labels)) {
    throw new Error(`${where}: the dataset's labels define regions (${JSON.stringify(project.labels)}); 3D patch training predicts exclusive classes — give plain integer labels`);
  }
  const byValue = labelNames(project.labels);
  const ignore = typeof project.labels.ignore === 'number' ? project.labels.ignore : null;
  const values = labelValues(project.labels).filter((v) => v !== ignore);
  values.forEach((v, i) => {
    if (v !== i) throw new Error(`${where}: label values must be 0..${values.length - 1} without gaps for a softmax network, got [${values.join(', ')}]`);
  });
  if (values.length < 2) throw new Error(`${where}: needs background and at least one class, got ${JSON.stringify(project.labels)}`);
  return { names: values.map((v) => byValue.get(v) ?? `class_${v}`), ignore };
}

/** Splits the project in place like the 2D plan: its own val split, else k-fold (when it has a test split) or 60/20/20. */
function assignSplits(project: Project, exp: Experiment): void {
  const cases = allCases(project);
  if (cases.some((c) => c.split === 'val')) return;
  const set = cases.some((c) => c.split === 'test')
    ? kFoldSplits(project, { folds: 5, seed: exp.seed })
    : ratioSplit(project, { train: 0.6, val: 0.2, test: 0.2, seed: exp.seed });
  applyFold(project, set, exp.data.fold ?? 0);
}

/** A copy of a case that carries no label (budget-unlabelled or test: its label must not be used). */
function withoutLabel(c: Case): Case {
  const { label: _l, labelEncoding: _e, ...rest } = c;
  return { ...rest, status: 'unlabelled', meta: { ...(c.meta ?? {}), labelHidden: true } };
}

/**
 * The 3D full-resolution configuration's network topology re-derived for
 * the experiment's patch size (nnU-Net's get_pool_and_conv_props at the
 * plan's target spacing). Throws, with a valid size, when the patch is not
 * divisible by 2^pools per axis.
 */
export function topologyForPatch(plans: Plans, patchSize: readonly number[]): { kernelSizes: number[][]; strides: number[][]; divisor: number[] } {
  const cfg = plans.configurations['3d_fullres'];
  if (!cfg) throw new Error(`plans: no '3d_fullres' configuration (the plan has: ${Object.keys(plans.configurations).join(', ')}); the data looks 2D — use data.dims: 2d`);
  const props = poolAndConvProps(cfg.spacing, patchSize, PLANNER_DEFAULTS.featureMapMinEdgeLength);
  if (props.patchSize.some((p, i) => p !== patchSize[i])) {
    throw new Error(`data.patchSize: [${patchSize.join(', ')}] is not divisible by [${props.shapeMustBeDivisibleBy.join(', ')}] (the planned U-Net pools ${props.poolOpsPerAxis.join('/')} times per axis at spacing [${cfg.spacing.map((s) => +s.toFixed(4)).join(', ')}]); use [${props.patchSize.join(', ')}] or give network.kernelSizes and network.strides`);
  }
  return { kernelSizes: props.kernelSizes, strides: props.strides, divisor: props.shapeMustBeDivisibleBy };
}

/**
 * Fingerprints the (label-budgeted) project and plans it, under
 * <cacheDir>/plans-<key>/ so runs with the same inputs reuse the result and
 * runs with different ones never overwrite each other's.
 */
async function planFor(project: Project, cacheDir: string, where: string): Promise<Plans> {
  const pool = allCases(project).filter((c) => c.split !== 'test');
  const key = hashJson({
    v: PLAN_KEY_VERSION,
    labels: project.labels,
    channels: project.channelNames,
    cases: pool.map((c) => ({ id: c.id, status: c.status, sources: statSources(caseSourceFiles(project, c)) })),
  });
  const dir = path.join(cacheDir, `plans-${key.slice(0, 16)}`);
  const plansFile = path.join(dir, 'plans.json');
  if (fs.existsSync(plansFile)) return loadPlans(plansFile);
  const fp = await computeFingerprint(project, { cases: pool.map((c) => c.id) });
  const bad = fp.cases.filter((c) => c.error);
  if (bad.length) throw new Error(`${where}: ${bad.length} case(s) could not be read: ${bad.slice(0, 3).map((c) => `${c.case}: ${c.error}`).join('; ')}`);
  fs.mkdirSync(dir, { recursive: true });
  saveFingerprint(path.join(dir, 'dataset_fingerprint.json'), fp);
  const plans = planExperiment(fingerprintFromJson(fp, undefined, `fingerprint of ${where}`), { dims: '3d' });
  savePlans(plansFile, plans);
  return plans;
}

function normalizationFor(exp: Experiment, plans: Plans, layout: string, channels: number): NormalizationConfig | NormalizationConfig[] {
  if (exp.data.normalization) return validateNormalization(exp.data.normalization, 'data.normalization');
  // LA volumes are stored z-scored already (UA-MT / BCP): normalising again would change nothing but the mask.
  if (layout === 'h5-la') return { scheme: 'none' };
  const planned = plans.configurations['3d_fullres']?.normalization;
  if (!planned || planned.length !== channels) throw new Error(`plans: '3d_fullres' needs one normalization per channel (${channels})`);
  return planned;
}

/** Resolves data, splits, label budget, plan and preprocessing cache for a 3D experiment. */
export async function resolvePatchPlan(exp: Experiment, runDir: string, options: PatchPlanOptions = {}): Promise<PatchPlan> {
  const root = exp.data.dataset;
  const where = `data.dataset ${root}`;
  if (!fs.existsSync(root)) throw new Error(`data.dataset: ${root} does not exist`);
  const layout = exp.data.layout ? datasetLayout(exp.data.layout) : undefined;
  const source = await openDataset(root, { ...(exp.data.open ?? {}), ...(layout ? { layout: layout as never } : {}) });
  const cases = allCases(source);
  if (cases.length === 0) throw new Error(`${where}: holds no cases`);
  const { names: classNames, ignore } = classesOf(source, where);
  if (ignore !== null) {
    const li = (exp.loss as { ignoreIndex?: unknown }).ignoreIndex;
    if (li !== ignore) throw new Error(`${where}: the dataset has an 'ignore' label (${ignore}); set loss.ignoreIndex: ${ignore} so those voxels leave the loss`);
  }
  assignSplits(source, exp);
  const splitOf = (c: Case) => c.split ?? 'train';
  const train = cases.filter((c) => splitOf(c) === 'train');
  const labelledPool = train.filter((c) => c.status === 'labelled');
  if (labelledPool.length === 0) throw new Error(`${where}: no labelled training case`);
  const n = exp.data.labelled;
  if (n !== undefined && n > labelledPool.length) throw new Error(`data.labelled: ${n} cases requested, the training split has ${labelledPool.length} labelled`);
  const chosen = new Set(n === undefined ? labelledPool.map((c) => c.id) : selectLabelled(labelledPool, { count: n, unit: 'cases', order: 'listed' }).labelled);

  // The project preprocessing and planning see: labels only where training may use them.
  const visible = (c: Case): Case => {
    const s = splitOf(c);
    if (s === 'test' || (s === 'train' && c.status === 'labelled' && !chosen.has(c.id))) return withoutLabel(c);
    return c;
  };
  const project: Project = { ...source, centres: source.centres.map((ce) => ({ ...ce, cases: ce.cases.map(visible) })) };
  const cacheRoot = path.resolve(options.cacheDir ?? path.join(runDir, 'preprocessed'));
  fs.mkdirSync(cacheRoot, { recursive: true });

  const plans = typeof options.plans === 'string' ? loadPlans(options.plans) : options.plans ?? await planFor(project, cacheRoot, where);
  const channels = source.channelNames.length || plans.channelNames.length;
  const foreground = classNames.map((_, v) => v).filter((v) => v > 0);
  const preprocess: PreprocessConfig = { ...preprocessConfigFromPlan(plans, '3d_fullres', foreground), normalization: normalizationFor(exp, plans, source.layout, channels) };

  const all = allCases(project);
  // One folder per (config, which cases carry labels): runs sharing a cache never rewrite each other's entries.
  const cacheDir = path.join(cacheRoot, `3d_fullres-${hashJson({ preprocess, cases: all.map((c) => [c.id, c.status]) }).slice(0, 16)}`);
  const result = await preprocessDataset(project, preprocess, cacheDir, { workers: exp.data.workers, onProgress: options.onProgress });
  const byId = new Map(cases.map((c) => [c.id, c]));

  const labelled = train.filter((c) => chosen.has(c.id)).map((c) => c.id);
  const unlabelled = all.filter((c) => splitOf(c) === 'train' && c.status !== 'labelled').map((c) => c.id);
  const validation: PatchVolumeCase[] = all.filter((c) => splitOf(c) === 'val' && c.status === 'labelled').map((c) => ({
    id: c.id,
    async load() {
      const cached = loadCachedCase(cacheDir, c.id);
      if (!cached.label) {
        cached.image.dispose();
        throw new Error(`case ${c.id}: its cache entry in ${cacheDir} has no label to validate against`);
      }
      // -1 marks "outside the non-zero region": background for scoring.
      const label = torch.tidy(() => cached.label!.squeeze(0).clamp(0).to('uint8'));
      cached.label.dispose();
      return { image: cached.image, label, props: cached.props };
    },
  }));
  const test: PatchTestCase[] = all.filter((c) => splitOf(c) === 'test' && byId.get(c.id)!.status === 'labelled').map((c) => {
    const original = byId.get(c.id)!;
    return {
      id: c.id,
      async loadVolumes() {
        const lc = await loadCase(source, original);
        if (!lc.label) throw new Error(`test case ${c.id}: its label could not be read`);
        return { image: lc.image, label: lc.label };
      },
    };
  });
  // Weak labels (points or scribbles) of every training case, in the same cache folder.
  const weak: PatchPlan['weak'] = {};
  const w = exp.data.weak;
  if (w) {
    const spec: WeakLabelSpec = {
      kind: w.kind, source: w.source === 'simulate' ? 'simulate' : path.resolve(w.source), seed: w.seed ?? exp.seed, numClasses: classNames.length,
      geodesic: { lambda: w.geodesic.lambda, iterations: w.geodesic.iterations, threshold: w.geodesic.threshold, airIsBackground: w.geodesic.airIsBackground },
    };
    // Simulation reads the full mask of a case (its plain cache entry may still hide it: label budget).
    const weakCases = spec.source === 'simulate' ? train.filter((c) => c.status === 'labelled') : train;
    if (weakCases.length === 0) throw new Error(`data.weak: the training split has no case to ${spec.source === 'simulate' ? 'simulate annotations from (no labelled case)' : 'read annotations for'}`);
    const wr = await preprocessDataset({ ...source, centres: source.centres.map((ce) => ({ ...ce, cases: ce.cases.filter((c) => weakCases.includes(c)) })) }, preprocess, cacheDir, { workers: exp.data.workers, weak: spec, onProgress: options.onProgress });
    weak[w.kind] = wr.entries.map((e) => e.caseId);
  }
  for (const id of [...labelled, ...unlabelled, ...(weak.points ?? []), ...(weak.scribbles ?? [])]) {
    if (!readCacheSidecar(cacheDir, id)) throw new Error(`preprocess cache ${cacheDir}: case '${id}' is missing after preprocessing`);
  }
  return {
    layout: source.layout,
    root,
    cacheDir,
    preprocess,
    plans,
    labelled,
    unlabelled,
    weak,
    validation,
    test,
    inChannels: channels,
    numClasses: classNames.length,
    classNames,
    ignoreLabel: ignore,
    channelNames: source.channelNames,
    budget: { labelledCases: n ?? 'all', unlabelledCases: unlabelled.length },
    // Weak runs also report PA-Seg's protocol (cases with an empty prediction dropped), for comparison with its paper.
    protocols: source.layout === 'h5-la' ? ['labelwise', 'bcp'] : exp.data.weak ? ['labelwise', 'pa-seg'] : ['labelwise'],
    splits: Object.fromEntries(['train', 'val', 'test'].map((s) => [s, cases.filter((c) => splitOf(c) === s).map((c) => c.id)])),
    cache: { computed: result.computed, reused: result.reused },
  };
}

/** What data_plan.json records about a patch plan (ids instead of loaders). */
export function describePatchPlan(plan: PatchPlan): Record<string, unknown> {
  const cfg = plan.plans.configurations['3d_fullres'];
  return {
    layout: plan.layout,
    root: plan.root,
    cacheDir: plan.cacheDir,
    labelled: plan.labelled,
    unlabelled: plan.unlabelled,
    ...(plan.weak.points || plan.weak.scribbles ? { weak: plan.weak } : {}),
    validation: plan.validation.map((v) => v.id),
    test: plan.test.map((t) => t.id),
    inChannels: plan.inChannels,
    numClasses: plan.numClasses,
    classNames: plan.classNames,
    channelNames: plan.channelNames,
    budget: plan.budget,
    protocols: plan.protocols,
    splits: plan.splits,
    preprocessing: plan.preprocess,
    planned: cfg ? { spacing: cfg.spacing, patchSize: cfg.patchSize, batchSize: cfg.batchSize, medianShape: cfg.medianShape, transposeForward: plan.plans.transposeForward } : null,
    cache: plan.cache,
  };
}
