// Deterministic, recorded train/validation(/test) splits.
//
// K-fold rule (identical to nnU-Net v2's `generate_crossval_split` for a
// single centre): take the group keys (patient id, or case id when no
// patient is known) of one centre, sort them (code-unit order, like
// `np.sort` on strings), shuffle their indices with
// `np.random.RandomState(seed).shuffle(np.arange(n))` (seed 12345 by
// default, reproduced bit for bit by NumpyRandomState), and cut the shuffled
// order into `k` consecutive folds of size ⌊n/k⌋, the first `n mod k` folds
// one larger (sklearn `KFold`). Fold f validates on its chunk and trains on
// the rest; both lists are written in sorted order, as nnU-Net does.
// With several centres each centre is split on its own (a fresh
// RandomState(seed) per centre, centres in project order) and fold f is the
// union of every centre's fold f — stratified by centre.
//
// Cases already assigned to 'test' are held out of every fold; cases without
// a full label (points/unlabelled) are never validated on and join the
// training list of every fold (semi- and weakly-supervised training data).
import fs from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';
import type { Case, Project, SplitName } from './dataset.js';
import { allCases } from './dataset.js';
import { NumpyRandomState } from '../random/numpy-random.js';

/** One fold, in nnU-Net's `splits_final.json` shape (extra keys are ignored by nnU-Net). */
export interface Fold {
  train: string[];
  val: string[];
}

export interface SplitRecipe {
  method: 'kfold' | 'ratio' | 'existing';
  seed?: number;
  folds?: number;
  ratios?: { train: number; val: number; test: number };
  stratifiedByCentre: boolean;
  groupBy: 'patient' | 'case';
}

export interface SplitSet {
  folds: Fold[];
  /** Held-out test cases, common to every fold. */
  test: string[];
  recipe: SplitRecipe;
}

const groupKey = (c: Case): string => c.patient ?? c.id;
const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function casesOf(src: Project | readonly Case[]): Case[] {
  return Array.isArray(src) ? (src as Case[]).slice() : allCases(src as Project);
}

/** Cases grouped by centre, centres in first-seen order. */
function byCentre(cases: readonly Case[]): Map<string, Case[]> {
  const m = new Map<string, Case[]>();
  for (const c of cases) {
    let l = m.get(c.centre);
    if (!l) m.set(c.centre, (l = []));
    l.push(c);
  }
  return m;
}

/** Sorted unique group keys and their member case ids. */
function groups(cases: readonly Case[]): { keys: string[]; members: Map<string, string[]> } {
  const members = new Map<string, string[]>();
  for (const c of cases) {
    const k = groupKey(c);
    let l = members.get(k);
    if (!l) members.set(k, (l = []));
    l.push(c.id);
  }
  return { keys: [...members.keys()].sort(byCodeUnit), members };
}

/** sklearn `KFold(k, shuffle=True, random_state=seed)` test chunks of `n` indices. */
export function kFoldIndices(n: number, k: number, seed: number): number[][] {
  if (!Number.isInteger(k) || k < 2) throw new Error(`k-fold: folds must be an integer ≥ 2, got ${k}`);
  if (n < k) throw new Error(`k-fold: cannot make ${k} folds from ${n} group(s); need at least ${k}`);
  const perm = new NumpyRandomState(seed).permutation(n);
  const out: number[][] = [];
  let start = 0;
  for (let f = 0; f < k; f++) {
    const size = Math.floor(n / k) + (f < n % k ? 1 : 0);
    out.push(perm.slice(start, start + size));
    start += size;
  }
  return out;
}

export interface KFoldOptions {
  folds?: number;
  seed?: number;
  /** Split each centre on its own and merge (default true). */
  stratifyByCentre?: boolean;
}

/** nnU-Net-compatible k-fold cross-validation splits (rule in the file header). */
export function kFoldSplits(src: Project | readonly Case[], opts: KFoldOptions = {}): SplitSet {
  const k = opts.folds ?? 5;
  const seed = opts.seed ?? 12345;
  const stratify = opts.stratifyByCentre ?? true;
  const cases = casesOf(src);
  const test = cases.filter((c) => c.split === 'test').map((c) => c.id);
  const pool = cases.filter((c) => c.split !== 'test' && c.status === 'labelled');
  const extraTrain = cases.filter((c) => c.split !== 'test' && c.status !== 'labelled').map((c) => c.id);
  if (pool.length === 0) throw new Error('k-fold: no labelled cases outside the test split');
  const folds: Fold[] = Array.from({ length: k }, () => ({ train: [], val: [] }));
  const blocks = stratify ? [...byCentre(pool).entries()] : [['all', pool] as [string, Case[]]];
  for (const [centre, members] of blocks) {
    const g = groups(members);
    if (g.keys.length < k) {
      throw new Error(`k-fold: centre '${centre}' has ${g.keys.length} labelled patient(s)/case(s), fewer than ${k} folds; use fewer folds or stratifyByCentre: false`);
    }
    const chunks = kFoldIndices(g.keys.length, k, seed);
    chunks.forEach((chunk, f) => {
      const inVal = new Set(chunk);
      g.keys.forEach((key, i) => (inVal.has(i) ? folds[f].val : folds[f].train).push(...(g.members.get(key) as string[])));
    });
  }
  for (const f of folds) {
    f.train.push(...extraTrain);
    f.train.sort(byCodeUnit);
    f.val.sort(byCodeUnit);
  }
  return { folds, test: test.sort(byCodeUnit), recipe: { method: 'kfold', seed, folds: k, stratifiedByCentre: stratify, groupBy: cases.some((c) => c.patient) ? 'patient' : 'case' } };
}

