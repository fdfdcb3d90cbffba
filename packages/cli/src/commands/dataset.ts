// `labelwise dataset inspect|check|split|export`: look at a dataset before
// training, record its splits, hand it to nnU-Net.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  type OpenDatasetOptions, type SplitSet, DATASET_LAYOUTS, checkProject, computeFingerprint, formatCheckReport,
  existingSplit, formatFingerprint, kFoldSplits, loadSplits, openDataset, ratioSplit, saveCheckReport, saveFingerprint, saveSplits,
} from '@labelwise/toolkit/data';
import { exportNnunetDataset } from '@labelwise/toolkit/data';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import * as output from '../output.js';

const help = `usage: labelwise dataset <inspect|check|split|export> <path> [options]

Reads a dataset in any supported layout — nnU-Net v2 raw, MSD, the seeds'
HDF5 folders (ACDC, LA, STDR), folders of 2D images with masks, or a
CSV/JSON manifest of cases across centres — and reports on it.

subcommands:
  inspect <path>   fingerprint the dataset (nnU-Net-compatible): per case shape,
                   spacing, orientation, label values; per channel foreground
                   intensity statistics; class volumes; problems found. Prints a
                   table and writes dataset_fingerprint.json.
  check <path>     check that every case's channels and label share one voxel
                   grid (shape, spacing, origin, direction, orientation) and
                   that 2D images and masks pair by name. Exit code 1 when any
                   error is found (geometry mismatches included).
  split <path>     write deterministic cross-validation or ratio splits as
                   splits_final.json (nnU-Net format) + a .recipe.json sidecar.
  export <path>    write the dataset as an nnU-Net v2 raw dataset (imagesTr/,
                   labelsTr/, imagesTs/, dataset.json; one NIfTI per channel;
                   2D masks decoded; labels renumbered to 0..N when needed).

<path> is a dataset folder, its dataset.json, a manifest (.csv/.tsv/.json) or a
project JSON written by labelwise.

options (all subcommands):
  --layout <name>           force the layout: ${DATASET_LAYOUTS.join(', ')}
  --name <name>             project name (default: dataset.json name or folder name)
  --centre <id>             centre of every case (single-centre layouts)
  --centre-pattern <regex>  first capture group of the case id = centre
  --patient-pattern <regex> first capture group of the case id = patient
  --mask-encoding <spec>    2D mask encoding: a name, or centre=encoding pairs
                            separated by commas (a centre ending in '/' is a prefix)
  --labels <json|file>      label map {"background": 0, ...} for layouts without one
  --json <file>             where to write the JSON result
                            (inspect: default ./dataset_fingerprint.json;
                             check: no file unless given)

inspect options:
  --samples <n>             foreground values sampled per case (default 10000)
  --seed <n>                sampling seed (default 1234, nnU-Net's)
  --cases <a,b,...>         only these case ids
  --quiet                   no per-case progress on stderr

check options:
  --spacing-tol <x>         relative spacing tolerance (default 1e-4)
  --origin-tol <x>          origin tolerance in voxel sizes (default 1e-3)
  --direction-tol <x>       direction cosine tolerance (default 1e-4)

split options:
  --folds <k>               k-fold cross-validation (default 5; nnU-Net's rule:
                            sorted ids, RandomState(seed) shuffle, KFold chunks)
  --ratios <tr,val,test>    one ratio split instead, e.g. 0.7,0.1,0.2
  --existing                the split recorded in the dataset (e.g. ACDC lists)
  --seed <n>                shuffle seed (default 12345, nnU-Net's)
  --no-stratify             do not split each centre separately
  --out <file>              output (default ./splits_final.json)

export options:
  --out <dir>               the new dataset folder (required), e.g. Dataset501_Prostate
  --mode <copy|symlink|hardlink>
                            how single-channel .nii.gz sources are placed (default copy)
  --unlabelled <skip|imagesTs>
                            cases without labels outside the test split (default skip)
  --splits <file>           a splits_final.json to translate into the export

examples:
  labelwise dataset inspect /data/nnUNet_raw/Dataset004_Hippocampus
  labelwise dataset check /data/prostate_sites --mask-encoding 'inverted-binary'
  labelwise dataset inspect cases.csv --json fp.json
  labelwise dataset split /data/Task02_Heart --folds 5 --out splits_final.json
  labelwise dataset export cases.csv --out /data/nnUNet_raw/Dataset501_Sites
`;

