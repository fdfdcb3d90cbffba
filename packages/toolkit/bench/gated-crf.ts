// Gated CRF loss, forward + backward (issue 12: "gated CRF loss forward+backward
// vs the same formula in PyTorch"): Labelwise's gatedCrfLoss3dMultiView /
// gatedCrfLoss2d against two PyTorch versions in bench/gated_crf_ref.py, a
// child process: (a) PA-Seg's unfold form (shared with the weak-loss
// fixtures), (b) Labelwise's offset loop written in PyTorch. Inputs are made
// here (seeded) and passed as float32 files, so all three see the same data;
// values and gradients are compared before timing.
//
// usage: node packages/toolkit/dist/bench/gated-crf.js [--reps N] [--threads N]
//        [--python PATH] [--omp-active] [--write-docs]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as torch from '@labelwise/torch';
import { type Tensor, F } from '@labelwise/torch';
import { gatedCrfLoss2d, gatedCrfLoss3dMultiView } from '../src/losses/gated-crf.js';
import { Rng } from '../src/random/rng.js';
import { PyWorker, writeDocsSection } from './harness.js';

interface Options { reps: number; threads: number; python: string; writeDocs: boolean }
interface Reply { error?: string; versions?: Record<string, string>; threads?: number; loss?: number; ms?: number }
const USAGE = 'usage: node packages/toolkit/dist/bench/gated-crf.js [--reps N] [--threads N] [--python PATH] [--omp-active] [--write-docs]';

