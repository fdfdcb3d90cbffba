// `labelwise plan`: nnU-Net-style experiment planning from a dataset
// fingerprint (or a dataset, fingerprinted on the way) to an editable plans JSON.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { computeFingerprint, openDataset } from '@labelwise/toolkit/data';
import { type FingerprintLike, type PlanDims, type Plans, fingerprintFromJson, planExperiment, savePlans } from '@labelwise/toolkit/transforms';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import * as output from '../output.js';

const help = `usage: labelwise plan <fingerprint.json | dataset path> [options]

Plans training configurations the way nnU-Net v2 does: target spacing (median;
10th percentile along the coarse axis of anisotropic data), median shape after
resampling, patch and batch size fitted to a GPU memory budget from the U-Net's
feature-map sizes (batch ≥ 2, covering ≤ 5% of the dataset), normalisation per
channel (CT vs z-score from the channel names), and the network topology
(pooling per axis until feature maps are 4 voxels, kernel sizes, stages).
Writes an editable JSON file; every choice has its reason in a "why" field.

<input> is one of
  - a fingerprint written by 'labelwise dataset inspect' (dataset_fingerprint.json),
  - nnU-Net's dataset_fingerprint.json (dataset.json is read from the same
    folder, or give --dataset-json),
  - a dataset folder / dataset.json / manifest / project JSON: it is
    fingerprinted first (this reads every case).

options:
  -o, --out <file>        plans file to write (default ./plans.json)
  --memory-gb <n>         GPU memory target in GB (default 8, nnU-Net's)
  --dims <2d|3d|both>     configurations to plan (default both; 3d adds a
                          3d_lowres cascade stage when the full-res patch
                          covers < 25% of the median image)
  --target-spacing <z,y,x>  use this full-res spacing instead of deriving it
  --no-transpose          keep the axis order (nnU-Net puts the coarsest axis first)
  --dataset-json <file>   dataset.json for an nnU-Net fingerprint
  --layout <name>         dataset layout when <input> is a dataset
  --samples <n>           foreground values sampled per case when fingerprinting
  --quiet                 no summary on stdout

examples:
  labelwise plan dataset_fingerprint.json -o plans.json
  labelwise plan /data/nnUNet_raw/Dataset002_Heart --memory-gb 24 --dims 3d
`;

const OPTIONS = {
  out: { type: 'string', short: 'o' },
  'memory-gb': { type: 'string' },
  dims: { type: 'string' },
  'target-spacing': { type: 'string' },
  'no-transpose': { type: 'boolean' },
  'dataset-json': { type: 'string' },
  layout: { type: 'string' },
  samples: { type: 'string' },
  quiet: { type: 'boolean' },
} as const;

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
}

function isFingerprintJson(j: unknown): boolean {
  return typeof j === 'object' && j !== null && 'spacings' in j && ('shapes_after_crop' in j || 'shapesAfterCrop' in j);
}

async function loadFingerprint(input: string, v: { 'dataset-json'?: string; layout?: string; samples?: string; quiet?: boolean }): Promise<FingerprintLike> {
  if (!fs.existsSync(input)) throw new UsageError(`input not found: ${input}`);
  if (fs.statSync(input).isFile() && input.toLowerCase().endsWith('.json')) {
    const j = readJson(input, 'fingerprint');
    if (isFingerprintJson(j)) {
      const o = j as Record<string, unknown>;
      let ds: unknown;
      if (v['dataset-json']) ds = readJson(v['dataset-json'], 'dataset.json');
      else if (!o.channelNames && !o.channel_names) {
        const beside = path.join(path.dirname(input), 'dataset.json');
        if (!fs.existsSync(beside)) throw new UsageError(`${input} has no channel names or labels (an nnU-Net fingerprint?) and there is no dataset.json beside it; pass --dataset-json`);
        ds = readJson(beside, 'dataset.json');
      }
      try {
        return fingerprintFromJson(j, ds, input);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
  }
  let samples: number | undefined;
  if (v.samples !== undefined) {
    samples = Number(v.samples);
    if (!Number.isInteger(samples) || samples < 1) throw new UsageError(`--samples: expected a positive integer, got '${v.samples}'`);
  }
  const project = await openDataset(input, v.layout ? { layout: v.layout as never } : {});
  const fp = await computeFingerprint(project, {
    samplesPerCase: samples,
    onCase: v.quiet ? undefined : (i, n, c) => output.err(`fingerprint ${i + 1}/${n} ${c.case}${c.error ? ` (error: ${c.error})` : ''}\n`),
  });
  return fingerprintFromJson(fp, undefined, `fingerprint of ${input}`);
}

function summary(plans: Plans, out: string): string {
  const lines = [`plans written to ${out}`, `transpose ${JSON.stringify(plans.transposeForward)}; median spacing ${JSON.stringify(plans.originalMedianSpacing.map((s) => +s.toFixed(4)))}, median shape ${JSON.stringify(plans.originalMedianShape)}`];
  for (const [name, c] of Object.entries(plans.configurations)) {
    lines.push(`  ${name.padEnd(10)} spacing ${JSON.stringify(c.spacing.map((s) => +s.toFixed(4)))}  patch ${JSON.stringify(c.patchSize)}  batch ${c.batchSize}  ` +
      `stages ${c.network.nStages}  pools/axis ${JSON.stringify(c.network.poolOpsPerAxis)}  ~${c.memory.estimatedGb} GB of ${plans.memoryGb}`);
  }
  return lines.join('\n');
}

export const command: Command = {
  summary: 'propose target spacing, patch and batch size from a dataset fingerprint',
  help,
  async run(argv) {
    const { values: v, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new UsageError(`expected one input (a fingerprint JSON or a dataset path), got ${positionals.length}; see 'labelwise plan --help'`);
    let memoryGb = 8;
    if (v['memory-gb'] !== undefined) {
      memoryGb = Number(v['memory-gb']);
      if (!(memoryGb > 0 && Number.isFinite(memoryGb))) throw new UsageError(`--memory-gb: expected a positive number, got '${v['memory-gb']}'`);
    }
    const dims = (v.dims ?? 'both') as PlanDims;
    if (!['2d', '3d', 'both'].includes(dims)) throw new UsageError(`--dims: expected 2d, 3d or both, got '${v.dims}'`);
    let overwriteTargetSpacing: number[] | undefined;
    if (v['target-spacing'] !== undefined) {
      overwriteTargetSpacing = v['target-spacing'].split(',').map(Number);
      if (overwriteTargetSpacing.length !== 3 || overwriteTargetSpacing.some((s) => !(s > 0 && Number.isFinite(s)))) {
        throw new UsageError(`--target-spacing: expected three positive numbers z,y,x, got '${v['target-spacing']}'`);
      }
    }
    const fp = await loadFingerprint(positionals[0], v);
    let plans: Plans;
    try {
      plans = planExperiment(fp, { memoryGb, dims, overwriteTargetSpacing, suppressTranspose: v['no-transpose'] ?? false });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const out = v.out ?? 'plans.json';
    savePlans(out, plans);
    if (!v.quiet) output.out(summary(plans, out) + '\n');
    return 0;
  },
};
