// The README's main command: an end-to-end supervised job on the bundled NPC
// T2WI sample, through the same CLI verbs a user runs:
//   1. labelwise dataset inspect   (fingerprint: shapes, intensities, labels, problems)
//   2. labelwise train             (2D U-Net; validation picks the best checkpoint;
//                                   the test split is predicted and scored at the end)
//   3. labelwise train --method bcp (semi-supervised: bidirectional copy-paste
//                                   with a third of the training slices labelled,
//                                   the rest used unlabelled)
//   4. labelwise predict           (the test images, written as NIfTI in their geometry)
//   5. a report (out/demo/report.md) with the test metrics and the training curves.
// Runs in about a quarter of an hour on 2 CPU cores (--quick: a minute).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/main.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const examples = path.join(repo, 'examples');
const out = path.join(repo, 'out', 'demo');
const run = path.join(out, 'run');
const semiRun = path.join(out, 'run-bcp');
/** Labelled slices of the semi-supervised step (of 15 in the training split). */
const SEMI_LABELLED = 5;
const quick = process.argv.includes('--quick');

async function step(title: string, argv: string[]): Promise<void> {
  process.stdout.write(`\n=== ${title}\n$ labelwise ${argv.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}\n`);
  const code = await main(argv);
  if (code !== 0) throw new Error(`demo: 'labelwise ${argv[0]}' exited with code ${code}`);
}

interface SummaryJson { mean: Record<string, Record<string, number>>; branch_counts: Record<string, Record<string, number>>; n_cases: number; protocol_title: string }

function fmt(v: number | undefined, digits = 3): string {
  return v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits);
}

async function demo(): Promise<void> {
  const t0 = Date.now();
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const data = path.join(examples, 'data', 'npc-t2wi');
  await step('1. Inspect the dataset', ['dataset', 'inspect', data, '--mask-encoding', 'jpegThreshold', '--labels', '{"background": 0, "gtv": 1}', '--json', path.join(out, 'dataset_fingerprint.json')]);
  const trainArgs = ['train', '-c', path.join(examples, 'npc-t2wi.yaml'), '--output', run, '--no-progress'];
  if (quick) trainArgs.push('--iterations', '20', '--set', 'training.validateEvery=10');
  await step('2. Train a 2D U-Net (validation on the val split, test scored at the end)', trainArgs);
  const plan = JSON.parse(fs.readFileSync(path.join(run, 'data_plan.json'), 'utf8')) as { test: string[]; budget: Record<string, unknown> };
  const testDir = path.join(out, 'test-images');
  fs.mkdirSync(testDir, { recursive: true });
  for (const id of plan.test) fs.copyFileSync(path.join(data, 'images', `${id}.jpg`), path.join(testDir, `${id}.jpg`));
  // The same data with 5 of the 15 training slices labelled: BCP pre-trains on
  // labelled copy-paste mixes, then self-trains with the teacher's pseudo-labels
  // of the other 10 (docs/methods/semi.md).
  const semiArgs = ['train', '-c', path.join(examples, 'npc-t2wi.yaml'), '--output', semiRun, '--no-progress', '--method', 'bcp', '--labelled', String(SEMI_LABELLED),
    '--set', 'data.batchSize=4', '--set', 'data.unlabelledBatchSize=4'];
  semiArgs.push(...(quick ? ['--set', 'method.pretrainIterations=4', '--iterations', '8', '--set', 'training.validateEvery=4'] : ['--set', 'method.pretrainIterations=150', '--iterations', '150', '--set', 'training.validateEvery=30']));
  await step(`3. Semi-supervised: BCP with ${SEMI_LABELLED} labelled and the other training slices unlabelled`, semiArgs);
  await step('4. Predict the held-out test images', ['predict', '-m', run, '-i', testDir, '-o', path.join(out, 'predictions')]);

  const summary = JSON.parse(fs.readFileSync(path.join(run, 'test', 'labelwise', 'summary.json'), 'utf8')) as SummaryJson;
  const log = fs.readFileSync(path.join(run, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>);
  const vals = log.filter((r) => r.kind === 'validation');
  const best = vals.reduce((a, b) => ((b.score as number) > (a.score as number) ? b : a), vals[0]);
  const first = log.find((r) => r.kind === 'train');
  const last = [...log].reverse().find((r) => r.kind === 'train');
  const gtv = summary.mean['1'] ?? Object.values(summary.mean)[0];
  const semi = JSON.parse(fs.readFileSync(path.join(semiRun, 'test_results.json'), 'utf8')) as { labelwise: SummaryJson; budget: { labelledSlices: number; unlabelledSlices: number } };
  const semiGtv = semi.labelwise.mean['1'] ?? Object.values(semi.labelwise.mean)[0];
  const branches = summary.branch_counts['1'] ?? {};
  const report = `# Labelwise demo report

Data: ${plan.test.length} held-out test slices of the bundled NPC T2WI sample
(examples/data/npc-t2wi, CC BY 4.0); split and budget in run/data_plan.json.
Network: 2D U-Net (SSL4MIS/BCP layout); config: examples/npc-t2wi.yaml${quick ? ' (quick mode: 20 iterations)' : ''}.

| | value |
|---|---|
| training loss, first → last logged | ${fmt(first?.loss as number)} → ${fmt(last?.loss as number)} |
| best validation Dice (step ${best?.step ?? 'n/a'}) | ${fmt(best?.score as number)} |
| test Dice (GTV, mean over ${summary.n_cases} slices) | ${fmt(gtv?.Dice)} |
| test HD95 (pixels) | ${fmt(gtv?.HD95, 1)} |
| test ASSD (pixels) | ${fmt(gtv?.ASSD, 1)} |
| empty-mask branches (both present / prediction empty / reference empty / both empty) | ${branches.both_present ?? 0} / ${branches.pred_empty ?? 0} / ${branches.gt_empty ?? 0} / ${branches.both_empty ?? 0} |

Semi-supervised step (BCP, run-bcp/): ${semi.budget.labelledSlices} labelled + ${semi.budget.unlabelledSlices} unlabelled
training slices, batch 4 + 4, ${quick ? '4 + 8' : '150 + 150'} pre-training + self-training iterations.

| test (GTV) | supervised, all 15 labelled | BCP, ${semi.budget.labelledSlices} labelled + ${semi.budget.unlabelledSlices} unlabelled |
|---|---|---|
| Dice | ${fmt(gtv?.Dice)} | ${fmt(semiGtv?.Dice)} |
| HD95 (pixels) | ${fmt(gtv?.HD95, 1)} | ${fmt(semiGtv?.HD95, 1)} |

A smoke test of the pipeline on a tiny sample (5 test slices), not a benchmark: the
ACDC tables in docs/results.md compare the methods properly.

Metrics protocol: ${summary.protocol_title}. Full per-case results:
run/test/labelwise/summary.json and per_case.csv. Predictions (NIfTI, input
geometry): predictions/. Training curves: run/curves.png.

Wall time: ${((Date.now() - t0) / 1000).toFixed(0)} s.
`;
  fs.writeFileSync(path.join(out, 'report.md'), report);
  process.stdout.write(`\n=== 5. Report: ${path.relative(process.cwd(), path.join(out, 'report.md'))}\n\n${report}`);
}

demo().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