function parseOptions(argv: string[]): Options {
  const o: Options = { reps: 5, threads: os.availableParallelism(), python: '/usr/bin/python3', writeDocs: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench:gated-crf: ${a} needs a value`);
      return v;
    };
    const int = (min: number) => {
      const v = Number(next());
      if (!Number.isInteger(v) || v < min) throw new Error(`bench:gated-crf: ${a} must be an integer ≥ ${min}`);
      return v;
    };
    if (a === '--reps') o.reps = int(1);
    else if (a === '--threads') o.threads = int(1);
    else if (a === '--python') o.python = next();
    else if (a === '--write-docs') o.writeDocs = true;
    else if (a === '--omp-active') continue;
    else if (a === '--help' || a === '-h') { console.log(USAGE); process.exit(0); }
    else throw new Error(`bench:gated-crf: unknown option ${a}\n${USAGE}`);
  }
  return o;
}

function median(v: number[]): number {
  const s = [...v].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Case {
  name: string; kind: '3d' | '2d'; label: string;
  xShape: number[]; imageShape: number[]; radius: number; sigmaXY: number; sigmaRGB: number; down: number[] | null;
  x: Float32Array; image: Float32Array;
}

/**
 * An MR-like image per batch item: a few Gaussian blobs of different
 * intensity over a background, plus noise, z-scored (PA-Seg's σrgb 0.1 is in
 * z-score units); and smooth-ish logits (blobs plus noise), so the kernel and
 * the probabilities both vary over the window as on real data.
 */
function makeCase(name: string, kind: '3d' | '2d', label: string, xShape: number[], down: number[] | null): Case {
  const rng = Rng.from(12, 'gated-crf', name);
  const [B, C, ...S] = xShape;
  const n = S.reduce((s, v) => s * v, 1);
  const image = new Float32Array(B * n);
  const x = new Float32Array(B * C * n);
  const coords = (p: number) => { const c: number[] = []; for (let a = S.length - 1; a >= 0; a--) { c[a] = p % S[a]; p = Math.floor(p / S[a]); } return c; };
  const blobs = (count: number) => Array.from({ length: count }, () => ({
    centre: S.map((s) => rng.uniform(0.2, 0.8) * s), radius: rng.uniform(0.08, 0.25) * Math.min(...S), amp: rng.uniform(-1, 2),
  }));
  const field = (bl: ReturnType<typeof blobs>, c: number[]) => bl.reduce((acc, b) => {
    const d2 = c.reduce((s, v, a) => s + (v - b.centre[a]) ** 2, 0);
    return acc + b.amp * Math.exp(-d2 / (2 * b.radius * b.radius));
  }, 0);
  for (let b = 0; b < B; b++) {
    const ib = blobs(4);
    let sum = 0; let sq = 0;
    for (let p = 0; p < n; p++) {
      const v = field(ib, coords(p)) + rng.normal(0, 0.05);
      image[b * n + p] = v; sum += v; sq += v * v;
    }
    const mean = sum / n; const sd = Math.sqrt(sq / n - mean * mean);
    for (let p = 0; p < n; p++) image[b * n + p] = (image[b * n + p] - mean) / sd;
    for (let c = 0; c < C; c++) {
      const lb = blobs(3);
      for (let p = 0; p < n; p++) x[(b * C + c) * n + p] = 3 * field(lb, coords(p)) + rng.normal(0, 0.5);
    }
  }
  return { name, kind, label, xShape, imageShape: [B, 1, ...S], radius: 5, sigmaXY: 6, sigmaRGB: 0.1, down, x, image };
}

/** One forward + backward from a fresh leaf: loss, gradient (on request) and milliseconds. */
function runTs(c: Case, wantGrad: boolean): { loss: number; grad?: Float32Array; ms: number } {
  return torch.tidy(() => {
    const x = torch.tensor(c.x, { shape: c.xShape }).requiresGrad_(true);
    const image = torch.tensor(c.image, { shape: c.imageShape });
    const t0 = performance.now();
    const opts = { radius: c.radius, sigmaXY: c.sigmaXY, sigmaRGB: c.sigmaRGB };
    const loss: Tensor = c.kind === '3d'
      ? gatedCrfLoss3dMultiView(x, image, { ...opts, downSize: c.down })
      : gatedCrfLoss2d(F.softmax(x, 1), image, opts);
    loss.backward();
    const value = loss.item();
    const g = x.grad!;
    const ms = performance.now() - t0;
    const grad = wantGrad ? Float32Array.from(g.toTypedArray() as Float32Array) : undefined;
    g.dispose();
    return { loss: value, grad, ms };
  });
}

/** max |a − b| / max |b|. */
function gradDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0; let scale = 0;
  for (let i = 0; i < a.length; i++) { worst = Math.max(worst, Math.abs(a[i] - b[i])); scale = Math.max(scale, Math.abs(b[i])); }
  return worst / scale;
}

const IMPLS = ['seed', 'loop'] as const;

interface Row { c: Case; ts: number[]; py: Record<'seed' | 'loop', number[]>; loss: { ts: number } & Record<'seed' | 'loop', number>; gdiff: Record<'seed' | 'loop', number>; aVsB: number }

async function main(): Promise<void> {
  // libgomp spin-waits by default: while one side runs, the other's idle
  // threads spin on the same 2 cores and small ops slow down many times over
  // (as in bench/data-augment.ts). Passive waiting must be set before libgomp
  // loads, so re-run with it (the Python child inherits it); --omp-active keeps the default.
  if (process.env.OMP_WAIT_POLICY === undefined && !process.argv.includes('--omp-active')) {
    const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, OMP_WAIT_POLICY: 'passive' } });
    process.exit(r.status ?? 1);
  }
  const o = parseOptions(process.argv.slice(2));
  torch.setNumThreads(o.threads);
  const cases = [
    makeCase('3d', '3d', "3D multi-view, logits [1, 2, 64, 64, 64], downSize [64, 64, 64] (PA-Seg BraTS)", [1, 2, 64, 64, 64], [64, 64, 64]),
    makeCase('2d', '2d', '2D, softmax of logits [12, 4, 64, 64] (ACDC scribbles)', [12, 4, 64, 64], null),
  ];
  const py = new PyWorker<Reply>(o.python, 'gated_crf_ref.py', 'bench:gated-crf', '/usr/bin/python3 with numpy and torch');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-bench-gated-crf-'));
  const rows: Row[] = [];
  let versions: Record<string, string> = {};
  const load0 = os.loadavg()[0];
  try {
    const s = await py.call({ op: 'setup', threads: o.threads });
    versions = s.versions ?? {};
    if (s.threads !== o.threads) throw new Error(`bench:gated-crf: PyTorch runs ${s.threads} threads, Labelwise ${o.threads}`);
    for (const c of cases) {
      const file = (what: string) => path.join(tmp, `${c.name}-${what}.f32`);
      fs.writeFileSync(file('x'), Buffer.from(c.x.buffer));
      fs.writeFileSync(file('image'), Buffer.from(c.image.buffer));
      await py.call({ op: 'load', case: c.name, kind: c.kind, x: file('x'), xshape: c.xShape, image: file('image'), ishape: c.imageShape, radius: c.radius, sigma_xy: c.sigmaXY, sigma_rgb: c.sigmaRGB, down: c.down });
      // Agreement first (this is also each side's warm-up run).
      const ts = runTs(c, true);
      const loss = { ts: ts.loss, seed: NaN, loop: NaN };
      const grads: Partial<Record<'seed' | 'loop', Float32Array>> = {};
      for (const impl of IMPLS) {
        const r = await py.call({ op: 'check', case: c.name, impl, grad: file(`grad-${impl}`) });
        loss[impl] = r.loss ?? NaN;
        const b = fs.readFileSync(file(`grad-${impl}`));
        grads[impl] = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      }
      const row: Row = {
        c, ts: [], py: { seed: [], loop: [] }, loss,
        gdiff: { seed: gradDiff(ts.grad!, grads.seed!), loop: gradDiff(ts.grad!, grads.loop!) }, aVsB: gradDiff(grads.loop!, grads.seed!),
      };
      console.log(`${c.name}: loss Labelwise ${loss.ts.toPrecision(8)}, seed ${loss.seed.toPrecision(8)}, loop ${loss.loop.toPrecision(8)}; grad max diff vs seed ${row.gdiff.seed.toExponential(1)}, vs loop ${row.gdiff.loop.toExponential(1)}`);
      // Rounds alternate the three (order rotated each round), so background load hits all alike.
      for (let r = 0; r < o.reps; r++) {
        const order = ['ts', ...IMPLS] as const;
        for (let k = 0; k < order.length; k++) {
          const which = order[(k + r) % order.length];
          if (which === 'ts') row.ts.push(runTs(c, false).ms);
          else row.py[which].push((await py.call({ op: 'time', case: c.name, impl: which })).ms ?? NaN);
        }
      }
      console.log(`  median ms: Labelwise ${median(row.ts).toFixed(0)}, seed ${median(row.py.seed).toFixed(0)}, loop ${median(row.py.loop).toFixed(0)}`);
      rows.push(row);
    }
  } finally {
    py.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
  const lines: string[] = [];
  lines.push('## Gated CRF loss (PA-Seg regulariser, issue 12)', '');
  lines.push(`Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench:gated-crf -- --write-docs\` on ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'CPU'}; node ${process.version}, ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}; ${o.threads} intra-op thread(s) on both sides, OMP_WAIT_POLICY ${process.env.OMP_WAIT_POLICY ?? 'unset'}; load average ${load0.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end).`);
  lines.push('Forward + backward of the loss from a fresh float32 leaf (logits; the 2D case takes softmax over classes first), σxy 6, σrgb 0.1, radius 5, the seed\'s zero-padding border term. Labelwise: `gatedCrfLoss3dMultiView` / `gatedCrfLoss2d` (offset loop, message without grad). PyTorch (`bench/gated_crf_ref.py`): (a) PA-Seg\'s unfold form (ModelLossSemsegGatedCRF3D22D, three views for 3D; the code of `test/fixtures/weak_losses_ref.py`), (b) Labelwise\'s offset loop written in PyTorch. Inputs: seeded synthetic z-scored images (Gaussian blobs + noise) and smooth logits, made in Node and passed as float32 files.');
  lines.push(`One warm-up run per implementation (the agreement check), then ${o.reps} rounds alternating the three (order rotated each round); medians in ms, ratio = PyTorch / Labelwise (above 1: Labelwise is faster).`, '');
  lines.push('| case | Labelwise ms | (a) seed unfold ms | (a) / Labelwise | (b) offset loop ms | (b) / Labelwise |', '|---|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const t = median(r.ts); const a = median(r.py.seed); const b = median(r.py.loop);
    lines.push(`| ${r.c.label} | ${t.toFixed(0)} | ${a.toFixed(0)} | ${(a / t).toFixed(2)}× | ${b.toFixed(0)} | ${(b / t).toFixed(2)}× |`);
  }
  lines.push('', 'Value agreement (float32 on all sides; gradient difference = max |Δ d loss / d logits| / max |d loss / d logits|):', '');
  lines.push('| case | loss Labelwise | loss (a) | loss (b) | rel. diff vs (a) | rel. diff vs (b) | grad diff vs (a) | grad diff vs (b) | grad diff (a) vs (b) |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    lines.push(`| ${r.c.name} | ${r.loss.ts.toPrecision(7)} | ${r.loss.seed.toPrecision(7)} | ${r.loss.loop.toPrecision(7)} | ${rel(r.loss.ts, r.loss.seed).toExponential(1)} | ${rel(r.loss.ts, r.loss.loop).toExponential(1)} | ${r.gdiff.seed.toExponential(1)} | ${r.gdiff.loop.toExponential(1)} | ${r.aVsB.toExponential(1)} |`);
  }
  const section = lines.join('\n');
  console.log(`\n${section}`);
  if (o.writeDocs) writeDocsSection('gated-crf', section);
  const bad = rows.filter((r) => rel(r.loss.ts, r.loss.seed) > 1e-3 || r.gdiff.seed > 1e-3);
  if (bad.length > 0) throw new Error(`bench:gated-crf: Labelwise and the seed's form disagree beyond 1e-3 on ${bad.map((r) => r.c.name).join(', ')}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
