// `npm run bench:engine`: Labelwise (TypeScript over libtorch) against PyTorch
// on the same machine, in one run. PyTorch runs in a child process
// (bench/engine_torch.py) that waits for commands on stdin, so the two sides
// take turns and never compete for the cores:
//   1. training steps of the same 3D and 2D U-Net (bench/unet.ts), both sides
//      starting from the same weights (exported to safetensors) and data, the
//      first losses compared to prove they compute the same thing;
//   2. per-op dispatch overhead of small ops (µs per call).
// Flags: --quick, --only 3d|2d|ops (comma-separated), --rounds N, --steps K,
// --warmup N, --threads N, --noise-limit C, --max-wait S, --json FILE,
// --write-docs, --python PATH, --malloc-cache, --from-json FILE.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as torch from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { type Summary, fmt, summarize, table } from './stats.js';
import { DEFAULT_CHANNELS, type Dims, UNet, type UNetConfig, makeTrainer } from './unet.js';

const here = dirname(fileURLToPath(import.meta.url));
// dist/bench → the package root (sources) and the repository root.
const pkgRoot = resolve(here, '..', '..');
const repoRoot = resolve(pkgRoot, '..', '..');

// ---- options ------------------------------------------------------------------

type Part = '3d' | '2d' | 'ops';

interface Options {
  parts: Part[];
  rounds: number;
  steps: number;
  warmup: number;
  threads: number;
  opCalls: number;
  opReps: number;
  opRounds: number;
  tidyBatch: number;
  /** Rounds in which other processes used more cores than this are repeated (0: keep all). */
  noiseLimit: number;
  /** Longest wait for a quiet machine before a round, seconds. */
  maxWait: number;
  json: string | null;
  writeDocs: boolean;
  python: string;
  quick: boolean;
  /** Run both sides with glibc malloc keeping freed memory (see MALLOC_CACHE_ENV). */
  mallocCache: boolean;
  /** Re-render the report of a saved --json file instead of measuring. */
  fromJson: string | null;
}

// glibc malloc tunables that keep freed memory for reuse instead of
// unmapping every large tensor: no mmap'd chunks, no trimming. Steps then no
// longer pay the kernel for zeroing fresh pages, at the cost of a higher RSS.
const MALLOC_CACHE_ENV: Record<string, string> = {
  MALLOC_MMAP_MAX_: '0',
  MALLOC_TRIM_THRESHOLD_: String(64 * 2 ** 30),
  MALLOC_TOP_PAD_: String(256 * 2 ** 20),
};

function usage(): string {
  return [
    'usage: node packages/torch/dist/bench/engine.js [options]',
    '  --quick             1 round of 1 step per model, fewer op calls (smoke check)',
    '  --only PARTS        comma-separated subset of 3d,2d,ops (default all)',
    '  --rounds N          alternating rounds per model (default 5)',
    '  --steps K           timed steps per side per round (default 2)',
    '  --warmup N          untimed steps per side first, also the loss check (default 2)',
    '  --threads N         intra-op threads on both sides (default: all cores)',
    '  --noise-limit C     repeat a round when other processes took more than C cores meanwhile',
    '                      (default 0.25; 0 keeps every round)',
    '  --max-wait S        wait at most S seconds for a quiet machine before a round (default 300)',
    '  --json FILE         write all results as JSON',
    '  --write-docs        update the "Engine" section of docs/benchmarks.md',
    '  --python PATH       the Python with torch (default /usr/bin/python3)',
    '  --malloc-cache      run both sides with glibc malloc keeping freed memory',
    '                      (MALLOC_MMAP_MAX_=0 ...): no page-zeroing cost, higher RSS',
    '  --from-json FILE    print (and with --write-docs, write) the report of a saved --json run',
  ].join('\n');
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    parts: ['3d', '2d', 'ops'],
    rounds: 5,
    steps: 2,
    warmup: 2,
    threads: availableParallelism(),
    opCalls: 20000,
    opReps: 5,
    opRounds: 5,
    tidyBatch: 1000,
    noiseLimit: 0.25,
    maxWait: 300,
    json: null,
    writeDocs: false,
    python: '/usr/bin/python3',
    quick: false,
    mallocCache: false,
    fromJson: null,
  };
  const explicit = new Set<string>();
  const int = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new RangeError(`${flag}: expected an integer >= ${min}, got ${v ?? 'nothing'}`);
    explicit.add(flag);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--quick': o.quick = true; break;
      case '--only': {
        const v = argv[++i] ?? '';
        const parts = v.split(',').filter(Boolean);
        for (const p of parts) if (p !== '3d' && p !== '2d' && p !== 'ops') throw new RangeError(`--only: expected 3d, 2d or ops (comma-separated), got '${p}'`);
        if (parts.length === 0) throw new RangeError('--only: expected 3d, 2d or ops');
        o.parts = parts as Part[];
        break;
      }
      case '--rounds': o.rounds = int(a, argv[++i], 1); break;
      case '--steps': o.steps = int(a, argv[++i], 1); break;
      case '--warmup': o.warmup = int(a, argv[++i], 1); break;
      case '--threads': o.threads = int(a, argv[++i], 1); break;
      case '--noise-limit': {
        const v = Number(argv[++i]);
        if (!(v >= 0)) throw new RangeError(`--noise-limit: expected a number of cores >= 0, got ${argv[i] ?? 'nothing'}`);
        o.noiseLimit = v;
        break;
      }
      case '--max-wait': o.maxWait = int(a, argv[++i], 0); break;
      case '--json': o.json = argv[++i] ?? null; if (!o.json) throw new RangeError('--json: expected a file name'); break;
      case '--write-docs': o.writeDocs = true; break;
      case '--malloc-cache': o.mallocCache = true; break;
      case '--from-json': o.fromJson = argv[++i] ?? null; if (!o.fromJson) throw new RangeError('--from-json: expected a file name'); break;
      case '--python': o.python = argv[++i] ?? o.python; break;
      case '-h': case '--help': console.log(usage()); process.exit(0); break;
      default: throw new RangeError(`unknown option '${a}'\n${usage()}`);
    }
  }
  if (o.quick) {
    if (!explicit.has('--rounds')) o.rounds = 1;
    if (!explicit.has('--steps')) o.steps = 1;
    if (!explicit.has('--warmup')) o.warmup = 1;
    o.opCalls = 5000;
    o.opReps = 3;
    o.opRounds = 1;
  }
  return o;
}

