// Preprocessed cases cached on disk, like nnU-Net's nnUNet_preprocessed:
//
//   <dir>/<case>.safetensors  image (float32 [C, Z, Y, X]), label (int8, or
//                             int16 when a value exceeds 127, [1, Z, Y, X]),
//                             loc_<class> (int32 [n, 3] sampled (z, y, x)
//                             voxels of that class, for foreground oversampling)
//   <dir>/<case>.json         sidecar: cache key, source files, case properties
//
// An entry is valid only when the sidecar's key equals the key computed now
// from (the case's source files' size and mtime, the preprocessing config,
// this code's format version) AND the tensor file carries the same key in
// its metadata. Changing the config or touching an input re-runs the case.
// Both files are written atomically, tensors first, so a crash leaves
// either the old valid pair, or a key mismatch that re-runs the case.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import { writeFileAtomic } from '../io/atomic.js';
import { type Case, type Project, allCases, casePath, loadCase, projectToJson } from '../data/dataset.js';
import { type CaseProperties, type PreprocessConfig, type PreprocessedCase, preprocessCase } from './preprocess.js';
import { type WeakLabelSpec, recordWeakPoints, weakCaseId, weakLabelMap, weakSourceFiles } from './weak-labels.js';

/** Bumped whenever preprocessing output changes for the same inputs and config. */
export const PREPROCESS_FORMAT_VERSION = 1;
const SIDECAR_FORMAT = 'labelwise-preprocessed';

export interface SourceFileStat {
  path: string;
  size: number;
  mtimeMs: number;
}

export interface CacheSidecar {
  format: typeof SIDECAR_FORMAT;
  version: number;
  caseId: string;
  cacheKey: string;
  sources: SourceFileStat[];
  config: PreprocessConfig;
  props: CaseProperties;
}

/** JSON with object keys sorted, so equal configs hash equally. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function statSources(files: readonly string[]): SourceFileStat[] {
  return files.map((f) => {
    let st: fs.Stats;
    try {
      st = fs.statSync(f);
    } catch (e) {
      throw new Error(`preprocess cache: cannot stat source file ${f}: ${(e as Error).message}`);
    }
    return { path: path.resolve(f), size: st.size, mtimeMs: st.mtimeMs };
  });
}

/** The cache key of a case: sha256 over its source file stats, the config and the format version. */
export function cacheKey(caseId: string, sources: readonly SourceFileStat[], config: PreprocessConfig): string {
  const h = crypto.createHash('sha256');
  h.update(canonicalJson({ v: PREPROCESS_FORMAT_VERSION, caseId, sources, config }));
  return h.digest('hex');
}

/** Every file a case is read from. */
export function caseSourceFiles(project: Project, c: Case): string[] {
  const files = c.images.map((p) => casePath(project, p));
  if (c.label && !c.loader) files.push(casePath(project, c.label));
  return files;
}

function safeName(id: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(id) || id === '.' || id === '..') {
    // Keep ids readable but never let them escape the cache folder.
    return id.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') + '-' + crypto.createHash('sha1').update(id).digest('hex').slice(0, 8);
  }
  return id;
}

export function cachePaths(dir: string, caseId: string): { tensors: string; sidecar: string } {
  const base = path.join(dir, safeName(caseId));
  return { tensors: `${base}.safetensors`, sidecar: `${base}.json` };
}

/** Writes a preprocessed case (tensors, then sidecar), atomically. */
export function saveCachedCase(dir: string, caseId: string, pre: PreprocessedCase, meta: { cacheKey: string; sources: SourceFileStat[]; config: PreprocessConfig }): CacheSidecar {
  fs.mkdirSync(dir, { recursive: true });
  const p = cachePaths(dir, caseId);
  torch.tidy(() => {
    const tensors: Record<string, Tensor> = { image: pre.image.to('float32').contiguous() };
    if (pre.label) {
      const max = pre.label.numel() ? pre.label.max().item() : 0;
      tensors.label = pre.label.to(max > 127 ? 'int16' : 'int8').contiguous();
    }
    for (const [c, xyz] of pre.classLocations) tensors[`loc_${c}`] = torch.fromTypedArray(xyz, [xyz.length / 3, 3]);
    torch.saveSafetensors(p.tensors, tensors, { cacheKey: meta.cacheKey, caseId });
  });
  const sidecar: CacheSidecar = {
    format: SIDECAR_FORMAT,
    version: PREPROCESS_FORMAT_VERSION,
    caseId,
    cacheKey: meta.cacheKey,
    sources: meta.sources,
    config: meta.config,
    props: pre.props,
  };
  writeFileAtomic(p.sidecar, JSON.stringify(sidecar, null, 1) + '\n');
  return sidecar;
}

