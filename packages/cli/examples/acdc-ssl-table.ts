// The ACDC semi-supervised table (issue 6): every row × label budget × seed
// of experiments/acdc-ssl-reduced.yaml trained and tested through the CLI,
// then aggregated (mean ± std over seeds) into docs/results.md.
//
//   node packages/cli/dist/examples/acdc-ssl-table.js [--root DIR] [--parallel N]
//        [--rows a,b] [--budgets 3,7] [--seeds 1,2,3] [--table-only] [--no-docs]
//
// Runs go to <root>/<row>/l<budget>-s<seed> (default root out/acdc-ssl-reduced);
// a finished run (test_results.json present) is skipped and an interrupted one
// resumed, so the command can be re-run until the table is complete. Jobs run
// `--parallel` at a time with the cores split between them, in priority order:
// seed 1 of every row first (one complete table), then the other seeds of the
// main rows, then of the ablations.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { metrics, writeFileAtomic } from '@labelwise/toolkit';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const cli = path.join(repo, 'packages', 'cli', 'dist', 'src', 'main.js');
const config = path.join(repo, 'experiments', 'acdc-ssl-reduced.yaml');

/** 1 : 3 pre-training to self-training, as BCP's 10k + 30k. */
const PRETRAIN = 150;
const SELFTRAIN = 450;
const bcp = ['method.name=bcp', `method.pretrainIterations=${PRETRAIN}`];
/** Hsu & Hua's static-teacher period (1000 of 30k) never fires in 450 steps; four snapshots instead. */
const dual = `method.dualTeacher.period=${PRETRAIN}`;

interface Row { id: string; title: string; main: boolean; set: string[] }

export const ROWS: Row[] = [
  { id: 'supervised', title: 'Supervised only (same labels)', main: true, set: ['method.name=supervised', `training.iterations=${PRETRAIN + SELFTRAIN}`] },
  // SSL4MIS ramps the consistency weight over all 30k iterations (unit 150 × 200); the same shape over 600.
  { id: 'mean-teacher', title: 'Mean teacher', main: true, set: ['method.name=mean_teacher', `training.iterations=${PRETRAIN + SELFTRAIN}`, `method.rampupUnit=${(PRETRAIN + SELFTRAIN) / 200}`] },
  { id: 'bcp', title: 'BCP', main: true, set: bcp },
  { id: 'bcp-a', title: 'BCP + (a) dynamic mask (schedule)', main: false, set: [...bcp, 'method.dynamicMask.mode=schedule'] },
  { id: 'bcp-b', title: 'BCP + (b) edge-guided module', main: false, set: [...bcp, 'network.name=unet2d_egm', 'method.edgeWeight=0.5'] },
  { id: 'bcp-c', title: 'BCP + (c) dual teacher', main: false, set: [...bcp, dual] },
  { id: 'full', title: 'Full method (a + b + c)', main: true, set: ['method.name=bcp_hsu_hua', 'network.name=unet2d_egm', `method.pretrainIterations=${PRETRAIN}`, dual] },
];

interface Job { row: Row; budget: number; seed: number; dir: string }

interface TestResults {
  budget: { labelledCases: number; labelledSlices: number; unlabelledSlices: number };
  labelwise: { mean: Record<string, Record<string, number>>; foreground_mean: Record<string, number> };
}

function csv(s: string | undefined, all: readonly string[]): string[] {
  if (!s) return [...all];
  const out = s.split(',').map((x) => x.trim()).filter(Boolean);
  for (const x of out) if (!all.includes(x)) throw new Error(`'${x}' is not one of ${all.join(', ')}`);
  return out;
}

function jobsInOrder(rows: Row[], budgets: number[], seeds: number[], root: string): Job[] {
  const job = (row: Row, budget: number, seed: number): Job => ({ row, budget, seed, dir: path.join(root, row.id, `l${budget}-s${seed}`) });
  const first = seeds.slice(0, 1);
  const rest = seeds.slice(1);
  const out: Job[] = [];
  for (const seed of first) for (const b of budgets) for (const r of rows) out.push(job(r, b, seed));
  for (const main of [true, false]) for (const seed of rest) for (const b of budgets) for (const r of rows) if (r.main === main) out.push(job(r, b, seed));
  return out;
}

