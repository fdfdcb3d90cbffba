// Augmentation throughput: Labelwise's fused pipeline against a
// batchgenerators-style numpy + scipy.ndimage implementation
// (bench/data_augment_ref.py), in one run on the same machine. Python runs in
// a child process that waits on stdin, so the sides take turns (order swapped
// every round) and never compete for the cores.
//   (a) 3D 128³ patch, 1-channel image + label
//   (b) 2D 256² patch, 1-channel image + label
// Work per patch on both sides: rotation (3D: about each axis, ±30°) +
// isotropic scaling (0.85–1.25) + elastic deformation (alpha, σ fixed) as one
// resampling (linear image, nearest label), then gamma (retain stats),
// Gaussian noise (σ 0.1) and multiplicative brightness.
// Flags: --rounds N (default 5), --warmup N (default 1), --only a,b,
// --exact (also time the full-resolution elastic field, step 1), --write-docs,
// --python PATH, --omp-active (keep libgomp's spin-waiting; see main()).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import * as torch from '@labelwise/torch';
import { gaussianFilter } from '../src/transforms/augment-filters.js';
import { type AugmentConfig, AugmentPipeline } from '../src/transforms/compose.js';
import { Rng } from '../src/random/rng.js';
import { PyWorker, writeDocsSection } from './harness.js';


interface Options { rounds: number; warmup: number; only: Set<string>; exact: boolean; writeDocs: boolean; python: string }