/** The sidecar of a cached case, or null when absent or unreadable. */
export function readCacheSidecar(dir: string, caseId: string): CacheSidecar | null {
  const p = cachePaths(dir, caseId);
  let raw: string;
  try {
    raw = fs.readFileSync(p.sidecar, 'utf8');
  } catch {
    return null;
  }
  try {
    const j = JSON.parse(raw) as CacheSidecar;
    return j.format === SIDECAR_FORMAT && j.version === PREPROCESS_FORMAT_VERSION ? j : null;
  } catch {
    return null;
  }
}

/** True when both files exist and carry `key`. */
export function isCacheValid(dir: string, caseId: string, key: string): boolean {
  const side = readCacheSidecar(dir, caseId);
  if (!side || side.cacheKey !== key) return false;
  try {
    return torch.safetensorsHeader(cachePaths(dir, caseId).tensors).metadata.cacheKey === key;
  } catch {
    return false;
  }
}

export interface LoadedCachedCase {
  image: Tensor;
  label: Tensor | null;
  props: CaseProperties;
  classLocations: Map<number, Int32Array>;
  sidecar: CacheSidecar;
}

/** Loads a cached case (throws, naming the file, when it is missing or corrupt). */
export function loadCachedCase(dir: string, caseId: string, options: { withLabel?: boolean } = {}): LoadedCachedCase {
  const p = cachePaths(dir, caseId);
  const sidecar = readCacheSidecar(dir, caseId);
  if (!sidecar) throw new Error(`preprocess cache: no valid sidecar ${p.sidecar} for case '${caseId}' (run preprocessing first)`);
  const header = torch.safetensorsHeader(p.tensors);
  if (header.metadata.cacheKey !== sidecar.cacheKey) throw new Error(`preprocess cache: ${p.tensors} does not match its sidecar ${p.sidecar} (interrupted write?); re-run preprocessing`);
  const names = [...header.tensors.keys()].filter((n) => n === 'image' || n.startsWith('loc_') || (n === 'label' && options.withLabel !== false));
  const map = torch.loadSafetensors(p.tensors, { names });
  const image = map.get('image');
  if (!image) throw new Error(`preprocess cache: ${p.tensors} has no 'image' tensor`);
  const locs = new Map<number, Int32Array>();
  for (const [n, t] of map) {
    if (!n.startsWith('loc_')) continue;
    locs.set(Number(n.slice(4)), Int32Array.from(t.toTypedArray() as Int32Array));
    t.dispose();
  }
  return { image, label: map.get('label') ?? null, props: sidecar.props, classLocations: locs, sidecar };
}

export interface PreprocessDatasetOptions {
  /** Cases to process (default: every case of the project). */
  cases?: readonly Case[];
  /** Worker threads (default: min(cases, cores − 1, 8)); 0 runs in this thread. */
  workers?: number;
  /** Re-run even valid entries. */
  force?: boolean;
  /** Make each case's weak-label entry (<id>~points / <id>~scribbles) instead of its plain entry. */
  weak?: WeakLabelSpec;
  /** Called after each case. */
  onProgress?: (done: number, total: number, caseId: string, reused: boolean) => void;
}

export interface PreprocessDatasetResult {
  dir: string;
  entries: { caseId: string; reused: boolean; sidecar: CacheSidecar }[];
  computed: number;
  reused: number;
}

