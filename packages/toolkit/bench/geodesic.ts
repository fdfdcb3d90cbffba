// Geodesic distance (PA-Seg's seed expansion step): Labelwise's raster scan
// (λ 0.5, 4 iterations, as PA-Seg) on one whole BraTS FLAIR (240×240×155),
// and, on a crop around the tumour, against the exact distance on the same
// 26-neighbour graph by scipy.sparse.csgraph.dijkstra (bench/geodesic_ref.py,
// a child process). Dijkstra's graph does not fit the full volume in
// reasonable memory (231 M edges), so the two are compared on the crop;
// the report gives both times and how far the raster scan is above the exact
// distance there. Does not write docs/benchmarks.md.
//
// usage: node packages/toolkit/dist/bench/geodesic.js [--rounds N] [--crop NX,NY,NZ] [--python PATH] [--case DIR]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readNifti } from '../src/io/nifti.js';
import { geodesicDistance3d } from '../src/transforms/geodesic.js';
import { PyWorker, repoRoot } from './harness.js';

interface Options { rounds: number; crop: number[]; python: string; caseDir: string }
interface Reply { error?: string; versions?: Record<string, string>; build_ms?: number; dijkstra_ms?: number; edges?: number }

function parseOptions(argv: string[]): Options {
  const o: Options = {
    rounds: 3, crop: [96, 96, 64], python: '/usr/bin/python3',
    caseDir: path.resolve(repoRoot, '../shared/data/samples/brats2015_deepmedic/brats_2013_pat0001_1'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench:geodesic: ${a} needs a value`);
      return v;
    };
    if (a === '--rounds') o.rounds = Math.max(1, Number(next()));
    else if (a === '--crop') o.crop = next().split(',').map(Number);
    else if (a === '--python') o.python = next();
    else if (a === '--case') o.caseDir = next();
    else if (a === '--help' || a === '-h') {
      console.log('usage: node packages/toolkit/dist/bench/geodesic.js [--rounds N] [--crop NX,NY,NZ] [--python PATH] [--case DIR]');
      process.exit(0);
    } else throw new Error(`bench:geodesic: unknown option ${a}`);
  }
  if (o.crop.length !== 3 || o.crop.some((v) => !Number.isInteger(v) || v < 3)) throw new Error(`bench:geodesic: --crop must be three integers ≥ 3, got ${o.crop.join(',')}`);
  return o;
}

function median(v: number[]): number {
  const s = [...v].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function timeRaster(img: Float32Array, dims: number[], spacing: number[], seeds: Uint8Array): { ms: number; d: Float32Array } {
  const t0 = performance.now();
  const d = geodesicDistance3d(img, dims, spacing, seeds, { lambda: 0.5, iterations: 4 });
  return { ms: performance.now() - t0, d };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const vol = readNifti(path.join(o.caseDir, 'Flair_subtrMeanDivStd.nii.gz'));
  const dims = [...vol.dims];
  const spacing = [...vol.spacing];
  const img = Float32Array.from(vol.data as ArrayLike<number>);
  // One foreground seed at the tumour's centroid voxel (pat0001: (82, 123, 67)), clamped into the grid.
  const seed = [82, 123, 67].map((v, a) => Math.min(v, dims[a] - 1));
  const at = (i: number, j: number, k: number, d: number[]) => i + d[0] * (j + d[1] * k);
  const seeds = new Uint8Array(img.length);
  seeds[at(seed[0], seed[1], seed[2], dims)] = 1;
  console.log(`bench:geodesic: ${path.basename(o.caseDir)} FLAIR ${dims.join('×')} spacing [${spacing.map((s) => s.toFixed(3)).join(', ')}], seed (${seed.join(', ')}), λ 0.5, 4 iterations`);

  // Whole volume, Labelwise only.
  timeRaster(img, dims, spacing, seeds); // warm-up (JIT)
  const full: number[] = [];
  for (let r = 0; r < o.rounds; r++) {
    full.push(timeRaster(img, dims, spacing, seeds).ms);
    console.log(`round ${r + 1}/${o.rounds}: whole volume ${full[r].toFixed(0)} ms`);
  }

  // Crop around the seed: raster scan vs scipy Dijkstra on the same graph.
  const cd = o.crop.map((c, a) => Math.min(c, dims[a]));
  const lo = cd.map((c, a) => Math.max(0, Math.min(seed[a] - (c >> 1), dims[a] - c)));
  const m = cd[0] * cd[1] * cd[2];
  const crop = new Float32Array(m);
  for (let k = 0; k < cd[2]; k++) for (let j = 0; j < cd[1]; j++) for (let i = 0; i < cd[0]; i++) {
    crop[at(i, j, k, cd)] = img[at(lo[0] + i, lo[1] + j, lo[2] + k, dims)];
  }
  const cs = new Uint8Array(m);
  const seedIdx = at(seed[0] - lo[0], seed[1] - lo[1], seed[2] - lo[2], cd);
  cs[seedIdx] = 1;
  const file = path.join(os.tmpdir(), `lw-bench-geodesic-${process.pid}.f32`);
  const out = path.join(os.tmpdir(), `lw-bench-geodesic-${process.pid}.f64`);
  fs.writeFileSync(file, Buffer.from(crop.buffer));
  const py = new PyWorker<Reply>(o.python, 'geodesic_ref.py', 'bench:geodesic', '/usr/bin/python3 with numpy and scipy');
  try {
    const setup = await py.call({ op: 'setup', file, dims: cd, spacing, seeds: [seedIdx], lambda: 0.5 });
    timeRaster(crop, cd, spacing, cs);
    const ours: number[] = []; const build: number[] = []; const dij: number[] = [];
    let raster: Float32Array = new Float32Array(0);
    for (let r = 0; r < o.rounds; r++) {
      const x = timeRaster(crop, cd, spacing, cs);
      ours.push(x.ms); raster = x.d;
      const y = await py.call({ op: 'run', out });
      build.push(y.build_ms ?? NaN); dij.push(y.dijkstra_ms ?? NaN);
      console.log(`round ${r + 1}/${o.rounds}: crop raster ${x.ms.toFixed(0)} ms, scipy graph ${build[r].toFixed(0)} ms + Dijkstra ${dij[r].toFixed(0)} ms`);
    }
    const b = fs.readFileSync(out);
    const exact = new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8);
    let maxEx = 0; let sumEx = 0; let n = 0; let below = 0;
    for (let p = 0; p < m; p++) {
      if (raster[p] < exact[p] * (1 - 1e-6) - 1e-7) below++;
      if (exact[p] > 0) { const e = (raster[p] - exact[p]) / exact[p]; maxEx = Math.max(maxEx, e); sumEx += e; n++; }
    }
    const mo = median(ours); const mb = median(build); const md = median(dij);
    console.log('');
    console.log(`versions: node ${process.version}, ${Object.entries(setup.versions ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')}; ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)}`);
    console.log(`whole volume ${dims.join('×')} (${(img.length / 1e6).toFixed(2)} M voxels): Labelwise raster scan median ${(median(full) / 1000).toFixed(2)} s`);
    console.log(`crop ${cd.join('×')} at (${lo.join(', ')}) (${(m / 1e6).toFixed(2)} M voxels, 26-neighbour graph):`);
    console.log(`  Labelwise raster scan   ${mo.toFixed(0)} ms`);
    console.log(`  scipy Dijkstra          ${md.toFixed(0)} ms (+ ${mb.toFixed(0)} ms to build the graph); ratio Dijkstra/raster ${(md / mo).toFixed(1)}×, with graph ${((md + mb) / mo).toFixed(1)}×`);
    console.log(`  raster − exact: ${below} voxels below exact; relative excess max ${(100 * maxEx).toFixed(1)} %, mean ${(100 * sumEx / n).toFixed(2)} %`);
    if (below > 0) throw new Error(`bench:geodesic: the raster scan is below the exact distance at ${below} voxels`);
  } finally {
    py.close();
    fs.rmSync(file, { force: true });
    fs.rmSync(out, { force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