// ---- the PyTorch worker -----------------------------------------------------------

type Reply = Record<string, unknown>;

class TorchWorker {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void; cmd: string }[] = [];
  private exited: Error | null = null;

  constructor(python: string) {
    const script = join(pkgRoot, 'bench', 'engine_torch.py');
    // The worker sets its thread count by command; OMP_NUM_THREADS would only
    // fix the starting value, and a value inherited from the shell would
    // otherwise make the two sides start differently.
    const env = { ...process.env };
    delete env.OMP_NUM_THREADS;
    this.child = spawn(python, ['-u', script], { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.child.stderr.on('data', (d: Buffer) => process.stderr.write(`[python] ${d.toString()}`));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const w = this.waiting.shift();
      if (!w) return;
      let r: Reply;
      try {
        r = JSON.parse(line) as Reply;
      } catch {
        w.reject(new Error(`PyTorch worker: '${w.cmd}' got a line that is not JSON: ${line.slice(0, 200)}`));
        return;
      }
      if (typeof r.error === 'string') w.reject(new Error(`PyTorch worker: '${w.cmd}' failed: ${r.error}`));
      else w.resolve(r);
    });
    const fail = (e: Error): void => {
      this.exited = e;
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    this.child.on('error', (e) => fail(new Error(`cannot start the PyTorch worker (${python} ${script}): ${e.message}`)));
    this.child.on('exit', (code, signal) => fail(new Error(`the PyTorch worker exited (code ${code}, signal ${signal})`)));
  }

  request(cmd: string): Promise<Reply> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((res, rej) => {
      this.waiting.push({ resolve: res, reject: rej, cmd: cmd.length > 80 ? `${cmd.slice(0, 80)}…` : cmd });
      this.child.stdin.write(`${cmd}\n`);
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    await this.request('quit');
    this.child.stdin.end();
  }
}

// ---- environment ----------------------------------------------------------------------

interface Environment {
  cpu: string;
  cores: number;
  os: string;
  node: string;
  libtorch: string;
  python: string;
  pythonTorch: string;
  threadsTs: number;
  threadsPython: number;
  malloc: string;
  date: string;
}

function cpuModel(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const m = /^model name\s*:\s*(.+)$/m.exec(info);
    return m ? m[1].trim() : 'unknown';
  } catch {
    return 'unknown';
  }
}

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    return `${m ? m[1] : process.platform} (${process.arch})`;
  } catch {
    return `${process.platform} (${process.arch})`;
  }
}

// ---- U-Net training steps --------------------------------------------------------

