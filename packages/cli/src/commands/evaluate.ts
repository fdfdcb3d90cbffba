// `labelwise evaluate`: score a folder of predictions against references and
// write an nnU-Net style summary.json (+ per-case CSV).
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import {
  type AssdFormula, type ClassList, type EmptyDistance, type ProtocolName, type Summary,
  ASSD_FORMULAS, PROTOCOLS, PROTOCOL_NAMES, evaluateFolder, parseClassList, readDatasetClasses,
} from '@labelwise/toolkit/metrics';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import * as output from '../output.js';

const protocolLines = PROTOCOL_NAMES.map((n) => `                         ${n.padEnd(13)} ${PROTOCOLS[n].title}`).join('\n');

const help = `usage: labelwise evaluate --pred DIR --gt DIR -o summary.json [options]

Scores every predicted label map in --pred against the reference with the same
case id in --gt (file name without extension: case_001.nii.gz ↔ case_001.nii.gz),
per class and per case: Dice, IoU, HD, HD95, ASSD, ASD, NSD, precision, recall,
specificity, volume similarity and the TP/FP/FN/TN counts, distances in mm from
the reference's voxel spacing. Writes an nnU-Net style summary.json
(metric_per_case, mean per class, foreground_mean) with std, pooled Dice, how
many cases fell in each empty-mask branch per class, the protocol and the
spacing used, and a per-case CSV. Files: .nii.gz, .nii, .hdr/.img, .png, .bmp.

options:
  --pred DIR             folder of predicted label maps
  --gt DIR               folder of reference label maps
  -o, --output FILE      summary.json to write (atomically; parent folders created)
  --csv FILE             per-case CSV (default: the summary path with .csv)
  --labels LIST          classes to score, e.g. 1,2,3; join labels into a region
                         with '+': 1+2+3,1+3,3 (BraTS whole tumour, core, enhancing)
  --labels-json FILE     take the classes from a dataset.json: nnU-Net v2
                         ("labels": {"background": 0, "RV": 1, "whole": [1, 2]};
                         its "ignore" label becomes --ignore-label) or MSD
                         ("labels": {"0": "background", "1": "edema"})
                         Default without either: every label found in the references.
  --protocol NAME        how to score (default labelwise); the others reproduce a
                         reference project's evaluation exactly, quirks included
                         (docs/metrics.md):
${protocolLines}
  --assd F               ASSD formula under the labelwise protocol: pooled (default; MedPy >= 0.5,
                         MONAI) or medpy-0.4-mean-of-means (to compare with numbers from old MedPy)
  --tolerance-mm MM      NSD (surface Dice) tolerance in mm (default 1; stdr: 2)
  --empty-distance X     HD/HD95/ASSD/ASD when exactly one mask of a class is
                         empty (labelwise protocol): diagonal (default; the image
                         diagonal in mm), nan (left out of the means, counted), or
                         a number of mm. Both empty: overlap scores 1, distances 0.
  --spacing X,Y,Z        override the voxel spacing in mm (fastest axis first)
  --ignore-label N       reference label whose voxels are left out of every score
  --only-predicted       score only the cases that have a prediction (default: a
                         reference without a prediction is an error)
  --no-affine-check      accept predictions whose affine differs from the reference
                         (shapes must still match)
  --quiet                no per-case progress on stderr

exit codes: 0 done; 1 a file is missing, unreadable or on another grid (the
message names it); 2 bad options.

examples:
  labelwise evaluate --pred fold_0/validation --gt nnUNet_raw/Dataset027_ACDC/labelsTr \\
      --labels-json nnUNet_raw/Dataset027_ACDC/dataset.json --only-predicted -o fold_0/summary.json
  labelwise evaluate --pred preds --gt labels --labels 1,2,3 --protocol bcp -o bcp_summary.json
  labelwise evaluate --pred preds --gt labels --labels 1+2+3+4,1+3+4,4 --tolerance-mm 2 -o brats.json
`;

const OPTIONS = {
  pred: { type: 'string' },
  gt: { type: 'string' },
  output: { type: 'string', short: 'o' },
  csv: { type: 'string' },
  labels: { type: 'string' },
  'labels-json': { type: 'string' },
  protocol: { type: 'string' },
  assd: { type: 'string' },
  'tolerance-mm': { type: 'string' },
  'empty-distance': { type: 'string' },
  spacing: { type: 'string' },
  'ignore-label': { type: 'string' },
  'only-predicted': { type: 'boolean' },
  'no-affine-check': { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

function positiveNumber(text: string, flag: string, allowZero = false): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0) || text.trim() === '') throw new UsageError(`${flag} must be a ${allowZero ? 'non-negative' : 'positive'} number, got '${text}'`);
  return v;
}

function folder(p: string | undefined, flag: string): string {
  if (!p) throw new UsageError(`${flag} DIR is required (see labelwise evaluate --help)`);
  return p;
}

function fmt(v: number | undefined): string {
  if (v === undefined) return '-';
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(4);
}

