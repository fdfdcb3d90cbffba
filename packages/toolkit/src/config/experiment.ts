// The experiment config: one typed, validated object per run, loaded from
// YAML or JSON, with protocol defaults underneath and `--set key=value`
// overrides on top, saved next to every checkpoint.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError, bool, list, num, object, oneOf, optional, record, setPath, str, validate } from './schema.js';

export const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
export const SCHEDULES = ['poly', 'step', 'cosine', 'constant'] as const;
export const VALIDATION_MODES = ['slices2d', 'sliding3d', 'none'] as const;
/** data.layout: the dataset readers' layouts, and the short names the seeds' layouts go by. */
export const DATA_LAYOUTS = ['nnunet', 'msd', 'h5-acdc', 'h5-la', 'h5-stdr', 'image2d', 'manifest', 'acdc', 'la', 'stdr', 'folder2d'] as const;
const LAYOUT_ALIASES: Record<string, string> = { acdc: 'h5-acdc', la: 'h5-la', stdr: 'h5-stdr', folder2d: 'image2d' };

/** The dataset reader's layout name for a data.layout value. */
export function datasetLayout(layout: string): string {
  return LAYOUT_ALIASES[layout] ?? layout;
}
export const AUGMENTATIONS = ['default', 'acdcSsl4mis', 'nnunet', 'nnunet-given', 'none'] as const;

const dataSchema = object({
  dataset: str({ description: 'dataset root (nnU-Net raw, MSD, seed HDF5 layout, 2D folders) or a JSON/CSV manifest' }),
  layout: optional(oneOf(DATA_LAYOUTS, { description: 'force a layout instead of detecting it' })),
  dims: oneOf(['2d', '3d'] as const, { default: '2d', description: 'train on 2D slices or 3D patches' }),
  patchSize: list(num({ int: true, min: 1 }), { minLength: 2, default: [256, 256], description: 'patch size in voxels (Y, X) or (Z, Y, X)' }),
  batchSize: num({ int: true, min: 1, default: 24, description: 'labelled samples per step' }),
  unlabelledBatchSize: num({ int: true, min: 0, default: 0, description: 'unlabelled samples per step (semi-supervised methods)' }),
  labelled: optional(num({ int: true, min: 0, description: 'number of labelled patients/cases (the rest are unlabelled); all when absent; 0 with data.weak: no full mask at all' })),
  weak: optional(object({
    kind: oneOf(['points', 'scribbles'] as const, { description: "sparse annotations of every training case: PA-Seg's seven points (3D, one foreground class) or scribbles" }),
    source: str({ default: 'simulate', description: "'simulate' (from the full masks, seeded) or a folder of <case>_7points.nii.gz / <case>_points.json / <case>_scribble.nii.gz" }),
    seed: optional(num({ int: true, description: 'simulation seed (default: the experiment seed)' })),
    geodesic: object({
      lambda: num({ min: 0, max: 1, default: 0.5, description: "PA-Seg's geodesic_weight λ" }),
      iterations: num({ int: true, min: 1, default: 4, description: 'raster-scan passes' }),
      threshold: num({ min: 0, max: 1, default: 0.2, description: 'foreground where D < threshold·max D inside the points box' }),
      airIsBackground: bool({ default: false, description: 'voxels at the image minimum are background (PA-Seg BraTS)' }),
    }, { description: 'seed expansion of points (methods.md §4a)' }),
  }, { description: 'weak supervision: the points / scribbles streams' })),
  augmentation: oneOf(AUGMENTATIONS, { default: 'default', description: "augmentation preset ('default': the 2D seeds' (acdcSsl4mis) or nnU-Net's in 3D; nnunet/nnunet-given are 3D only), or 'none'" }),
  foregroundOversampling: num({ min: 0, max: 1, default: 1 / 3, description: 'fraction of each batch forced to contain foreground (nnU-Net: 1/3)' }),
  workers: num({ int: true, min: 0, default: 2, description: 'background loader threads (0: load in the training thread)' }),
  prefetch: num({ int: true, min: 1, default: 4, description: 'batches produced ahead' }),
  normalization: optional(record({ description: 'normalisation scheme, e.g. {scheme: minmax}' })),
  fold: optional(num({ int: true, min: 0, description: 'cross-validation fold when the dataset has no fixed validation split' })),
  open: optional(record({ description: 'options for opening the dataset, e.g. {maskEncoding: jpegThreshold, labels: {background: 0, tumour: 1}}' })),
});

export const optimizerSchema = object({
  name: oneOf(OPTIMIZERS, { default: 'sgd' }),
  lr: num({ min: 0, default: 0.01, description: 'initial learning rate' }),
  momentum: num({ min: 0, max: 1, default: 0.9 }),
  nesterov: bool({ default: false }),
  weightDecay: num({ min: 0, default: 1e-4 }),
  betas: list(num({ min: 0, max: 1 }), { length: 2, default: [0.9, 0.999] }),
});

export const scheduleSchema = object({
  name: oneOf(SCHEDULES, { default: 'poly' }),
  power: num({ min: 0, default: 0.9, description: 'poly: lr = lr0 · (1 − t/T)^power' }),
  stepSize: num({ int: true, min: 1, default: 2500, description: 'step: iterations between decays' }),
  gamma: num({ min: 0, max: 1, default: 0.1, description: 'step: decay factor' }),
  minLr: num({ min: 0, default: 0, description: 'cosine: final learning rate' }),
  warmupIterations: num({ int: true, min: 0, default: 0 }),
});