interface ModelResult {
  name: string;
  dims: Dims;
  input: number[];
  numClasses: number;
  paramsTs: number;
  paramsPython: number;
  /** Losses of the first warm-up steps from identical weights and data. */
  lossesTs: number[];
  lossesPython: number[];
  lossCheck: { step0RelDiff: number; ok: boolean };
  warmupTs: number[];
  warmupPython: number[];
  ts: number[];
  python: number[];
  /** CPU seconds per step (all threads): cpu / wall is the cores a side kept busy. */
  cpuTs: number[];
  cpuPython: number[];
  /** The same split into user and system (kernel) time, and minor page faults per step. */
  userTs: number[];
  userPython: number[];
  sysTs: number[];
  sysPython: number[];
  faultsTs: number[];
  faultsPython: number[];
  /** Per round: cores' worth of CPU used by other processes while each side ran. */
  othersTs: number[];
  othersPython: number[];
  /** Rounds thrown away because other processes took more than --noise-limit cores. */
  discardedRounds: number;
  tsSummary: Summary;
  pythonSummary: Summary;
  ratio: number;
  rssMiB: { beforeTs: number; afterTs: number; maxTs: number };
}

const MiB = 1024 * 1024;

/**
 * CPU-seconds the whole machine has spent busy (user, system, irq) and
 * stolen by the hypervisor, from /proc/stat (USER_HZ = 100 on Linux). With
 * a process's own CPU time this tells how much else ran during a measurement.
 */
function machineCpu(): { busy: number; steal: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return { busy: (user + nice + system + irq + softirq) / 100, steal: (steal ?? 0) / 100 };
  } catch {
    return { busy: NaN, steal: NaN };
  }
}

const ownCpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** User and system CPU seconds and minor page faults of this process so far. */
function rusage(): { user: number; sys: number; minflt: number } {
  const r = process.resourceUsage();
  return { user: r.userCPUTime / 1e6, sys: r.systemCPUTime / 1e6, minflt: r.minorPageFault };
}

/** Cores' worth of CPU that other processes (and the hypervisor) took during an interval. */
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/**
 * Waits (up to --max-wait seconds) until other processes leave the machine
 * alone: three consecutive one-second samples below --noise-limit cores.
 * Both benchmark processes are idle meanwhile, so all busy time is theirs.
 */
async function waitQuiet(o: Options): Promise<number> {
  if (o.noiseLimit <= 0) return 0;
  const t0 = performance.now();
  let quiet = 0;
  let announced = false;
  while (quiet < 3) {
    const m0 = machineCpu();
    const c0 = ownCpu();
    await new Promise((r) => setTimeout(r, 1000));
    const load = othersLoad(m0, machineCpu(), ownCpu() - c0, 1);
    quiet = load < o.noiseLimit ? quiet + 1 : 0;
    const waited = (performance.now() - t0) / 1000;
    if (quiet === 0 && !announced) {
      log(`  waiting for the machine to be quiet (other processes use ${load.toFixed(2)} cores)...`);
      announced = true;
    }
    if (waited > o.maxWait) {
      log(`  still busy after ${o.maxWait} s; going on (results will be noisy)`);
      break;
    }
  }
  return (performance.now() - t0) / 1000;
}

function othersLoad(m0: { busy: number; steal: number }, m1: { busy: number; steal: number }, mine: number, wall: number): number {
  return Math.max(0, m1.busy - m0.busy - mine + (m1.steal - m0.steal)) / wall;
}

const rss = (): number => process.memoryUsage().rss / MiB;
const num = (v: unknown): number => v as number;
const nums = (v: unknown): number[] => v as number[];

function modelSpec(dims: Dims): { name: string; input: number[]; config: UNetConfig } {
  const config: UNetConfig = { dims, inChannels: 1, numClasses: 3, channels: [...DEFAULT_CHANNELS] };
  return dims === 3
    ? { name: '3D U-Net, 2×1×64³, 16–256 ch', input: [2, 1, 64, 64, 64], config }
    : { name: '2D U-Net, 16×1×256², 16–256 ch', input: [16, 1, 256, 256], config };
}

