// Test-split evaluation at the end of a run, through the same code as
// `labelwise predict`: the run's final checkpoint is loaded with
// loadPredictor, every test image is read as a user would give it and
// segmented with predictVolume (its normalisation or nnU-Net preprocessing
// and the way back to the image's own grid come from the checkpoint), the
// label maps are written as NIfTI under test/predictions, and scored under
// each protocol of the data plan (the honest Labelwise protocol, plus the
// seed's own for comparison with papers).
import fs from 'node:fs';
import path from 'node:path';
import { loadPredictor } from '../inference/predict.js';
import { writeFileAtomic } from '../io/atomic.js';
import { writeNifti } from '../io/nifti.js';
import { Volume } from '../io/volume.js';
import { evaluateCase, perCaseCsv, summarize, summaryJson, type CaseResult } from '../metrics/evaluate.js';
import { plotPerCase } from '../plot/charts.js';
import type { ProtocolName } from '../metrics/protocols.js';

export type { VolumeCase } from './data-plan.js';

export interface TestCase {
  id: string;
  /** The image as read from disk and its label, on the same grid. */
  loadVolumes(): Promise<{ image: Volume; label: Volume }>;
}

export interface TestPlan {
  test: readonly TestCase[];
  classNames: string[];
  protocols: string[];
  ignoreLabel?: number | null;
  /** Where the network runs (the run's device); inputs and outputs stay on the CPU. */
  device?: string;
}

/**
 * Scores the test split with the checkpoint of `runDir` (its best, else
 * last). Writes test/predictions/<id>.nii.gz and test/<protocol>/summary.json
 * + per_case.csv; returns the means per protocol plus `base`.
 */
export async function evaluateTest(runDir: string, plan: TestPlan, base: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const predictor = loadPredictor(runDir, { device: plan.device });
  const classes = Object.fromEntries(plan.classNames.slice(1).map((n, i) => [n, i + 1]));
  const results = new Map<string, CaseResult[]>(plan.protocols.map((p) => [p, []]));
  const predDir = path.join(runDir, 'test', 'predictions');
  fs.mkdirSync(predDir, { recursive: true });
  const geometry: Record<string, { dims: number[]; affine: number[] }> = {};
  for (const c of plan.test) {
    const { image, label } = await c.loadVolumes();
    const pred = predictor.predict(image).labels;
    if (pred.dims.join() !== label.dims.join()) throw new Error(`test case ${c.id}: prediction dims [${pred.dims.join(', ')}] differ from its label's [${label.dims.join(', ')}]`);
    writeNifti(path.join(predDir, `${c.id}.nii.gz`), pred);
    geometry[c.id] = { dims: [...pred.dims], affine: Array.from(pred.affine) };
    // The label was checked to share the image grid when loaded; score on its affine (float noise in headers).
    const scored = new Volume({ data: pred.data, dims: label.dims, channels: 1, affine: label.affine });
    for (const p of plan.protocols) {
      const res = evaluateCase(scored, label, { classes, protocol: p as ProtocolName, caseId: c.id, ...(plan.ignoreLabel != null ? { ignoreLabel: plan.ignoreLabel } : {}) });
      results.get(p)!.push(res);
    }
  }
  const out = writeTestSummaries(runDir, results, { checkpoint: path.basename(predictor.dir), cases: plan.test.length, ...base, predictions: predDir, geometry });
  // Test Dice per case and class, beside each protocol's summary (a box per class, a point per case).
  for (const [p, cases] of results) {
    const points = cases.flatMap((c) => c.dropped ? [] : c.classes.filter((k) => !k.dropped && Number.isFinite(k.metrics.Dice)).map((k) => ({ case: c.caseId ?? '?', class: k.name ?? k.key, value: k.metrics.Dice as number })));
    if (points.length) await plotPerCase(points, path.join(runDir, 'test', p, 'per_case_dice.png'), { metric: 'Dice', title: `Test Dice per case (${p} protocol)` });
  }
  return out;
}

/** Writes test/<protocol>/summary.json and per_case.csv per protocol; returns `base` plus each protocol's means. */
export function writeTestSummaries(runDir: string, results: ReadonlyMap<string, CaseResult[]>, base: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [p, cases] of results) {
    const s = summarize(cases, { protocol: p as ProtocolName });
    writeFileAtomic(path.join(runDir, 'test', p, 'summary.json'), summaryJson(s));
    writeFileAtomic(path.join(runDir, 'test', p, 'per_case.csv'), perCaseCsv(s));
    out[p] = { mean: s.mean, foreground_mean: s.foreground_mean, branch_counts: s.branch_counts, assd_formula: s.assd_formula };
  }
  return out;
}
