// The experiment layer: method programs over a session. A round-based
// program (train → score → select → reveal labels → continue), killed in the
// middle of a round, resumes in that round with the same selection and ends
// with the same weights; a stream no phase reads is never loaded; a phased
// method's run folder holds its final model where `labelwise predict -m`
// looks.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import * as torch from '@labelwise/torch';
import { readCheckpointMeta } from '../src/checkpoint/checkpoint.js';
import { object } from '../src/config/schema.js';
import { resolveExperiment } from '../src/config/experiment.js';
import { trainExperiment } from '../src/experiment/experiment.js';
import { getMethod, registerMethod } from '../src/methods/index.js';
import { sliceLoads } from '../src/training/slice-source.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-session-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The bundled NPC slices (15 train / 5 val / 5 test), small and fast. */
function npc(out: string, over: Record<string, unknown> = {}) {
  return resolveExperiment({
    output: out, seed: 3,
    data: {
      dataset: path.join(repo, 'examples/data/npc-t2wi'), open: { maskEncoding: 'jpegThreshold', labels: { background: 0, gtv: 1 } },
      normalization: { scheme: 'zscore' }, patchSize: [32, 32], batchSize: 2, workers: 0, labelled: 5,
    },
    network: { name: 'unet2d', featureChannels: [4, 8, 16, 32, 64] },
    optimizer: { name: 'adam', lr: 0.002 },
    training: { iterations: 4, validateEvery: 2, checkpointEvery: 1, logEvery: 1, progress: false },
    ...over,
  });
}

const ROUNDS = 2;
const STEPS = 4;
/** Mean per-pixel entropy of the class probabilities [K, H, W]. */
const entropy = (p: torch.Tensor) => p.clampMin(1e-8).log().mul(p).sum(0).neg().mean().item();

// Active learning in miniature: each round fine-tunes, scores the unlabelled
// slices, picks the two most uncertain, and reveals their labels.
registerMethod({
  name: 'test_rounds',
  summary: 'test: uncertainty rounds',
  streams: ['labelled'],
  params: object({}),
  build: (ctx) => getMethod('supervised').build(ctx),
  async run(s) {
    for (let r = s.state.get<number>('round') ?? 0; r < ROUNDS; r++) {
      await s.train({ phase: 'rounds', steps: ROUNDS * STEPS, until: (r + 1) * STEPS });
      const picked = await s.state.once<string[]>(`selection_${r}`, async () => {
        const scores = await s.score(s.streamIds('unlabelled'), entropy);
        return Object.entries(scores).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 2).map(([id]) => id);
      });
      s.revealLabels(picked);
      s.state.set('round', r + 1);
    }
  },
});

const bytes = (dir: string) => fs.readFileSync(path.join(dir, 'checkpoints', 'last', 'model.safetensors'));

test('a round-based program killed mid-round resumes in that round with the same selection and weights', async () => {
  const whole = path.join(tmp, 'rounds-whole');
  const a = await trainExperiment(npc(whole, { method: { name: 'test_rounds' } }));
  assert.ok(a.completed);
  const stateA = JSON.parse(fs.readFileSync(path.join(whole, 'program.json'), 'utf8')).values;
  assert.equal(stateA.round, ROUNDS);
  assert.equal(stateA.selection_0.length, 2);
  assert.equal(stateA.streams.labelled.length, 5 + 2 * ROUNDS, 'each round revealed two labels');
  const plan = JSON.parse(fs.readFileSync(path.join(whole, 'data_plan.json'), 'utf8'));
  assert.equal(plan.budget.labelledSlices, 9, 'data_plan.json follows the revealed labels');

  const killed = path.join(tmp, 'rounds-killed');
  const ctrl = new AbortController();
  const exp = npc(killed, { method: { name: 'test_rounds' } });
  // Stop in the second round, after its first step.
  const stopped = await trainExperiment(exp, { signal: ctrl.signal, emit: (e) => { const ev = e as { kind: string; step: number }; if (ev.kind === 'step' && ev.step === STEPS + 1) ctrl.abort(); } });
  assert.equal(stopped.completed, false);
  assert.equal(stopped.step, STEPS + 1);
  const mid = JSON.parse(fs.readFileSync(path.join(killed, 'program.json'), 'utf8')).values;
  assert.deepEqual([mid.round, mid.selection_0, mid.selection_1], [1, stateA.selection_0, undefined], 'stopped in round 2 with round 1 selected');
  const b = await trainExperiment(exp, { resume: true });
  assert.ok(b.completed);
  const stateB = JSON.parse(fs.readFileSync(path.join(killed, 'program.json'), 'utf8')).values;
  assert.deepEqual(stateB, stateA, 'same rounds, selections and streams');
  assert.ok(bytes(killed).equals(bytes(whole)), 'same final weights, bitwise');
  assert.deepEqual({ ...b.test, predictions: null }, { ...a.test, predictions: null }, 'same test scores');
});

test('a stream no phase reads is never loaded', async () => {
  sliceLoads.count = 0;
  await trainExperiment(npc(path.join(tmp, 'streams-sup')));
  assert.equal(sliceLoads.count, 5, 'supervised: the 5 labelled slices only, not the 10 unlabelled ones');
  sliceLoads.count = 0;
  const out = path.join(tmp, 'streams-bcp');
  await trainExperiment(npc(out, { method: { name: 'bcp', pretrainIterations: 2 }, data: { ...npc('').data, unlabelledBatchSize: 2 }, training: { iterations: 2, validateEvery: 1, checkpointEvery: 1, logEvery: 1, progress: false } }));
  assert.equal(sliceLoads.count, 5 + 15, 'BCP: pre-training reads the labelled stream (5), self-training both (5 + 10)');
  // The phased run publishes its final model in the run folder (labelwise predict -m <run>).
  const best = readCheckpointMeta(path.join(out, 'checkpoints', 'best'));
  assert.equal(best.modelSha256, readCheckpointMeta(path.join(out, '2-selftrain', 'checkpoints', 'best')).modelSha256);
  assert.ok(fs.existsSync(path.join(out, 'test', 'labelwise', 'summary.json')));
});