async function benchModel(dims: Dims, o: Options, py: TorchWorker, work: string): Promise<ModelResult> {
  const { name, input, config } = modelSpec(dims);
  const tag = `${dims}d`;
  log(`\n== ${name}`);
  torch.manualSeed(dims);
  // Built inside tidy(): outside any scope, a Parameter's temporary detach()
  // result can be registered with the GC finalizer before nn.Parameter takes
  // its handle, and collecting it later frees the parameter's tensor (see the
  // report; engine bug in src/nn/module.ts takeHandle).
  const model = torch.tidy(() => new UNet(config));
  const x = torch.keep(torch.randn(input));
  const y = torch.keep(torch.randint(0, config.numClasses, [input[0], ...input.slice(2)]));
  const weights = join(work, `unet${tag}-init.safetensors`);
  const data = join(work, `unet${tag}-data.safetensors`);
  torch.tidy(() => torch.saveSafetensors(weights, model.stateDict()));
  torch.saveSafetensors(data, { x, y });
  const built = await py.request(`build ${tag} ${weights} ${data} ${JSON.stringify(config)}`);
  const paramsTs = model.numParameters();
  const paramsPython = num(built.params);
  log(`parameters: TS ${paramsTs.toLocaleString('en')}, PyTorch ${paramsPython.toLocaleString('en')}${paramsTs === paramsPython ? '' : '  <-- MISMATCH'}`);
  const trainer = makeTrainer(model);

  // Warm-up from the shared initial weights; the losses double as the check.
  const warmupTs: number[] = [];
  const lossesTs: number[] = [];
  for (let i = 0; i < o.warmup; i++) {
    const t0 = performance.now();
    lossesTs.push(trainer.step(x, y));
    warmupTs.push((performance.now() - t0) / 1000);
  }
  const w = await py.request(`step ${tag} ${o.warmup}`);
  const lossesPython = nums(w.losses);
  const warmupPython = nums(w.seconds);
  const step0RelDiff = Math.abs(lossesTs[0] - lossesPython[0]) / Math.abs(lossesPython[0]);
  const lossCheck = { step0RelDiff, ok: step0RelDiff < 1e-4 };
  log(`losses from the same weights and data: TS [${lossesTs.map((l) => l.toFixed(6)).join(', ')}]`);
  log(`                                  PyTorch [${lossesPython.map((l) => l.toFixed(6)).join(', ')}]`);
  log(`step-0 loss relative difference ${step0RelDiff.toExponential(2)}${lossCheck.ok ? ' (same computation)' : '  <-- MISMATCH'}`);
  log(`warm-up s/step: TS [${warmupTs.map((s) => s.toFixed(3)).join(', ')}], PyTorch [${warmupPython.map((s) => s.toFixed(3)).join(', ')}]`);

  interface Half {
    wall: number[];
    cpu: number[];
    user: number[];
    sys: number[];
    faults: number[];
    others: number;
  }
  const ts: number[] = [];
  const python: number[] = [];
  const cpuTs: number[] = [];
  const cpuPython: number[] = [];
  const userTs: number[] = [];
  const userPython: number[] = [];
  const sysTs: number[] = [];
  const sysPython: number[] = [];
  const faultsTs: number[] = [];
  const faultsPython: number[] = [];
  const othersTs: number[] = [];
  const othersPython: number[] = [];
  const discarded: { ts: Half; python: Half }[] = [];
  const rssBefore = rss();
  let rssMax = rssBefore;
  const runTs = (): Half => {
    const h: Half = { wall: [], cpu: [], user: [], sys: [], faults: [], others: 0 };
    const m0 = machineCpu();
    for (let i = 0; i < o.steps; i++) {
      const u0 = rusage();
      const t0 = performance.now();
      trainer.step(x, y);
      h.wall.push((performance.now() - t0) / 1000);
      const u1 = rusage();
      h.user.push(u1.user - u0.user);
      h.sys.push(u1.sys - u0.sys);
      h.cpu.push(u1.user - u0.user + u1.sys - u0.sys);
      h.faults.push(u1.minflt - u0.minflt);
      rssMax = Math.max(rssMax, rss());
    }
    h.others = othersLoad(m0, machineCpu(), sum(h.cpu), sum(h.wall));
    return h;
  };
  const runPython = async (): Promise<Half> => {
    const m0 = machineCpu();
    const c0 = ownCpu();
    const t0 = performance.now();
    const r = await py.request(`step ${tag} ${o.steps}`);
    const wall = (performance.now() - t0) / 1000;
    const user = nums(r.user);
    const sys = nums(r.sys);
    const h: Half = { wall: nums(r.seconds), cpu: user.map((u, i) => u + sys[i]), user, sys, faults: nums(r.minflt), others: 0 };
    h.others = othersLoad(m0, machineCpu(), sum(h.cpu) + ownCpu() - c0, wall);
    return h;
  };
  const noisy = (h: Half): boolean => o.noiseLimit > 0 && h.others > o.noiseLimit;
  await waitQuiet(o);
  const show = (h: Half): string => `${h.wall.map((v) => v.toFixed(3)).join(' ')} s (other load ${h.others.toFixed(2)})`;
  let attempts = 0;
  for (let r = 0; r < o.rounds; ) {
    attempts++;
    // Alternate who goes first, so a slow drift of the machine hits both.
    let a: Half;
    let b: Half;
    if (r % 2 === 0) {
      a = runTs();
      b = await runPython();
    } else {
      b = await runPython();
      a = runTs();
    }
    const bad = noisy(a) || noisy(b);
    if (bad && attempts < o.rounds * 3) {
      discarded.push({ ts: a, python: b });
      log(`round ${r + 1}/${o.rounds}: TS ${show(a)}, PyTorch ${show(b)}: other processes took more than ${o.noiseLimit} core(s); discarded, repeating`);
      await waitQuiet(o);
      continue;
    }
    ts.push(...a.wall);
    cpuTs.push(...a.cpu);
    userTs.push(...a.user);
    sysTs.push(...a.sys);
    faultsTs.push(...a.faults);
    othersTs.push(a.others);
    python.push(...b.wall);
    cpuPython.push(...b.cpu);
    userPython.push(...b.user);
    sysPython.push(...b.sys);
    faultsPython.push(...b.faults);
    othersPython.push(b.others);
    log(`round ${r + 1}/${o.rounds}: TS ${show(a)}, PyTorch ${show(b)}; TS RSS ${rss().toFixed(0)} MiB${bad ? ' (noisy, kept: too many retries)' : ''}`);
    r++;
  }
  const rssAfter = rss();

  await py.request(`free ${tag}`);
  trainer.optimizer.dispose();
  model.dispose();
  x.dispose();
  y.dispose();
  const tsSummary = summarize(ts);
  const pythonSummary = summarize(python);
  return {
    name,
    dims,
    input,
    numClasses: config.numClasses,
    paramsTs,
    paramsPython,
    lossesTs,
    lossesPython,
    lossCheck,
    warmupTs,
    warmupPython,
    ts,
    python,
    cpuTs,
    cpuPython,
    userTs,
    userPython,
    sysTs,
    sysPython,
    faultsTs,
    faultsPython,
    othersTs,
    othersPython,
    discardedRounds: discarded.length,
    tsSummary,
    pythonSummary,
    ratio: tsSummary.median / pythonSummary.median,
    rssMiB: { beforeTs: rssBefore, afterTs: rssAfter, maxTs: rssMax },
  };
}