function parseOptions(argv: string[]): Options {
  const o: Options = { rounds: 5, warmup: 1, only: new Set(['a', 'b']), exact: false, writeDocs: false, python: '/usr/bin/python3' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench:data-augment: ${a} needs a value`);
      return v;
    };
    if (a === '--rounds') o.rounds = Math.max(1, Number(val()));
    else if (a === '--warmup') o.warmup = Math.max(0, Number(val()));
    else if (a === '--only') o.only = new Set(val().split(','));
    else if (a === '--exact') o.exact = true;
    else if (a === '--write-docs') o.writeDocs = true;
    else if (a === '--python') o.python = val();
    else if (a === '--help' || a === '-h') {
      console.log('usage: node packages/toolkit/dist/bench/data-augment.js [--rounds N] [--warmup N] [--only a,b] [--exact] [--write-docs] [--python PATH]');
      process.exit(0);
    } else throw new Error(`bench:data-augment: unknown option ${a}`);
  }
  return o;
}

interface Reply { ms?: number[]; check?: number; cpu?: number; error?: string; versions?: Record<string, string> }


interface Case { key: string; label: string; shape: number[]; alpha: number; sigma: number; per: number; step: number | 'auto'; python: boolean }

function pipelineFor(c: Case): AugmentPipeline {
  const dims = c.shape.length as 2 | 3;
  const config: AugmentConfig = {
    spatialDims: dims,
    resample: { image: 'linear', label: 'nearest' },
    transforms: [
      { name: 'rotate', params: { degrees: [-30, 30] } },
      { name: 'scale', params: { range: [0.85, 1.25] } },
      { name: 'elastic', params: { alpha: [c.alpha, c.alpha], sigma: [c.sigma, c.sigma], step: c.step } },
      { name: 'gamma', params: { range: [0.7, 1.5], pRetainStats: 1 } },
      { name: 'gaussianNoise', params: { std: [0.1, 0.1] } },
      { name: 'brightnessMultiplicative', params: { range: [0.75, 1.25], sampling: 'uniform' } },
    ],
  };
  return new AugmentPipeline(config);
}

// The same kind of input as the Python side: smoothed noise, z-scored, two label thresholds.
function makeInput(shape: number[]): { image: torch.Tensor; label: torch.Tensor } {
  return torch.tidy(() => {
    const noise = torch.randn([1, 1, ...shape], { generator: new torch.Generator(1) });
    const s = gaussianFilter(noise, [shape.map(() => 2)]);
    const img = s.sub(s.mean()).div_(s.std()).squeeze(0);
    const label = img.gt(0.5).to('uint8').add_(img.gt(1.5).to('uint8'));
    return { image: img, label };
  });
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, median: quantile(s, 0.5), q1: quantile(s, 0.25), q3: quantile(s, 0.75) };
};
function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x) || x === 0) return String(x);
  const mag = Math.floor(Math.log10(Math.abs(x)));
  return x.toFixed(Math.max(0, digits - 1 - mag));
}
function table(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  return [line(header), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Busy CPU seconds of the whole machine so far (all cores), from /proc/stat; null where unavailable. */
function machineBusy(): number | null {
  try {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait
    return (cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + (cpu[7] ?? 0)) / 100;
  } catch {
    return null;
  }
}

/** Cores' worth of CPU that other processes used while one side ran: (machine busy − own CPU) / wall. */
async function otherLoad<T>(own: () => Promise<{ value: T; cpu: number }>): Promise<{ value: T; other: number | null }> {
  const b0 = machineBusy();
  const t0 = performance.now();
  const { value, cpu } = await own();
  const wall = (performance.now() - t0) / 1000;
  const b1 = machineBusy();
  return { value, other: b0 === null || b1 === null || wall <= 0 ? null : Math.max(0, (b1 - b0 - cpu) / wall) };
}

function runOurs(pipe: AugmentPipeline, input: { image: torch.Tensor; label: torch.Tensor }, n: number, seed: number): number[] {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const { sample } = pipe.apply(input, { seed: Rng.from(seed, i) });
    times.push(performance.now() - t);
    torch.dispose(sample);
  }
  return times;
}

interface Result { c: Case; ours: number[]; theirs: number[]; otherOurs: number[]; otherTheirs: number[] }

async function runCase(c: Case, o: Options, py: PyWorker<Reply>): Promise<Result> {
  const pipe = pipelineFor(c);
  const input = makeInput(c.shape);
  try {
    if (c.python) await py.call({ op: 'setup', shape: c.shape, alpha: c.alpha, sigma: c.sigma, seed: 7 });
    // Warm-up: first calls pay for lazy op lookups, allocator growth, page faults.
    for (let w = 0; w < o.warmup; w++) {
      runOurs(pipe, input, 1, 1000 + w);
      if (c.python) await py.call({ op: 'run', n: 1 });
    }
    const ours: number[] = [];
    const theirs: number[] = [];
    const otherOurs: number[] = [];
    const otherTheirs: number[] = [];
    for (let r = 0; r < o.rounds; r++) {
      const py1 = async () => {
        if (!c.python) return;
        const res = await otherLoad(async () => {
          const reply = await py.call({ op: 'run', n: c.per });
          return { value: reply.ms ?? [], cpu: reply.cpu ?? 0 };
        });
        theirs.push(...res.value);
        if (res.other !== null) otherTheirs.push(res.other);
      };
      if (r % 2 === 1) await py1();
      const mine = await otherLoad(async () => {
        const c0 = process.cpuUsage();
        const value = runOurs(pipe, input, c.per, r * 100);
        const cu = process.cpuUsage(c0);
        return { value, cpu: (cu.user + cu.system) / 1e6 };
      });
      ours.push(...mine.value);
      if (mine.other !== null) otherOurs.push(mine.other);
      if (r % 2 === 0) await py1();
    }
    return { c, ours, theirs, otherOurs, otherTheirs };
  } finally {
    torch.dispose(input);
  }
}

function report(results: Result[], versions: Record<string, string>, o: Options, loadStart: string): string {
  const rows = results.map(({ c, ours, theirs, otherOurs, otherTheirs }) => {
    const a = stats(ours);
    const b = theirs.length ? stats(theirs) : null;
    const load = (v: number[]) => (v.length ? stats(v).median.toFixed(2) : '–');
    return [
      c.label,
      fmt(1000 / a.median),
      b ? fmt(1000 / b.median) : '–',
      b ? `${fmt(b.median / a.median)}×` : '–',
      `${fmt(a.median)} (${fmt(a.q1)}–${fmt(a.q3)})`,
      b ? `${fmt(b.median)} (${fmt(b.q1)}–${fmt(b.q3)})` : '–',
      `${a.n}+${b?.n ?? 0}`,
      `${load(otherOurs)} / ${load(otherTheirs)}`,
    ];
  });
  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
  const alpha = results.map((r) => `${r.c.shape.length}D alpha ${r.c.alpha}, σ ${r.c.sigma}`);
  return [
    '### Augmentation throughput',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} with \`node packages/toolkit/dist/bench/data-augment.js${o.writeDocs ? ' --write-docs' : ''}${o.exact ? ' --exact' : ''}\` (re-run to update).`,
    '',
    `- Machine: ${cpu}, ${os.cpus().length} cores; ${os.platform()} ${os.release()}; Node ${process.version}, libtorch intra-op threads ${torch.getNumThreads()}, OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY ?? '(libgomp default: active)'}`,
    '- OMP_WAIT_POLICY=passive is set by the bench itself: with libgomp\'s default spin-waiting, other processes on the two cores made small',
    '  libtorch ops about ten times slower here (every parallel region waits for a descheduled spinner); `--omp-active` keeps the default.',
    `- Load average (1 min) at start / end: ${loadStart} / ${os.loadavg()[0].toFixed(2)} (other processes on the machine; both sides ran under the same conditions, alternating)`,
    `- Python ${versions.python}; numpy ${versions.numpy}, scipy ${versions.scipy} (single-threaded, as batchgenerators workers are)`,
    `- ${o.warmup} warm-up patch(es) per side, then ${o.rounds} alternating rounds (order swapped every round); each side times only the augmentation of one patch.`,
    `- Work per patch, both sides: rotation (3D: about each axis, ±30°) + isotropic scaling (0.85–1.25) + elastic deformation (${[...new Set(alpha)].join('; ')})`,
    '  resampled once (linear image, nearest label), then gamma (0.7–1.5, retain stats), Gaussian noise (σ 0.1), multiplicative brightness (0.75–1.25).',
    '- SciPy side: batchgenerators\' augment_spatial recipe (coordinate mesh + `gaussian_filter` of uniform noise per axis at full resolution,',
    '  rotation and scaling of the coordinates, `map_coordinates` order 1 / order 0) and its gamma / noise / brightness, in `bench/data_augment_ref.py`.',
    '- Labelwise side: `AugmentPipeline` (rotate, scale, elastic fused into one `gridSample` per tensor; the elastic field is smoothed on a lattice',
    '  of spacing ⌊σ/3⌋ voxels and interpolated, with the variance of the full-resolution field — "step 1" rows smooth at full resolution).',
    '',
    table(['case', 'Labelwise patches/s', 'SciPy patches/s', 'throughput ratio', 'Labelwise ms/patch (IQR)', 'SciPy ms/patch (IQR)', 'n', 'other load Labelwise / SciPy'], rows),
    '',
    'Medians over patches; throughput ratio = Labelwise patches/s ÷ SciPy patches/s (above 1: Labelwise is faster); n = Labelwise + SciPy patches.',
    '"other load": median cores\' worth of CPU that other processes took while that side ran (from /proc/stat, minus the side\'s own CPU time) —',
    'the noise indicator: on this 2-core machine anything above ~0.5 means the timings are inflated.',
  ].join('\n');
}

