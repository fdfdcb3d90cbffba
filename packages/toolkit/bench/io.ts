// `npm run bench:io`: Labelwise image IO against the Python tools researchers
// use, in one run on the same machine. Python runs in a child process
// (bench/io_ref.py) that waits for commands on stdin, so the sides take turns
// (order swapped every round) and never compete for the cores:
//   (a) read a 240×240×155 float32 .nii.gz  — readNifti vs nib.load(p).get_fdata(dtype=float32)
//   (b) write it as .nii.gz                  — writeNifti vs nib.save(Nifti1Image(data, affine))
//   (c) load a DICOM series                  — readDicomSeries vs pydicom dcmread + sort + stack + rescale
//   (d) load an HDF5 volume (ACDC)           — readH5Volume vs h5py f['image'][()]
// Each side times only the operation; checksums of what was read are compared.
// Flags: --reps N (default 9), --warmup N (default 1), --only a,b,c,d,
// --write-docs, --python PATH. Run node with --expose-gc to collect garbage
// between timed operations (Python frees by reference counting).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readNifti, writeNifti } from '../src/io/nifti.js';
import type { Volume, VoxelArray } from '../src/io/volume.js';
import { ACDC, SAMPLES } from '../test/shared-data.js';
import { PyWorker, repoRoot, writeDocsSection } from './harness.js';


interface Options { reps: number; warmup: number; only: Set<string>; writeDocs: boolean; python: string }