// ---- per-op dispatch overhead ----------------------------------------------------

interface OpResult {
  op: string;
  ts: string;
  python: string;
  dispose: Summary;
  tidy: Summary;
  pythonUs: Summary;
  ratioDispose: number;
  ratioTidy: number;
  discardedRounds: number;
}

const OPS: { name: string; ts: string; python: string; fn: () => Tensor }[] = [];
function defineOps(): void {
  // dtype spelled out: JS has no 1.0 literal, so [1, -2, 3, -4] would be int64.
  const a = torch.keep(torch.tensor([1, -2, 3, -4], { dtype: 'float32' }));
  const b = torch.keep(torch.tensor([0.5, 0.25, -1, 2], { dtype: 'float32' }));
  if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error('op benchmark: operands must be float32');
  const m = torch.keep(a.reshape([2, 2]));
  OPS.push(
    { name: 'add', ts: 'a.add(b)', python: 'torch.add(a, b)', fn: () => a.add(b) },
    { name: 'mul', ts: 'a.mul(b)', python: 'torch.mul(a, b)', fn: () => a.mul(b) },
    { name: 'relu', ts: 'a.relu()', python: 'torch.relu(a)', fn: () => a.relu() },
    { name: 'sum', ts: 'm.sum(1, true)', python: 'torch.sum(m, 1, keepdim=True)', fn: () => m.sum(1, true) },
  );
}

/** µs per call, each result disposed right away. */
function timeDispose(fn: () => Tensor, n: number, reps: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn().dispose();
    out.push(((performance.now() - t0) * 1000) / n);
  }
  return out;
}

/** µs per call, results left to a tidy() scope around every `batch` calls. */
function timeTidy(fn: () => Tensor, n: number, reps: number, batch: number): number[] {
  const out: number[] = [];
  const body = (): void => {
    for (let i = 0; i < batch; i++) fn();
  };
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let done = 0; done < n; done += batch) torch.tidy(body);
    out.push(((performance.now() - t0) * 1000) / n);
  }
  return out;
}

