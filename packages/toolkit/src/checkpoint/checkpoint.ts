// Checkpoints as self-describing folders:
//   <run>/checkpoints/<name>/model.safetensors   the network's state dict, PyTorch names
//   <run>/checkpoints/<name>/state.safetensors   optimizer state, extra models (teachers), RNG
//   <run>/checkpoints/<name>/checkpoint.json     step, metrics, network/labels/preprocessing,
//                                                config, code version, scheduler state
// A checkpoint is written into a temporary folder and swapped in by rename,
// so a kill at any moment leaves either the old or the new checkpoint whole
// (if it strikes between the two renames, the previous one is found under
// its parked name and used).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '@labelwise/torch';

export const CHECKPOINT_FORMAT = 'labelwise-checkpoint/1';

export interface CheckpointMeta {
  format: string;
  step: number;
  /** Steps to train in total (so a resumed run knows where it ends). */
  totalSteps: number;
  metrics: Record<string, number>;
  bestMetric: number | null;
  network: Record<string, unknown>;
  labels?: Record<string, number>;
  preprocessing?: Record<string, unknown>;
  spacing?: number[];
  config?: unknown;
  codeVersion: string;
  createdAt: string;
  seed?: number;
  scheduler?: Record<string, unknown>;
  optimizer?: { param_groups: unknown[] };
  /** Names of the extra models stored in state.safetensors (e.g. "teacher"). */
  modules: string[];
  /** Free-form recipe state (JSON-able), e.g. a dual teacher's snapshot step. */
  recipe?: Record<string, unknown>;
  modelSha256: string;
}

type Stateful = { stateDict(): Record<string, unknown>; loadStateDict(s: Record<string, unknown>): void };

export interface CheckpointParts {
  model: torch.nn.Module;
  /** The main optimizer (stored under `optimizer.<param>.<key>`). */
  optimizer?: torch.optim.Optimizer;
  scheduler?: Stateful;
  modules?: Record<string, torch.nn.Module>;
  /** Further named optimizers of a multi-optimizer recipe (stored under `optimizers.<name>.<param>.<key>`). */
  optimizers?: Record<string, { optimizer: torch.optim.Optimizer; scheduler?: Stateful }>;
}

/** What checkpoint.json records of one extra optimizer. */
interface OptimizerMeta { param_groups: unknown[]; scalars: Record<string, Record<string, unknown>>; scheduler?: Record<string, unknown> }

export interface LoadedCheckpoint {
  dir: string;
  meta: CheckpointMeta;
}

let cachedVersion: string | null = null;

/** Package version plus the git commit when run from a checkout (recorded in every checkpoint). */
export function codeVersion(): string {
  if (cachedVersion) return cachedVersion;
  let version = '0.1.0';
  let commit = '';
  try {
    let dir = path.dirname(new URL(import.meta.url).pathname);
    for (let i = 0; i < 8 && dir !== '/'; i++, dir = path.dirname(dir)) {
      const pkg = path.join(dir, 'package.json');
      if (!commit && fs.existsSync(pkg) && version === '0.1.0') {
        const p = JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string; version?: string };
        if (p.name === '@labelwise/toolkit' && p.version) version = p.version;
      }
      const head = path.join(dir, '.git', 'HEAD');
      if (fs.existsSync(head)) {
        const ref = fs.readFileSync(head, 'utf8').trim();
        commit = ref.startsWith('ref: ') ? (fs.existsSync(path.join(dir, '.git', ref.slice(5))) ? fs.readFileSync(path.join(dir, '.git', ref.slice(5)), 'utf8').trim() : '') : ref;
        break;
      }
    }
  } catch {
    // Version lookup is best effort; a checkpoint without a commit is still valid.
  }
  cachedVersion = commit ? `${version}+${commit.slice(0, 12)}` : version;
  return cachedVersion;
}

/**
 * Removes what killed writes of checkpoint `name` left in `root`: temporary
 * folders (never valid) and parked predecessors. Only called once `name`
 * itself is whole, so nothing findCheckpoint could still need is removed.
 */