const done = (j: Job): boolean => fs.existsSync(path.join(j.dir, 'test_results.json'));

function runJob(j: Job, threads: number): Promise<void> {
  fs.mkdirSync(j.dir, { recursive: true });
  const resume = fs.existsSync(path.join(j.dir, 'config.json'));
  const args = [cli, 'train', '-c', config, '--output', j.dir, '--labelled', String(j.budget), '--seed', String(j.seed), '--no-progress',
    ...j.row.set.flatMap((s) => ['--set', s]), ...(resume ? ['--resume'] : [])];
  const log = fs.openSync(path.join(j.dir, 'run.log'), 'a');
  const t0 = Date.now();
  console.log(`${new Date().toISOString()} start ${j.row.id} l${j.budget} s${j.seed}${resume ? ' (resume)' : ''}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', log, log],
      env: { ...process.env, OMP_NUM_THREADS: String(threads), OMP_WAIT_POLICY: 'PASSIVE' },
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      fs.closeSync(log);
      const wall = (Date.now() - t0) / 1000;
      const file = path.join(j.dir, 'wall_s.json');
      const before = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { wall_s: number }).wall_s : 0;
      writeFileAtomic(file, JSON.stringify({ wall_s: before + wall, threads }));
      console.log(`${new Date().toISOString()} ${code === 0 ? 'done' : `FAILED (exit ${code}, see ${path.join(j.dir, 'run.log')})`} ${j.row.id} l${j.budget} s${j.seed} ${(wall / 60).toFixed(1)} min`);
      resolve();
    });
  });
}

async function runAll(jobs: Job[], parallel: number): Promise<void> {
  const queue = jobs.filter((j) => !done(j));
  const threads = Math.max(1, Math.floor(os.availableParallelism() / parallel));
  console.log(`${queue.length} of ${jobs.length} runs to do, ${parallel} at a time, ${threads} thread(s) each`);
  const workers = Array.from({ length: parallel }, async () => {
    for (let j = queue.shift(); j; j = queue.shift()) await runJob(j, threads);
  });
  await Promise.all(workers);
}

interface Cell { n: number; dice: number[]; hd95: number[]; assd: number[]; perClass: number[][]; wallMin: number[]; slices?: number }

const mean = (v: number[]): number => metrics.meanStd(v).mean;
/** mean ± sample standard deviation (ddof 1, as papers report over seeds). */
function pm(v: number[], scale: number, digits: number): string {
  if (v.length === 0) return '—';
  const s = metrics.meanStd(v, 1);
  return `${(s.mean * scale).toFixed(digits)}${v.length > 1 ? ` ± ${(s.std * scale).toFixed(digits)}` : ''}`;
}

function collect(jobs: Job[]): Map<string, Cell> {
  const cells = new Map<string, Cell>();
  for (const j of jobs) {
    const key = `${j.row.id}/${j.budget}`;
    const c = cells.get(key) ?? { n: 0, dice: [], hd95: [], assd: [], perClass: [], wallMin: [] };
    cells.set(key, c);
    if (!done(j)) continue;
    const r = JSON.parse(fs.readFileSync(path.join(j.dir, 'test_results.json'), 'utf8')) as TestResults;
    c.n++;
    c.dice.push(r.labelwise.foreground_mean.Dice);
    c.hd95.push(r.labelwise.foreground_mean.HD95);
    c.assd.push(r.labelwise.foreground_mean.ASSD);
    c.perClass.push(['1', '2', '3'].map((k) => r.labelwise.mean[k].Dice));
    c.slices = r.budget.labelledSlices;
    const wall = path.join(j.dir, 'wall_s.json');
    if (fs.existsSync(wall)) c.wallMin.push((JSON.parse(fs.readFileSync(wall, 'utf8')) as { wall_s: number }).wall_s / 60);
  }
  return cells;
}

function table(rows: Row[], budgets: number[], cells: Map<string, Cell>): string {
  const lines: string[] = [];
  const head = budgets.map((b) => {
    const slices = rows.map((r) => cells.get(`${r.id}/${b}`)?.slices).find((s) => s !== undefined);
    return `${b} patients${slices ? ` (${slices} slices)` : ''}`;
  });
  lines.push(`| method | ${head.map((h) => `${h}: mean Dice (%) | HD95 | ASSD | n`).join(' | ')} | wall min / run |`);
  lines.push(`|---|${budgets.map(() => '---|---|---|---|').join('')}---|`);
  for (const r of rows) {
    const cols = budgets.map((b) => {
      const c = cells.get(`${r.id}/${b}`);
      if (!c || c.n === 0) return '— | — | — | 0';
      return `${pm(c.dice, 100, 2)} | ${pm(c.hd95, 1, 2)} | ${pm(c.assd, 1, 2)} | ${c.n}`;
    });
    const walls = budgets.flatMap((b) => cells.get(`${r.id}/${b}`)?.wallMin ?? []);
    lines.push(`| ${r.title} | ${cols.join(' | ')} | ${walls.length ? mean(walls).toFixed(1) : '—'} |`);
  }
  lines.push('');
  lines.push(`Per-class Dice (%), mean over seeds:`);
  lines.push('');
  lines.push(`| method | ${budgets.map((b) => `${b} patients: RV | Myo | LV`).join(' | ')} |`);
  lines.push(`|---|${budgets.map(() => '---|---|---|').join('')}`);
  for (const r of rows) {
    const cols = budgets.map((b) => {
      const c = cells.get(`${r.id}/${b}`);
      if (!c || c.n === 0) return '— | — | —';
      return [0, 1, 2].map((k) => (mean(c.perClass.map((p) => p[k])) * 100).toFixed(2)).join(' | ');
    });
    lines.push(`| ${r.title} | ${cols.join(' | ')} |`);
  }
  return lines.join('\n');
}

function writeResults(section: string): void {
  const docs = path.join(repo, 'docs', 'results.md');
  const start = '<!-- results:acdc-ssl:start -->';
  const end = '<!-- results:acdc-ssl:end -->';
  let text = fs.readFileSync(docs, 'utf8');
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${docs}: markers ${start} … ${end} not found`);
  text = `${text.slice(0, i)}${start}\n${section}\n${text.slice(j)}`;
  writeFileAtomic(docs, text);
  console.log(`updated ${path.relative(process.cwd(), docs)}`);
}

