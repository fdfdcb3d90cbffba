// End to end with Hsu & Hua's extensions switched on (dynamic mask schedule,
// dual teachers combined by agreement) on the synthetic task of
// methods-semi-synthetic.ts: the extended recipe trains on the shared
// trainer and, like BCP, learns from the unlabelled images what the
// labelled-only pre-training does not. (The edge-guided network is covered
// by methods-semi-edge.test.ts.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import * as torch from '@labelwise/torch';
import { evaluateSynthetic, syntheticSets, tinySegNet, trainPhase } from './methods-semi-synthetic.js';

torch.setNumThreads(1);

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'semi-e2e-ext-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('bcp_hsu_hua (schedule mask, EMA + static teacher by agreement) learns from the unlabelled images', async () => {
  const seed = 2;
  const sets = syntheticSets(seed);
  torch.manualSeed(seed);
  const model = tinySegNet(seed);
  await trainPhase(model, 'bcp_hsu_hua', 'pretrain', 60, sets, { seed, params: { edgeWeight: 0 }, runDir: path.join(root, 'pretrain') });
  const pre = evaluateSynthetic(model, sets.test);
  const params = { edgeWeight: 0, dualTeacher: { period: 40 } };
  await trainPhase(model, 'bcp_hsu_hua', 'selftrain', 160, sets, { seed, params, runDir: path.join(root, 'selftrain') });
  const ext = evaluateSynthetic(model, sets.test);
  const report = JSON.stringify({ pre, ext });
  assert.ok(pre.speckFp > 0.8, `pre-training: ${report}`);
  assert.ok(ext.speckFp < 0.5 && ext.dice > pre.dice + 0.1, `extended BCP: ${report}`);
  const log = fs.readFileSync(path.join(root, 'selftrain', 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.kind === 'train');
  // The schedule widened the box range and the teachers disagreed somewhere along the way.
  assert.ok(log.at(-1).mask_progress > 0.9, report);
  assert.ok(log.some((l) => l.teacher_agreement < 1), report);
});