/** Loads, preprocesses and caches one case (used in-thread and by the workers); with `weak`, its weak-label entry instead. */
export async function preprocessAndCacheCase(project: Project, c: Case, config: PreprocessConfig, dir: string, force = false, weak?: WeakLabelSpec): Promise<{ reused: boolean; sidecar: CacheSidecar }> {
  const id = weak ? weakCaseId(c.id, weak.kind) : c.id;
  const files = weak ? [...caseSourceFiles(project, c), ...weakSourceFiles(weak, c.id)] : caseSourceFiles(project, c);
  const sources = statSources(files);
  const key = cacheKey(id, sources, weak ? { ...config, weak } as PreprocessConfig : config);
  if (!force && isCacheValid(dir, id, key)) return { reused: true, sidecar: readCacheSidecar(dir, id)! };
  const needLabel = weak ? weak.source === 'simulate' : c.status === 'labelled';
  const loaded = await loadCase(project, c, { skipLabel: !needLabel });
  let pre: PreprocessedCase | null = null;
  try {
    let label = loaded.label ?? null;
    let cfg = config;
    if (weak) {
      const w = weakLabelMap(loaded.image, loaded.label, c.id, weak);
      label = w.label;
      // Oversample annotated foreground only, never the 'unannotated' value.
      cfg = { ...config, foregroundLabels: Array.from({ length: weak.numClasses - 1 }, (_, i) => i + 1) };
      if (w.points) recordWeakPoints(cachePaths(dir, id).sidecar.replace(/\.json$/, '.points.json'), w.points);
    }
    pre = preprocessCase(loaded.image, label, cfg);
    pre.props.meta = { caseId: id, centre: c.centre, status: weak ? `weak:${weak.kind}` : c.status };
    return { reused: false, sidecar: saveCachedCase(dir, id, pre, { cacheKey: key, sources, config }) };
  } catch (e) {
    throw new Error(`preprocessing ${weak ? `the ${weak.kind} labels of ` : ''}case '${c.id}' (${files.join(', ')}): ${(e as Error).message}`);
  } finally {
    if (pre) {
      pre.image.dispose();
      pre.label?.dispose();
    }
  }
}

const WORKER_URL = new URL('./cache-worker.js', import.meta.url);

/**
 * Preprocesses every (given) case of a project into `dir`, reusing valid
 * entries; cases run in parallel worker threads, each with one libtorch
 * thread. Results come back in case order whatever the completion order.
 */
export async function preprocessDataset(project: Project, config: PreprocessConfig, dir: string, options: PreprocessDatasetOptions = {}): Promise<PreprocessDatasetResult> {
  const cases = [...(options.cases ?? allCases(project))];
  const total = cases.length;
  const entries: PreprocessDatasetResult['entries'] = new Array(total);
  fs.mkdirSync(dir, { recursive: true });
  const cores = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const workers = Math.min(options.workers ?? Math.min(8, Math.max(1, cores - 1)), total);
  if (!Number.isInteger(workers) || workers < 0) throw new Error(`preprocessDataset: workers must be an integer ≥ 0, got ${options.workers}`);
  let done = 0;
  const record = (i: number, r: { reused: boolean; sidecar: CacheSidecar }) => {
    entries[i] = { caseId: options.weak ? weakCaseId(cases[i].id, options.weak.kind) : cases[i].id, reused: r.reused, sidecar: r.sidecar };
    done++;
    options.onProgress?.(done, total, cases[i].id, r.reused);
  };
  if (workers === 0 || project.layout === 'memory') {
    for (let i = 0; i < total; i++) record(i, await preprocessAndCacheCase(project, cases[i], config, dir, options.force, options.weak));
  } else {
    const projectJson = projectToJson(project);
    let next = 0;
    let failure: Error | null = null;
    const runWorker = () => new Promise<void>((resolve) => {
      const w = new Worker(WORKER_URL, { workerData: { project: projectJson, config, dir, force: options.force ?? false, weak: options.weak } });
      const feed = () => {
        if (failure || next >= total) {
          void w.terminate().then(() => resolve());
          return;
        }
        const i = next++;
        w.postMessage({ index: i, caseId: cases[i].id });
      };
      w.on('message', (m: { index: number; reused?: boolean; sidecar?: CacheSidecar; error?: string }) => {
        if (m.error !== undefined) failure ??= new Error(m.error);
        else record(m.index, { reused: m.reused!, sidecar: m.sidecar! });
        feed();
      });
      w.on('error', (e) => {
        failure ??= e instanceof Error ? e : new Error(String(e));
        resolve();
      });
      w.on('exit', () => resolve());
      feed();
    });
    await Promise.all(Array.from({ length: workers }, runWorker));
    if (failure) throw failure;
  }
  const reused = entries.filter((e) => e.reused).length;
  return { dir, entries, computed: total - reused, reused };
}
