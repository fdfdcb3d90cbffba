// The weak-supervision tables (issue 12), trained and scored through the CLI:
//   --table brats  PA-Seg on the six BraTS sample cases, 3-fold cross-validation
//                  (fold k: test cases 2k, 2k+1, validation case 2k+2 mod 6,
//                  training the other three, in sorted case order); rows: full
//                  supervision, stage 1, stage 2 (SCM), each scored per test case
//                  under Labelwise's protocol and PA-Seg's (empty predictions dropped);
//   --table acdc   ACDC with simulated scribbles: partial CE, + gated CRF,
//                  + variance, and full masks, on the 40 test volumes;
//   --table clicks the BraTS stage-2 models refined by seven clicks per test case (labelwise segment).
//
//   node packages/cli/dist/examples/weak-tables.js --table brats|acdc [--root DIR] [--seeds 1] [--folds 0,1,2] [--table-only] [--no-docs]
//
// Two processes with disjoint --folds may run side by side (one thread each).
//
// A finished run (test_results.json present) is skipped, an interrupted one
// resumed. Runs go to <root>/<table>/...; docs/results.md gets the table.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Volume, config as cfg, data, metrics, random, readNifti, transforms, writeFileAtomic, writeNifti } from '@labelwise/toolkit';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const cli = path.join(repo, 'packages', 'cli', 'dist', 'src', 'main.js');
const BRATS = path.resolve(repo, '..', 'shared', 'data', 'samples', 'brats2015_deepmedic');

const { values: args } = parseArgs({
  options: {
    table: { type: 'string' }, root: { type: 'string' }, seeds: { type: 'string', default: '1' }, folds: { type: 'string', default: '0,1,2' },
    'table-only': { type: 'boolean', default: false }, 'no-docs': { type: 'boolean', default: false },
  },
});
if (!['brats', 'acdc', 'clicks'].includes(args.table ?? '')) throw new Error('--table brats, acdc or clicks');
const root = path.resolve(args.root ?? path.join(repo, 'out', 'weak'), args.table === 'clicks' ? 'brats' : args.table!);
const seeds = args.seeds!.split(',').map(Number);

function cliRun(argv: string[], logFile: string): boolean {
  const log = fs.openSync(logFile, 'a');
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [cli, ...argv], { stdio: ['ignore', log, log], env: { ...process.env, OMP_NUM_THREADS: '1' } });
  fs.closeSync(log);
  console.log(`${new Date().toISOString()} ${r.status === 0 ? 'done' : `FAILED (exit ${r.status}, ${logFile})`} ${argv.slice(0, 1).join(' ')} ${path.dirname(logFile)} ${((Date.now() - t0) / 60000).toFixed(1)} min`);
  return r.status === 0;
}

function train(config: string, dir: string, set: string[], seed: number): boolean {
  if (fs.existsSync(path.join(dir, 'test_results.json'))) return true;
  fs.mkdirSync(dir, { recursive: true });
  const resume = fs.existsSync(path.join(dir, 'config.json'));
  const t0 = Date.now();
  const ok = cliRun(['train', '-c', config, '--output', dir, '--seed', String(seed), '--no-progress', ...set.flatMap((s) => ['--set', s]), ...(resume ? ['--resume'] : [])], path.join(dir, 'run.log'));
  writeFileAtomic(path.join(dir, 'wall_s.json'), JSON.stringify({ wall_s: (Date.now() - t0) / 1000, threads: 1 }));
  return ok;
}

interface CaseRow { case: string; Dice: number; HD95: number; ASSD: number; dropped: boolean }

