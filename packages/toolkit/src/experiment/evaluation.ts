// Test-split evaluation at the end of a run: the best checkpoint predicts
// every test volume, scored under each protocol the data plan names (the
// honest Labelwise protocol, plus the seed's own for comparison with papers).
import path from 'node:path';
import type * as torch from '@labelwise/torch';
import { predictSlices, type SlicewiseOptions } from '../inference/slicewise.js';
import { writeFileAtomic } from '../io/atomic.js';
import { evaluateCase, perCaseCsv, summarize, summaryJson, type CaseResult } from '../metrics/evaluate.js';
import type { ProtocolName } from '../metrics/protocols.js';
import { findCheckpoint, loadCheckpoint } from '../checkpoint/checkpoint.js';
import type { DataPlan } from './data-plan.js';

export type { VolumeCase } from './data-plan.js';

export async function evaluateVolumes(runDir: string, model: torch.nn.Module, plan: DataPlan, predictOpts: SlicewiseOptions, predict: (x: torch.Tensor) => torch.Tensor): Promise<Record<string, unknown>> {
  const best = findCheckpoint(runDir, 'best') ?? findCheckpoint(runDir, 'last');
  if (best) loadCheckpoint(best, { model }, { restoreRng: false });
  model.eval();
  const classes = Object.fromEntries(plan.classNames.slice(1).map((n, i) => [n, i + 1]));
  const results = new Map<string, CaseResult[]>(plan.protocols.map((p) => [p, []]));
  for (const c of plan.test) {
    const { image, label, spacing } = await c.load();
    const r = predictSlices(image, predict, predictOpts);
    for (const p of plan.protocols) {
      // Tensors are [Z, Y, X]: spacing is given in tensor order.
      const res = evaluateCase(r.labels, label, { classes, protocol: p as ProtocolName, spacing: [...spacing].reverse() });
      res.caseId = c.id;
      results.get(p)!.push(res);
    }
    for (const t of [image, label, r.labels]) t.dispose();
  }
  return writeTestSummaries(runDir, results, { checkpoint: best ? path.basename(best) : 'final weights', cases: plan.test.length, budget: plan.budget });
}

/** Writes test/<protocol>/summary.json and per_case.csv per protocol; returns `base` plus each protocol's means. */
export function writeTestSummaries(runDir: string, results: ReadonlyMap<string, CaseResult[]>, base: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [p, cases] of results) {
    const s = summarize(cases, { protocol: p as ProtocolName });
    writeFileAtomic(path.join(runDir, 'test', p, 'summary.json'), summaryJson(s));
    writeFileAtomic(path.join(runDir, 'test', p, 'per_case.csv'), perCaseCsv(s));
    out[p] = { mean: s.mean, foreground_mean: s.foreground_mean, branch_counts: s.branch_counts };
  }
  return out;
}