async function cliMain(): Promise<void> {
  const { values } = parseArgs({
    options: {
      root: { type: 'string', default: path.join(repo, 'out', 'acdc-ssl-reduced') },
      parallel: { type: 'string', default: '2' },
      rows: { type: 'string' }, budgets: { type: 'string' }, seeds: { type: 'string' },
      'table-only': { type: 'boolean', default: false }, 'no-docs': { type: 'boolean', default: false },
    },
  });
  const rowIds = csv(values.rows, ROWS.map((r) => r.id));
  const rows = ROWS.filter((r) => rowIds.includes(r.id));
  const budgets = csv(values.budgets, ['3', '7']).map(Number);
  const seeds = csv(values.seeds, ['1', '2', '3']).map(Number);
  const parallel = Number(values.parallel);
  if (!Number.isInteger(parallel) || parallel < 1) throw new Error(`--parallel: expected a positive integer, got '${values.parallel}'`);
  const root = path.resolve(values.root);
  const jobs = jobsInOrder(rows, budgets, seeds, root);
  if (!values['table-only']) await runAll(jobs, parallel);
  const cells = collect(jobs);
  const md = table(rows, budgets, cells);
  console.log(md);
  const perRun = jobs.filter(done).map((j) => ({ row: j.row.id, budget: j.budget, seed: j.seed, set: j.row.set, results: JSON.parse(fs.readFileSync(path.join(j.dir, 'test_results.json'), 'utf8')) as unknown }));
  writeFileAtomic(path.join(root, 'table.json'), JSON.stringify({ config: path.relative(repo, config), runs: perRun }, null, 1));
  if (!values['no-docs']) writeResults(md);
}

await cliMain();