function removeLeftovers(root: string, name: string): void {
  for (const f of fs.readdirSync(root)) {
    if (f.startsWith(`.${name}.tmp-`) || f.startsWith(`.${name}.old-`)) fs.rmSync(path.join(root, f), { recursive: true, force: true });
  }
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function optimizerTensors(opt: torch.optim.Optimizer): { tensors: Map<string, torch.Tensor>; groups: unknown[]; scalars: Record<string, Record<string, unknown>> } {
  const sd = opt.stateDict();
  const tensors = new Map<string, torch.Tensor>();
  const scalars: Record<string, Record<string, unknown>> = {};
  for (const [i, st] of Object.entries(sd.state)) {
    for (const [k, v] of Object.entries(st)) {
      if (v instanceof torch.Tensor) tensors.set(`optimizer.${i}.${k}`, v);
      else (scalars[i] ??= {})[k] = v;
    }
  }
  return { tensors, groups: sd.param_groups, scalars };
}

/** Writes a checkpoint folder atomically; returns its path. */
export function saveCheckpoint(runDir: string, name: string, parts: CheckpointParts, meta: Omit<CheckpointMeta, 'format' | 'modules' | 'modelSha256' | 'codeVersion' | 'createdAt' | 'optimizer' | 'scheduler'>): string {
  const root = path.join(runDir, 'checkpoints');
  fs.mkdirSync(root, { recursive: true });
  const final = path.join(root, name);
  const tmp = path.join(root, `.${name}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  fs.mkdirSync(tmp);
  try {
    torch.saveSafetensors(path.join(tmp, 'model.safetensors'), parts.model.stateDict(), { format: 'pt', labelwise: CHECKPOINT_FORMAT });
    const state = new Map<string, torch.Tensor>();
    const rng = torch.getRngState();
    state.set('rng.cpu', rng);
    let optimizer: CheckpointMeta['optimizer'];
    let optScalars: Record<string, Record<string, unknown>> | undefined;
    if (parts.optimizer) {
      const o = optimizerTensors(parts.optimizer);
      for (const [k, v] of o.tensors) state.set(k, v);
      optimizer = { param_groups: o.groups };
      optScalars = o.scalars;
    }
    const extra: Record<string, OptimizerMeta> = {};
    for (const [name, t] of Object.entries(parts.optimizers ?? {})) {
      if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`optimizer name '${name}' must be letters, digits, '_' or '-'`);
      const o = optimizerTensors(t.optimizer);
      for (const [k, v] of o.tensors) state.set(`optimizers.${name}.${k.slice('optimizer.'.length)}`, v);
      extra[name] = { param_groups: o.groups, scalars: o.scalars, scheduler: t.scheduler?.stateDict() };
    }
    const modules = Object.keys(parts.modules ?? {}).sort();
    for (const m of modules) for (const [k, v] of parts.modules![m].stateDict()) state.set(`module.${m}.${k}`, v);
    torch.saveSafetensors(path.join(tmp, 'state.safetensors'), state);
    rng.dispose();
    const full: CheckpointMeta & { optimizerScalars?: unknown } = {
      ...meta,
      format: CHECKPOINT_FORMAT,
      modules,
      modelSha256: sha256(path.join(tmp, 'model.safetensors')),
      codeVersion: codeVersion(),
      createdAt: new Date().toISOString(),
      optimizer,
      optimizerScalars: optScalars,
      scheduler: parts.scheduler?.stateDict(),
      ...(Object.keys(extra).length ? { optimizers: extra } : {}),
    };
    const json = path.join(tmp, 'checkpoint.json');
    fs.writeFileSync(json, JSON.stringify(full, null, 2) + '\n');
    const fd = fs.openSync(json, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    swapIn(root, name, tmp);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`saveCheckpoint(${final}): ${(e as Error).message}`);
  }
  return final;
}

/** Moves the whole folder `tmp` in as checkpoint `name`: park the old one, rename, drop the old one. */
function swapIn(root: string, name: string, tmp: string): void {
  const final = path.join(root, name);
  const parked = path.join(root, `.${name}.old-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  const hadOld = fs.existsSync(final);
  if (hadOld) fs.renameSync(final, parked);
  fs.renameSync(tmp, final);
  if (hadOld) fs.rmSync(parked, { recursive: true, force: true });
  removeLeftovers(root, name);
}

/**
 * Copies checkpoint folder `src` into `runDir` as checkpoint `name`, with
 * the same atomic swap as saveCheckpoint (a phased run publishing its final
 * model in the run folder).
 */
export function copyCheckpoint(src: string, runDir: string, name: string): string {
  readCheckpointMeta(src);
  const root = path.join(runDir, 'checkpoints');
  fs.mkdirSync(root, { recursive: true });
  const tmp = path.join(root, `.${name}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  try {
    fs.cpSync(src, tmp, { recursive: true });
    swapIn(root, name, tmp);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`copyCheckpoint(${src} → ${path.join(root, name)}): ${(e as Error).message}`);
  }
  return path.join(root, name);
}

/** The folder of checkpoint `name`, or its parked predecessor if a swap was interrupted; null if none. */
export function findCheckpoint(runDir: string, name: string): string | null {
  const root = path.join(runDir, 'checkpoints');
  const final = path.join(root, name);
  if (fs.existsSync(path.join(final, 'checkpoint.json'))) return final;
  if (!fs.existsSync(root)) return null;
  const parked = fs.readdirSync(root).filter((f) => f.startsWith(`.${name}.old-`)).map((f) => path.join(root, f));
  return parked.find((p) => fs.existsSync(path.join(p, 'checkpoint.json'))) ?? null;
}

export function readCheckpointMeta(dir: string): CheckpointMeta {
  const file = path.join(dir, 'checkpoint.json');
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(fs.readFileSync(file, 'utf8')) as CheckpointMeta;
  } catch (e) {
    throw new Error(`checkpoint ${file}: cannot read: ${(e as Error).message}`);
  }
  if (meta.format !== CHECKPOINT_FORMAT) throw new Error(`checkpoint ${file}: field 'format' is ${JSON.stringify(meta.format)}, expected '${CHECKPOINT_FORMAT}'`);
  return meta;
}

/**
 * Restores a checkpoint into live objects: weights (strict), optimizer,
 * scheduler, extra modules and the global RNG. Verifies the weights' hash.
 */
export function loadCheckpoint(dir: string, parts: Partial<CheckpointParts>, options: { restoreRng?: boolean } = {}): LoadedCheckpoint {
  const meta = readCheckpointMeta(dir);
  const modelFile = path.join(dir, 'model.safetensors');
  if (parts.model) {
    const digest = sha256(modelFile);
    if (digest !== meta.modelSha256) throw new Error(`checkpoint ${dir}: model.safetensors does not match checkpoint.json (sha256 ${digest.slice(0, 12)} ≠ ${meta.modelSha256.slice(0, 12)}); the folder was modified`);
    const weights = torch.loadSafetensors(modelFile);
    try {
      parts.model.loadStateDict(weights, { strict: true });
    } finally {
      for (const t of weights.values()) t.dispose();
    }
  }
  const needState = parts.optimizer || parts.modules || parts.optimizers || options.restoreRng !== false;
  if (!needState) return { dir, meta };
  const state = torch.loadSafetensors(path.join(dir, 'state.safetensors'));
  try {
    if (parts.optimizer && meta.optimizer) {
      const perParam: Record<string, Record<string, unknown>> = {};
      const scalars = (meta as CheckpointMeta & { optimizerScalars?: Record<string, Record<string, unknown>> }).optimizerScalars ?? {};
      for (const [i, s] of Object.entries(scalars)) perParam[i] = { ...s };
      for (const [k, v] of state) {
        if (!k.startsWith('optimizer.')) continue;
        const [, i, key] = k.split('.');
        (perParam[i] ??= {})[key] = v;
      }
      parts.optimizer.loadStateDict({ state: perParam, param_groups: meta.optimizer.param_groups } as unknown as torch.optim.OptimizerStateDict);
    }
    if (parts.scheduler && meta.scheduler) parts.scheduler.loadStateDict(meta.scheduler);
    const extras = (meta as CheckpointMeta & { optimizers?: Record<string, OptimizerMeta> }).optimizers ?? {};
    for (const [name, t] of Object.entries(parts.optimizers ?? {})) {
      const m = extras[name];
      if (!m) throw new Error(`checkpoint ${dir}: holds no optimizer '${name}' (it has: ${Object.keys(extras).join(', ') || 'only the main one'})`);
      const perParam: Record<string, Record<string, unknown>> = {};
      for (const [i, sc] of Object.entries(m.scalars)) perParam[i] = { ...sc };
      const prefix = `optimizers.${name}.`;
      for (const [k, v] of state) {
        if (!k.startsWith(prefix)) continue;
        const [i, key] = k.slice(prefix.length).split('.');
        (perParam[i] ??= {})[key] = v;
      }
      t.optimizer.loadStateDict({ state: perParam, param_groups: m.param_groups } as unknown as torch.optim.OptimizerStateDict);
      if (t.scheduler && m.scheduler) t.scheduler.loadStateDict(m.scheduler);
    }
    for (const [name, mod] of Object.entries(parts.modules ?? {})) {
      const prefix = `module.${name}.`;
      const sd = new Map<string, torch.Tensor>();
      for (const [k, v] of state) if (k.startsWith(prefix)) sd.set(k.slice(prefix.length), v);
      if (sd.size === 0) throw new Error(`checkpoint ${dir}: holds no module '${name}' (it has: ${meta.modules.join(', ') || 'none'})`);
      mod.loadStateDict(sd, { strict: true });
    }
    if (options.restoreRng !== false) {
      const rng = state.get('rng.cpu');
      if (rng) torch.setRngState(rng);
    }
  } finally {
    for (const t of state.values()) t.dispose();
  }
  return { dir, meta };
}
