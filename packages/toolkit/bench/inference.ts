// `npm run bench:inference`: sliding-window prediction of a BraTS volume
// (FLAIR + T1c, 240×240×155) with an nnU-Net PlainConvUNet, Labelwise's
// predictVolume against the same loop in PyTorch (bench/inference_ref.py, a
// child process that waits while we run), alternating runs, medians; both
// sides on the same libtorch, the same weights (ours, exported to
// safetensors), the same input, the same window positions and Gaussian, the
// same thread count. Predictions are compared before timing.
//
// Then peak memory of a CT-sized volume (512×512×400, one channel) with a
// one-convolution network, each side in a fresh process: our slab-wise
// accumulator against nnU-Net's full-volume one.
//
// usage: node packages/toolkit/dist/bench/inference.js [options] (--help)
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as torch from '@labelwise/torch';
import { affinesClose } from '../src/io/affine.js';
import { readNifti } from '../src/io/nifti.js';
import { Volume } from '../src/io/volume.js';
import { createNetwork } from '../src/nn/registry.js';
import { predictVolume } from '../src/inference/predict.js';
import { slidingWindowInference, windowStarts } from '../src/inference/sliding-window.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgRoot = path.resolve(here, '../..');
const repoRoot = path.resolve(pkgRoot, '../..');
const SHARED = process.env.LABELWISE_SHARED_DATA ?? path.resolve(repoRoot, '../shared/data');
const MiB = 1024 * 1024;

interface Options {
  rounds: number;
  patch: number;
  threads: number;
  caseDir: string;
  writeDocs: boolean;
  python: string;
  noiseLimit: number;
  maxWait: number;
  ct: boolean;
  ctChild: boolean;
  ctShape: number[];
  ctPatch: number[];
}

const USAGE = `usage: node packages/toolkit/dist/bench/inference.js [options]
  --rounds N        alternating rounds (default 3: 3 runs per side)
  --patch P         cubic window size (default 128; must be a multiple of 16)
  --threads N       intra-op threads on both sides (default: all cores)
  --case DIR        BraTS case folder with Flair_subtrMeanDivStd / T1c_subtrMeanDivStd .nii.gz
                    (default shared/data/samples/brats2015_deepmedic/brats_2013_pat0001_1)
  --noise-limit C   before each run wait (up to --max-wait s) until other processes use less than C cores,
                    and repeat a round (at most twice) where they used more meanwhile (default 0.3; 0: never)
  --max-wait S      longest wait for a quiet machine before a run (default 180)
  --no-ct           skip the CT-sized peak-memory part
  --ct-shape Z,Y,X  CT volume of the memory part (default 400,512,512)
  --write-docs      update the bench:inference section of docs/benchmarks.md
  --python PATH     Python with torch 1.13 (default /usr/bin/python3)`;