function parseOptions(argv: string[]): Options {
  const o: Options = { reps: 9, warmup: 1, only: new Set(['a', 'b', 'c', 'd']), writeDocs: false, python: '/usr/bin/python3' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench:io: ${a} needs a value`);
      return v;
    };
    if (a === '--reps') o.reps = Math.max(1, Number.parseInt(next(), 10));
    else if (a === '--warmup') o.warmup = Math.max(0, Number.parseInt(next(), 10));
    else if (a === '--only') o.only = new Set(next().split(','));
    else if (a === '--write-docs') o.writeDocs = true;
    else if (a === '--python') o.python = next();
    else if (a === '--help' || a === '-h') {
      console.log('usage: node --expose-gc packages/toolkit/dist/bench/io.js [--reps N] [--warmup N] [--only a,b,c,d] [--write-docs] [--python PATH]');
      process.exit(0);
    } else throw new Error(`bench:io: unknown option ${a}`);
  }
  return o;
}

// ---- statistics ----------------------------------------------------------------

function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

interface Summary { n: number; median: number; q1: number; q3: number; min: number; max: number }

function summarize(xs: readonly number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, median: quantile(s, 0.5), q1: quantile(s, 0.25), q3: quantile(s, 0.75), min: s[0], max: s[s.length - 1] };
}

function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const mag = Math.floor(Math.log10(Math.abs(x)));
  return x.toFixed(Math.max(0, digits - 1 - mag));
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

// ---- the Python worker ---------------------------------------------------------

interface Reply { ms?: number; cpu?: number; check?: number; error?: string; ready?: boolean; versions?: Record<string, string> }


// ---- cases ---------------------------------------------------------------------

function checksum(data: VoxelArray): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += Number(data[i]);
  return s;
}

function collectGarbage(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) g();
}

interface Timed { ms: number; cpu: number; check: number }

/** Wall and process CPU time (all threads, so also zlib/wasm helpers) of one operation, in ms. */
async function timed<T>(fn: () => T | Promise<T>): Promise<[T, number, number]> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const v = await fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return [v, ms, (c.user + c.system) / 1000];
}

interface Case {
  key: string;
  label: string;
  input: string;
  ours: () => Promise<Timed>;
  theirs: () => Promise<Timed>;
  /** Relative tolerance for the checksum comparison (null: sizes, not compared). */
  checkTol: number | null;
}

interface Result { c: Case; ours: number[]; theirs: number[]; oursCpu: number[]; theirsCpu: number[]; oursCheck: number; theirsCheck: number }

type DicomModule = { readDicomSeries: (p: string) => Promise<Volume> | Volume };
type H5Module = { readH5Volume: (p: string) => Promise<Volume> };

async function optionalImport<T>(spec: string): Promise<T | undefined> {
  try {
    return (await import(spec)) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw e;
  }
}

function firstH5(): string | undefined {
  const list = path.join(ACDC, 'test.list');
  const names = fs.existsSync(list) ? fs.readFileSync(list, 'utf8').split(/\r?\n/).filter(Boolean) : [];
  for (const n of names) {
    const p = path.join(ACDC, 'data', n.endsWith('.h5') ? n : `${n}.h5`);
    if (/frame01\.h5$/.test(p) && fs.existsSync(p)) return p;
  }
  return undefined;
}

function sizeText(file: string): string {
  const st = fs.statSync(file);
  if (st.isDirectory()) {
    const files = fs.readdirSync(file);
    const total = files.reduce((a, f) => a + fs.statSync(path.join(file, f)).size, 0);
    return `${files.length} files, ${fmt(total / 2 ** 20)} MiB`;
  }
  return `${fmt(st.size / 2 ** 20)} MiB`;
}

async function buildCases(o: Options, py: PyWorker<Reply>, tmp: string, skipped: string[]): Promise<Case[]> {
  const cases: Case[] = [];
  const flair = path.join(SAMPLES, 'brats2015_deepmedic/brats_2013_pat0001_1/Flair_subtrMeanDivStd.nii.gz');
  if (o.only.has('a')) {
    cases.push({
      key: 'a', label: 'NIfTI read .nii.gz (240×240×155 float32)', input: flair, checkTol: 1e-9,
      ours: async () => {
        const [v, ms, cpu] = await timed(() => readNifti(flair));
        return { ms, cpu, check: checksum(v.data) };
      },
      theirs: async () => { const r = await py.call({ op: 'nifti_read', path: flair }); return { ms: r.ms!, cpu: r.cpu!, check: r.check! }; },
    });
  }
  if (o.only.has('b')) {
    const vol = readNifti(flair);
    await py.call({ op: 'nifti_prepare', path: flair });
    const oursOut = path.join(tmp, 'ours.nii.gz');
    const theirsOut = path.join(tmp, 'theirs.nii.gz');
    cases.push({
      key: 'b', label: 'NIfTI write .nii.gz (240×240×155 float32, gzip level 1)', input: flair, checkTol: null,
      ours: async () => {
        const [, ms, cpu] = await timed(() => writeNifti(oursOut, vol));
        return { ms, cpu, check: fs.statSync(oursOut).size };
      },
      theirs: async () => { const r = await py.call({ op: 'nifti_write', out: theirsOut }); return { ms: r.ms!, cpu: r.cpu!, check: r.check! }; },
    });
  }
  if (o.only.has('c')) {
    const dir = path.join(SAMPLES, 'totalsegmentator_examples/example_ct_dicom');
    const mod = await optionalImport<DicomModule>('../src/io/dicom/index.js');
    if (!mod?.readDicomSeries) skipped.push('(c) DICOM series load: skipped: module missing (src/io/dicom/index.ts with readDicomSeries)');
    else if (!fs.existsSync(dir)) skipped.push(`(c) DICOM series load: skipped: ${dir} missing`);
    else {
      cases.push({
        key: 'c', label: `DICOM series load (${fs.readdirSync(dir).length} CT slices 512², JPEG 2000 lossless)`, input: dir, checkTol: 1e-6,
        ours: async () => {
          const [v, ms, cpu] = await timed(() => mod.readDicomSeries(dir));
          return { ms, cpu, check: checksum(v.data) };
        },
        theirs: async () => { const r = await py.call({ op: 'dicom_read', path: dir }); return { ms: r.ms!, cpu: r.cpu!, check: r.check! }; },
      });
    }
  }
  if (o.only.has('d')) {
    const h5 = firstH5();
    const mod = await optionalImport<H5Module>('../src/io/hdf5.js');
    if (!mod?.readH5Volume) skipped.push('(d) HDF5 volume load: skipped: module missing (src/io/hdf5.ts with readH5Volume)');
    else if (!h5) skipped.push(`(d) HDF5 volume load: skipped: no ACDC test volume under ${ACDC}`);
    else {
      cases.push({
        key: 'd', label: 'HDF5 volume load (ACDC, gzip-chunked float32)', input: h5, checkTol: 1e-6,
        ours: async () => {
          const [v, ms, cpu] = await timed(() => mod.readH5Volume(h5));
          return { ms, cpu, check: checksum(v.data) };
        },
        theirs: async () => { const r = await py.call({ op: 'h5_read', path: h5 }); return { ms: r.ms!, cpu: r.cpu!, check: r.check! }; },
      });
    }
  }
  return cases;
}

async function runCase(c: Case, o: Options): Promise<Result> {
  const res: Result = { c, ours: [], theirs: [], oursCpu: [], theirsCpu: [], oursCheck: Number.NaN, theirsCheck: Number.NaN };
  for (let w = 0; w < o.warmup; w++) {
    res.oursCheck = (await c.ours()).check;
    res.theirsCheck = (await c.theirs()).check;
  }
  for (let r = 0; r < o.reps; r++) {
    const order = r % 2 === 0 ? ['ours', 'theirs'] as const : ['theirs', 'ours'] as const;
    for (const side of order) {
      collectGarbage();
      const t = await c[side]();
      res[side].push(t.ms);
      (side === 'ours' ? res.oursCpu : res.theirsCpu).push(t.cpu);
      if (side === 'ours') res.oursCheck = t.check; else res.theirsCheck = t.check;
    }
  }
  return res;
}

function report(results: Result[], skipped: string[], versions: Record<string, string>, o: Options, load: [number, number]): string {
  const rows = results.map(({ c, ours, theirs, oursCpu, theirsCpu, oursCheck, theirsCheck }) => {
    const a = summarize(ours), b = summarize(theirs);
    const ac = summarize(oursCpu), bc = summarize(theirsCpu);
    let check: string;
    if (c.checkTol === null) check = `${fmt(oursCheck / 2 ** 20)} / ${fmt(theirsCheck / 2 ** 20)} MiB`;
    else {
      const rel = Math.abs(oursCheck - theirsCheck) / Math.max(1, Math.abs(theirsCheck));
      check = rel <= c.checkTol ? 'same sum' : `sums differ (rel ${rel.toExponential(1)})`;
    }
    return [`(${c.key}) ${c.label}`, fmt(a.median), fmt(b.median), fmt(a.median / b.median), `${fmt(a.q1)}–${fmt(a.q3)}`, `${fmt(b.q1)}–${fmt(b.q3)}`,
      `${fmt(ac.median)} / ${fmt(bc.median)}`, fmt(ac.median / bc.median), `${a.n}+${b.n}`, check];
  });
  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
  const lines = [
    '## IO (NIfTI, DICOM, HDF5)',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench:io${o.writeDocs ? ' -- --write-docs' : ''}\` (re-run to update).`,
    '',
    `- Machine: ${cpu}, ${os.cpus().length} cores; ${os.platform()} ${os.release()}`,
    `- Node ${process.version} (zlib ${process.versions.zlib}); garbage collected between timed operations: ${typeof (globalThis as { gc?: unknown }).gc === 'function' ? 'yes' : 'no (run node with --expose-gc)'}`,
    `- Python ${versions.python}; numpy ${versions.numpy}, nibabel ${versions.nibabel}, pydicom ${versions.pydicom}, h5py ${versions.h5py}`,
    `- Load average (1 min) at start / end: ${fmt(load[0])} / ${fmt(load[1])} on ${os.cpus().length} cores (other processes inflate wall times on both sides; the CPU columns are not affected).`,
    `- ${o.warmup} warm-up run(s) per side, then ${o.reps} alternating rounds (order swapped every round); each side times only the operation, in its own process.`,
    '',
    table(['operation', 'Labelwise ms', 'reference ms', 'ratio', 'Labelwise IQR', 'reference IQR', 'CPU ms L / ref', 'CPU ratio', 'n', 'check'], rows),
    '',
    'Wall-clock medians; ratio = Labelwise / reference (below 1: Labelwise faster); IQR = interquartile range; n = Labelwise + reference runs.',
    'CPU = process CPU time of the operation (user + system, all threads) — insensitive to other processes competing for the cores.',
    'References: (a) `nib.load(p).get_fdata(dtype=np.float32)`; (b) `nib.save(nib.Nifti1Image(data, affine), p)` (nibabel\'s default gzip level 1,',
    'the level Labelwise uses too; Labelwise also fsyncs and renames for an atomic write); (c) `pydicom.dcmread` of every file, sort along the slice',
    'normal, `np.stack` of `pixel_array`, rescale to float32; (d) `h5py.File(p)["image"][()]`. "check": the sums of the loaded voxels agree (reads)',
    'or the sizes of the written files (write).',
    '',
    'Inputs:',
    ...results.map(({ c }) => `- (${c.key}) \`${path.relative(repoRoot, c.input)}\` (${sizeText(c.input)})`),
  ];
  if (skipped.length) lines.push('', ...skipped.map((s) => `- ${s}`));
  return lines.join('\n');
}


async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const py = new PyWorker<Reply>(o.python, 'io_ref.py', 'bench:io', '/usr/bin/python3 with numpy, nibabel, pydicom and h5py');
  const hello = await py.read();
  const versions = hello.versions ?? {};
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-bench-io-'));
  const skipped: string[] = [];
  const load0 = os.loadavg()[0];
  try {
    const cases = await buildCases(o, py, tmp, skipped);
    const results: Result[] = [];
    for (const c of cases) {
      process.stdout.write(`bench:io: (${c.key}) ${c.label} ... `);
      const r = await runCase(c, o);
      results.push(r);
      console.log(`${fmt(summarize(r.ours).median)} ms vs ${fmt(summarize(r.theirs).median)} ms`);
    }
    const section = report(results, skipped, versions, o, [load0, os.loadavg()[0]]);
    console.log(`\n${section}\n`);
    if (o.writeDocs) writeDocsSection('io', section);
  } finally {
    py.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
