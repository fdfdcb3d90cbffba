// A long training run keeps a flat memory profile: the shared trainer with a
// background DataLoader (worker thread), a U-Net, Dice + CE, validation,
// checkpoints and logs, sampled after full GCs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as torch from '@labelwise/torch';
import { DataLoader } from '../src/data/loader.js';
import { createLoss } from '../src/losses/registry.js';
import { createNetwork } from '../src/nn/registry.js';
import { supervisedRecipe } from '../src/training/recipe.js';
import { Trainer } from '../src/training/trainer.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;

test('500 trainer steps with a worker-thread loader, validation and checkpoints keep RSS flat', async (t) => {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-mem-'));
  torch.manualSeed(0);
  const model = createNetwork({ name: 'unet2d', inChannels: 1, numClasses: 4, featureChannels: [4, 8, 8, 16, 16], seed: 0 }) as unknown as torch.nn.Module;
  const loss = createLoss({ name: 'dice_ce', preset: 'ssl4mis' });
  const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const samples: number[] = [];
  const module = new URL('./loader-producer.js', import.meta.url).href;
  const trainer = new Trainer({
    runDir, model, optimizer, totalSteps: 500,
    recipe: supervisedRecipe(model, (out, target) => loss.forward(out, target.long())),
    scheduler: new torch.optim.lrScheduler.PolyLR(optimizer, 500),
    data: (start) => {
      const loader = new DataLoader({ producer: { module, export: 'testProducer', options: { seed: 3, batch: 8, size: 64 } }, numWorkers: 1, startStep: start, numSteps: 500 - start });
      return { next: () => loader.next(), close: () => loader.close() };
    },
    validate: async () => torch.noGrad(() => torch.tidy(() => {
      const x = torch.randn([2, 1, 64, 64]);
      const p = (model.forward(x) as torch.Tensor).argmax(1);
      return { metrics: { fg: p.gt(0).float().mean().item() }, score: 0 };
    })),
    validateEvery: 100, checkpointEvery: 100, logEvery: 10, plot: false,
    onEvent: (e) => { if (e.kind === 'step' && e.step % 50 === 0) { gc(); samples.push(rssMiB()); } },
  });
  const r = await trainer.run();
  assert.equal(r.step, 500);
  // The allocator and the loader's worker warm up first; after that the profile
  // must stay flat. One leaked batch per step (8×64² image + labels, 160 KiB)
  // would add 60 MiB over the settled steps; allocator arenas move by ~15 MiB.
  const settled = samples.slice(2);
  const growth = Math.max(...settled) - settled[0];
  t.diagnostic(`RSS MiB every 50 steps: ${samples.map((v) => v.toFixed(0)).join(', ')}`);
  assert.ok(growth < 30, `RSS grew ${growth.toFixed(1)} MiB over ${settled.length * 50} steps: ${samples.map((v) => v.toFixed(0)).join(', ')}`);
});