function parseOptions(argv: string[]): Options {
  const o: Options = {
    rounds: 3, patch: 128, threads: os.availableParallelism(), caseDir: path.join(SHARED, 'samples/brats2015_deepmedic/brats_2013_pat0001_1'),
    writeDocs: false, python: '/usr/bin/python3', noiseLimit: 0.3, maxWait: 180, ct: true, ctChild: false, ctShape: [400, 512, 512], ctPatch: [64, 128, 128],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench:inference: ${a} needs a value`);
      return v;
    };
    const int = (min: number): number => {
      const v = Number(next());
      if (!Number.isInteger(v) || v < min) throw new Error(`bench:inference: ${a} expects an integer >= ${min}`);
      return v;
    };
    if (a === '--rounds') o.rounds = int(1);
    else if (a === '--patch') o.patch = int(16);
    else if (a === '--threads') o.threads = int(1);
    else if (a === '--case') o.caseDir = next();
    else if (a === '--noise-limit') o.noiseLimit = Number(next());
    else if (a === '--max-wait') o.maxWait = Number(next());
    else if (a === '--python') o.python = next();
    else if (a === '--write-docs') o.writeDocs = true;
    else if (a === '--no-ct') o.ct = false;
    else if (a === '--ct-child') o.ctChild = true;
    else if (a === '--ct-shape') o.ctShape = next().split(',').map(Number);
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`bench:inference: unknown option ${a}\n${USAGE}`);
  }
  if (o.patch % 16 !== 0) throw new Error(`bench:inference: --patch must be a multiple of 16 (the network down-samples 4 times), got ${o.patch}`);
  return o;
}

// ---- machine load ---------------------------------------------------------------

/** CPU seconds the whole machine has been busy (user, nice, system, irq, softirq, steal), from /proc/stat. */
function machineBusy(): number {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return (user + nice + system + irq + softirq + (steal ?? 0)) / 100;
  } catch {
    return NaN;
  }
}

function ownCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

interface Timed { ms: number; cpu: number; others: number; peak?: number }

/** Waits until other processes use less than `limit` cores for two consecutive seconds (at most maxWait s). */
async function waitQuiet(limit: number, maxWait: number): Promise<number> {
  if (limit <= 0) return 0;
  const t0 = performance.now();
  let quiet = 0;
  while (quiet < 2 && (performance.now() - t0) / 1000 < maxWait) {
    const m0 = machineBusy();
    const c0 = ownCpu();
    await new Promise((r) => setTimeout(r, 1000));
    const load = machineBusy() - m0 - (ownCpu() - c0);
    quiet = load < limit ? quiet + 1 : 0;
  }
  return (performance.now() - t0) / 1000;
}

/** Runs fn, returning wall ms, the side's CPU seconds and the cores other processes used meanwhile. */
async function timed(fn: () => Promise<{ cpu?: number }> | { cpu?: number }, side: 'ours' | 'theirs'): Promise<Timed> {
  const m0 = machineBusy();
  const c0 = ownCpu();
  const t0 = performance.now();
  const r = await fn();
  const ms = performance.now() - t0;
  const mine = ownCpu() - c0;
  const sideCpu = side === 'ours' ? mine : r.cpu ?? 0;
  // The TS process idles while Python runs, and the other way round, so both count as "ours".
  const others = Math.max(0, (machineBusy() - m0 - mine - (side === 'theirs' ? sideCpu : 0)) / (ms / 1000));
  return { ms, cpu: sideCpu, others };
}

// ---- Python worker ---------------------------------------------------------------

interface Reply {
  ms?: number; cpu_s?: number; rss_mib?: number; run_peak_mib?: number | null; rss_before_mib?: number; steps?: number[][]; params?: number; threads?: number;
  versions?: Record<string, string>; fg?: number; error?: string;
}

class PyWorker {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  constructor(python: string) {
    this.proc = spawn(python, [path.join(pkgRoot, 'bench', 'inference_ref.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d: Buffer) => process.stderr.write(`[python] ${d.toString()}`));
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }
  async call(cmd: Record<string, unknown>): Promise<Reply> {
    this.proc.stdin.write(`${JSON.stringify(cmd)}\n`);
    const r = await this.lines.next();
    if (r.done) throw new Error('bench:inference: the Python worker exited (is /usr/bin/python3 with torch 1.13 and numpy installed?)');
    const reply = JSON.parse(r.value) as Reply;
    if (reply.error) throw new Error(`python ${String(cmd.op)}: ${reply.error}`);
    return reply;
  }
  close(): void {
    this.proc.stdin.write('{"op":"quit"}\n');
    this.proc.stdin.end();
  }
}

// ---- helpers ---------------------------------------------------------------------

function median(v: readonly number[]): number {
  const s = [...v].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const rssMiB = (): number => process.memoryUsage.rss() / MiB;

/** Linux: writing 5 to clear_refs resets VmHWM (the peak RSS), so one run's peak can be read. */
function resetPeak(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function peakMiB(): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}
const maxRssMiB = (): number => process.resourceUsage().maxRSS / 1024;
const fmt = (x: number, d = 1): string => x.toFixed(d);

function loadCase(dir: string): Volume {
  const flair = readNifti(path.join(dir, 'Flair_subtrMeanDivStd.nii.gz'));
  const t1c = readNifti(path.join(dir, 'T1c_subtrMeanDivStd.nii.gz'));
  if (flair.dims.join() !== t1c.dims.join() || !affinesClose(flair.affine, t1c.affine)) throw new Error(`bench:inference: FLAIR and T1c of ${dir} are on different grids`);
  const n = flair.numVoxels;
  const data = new Float32Array(2 * n);
  data.set(Float32Array.from(flair.data as Float32Array), 0);
  data.set(Float32Array.from(t1c.data as Float32Array), n);
  return flair.withData(data, 2, { path: dir });
}

const NET = { inChannels: 2, numClasses: 5, features: [16, 32, 64, 128, 256], kernels: Array.from({ length: 5 }, () => [3, 3, 3]), strides: [[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2]] };

// ---- CT-sized memory part (run in a fresh process) --------------------------------

interface CtResult { ms: number; rssBeforeMiB: number; peakMiB: number; fg: number }

/** The child: slab-wise prediction of a synthetic CT-sized volume with a pointwise one-convolution network. */
function ctChild(o: Options): void {
  torch.setNumThreads(o.threads);
  torch.manualSeed(7);
  const net = new torch.nn.Conv3d(1, 2, 1);
  net.eval();
  const image = torch.rand([1, ...o.ctShape], { generator: new torch.Generator(7) });
  const before = maxRssMiB();
  const t0 = performance.now();
  const r = slidingWindowInference(image, (x) => net.forward(x), { patchSize: o.ctPatch, overlap: 0.5 });
  const ms = performance.now() - t0;
  const peak = maxRssMiB();
  const fg = torch.tidy(() => r.labels.sum().item());
  const out: CtResult = { ms, rssBeforeMiB: before, peakMiB: peak, fg };
  process.stdout.write(JSON.stringify(out) + '\n');
}

async function ctPart(o: Options): Promise<{ ours: CtResult; theirs: Reply }> {
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, [self, '--ct-child', '--threads', String(o.threads), '--ct-shape', o.ctShape.join(',')], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (child.status !== 0) throw new Error(`bench:inference: CT child failed (${child.status}): ${child.stderr}`);
  const ours = JSON.parse(child.stdout.trim().split('\n').pop()!) as CtResult;
  const py = new PyWorker(o.python);
  try {
    const theirs = await py.call({ op: 'ctmem', shape: o.ctShape, patch: o.ctPatch, classes: 2, seed: 7, overlap: 0.5, threads: o.threads });
    return { ours, theirs };
  } finally {
    py.close();
  }
}

// ---- docs -------------------------------------------------------------------------

function writeDocs(section: string): void {
  const docs = path.join(repoRoot, 'docs', 'benchmarks.md');
  const start = '<!-- bench:inference:start -->';
  const end = '<!-- bench:inference:end -->';
  const block = `${start}\n${section}\n${end}`;
  let text = fs.existsSync(docs) ? fs.readFileSync(docs, 'utf8') : '# Benchmarks\n';
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  text = i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  const tmp = `${docs}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, docs);
  console.log(`bench:inference: updated ${path.relative(process.cwd(), docs)}`);
}