const OPTIONS = {
  layout: { type: 'string' },
  name: { type: 'string' },
  centre: { type: 'string' },
  'centre-pattern': { type: 'string' },
  'patient-pattern': { type: 'string' },
  'mask-encoding': { type: 'string' },
  labels: { type: 'string' },
  json: { type: 'string' },
  samples: { type: 'string' },
  seed: { type: 'string' },
  cases: { type: 'string' },
  quiet: { type: 'boolean' },
  'spacing-tol': { type: 'string' },
  'origin-tol': { type: 'string' },
  'direction-tol': { type: 'string' },
  folds: { type: 'string' },
  ratios: { type: 'string' },
  existing: { type: 'boolean' },
  'no-stratify': { type: 'boolean' },
  out: { type: 'string' },
  mode: { type: 'string' },
  unlabelled: { type: 'string' },
  splits: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function number(v: string | undefined, flag: string, opts: { integer?: boolean; min?: number } = {}): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min)) {
    throw new UsageError(`--${flag} expects ${opts.integer ? 'an integer' : 'a number'}${opts.min !== undefined ? ` ≥ ${opts.min}` : ''}, got '${v}'`);
  }
  return n;
}

function maskEncoding(spec: string | undefined): OpenDatasetOptions['maskEncoding'] {
  if (spec === undefined || !spec.includes('=')) return spec;
  const out: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const eq = part.lastIndexOf('=');
    if (eq <= 0) throw new UsageError(`--mask-encoding: expected centre=encoding pairs separated by commas, got '${part}'`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function labelsOption(v: string | undefined): OpenDatasetOptions['labels'] {
  if (v === undefined) return undefined;
  const text = v.trim().startsWith('{') ? v : (() => {
    try {
      return fs.readFileSync(v, 'utf8');
    } catch {
      throw new UsageError(`--labels: '${v}' is neither JSON nor a readable file`);
    }
  })();
  try {
    return JSON.parse(text) as OpenDatasetOptions['labels'];
  } catch (e) {
    throw new UsageError(`--labels: not valid JSON: ${(e as Error).message}`);
  }
}

function openOptions(v: Values): OpenDatasetOptions {
  const layout = v.layout as OpenDatasetOptions['layout'];
  if (layout !== undefined && !DATASET_LAYOUTS.includes(layout)) throw new UsageError(`--layout must be one of ${DATASET_LAYOUTS.join(', ')}, got '${v.layout}'`);
  const o: OpenDatasetOptions = {};
  if (layout) o.layout = layout;
  if (v.name) o.name = v.name;
  if (v.centre) o.centre = v.centre;
  if (v['centre-pattern']) o.centrePattern = v['centre-pattern'];
  if (v['patient-pattern']) o.patientPattern = v['patient-pattern'];
  const enc = maskEncoding(v['mask-encoding']);
  if (enc) o.maskEncoding = enc;
  const labels = labelsOption(v.labels);
  if (labels) o.labels = labels;
  return o;
}

async function inspect(target: string, v: Values): Promise<number> {
  const project = await openDataset(target, openOptions(v));
  const quiet = v.quiet ?? false;
  const fp = await computeFingerprint(project, {
    samplesPerCase: number(v.samples, 'samples', { integer: true, min: 1 }),
    seed: number(v.seed, 'seed', { integer: true, min: 0 }),
    cases: v.cases ? v.cases.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    onCase: quiet ? undefined : (i, n, f) => output.err(`[${i + 1}/${n}] ${f.case}${f.error ? ' (failed)' : ''}\n`),
  });
  output.out(formatFingerprint(fp) + '\n');
  const out = v.json ?? 'dataset_fingerprint.json';
  saveFingerprint(out, fp);
  output.out(`\nwrote ${path.resolve(out)}\n`);
  return 0;
}

async function check(target: string, v: Values): Promise<number> {
  const project = await openDataset(target, openOptions(v));
  const tolerance = {
    ...(v['spacing-tol'] !== undefined ? { spacing: number(v['spacing-tol'], 'spacing-tol', { min: 0 }) } : {}),
    ...(v['origin-tol'] !== undefined ? { origin: number(v['origin-tol'], 'origin-tol', { min: 0 }) } : {}),
    ...(v['direction-tol'] !== undefined ? { direction: number(v['direction-tol'], 'direction-tol', { min: 0 }) } : {}),
  };
  const report = await checkProject(project, { tolerance });
  output.out(formatCheckReport(report) + '\n');
  if (v.json) {
    saveCheckReport(v.json, report);
    output.out(`wrote ${path.resolve(v.json)}\n`);
  }
  return report.errors > 0 ? 1 : 0;
}

async function split(target: string, v: Values): Promise<number> {
  const project = await openDataset(target, openOptions(v));
  const stratifyByCentre = !v['no-stratify'];
  const seed = number(v.seed, 'seed', { integer: true, min: 0 });
  let set: SplitSet;
  if (v.existing) set = existingSplit(project);
  else if (v.ratios) {
    const r = v.ratios.split(',').map(Number);
    if (r.length !== 3 || r.some((x) => !Number.isFinite(x))) throw new UsageError(`--ratios expects three numbers train,val,test, got '${v.ratios}'`);
    set = ratioSplit(project, { train: r[0], val: r[1], test: r[2], seed, stratifyByCentre });
  } else set = kFoldSplits(project, { folds: number(v.folds, 'folds', { integer: true, min: 2 }), seed, stratifyByCentre });
  const out = v.out ?? 'splits_final.json';
  saveSplits(out, set);
  set.folds.forEach((f, i) => output.out(`fold ${i}: ${f.train.length} train, ${f.val.length} val\n`));
  if (set.test.length) output.out(`test: ${set.test.length} case(s)\n`);
  output.out(`wrote ${path.resolve(out)}\n`);
  return 0;
}

async function exportDataset(target: string, v: Values): Promise<number> {
  if (!v.out) throw new UsageError('export: --out <dir> is required (the new nnU-Net dataset folder)');
  const mode = v.mode ?? 'copy';
  if (!['copy', 'symlink', 'hardlink'].includes(mode)) throw new UsageError(`--mode must be copy, symlink or hardlink, got '${mode}'`);
  const unlabelled = v.unlabelled ?? 'skip';
  if (!['skip', 'imagesTs'].includes(unlabelled)) throw new UsageError(`--unlabelled must be skip or imagesTs, got '${unlabelled}'`);
  const project = await openDataset(target, openOptions(v));
  const res = await exportNnunetDataset(project, v.out, {
    mode: mode as 'copy' | 'symlink' | 'hardlink', unlabelled: unlabelled as 'skip' | 'imagesTs', splits: v.splits ? loadSplits(v.splits) : undefined,
  });
  output.out(`exported ${res.numTraining} training and ${res.numTest} test case(s) to ${path.resolve(v.out)}\n`);
  if (res.skipped.length) output.out(`skipped ${res.skipped.length} unlabelled case(s): ${res.skipped.slice(0, 5).join(', ')}${res.skipped.length > 5 ? ', ...' : ''}\n`);
  if (res.labelRemap) output.out(`labels renumbered (original → exported): ${Object.entries(res.labelRemap).map(([a, b]) => `${a}→${b}`).join(', ')}\n`);
  return 0;
}

export const command: Command = {
  summary: 'inspect a dataset (fingerprint) or check image/label geometry',
  help,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    const [sub, target, ...extra] = positionals;
    if (!sub) throw new UsageError('missing subcommand: inspect, check, split or export (see --help)');
    if (!target) throw new UsageError(`${sub}: missing <path> of the dataset`);
    if (extra.length) throw new UsageError(`unexpected argument(s): ${extra.join(' ')}`);
    if (!fs.existsSync(target)) throw new UsageError(`${target}: no such file or folder`);
    switch (sub) {
      case 'inspect': return inspect(target, values);
      case 'check': return check(target, values);
      case 'split': return split(target, values);
      case 'export': return exportDataset(target, values);
      default: throw new UsageError(`unknown subcommand '${sub}' (expected inspect, check, split or export)`);
    }
  },
};