async function benchOps(o: Options, py: TorchWorker): Promise<OpResult[]> {
  log(`\n== per-op dispatch overhead (4-element float32 tensors, ${o.opCalls} calls × ${o.opReps} reps × ${o.opRounds} rounds)`);
  if (OPS.length === 0) defineOps();
  await waitQuiet(o);
  const results: OpResult[] = [];
  for (const spec of OPS) {
    const fn = spec.fn;
    // Warm-up: JIT tiers on the TS side, allocator caches on both.
    timeDispose(fn, o.opCalls, 1);
    timeTidy(fn, o.opCalls, 1, o.tidyBatch);
    await py.request(`ops ${spec.name} ${o.opCalls} 1`);
    const d: number[] = [];
    const t: number[] = [];
    const p: number[] = [];
    let discarded = 0;
    for (let r = 0, attempts = 0; r < o.opRounds; attempts++) {
      // Single-threaded on both sides, but the two vCPUs may be SMT siblings:
      // any other busy process skews the result, as in the step rounds.
      const m0 = machineCpu();
      const c0 = ownCpu();
      const w0 = performance.now();
      const dr = timeDispose(fn, o.opCalls, o.opReps);
      const tr = timeTidy(fn, o.opCalls, o.opReps, o.tidyBatch);
      const pr = nums((await py.request(`ops ${spec.name} ${o.opCalls} ${o.opReps}`)).us);
      const wall = (performance.now() - w0) / 1000;
      // The Python half's CPU is about its wall time (one thread, busy looping).
      const pyCpu = (sum(pr) * o.opCalls) / 1e6;
      const others = othersLoad(m0, machineCpu(), ownCpu() - c0 + pyCpu, wall);
      if (o.noiseLimit > 0 && others > o.noiseLimit && attempts < o.opRounds * 3) {
        discarded++;
        await waitQuiet(o);
        continue;
      }
      d.push(...dr);
      t.push(...tr);
      p.push(...pr);
      r++;
    }
    const res: OpResult = {
      op: spec.name,
      ts: spec.ts,
      python: spec.python,
      dispose: summarize(d),
      tidy: summarize(t),
      pythonUs: summarize(p),
      ratioDispose: 0,
      ratioTidy: 0,
      discardedRounds: discarded,
    };
    res.ratioDispose = res.dispose.median / res.pythonUs.median;
    res.ratioTidy = res.tidy.median / res.pythonUs.median;
    log(`${spec.name}: TS ${fmt(res.dispose.median)} µs (dispose), ${fmt(res.tidy.median)} µs (tidy); PyTorch ${fmt(res.pythonUs.median)} µs`);
    results.push(res);
  }
  return results;
}

// ---- report ------------------------------------------------------------------------------

function log(s: string): void {
  console.log(s);
}

const spread = (s: Summary, digits = 3): string => `${fmt(s.q1, digits)}–${fmt(s.q3, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;

const mean = (xs: readonly number[]): number => sum(xs) / xs.length;
/** Median cores a side kept busy per step: CPU seconds / wall seconds. */
const coresBusy = (cpu: readonly number[], wall: readonly number[]): number => summarize(cpu.map((c, i) => c / wall[i])).median;

function stepTable(models: ModelResult[]): string {
  return table(
    ['model (training step)', 'TS s/step', 'PyTorch s/step', 'TS/PyTorch', 'TS IQR (min–max)', 'PyTorch IQR (min–max)', 'n', 'cores busy TS / Py', 'other load TS / Py'],
    models.map((m) => [
      m.name,
      fmt(m.tsSummary.median),
      fmt(m.pythonSummary.median),
      m.ratio.toFixed(3),
      spread(m.tsSummary),
      spread(m.pythonSummary),
      `${m.ts.length}+${m.python.length}`,
      `${coresBusy(m.cpuTs, m.ts).toFixed(2)} / ${coresBusy(m.cpuPython, m.python).toFixed(2)}`,
      `${mean(m.othersTs).toFixed(2)} / ${mean(m.othersPython).toFixed(2)}`,
    ]),
  );
}

const med = (xs: readonly number[]): number => summarize(xs).median;

function cpuTable(models: ModelResult[]): string {
  return table(
    ['model', 'user s/step TS / Py', 'system s/step TS / Py', 'minor page faults/step TS / Py'],
    models.map((m) => [
      m.name,
      `${fmt(med(m.userTs))} / ${fmt(med(m.userPython))}`,
      `${fmt(med(m.sysTs))} / ${fmt(med(m.sysPython))}`,
      `${Math.round(med(m.faultsTs)).toLocaleString('en')} / ${Math.round(med(m.faultsPython)).toLocaleString('en')}`,
    ]),
  );
}

function opTable(ops: OpResult[], batch: number): string {
  return table(
    ['op (TS / Python)', 'TS µs/op, disposed', `TS µs/op, tidy(${batch})`, 'PyTorch µs/op', 'ratio disposed', 'ratio tidy'],
    ops.map((r) => [
      `\`${r.ts}\` / \`${r.python}\``,
      fmt(r.dispose.median),
      fmt(r.tidy.median),
      fmt(r.pythonUs.median),
      r.ratioDispose.toFixed(2),
      r.ratioTidy.toFixed(2),
    ]),
  );
}