// ---- main -------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (o.ctChild) {
    ctChild(o);
    return;
  }
  torch.setNumThreads(o.threads);
  const patch = [o.patch, o.patch, o.patch];
  const vol = loadCase(o.caseDir);
  const shapeZYX = [vol.channels, vol.dims[2], vol.dims[1], vol.dims[0]];
  const net = createNetwork({
    name: 'plain_unet', dims: 3, inChannels: NET.inChannels, numClasses: NET.numClasses, featuresPerStage: NET.features,
    kernelSizes: NET.kernels, strides: NET.strides, deepSupervision: false, seed: 1234,
  });
  net.eval();
  const params = [...net.parameters()].reduce((s, p) => s + p.numel(), 0);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-bench-inference-'));
  const weights = path.join(tmp, 'weights.safetensors');
  const imageFile = path.join(tmp, 'image.f32');
  const outFile = path.join(tmp, 'pred.bin');
  torch.saveSafetensors(weights, net.stateDict());
  {
    const t = vol.toTensor('float32');
    const d = t.dataView() as Float32Array;
    fs.writeFileSync(imageFile, Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    t.dispose();
  }
  const py = new PyWorker(o.python);
  try {
    const setup = await py.call({ op: 'setup', weights, image: imageFile, shape: shapeZYX, net: NET, patch, overlap: 0.5, threads: o.threads });
    if (setup.params !== params) throw new Error(`bench:inference: parameter counts differ: ${params} (TS) vs ${setup.params} (PyTorch)`);
    const ourStarts = shapeZYX.slice(1).map((s, i) => windowStarts(s, patch[i], 0.5));
    const nWindows = ourStarts.reduce((p, s) => p * s.length, 1);
    const options = { mode: 'sliding3d' as const, patchSize: patch, overlap: 0.5, batchSize: 1 };
    console.log(`bench:inference: ${shapeZYX.join('×')} (C, Z, Y, X), patch ${patch.join('×')}, ${nWindows} windows, ${params.toLocaleString('en')} parameters, ${o.threads} thread(s)`);
    const rssLoaded = rssMiB();

    // Warm-up doubling as the check: probabilities from both sides.
    console.log('bench:inference: warm-up + agreement check ...');
    const w0 = performance.now();
    const mine = predictVolume(vol, net, { ...options, probabilities: true });
    const warmOurs = performance.now() - w0;
    const ref = await py.call({ op: 'run', out: outFile });
    if (JSON.stringify(ref.steps) !== JSON.stringify(ourStarts)) throw new Error(`bench:inference: window starts differ: ours ${JSON.stringify(ourStarts)}, nnU-Net's ${JSON.stringify(ref.steps)}`);
    const n = vol.numVoxels;
    const k = NET.numClasses;
    const bytes = fs.readFileSync(outFile);
    const theirProbs = new Float32Array(bytes.buffer, bytes.byteOffset, k * n);
    const theirLabels = new Uint8Array(bytes.buffer, bytes.byteOffset + 4 * k * n, n);
    const ourProbs = mine.probabilities!.data as Float32Array;
    const ourLabels = mine.labels.data as Uint8Array;
    let equal = 0;
    for (let i = 0; i < n; i++) if (ourLabels[i] === theirLabels[i]) equal++;
    let maxDiff = 0;
    for (let i = 0; i < k * n; i++) maxDiff = Math.max(maxDiff, Math.abs(ourProbs[i] - theirProbs[i]));
    const agree = equal / n;
    const counts = new Array<number>(k).fill(0);
    for (let i = 0; i < n; i++) counts[ourLabels[i]]++;
    console.log(`  labels equal on ${(100 * agree).toFixed(4)}% of voxels; max |Δp| = ${maxDiff.toExponential(2)}; warm-up ours ${fmt(warmOurs / 1000)} s, PyTorch ${fmt(ref.ms! / 1000)} s; class counts ${counts.join('/')}`);
    if (agree < 0.999) throw new Error(`bench:inference: only ${(100 * agree).toFixed(3)}% of labels agree (need ≥ 99.9%)`);
    if (maxDiff > 1e-3) throw new Error(`bench:inference: probabilities differ by up to ${maxDiff} (need ≤ 1e-3)`);
    fs.rmSync(outFile, { force: true });

    const ours: Timed[] = [];
    const theirs: Timed[] = [];
    let repeated = 0;
    let waited = 0;
    const runOurs = async (): Promise<Timed> => {
      waited += await waitQuiet(o.noiseLimit, o.maxWait);
      const reset = resetPeak();
      const t = await timed(() => { predictVolume(vol, net, options); return {}; }, 'ours');
      return { ...t, peak: reset ? peakMiB() : undefined };
    };
    const runTheirs = async (): Promise<Timed> => {
      waited += await waitQuiet(o.noiseLimit, o.maxWait);
      let peak: number | undefined;
      const t = await timed(async () => { const r = await py.call({ op: 'run', out: null }); peak = r.run_peak_mib ?? undefined; return { cpu: r.cpu_s }; }, 'theirs');
      return { ...t, peak };
    };
    for (let r = 0; r < o.rounds; r++) {
      const order = r % 2 === 0 ? [runOurs, runTheirs] : [runTheirs, runOurs];
      let results: Timed[] = [];
      for (let attempt = 0; ; attempt++) {
        results = [];
        for (const f of order) results.push(await f());
        const noisy = o.noiseLimit > 0 && results.some((x) => x.others > o.noiseLimit);
        if (!noisy || attempt >= 2) break;
        repeated++;
        console.log(`  round ${r + 1}: other processes used ${results.map((x) => fmt(x.others, 2)).join(' / ')} cores; repeating`);
      }
      const [a, b] = r % 2 === 0 ? results : [results[1], results[0]];
      ours.push(a);
      theirs.push(b);
      console.log(`round ${r + 1}/${o.rounds}: Labelwise ${fmt(a.ms / 1000)} s, PyTorch ${fmt(b.ms / 1000)} s (other load ${fmt(a.others, 2)} / ${fmt(b.others, 2)} cores)`);
    }

    // The network's share: one forward pass of the first window, alternating sides.
    const window = torch.tidy(() => vol.toTensor('float32').narrow(1, 0, patch[0]).narrow(2, 0, patch[1]).narrow(3, 0, patch[2]).unsqueeze(0).contiguous());
    const fwdOurs: number[] = [];
    const fwdTheirs: number[] = [];
    const fwdPeak: number[] = [];
    const fwdPeakTheirs: number[] = [];
    for (let r = 0; r < o.rounds; r++) {
      await waitQuiet(o.noiseLimit, o.maxWait);
      const doOurs = () => {
        const reset = resetPeak();
        const r0 = peakMiB();
        const t0 = performance.now();
        torch.noGrad(() => torch.tidy(() => { net.forward(window); }));
        fwdOurs.push(performance.now() - t0);
        if (reset) fwdPeak.push(peakMiB() - r0);
      };
      const doTheirs = async () => {
        const f = await py.call({ op: 'forward' });
        fwdTheirs.push(f.ms!);
        if (f.run_peak_mib != null) fwdPeakTheirs.push(f.run_peak_mib);
      };
      if (r % 2 === 0) { doOurs(); await doTheirs(); } else { await doTheirs(); doOurs(); }
    }
    window.dispose();
    const fo = median(fwdOurs);
    const ft = median(fwdTheirs);
    const fPeakOurs = fwdPeak.length ? fmt(Math.max(...fwdPeak), 0) : 'n/a';
    const fPeakTheirs = fwdPeakTheirs.length ? fmt(Math.max(...fwdPeakTheirs), 0) : 'n/a';
    console.log(`bench:inference: one ${o.patch}³ forward: Labelwise ${fmt(fo / 1000, 2)} s, PyTorch ${fmt(ft / 1000, 2)} s (ratio ${(fo / ft).toFixed(3)}); peak growth ${fPeakOurs} / ${fPeakTheirs} MiB`);
    const mo = median(ours.map((x) => x.ms));
    const mt = median(theirs.map((x) => x.ms));
    const ratio = mo / mt;
    const runPeak = (xs: Timed[]): string => (xs.every((x) => x.peak !== undefined) ? fmt(Math.max(...xs.map((x) => x.peak!)), 0) : 'n/a');
    console.log(`bench:inference: median Labelwise ${fmt(mo / 1000, 2)} s, PyTorch ${fmt(mt / 1000, 2)} s, ratio ${ratio.toFixed(3)}; peak RSS per run ${runPeak(ours)} / ${runPeak(theirs)} MiB`);

    let ct: { ours: CtResult; theirs: Reply } | null = null;
    if (o.ct) {
      console.log(`bench:inference: CT-sized memory part (${o.ctShape.join('×')}, patch ${o.ctPatch.join('×')}) ...`);
      ct = await ctPart(o);
      console.log(`  ours: peak ${fmt(ct.ours.peakMiB, 0)} MiB (${fmt(ct.ours.rssBeforeMiB, 0)} before), ${fmt(ct.ours.ms / 1000)} s; PyTorch: peak ${fmt(ct.theirs.rss_mib!, 0)} MiB (${fmt(ct.theirs.rss_before_mib!, 0)} before), ${fmt(ct.theirs.ms! / 1000)} s`);
    }

    const v = setup.versions ?? {};
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    const spread = (xs: Timed[]) => `${fmt(Math.min(...xs.map((x) => x.ms)) / 1000)}–${fmt(Math.max(...xs.map((x) => x.ms)) / 1000)}`;
    const load = (xs: Timed[]) => fmt(median(xs.map((x) => x.others)), 2);
    const busy = (xs: Timed[]) => fmt(median(xs.map((x) => x.cpu / (x.ms / 1000))), 2);
    const lines = [
      '## Inference (sliding window, BraTS volume)',
      '',
      `Measured ${new Date().toISOString().slice(0, 10)} with \`node packages/toolkit/dist/bench/inference.js --rounds ${o.rounds} --patch ${o.patch}${o.writeDocs ? ' --write-docs' : ''}\` (re-run to update).`,
      '',
      `- Machine: ${cpu}, ${os.cpus().length} cores; Node ${process.version}, libtorch ${torch.version()} via @labelwise/torch; Python ${v.python}, torch ${v.torch} (the same libtorch build); ${o.threads} intra-op thread(s) on both sides.`,
      `- Input: BraTS 2013 pat0001 (shared/data/samples/brats2015_deepmedic), FLAIR + T1c as 2 channels, ${vol.dims.join('×')} voxels (tensor ${shapeZYX.join('×')}).`,
      `- Network: nnU-Net PlainConvUNet (\`createNetwork({name: 'plain_unet', ...})\`), 5 stages of 2 × (conv 3³ – InstanceNorm – LeakyReLU 0.01), channels ${NET.features.join('-')} (nnU-Net uses 32–320; halved so a 2-core CPU run takes minutes), stride-2 convs, transposed-conv up-sampling, 5 classes, no deep supervision, ${params.toLocaleString('en')} parameters; seeded random He init, the same weights on both sides (safetensors, read in Python with json + numpy).`,
      `- Loop: patch ${patch.join('×')}, overlap 0.5 → ${ourStarts.map((s) => s.length).join('×')} = ${nWindows} windows at nnU-Net's compute_steps positions (checked equal), one window per forward pass, logits × Gaussian (σ = patch/8, centred at (p − 1)/2 on both sides; nnU-Net centres it at p // 2) accumulated and divided by the summed weights, argmax over the classes. No mirroring. Ours: \`predictVolume(volume, net, {mode: 'sliding3d', patchSize, overlap: 0.5})\` (Volume in, uint8 label Volume out; slab-wise accumulator). PyTorch: nnU-Net v2's \`predict_sliding_window_return_logits\` loop on the CPU (full-volume float32 logits and weight accumulators) with the PlainConvUNet twin of test/fixtures/nets_ref.py.`,
      `- Agreement (warm-up run, probabilities on both sides): labels equal on ${(100 * agree).toFixed(4)}% of voxels, max |Δ probability| ${maxDiff.toExponential(1)}.`,
      `- ${o.rounds} rounds after the warm-up, alternating sides (odd rounds start with PyTorch); the other side waits idle.${o.noiseLimit > 0 ? ` Before each run the benchmark waited for other processes to use less than ${o.noiseLimit} core (${fmt(waited, 0)} s of waiting in all); ${repeated} round(s) repeated because they used more meanwhile.` : ''} A separate measurement times one forward pass of the network on the first window alone (${o.rounds} per side, alternating), to separate the network from the loop around it.`,
      '',
      '| side | median s | min–max s | ratio to PyTorch | CPU s | cores busy | other load (cores) | peak RSS per run MiB |',
      '|---|---|---|---|---|---|---|---|',
      `| Labelwise predictVolume | ${fmt(mo / 1000, 2)} | ${spread(ours)} | ${ratio.toFixed(3)} | ${fmt(median(ours.map((x) => x.cpu)))} | ${busy(ours)} | ${load(ours)} | ${runPeak(ours)} |`,
      `| PyTorch (nnU-Net loop) | ${fmt(mt / 1000, 2)} | ${spread(theirs)} | 1.000 | ${fmt(median(theirs.map((x) => x.cpu)))} | ${busy(theirs)} | ${load(theirs)} | ${runPeak(theirs)} |`,
      '',
      `"CPU s": user + system seconds of that side's process; "cores busy": CPU seconds / wall seconds; "other load": cores other processes used meanwhile (from /proc/stat), the noise indicator. Peak RSS per run: VmHWM reset (\`/proc/self/clear_refs\`) before each timed run and read after it, the largest over the runs (both processes hold ${fmt(rssLoaded, 0)} / ${fmt(setup.rss_mib!, 0)} MiB after loading the case and the network).`,
      '',
      `Network alone — one ${o.patch}³ forward pass of the first window, ${o.rounds} per side alternating: Labelwise ${fmt(fo / 1000, 2)} s, PyTorch ${fmt(ft / 1000, 2)} s (ratio ${(fo / ft).toFixed(3)}); peak RSS growth during the pass ${fPeakOurs} / ${fPeakTheirs} MiB. The ${nWindows} forward passes are ${fmt((100 * nWindows * ft) / mt, 0)}% of PyTorch's run, so the network's ratio sets the run's; the loop around it (window copies, Gaussian accumulation, slab bookkeeping, argmax) costs Labelwise ${fmt((mo - nWindows * fo) / 1000, 1)} s and PyTorch ${fmt((mt - nWindows * ft) / 1000, 1)} s (run minus ${nWindows} × the forward median).`,
      ...(fwdPeak.length && fwdPeakTheirs.length && Math.max(...fwdPeak) > 1.3 * Math.max(...fwdPeakTheirs)
        ? ['', `The peak-memory gap is the network's, not the loop's: the PlainConvUNet forward (src/nn/plain-conv-unet.ts) keeps every conv/norm/activation output of a stage alive until the encoder's (or decoder's) \`tidy\` scope closes, and its LeakyReLU is not in place, where PyTorch frees each intermediate as soon as the next layer has consumed it and nnU-Net applies LeakyReLU in place. The per-run peaks hold ${o.patch}³ activations, not accumulators: this volume is only ${shapeZYX[1]} planes deep, so our ${o.patch}-plane slab saves little here (see the CT-sized case below).`]
        : ['', `The per-run peaks are dominated by the network's activations at ${o.patch}³, not by the accumulators: this volume is only ${shapeZYX[1]} planes deep, so our ${o.patch}-plane slab saves little here (see the CT-sized case below).`]),
    ];
    if (ct) {
      const [z, y, x] = o.ctShape;
      const vox = z * y * x;
      const full = (2 * vox * 4 + vox * 4) / MiB;
      const slab = (2 * o.ctPatch[0] * y * x * 4 + o.ctPatch[0] * y * x * 4) / MiB;
      lines.push(
        '',
        `### Peak memory on a CT-sized volume`,
        '',
        `Synthetic ${x}×${y}×${z} single-channel float32 volume (${fmt((vox * 4) / MiB, 0)} MiB), a one-convolution network (Conv3d 1→2, 1³), patch ${o.ctPatch.join('×')} (Z, Y, X), overlap 0.5; each side in a fresh process (peak = maxRSS / ru_maxrss). A full-volume float32 accumulator (2 classes of logits + the weight sum) needs ${fmt(full, 0)} MiB; our slab-wise one needs ${fmt(slab, 0)} MiB (${o.ctPatch[0]} planes).`,
        '',
        '| side | accumulator | peak RSS MiB | RSS before prediction MiB | growth MiB | time s |',
        '|---|---|---|---|---|---|',
        `| Labelwise slidingWindowInference | slab (${o.ctPatch[0]} planes) | ${fmt(ct.ours.peakMiB, 0)} | ${fmt(ct.ours.rssBeforeMiB, 0)} | ${fmt(ct.ours.peakMiB - ct.ours.rssBeforeMiB, 0)} | ${fmt(ct.ours.ms / 1000)} |`,
        `| PyTorch (nnU-Net loop) | full volume | ${fmt(ct.theirs.rss_mib!, 0)} | ${fmt(ct.theirs.rss_before_mib!, 0)} | ${fmt(ct.theirs.rss_mib! - ct.theirs.rss_before_mib!, 0)} | ${fmt(ct.theirs.ms! / 1000)} |`,
        '',
        `"RSS before": after creating the input volume and the network, before the prediction; "growth" is what the prediction itself added (ours: the uint8 labels, one slab of accumulators and the temporaries of finishing a slab; PyTorch: the full accumulators, then the division and argmax over the whole volume). With a trivial network the time column measures the loop's bookkeeping; most of PyTorch's is the full-volume \`argmax(0)\` (libtorch 1.13's CPU argmax over a leading dim is slow; Labelwise's \`argmaxClasses\` compares class by class).`,
      );
    }
    const section = lines.join('\n');
    console.log(`\n${section}\n`);
    if (o.writeDocs) writeDocs(section);
  } finally {
    py.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