// The loader benchmark (bench/data-loader.ts) fills its own marked block; until it runs, the block says so.
const LOADER_START = '<!-- bench:data-loader:start -->';
const PLACEHOLDER = `### Time waiting for data\n\n${LOADER_START}\nMeasured by the data-loader benchmark (\`bench/data-loader.ts\`), not by this augmentation benchmark; it has not written its numbers here yet.\n<!-- bench:data-loader:end -->`;

function writeDocs(section: string): void {
  const outerStart = '<!-- bench:data:start -->';
  const outerEnd = '<!-- bench:data:end -->';
  writeDocsSection('data-augment', section, (text, block) => {
    const oi = text.indexOf(outerStart);
    const oj = text.indexOf(outerEnd);
    if (oi >= 0 && oj > oi) {
      // The data section exists (the loader bench owns part of it): add our block at its top.
      const at = oi + outerStart.length;
      const heading = text.slice(at, oj).match(/^\n## [^\n]*\n/);
      const pos = at + (heading ? heading[0].length : 0);
      return `${text.slice(0, pos)}\n${block}\n${text.slice(pos)}`;
    }
    const loader = text.includes(LOADER_START) ? '' : `\n\n${PLACEHOLDER}`;
    return `${text.trimEnd()}\n\n${outerStart}\n## Data pipeline\n\n${block}${loader}\n${outerEnd}\n`;
  });
}

async function main(): Promise<void> {
  // libgomp (libtorch's OpenMP) spin-waits for its threads by default; on a
  // machine where other processes compete for the cores, every parallel
  // region then waits for a descheduled spinner and small ops slow down
  // tenfold. Passive waiting avoids that; it must be set before libgomp loads,
  // so re-run this script with it (--omp-active keeps the default).
  if (process.env.OMP_WAIT_POLICY === undefined && !process.argv.includes('--omp-active')) {
    const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, OMP_WAIT_POLICY: 'passive' } });
    process.exit(r.status ?? 1);
  }
  const o = parseOptions(process.argv.slice(2).filter((a) => a !== '--omp-active'));
  const cases: Case[] = [];
  if (o.only.has('a')) {
    cases.push({ key: 'a', label: '(a) 3D 128³, image + label', shape: [128, 128, 128], alpha: 450, sigma: 11, per: 2, step: 'auto', python: true });
    if (o.exact) cases.push({ key: 'a', label: '(a) 3D 128³, elastic step 1', shape: [128, 128, 128], alpha: 450, sigma: 11, per: 2, step: 1, python: false });
  }
  if (o.only.has('b')) {
    cases.push({ key: 'b', label: '(b) 2D 256², image + label', shape: [256, 256], alpha: 100, sigma: 11, per: 10, step: 'auto', python: true });
    if (o.exact) cases.push({ key: 'b', label: '(b) 2D 256², elastic step 1', shape: [256, 256], alpha: 100, sigma: 11, per: 10, step: 1, python: false });
  }
  const loadStart = os.loadavg()[0].toFixed(2);
  const py = new PyWorker<Reply>(o.python, 'data_augment_ref.py', 'bench:data-augment', '/usr/bin/python3 with numpy and scipy');
  try {
    const versions = (await py.read()).versions ?? {};
    const results: Result[] = [];
    for (const c of cases) {
      process.stdout.write(`bench:data-augment: ${c.label} ... `);
      const r = await runCase(c, o, py);
      results.push(r);
      const a = stats(r.ours).median;
      console.log(`${fmt(a)} ms/patch${r.theirs.length ? ` vs ${fmt(stats(r.theirs).median)} ms/patch` : ''}`);
    }
    const section = report(results, versions, o, loadStart);
    console.log(`\n${section}\n`);
    if (o.writeDocs) writeDocs(section);
  } finally {
    py.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