function envLines(env: Environment): string[] {
  return [
    `- Machine: ${env.cpu}, ${env.cores} cores; ${env.os}`,
    `- Node ${env.node}; libtorch ${env.libtorch} (Debian libtorch-dev) through the @labelwise/torch addon`,
    `- Python ${env.python}; torch ${env.pythonTorch} (the same libtorch build)`,
    `- Intra-op threads: TS ${env.threadsTs}, PyTorch ${env.threadsPython}`,
    `- Memory allocator: ${env.malloc}`,
  ];
}

function docsSection(env: Environment, o: Options, command: string, models: ModelResult[], ops: OpResult[]): string {
  const lines = [
    '## Engine (issue: libtorch for TypeScript)',
    '',
    `Measured ${env.date} with \`${command}\` (written by \`--write-docs\`; re-run to update).`,
    '',
    ...envLines(env),
    '',
  ];
  if (models.length > 0) {
    lines.push(
      'Training step = zeroGrad, forward, loss (cross-entropy + soft Dice), backward, SGD step (lr 0.01,',
      'momentum 0.99 Nesterov, weight decay 3e-5). U-Net: 5 levels with 16–32–64–128–256 channels, blocks',
      '(conv3×3 – InstanceNorm(affine) – LeakyReLU 0.01) × 2, stride-2 conv downsampling, ConvTranspose',
      '(kernel 2, stride 2) upsampling with skip concatenation, 1×1 conv head to 3 classes; seeded random input',
      `and labels. ${o.warmup} warm-up step(s) per side, then ${o.rounds} round(s) alternating ${o.steps} TS step(s) and`,
      `${o.steps} PyTorch step(s) (PyTorch in a child process that waits while TS runs, and the other way round).`,
      'PyTorch side: `zero_grad(set_to_none=True)` and `SGD(..., foreach=True)`, i.e. the same `_foreach_*` kernels',
      'as the TS optimizer (1.13 defaults to a per-parameter loop). Both sides start from the same weights (TS init',
      'exported to safetensors, read in Python with json + struct + torch.frombuffer) and the same data:',
      '',
      ...models.map(
        (m) =>
          `- ${m.name}: ${m.paramsTs.toLocaleString('en')} parameters in TS, ${m.paramsPython.toLocaleString('en')} in PyTorch; ` +
          `step-0 loss ${m.lossesTs[0].toFixed(6)} (TS) vs ${m.lossesPython[0].toFixed(6)} (PyTorch), relative difference ${m.lossCheck.step0RelDiff.toExponential(1)}; ` +
          `TS RSS ${m.rssMiB.beforeTs.toFixed(0)} MiB before the timed steps, ${m.rssMiB.afterTs.toFixed(0)} MiB after (max ${m.rssMiB.maxTs.toFixed(0)}); ` +
          `${m.discardedRounds} round(s) repeated because other processes were busy.`,
      ),
      '',
      stepTable(models),
      '',
      'Medians; spread as interquartile range and (min–max) over the timed steps; n = TS + PyTorch steps.',
      '"cores busy": CPU seconds / wall seconds per step of that side (all its threads). "other load": cores\' worth of',
      'CPU that other processes (and the hypervisor) took while that side ran, from /proc/stat — the noise indicator;',
      `a round where it exceeded ${o.noiseLimit} core on either side was repeated after waiting for a quiet machine (\`--noise-limit\`).`,
      '',
      'Where the CPU time goes (medians per step; system time is mostly the kernel zeroing pages that glibc',
      'malloc maps fresh for each large tensor and unmaps on free):',
      '',
      cpuTable(models),
      '',
    );
  }
  if (ops.length > 0) {
    lines.push(
      `Per-op dispatch overhead on 4-element float32 tensors (\`m\` is 2×2), median over ${o.opRounds} rounds × ${o.opReps}`,
      `repetitions of ${o.opCalls} calls, alternating sides. "disposed": each result \`.dispose()\`d at once;`,
      `"tidy(${o.tidyBatch})": results left to a \`tidy()\` around every ${o.tidyBatch} calls. PyTorch: the loop in Python, result freed by refcount.`,
      '',
      opTable(ops, o.tidyBatch),
      '',
    );
  }
  return lines.join('\n');
}

