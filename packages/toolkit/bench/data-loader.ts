// bench:data (b): does training wait for data? A 2D U-Net trains on ACDC
// slices with the full SSL4MIS augmentation (rot90/flip or rotation, zoom to
// the patch), batches produced by the background DataLoader. Reported: the
// fraction of each step's wall time spent waiting in loader.next(), with the
// loader's worker threads (the default) and, for contrast, producing in the
// training thread (workers = 0). Target: < 5 % with workers.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as torch from '@labelwise/torch';
import { openAcdc } from '../src/io/layouts/acdc.js';
import { DataLoader } from '../src/data/loader.js';
import { createLoss } from '../src/losses/registry.js';
import { createNetwork } from '../src/nn/registry.js';
import { acdcSsl4mis } from '../src/transforms/augment-presets.js';
import type { SliceProducerOptions } from '../src/training/slice-producer.js';
import { repoRoot, writeDocsSection } from './harness.js';

const acdcRoot = process.env.LABELWISE_ACDC ?? path.resolve(repoRoot, '../shared/data/acdc');
const arg = (name: string, def: number) => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? Number(process.argv[i + 1]) : def; };
const steps = arg('steps', 30);
const batch = arg('batch', 12);
const size = arg('size', 256);
const workers = arg('workers', 2);

interface Result { workers: number; stepMs: number[]; waitMs: number[] }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function run(nWorkers: number, ids: string[]): Promise<Result> {
  torch.manualSeed(0);
  const model = createNetwork({ name: 'unet2d', inChannels: 1, numClasses: 4, upsample: 'bilinear' }) as unknown as torch.nn.Module;
  const loss = createLoss({ name: 'dice_ce', preset: 'ssl4mis' });
  const opt = new torch.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
  const options: SliceProducerOptions = {
    source: { kind: 'dataset', path: acdcRoot, normalization: { scheme: 'none' } },
    streams: [{ prefix: '', ids, batchSize: batch, withLabels: true }],
    patchSize: [size, size], augmentation: acdcSsl4mis({ size: [size, size] }), seed: 1,
  };
  const loader = new DataLoader({ producer: { module: new URL('../src/training/slice-producer.js', import.meta.url).href, export: 'sliceProducer', options }, numWorkers: nWorkers, prefetch: 4, numSteps: steps + 3 });
  const stepMs: number[] = [];
  const waitMs: number[] = [];
  model.train();
  for (let s = 0; s < steps + 3; s++) {
    const t0 = performance.now();
    const w0 = loader.stats.waitMs;
    const b = (await loader.next())!;
    const w1 = loader.stats.waitMs;
    torch.tidy(() => {
      opt.zeroGrad();
      const l = loss.forward(model.forward(b.image) as torch.Tensor, b.label.long());
      l.backward();
      opt.step();
    });
    for (const t of Object.values(b)) t.dispose();
    // The first steps include worker start-up and slice loading: not steady state.
    if (s >= 3) { stepMs.push(performance.now() - t0); waitMs.push(w1 - w0); }
  }
  await loader.close();
  return { workers: nWorkers, stepMs, waitMs };
}

async function main(): Promise<void> {
  if (!fs.existsSync(acdcRoot)) throw new Error(`bench:data: ACDC not found at ${acdcRoot} (set LABELWISE_ACDC)`);
  const acdc = await openAcdc(acdcRoot);
  // A fixed subset keeps start-up short; every batch still draws and augments fresh slices.
  const ids = acdc.trainSlices.slice(0, 136).map((s) => s.id);
  const rows: string[] = [];
  process.stdout.write(`torch threads at start: ${torch.getNumThreads()}\n`);
  for (const w of [workers, 0]) {
    const r = await run(w, ids);
    process.stdout.write(`torch threads after ${w} workers: ${torch.getNumThreads()}\n`);
    const total = r.stepMs.reduce((a, b) => a + b, 0);
    const wait = r.waitMs.reduce((a, b) => a + b, 0);
    rows.push(`| ${w === 0 ? '0 (in the training thread)' : `${w} worker threads`} | ${steps} | ${median(r.stepMs).toFixed(0)} | ${median(r.waitMs).toFixed(1)} | ${((100 * wait) / total).toFixed(1)} % |`);
    process.stdout.write(`${rows[rows.length - 1]}\n`);
  }
  const section = [
    `Training-time data waiting (bench/data-loader.ts): 2D U-Net (SSL4MIS layout), ACDC slices, batch ${batch}, ${size}², SSL4MIS augmentation, SGD; ${steps} measured steps after 3 warm-up steps; torch threads ${torch.getNumThreads()}, loader workers use 1 thread each.`,
    '',
    '| loader | steps | median step (ms) | median wait (ms) | time waiting for data |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  writeDocsSection('data-loader', section);
  process.stdout.write(`\n${section}\n`);
}

main().catch((e: unknown) => { process.stderr.write(`${(e as Error).stack}\n`); process.exitCode = 1; });