/** A compact table of the class means and branch counts for the terminal. */
export function formatSummary(s: Summary): string {
  const shown = s.metrics.filter((m) => !['TP', 'FP', 'FN', 'TN', 'n_pred', 'n_ref', 'Specificity', 'VolumeSimilarity'].includes(m));
  const keys = Object.keys(s.mean);
  const label = (k: string) => (s.classes[k] ? `${k} ${s.classes[k]}` : k);
  const rows = [['class', ...shown, 'present/both-empty/gt-empty/pred-empty']];
  for (const k of keys) {
    const b = s.branch_counts[k];
    rows.push([label(k), ...shown.map((m) => fmt(s.mean[k][m])), `${b.both_present}/${b.both_empty}/${b.gt_empty}/${b.pred_empty}`]);
  }
  rows.push(['mean', ...shown.map((m) => fmt(s.foreground_mean[m])), '']);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  const head = `protocol ${s.protocol}: ${s.n_cases} case(s), spacing: ${s.spacing_rule}${s.tolerance_mm !== null ? `, NSD tolerance ${s.tolerance_mm} mm` : ''}`;
  const extra = [
    ...(s.dropped_cases.length ? [`${s.dropped_cases.length} case(s) dropped by the protocol: ${s.dropped_cases.map((d) => d.case).join(', ')}`] : []),
    ...s.notes,
  ];
  return [head, ...lines, ...extra].join('\n');
}

export const command: Command = {
  summary: 'score predictions against labels (Dice, HD95, ASSD, NSD, ...)',
  help,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (use --pred DIR --gt DIR)`);
    const predDir = folder(values.pred, '--pred');
    const gtDir = folder(values.gt, '--gt');
    if (!values.output) throw new UsageError('-o/--output summary.json is required');
    for (const [d, flag] of [[predDir, '--pred'], [gtDir, '--gt']] as const) {
      if (!fs.existsSync(d) || !fs.statSync(d).isDirectory()) throw new Error(`${flag}: ${d} is not a folder`);
    }
    const protocol = (values.protocol ?? 'labelwise') as ProtocolName;
    if (!PROTOCOL_NAMES.includes(protocol)) throw new UsageError(`--protocol must be one of ${PROTOCOL_NAMES.join(', ')}, got '${values.protocol}'`);
    if (values.labels && values['labels-json']) throw new UsageError('give --labels or --labels-json, not both');
    let classes: ClassList | undefined;
    let ignoreLabel: number | undefined;
    if (values.labels) {
      try { classes = parseClassList(values.labels); } catch (e) { throw new UsageError(`--labels: ${(e as Error).message}`); }
    } else if (values['labels-json']) {
      const d = readDatasetClasses(values['labels-json']);
      classes = d.classes;
      ignoreLabel = d.ignoreLabel;
    }
    if (values['ignore-label'] !== undefined) {
      const v = Number(values['ignore-label']);
      if (!Number.isInteger(v) || v <= 0) throw new UsageError(`--ignore-label must be a positive integer label, got '${values['ignore-label']}'`);
      ignoreLabel = v;
    }
    let emptyDistance: EmptyDistance | undefined;
    const ed = values['empty-distance'];
    if (ed !== undefined) emptyDistance = ed === 'diagonal' || ed === 'nan' ? ed : positiveNumber(ed, '--empty-distance', true);
    const toleranceMm = values['tolerance-mm'] !== undefined ? positiveNumber(values['tolerance-mm'], '--tolerance-mm', true) : undefined;
    let spacing: number[] | undefined;
    if (values.spacing) {
      spacing = values.spacing.split(',').map((s) => positiveNumber(s.trim(), '--spacing'));
      if (spacing.length < 1 || spacing.length > 3) throw new UsageError(`--spacing takes 1 to 3 numbers, got '${values.spacing}'`);
    }
    const quiet = values.quiet ?? false;
    if (values.assd !== undefined && !(ASSD_FORMULAS as readonly string[]).includes(values.assd)) throw new UsageError(`--assd must be one of ${ASSD_FORMULAS.join(', ')}, got '${values.assd}'`);
    const assd = values.assd as AssdFormula | undefined;
    const summary = await evaluateFolder(predDir, gtDir, {
      protocol, assd, classes, ignoreLabel, emptyDistance, toleranceMm, spacing,
      onlyPredicted: values['only-predicted'] ?? false,
      checkAffine: !(values['no-affine-check'] ?? false),
      output: values.output,
      csv: values.csv,
      onCase: quiet ? undefined : (r, i, n) => output.err(`[${i + 1}/${n}] ${r.caseId}${r.dropped ? ` (dropped: ${r.dropped})` : ''}\n`),
    });
    output.out(formatSummary(summary) + '\n');
    const csv = values.csv ?? values.output.replace(/\.json$/i, '') + '.csv';
    output.out(`wrote ${values.output} and ${csv}\n`);
    return 0;
  },
};