const START = '<!-- bench:engine:start -->';
const END = '<!-- bench:engine:end -->';

function writeDocs(section: string): string {
  const file = join(repoRoot, 'docs', 'benchmarks.md');
  const block = `${START}\n${section}\n${END}`;
  let text: string;
  if (existsSync(file)) {
    text = readFileSync(file, 'utf8');
    const i = text.indexOf(START);
    const j = text.indexOf(END);
    if (i >= 0 && j > i) text = text.slice(0, i) + block + text.slice(j + END.length);
    else text = `${text.trimEnd()}\n\n${block}\n`;
  } else {
    mkdirSync(dirname(file), { recursive: true });
    text = `# Benchmarks\n\n${block}\n`;
  }
  writeFileSync(file, text);
  return file;
}

// ---- main --------------------------------------------------------------------------------

interface Results {
  env: Environment;
  options: Options;
  command: string;
  models: ModelResult[];
  ops: OpResult[];
}

/** Prints the tables and writes --json / --write-docs output. */
function report(r: Results, o: Options): void {
  if (r.models.length > 0) log(`${stepTable(r.models)}\n\n${cpuTable(r.models)}\n`);
  if (r.ops.length > 0) log(`${opTable(r.ops, r.options.tidyBatch)}\n`);
  for (const m of r.models) if (!m.lossCheck.ok || m.paramsTs !== m.paramsPython) log(`WARNING: ${m.name}: the two sides do not compute the same thing (see above)`);
  if (o.json) {
    writeFileSync(o.json, `${JSON.stringify(r, null, 2)}\n`);
    log(`results written to ${o.json}`);
  }
  if (o.writeDocs) log(`updated ${writeDocs(docsSection(r.env, r.options, r.command, r.models, r.ops))}`);
}

async function measure(o: Options): Promise<Results> {
  const command = `npm run bench:engine${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  torch.setNumThreads(o.threads);
  const py = new TorchWorker(o.python);
  const work = mkdtempSync(join(tmpdir(), 'labelwise-bench-'));
  try {
    const pyEnv = await py.request('env');
    const pyThreads = await py.request(`threads ${o.threads}`);
    const env: Environment = {
      cpu: cpuModel(),
      cores: availableParallelism(),
      os: osName(),
      node: process.version,
      libtorch: torch.version(),
      python: String(pyEnv.python),
      pythonTorch: String(pyEnv.torch),
      threadsTs: torch.getNumThreads(),
      threadsPython: num(pyThreads.threads),
      malloc: Object.keys(MALLOC_CACHE_ENV).every((k) => process.env[k] === MALLOC_CACHE_ENV[k])
        ? `glibc, keeping freed memory (${Object.entries(MALLOC_CACHE_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}) on both sides`
        : 'glibc defaults on both sides',
      date: new Date().toISOString().slice(0, 10),
    };
    log('Labelwise engine vs PyTorch');
    for (const l of envLines(env)) log(l);
    if (env.threadsTs !== env.threadsPython) log(`WARNING: thread counts differ (TS ${env.threadsTs}, PyTorch ${env.threadsPython})`);

    const models: ModelResult[] = [];
    const t0 = performance.now();
    for (const part of o.parts) if (part !== 'ops') models.push(await benchModel(part === '3d' ? 3 : 2, o, py, work));
    const ops = o.parts.includes('ops') ? await benchOps(o, py) : [];
    log(`\n(total ${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
    return { env, options: o, command, models, ops };
  } finally {
    rmSync(work, { recursive: true, force: true });
    await py.close().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.fromJson) {
    // Re-render saved results (e.g. after a change to the report format).
    const r = JSON.parse(readFileSync(o.fromJson, 'utf8')) as Results;
    r.env.malloc ??= 'glibc defaults on both sides';
    for (const l of envLines(r.env)) log(l);
    log('');
    report(r, { ...o, json: null });
    return;
  }
  // glibc reads its tunables at process start: run again with them set (the
  // PyTorch worker inherits the environment, so both sides get the same).
  if (o.mallocCache && process.env.LABELWISE_BENCH_MALLOC_CACHE !== '1') {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, ...MALLOC_CACHE_ENV, LABELWISE_BENCH_MALLOC_CACHE: '1' },
    });
    process.exit(r.status ?? 1);
  }
  report(await measure(o), o);
}

main().catch((e: unknown) => {
  // Bad flags are RangeErrors with their own message; anything else gets its stack.
  console.error(e instanceof RangeError ? e.message : e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