export interface RatioOptions {
  train: number;
  val: number;
  test: number;
  seed?: number;
  stratifyByCentre?: boolean;
}

/**
 * One train/val/test split by ratios. Cases with a `split` keep it (e.g.
 * ACDC's published lists); the others are distributed per centre: group keys
 * sorted, shuffled with RandomState(seed), then the first round(n·train)
 * go to train, the next round(n·val) to val, the rest to test.
 */
export function ratioSplit(src: Project | readonly Case[], opts: RatioOptions): SplitSet {
  const { train, val, test } = opts;
  for (const [k, v] of Object.entries({ train, val, test })) if (!(v >= 0 && v <= 1)) throw new Error(`ratio split: '${k}' must be in [0, 1], got ${v}`);
  if (Math.abs(train + val + test - 1) > 1e-6) throw new Error(`ratio split: train + val + test must be 1, got ${train + val + test}`);
  const seed = opts.seed ?? 12345;
  const stratify = opts.stratifyByCentre ?? true;
  const cases = casesOf(src);
  const assigned = new Map<string, SplitName>();
  for (const c of cases) if (c.split) assigned.set(c.id, c.split);
  const free = cases.filter((c) => !c.split);
  const blocks = stratify ? [...byCentre(free).values()] : [free];
  for (const members of blocks) {
    if (members.length === 0) continue;
    const g = groups(members);
    const n = g.keys.length;
    const order = new NumpyRandomState(seed).permutation(n);
    const nTrain = Math.round(n * train);
    const nVal = Math.min(n - nTrain, Math.round(n * val));
    order.forEach((idx, pos) => {
      const s: SplitName = pos < nTrain ? 'train' : pos < nTrain + nVal ? 'val' : 'test';
      for (const id of g.members.get(g.keys[idx]) as string[]) assigned.set(id, s);
    });
  }
  const fold: Fold = { train: [], val: [] };
  const testIds: string[] = [];
  for (const c of cases) {
    const s = assigned.get(c.id);
    if (s === 'val' && c.status !== 'labelled') fold.train.push(c.id); // cannot validate without a label
    else (s === 'test' ? testIds : s === 'val' ? fold.val : fold.train).push(c.id);
  }
  fold.train.sort(byCodeUnit);
  fold.val.sort(byCodeUnit);
  return { folds: [fold], test: testIds.sort(byCodeUnit), recipe: { method: 'ratio', seed, ratios: { train, val, test }, stratifiedByCentre: stratify, groupBy: cases.some((c) => c.patient) ? 'patient' : 'case' } };
}

/** The split recorded on the cases themselves (ACDC lists, MSD test, manifests). */
export function existingSplit(src: Project | readonly Case[]): SplitSet {
  const cases = casesOf(src);
  const fold: Fold = { train: [], val: [] };
  const test: string[] = [];
  for (const c of cases) {
    if (c.split === 'train') fold.train.push(c.id);
    else if (c.split === 'val') fold.val.push(c.id);
    else if (c.split === 'test') test.push(c.id);
  }
  if (fold.train.length === 0) throw new Error('existing split: no case has split "train"');
  return { folds: [fold], test, recipe: { method: 'existing', stratifiedByCentre: false, groupBy: cases.some((c) => c.patient) ? 'patient' : 'case' } };
}

/** Sets `split` on the project's cases from fold `f` (cases in no list lose their split). */
export function applyFold(project: Project, set: SplitSet, f = 0): void {
  const fold = set.folds[f];
  if (!fold) throw new Error(`applyFold: fold ${f} does not exist (${set.folds.length} fold(s))`);
  const s = new Map<string, SplitName>();
  for (const id of fold.train) s.set(id, 'train');
  for (const id of fold.val) s.set(id, 'val');
  for (const id of set.test) s.set(id, 'test');
  for (const c of allCases(project)) {
    const v = s.get(c.id);
    if (v) c.split = v;
    else delete c.split;
  }
}

// ---------------------------------------------------------------- files

function recipePath(file: string): string {
  return file.replace(/\.json$/i, '') + '.recipe.json';
}

/**
 * Writes `splits_final.json` exactly as nnU-Net reads it (a list of
 * {train, val}), and the recipe plus test list beside it
 * (`<name>.recipe.json`) so the split can be re-derived and audited.
 */