const trainingSchema = object({
  iterations: num({ int: true, min: 1, default: 1000, description: 'optimizer steps in total' }),
  validateEvery: num({ int: true, min: 0, default: 200, description: 'steps between validations (0: never)' }),
  checkpointEvery: num({ int: true, min: 1, default: 500, description: "steps between 'last' checkpoints" }),
  logEvery: num({ int: true, min: 1, default: 10, description: 'steps between log lines' }),
  clipGradNorm: optional(num({ min: 0, description: 'clip the global gradient norm to this value' })),
  progress: bool({ default: true, description: 'show a progress bar on a terminal' }),
});

const validationSchema = object({
  split: oneOf(['val'] as const, { default: 'val', description: 'the split validated on (never the test split: model selection must not see it)' }),
  mode: oneOf(VALIDATION_MODES, { default: 'slices2d', description: 'how whole volumes are predicted during validation' }),
  overlap: num({ min: 0, max: 0.95, default: 0.5, description: 'sliding-window overlap' }),
  maxCases: optional(num({ int: true, min: 1, description: 'validate on the first N cases only (faster)' })),
  metric: oneOf(['dice'] as const, { default: 'dice', description: 'the metric that selects the best checkpoint: mean Dice over foreground classes (the validation computes Dice only, so it is the one choice)' }),
});

export const experimentSchema = object({
  name: str({ default: 'experiment', description: 'run name' }),
  protocol: optional(str({ description: 'named protocol that fills in published hyperparameters (e.g. bcp-acdc)' })),
  seed: num({ int: true, min: 0, default: 1, description: 'seeds weights, sampling and augmentation' }),
  output: optional(str({ description: 'run folder (default runs/<name>)' })),
  device: oneOf(['cpu', 'cuda'] as const, { default: 'cpu' }),
  data: dataSchema,
  network: record({ default: { name: 'unet2d' }, description: 'network name and parameters (see the network registry)' }),
  loss: record({ default: { name: 'dice_ce' }, description: 'loss name and parameters (see the loss registry)' }),
  optimizer: optimizerSchema,
  schedule: scheduleSchema,
  training: trainingSchema,
  validation: validationSchema,
  method: record({ default: { name: 'supervised' }, description: 'training recipe and its parameters' }),
});

export type Experiment = ReturnType<typeof experimentSchema.check>;

/** Parses a YAML or JSON file (JSON is YAML) into a plain object. */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`config ${file}: cannot read: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new Error(`config ${file}: not valid YAML/JSON: ${(e as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`config ${file}: expected a mapping of keys at the top level`);
  return doc as Record<string, unknown>;
}

/** Deep merge where `over` wins; arrays are replaced, not concatenated. */
export function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
      ? mergeConfig(b as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}

/** Parses `key=value` overrides; values are read as YAML scalars/lists ("0.1", "[128,128]", "true"). */
export function parseOverrides(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError([`override '${pair}': expected key=value, e.g. training.iterations=2000`]);
    setPath(out, pair.slice(0, eq).trim(), YAML.parse(pair.slice(eq + 1)));
  }
  return out;
}

/** Protocol presets: published hyperparameters under the user's config. */
const protocols = new Map<string, Record<string, unknown>>();

export function registerProtocol(name: string, preset: Record<string, unknown>): void {
  protocols.set(name, preset);
}

export function listProtocols(): string[] {
  return [...protocols.keys()].sort();
}

/**
 * Builds the validated experiment: protocol preset (if any) ← config file ←
 * overrides. Every problem is reported at once, by key.
 */
export function resolveExperiment(doc: Record<string, unknown>, overrides: Record<string, unknown> = {}, source?: string): Experiment {
  const merged = mergeConfig(doc, overrides);
  const protocol = merged.protocol;
  let full = merged;
  if (typeof protocol === 'string') {
    const preset = protocols.get(protocol);
    if (!preset) throw new ConfigError([`protocol: '${protocol}' is not one of ${listProtocols().join(', ') || '(none registered)'}`], source);
    // A different method or loss under a protocol (e.g. a supervised baseline with
    // bcp-acdc's data and schedule) does not inherit the preset's parameters for it.
    const base = { ...preset };
    for (const key of ['method', 'loss']) {
      const given = preset[key] as Record<string, unknown> | undefined;
      const user = merged[key] as Record<string, unknown> | undefined;
      if (given && user?.name !== undefined && user.name !== given.name) base[key] = {};
    }
    full = mergeConfig(base, merged);
  }
  if ((full.validation as Record<string, unknown> | undefined)?.split === 'test') {
    // Said plainly: some seeds' code selects checkpoints on the test split; Labelwise never does.
    throw new ConfigError(["validation.split: 'test' is not allowed — model selection on the test split inflates results; use 'val'"], source);
  }
  const exp = validate(experimentSchema, full, source);
  if (exp.data.patchSize.length !== (exp.data.dims === '2d' ? 2 : 3)) {
    throw new ConfigError([`data.patchSize: ${exp.data.dims} training needs ${exp.data.dims === '2d' ? 2 : 3} sizes, got [${exp.data.patchSize.join(', ')}]`], source);
  }
  if (source && !path.isAbsolute(exp.data.dataset)) exp.data.dataset = path.resolve(path.dirname(source), exp.data.dataset);
  exp.output ??= path.join('runs', exp.name);
  return exp;
}

export function loadExperiment(file: string, overridePairs: readonly string[] = []): Experiment {
  return resolveExperiment(readConfigFile(file), parseOverrides(overridePairs), file);
}