function readCsv(file: string): CaseRow[] {
  const [head, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
  const cols = head.split(',');
  return lines.map((l) => {
    const v = l.split(',');
    const get = (k: string) => v[cols.indexOf(k)];
    return { case: get('case'), Dice: Number(get('Dice')), HD95: Number(get('HD95')), ASSD: Number(get('ASSD')), dropped: get('dropped') === 'true' || get('dropped') === '1' };
  }).filter((r) => r.case);
}

const pm = (v: number[], scale: number, digits: number): string => {
  if (v.length === 0) return '—';
  const s = metrics.meanStd(v, 1);
  return v.length > 1 ? `${(s.mean * scale).toFixed(digits)} ± ${(s.std * scale).toFixed(digits)}` : (s.mean * scale).toFixed(digits);
};

function updateDocs(key: string, text: string): void {
  if (args['no-docs']) return;
  const file = path.join(repo, 'docs', 'results.md');
  const start = `<!-- results:${key}:start -->`;
  const end = `<!-- results:${key}:end -->`;
  let doc = fs.readFileSync(file, 'utf8');
  const block = `${start}\n${text}\n${end}`;
  doc = doc.includes(start) ? doc.slice(0, doc.indexOf(start)) + block + doc.slice(doc.indexOf(end) + end.length) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileAtomic(file, doc);
}

/** The config with its method replaced (a baseline under the same data, network and schedule), written beside the runs. */
function derivedConfig(config: string, name: string, method: Record<string, unknown>, data: Record<string, unknown> = {}, loss?: Record<string, unknown>): string {
  const c = cfg.readConfigFile(config);
  const d = c.data as Record<string, unknown>;
  const dataset = String(d.dataset);
  const out = path.join(root, `${name}.config.json`);
  fs.mkdirSync(root, { recursive: true });
  writeFileAtomic(out, JSON.stringify({ ...c, method, ...(loss ? { loss } : {}), data: { ...d, ...data, dataset: path.isAbsolute(dataset) ? dataset : path.resolve(path.dirname(config), dataset) } }, null, 2));
  return out;
}

// ------------------------------------------------------------------ BraTS

function bratsData(): { ids: string[]; folds: { test: string[]; val: string; train: string[]; manifest: string; images: string; labels: string }[] } {
  const ids = fs.readdirSync(BRATS).filter((d) => d.startsWith('brats_')).sort();
  const data = path.join(root, 'data');
  const labels = path.join(data, 'labels');
  fs.mkdirSync(labels, { recursive: true });
  for (const id of ids) {
    const out = path.join(labels, `${id}.nii.gz`);
    if (fs.existsSync(out)) continue;
    // Whole tumour = every tumour label (> 0), as PA-Seg merges BraTS.
    const v = readNifti(path.join(BRATS, id, 'OTMultiClass.nii.gz'));
    const d = new Uint8Array(v.numVoxels);
    for (let i = 0; i < d.length; i++) d[i] = Number(v.data[i]) > 0 ? 1 : 0;
    writeNifti(out, new Volume({ data: d, dims: v.dims, affine: v.affine }));
  }
  const folds = [0, 1, 2].map((k) => {
    const test = [ids[2 * k], ids[2 * k + 1]];
    const val = ids[(2 * k + 2) % 6];
    const train = ids.filter((id) => !test.includes(id) && id !== val);
    const dir = path.join(data, `fold${k}`);
    const images = path.join(dir, 'images');
    fs.mkdirSync(images, { recursive: true });
    for (const id of test) {
      const link = path.join(images, `${id}.nii.gz`);
      if (!fs.existsSync(link)) fs.symlinkSync(path.join(BRATS, id, 'Flair_subtrMeanDivStd.nii.gz'), link);
    }
    const manifest = path.join(dir, 'manifest.json');
    writeFileAtomic(manifest, JSON.stringify({
      name: `brats-wt-fold${k}`, labels: { background: 0, tumour: 1 }, channel_names: { 0: 'FLAIR' },
      cases: ids.map((id) => ({ case: id, image: path.join(BRATS, id, 'Flair_subtrMeanDivStd.nii.gz'), label: path.join(labels, `${id}.nii.gz`), split: test.includes(id) ? 'test' : id === val ? 'val' : 'train' })),
    }, null, 1));
    return { test, val, train, manifest, images, labels };
  });
  return { ids, folds };
}

function bratsTable(): void {
  const config = path.join(repo, 'experiments', 'pa-seg-brats-reduced.yaml');
  const { folds } = bratsData();
  const rows = [
    { id: 'full', title: 'Full supervision (same network, steps, data)' },
    { id: 'stage1', title: 'PA-Seg stage 1 (seven points)' },
    { id: 'stage2', title: 'PA-Seg stage 2, SCM (seven points)' },
  ];
  const per: Record<string, Record<string, CaseRow[]>> = {};
  for (const seed of seeds) {
    folds.forEach((f, k) => {
      if (!args.folds!.split(',').map(Number).includes(k)) return;
      const base = path.join(root, `fold${k}-s${seed}`);
      const dataset = `data.dataset=${f.manifest}`;
      if (!args['table-only']) {
        // Full supervision: every training mask, the same 180 steps as stage 1 + stage 2, PA-Seg's DC + CE.
        train(derivedConfig(config, 'full', { name: 'supervised' }, { labelled: 3 }), path.join(base, 'full'), [dataset, 'training.iterations=180', 'training.validateEvery=30'], seed);
        train(config, path.join(base, 'pa-seg'), [dataset], seed);
        // Stage 1's best checkpoint, scored on the same test cases.
        const s1 = path.join(base, 'pa-seg', 'stage1-test');
        if (!fs.existsSync(path.join(s1, 'pa-seg.json')) && fs.existsSync(path.join(base, 'pa-seg', 'test_results.json'))) {
          fs.mkdirSync(s1, { recursive: true });
          const log = path.join(s1, 'run.log');
          cliRun(['predict', '-m', path.join(base, 'pa-seg', '1-stage1'), '-i', f.images, '-o', path.join(s1, 'predictions')], log);
          for (const protocol of ['labelwise', 'pa-seg']) {
            cliRun(['evaluate', '--pred', path.join(s1, 'predictions'), '--gt', f.labels, '--labels', '1', '--protocol', protocol, '-o', path.join(s1, `${protocol}.json`)], log);
          }
        }
      }
      const add = (row: string, protocol: string, csv: string) => {
        if (!fs.existsSync(csv)) return;
        ((per[row] ??= {})[protocol] ??= []).push(...readCsv(csv).filter((r) => f.test.includes(r.case)));
      };
      for (const protocol of ['labelwise', 'pa-seg']) {
        add('full', protocol, path.join(base, 'full', 'test', protocol, 'per_case.csv'));
        add('stage2', protocol, path.join(base, 'pa-seg', 'test', protocol, 'per_case.csv'));
        add('stage1', protocol, path.join(base, 'pa-seg', 'stage1-test', `${protocol}.csv`));
      }
    });
  }
  const full = per.full?.labelwise?.map((r) => r.Dice) ?? [];
  const fullMean = full.length ? metrics.meanStd(full).mean : NaN;
  const lines = [
    '| method | labels | Dice (%) | HD95 (mm) | ASSD (mm) | % of full Dice | n | PA-Seg protocol: Dice (%) / HD95 / ASSD (n kept) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const lw = per[r.id]?.labelwise ?? [];
    const ps = (per[r.id]?.['pa-seg'] ?? []).filter((x) => !x.dropped && Number.isFinite(x.HD95));
    const d = lw.map((x) => x.Dice);
    const rel = d.length ? `${((metrics.meanStd(d).mean / fullMean) * 100).toFixed(1)}` : '—';
    lines.push(`| ${r.title} | ${r.id === 'full' ? 'full masks (3 cases)' : '7 points × 3 cases'} | ${pm(d, 100, 2)} | ${pm(lw.map((x) => x.HD95), 1, 2)} | ${pm(lw.map((x) => x.ASSD), 1, 2)} | ${rel} | ${lw.length} | ${pm(ps.map((x) => x.Dice), 100, 2)} / ${pm(ps.map((x) => x.HD95), 1, 1)} / ${pm(ps.map((x) => x.ASSD), 1, 1)} (${ps.length}) |`);
  }
  const text = lines.join('\n');
  console.log(text);
  updateDocs('weak-brats', text);
}

// ------------------------------------------------------------------ ACDC

function acdcTable(): void {
  const config = path.join(repo, 'experiments', 'acdc-weak-reduced.yaml');
  const rows = [
    { id: 'pce', title: 'Scribbles: partial CE', set: ['method.crfWeight=0', 'method.varianceWeight=0'] },
    { id: 'pce-crf', title: 'Scribbles: + gated CRF', set: ['method.varianceWeight=0'] },
    { id: 'pce-crf-var', title: 'Scribbles: + gated CRF + variance', set: [] as string[] },
    { id: 'full', title: 'Full masks (upper bound)', set: ['data.labelled=70'] },
  ];
  const cells: Record<string, { dice: number[]; hd95: number[]; assd: number[] }> = {};
  for (const seed of seeds) {
    for (const r of rows) {
      const dir = path.join(root, r.id, `s${seed}`);
      // The upper bound: PA-Seg's DC + CE (the partial loss with every pixel annotated) on the masks.
      if (!args['table-only']) train(r.id === 'full' ? derivedConfig(config, 'full', { name: 'supervised' }, {}, { name: 'partial_dice_ce' }) : config, dir, r.set, seed);
      const file = path.join(dir, 'test_results.json');
      if (!fs.existsSync(file)) continue;
      const t = JSON.parse(fs.readFileSync(file, 'utf8')) as { labelwise: { foreground_mean: Record<string, number> } };
      const c = (cells[r.id] ??= { dice: [], hd95: [], assd: [] });
      c.dice.push(t.labelwise.foreground_mean.Dice);
      c.hd95.push(t.labelwise.foreground_mean.HD95);
      c.assd.push(t.labelwise.foreground_mean.ASSD);
    }
  }
  const fullMean = cells.full?.dice.length ? metrics.meanStd(cells.full.dice).mean : NaN;
  const lines = ['| method | labels | mean Dice (%) | HD95 | ASSD | % of full Dice | seeds |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const c = cells[r.id];
    if (!c) { lines.push(`| ${r.title} | | — | — | — | — | 0 |`); continue; }
    lines.push(`| ${r.title} | ${r.id === 'full' ? 'masks, 1312 slices' : 'scribbles, 1312 slices'} | ${pm(c.dice, 100, 2)} | ${pm(c.hd95, 1, 2)} | ${pm(c.assd, 1, 2)} | ${((metrics.meanStd(c.dice).mean / fullMean) * 100).toFixed(1)} | ${c.dice.length} |`);
  }
  const text = lines.join('\n');
  console.log(text);
  updateDocs('weak-acdc', text);
}

// ------------------------------------------------------------------ clicks

/**
 * Interactive use on the trained weak models: for each test case of each
 * fold, seven simulated clicks (another seed than training's), `labelwise
 * segment` with the fold's stage-2 model, and the case's Dice before (the
 * run's own test prediction) and after, plus the wall time of the command.
 */
function clicksTable(): void {
  const { folds } = bratsData();
  const lines = ['| case | fold | Dice before clicks (%) | Dice after 7 clicks (%) | `labelwise segment` wall (s) |', '|---|---|---|---|---|'];
  const before: number[] = [];
  const afterD: number[] = [];
  const walls: number[] = [];
  const dice = (a: Volume, b: Volume): number => {
    let inter = 0; let sa = 0; let sb = 0;
    for (let i = 0; i < a.numVoxels; i++) { const x = Number(a.data[i]) > 0; const y = Number(b.data[i]) > 0; if (x) sa++; if (y) sb++; if (x && y) inter++; }
    return sa + sb === 0 ? 1 : (2 * inter) / (sa + sb);
  };
  folds.forEach((f, k) => {
    const run = path.join(root, `fold${k}-s${seeds[0]}`, 'pa-seg');
    if (!fs.existsSync(path.join(run, 'test_results.json'))) return;
    const dir = path.join(run, 'clicks');
    fs.mkdirSync(dir, { recursive: true });
    for (const id of f.test) {
      const gt = readNifti(path.join(f.labels, `${id}.nii.gz`));
      const pts = transforms.simulateSevenPoints(gt, random.Rng.from(1000 + seeds[0], 'clicks', id)).points;
      const clicks = path.join(dir, `${id}_points.json`);
      data.writePointsJson(clicks, pts, 'voxel');
      const out = path.join(dir, `${id}.nii.gz`);
      const t0 = Date.now();
      if (!fs.existsSync(out) && !cliRun(['segment', '--image', path.join(f.images, `${id}.nii.gz`), '--points', clicks, '-m', run, '-o', out, '--threads', '1'], path.join(dir, 'run.log'))) continue;
      const wall = (Date.now() - t0) / 1000;
      const b = dice(readNifti(path.join(run, 'test', 'predictions', `${id}.nii.gz`)), gt);
      const a = dice(readNifti(out), gt);
      before.push(b); afterD.push(a); walls.push(wall);
      lines.push(`| ${id} | ${k} | ${(b * 100).toFixed(2)} | ${(a * 100).toFixed(2)} | ${wall.toFixed(1)} |`);
    }
  });
  lines.push(`| mean ± std | | ${pm(before, 100, 2)} | ${pm(afterD, 100, 2)} | ${pm(walls, 1, 1)} |`);
  const text = lines.join('\n');
  console.log(text);
  updateDocs('weak-clicks', text);
}

if (args.table === 'brats') bratsTable();
else if (args.table === 'clicks') clicksTable();
else acdcTable();
