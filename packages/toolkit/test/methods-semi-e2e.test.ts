// End to end on the shared trainer: on a task built so that the answer is
// only in the unlabelled images (methods-semi-synthetic.ts), BCP learns what
// supervised training on the labelled images cannot — and only through its
// pseudo-label post-processing (without the largest-component step it does
// not).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import * as torch from '@labelwise/torch';
import { copyWeights } from '../src/methods/semi/teacher.js';
import { evaluateSynthetic, syntheticSets, tinySegNet, trainPhase } from './methods-semi-synthetic.js';

torch.setNumThreads(1);

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'semi-e2e-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('BCP learns from unlabelled images to reject distractors that supervised training labels as object', async () => {
  const seed = 1;
  const sets = syntheticSets(seed);
  const PRE = 60;
  const SELF = 160;

  torch.manualSeed(seed);
  const supervised = tinySegNet(seed);
  await trainPhase(supervised, 'supervised', 'train', PRE + SELF, sets, { seed, runDir: path.join(root, 'supervised') });
  const sup = evaluateSynthetic(supervised, sets.test);

  torch.manualSeed(seed);
  const bcp = tinySegNet(seed);
  await trainPhase(bcp, 'bcp', 'pretrain', PRE, sets, { seed, runDir: path.join(root, 'pretrain') });
  const pre = evaluateSynthetic(bcp, sets.test);
  const control = tinySegNet(seed);
  copyWeights(control, bcp);
  await trainPhase(bcp, 'bcp', 'selftrain', SELF, sets, { seed, runDir: path.join(root, 'selftrain') });
  const semi = evaluateSynthetic(bcp, sets.test);
  await trainPhase(control, 'bcp', 'selftrain', SELF, sets, { seed, params: { largestComponent: false }, runDir: path.join(root, 'control') });
  const noLcc = evaluateSynthetic(control, sets.test);

  const report = JSON.stringify({ sup, pre, semi, noLcc });
  // Labelled data alone: the object is found, and nearly every distractor pixel is called object.
  assert.ok(sup.dice > 0.7 && sup.speckFp > 0.9, `supervised: ${report}`);
  assert.ok(pre.speckFp > 0.8, `pre-training: ${report}`);
  // Self-training on unlabelled images with BCP's pseudo-labels removes most of them.
  assert.ok(semi.speckFp < 0.5, `BCP: ${report}`);
  assert.ok(semi.dice > sup.dice + 0.1, `BCP Dice vs supervised: ${report}`);
  // The unlabelled images help through the pseudo-labels' largest-component step.
  assert.ok(noLcc.speckFp > 0.9, `BCP without largest component: ${report}`);
});