export function saveSplits(file: string, set: SplitSet): void {
  writeFileAtomic(file, JSON.stringify(set.folds.map((f) => ({ train: f.train, val: f.val })), null, 2) + '\n');
  writeFileAtomic(recipePath(file), JSON.stringify({ recipe: set.recipe, test: set.test }, null, 2) + '\n');
}

/** Reads a `splits_final.json` (ours or nnU-Net's); the recipe sidecar is optional. */
export function loadSplits(file: string): SplitSet {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read splits JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(json) || json.length === 0) throw new Error(`${file}: expected a non-empty list of {"train": [...], "val": [...]} (nnU-Net splits_final.json)`);
  const folds = json.map((f: unknown, i: number): Fold => {
    const o = f as Record<string, unknown>;
    for (const key of ['train', 'val']) {
      const v = o?.[key];
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error(`${file}: fold ${i} '${key}' must be a list of case ids`);
    }
    const train = o.train as string[];
    const val = o.val as string[];
    const overlap = val.filter((id) => new Set(train).has(id));
    if (overlap.length) throw new Error(`${file}: fold ${i} has case(s) in both train and val: ${overlap.slice(0, 5).join(', ')}`);
    return { train: train.slice(), val: val.slice() };
  });
  let recipe: SplitRecipe = { method: 'existing', stratifiedByCentre: false, groupBy: 'case' };
  let test: string[] = [];
  const side = recipePath(file);
  if (fs.existsSync(side)) {
    const r = JSON.parse(fs.readFileSync(side, 'utf8')) as { recipe?: SplitRecipe; test?: string[] };
    if (r.recipe) recipe = r.recipe;
    if (Array.isArray(r.test)) test = r.test;
  }
  return { folds, test, recipe };
}

/** Ids in a split set that the project does not contain (stale splits file). */
export function unknownSplitIds(project: Project, set: SplitSet): string[] {
  const ids = new Set(allCases(project).map((c) => c.id));
  const out = new Set<string>();
  for (const f of set.folds) for (const id of [...f.train, ...f.val]) if (!ids.has(id)) out.add(id);
  for (const id of set.test) if (!ids.has(id)) out.add(id);
  return [...out];
}

// ---------------------------------------------------------------- labelled subsets

export interface LabelledSubsetOptions {
  /** How many patients (or cases) keep their labels. */
  count: number;
  unit?: 'patients' | 'cases';
  /**
   * 'listed': the first `count` in the order given (the semi-supervised
   * literature's rule: ACDC "3 patients" = the slices of the first 3
   * patients of train_slices.list). 'random': a seeded draw.
   */
  order?: 'listed' | 'random';
  seed?: number;
  /** Pick `count` within each centre instead of overall. */
  perCentre?: boolean;
}

export interface LabelledSubset {
  labelled: string[];
  unlabelled: string[];
  /** The patients (or cases) chosen, in choice order. */
  chosen: string[];
}

/**
 * Chooses the cases that keep their labels in a label-scarce experiment.
 * Patients are taken in first-appearance order ('listed') or drawn by
 * shuffling that order with RandomState(seed) ('random', default seed 0).
 */
export function selectLabelled(cases: readonly Case[], opts: LabelledSubsetOptions): LabelledSubset {
  const unit = opts.unit ?? 'patients';
  const order = opts.order ?? 'listed';
  if (!Number.isInteger(opts.count) || opts.count < 0) throw new Error(`selectLabelled: count must be a non-negative integer, got ${opts.count}`);
  const labelledPool = cases.filter((c) => c.status === 'labelled');
  const blocks = opts.perCentre ? [...byCentre(labelledPool).entries()] : [['all', labelledPool] as [string, Case[]]];
  const chosenKeys: string[] = [];
  const labelled = new Set<string>();
  for (const [centre, members] of blocks) {
    const keyOf = (c: Case): string => (unit === 'patients' ? groupKey(c) : c.id);
    const keys: string[] = [];
    const seen = new Set<string>();
    for (const c of members) {
      const k = keyOf(c);
      if (!seen.has(k)) { seen.add(k); keys.push(k); }
    }
    if (opts.count > keys.length) throw new Error(`selectLabelled: asked for ${opts.count} ${unit} but ${opts.perCentre ? `centre '${centre}'` : 'the pool'} has ${keys.length} labelled`);
    const picked = order === 'listed' ? keys.slice(0, opts.count) : new NumpyRandomState(opts.seed ?? 0).shuffle(keys.slice()).slice(0, opts.count);
    const pickedSet = new Set(picked);
    chosenKeys.push(...picked);
    for (const c of members) if (pickedSet.has(keyOf(c))) labelled.add(c.id);
  }
  return {
    labelled: cases.filter((c) => labelled.has(c.id)).map((c) => c.id),
    unlabelled: cases.filter((c) => !labelled.has(c.id)).map((c) => c.id),
    chosen: chosenKeys,
  };
}
